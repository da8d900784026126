//! How this crate's errors read in the provider contract's neutral terms.

use nuage_provider::{Error as ContractError, ErrorKind};

use crate::error::Error;

/// libvirt's `virErrorNumber`s that mean "not there".
const NOT_FOUND: [i32; 4] = [42, 43, 49, 50];
/// … "exists already" or "wrong state for this".
const CONFLICT: [i32; 5] = [28, 37, 55, 90, 9];
/// … "credentials refused".
const AUTH: [i32; 3] = [45, 79, 94];
/// … "try again": internal error, system error, RPC, operation timeout, agent unresponsive.
const TRANSIENT: [i32; 5] = [1, 38, 39, 68, 86];

impl From<Error> for ContractError {
    fn from(e: Error) -> ContractError {
        let message = e.to_string();
        match e {
            Error::InvalidConfig { .. } | Error::InvalidUri { .. } => {
                ContractError::Config(message)
            }
            Error::InvalidSpec(m) => ContractError::InvalidSpec(m),
            Error::NoCapacity(_) => {
                ContractError::cloud(ErrorKind::Capacity, Some("NoHostFits".into()), message)
            }
            Error::UnknownHost(_) => ContractError::terminal(message),
            Error::HostUnavailable { .. } => ContractError::cloud(
                ErrorKind::Transient,
                Some("HostUnavailable".into()),
                message,
            ),
            Error::Timeout { .. } | Error::Worker(_) => ContractError::transient(message),
            Error::Xml(_) => ContractError::terminal(message),
            Error::Libvirt { code, .. } => {
                let kind = if NOT_FOUND.contains(&code) {
                    ErrorKind::NotFound
                } else if CONFLICT.contains(&code) {
                    ErrorKind::Conflict
                } else if AUTH.contains(&code) {
                    ErrorKind::Auth
                } else if TRANSIENT.contains(&code) {
                    ErrorKind::Transient
                } else {
                    ErrorKind::Terminal
                };
                ContractError::cloud(kind, Some(format!("virErrorNumber {code}")), message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selection::Shortfall;

    fn libvirt(code: i32) -> ContractError {
        Error::Libvirt {
            host: "h".into(),
            code,
            message: "m".into(),
        }
        .into()
    }

    #[test]
    fn kinds_drive_the_right_retries() {
        let cap: ContractError = Error::NoCapacity(Shortfall::default()).into();
        assert_eq!(cap.kind(), ErrorKind::Capacity);
        assert!(cap.is_retryable());
        assert_eq!(cap.native_code(), Some("NoHostFits"));
        let gone: ContractError = Error::HostUnavailable {
            host: "h".into(),
            reason: "socket closed".into(),
        }
        .into();
        assert_eq!(gone.kind(), ErrorKind::Transient);
        assert_eq!(libvirt(42).kind(), ErrorKind::NotFound);
        assert_eq!(libvirt(55).kind(), ErrorKind::Conflict);
        assert_eq!(libvirt(45).kind(), ErrorKind::Auth);
        assert_eq!(libvirt(38).kind(), ErrorKind::Transient);
        assert_eq!(libvirt(27).kind(), ErrorKind::Terminal);
        assert_eq!(libvirt(42).native_code(), Some("virErrorNumber 42"));
        let spec: ContractError = Error::InvalidSpec("x".into()).into();
        assert_eq!(spec.kind(), ErrorKind::Terminal);
    }
}
