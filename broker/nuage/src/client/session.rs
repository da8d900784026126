//! A command's connection: the resolved context and its client.

use super::args::GlobalArgs;
use super::config::{ConfigFile, Env, Resolved, resolve};
use super::error::Error;
use super::http::Client;
use crate::args::Format;
use serde_json::Value;
use std::io::IsTerminal;

/// The connection of one command.
#[derive(Debug)]
pub(crate) struct Session {
    /// The client.
    pub(crate) client: Client,
    /// What it connects with.
    pub(crate) resolved: Resolved,
}

impl Session {
    /// Resolves the connection from the flags, the process environment and the config file,
    /// printing its warnings on standard error.
    pub(crate) fn open(flags: &GlobalArgs) -> Result<Session, Error> {
        let env = Env::from_process();
        let file = ConfigFile::load(&env.config_path())?;
        let resolved = resolve(&file, &env, flags)?;
        for w in &resolved.warnings {
            eprintln!("warning: {w}");
        }
        Ok(Session {
            client: Client::new(&resolved)?,
            resolved,
        })
    }

    /// The output format: `-o` when given, else the environment's or the context's default.
    pub(crate) fn format(&self, flag: Option<Format>) -> Format {
        flag.unwrap_or(self.resolved.output)
    }
}

/// Prints an API value as JSON or YAML.
pub(crate) fn print_value(v: &Value, format: Format) -> anyhow::Result<()> {
    crate::output::print_structured(v, format)
}

/// Whether standard output is a terminal (live views, progress bars).
pub(crate) fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}
