//! The crate's one error type, and its mapping onto the contract's neutral kinds.

use std::time::Duration;

use nuage_provider::ErrorKind;

/// Result of every call of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong talking to OpenStack. Messages never contain credentials or tokens.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// An OpenStack API answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not get an answer (connection refused or reset, timeout).
    #[error("{service} {method} {path}: {message}")]
    Transport {
        /// Service type called.
        service: &'static str,
        /// HTTP method.
        method: String,
        /// Request path, without query string.
        path: String,
        /// What failed.
        message: String,
        /// Whether the request timed out.
        timeout: bool,
    },
    /// An answer that does not have the expected shape.
    #[error("unexpected answer from {service}: {message}")]
    Decode {
        /// Service type that answered.
        service: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The service catalog has no usable endpoint.
    #[error("no {interface} endpoint for service type {service_type}{}: {detail}", region_suffix(.region))]
    NoEndpoint {
        /// Service type wanted.
        service_type: String,
        /// Interface wanted.
        interface: String,
        /// Region wanted.
        region: Option<String>,
        /// What the catalog offers instead.
        detail: String,
    },
    /// Keystone refused the credentials (wrong secret, unknown user or application credential).
    #[error("authentication refused by Keystone: {message}")]
    Auth {
        /// Keystone's message.
        message: String,
        /// `x-openstack-request-id` of the refused call.
        request_id: Option<String>,
    },
    /// The configuration is invalid (missing field, unresolvable secret reference...).
    #[error("invalid OpenStack configuration: {0}")]
    Config(String),
    /// The cloud cannot do what is asked (API version too old, feature missing).
    #[error("unsupported by this OpenStack cloud: {0}")]
    Unsupported(String),
    /// A resource reached a failed state (a server in `ERROR`); the cloud's fault message.
    #[error("{what} failed: {message}")]
    Failed {
        /// What failed, e.g. `server nuage-0a1b2c3d4e-web`.
        what: String,
        /// The fault message.
        message: String,
        /// The fault code (Nova's fault `code`), when given.
        code: Option<u16>,
    },
    /// A bounded wait ran out.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
    /// What the call needs does not exist (a resource to update, a server awaited that vanished).
    #[error("{0}")]
    NotFound(String),
    /// A request that cannot succeed as written, refused before any call (unknown image...).
    #[error("{0}")]
    Invalid(String),
}

/// The details of an error answer of an OpenStack API.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{service} {method} {path}: HTTP {status}{}: {message}{}", code_suffix(.code), request_suffix(.request_id))]
pub struct ApiError {
    /// Service type that answered (`compute`, `network`, `identity`...).
    pub service: &'static str,
    /// HTTP method.
    pub method: String,
    /// Request path, without query string.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The service's own error code (`badRequest`, `OverQuota`, `itemNotFound`...).
    pub code: Option<String>,
    /// The service's message, tags stripped.
    pub message: String,
    /// `x-openstack-request-id` of the failed call.
    pub request_id: Option<String>,
    /// Delay asked by `Retry-After` (or the body's `retryAfter`).
    pub retry_after: Option<Duration>,
}

fn code_suffix(code: &Option<String>) -> String {
    code.as_ref().map(|c| format!(" {c}")).unwrap_or_default()
}

fn request_suffix(id: &Option<String>) -> String {
    id.as_ref()
        .map(|id| format!(" (request {id})"))
        .unwrap_or_default()
}

fn region_suffix(region: &Option<String>) -> String {
    region
        .as_ref()
        .map(|r| format!(" in region {r}"))
        .unwrap_or_default()
}

impl Error {
    /// The neutral kind that drives the workflow engine's retries:
    /// 400 terminal (409-like 400s of Cinder: conflict); 401 auth; 403 quota when the message
    /// says so, auth otherwise; 404 not found; 409 conflict (Neutron's `OverQuota`: quota);
    /// 413/429 throttled with their `Retry-After` (Cinder's quota 413s: quota); 5xx, timeouts
    /// and connection failures transient.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Api(e) => classify(e.status, e.code.as_deref(), &e.message, e.retry_after),
            Error::Transport { .. } => ErrorKind::Transient,
            Error::Decode { .. } => ErrorKind::Transient,
            Error::NoEndpoint { .. } | Error::Config(_) | Error::Unsupported(_) => {
                ErrorKind::Terminal
            }
            Error::Auth { .. } => ErrorKind::Auth,
            Error::Failed { code, message, .. } => {
                if *code == Some(413) || mentions_quota(message) {
                    ErrorKind::Quota
                } else if message.contains("No valid host") {
                    ErrorKind::Capacity
                } else {
                    ErrorKind::Terminal
                }
            }
            Error::Timeout { .. } => ErrorKind::Transient,
            Error::Invalid(_) => ErrorKind::Terminal,
            Error::NotFound(_) => ErrorKind::NotFound,
        }
    }

    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(e) => Some(e.status),
            _ => None,
        }
    }

    /// Whether this is an API error with this status.
    pub fn is_status(&self, wanted: u16) -> bool {
        self.status() == Some(wanted)
    }

    /// The `x-openstack-request-id` of the failed call, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Error::Api(e) => e.request_id.as_deref(),
            Error::Auth { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The native code kept in the contract's error: the service's code, else `HTTP <status>`.
    fn native_code(&self) -> Option<String> {
        match self {
            Error::Api(e) => Some(match &e.code {
                Some(code) => format!("{code} (HTTP {})", e.status),
                None => format!("HTTP {}", e.status),
            }),
            Error::Failed { code: Some(c), .. } => Some(format!("fault {c}")),
            Error::Auth { .. } => Some("HTTP 401".to_owned()),
            _ => None,
        }
    }
}

