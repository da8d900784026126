//! `nuage requests`: submit, read, list, delete and follow service requests.

use super::remote::read_document;
use crate::args::Format;
use crate::client::http::Call;
use crate::client::session::{print_value, stdout_is_terminal};
use crate::client::table::{self, Col, at, s};
use crate::client::time::{age, instant};
use crate::client::watch::{self, Goal, Options};
use crate::client::{GlobalArgs, Session, routes};
use chrono::Utc;
use clap::Subcommand;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `nuage requests …`
#[derive(Debug, Subcommand)]
pub(crate) enum RequestsCommand {
    /// Submit a request (YAML or JSON); the broker places it and starts provisioning.
    Create {
        /// The request; `-` reads standard input.
        #[arg(short = 'f', long = "file", value_name = "FILE")]
        file: PathBuf,
        /// Follow provisioning until the request is ready (exit 5 if it fails).
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds (exit 10).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// Makes a retried submission return the first one instead of creating another.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
        /// Decide and check quotas, store nothing: prints the decision.
        #[arg(long)]
        dry_run: bool,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// One request: state, placement, cost, resources with cloud ids and addresses, progress.
    Get {
        /// The request id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// The requests this token may see, newest first.
    List {
        /// Only requests in this state (repeatable): accepted, provisioning, ready, failed,
        /// rolling_back, rolled_back, cancelling, cancelled, deleting, deleted, delete_failed.
        #[arg(long, value_name = "STATE")]
        state: Vec<String>,
        /// Only this tenant (global tokens).
        #[arg(long, value_name = "TENANT")]
        tenant: Option<String>,
        /// Only requests with this name.
        #[arg(long)]
        name: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Delete a request: its resources are removed (idempotent).
    Delete {
        /// The request id.
        id: String,
        /// Follow deprovisioning until the request is deleted (exit 5 if it fails).
        #[arg(long)]
        wait: bool,
        /// With --wait: give up after this many seconds (exit 10).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Follow a request live until it settles: exit 0 when it is ready (or deleted, for a
    /// deletion), 5 when it fails, naming the failing step and its error.
    Watch {
        /// The request id.
        id: String,
        /// Seconds between polls.
        #[arg(long, default_value_t = 0.5, value_name = "SECONDS")]
        interval: f64,
        /// Give up after this many seconds (exit 10).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<u64>,
    },
}

pub(crate) fn run(cmd: RequestsCommand, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(flags)?;
    let c = &session.client;
    match cmd {
        RequestsCommand::Create {
            file,
            wait,
            timeout,
            idempotency_key,
            dry_run,
            output,
        } => {
            let body = read_document(&file)?;
            let format = session.format(output);
            let v = c.send(
                Call::post(routes::REQUESTS)
                    .json(&body)
                    .query("dryRun", dry_run.then_some("true"))
                    .header("Idempotency-Key", idempotency_key.as_deref()),
            )?;
            if dry_run {
                let decision = v.get("decision").cloned().unwrap_or(v);
                match format {
                    Format::Table => print!("{}", super::remote::decision_table(&decision)),
                    f => print_value(&decision, f)?,
                }
                return Ok(ExitCode::SUCCESS);
            }
            let id = s(&v, "id");
            if wait {
                return follow(&session, &id, Goal::Ready, timeout, format);
            }
            match format {
                Format::Table => {
                    println!(
                        "request {} ({}) {}: {} on {} ({}, {}), {} EUR/month{}",
                        s(&v, "name"),
                        id,
                        s(&v, "state"),
                        s(&v, "tenant"),
                        s(&v, "placement.offer"),
                        s(&v, "placement.tier"),
                        s(&v, "placement.region"),
                        s(&v, "cost.monthly_eur"),
                        if at(&v, "simulated").as_bool() == Some(true) {
                            " (simulated cloud: nothing real is created)"
                        } else {
                            ""
                        }
                    );
                    println!("follow it with: nuage requests watch {id}");
                }
                f => print_value(&v, f)?,
            }
        }
        RequestsCommand::Get { id, output } => {
            let v = c
                .get(&routes::request(&id))
                .map_err(|e| e.hint_on("not-found", routes::not_found_hint("request", &id)))?;
            match session.format(output) {
                Format::Table => print!("{}", request_details(&v)),
                f => print_value(&v, f)?,
            }
        }
        RequestsCommand::List {
            state,
            tenant,
            name,
            limit,
            output,
        } => {
            let states = (!state.is_empty()).then(|| state.join(","));
            let v = c.send(
                Call::get(routes::REQUESTS)
                    .query("state", states)
                    .query("tenant", tenant)
                    .query("name", name)
                    .query("limit", Some(limit.clamp(1, 500))),
            )?;
            let items = items_of(&v);
            match session.format(output) {
                Format::Table => print!("{}", requests_table(&items)),
                f => print_value(&Value::Array(items), f)?,
            }
        }
        RequestsCommand::Delete {
            id,
            wait,
            timeout,
            output,
        } => {
            let v = c
                .send(Call::delete(&routes::request(&id)))
                .map_err(|e| e.hint_on("not-found", routes::not_found_hint("request", &id)))?;
            let format = session.format(output);
            if wait {
                return follow(&session, &id, Goal::Deleted, timeout, format);
            }
            match format {
                Format::Table => println!(
                    "request {} ({}) {}; follow it with: nuage requests watch {}",
                    s(&v, "name"),
                    s(&v, "id"),
                    s(&v, "state"),
                    s(&v, "id")
                ),
                f => print_value(&v, f)?,
            }
        }
        RequestsCommand::Watch {
            id,
            interval,
            timeout,
        } => {
            let mut timeline = false;
            let first = watch::fetch(c, &id, &mut timeline)?;
            let goal = if matches!(
                first.state.as_str(),
                "deleting" | "deleted" | "delete_failed"
            ) {
                Goal::Deleted
            } else {
                Goal::Ready
            };
            watch::follow(
                c,
                &id,
                &Options {
                    goal,
                    interval: Duration::from_secs_f64(interval.clamp(0.1, 60.0)),
                    timeout: timeout.map(Duration::from_secs),
                    live: stdout_is_terminal(),
                },
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--wait`: the live view on a terminal (table output), lines when piped, nothing but the
/// final request with `-o json|yaml`.
fn follow(
    session: &Session,
    id: &str,
    goal: Goal,
    timeout: Option<u64>,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let c = &session.client;
    let opts = Options {
        goal,
        interval: Duration::from_millis(500),
        timeout: timeout.map(Duration::from_secs),
        live: stdout_is_terminal(),
    };
    if format == Format::Table {
        watch::follow(c, id, &opts)?;
        return Ok(ExitCode::SUCCESS);
    }
    let result = watch::wait_quietly(c, id, &opts);
    let v = c.get(&routes::request(id))?;
    print_value(&v, format)?;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The items of a listing (`{items: [...]}` or a bare array).
pub(crate) fn items_of(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        other => other
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    }
}

fn requests_table(items: &[Value]) -> String {
    let now = Utc::now();
    let rows = items
        .iter()
        .map(|r| {
            vec![
                Col::plain(s(r, "id")),
                Col::plain(s(r, "name")),
                Col::plain(s(r, "tenant")),
                Col::state(s(r, "state")),
                Col::plain(if at(r, "simulated").as_bool() == Some(true) {
                    format!("{} (simulated)", s(r, "placement.offer"))
                } else {
                    s(r, "placement.offer")
                }),
                Col::plain(s(r, "placement.region")),
                Col::plain(s(r, "cost.monthly_eur")),
                Col::plain(
                    instant(r.get("created_at"))
                        .map(|t| age(t, now))
                        .unwrap_or_default(),
                ),
            ]
        })
        .collect();
    table::render(
        &[
            "ID",
            "NAME",
            "TENANT",
            "STATE",
            "OFFER",
            "REGION",
            "EUR/MONTH",
            "AGE",
        ],
        rows,
    )
}

fn run_line(run: &Value) -> String {
    if !run.is_object() {
        return String::new();
    }
    let mut l = format!(
        "{} {} ({}/{} steps)",
        s(run, "workflow_id"),
        s(run, "state"),
        s(run, "steps_done"),
        s(run, "steps_total")
    );
    let cur = s(run, "current_step");
    if !cur.is_empty() {
        l.push_str(&format!(", at {cur}"));
    }
    let err = s(run, "error");
    if !err.is_empty() {
        l.push_str(&format!(": {err}"));
    }
    l
}

fn request_details(v: &Value) -> String {
    let mut out = table::details(&[
        ("ID", s(v, "id")),
        ("Name", s(v, "name")),
        ("Tenant", s(v, "tenant")),
        (
            "State",
            crate::client::style::paint(&s(v, "state"), crate::client::style::tone(&s(v, "state"))),
        ),
        (
            "Placement",
            format!(
                "{} (tier {}, region {}, {}/{}){}",
                s(v, "placement.offer"),
                s(v, "placement.tier"),
                s(v, "placement.region"),
                s(v, "placement.adapter"),
                s(v, "placement.instance"),
                if at(v, "simulated").as_bool() == Some(true) {
                    ", simulated"
                } else {
                    ""
                }
            ),
        ),
        ("Cost", format!("{} EUR/month", s(v, "cost.monthly_eur"))),
        (
            "Holds",
            format!(
                "{} vCPU, {} GiB RAM, {} GiB storage",
                s(v, "totals.vcpus"),
                s(v, "totals.ram_gib"),
                s(v, "totals.storage_gib")
            ),
        ),
        (
            "Created",
            format!("{} by {}", s(v, "created_at"), s(v, "created_by")),
        ),
        ("Delete asked", s(v, "delete_requested_at")),
        ("Decision", s(v, "decision_digest")),
        ("Provisioning", run_line(at(v, "provisioning"))),
        ("Deprovisioning", run_line(at(v, "deprovisioning"))),
    ]);
    let resources = at(v, "resources").as_array().cloned().unwrap_or_default();
    if !resources.is_empty() {
        out.push('\n');
        let rows = resources
            .iter()
            .map(|r| {
                vec![
                    Col::plain(s(r, "name")),
                    Col::plain(s(r, "kind")),
                    Col::state(s(r, "status")),
                    Col::plain(s(r, "cloud_id")),
                    Col::plain(
                        at(r, "addresses")
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|a| s(a, "ip"))
                            .collect::<Vec<_>>()
                            .join(","),
                    ),
                    Col::plain(s(r, "error")),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &[
                "RESOURCE",
                "KIND",
                "STATUS",
                "CLOUD ID",
                "ADDRESSES",
                "ERROR",
            ],
            rows,
        ));
    }
    out
}
