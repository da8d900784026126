//! Errors returned by step handlers, and how the engine classifies them.

use std::fmt;
use std::time::Duration;

/// How a handler failure should be treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// May succeed if tried again: retried with exponential backoff and full jitter.
    Transient,
    /// The remote side asked us to slow down: retried no sooner than `retry_after`
    /// (and no sooner than the backoff delay). Counts as an attempt.
    Throttled {
        /// Minimum delay before the next attempt.
        retry_after: Duration,
    },
    /// Will never succeed: the step fails at once, without further attempts.
    Terminal,
}

impl ErrorKind {
    /// Stable lower-case name stored in the attempts table.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::Transient => "transient",
            ErrorKind::Throttled { .. } => "throttled",
            ErrorKind::Terminal => "terminal",
        }
    }
}

/// The error a step (or compensation) handler returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepError {
    kind: ErrorKind,
    message: String,
}

impl StepError {
    /// A failure that may go away on retry.
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Transient,
            message: message.into(),
        }
    }

    /// The remote side throttled us; retry no sooner than `retry_after`.
    pub fn throttled(retry_after: Duration, message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Throttled { retry_after },
            message: message.into(),
        }
    }

    /// A failure that retrying cannot fix.
    pub fn terminal(message: impl Into<String>) -> Self {
        Self {
            kind: ErrorKind::Terminal,
            message: message.into(),
        }
    }

    /// The classification.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message stored with the attempt.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for StepError {}

impl From<serde_json::Error> for StepError {
    /// Bad JSON never fixes itself: terminal.
    fn from(e: serde_json::Error) -> Self {
        StepError::terminal(format!("json: {e}"))
    }
}

impl From<crate::Error> for StepError {
    /// A stale epoch is terminal for this attempt (the lease is gone); other
    /// store errors are transient.
    fn from(e: crate::Error) -> Self {
        match e {
            crate::Error::StaleEpoch { .. } => StepError::terminal(e.to_string()),
            other => StepError::transient(other.to_string()),
        }
    }
}
