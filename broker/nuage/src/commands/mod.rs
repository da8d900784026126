//! One module per command.

pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod completions;
pub(crate) mod context;
mod offers;
mod plan;
mod remote;
pub(crate) mod requests;
pub(crate) mod serve;
pub(crate) mod sim;
pub(crate) mod tokens;
pub(crate) mod workflows;

use crate::args::{Cli, Command, OffersCommand, SchemaKind, Sources};
use crate::exit::from_placement;
use anyhow::Context;
use nuage_placement::{Catalogue, Policy};
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

/// Runs a parsed command line.
pub(crate) fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    crate::client::style::init(cli.global.color);
    let remote = cli.global.names_a_server();
    match cli.command {
        Command::Plan(args) if args.remote || remote => remote::plan(&args, &cli.global),
        Command::Offers(OffersCommand::List {
            sources,
            tier,
            output,
            remote: r,
        }) if r || remote => remote::offers(&sources, tier, output, &cli.global),
        Command::Plan(args) => plan::plan(args),
        Command::Validate(args) => plan::validate(args),
        Command::Offers(cmd) => offers::run(cmd),
        Command::Schema { kind } => {
            let schema = match kind {
                SchemaKind::Request => nuage_placement::request::request_schema(),
                SchemaKind::Offer => nuage_placement::catalogue::offer_schema(),
                SchemaKind::Policy => nuage_placement::policy::policy_schema(),
            };
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Requests(cmd) => requests::run(cmd, &cli.global),
        Command::Workflows(cmd) => workflows::run(cmd, &cli.global),
        Command::Audit(cmd) => audit::run(cmd, &cli.global),
        Command::Tokens(cmd) => tokens::run(cmd, &cli.global),
        Command::Sim(cmd) => sim::run(cmd, &cli.global),
        Command::Context(cmd) => context::run(cmd),
        Command::Completions { shell } => completions::run(shell),
        Command::Serve(args) => serve::serve(args),
        Command::Migrate(args) => serve::migrate(args),
        Command::Admin(cmd) => admin::run(cmd),
        Command::Openapi { output } => serve::openapi(output),
    }
}

/// Loads the catalogue and policy named on the command line, or the built-in ones.
pub(crate) fn load_sources(s: &Sources) -> anyhow::Result<(Catalogue, Policy)> {
    let catalogue = match &s.catalogue {
        Some(dir) => Catalogue::load_dir(dir).map_err(|e| from_placement("the catalogue", e))?,
        None => Catalogue::example(),
    };
    let policy = match &s.policy {
        Some(file) => Policy::load(file).map_err(|e| from_placement("the policy", e))?,
        None => Policy::default_policy(),
    };
    Ok((catalogue, policy))
}

/// Reads a file, or standard input for `-`.
pub(crate) fn read_input(path: &Path) -> anyhow::Result<String> {
    if path == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}
