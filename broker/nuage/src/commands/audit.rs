//! `nuage audit`: read the audit log and verify its hash chain.

use super::requests::items_of;
use crate::args::Format;
use crate::client::http::Call;
use crate::client::session::print_value;
use crate::client::style::{self, Tone};
use crate::client::table::{self, Col, at, s};
use crate::client::time::{instant, since};
use crate::client::{GlobalArgs, Session, routes};
use crate::exit::Exit;
use chrono::Utc;
use clap::Subcommand;
use serde_json::Value;
use std::process::ExitCode;

/// `nuage audit …`
#[derive(Debug, Subcommand)]
pub(crate) enum AuditCommand {
    /// Audit entries, oldest first: who did what, where, and the decision cited.
    List {
        /// Only this tenant (global tokens; a tenant's token sees its own).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this action (`request.create`, `workflow.retry`, `token.create`...).
        #[arg(long)]
        action: Option<String>,
        /// Only entries about this request.
        #[arg(long, value_name = "ID")]
        request: Option<String>,
        /// Only entries this recent (`30m`, `1h`, `2d`) or since this RFC 3339 time.
        #[arg(long, value_name = "AGE")]
        since: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Recompute the hash chain (global admin): exit 0 when intact, 1 naming the first bad
    /// entry (as `nuage admin verify-audit` does on the database).
    Verify {
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
}

pub(crate) fn run(cmd: AuditCommand, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(flags)?;
    let c = &session.client;
    match cmd {
        AuditCommand::List {
            tenant,
            action,
            request,
            since: since_arg,
            limit,
            output,
        } => {
            let after = match &since_arg {
                Some(x) => {
                    Some(since(x, Utc::now()).map_err(|e| Exit::invalid(format!("--since {e}")))?)
                }
                None => None,
            };
            // Oldest first, page by page; with --since (filtered by the broker) the last
            // `limit` entries are kept.
            let mut items: Vec<Value> = Vec::new();
            let mut cursor: Option<i64> = None;
            loop {
                let v = c.send(
                    Call::get(routes::AUDIT)
                        .query("tenant", tenant.as_deref())
                        .query("action", action.as_deref())
                        .query("request", request.as_deref())
                        .query("since", after.map(|a| a.to_rfc3339()))
                        .query("cursor", cursor)
                        .query(
                            "limit",
                            Some(if after.is_some() {
                                1000
                            } else {
                                limit.clamp(1, 1000)
                            }),
                        ),
                )?;
                items.extend(items_of(&v));
                cursor = v.get("next_cursor").and_then(Value::as_i64);
                if cursor.is_none() || (after.is_none() && items.len() >= limit as usize) {
                    break;
                }
            }
            if after.is_some() && items.len() > limit as usize {
                items.drain(..items.len() - limit as usize);
            }
            items.truncate(limit as usize);
            match session.format(output) {
                Format::Table => {
                    let rows = items
                        .iter()
                        .map(|e| {
                            let hash = s(e, "hash");
                            vec![
                                Col::plain(s(e, "seq")),
                                Col::plain(
                                    instant(e.get("at"))
                                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                                        .unwrap_or_default(),
                                ),
                                Col::plain(s(e, "actor")),
                                Col::plain(s(e, "tenant")),
                                Col::plain(s(e, "action")),
                                Col::plain(s(e, "target")),
                                Col::plain(if hash.is_empty() {
                                    "(not chained yet)".to_owned()
                                } else {
                                    hash.trim_start_matches("sha256:")
                                        .chars()
                                        .take(12)
                                        .collect()
                                }),
                            ]
                        })
                        .collect();
                    print!(
                        "{}",
                        table::render(
                            &["SEQ", "AT", "ACTOR", "TENANT", "ACTION", "TARGET", "HASH"],
                            rows
                        )
                    );
                }
                f => print_value(&Value::Array(items), f)?,
            }
        }
        AuditCommand::Verify { output } => {
            let v = c.get(routes::AUDIT_VERIFY)?;
            let bad = at(&v, "first_bad");
            let intact = v
                .get("intact")
                .and_then(Value::as_bool)
                .unwrap_or(bad.is_null());
            match session.format(output) {
                Format::Table => {
                    if intact {
                        println!(
                            "audit chain {}: {} entries chained (head seq {}, {}), {} waiting to be chained",
                            style::paint("intact", Tone::Good),
                            s(&v, "chained"),
                            s(&v, "head_seq"),
                            s(&v, "head_hash"),
                            s(&v, "unchained")
                        );
                    }
                }
                f => print_value(&v, f)?,
            }
            if !intact {
                return Err(Exit {
                    code: crate::exit::FAILURE,
                    message: format!(
                        "the audit chain is BROKEN at entry {}: {} (the entries before it are intact)",
                        s(bad, "seq"),
                        s(bad, "problem"),
                    ),
                }
                .into());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
