//! `nuage sim`: the faults of the broker's simulated clouds (global admin), to rehearse a
//! failing cloud end to end: set a fault, watch a request fail, clear it, retry.

use super::requests::items_of;
use crate::args::Format;
use crate::client::http::Call;
use crate::client::session::print_value;
use crate::client::table::{self, Col, s};
use crate::client::{GlobalArgs, Session, routes};
use crate::exit::Exit;
use clap::Subcommand;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::ExitCode;

/// `nuage sim …`
#[derive(Debug, Subcommand)]
pub(crate) enum SimCommand {
    /// The simulated provider instances and the faults in force.
    List {
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Make a simulated instance fail: replaces its faults with those given.
    ///
    /// Either one rule from the flags (`--fail quota --on create --kind server --times 1`), or
    /// a file (`-f faults.yaml`: `{rates: {transient: 0.1}, rules: [{on: create, fail:
    /// quota}]}`).
    Fail {
        /// The simulated instance (see `nuage sim list`).
        instance: String,
        /// The error kind calls fail with: not_found, conflict, throttled, quota, capacity,
        /// auth, transient, terminal.
        #[arg(long, value_name = "KIND", conflicts_with = "file")]
        fail: Option<String>,
        /// Only this operation: observe, create, update, delete.
        #[arg(long, value_name = "OP", requires = "fail")]
        on: Option<String>,
        /// Only this kind of resource: network, subnet, security_group, volume, server,
        /// attachment.
        #[arg(long, value_name = "KIND", requires = "fail")]
        kind: Option<String>,
        /// Only the resource with this logical name (`web-1`).
        #[arg(long, value_name = "NAME", requires = "fail")]
        resource: Option<String>,
        /// Only the next N matching calls (every one until cleared when absent).
        #[arg(long, value_name = "N", requires = "fail")]
        times: Option<u32>,
        /// The faults as a YAML or JSON document; `-` reads standard input.
        #[arg(short = 'f', long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
    /// Clear a simulated instance's faults: it behaves again.
    Clear {
        /// The simulated instance.
        instance: String,
        /// Output format.
        #[arg(short = 'o', long, value_enum)]
        output: Option<Format>,
    },
}

pub(crate) fn run(cmd: SimCommand, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let session = Session::open(flags)?;
    let c = &session.client;
    let hint = |instance: &str| {
        format!("{instance} is not a simulated instance of this broker; see `nuage sim list`")
    };
    let (v, output) = match cmd {
        SimCommand::List { output } => {
            let v = c.get(routes::SIM)?;
            match session.format(output) {
                Format::Table => print!("{}", sim_table(&items_of(&v))),
                f => print_value(&v, f)?,
            }
            return Ok(ExitCode::SUCCESS);
        }
        SimCommand::Fail {
            instance,
            fail,
            on,
            kind,
            resource,
            times,
            file,
            output,
        } => {
            let body = match (fail, file) {
                (Some(fail), None) => json!({"rules": [{
                    "fail": fail, "on": on, "kind": kind, "resource": resource, "times": times,
                }]}),
                (None, Some(file)) => super::remote::read_document(&file)?,
                _ => {
                    return Err(Exit::invalid(
                        "say how the instance fails: --fail KIND (with --on, --kind, --resource, --times) or -f FILE",
                    )
                    .into());
                }
            };
            let body = strip_nulls(body);
            let v = c
                .send(Call::put(&routes::sim_faults(&instance)).json(&body))
                .map_err(|e| e.hint_on("not-found", hint(&instance)))?;
            (v, output)
        }
        SimCommand::Clear { instance, output } => {
            let v = c
                .send(Call::delete(&routes::sim_faults(&instance)))
                .map_err(|e| e.hint_on("not-found", hint(&instance)))?;
            (v, output)
        }
    };
    match session.format(output) {
        Format::Table => print!("{}", sim_table(std::slice::from_ref(&v))),
        f => print_value(&v, f)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// Rules built from absent flags carry no `null` matchers.
fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k, strip_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// One rule for a person: `create server web-1 → quota (1 left)`.
fn rule_text(r: &Value) -> String {
    let mut scope: Vec<String> = ["on", "kind", "resource"]
        .iter()
        .map(|k| s(r, k))
        .filter(|x| !x.is_empty())
        .collect();
    if scope.is_empty() {
        scope.push("every call".into());
    }
    let effect = if !s(r, "fail").is_empty() {
        format!("fail {}", s(r, "fail"))
    } else if !s(r, "fail_after_effect").is_empty() {
        format!("fail {} after the effect", s(r, "fail_after_effect"))
    } else {
        format!("delay {} ms", s(r, "delay_ms"))
    };
    let times = match r.get("times").and_then(Value::as_u64) {
        Some(n) => format!(" ({n} left)"),
        None => String::new(),
    };
    format!("{} → {effect}{times}", scope.join(" "))
}

fn sim_table(items: &[Value]) -> String {
    let rows = items
        .iter()
        .map(|i| {
            let rates = i.get("rates").cloned().unwrap_or(Value::Null);
            let rate_text: Vec<String> = ["transient", "throttle", "lost_response"]
                .iter()
                .filter_map(|k| {
                    let p = rates.get(*k).and_then(Value::as_f64).unwrap_or(0.0);
                    (p > 0.0).then(|| format!("{k} {p}"))
                })
                .collect();
            let rules: Vec<String> = i
                .get("rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(rule_text)
                .collect();
            vec![
                Col::plain(s(i, "instance")),
                Col::plain(if rate_text.is_empty() {
                    "-".to_owned()
                } else {
                    rate_text.join(", ")
                }),
                Col::plain(if rules.is_empty() {
                    "-".to_owned()
                } else {
                    rules.join("; ")
                }),
                Col::plain(s(i, "injected")),
            ]
        })
        .collect();
    table::render(&["INSTANCE", "RATES", "RULES", "INJECTED"], rows)
}
