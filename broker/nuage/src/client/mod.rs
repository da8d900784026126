//! The client side of `nuage`: everything the operator commands need to talk to a running
//! broker.
//!
//! - [`config`]: connection contexts in `~/.config/nuage/config.toml` (server, token reference,
//!   default output), resolved with flags > `NUAGE_*` environment > file;
//! - [`token`]: the bearer token, redacted in every `Debug`/`Display`;
//! - [`http`]: a blocking HTTP client for the `/v1` API that turns `application/problem+json`
//!   answers into [`Error`]s saying what to do next;
//! - [`style`] and [`table`]: colour (only on a terminal, never with `NO_COLOR`) and tables built
//!   from the API's JSON;
//! - [`watch`]: the live view of a request's steps (progress bars on a terminal, one line per
//!   event when piped).
//!
//! It is not the broker: every decision is the server's, the client only asks and renders.

pub(crate) mod args;
pub(crate) mod config;
mod error;
pub(crate) mod http;
pub(crate) mod routes;
pub(crate) mod session;
pub(crate) mod style;
pub(crate) mod table;
pub(crate) mod time;
pub(crate) mod token;
pub(crate) mod watch;

pub(crate) use args::GlobalArgs;
pub(crate) use error::Error;
pub(crate) use session::Session;
