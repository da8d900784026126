//! The process exit codes, documented in `docs/cli.md`.

use std::process::ExitCode;

// 0: success; for `plan`, the request was placed.
// 2: the command line is wrong (clap's own code).

/// The command line is wrong (clap's own code for unknown flags; ours for flags that do not go
/// together).
pub(crate) const USAGE: u8 = 2;
/// An unexpected failure (I/O, server unreachable...).
pub(crate) const FAILURE: u8 = 1;
/// An input file (request, catalogue, policy) is invalid; nothing was done.
pub(crate) const INVALID_INPUT: u8 = 3;
/// `plan`: the request is valid but no offer may take it.
pub(crate) const REFUSED: u8 = 4;
/// The request or workflow followed (`watch`, `--wait`) ended in failure.
pub(crate) const REQUEST_FAILED: u8 = 5;
/// The broker has nothing visible to this token with that id (404).
pub(crate) const NOT_FOUND: u8 = 6;
/// The broker refused the token (401) or its role or tenant (403).
pub(crate) const UNAUTHORIZED: u8 = 7;
/// The current state forbids the operation (409).
pub(crate) const CONFLICT: u8 = 8;
/// The broker cannot be reached or is unavailable (connection refused, timeout, 503).
pub(crate) const UNAVAILABLE: u8 = 9;
/// `--wait` or `watch --timeout` gave up before the end.
pub(crate) const TIMED_OUT: u8 = 10;

/// An error that ends the command with a chosen exit code and message.
#[derive(Debug)]
pub(crate) struct Exit {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Exit {
    pub(crate) fn invalid(message: impl Into<String>) -> Exit {
        Exit {
            code: INVALID_INPUT,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// The exit code for an error: an [`Exit`]'s own, a client error's, else [`FAILURE`].
pub(crate) fn code_of(e: &anyhow::Error) -> ExitCode {
    ExitCode::from(
        e.downcast_ref::<Exit>()
            .map(|x| x.code)
            .or_else(|| {
                e.downcast_ref::<crate::client::Error>()
                    .map(|c| c.exit_code())
            })
            .unwrap_or(FAILURE),
    )
}

/// Maps a placement input error to an `Exit` listing every bad field.
pub(crate) fn from_placement(what: &str, e: nuage_placement::Error) -> anyhow::Error {
    match e {
        nuage_placement::Error::Io { .. } => anyhow::Error::new(e),
        other => {
            let mut msg = format!("{what} is invalid:");
            for f in other.field_errors() {
                msg.push_str("\n  - ");
                msg.push_str(&f.to_string());
            }
            Exit::invalid(msg).into()
        }
    }
}
