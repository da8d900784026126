//! Flags every command accepts: which broker to talk to, with which token, and colour.

use clap::{Args, ValueEnum};
use std::path::PathBuf;

/// Connection and display flags, accepted before or after the subcommand.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct GlobalArgs {
    /// The context to use (from the config file) instead of the current one [env: NUAGE_CONTEXT].
    #[arg(long, global = true, value_name = "NAME")]
    pub(crate) context: Option<String>,
    /// The broker's URL, overriding the context's [env: NUAGE_SERVER].
    #[arg(long, global = true, value_name = "URL")]
    pub(crate) server: Option<String>,
    /// A file holding the bearer token, overriding the context's (NUAGE_TOKEN may hold the token
    /// itself).
    #[arg(long, global = true, value_name = "FILE")]
    pub(crate) token_file: Option<PathBuf>,
    /// When to colour the output: on a terminal without NO_COLOR (auto), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorMode::Auto)]
    pub(crate) color: ColorMode,
}

impl GlobalArgs {
    /// Whether a connection flag was given on the command line (for `plan` and `offers list`,
    /// which run offline unless asked otherwise).
    pub(crate) fn names_a_server(&self) -> bool {
        self.context.is_some() || self.server.is_some()
    }
}

/// When to colour the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorMode {
    /// On a terminal, unless `NO_COLOR` is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}
