//! Following a request until it settles: polls the request (and its current run's timeline when
//! the token may read workflows), draws the live view on a terminal or prints one line per
//! change otherwise, and ends with success when the goal is reached, or with an error naming
//! the failing step.

mod live;
pub(crate) mod model;
mod plain;

use super::error::Error;
use super::http::Client;
use super::routes;
use chrono::Utc;
pub(crate) use model::{Goal, Outcome, Snapshot};
use serde_json::Value;
use std::io::Write;
use std::time::{Duration, Instant};

/// How to follow.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// What counts as success.
    pub(crate) goal: Goal,
    /// Between polls.
    pub(crate) interval: Duration,
    /// Give up after this long.
    pub(crate) timeout: Option<Duration>,
    /// Draw the live view (a terminal) rather than lines.
    pub(crate) live: bool,
}

/// Follows without printing anything (for `--wait -o json`): the outcome only.
pub(crate) fn wait_quietly(client: &Client, id: &str, opts: &Options) -> Result<Snapshot, Error> {
    run(client, id, opts, false)
}

/// Fetches one snapshot. `timeline` is cleared when the token may not read workflows, so the
/// request's resources stand for the steps from then on.
pub(crate) fn fetch(client: &Client, id: &str, timeline: &mut bool) -> Result<Snapshot, Error> {
    let request = client
        .get(&routes::request(id))
        .map_err(|e| e.hint_on("not-found", routes::not_found_hint("request", id)))?;
    let (_, run) = model::current_run(&request);
    let run_id = run.get("workflow_id").and_then(Value::as_str);
    let mut t = None;
    if *timeline && let Some(run_id) = run_id {
        match client.get(&routes::workflow(run_id)) {
            Ok(v) => t = Some(v),
            Err(e) if e.api().is_some_and(|a| matches!(a.status, 401 | 403 | 404)) => {
                *timeline = false;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Snapshot::read(&request, t.as_ref()))
}

/// Follows request `id` until it reaches the goal (`Ok`), settles elsewhere
/// ([`Error::Failed`]), or the timeout passes ([`Error::TimedOut`]).
pub(crate) fn follow(client: &Client, id: &str, opts: &Options) -> Result<Snapshot, Error> {
    run(client, id, opts, true)
}

fn run(client: &Client, id: &str, opts: &Options, print: bool) -> Result<Snapshot, Error> {
    let started = Instant::now();
    let mut timeline = true;
    let mut prev: Option<Snapshot> = None;
    let mut live: Option<live::Live> = None;
    let stdout = std::io::stdout();
    let result = loop {
        let snap = match fetch(client, id, &mut timeline) {
            Ok(s) => s,
            Err(e) => break Err(e),
        };
        let now = Utc::now();
        if !print {
        } else if opts.live {
            live.get_or_insert_with(|| live::Live::new(&snap.name))
                .update(&snap, now);
        } else {
            let mut out = stdout.lock();
            for line in plain::events(prev.as_ref(), &snap, now) {
                let _ = writeln!(out, "{line}");
            }
            let _ = out.flush();
        }
        match snap.outcome(opts.goal) {
            Outcome::Succeeded => break Ok(snap),
            Outcome::Failed => break Err(Error::Failed(snap.failure())),
            Outcome::Running => {}
        }
        if let Some(t) = opts.timeout
            && started.elapsed() >= t
        {
            break Err(Error::TimedOut(format!(
                "request {} ({}) is still {} after {}s; follow it with `nuage requests watch {}`",
                snap.name,
                snap.id,
                snap.state,
                t.as_secs(),
                snap.id
            )));
        }
        prev = Some(snap);
        std::thread::sleep(opts.interval);
    };
    if let Some(l) = live {
        l.finish();
    }
    if print && let Ok(s) = &result {
        let elapsed = s
            .started_at
            .map(|t| format!(" after {}", super::time::human(Utc::now() - t)))
            .unwrap_or_default();
        println!(
            "request {} ({}) {}{elapsed}: {}/{} steps{}",
            s.name,
            s.id,
            s.state,
            s.done,
            s.total,
            if s.simulated {
                " (simulated cloud)"
            } else {
                ""
            }
        );
    }
    result
}
