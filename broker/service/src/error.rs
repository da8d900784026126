//! The crate's one error type, and its HTTP form: `application/problem+json` (RFC 9457) with a
//! stable `code` documented in `docs/errors/<code>.md`.
//!
//! Internal failures (database, engine, bugs) are logged with an error id and answered as
//! `internal` with that id only: no SQL, path or stack ever reaches a client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use nuage_placement::FieldError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the broker.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration is invalid (startup only); every problem is listed.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// No valid bearer token was given.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The token is valid but its role or tenant does not allow the operation.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Nothing visible to the caller has this id (another tenant's objects are not found).
    #[error("{0} not found")]
    NotFound(String),
    /// The body or a parameter is not readable (not JSON, wrong type, bad query).
    #[error("malformed request: {0}")]
    Malformed(String),
    /// The request document breaks the schema or its rules; every bad field is listed.
    #[error("invalid request: {}", list(.0))]
    Invalid(Vec<FieldError>),
    /// Placement found no allowed offer; the decision record explains why.
    #[error("refused: {summary}")]
    Refused {
        /// One sentence.
        summary: String,
        /// The decision record.
        decision: Box<Value>,
    },
    /// The tenant's quota or monthly budget leaves no room; the decision record shows it.
    #[error("quota exceeded: {detail}")]
    QuotaExceeded {
        /// What is exceeded.
        detail: String,
        /// The decision record, when placement ran.
        decision: Option<Box<Value>>,
    },
    /// The operation conflicts with the current state (a name taken, a run not in a state
    /// that allows the operation).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The idempotency key was used with another body.
    #[error("idempotency key reused with another body")]
    IdempotencyMismatch,
    /// The body is larger than allowed.
    #[error("payload too large")]
    PayloadTooLarge,
    /// The body's content type is not JSON or YAML.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// The service is starting or shutting down.
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// A database error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The workflow engine failed.
    #[error("workflow engine: {0}")]
    Workflow(nuage_workflows::Error),
    /// A provider could not be built.
    #[error("provider: {0}")]
    Provider(#[from] nuage_provider::Error),
    /// JSON (de)serialization of stored data failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// An I/O error (socket, files).
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A field error (path, message).
pub(crate) fn field(path: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        path: path.into(),
        message: message.into(),
    }
}

fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// The stable error codes, one documented file each in `docs/errors/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// 401: no valid bearer token.
    Unauthorized,
    /// 403: the token's role or tenant does not allow it.
    Forbidden,
    /// 404: nothing visible with this id.
    NotFound,
    /// 400: unreadable body or parameter.
    MalformedRequest,
    /// 422: the request document breaks the schema or its rules.
    InvalidRequest,
    /// 422: no offer may take the request.
    Refused,
    /// 422: the tenant's quota or budget is exhausted.
    QuotaExceeded,
    /// 409: the state forbids it.
    Conflict,
    /// 409: an idempotency key reused with another body.
    IdempotencyMismatch,
    /// 413: body too large.
    PayloadTooLarge,
    /// 415: body neither JSON nor YAML.
    UnsupportedMediaType,
    /// 405: the path does not take this method.
    MethodNotAllowed,
    /// 503: starting or shutting down.
    Unavailable,
    /// 500: an internal failure (details are in the server log under the error id).
    Internal,
}

impl Code {
    /// Every code.
    pub const ALL: [Code; 14] = [
        Code::Unauthorized,
        Code::Forbidden,
        Code::NotFound,
        Code::MalformedRequest,
        Code::InvalidRequest,
        Code::Refused,
        Code::QuotaExceeded,
        Code::Conflict,
        Code::IdempotencyMismatch,
        Code::PayloadTooLarge,
        Code::UnsupportedMediaType,
        Code::MethodNotAllowed,
        Code::Unavailable,
        Code::Internal,
    ];

    /// The code as written in responses and file names.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Unauthorized => "unauthorized",
            Code::Forbidden => "forbidden",
            Code::NotFound => "not-found",
            Code::MalformedRequest => "malformed-request",
            Code::InvalidRequest => "invalid-request",
            Code::Refused => "refused",
            Code::QuotaExceeded => "quota-exceeded",
            Code::Conflict => "conflict",
            Code::IdempotencyMismatch => "idempotency-mismatch",
            Code::PayloadTooLarge => "payload-too-large",
            Code::UnsupportedMediaType => "unsupported-media-type",
            Code::MethodNotAllowed => "method-not-allowed",
            Code::Unavailable => "unavailable",
            Code::Internal => "internal",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Code::Unauthorized => StatusCode::UNAUTHORIZED,
            Code::Forbidden => StatusCode::FORBIDDEN,
            Code::NotFound => StatusCode::NOT_FOUND,
            Code::MalformedRequest => StatusCode::BAD_REQUEST,
            Code::InvalidRequest | Code::Refused | Code::QuotaExceeded => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Code::Conflict | Code::IdempotencyMismatch => StatusCode::CONFLICT,
            Code::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Code::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short title.
    pub fn title(self) -> &'static str {
        match self {
            Code::Unauthorized => "Authentication required",
            Code::Forbidden => "Not allowed",
            Code::NotFound => "Not found",
            Code::MalformedRequest => "Malformed request",
            Code::InvalidRequest => "Invalid request",
            Code::Refused => "No offer may take this request",
            Code::QuotaExceeded => "Tenant quota exceeded",
            Code::Conflict => "Conflict with the current state",
            Code::IdempotencyMismatch => "Idempotency key reused with another body",
            Code::PayloadTooLarge => "Payload too large",
            Code::UnsupportedMediaType => "Unsupported media type",
            Code::MethodNotAllowed => "Method not allowed",
            Code::Unavailable => "Service unavailable",
            Code::Internal => "Internal error",
        }
    }

    /// The problem `type` URI.
    pub fn type_uri(self) -> String {
        format!("urn:nuage:error:{}", self.as_str())
    }
}