fn mentions_quota(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("quota") || lower.contains("overquota")
}

fn classify(
    status: u16,
    code: Option<&str>,
    message: &str,
    retry_after: Option<Duration>,
) -> ErrorKind {
    match status {
        400 => {
            // Cinder answers 400 for "wrong state": deleting an attached volume, deleting twice.
            if message.contains("status must be") || message.contains("is currently") {
                ErrorKind::Conflict
            } else {
                ErrorKind::Terminal
            }
        }
        401 => ErrorKind::Auth,
        403 if mentions_quota(message) => ErrorKind::Quota,
        403 => ErrorKind::Auth,
        404 => ErrorKind::NotFound,
        409 if code == Some("OverQuota") || mentions_quota(message) => ErrorKind::Quota,
        409 => ErrorKind::Conflict,
        413 if mentions_quota(message) || message.contains("exceeds") => ErrorKind::Quota,
        413 | 429 => ErrorKind::Throttled { retry_after },
        408 | 500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Terminal,
    }
}

impl From<Error> for nuage_provider::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Config(message) => nuage_provider::Error::Config(message),
            Error::Unsupported(message) => nuage_provider::Error::Unsupported(message),
            Error::Invalid(message) => nuage_provider::Error::InvalidSpec(message),
            Error::Timeout { what, waited } => nuage_provider::Error::Timeout { what, waited },
            other => {
                nuage_provider::Error::cloud(other.kind(), other.native_code(), other.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: Option<&str>, message: &str) -> Error {
        Error::Api(Box::new(ApiError {
            service: "compute",
            method: "POST".into(),
            path: "/v2.1/servers".into(),
            status,
            code: code.map(str::to_owned),
            message: message.into(),
            request_id: Some("req-1".into()),
            retry_after: Some(Duration::from_secs(3)),
        }))
    }

    #[test]
    fn statuses_map_to_neutral_kinds() {
        let cases = [
            (
                400,
                None,
                "Flavor 999 could not be found.",
                ErrorKind::Terminal,
            ),
            (
                400,
                None,
                "Invalid volume: Volume status must be available or error",
                ErrorKind::Conflict,
            ),
            (
                401,
                None,
                "The request you have made requires authentication.",
                ErrorKind::Auth,
            ),
            (
                403,
                Some("forbidden"),
                "Quota exceeded for instances",
                ErrorKind::Quota,
            ),
            (
                403,
                Some("forbidden"),
                "Policy doesn't allow",
                ErrorKind::Auth,
            ),
            (404, Some("itemNotFound"), "gone", ErrorKind::NotFound),
            (409, Some("conflictingRequest"), "busy", ErrorKind::Conflict),
            (
                409,
                Some("OverQuota"),
                "Quota exceeded for resources",
                ErrorKind::Quota,
            ),
            (
                413,
                Some("overLimit"),
                "VolumeSizeExceedsAvailableQuota: Requested volume exceeds allowed gigabytes quota",
                ErrorKind::Quota,
            ),
            (
                429,
                None,
                "slow down",
                ErrorKind::Throttled {
                    retry_after: Some(Duration::from_secs(3)),
                },
            ),
            (
                413,
                None,
                "Too many requests",
                ErrorKind::Throttled {
                    retry_after: Some(Duration::from_secs(3)),
                },
            ),
            (500, None, "boom", ErrorKind::Transient),
            (503, None, "later", ErrorKind::Transient),
            (
                406,
                None,
                "Version 2.200 is not supported",
                ErrorKind::Terminal,
            ),
        ];
        for (status, code, message, kind) in cases {
            assert_eq!(
                api(status, code, message).kind(),
                kind,
                "{status} {message}"
            );
        }
    }

    #[test]
    fn contract_error_keeps_message_code_and_request_id() {
        let err: nuage_provider::Error =
            api(400, Some("badRequest"), "Flavor 999 could not be found.").into();
        assert_eq!(err.kind(), ErrorKind::Terminal);
        assert_eq!(err.native_code(), Some("badRequest (HTTP 400)"));
        let text = err.to_string();
        assert!(text.contains("Flavor 999 could not be found."), "{text}");
        assert!(text.contains("req-1"), "{text}");
        let throttled: nuage_provider::Error = api(429, None, "slow").into();
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn failed_servers_classify_by_fault() {
        let quota = Error::Failed {
            what: "server x".into(),
            message: "Quota exceeded for instances: Requested 1, but already used 1".into(),
            code: Some(413),
        };
        assert_eq!(quota.kind(), ErrorKind::Quota);
        let host = Error::Failed {
            what: "server x".into(),
            message: "No valid host was found. ".into(),
            code: Some(500),
        };
        assert_eq!(host.kind(), ErrorKind::Capacity);
    }
}
