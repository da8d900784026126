//! `nuage completions bash|zsh|fish`: the shell completion script on standard output.

use crate::args::Cli;
use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use std::process::ExitCode;

/// A shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShellArg {
    /// Bash: `source <(nuage completions bash)`.
    Bash,
    /// Zsh: `nuage completions zsh > "${fpath[1]}/_nuage"`.
    Zsh,
    /// Fish: `nuage completions fish > ~/.config/fish/completions/nuage.fish`.
    Fish,
}

pub(crate) fn run(shell: ShellArg) -> anyhow::Result<ExitCode> {
    let shell = match shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "nuage", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