/// The one error shape of the API (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:nuage:error:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short, fixed title for the code.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable code (see `docs/errors/`).
    pub code: Code,
    /// What happened, for a person.
    pub detail: String,
    /// Every bad field, by path (`resources.servers[0].vcpus`), for `invalid-request` and
    /// `malformed-request`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
    /// The decision record, for `refused` and `quota-exceeded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Value>,
    /// For `internal`: the id under which the failure is logged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_id: Option<String>,
}

/// One bad field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProblemField {
    /// Path of the field (`.` between keys, `[i]` for items); empty for the whole document.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem of a code with a detail.
    pub fn new(code: Code, detail: impl Into<String>) -> Problem {
        Problem {
            kind: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status().as_u16(),
            code,
            detail: detail.into(),
            errors: Vec::new(),
            decision: None,
            error_id: None,
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let unauthorized = self.code == Code::Unauthorized;
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| b"{}".to_vec());
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if unauthorized {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"nuage\""),
            );
        }
        resp
    }
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> Code {
        match self {
            Error::Unauthorized(_) => Code::Unauthorized,
            Error::Forbidden(_) => Code::Forbidden,
            Error::NotFound(_) => Code::NotFound,
            Error::Malformed(_) => Code::MalformedRequest,
            Error::Invalid(_) => Code::InvalidRequest,
            Error::Refused { .. } => Code::Refused,
            Error::QuotaExceeded { .. } => Code::QuotaExceeded,
            Error::Conflict(_) => Code::Conflict,
            Error::IdempotencyMismatch => Code::IdempotencyMismatch,
            Error::PayloadTooLarge => Code::PayloadTooLarge,
            Error::UnsupportedMediaType(_) => Code::UnsupportedMediaType,
            Error::Unavailable(_) => Code::Unavailable,
            Error::Config(_)
            | Error::Database(_)
            | Error::Migrate(_)
            | Error::Workflow(_)
            | Error::Provider(_)
            | Error::Json(_)
            | Error::Io(_)
            | Error::Internal(_) => Code::Internal,
        }
    }

    /// The problem document for a client. Internal errors are logged here, with an id the
    /// client gets instead of the details.
    pub fn to_problem(&self) -> Problem {
        let code = self.code();
        let mut p = match self {
            Error::Unauthorized(d)
            | Error::Forbidden(d)
            | Error::Conflict(d)
            | Error::UnsupportedMediaType(d)
            | Error::Unavailable(d) => Problem::new(code, d.clone()),
            Error::NotFound(what) => Problem::new(code, format!("{what} not found")),
            Error::Malformed(d) => Problem::new(code, d.clone()),
            Error::Invalid(errors) => {
                let mut p = Problem::new(
                    code,
                    format!(
                        "the request has {} invalid field{}",
                        errors.len(),
                        if errors.len() == 1 { "" } else { "s" }
                    ),
                );
                p.errors = errors
                    .iter()
                    .map(|e| ProblemField {
                        path: e.path.clone(),
                        message: e.message.clone(),
                    })
                    .collect();
                p
            }
            Error::Refused { summary, decision } => {
                let mut p = Problem::new(code, summary.clone());
                p.decision = Some((**decision).clone());
                p
            }
            Error::QuotaExceeded { detail, decision } => {
                let mut p = Problem::new(code, detail.clone());
                p.decision = decision.as_deref().cloned();
                p
            }
            Error::IdempotencyMismatch => Problem::new(
                code,
                "this Idempotency-Key was already used with a different request body",
            ),
            Error::PayloadTooLarge => Problem::new(code, "the request body is too large"),
            _ => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                tracing::error!(error_id = %id, error = %self, "internal error");
                let mut p = Problem::new(
                    code,
                    "the broker failed to handle this request; the error id names it in the server log",
                );
                p.error_id = Some(id);
                p
            }
        };
        if p.errors.is_empty()
            && let Error::Malformed(d) = self
        {
            p.errors = vec![ProblemField {
                path: String::new(),
                message: d.clone(),
            }];
        }
        p
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.to_problem().into_response()
    }
}

/// The engine's errors, except that a database error stays one (the broker's statements run
/// through the engine's store too).
impl From<nuage_workflows::Error> for Error {
    fn from(e: nuage_workflows::Error) -> Self {
        match e {
            nuage_workflows::Error::Database(e) => Error::Database(e),
            nuage_workflows::Error::Migrate(e) => Error::Migrate(e),
            other => Error::Workflow(other),
        }
    }
}

impl From<nuage_placement::Error> for Error {
    fn from(e: nuage_placement::Error) -> Self {
        match e {
            nuage_placement::Error::Io { .. } => Error::Config(e.to_string()),
            nuage_placement::Error::Syntax { message, .. } => Error::Malformed(message),
            other => Error::Invalid(other.field_errors()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = Error::Database(sqlx::Error::Protocol(
            "SELECT secret FROM broker_tokens".into(),
        ));
        let p = e.to_problem();
        assert_eq!(p.code, Code::Internal);
        assert_eq!(p.status, 500);
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("broker_tokens"), "{json}");
        assert!(p.error_id.is_some());
    }

    #[test]
    fn every_code_has_its_status_and_uri() {
        for c in Code::ALL {
            let p = Problem::new(c, "x");
            assert_eq!(p.status, c.status().as_u16());
            assert_eq!(p.kind, format!("urn:nuage:error:{}", c.as_str()));
            let json = serde_json::to_value(&p).unwrap();
            assert_eq!(json["code"], c.as_str());
        }
    }
}
