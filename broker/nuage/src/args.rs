//! The command line, as clap types.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Nuage: a sovereign multi-cloud broker for public administrations.
#[derive(Debug, Parser)]
#[command(name = "nuage", version, about, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) global: crate::client::GlobalArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Decide where a request may and should go, and explain why.
    Plan(PlanArgs),
    /// Check a request (and optionally a catalogue and a policy) without placing anything.
    Validate(ValidateArgs),
    /// The offers of the catalogue.
    #[command(subcommand)]
    Offers(OffersCommand),
    /// Print the JSON Schema of a file format.
    Schema {
        /// Which format.
        #[arg(value_enum)]
        kind: SchemaKind,
    },
    /// Service requests on a running broker: create, get, list, delete, watch.
    #[command(subcommand)]
    Requests(crate::commands::requests::RequestsCommand),
    /// Workflow runs: list, show, and the operator actions retry, cancel, compensate, resume.
    #[command(subcommand)]
    Workflows(crate::commands::workflows::WorkflowsCommand),
    /// The audit log: list entries, verify the hash chain.
    #[command(subcommand)]
    Audit(crate::commands::audit::AuditCommand),
    /// Bearer tokens: create, list, revoke (admin).
    #[command(subcommand)]
    Tokens(crate::commands::tokens::TokensCommand),
    /// Faults of the broker's simulated clouds: list, fail, clear (global admin).
    #[command(subcommand)]
    Sim(crate::commands::sim::SimCommand),
    /// Connection contexts (server, token, default output) in the config file.
    #[command(subcommand)]
    Context(crate::commands::context::ContextCommand),
    /// Run the broker: the /v1 API, provisioning workflows, audit log (until SIGTERM/Ctrl-C).
    Serve(crate::commands::serve::ServeArgs),
    /// Apply the broker's database migrations and exit.
    Migrate(crate::commands::serve::BrokerConfigArgs),
    /// Work on the broker's database directly: create a token, verify the audit chain.
    #[command(subcommand)]
    Admin(crate::commands::admin::AdminCommand),
    /// Print the broker API's OpenAPI document (or write it to a file).
    Openapi {
        /// Write it to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print a shell completion script.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: crate::commands::completions::ShellArg,
    },
}

/// Where the catalogue and policy come from.
#[derive(Debug, Args)]
pub(crate) struct Sources {
    /// A catalogue directory of *.yaml files; the built-in example catalogue when absent.
    #[arg(long, value_name = "DIR", env = "NUAGE_CATALOGUE")]
    pub(crate) catalogue: Option<PathBuf>,
    /// A policy file; the built-in default policy when absent.
    #[arg(long, value_name = "FILE", env = "NUAGE_POLICY")]
    pub(crate) policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The request (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: PathBuf,
    #[command(flatten)]
    pub(crate) sources: Sources,
    /// The decision date (`YYYY-MM-DD` or RFC 3339); now when absent.
    #[arg(long, value_name = "DATE")]
    pub(crate) at: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
    pub(crate) output: Format,
    /// Ask the broker of the current context (with the tenant's remaining quota) instead of
    /// deciding here; implied by --server and --context.
    #[arg(long)]
    pub(crate) remote: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// The request (YAML or JSON); `-` reads standard input.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) sources: Sources,
}

#[derive(Debug, Subcommand)]
pub(crate) enum OffersCommand {
    /// List the offers.
    List {
        #[command(flatten)]
        sources: Sources,
        /// Only this tier.
        #[arg(long, value_enum)]
        tier: Option<TierArg>,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Table)]
        output: Format,
        /// List the offers of the broker of the current context instead of a local catalogue;
        /// implied by --server and --context.
        #[arg(long)]
        remote: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Table,
    Json,
    Yaml,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TierArg {
    Internal,
    Dedicated,
    External,
}

impl From<TierArg> for nuage_placement::Tier {
    fn from(t: TierArg) -> Self {
        match t {
            TierArg::Internal => nuage_placement::Tier::Internal,
            TierArg::Dedicated => nuage_placement::Tier::Dedicated,
            TierArg::External => nuage_placement::Tier::External,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum SchemaKind {
    Request,
    Offer,
    Policy,
}
