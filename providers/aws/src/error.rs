//! How EC2 failures become contract errors with a neutral kind.
//!
//! This crate has no error type of its own: every failure is a [`nuage_provider::Error`],
//! classified here from the EC2 error code, the HTTP status, or the kind of transport failure.

use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use nuage_provider::{Error, ErrorKind};

/// The neutral kind of an EC2 error code, given the HTTP status when there is no code.
/// `throttle_default` is the retry-after used for throttling when the response gives none.
pub fn classify(code: Option<&str>, status: Option<u16>, throttle_default: Duration) -> ErrorKind {
    if let Some(kind) = code.and_then(|c| classify_code(c, throttle_default)) {
        return kind;
    }
    match status {
        Some(429) => ErrorKind::Throttled {
            retry_after: Some(throttle_default),
        },
        Some(401 | 403) => ErrorKind::Auth,
        Some(404) => ErrorKind::NotFound,
        Some(409) => ErrorKind::Conflict,
        Some(s) if s >= 500 => ErrorKind::Transient,
        Some(_) => ErrorKind::Terminal,
        None => ErrorKind::Transient,
    }
}

fn classify_code(code: &str, throttle_default: Duration) -> Option<ErrorKind> {
    let kind = match code {
        "RequestLimitExceeded"
        | "Throttling"
        | "ThrottlingException"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "TooManyRequestsException"
        | "SlowDown"
        | "BandwidthLimitExceeded" => ErrorKind::Throttled {
            retry_after: Some(throttle_default),
        },
        "InsufficientInstanceCapacity"
        | "InsufficientHostCapacity"
        | "InsufficientCapacity"
        | "InsufficientAddressCapacity"
        | "InsufficientReservedInstanceCapacity"
        | "InsufficientVolumeCapacity"
        | "InsufficientFreeAddressesInSubnet"
        | "InsufficientCapacityOnHost" => ErrorKind::Capacity,
        "AuthFailure"
        | "UnauthorizedOperation"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "IncompleteSignature"
        | "MissingAuthenticationToken"
        | "ExpiredToken"
        | "RequestExpired"
        | "OptInRequired"
        | "Blocked"
        | "PendingVerification"
        | "AccessDenied"
        | "AccessDeniedException" => ErrorKind::Auth,
        "IncorrectState"
        | "IncorrectInstanceState"
        | "IncorrectHostState"
        | "InvalidState"
        | "DependencyViolation"
        | "VolumeInUse"
        | "InvalidVolume.InUse"
        | "ResourceAlreadyAssociated"
        | "InvalidGroup.Duplicate"
        | "InvalidGroup.InUse"
        | "InvalidPermission.Duplicate"
        | "IdempotentParameterMismatch"
        | "InvalidAttachment.InUse"
        | "ConcurrentTagAccess"
        | "ResourceInUse" => ErrorKind::Conflict,
        "InternalError"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "Unavailable"
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "ServerInternal" => ErrorKind::Transient,
        // Quotas: every `*LimitExceeded` but the request rate above, plus a few others.
        c if c.ends_with("LimitExceeded")
            || c == "MaxIOPSLimitExceeded"
            || c == "HostLimitExceeded" =>
        {
            ErrorKind::Quota
        }
        c if c.ends_with(".Malformed") => ErrorKind::Terminal,
        // Catalogue entries that do not exist: the request can never succeed as written.
        c if c.starts_with("InvalidAMIID")
            || c.starts_with("InvalidInstanceType")
            || c.starts_with("InvalidKeyPair") =>
        {
            ErrorKind::Terminal
        }
        c if c.ends_with("NotFound") => ErrorKind::NotFound,
        c if c.starts_with("InvalidParameter")
            || c.starts_with("Invalid")
            || c.starts_with("MissingParameter")
            || c.starts_with("UnknownParameter")
            || c.starts_with("Unsupported")
            || c == "ValidationError"
            || c == "DryRunOperation" =>
        {
            ErrorKind::Terminal
        }
        _ => return None,
    };
    Some(kind)
}

/// Converts an SDK failure of `action` into a contract error.
pub(crate) fn from_sdk<E>(
    action: &str,
    err: SdkError<E, HttpResponse>,
    throttle_default: Duration,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &err {
        SdkError::ServiceError(_) | SdkError::ResponseError(_) => {
            let raw = err.raw_response();
            let status = raw.map(|r| r.status().as_u16());
            let code = err.code().map(str::to_owned);
            let mut kind = classify(code.as_deref(), status, throttle_default);
            if let ErrorKind::Throttled { .. } = kind
                && let Some(after) = raw
                    .and_then(|r| r.headers().get("retry-after"))
                    .and_then(parse_retry_after)
            {
                kind = ErrorKind::Throttled {
                    retry_after: Some(after),
                };
            }
            let message = err
                .message()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("unreadable response (HTTP {})", status.unwrap_or(0)));
            let native = code.or_else(|| status.map(|s| format!("HTTP {s}")));
            Error::cloud(kind, native, format!("EC2 {action}: {message}"))
        }
        SdkError::TimeoutError(_) => Error::cloud(
            ErrorKind::Transient,
            Some("Timeout".to_owned()),
            format!("EC2 {action}: no answer in time"),
        ),
        _ if credentials_error(&err).is_some() => {
            let timed_out = matches!(
                credentials_error(&err),
                Some(CredentialsError::ProviderTimedOut(_))
            );
            let (kind, code) = if timed_out {
                (ErrorKind::Transient, "CredentialsTimedOut")
            } else {
                (ErrorKind::Auth, "CredentialsNotLoaded")
            };
            Error::cloud(
                kind,
                Some(code.to_owned()),
                format!(
                    "EC2 {action}: no usable credentials ({})",
                    source_text(&err)
                ),
            )
        }
        SdkError::DispatchFailure(failure) => {
            let (kind, code) = if failure.is_timeout() {
                (ErrorKind::Transient, "Timeout")
            } else if failure.is_io() {
                (ErrorKind::Transient, "ConnectionError")
            } else if failure.is_user() {
                (ErrorKind::Terminal, "RequestError")
            } else {
                (ErrorKind::Transient, "DispatchFailure")
            };
            Error::cloud(
                kind,
                Some(code.to_owned()),
                format!(
                    "EC2 {action}: request not completed ({})",
                    source_text(&err)
                ),
            )
        }
        _ => Error::cloud(
            ErrorKind::Terminal,
            Some("ConstructionFailure".to_owned()),
            format!(
                "EC2 {action}: request could not be built ({})",
                source_text(&err)
            ),
        ),
    }
}

