//! The client's error type: what went wrong, what to do next, and the exit code it ends with.

use crate::exit;
use serde_json::Value;
use std::fmt::Write;

/// Everything that can go wrong talking to a broker.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The client configuration (config file, flags, environment, token reference) is wrong.
    #[error("{0}")]
    Config(String),
    /// The broker could not be reached.
    #[error(
        "cannot reach the broker at {url} ({reason})\nhint: {using}; is `nuage serve` running there? Name another server with --server, NUAGE_SERVER or `nuage context set NAME --server URL`"
    )]
    Unreachable {
        /// The URL called.
        url: String,
        /// Why (connection refused, timeout...).
        reason: String,
        /// The context, server and token source in use.
        using: String,
    },
    /// The broker answered with an error (a problem document).
    #[error("{}", .0.render())]
    Api(Box<ApiError>),
    /// The broker answered something the client cannot read.
    #[error("unexpected answer from the broker to {method} {url}: {message}")]
    Decode {
        /// The method.
        method: String,
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// The request or workflow that was followed ended in failure.
    #[error("{0}")]
    Failed(String),
    /// Waiting took longer than allowed.
    #[error("{0}")]
    TimedOut(String),
}

/// An error answer of the API (`application/problem+json`).
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    /// The HTTP status.
    pub(crate) status: u16,
    /// The stable code (`not-found`, `unauthorized`...), or `http-<status>` when the answer had
    /// none.
    pub(crate) code: String,
    /// What happened.
    pub(crate) detail: String,
    /// Bad fields (`path: message`).
    pub(crate) fields: Vec<(String, String)>,
    /// The decision record of a refusal.
    pub(crate) decision: Option<Value>,
    /// The server log's id for an internal error.
    pub(crate) error_id: Option<String>,
    /// What to do next.
    pub(crate) hint: Option<String>,
}

impl ApiError {
    /// Reads a problem document (or anything else) answered with `status`.
    pub(crate) fn from_body(status: u16, body: &[u8]) -> ApiError {
        let doc: Option<Value> = serde_json::from_slice(body).ok();
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        match doc {
            Some(v) if v.is_object() => ApiError {
                status,
                code: s(&v, "code").unwrap_or_else(|| format!("http-{status}")),
                detail: s(&v, "detail")
                    .or_else(|| s(&v, "title"))
                    .unwrap_or_else(|| format!("HTTP {status}")),
                fields: v
                    .get("errors")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .map(|e| {
                                (
                                    s(e, "path").unwrap_or_default(),
                                    s(e, "message").unwrap_or_default(),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                decision: v.get("decision").cloned().filter(|d| !d.is_null()),
                error_id: s(&v, "error_id"),
                hint: None,
            },
            _ => {
                let text = String::from_utf8_lossy(body);
                let text = text.trim();
                ApiError {
                    status,
                    code: format!("http-{status}"),
                    detail: if text.is_empty() {
                        format!("HTTP {status}")
                    } else {
                        text.chars().take(300).collect()
                    },
                    fields: Vec::new(),
                    decision: None,
                    error_id: None,
                    hint: None,
                }
            }
        }
    }

    /// The message for a person: what, every bad field, the refusal, and what to do next.
    pub(crate) fn render(&self) -> String {
        let mut s = format!("{} ({}, HTTP {})", self.detail, self.code, self.status);
        for (path, msg) in &self.fields {
            if path.is_empty() {
                let _ = write!(s, "\n  - {msg}");
            } else {
                let _ = write!(s, "\n  - {path}: {msg}");
            }
        }
        if let Some(d) = &self.decision {
            for line in refusal_lines(d) {
                let _ = write!(s, "\n  {line}");
            }
        }
        if let Some(id) = &self.error_id {
            let _ = write!(s, "\n  error id {id} (the server log has the details)");
        }
        if let Some(h) = &self.hint {
            let _ = write!(s, "\nhint: {h}");
        }
        s
    }

    /// The exit code of this answer.
    pub(crate) fn exit_code(&self) -> u8 {
        match self.code.as_str() {
            "unauthorized" | "forbidden" => exit::UNAUTHORIZED,
            "not-found" => exit::NOT_FOUND,
            "invalid-request"
            | "malformed-request"
            | "payload-too-large"
            | "unsupported-media-type" => exit::INVALID_INPUT,
            "refused" | "quota-exceeded" => exit::REFUSED,
            "conflict" | "idempotency-mismatch" => exit::CONFLICT,
            "unavailable" => exit::UNAVAILABLE,
            _ => match self.status {
                401 | 403 => exit::UNAUTHORIZED,
                404 => exit::NOT_FOUND,
                409 => exit::CONFLICT,
                400 | 413 | 415 | 422 => exit::INVALID_INPUT,
                502..=504 => exit::UNAVAILABLE,
                _ => exit::FAILURE,
            },
        }
    }
}

/// The refusal of a decision record, tier by tier.
fn refusal_lines(d: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(r) = d.get("refusal") else {
        return out;
    };
    if let Some(tiers) = r.get("tiers").and_then(Value::as_array) {
        for t in tiers {
            let tier = t.get("tier").and_then(Value::as_str).unwrap_or("?");
            for reason in t
                .get("reasons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let rule = reason.get("rule").and_then(Value::as_str).unwrap_or("?");
                let example = reason
                    .get("example")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                out.push(format!("{tier}: {rule}: {example}"));
            }
        }
    }
    out
}

impl Error {
    /// The process exit code (documented in `docs/cli.md`).
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) => exit::INVALID_INPUT,
            Error::Unreachable { .. } => exit::UNAVAILABLE,
            Error::Api(a) => a.exit_code(),
            Error::Decode { .. } => exit::FAILURE,
            Error::Failed(_) => exit::REQUEST_FAILED,
            Error::TimedOut(_) => exit::TIMED_OUT,
        }
    }

