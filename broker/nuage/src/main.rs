//! The `nuage` binary: plans placements, runs the broker, and drives a running broker.
//!
//! Exit codes are documented in `docs/cli.md` and defined in [`exit`].

mod args;
mod client;
mod commands;
mod exit;
mod output;

use clap::Parser;
use std::process::ExitCode;

/// mimalloc: the broker allocates many small, short-lived values per request (JSON documents,
/// decision records) across threads, where it is markedly cheaper than the system allocator
/// (`docs/benchmarks.md`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            exit::code_of(&e)
        }
    }
}