/// The credentials failure behind an error, if loading credentials is what failed (the
/// standard chain found none, a profile is invalid, the metadata service refused).
fn credentials_error<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a CredentialsError> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(c);
        }
        current = e.source();
    }
    None
}

/// The innermost cause of an error, which names the actual problem (refused connection, missing
/// credentials). Credentials never appear in SDK error texts.
fn source_text(err: &dyn std::error::Error) -> String {
    let mut inner: &dyn std::error::Error = err;
    while let Some(next) = inner.source() {
        inner = next;
    }
    inner.to_string()
}

fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(2);

    #[test]
    fn ec2_codes_map_to_kinds() {
        let c = |code: &str| classify(Some(code), Some(400), T);
        assert_eq!(
            c("RequestLimitExceeded"),
            ErrorKind::Throttled {
                retry_after: Some(T)
            }
        );
        assert_eq!(c("InsufficientInstanceCapacity"), ErrorKind::Capacity);
        assert_eq!(c("InsufficientHostCapacity"), ErrorKind::Capacity);
        assert_eq!(c("InstanceLimitExceeded"), ErrorKind::Quota);
        assert_eq!(c("VcpuLimitExceeded"), ErrorKind::Quota);
        assert_eq!(c("VolumeLimitExceeded"), ErrorKind::Quota);
        assert_eq!(c("AuthFailure"), ErrorKind::Auth);
        assert_eq!(c("UnauthorizedOperation"), ErrorKind::Auth);
        assert_eq!(c("InvalidClientTokenId"), ErrorKind::Auth);
        assert_eq!(c("InvalidInstanceID.NotFound"), ErrorKind::NotFound);
        assert_eq!(c("InvalidVpcID.NotFound"), ErrorKind::NotFound);
        assert_eq!(c("InvalidAMIID.NotFound"), ErrorKind::Terminal);
        assert_eq!(c("InvalidInstanceType.NotFound"), ErrorKind::Terminal);
        assert_eq!(c("InvalidSubnetID.NotFound"), ErrorKind::NotFound);
        assert_eq!(c("InvalidInstanceID.Malformed"), ErrorKind::Terminal);
        assert_eq!(c("InvalidParameterValue"), ErrorKind::Terminal);
        assert_eq!(c("InvalidParameterCombination"), ErrorKind::Terminal);
        assert_eq!(c("InvalidAMIID.Malformed"), ErrorKind::Terminal);
        assert_eq!(c("MissingParameter"), ErrorKind::Terminal);
        assert_eq!(c("DependencyViolation"), ErrorKind::Conflict);
        assert_eq!(c("IncorrectInstanceState"), ErrorKind::Conflict);
        assert_eq!(c("VolumeInUse"), ErrorKind::Conflict);
        assert_eq!(c("InternalError"), ErrorKind::Transient);
        assert_eq!(c("Unavailable"), ErrorKind::Transient);
    }

    #[test]
    fn statuses_map_when_the_code_is_unknown() {
        assert_eq!(classify(Some("Weird"), Some(503), T), ErrorKind::Transient);
        assert_eq!(classify(None, Some(502), T), ErrorKind::Transient);
        assert_eq!(
            classify(None, Some(429), T),
            ErrorKind::Throttled {
                retry_after: Some(T)
            }
        );
        assert_eq!(classify(None, Some(403), T), ErrorKind::Auth);
        assert_eq!(classify(Some("Weird"), Some(400), T), ErrorKind::Terminal);
        assert_eq!(classify(None, None, T), ErrorKind::Transient);
    }
}

#[cfg(test)]
mod credential_tests {
    use super::*;
    use aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsError;
    use aws_smithy_runtime_api::client::result::ConnectorError;

    fn dispatch(source: CredentialsError) -> SdkError<DescribeVpcsError, HttpResponse> {
        SdkError::dispatch_failure(ConnectorError::other(Box::new(source), None))
    }

    #[test]
    fn missing_credentials_are_auth_and_a_slow_provider_is_transient() {
        let e = from_sdk(
            "DescribeVpcs",
            dispatch(CredentialsError::not_loaded("no source")),
            T,
        );
        assert_eq!(
            (e.kind(), e.native_code()),
            (ErrorKind::Auth, Some("CredentialsNotLoaded"))
        );
        let e = from_sdk(
            "DescribeVpcs",
            dispatch(CredentialsError::provider_timed_out(Duration::from_secs(5))),
            T,
        );
        assert_eq!(e.kind(), ErrorKind::Transient);
        let io = ConnectorError::io(Box::new(std::io::Error::other("reset")));
        let e = from_sdk(
            "DescribeVpcs",
            SdkError::<DescribeVpcsError, HttpResponse>::dispatch_failure(io),
            T,
        );
        assert_eq!(
            (e.kind(), e.native_code()),
            (ErrorKind::Transient, Some("ConnectionError"))
        );
    }

    const T: Duration = Duration::from_secs(2);
}