    /// The API error, if the broker answered one.
    pub(crate) fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(a) => Some(a),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn problem_documents_render_fields_and_map_to_exit_codes() {
        let body = json!({
            "type": "urn:nuage:error:invalid-request", "title": "Invalid request", "status": 422,
            "code": "invalid-request", "detail": "the request has 2 invalid fields",
            "errors": [{"path": "resources.servers[0].vcpus", "message": "must be at least 1"},
                       {"path": "", "message": "whole document"}]
        });
        let e = ApiError::from_body(422, body.to_string().as_bytes());
        let text = e.render();
        assert!(text.starts_with("the request has 2 invalid fields (invalid-request, HTTP 422)"));
        assert!(text.contains("\n  - resources.servers[0].vcpus: must be at least 1"));
        assert!(text.contains("\n  - whole document"));
        assert_eq!(e.exit_code(), exit::INVALID_INPUT);

        let codes = [
            ("unauthorized", 401, exit::UNAUTHORIZED),
            ("forbidden", 403, exit::UNAUTHORIZED),
            ("not-found", 404, exit::NOT_FOUND),
            ("refused", 422, exit::REFUSED),
            ("quota-exceeded", 422, exit::REFUSED),
            ("conflict", 409, exit::CONFLICT),
            ("unavailable", 503, exit::UNAVAILABLE),
            ("internal", 500, exit::FAILURE),
        ];
        for (code, status, exit_code) in codes {
            let body = json!({"code": code, "status": status, "detail": "x"}).to_string();
            assert_eq!(
                ApiError::from_body(status, body.as_bytes()).exit_code(),
                exit_code,
                "{code}"
            );
        }
    }

    #[test]
    fn refusals_internal_errors_and_non_json_answers_are_readable() {
        let body = json!({"code": "refused", "status": 422, "detail": "no offer may take it",
            "decision": {"refusal": {"summary": "s", "tiers": [{"tier": "external", "offers": 2,
            "reasons": [{"rule": "R1-sensitivity", "offers": 2, "stage": "s", "example": "aws: health data"}]}]}}});
        let text = ApiError::from_body(422, body.to_string().as_bytes()).render();
        assert!(
            text.contains("external: R1-sensitivity: aws: health data"),
            "{text}"
        );

        let body =
            json!({"code": "internal", "status": 500, "detail": "failed", "error_id": "abc"});
        let text = ApiError::from_body(500, body.to_string().as_bytes()).render();
        assert!(text.contains("error id abc"), "{text}");

        let e = ApiError::from_body(502, b"<html>Bad gateway</html>");
        assert_eq!(e.code, "http-502");
        assert!(e.render().contains("Bad gateway"));
        assert_eq!(e.exit_code(), exit::UNAVAILABLE);
    }
}
