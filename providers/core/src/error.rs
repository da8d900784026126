//! The one error type of the contract, and the neutral kinds that drive retries.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Result of every provider operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, in provider-neutral terms. The workflow engine decides whether and when to
/// retry from this kind alone (see [`ErrorKind::is_retryable`]); the native code is for humans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ErrorKind {
    /// The resource (or one it depends on, such as the subnet of a server) does not exist.
    NotFound,
    /// The resource is in a state that forbids the operation (in use, still attaching, already
    /// exists with other settings). Observe again, then decide.
    Conflict,
    /// The cloud asked us to slow down. `retry_after` is the delay it suggested, if any.
    Throttled {
        /// Suggested delay before the next call, when the cloud (or the adapter's default) gave one.
        #[serde(default, with = "crate::serde_ms::option")]
        retry_after: Option<Duration>,
    },
    /// A tenant or account quota would be exceeded. Retrying does not help until an operator acts.
    Quota,
    /// The cloud has no capacity for this request right now (no host, no instance of this type).
    Capacity,
    /// Credentials were refused or lack a permission.
    Auth,
    /// A passing failure: timeout, connection reset, 5xx, internal error of the cloud.
    Transient,
    /// The request can never succeed as written: invalid parameter, unknown image or flavor,
    /// unsupported feature.
    Terminal,
}

impl ErrorKind {
    /// Whether retrying the same call later may succeed: throttling, transient failures, capacity
    /// shortages and conflicts (a conflict usually clears once the resource settles).
    /// Not found, quota, auth and terminal errors need a change before a retry can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ErrorKind::Throttled { .. }
                | ErrorKind::Transient
                | ErrorKind::Capacity
                | ErrorKind::Conflict
        )
    }

    /// A short stable name: `not_found`, `conflict`, `throttled`, `quota`, `capacity`, `auth`,
    /// `transient`, `terminal`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::Throttled { .. } => "throttled",
            ErrorKind::Quota => "quota",
            ErrorKind::Capacity => "capacity",
            ErrorKind::Auth => "auth",
            ErrorKind::Transient => "transient",
            ErrorKind::Terminal => "terminal",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error from a provider, classified by [`ErrorKind`].
///
/// Messages are safe to show to users: adapters never put credentials or tokens in them.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Error {
    /// The cloud refused or failed the call.
    #[error("{kind} error from the cloud{}: {message}", code_suffix(.code))]
    Cloud {
        /// Neutral classification.
        kind: ErrorKind,
        /// The cloud's own code (`RequestLimitExceeded`, `HTTP 503`, ...), when known.
        code: Option<String>,
        /// What happened, safe to show.
        message: String,
    },
    /// The spec is invalid before any call is made (bad name, CIDR, size...). Terminal.
    #[error("invalid resource spec: {0}")]
    InvalidSpec(String),
    /// The provider cannot do this at all (kind not offered, dedicated hosts disabled...). Terminal.
    #[error("unsupported by this provider: {0}")]
    Unsupported(String),
    /// The adapter's configuration is invalid. Terminal.
    #[error("invalid provider configuration: {0}")]
    Config(String),
    /// A bounded wait ran out before the resource reached the wanted state. Transient.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited, e.g. `server nuage-0a1b2c3d4e-web ready`.
        what: String,
        /// How long the wait lasted.
        waited: Duration,
    },
}

fn code_suffix(code: &Option<String>) -> String {
    match code {
        Some(code) => format!(" ({code})"),
        None => String::new(),
    }
}

impl Error {
    /// An error answered by the cloud.
    pub fn cloud(kind: ErrorKind, code: Option<String>, message: impl Into<String>) -> Self {
        Error::Cloud {
            kind,
            code,
            message: message.into(),
        }
    }

    /// A [`ErrorKind::NotFound`] error without native code.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::cloud(ErrorKind::NotFound, None, message)
    }

    /// A [`ErrorKind::Conflict`] error without native code.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::cloud(ErrorKind::Conflict, None, message)
    }

    /// A [`ErrorKind::Transient`] error without native code.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::cloud(ErrorKind::Transient, None, message)
    }

    /// A [`ErrorKind::Terminal`] error without native code.
    pub fn terminal(message: impl Into<String>) -> Self {
        Self::cloud(ErrorKind::Terminal, None, message)
    }

    /// The neutral kind that drives retries.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Cloud { kind, .. } => *kind,
            Error::InvalidSpec(_) | Error::Unsupported(_) | Error::Config(_) => ErrorKind::Terminal,
            Error::Timeout { .. } => ErrorKind::Transient,
        }
    }

    /// The cloud's own error code, when the error came from the cloud and it gave one.
    pub fn native_code(&self) -> Option<&str> {
        match self {
            Error::Cloud { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// Whether a later retry of the same call may succeed (see [`ErrorKind::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// The delay the cloud asked for before the next call, for throttling errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.kind() {
            ErrorKind::Throttled { retry_after } => retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_drive_retries() {
        let throttled = Error::cloud(
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(2)),
            },
            Some("RequestLimitExceeded".into()),
            "slow down",
        );
        assert!(throttled.is_retryable());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(2)));
        assert_eq!(throttled.native_code(), Some("RequestLimitExceeded"));
        assert_eq!(
            throttled.to_string(),
            "throttled error from the cloud (RequestLimitExceeded): slow down"
        );
        for kind in [
            ErrorKind::Transient,
            ErrorKind::Capacity,
            ErrorKind::Conflict,
        ] {
            assert!(Error::cloud(kind, None, "x").is_retryable(), "{kind}");
        }
        for kind in [
            ErrorKind::NotFound,
            ErrorKind::Quota,
            ErrorKind::Auth,
            ErrorKind::Terminal,
        ] {
            assert!(!Error::cloud(kind, None, "x").is_retryable(), "{kind}");
        }
        assert_eq!(Error::InvalidSpec("x".into()).kind(), ErrorKind::Terminal);
        assert_eq!(Error::Unsupported("x".into()).kind(), ErrorKind::Terminal);
        let timeout = Error::Timeout {
            what: "x".into(),
            waited: Duration::from_secs(1),
        };
        assert!(timeout.is_retryable());
        assert_eq!(timeout.retry_after(), None);
    }

    #[test]
    fn kinds_serialize_for_storage() {
        let kind = ErrorKind::Throttled {
            retry_after: Some(Duration::from_millis(1500)),
        };
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, r#"{"kind":"throttled","retry_after":1500}"#);
        assert_eq!(serde_json::from_str::<ErrorKind>(&json).unwrap(), kind);
        let json = serde_json::to_string(&ErrorKind::Quota).unwrap();
        assert_eq!(json, r#"{"kind":"quota"}"#);
    }
}
