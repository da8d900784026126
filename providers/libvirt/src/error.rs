//! The crate's error type.

use crate::selection::Shortfall;

/// Everything that can go wrong in the dedicated-hosts adapter.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The pool configuration is invalid; nothing was loaded.
    #[error("invalid libvirt pool config: {field}: {reason}")]
    InvalidConfig {
        /// Where in the config (e.g. `hosts[2].overcommit.cpu`).
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A host URI is not a usable libvirt URI (any password in it is masked).
    #[error("invalid libvirt URI `{uri}`: {reason}")]
    InvalidUri {
        /// The URI, passwords masked.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A resource spec cannot be turned into libvirt objects (e.g. zero vCPUs); nothing was
    /// created.
    #[error("invalid resource spec: {0}")]
    InvalidSpec(String),
    /// No host of the pool can take the request; nothing was created. The placement layer can
    /// act on the [`Shortfall`] (e.g. choose another offer).
    #[error("no capacity in libvirt pool: {0}")]
    NoCapacity(Shortfall),
    /// A host name that is not in the pool.
    #[error("unknown host `{0}` in libvirt pool")]
    UnknownHost(String),
    /// A host did not answer (connection refused or lost, keepalive timeout); it is marked
    /// unhealthy and skipped until it answers again.
    #[error("libvirt host `{host}` unavailable: {reason}")]
    HostUnavailable {
        /// The host's name in the pool.
        host: String,
        /// libvirt's message.
        reason: String,
    },
    /// A libvirt call failed on a reachable host.
    #[error("libvirt error on host `{host}` (code {code}): {message}")]
    Libvirt {
        /// The host's name in the pool.
        host: String,
        /// libvirt's `virErrorNumber`.
        code: i32,
        /// libvirt's message.
        message: String,
    },
    /// A libvirt call did not return in time; the host is marked unhealthy.
    #[error("libvirt call `{operation}` on host `{host}` timed out")]
    Timeout {
        /// The host's name in the pool.
        host: String,
        /// The call that timed out.
        operation: &'static str,
    },
    /// XML read from libvirt could not be understood.
    #[error("unreadable libvirt XML: {0}")]
    Xml(String),
    /// The blocking task running a libvirt call panicked or was cancelled.
    #[error("libvirt worker task failed: {0}")]
    Worker(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
