//! `nuage admin`: work on the broker's database directly, without a running broker or a token:
//! create a token (scripted setup, or recovery when no admin token is left) and verify the
//! audit chain (exit 1 at the first altered, removed or reordered entry).

use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use nuage_broker::auth::{NewToken, Role, TokenStore};

use super::serve::{BrokerConfigArgs, runtime};
use crate::exit::{Exit, FAILURE};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AdminRole {
    /// Plans, submits, reads and deletes its tenant's requests.
    Requester,
    /// Also lists and acts on workflows.
    Operator,
    /// Also manages tokens.
    Admin,
}

/// `nuage admin …`
#[derive(Debug, Subcommand)]
pub(crate) enum AdminCommand {
    /// Create a token in the database; its secret is printed once.
    Token {
        /// A label for people.
        #[arg(long)]
        name: String,
        /// Its role.
        #[arg(long, value_enum)]
        role: AdminRole,
        /// Its tenant; omit for a global operator or admin.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        config: BrokerConfigArgs,
    },
    /// Verify the audit log's hash chain in the database: exit 0 when intact, 1 at the first
    /// bad entry.
    VerifyAudit {
        #[command(flatten)]
        config: BrokerConfigArgs,
    },
}

pub(crate) fn run(cmd: AdminCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AdminCommand::Token {
            name,
            role,
            tenant,
            config,
        } => {
            let config = config.load()?;
            let url = config.database_url();
            runtime()?.block_on(async move {
                let db = nuage_broker::db::Db::connect(&url, 2)
                    .await
                    .context("opening the database")?;
                let tokens = TokenStore::new(db.clone(), config.auth.cache_ttl);
                let new = NewToken {
                    name,
                    role: match role {
                        AdminRole::Requester => Role::Requester,
                        AdminRole::Operator => Role::Operator,
                        AdminRole::Admin => Role::Admin,
                    },
                    tenant,
                };
                let (info, secret) =
                    tokens
                        .create(&new, "cli:admin")
                        .await
                        .map_err(|e| match e {
                            nuage_broker::Error::Invalid(errors) => Exit::invalid(
                                errors
                                    .iter()
                                    .map(ToString::to_string)
                                    .collect::<Vec<_>>()
                                    .join("; "),
                            )
                            .into(),
                            other => anyhow::Error::new(other),
                        })?;
                nuage_broker::audit::Sealer::new(db.clone())
                    .seal_pending()
                    .await?;
                db.close().await;
                eprintln!(
                    "token {} created (role {}, {}); its secret, shown once:",
                    info.id,
                    info.role,
                    info.tenant
                        .as_deref()
                        .map_or_else(|| "every tenant".to_owned(), |t| format!("tenant {t}"))
                );
                println!("{}", secret.expose());
                Ok(ExitCode::SUCCESS)
            })
        }
        AdminCommand::VerifyAudit { config } => {
            let config = config.load()?;
            let url = config.database_url();
            runtime()?.block_on(async move {
                let db = nuage_broker::db::Db::connect(&url, 2)
                    .await
                    .context("opening the database")?;
                let v = nuage_broker::audit::verify(&db).await?;
                db.close().await;
                match &v.first_bad {
                    None => {
                        println!(
                            "audit chain intact: {} entries chained, {} not chained yet; head {} {}",
                            v.chained, v.unchained, v.head_seq, v.head_hash
                        );
                        Ok(ExitCode::SUCCESS)
                    }
                    Some(bad) => {
                        println!(
                            "audit chain BROKEN at entry {}: {} ({} entries checked before it)",
                            bad.seq,
                            bad.problem,
                            bad.seq - 1
                        );
                        Ok(ExitCode::from(FAILURE))
                    }
                }
            })
        }
    }
}
