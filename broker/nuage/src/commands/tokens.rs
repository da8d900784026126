//! `nuage tokens`: create (the secret is shown once), list and revoke bearer tokens (admin).

use super::requests::items_of;
use crate::args::Format;
use crate::client::http::Call;
use crate::client::session::print_value;
use crate::client::table::{self, Col, s};
use crate::client::time::instant;
use crate::client::{GlobalArgs, Session, routes};
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RoleArg {
    /// Plans, submits, reads and deletes its tenant's requests.
    Requester,
    /// Also lists and acts on workflows.
    Operator,
    /// Also manages tokens.
    Admin,
}

impl RoleArg {
    fn as_str(self) -> &'static str {
        match self {
            RoleArg::Requester => "requester",
            RoleArg::Operator => "operator",
            RoleArg::Admin => "admin",
        }
    }
}

/// `nuage tokens …`
#[derive(Debug, Subcommand)]
pub(crate) enum TokensCommand {
    /// Create a token; its secret is printed once and never again.
    Create {
        /// A label for people (`ci-pipeline`, `alice`).
        #[arg(long)]
        name: String,
        /// Its role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Its tenant; omit for a global operator or admin token.
        #[arg(long)]
        tenant: Option<String>,
        /// Write the secret to this file (mode 0600) instead of printing it.
        #[arg(long, value_name = "FILE")]
        secret_file: Option<PathBuf>,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// List tokens (never their secrets).
    List {
        /// Include revoked tokens.
        #[arg(long)]
        all: bool,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Revoke a token by id (`tok_…`); it stops working within the broker's cache time.
    Revoke {
        /// The token id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
}

pub(crate) fn run(cmd: TokensCommand, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(flags)?;
    let c = &session.client;
    match cmd {
        TokensCommand::Create {
            name,
            role,
            tenant,
            secret_file,
            output,
        } => {
            let body = json!({"name": name, "role": role.as_str(), "tenant": tenant});
            let mut v = c.send(Call::post(routes::TOKENS).json(&body))?;
            let secret = ["token", "secret"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Value::as_str).map(str::to_owned))
                .unwrap_or_default();
            if let Some(path) = &secret_file {
                write_secret(path, &secret)?;
                for k in ["token", "secret"] {
                    if v.get(k).is_some() {
                        v[k] = json!(format!("<written to {}>", path.display()));
                    }
                }
            }
            let info = v.get("info").unwrap_or(&v);
            match session.format(output) {
                Format::Table => {
                    println!(
                        "token {} ({}, role {}{}) created",
                        s(info, "id"),
                        s(info, "name"),
                        s(info, "role"),
                        match s(info, "tenant") {
                            t if t.is_empty() => ", every tenant".to_owned(),
                            t => format!(", tenant {t}"),
                        }
                    );
                    match &secret_file {
                        Some(p) => println!("secret written to {} (mode 0600)", p.display()),
                        None => {
                            println!("{secret}");
                            eprintln!(
                                "this secret is shown once: store it now (e.g. in a file for `nuage context set NAME --token-file FILE`)"
                            );
                        }
                    }
                }
                f => print_value(&v, f)?,
            }
        }
        TokensCommand::List { all, output } => {
            let v = c.get(routes::TOKENS)?;
            let items: Vec<Value> = items_of(&v)
                .into_iter()
                .filter(|t| all || t.get("revoked_at").is_none_or(Value::is_null))
                .collect();
            match session.format(output) {
                Format::Table => {
                    let rows = items
                        .iter()
                        .map(|t| {
                            let revoked = instant(t.get("revoked_at"));
                            vec![
                                Col::plain(s(t, "id")),
                                Col::plain(s(t, "name")),
                                Col::plain(s(t, "role")),
                                Col::plain(match s(t, "tenant") {
                                    x if x.is_empty() => "*".to_owned(),
                                    x => x,
                                }),
                                Col::plain(
                                    instant(t.get("created_at"))
                                        .map(|x| x.format("%Y-%m-%d %H:%M").to_string())
                                        .unwrap_or_default(),
                                ),
                                Col::plain(s(t, "created_by")),
                                Col::state(if revoked.is_some() {
                                    "revoked"
                                } else {
                                    "active"
                                }),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        table::render(
                            &["ID", "NAME", "ROLE", "TENANT", "CREATED", "BY", "STATUS"],
                            rows
                        )
                    );
                }
                f => print_value(&Value::Array(items), f)?,
            }
        }
        TokensCommand::Revoke { id, output } => {
            let v = c
                .send(Call::delete(&routes::token(&id)))
                .map_err(|e| e.hint_on("not-found", routes::not_found_hint("token", &id)))?;
            match session.format(output) {
                Format::Table => println!("token {id} revoked"),
                f => print_value(&v, f)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_secret(path: &std::path::Path, secret: &str) -> anyhow::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    writeln!(f, "{secret}")?;
    Ok(())
}
