//! `nuage workflows`: list runs, show a run's timeline, and the operator actions (retry, cancel,
//! compensate, resume).

use super::requests::items_of;
use crate::args::Format;
use crate::client::http::Call;
use crate::client::session::print_value;
use crate::client::style::{self, Tone};
use crate::client::table::{self, Col, at, s};
use crate::client::time::{age, human, instant, since};
use crate::client::watch::model::step_times;
use crate::client::{GlobalArgs, Session, routes};
use crate::exit::Exit;
use chrono::Utc;
use clap::Subcommand;
use serde_json::{Value, json};
use std::fmt::Write;
use std::process::ExitCode;

/// `nuage workflows …`
#[derive(Debug, Subcommand)]
pub(crate) enum WorkflowsCommand {
    /// Workflow runs, newest first.
    List {
        /// Only runs in this state (repeatable): pending, running, succeeded, failed,
        /// cancelling, compensating, compensated, cancelled.
        #[arg(long, value_name = "STATE")]
        state: Vec<String>,
        /// Only runs created this recently (`30m`, `1h`, `2d`) or since this RFC 3339 time.
        #[arg(long, value_name = "AGE")]
        since: Option<String>,
        /// Only runs of this definition (`provision`, `deprovision`).
        #[arg(long, value_name = "NAME")]
        definition: Option<String>,
        /// Only the runs of this request.
        #[arg(long, value_name = "ID")]
        request: Option<String>,
        /// Only this tenant's runs (global tokens).
        #[arg(long)]
        tenant: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// A run's timeline: steps, attempts, errors, durations, lease and events.
    Show {
        /// The run id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Retry a run that failed, from its failed step, with a fresh retry budget.
    Retry {
        /// The run id.
        id: String,
        /// Run again from this step, by position (from 0, as `workflows show` numbers them)
        /// or name: it and every later step run again, those that succeeded included. It
        /// must be the failed step or come before it. Default: the failed step.
        #[arg(long, value_name = "N")]
        from_step: Option<String>,
        /// Number the step's attempts from 1 again (otherwise the count goes on).
        #[arg(long)]
        reset_attempts: bool,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Cancel a run: the running step is asked to stop, finished steps are undone.
    Cancel {
        /// The run id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Undo a failed run: finished steps are compensated in reverse order.
    Compensate {
        /// The run id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Resume a failed run where it stopped (forward, or its interrupted compensation).
    Resume {
        /// The run id.
        id: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
}

pub(crate) fn run(cmd: WorkflowsCommand, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(flags)?;
    let c = &session.client;
    match cmd {
        WorkflowsCommand::List {
            state,
            since: since_arg,
            definition,
            request,
            tenant,
            limit,
            output,
        } => {
            let after = match &since_arg {
                Some(x) => {
                    Some(since(x, Utc::now()).map_err(|e| Exit::invalid(format!("--since {e}")))?)
                }
                None => None,
            };
            // Newest first, page by page, until the limit; the broker filters on --since.
            let mut items: Vec<Value> = Vec::new();
            let mut cursor: Option<String> = None;
            'pages: loop {
                let v = c.send(
                    Call::get(routes::WORKFLOWS)
                        .query("state", (!state.is_empty()).then(|| state.join(",")))
                        .query("definition", definition.as_deref())
                        .query("request", request.as_deref())
                        .query("tenant", tenant.as_deref())
                        .query("created_after", after.map(|a| a.to_rfc3339()))
                        .query("cursor", cursor.as_deref())
                        .query("limit", Some(limit.clamp(1, 500))),
                )?;
                for w in items_of(&v) {
                    if let Some(a) = after
                        && instant(w.get("created_at")).is_some_and(|t| t < a)
                    {
                        break 'pages;
                    }
                    items.push(w);
                    if items.len() >= limit as usize {
                        break 'pages;
                    }
                }
                cursor = v
                    .get("next_cursor")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                if cursor.is_none() {
                    break;
                }
            }
            match session.format(output) {
                Format::Table => print!("{}", workflows_table(&items)),
                f => print_value(&Value::Array(items), f)?,
            }
        }
        WorkflowsCommand::Show { id, output } => {
            let v = c
                .get(&routes::workflow(&id))
                .map_err(|e| e.hint_on("not-found", routes::not_found_hint("workflow", &id)))?;
            match session.format(output) {
                Format::Table => print!("{}", timeline(&v)),
                f => print_value(&v, f)?,
            }
        }
        WorkflowsCommand::Retry {
            id,
            from_step,
            reset_attempts,
            output,
        } => {
            let from = match &from_step {
                Some(step) => Some(step_name(&session, &id, step)?),
                None => None,
            };
            let body = json!({ "reset_attempts": reset_attempts, "from_step": from });
            return action(&session, &id, "retry", Some(&body), output);
        }
        WorkflowsCommand::Cancel { id, output } => {
            return action(&session, &id, "cancel", None, output);
        }
        WorkflowsCommand::Compensate { id, output } => {
            return action(&session, &id, "compensate", None, output);
        }
        WorkflowsCommand::Resume { id, output } => {
            return action(&session, &id, "resume", None, output);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `--from-step`: a position (as `workflows show` numbers the steps) or a name, turned into
/// the step's name for the broker, which checks that it is not after the failed step.
fn step_name(session: &Session, id: &str, step: &str) -> anyhow::Result<String> {
    let t = session
        .client
        .get(&routes::workflow(id))
        .map_err(|e| e.hint_on("not-found", routes::not_found_hint("workflow", id)))?;
    let steps = at(&t, "steps").as_array().cloned().unwrap_or_default();
    let found = match step.parse::<usize>() {
        Ok(n) => steps.get(n),
        Err(_) => steps.iter().find(|st| s(st, "name") == step),
    };
    match found {
        Some(st) => Ok(s(st, "name")),
        None => Err(Exit {
            code: crate::exit::USAGE,
            message: format!(
                "--from-step {step}: workflow {id} has no such step (it has {} steps, numbered from 0); see `nuage workflows show {id}`",
                steps.len()
            ),
        }
        .into()),
    }
}

fn action(
    session: &Session,
    id: &str,
    name: &str,
    body: Option<&Value>,
    output: Option<Format>,
) -> anyhow::Result<ExitCode> {
    let path = routes::workflow_action(id, name);
    let mut call = Call::post(&path);
    let empty = json!({});
    call = call.json(body.unwrap_or(&empty));
    let v = session.client.send(call).map_err(|e| {
        e.hint_on("not-found", routes::not_found_hint("workflow", id))
            .hint_on(
                "conflict",
                format!(
                    "the run's state does not allow {name}; see it with `nuage workflows show {id}`"
                ),
            )
    })?;
    match session.format(output) {
        Format::Table => {
            // the answer is the run (or its timeline); fall back to reading it
            let run = if at(&v, "workflow").is_object() {
                at(&v, "workflow").clone()
            } else if v.get("state").is_some() {
                v
            } else {
                let t = session.client.get(&routes::workflow(id))?;
                at(&t, "workflow").clone()
            };
            println!(
                "workflow {id}: {name} accepted, now {}",
                style::paint(&s(&run, "state"), style::tone(&s(&run, "state")))
            );
        }
        f => print_value(&v, f)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The request a run belongs to, from its labels.
fn request_of(w: &Value) -> String {
    let labels = at(w, "labels");
    ["request", "request_id", "nuage.request"]
        .iter()
        .map(|k| s(labels, k))
        .find(|x| !x.is_empty())
        .unwrap_or_default()
}

fn workflows_table(items: &[Value]) -> String {
    let now = Utc::now();
    let rows = items
        .iter()
        .map(|w| {
            let w = if at(w, "workflow").is_object() {
                at(w, "workflow")
            } else {
                w
            };
            let err: String = s(w, "error").chars().take(60).collect();
            vec![
                Col::plain(s(w, "id")),
                Col::plain(s(w, "definition")),
                Col::state(s(w, "state")),
                Col::plain(s(w, "phase")),
                Col::plain(request_of(w)),
                Col::plain(
                    instant(w.get("created_at"))
                        .map(|t| age(t, now))
                        .unwrap_or_default(),
                ),
                Col::plain(err),
            ]
        })
        .collect();
    table::render(
        &[
            "ID",
            "DEFINITION",
            "STATE",
            "PHASE",
            "REQUEST",
            "AGE",
            "ERROR",
        ],
        rows,
    )
}

fn ms_time(v: Option<&Value>) -> String {
    instant(v)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// A run's timeline for a person.
pub(crate) fn timeline(t: &Value) -> String {
    let w = at(t, "workflow");
    let now = Utc::now();
    let l = at(w, "lease");
    let lease = if l.get("epoch").is_none() {
        String::new()
    } else if s(l, "owner").is_empty() {
        format!("none (epoch {})", s(l, "epoch"))
    } else {
        let left = instant(l.get("expires_at"))
            .map(|e| {
                if e > now {
                    format!("expires in {}", human(e - now))
                } else {
                    format!("expired {} ago", human(now - e))
                }
            })
            .unwrap_or_default();
        format!("{} epoch {} {left}", s(l, "owner"), s(l, "epoch"))
    };
    let mut out = table::details(&[
        ("ID", s(w, "id")),
        (
            "Definition",
            format!("{} v{}", s(w, "definition"), s(w, "version")),
        ),
        (
            "State",
            format!(
                "{} ({} phase{})",
                style::paint(&s(w, "state"), style::tone(&s(w, "state"))),
                s(w, "phase"),
                if at(w, "cancel_requested").as_bool() == Some(true) {
                    ", cancel requested"
                } else {
                    ""
                }
            ),
        ),
        ("Request", request_of(w)),
        ("On failure", s(w, "on_failure")),
        ("Created", ms_time(w.get("created_at"))),
        ("Updated", ms_time(w.get("updated_at"))),
        ("Finished", ms_time(w.get("finished_at"))),
        ("Next run", ms_time(w.get("next_run_at"))),
        ("Deadline", ms_time(w.get("deadline_at"))),
        ("Lease", lease),
        ("Error", style::paint(&s(w, "error"), Tone::Bad)),
    ]);
    out.push('\n');
    let steps = at(t, "steps").as_array().cloned().unwrap_or_default();
    let mut rows = Vec::new();
    for (pos, st) in steps.iter().enumerate() {
        let finished = matches!(
            s(st, "state").as_str(),
            "succeeded" | "failed" | "compensated" | "compensation_failed"
        );
        let dur = match step_times(st) {
            (Some(a), Some(b)) if finished => human(b - a),
            (Some(a), _) if !finished => format!("{} so far", human(now - a)),
            _ => String::new(),
        };
        let attempts = match st.get("compensation_attempts").and_then(Value::as_u64) {
            Some(n) if n > 0 => format!("{}+{n}c", s(st, "attempts")),
            _ => s(st, "attempts"),
        };
        let err: String = s(st, "error").chars().take(80).collect();
        rows.push(vec![
            Col::plain(pos.to_string()),
            Col::plain(s(st, "name")),
            Col::plain(s(st, "kind")),
            Col::state(s(st, "state")),
            Col::plain(attempts),
            Col::plain(dur),
            Col::plain(err),
        ]);
        for a in at(st, "attempt_log").as_array().into_iter().flatten() {
            let outcome = if s(a, "outcome").is_empty() {
                "running".to_owned()
            } else {
                s(a, "outcome")
            };
            let kind = s(a, "error_kind");
            let detail: String = s(a, "error").chars().take(80).collect();
            let epoch = if s(a, "epoch").is_empty() {
                String::new()
            } else {
                format!(" epoch {}", s(a, "epoch"))
            };
            rows.push(vec![
                Col::plain(""),
                Col::plain(format!(
                    "  {} #{}{epoch}",
                    if s(a, "phase") == "forward" || s(a, "phase").is_empty() {
                        "attempt"
                    } else {
                        "compensation"
                    },
                    s(a, "attempt"),
                )),
                Col::plain(
                    instant(a.get("started_at"))
                        .map(|t| t.format("%H:%M:%S%.3f").to_string())
                        .unwrap_or_default(),
                ),
                Col::state(outcome),
                Col::plain(""),
                Col::plain(
                    a.get("duration_ms")
                        .and_then(Value::as_i64)
                        .map(|ms| human(chrono::Duration::milliseconds(ms)))
                        .unwrap_or_default(),
                ),
                Col::plain(if kind.is_empty() {
                    detail
                } else {
                    format!("{kind}: {detail}")
                }),
            ]);
        }
    }
    out.push_str(&table::render(
        &[
            "#", "STEP", "KIND", "STATE", "ATTEMPTS", "DURATION", "ERROR",
        ],
        rows,
    ));
    let events = at(t, "events").as_array().cloned().unwrap_or_default();
    if !events.is_empty() {
        out.push_str("\nEvents\n");
        for e in events.iter().rev().take(20).rev() {
            let _ = writeln!(
                out,
                "  {}  {}{}{}",
                ms_time(e.get("at")),
                s(e, "kind"),
                if s(e, "step").is_empty() {
                    String::new()
                } else {
                    format!(" {}", s(e, "step"))
                },
                if s(e, "actor").is_empty() {
                    String::new()
                } else {
                    format!(" by {}", s(e, "actor"))
                }
            );
        }
        if events.len() > 20 {
            let _ = writeln!(
                out,
                "  ({} earlier events: -o json shows all)",
                events.len() - 20
            );
        }
    }
    out
}
