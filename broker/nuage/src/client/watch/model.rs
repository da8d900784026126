//! What the watch shows: a snapshot of a request and the steps of its current run, read from the
//! API's JSON (the request view, and the run's timeline when the token may read it).

use crate::client::table::{at, s};
use crate::client::time::{human, instant};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What is being waited for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    /// The request becomes ready.
    Ready,
    /// The request is deleted.
    Deleted,
}

/// Where the followed request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Not settled yet.
    Running,
    /// Reached the goal.
    Succeeded,
    /// Settled elsewhere: failed, rolled back, cancelled...
    Failed,
}

/// One step of the run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepView {
    /// Its name (`create:network:default`).
    pub(crate) name: String,
    /// `pending`, `running`, `succeeded`, `failed`, `compensating`, `compensated`,
    /// `compensation_failed`.
    pub(crate) state: String,
    /// Attempts made (forward, or compensation while compensating).
    pub(crate) attempts: u32,
    /// First attempt's start.
    pub(crate) started_at: Option<DateTime<Utc>>,
    /// Success or final failure.
    pub(crate) finished_at: Option<DateTime<Utc>>,
    /// Last error.
    pub(crate) error: Option<String>,
}

impl StepView {
    /// How long it ran (until now while it runs); `None` before it starts.
    pub(crate) fn elapsed(&self, now: DateTime<Utc>) -> Option<String> {
        let start = self.started_at?;
        Some(human(self.finished_at.unwrap_or(now) - start))
    }

    /// Whether it is done, well or badly.
    pub(crate) fn is_finished(&self) -> bool {
        matches!(
            self.state.as_str(),
            "succeeded" | "failed" | "compensated" | "compensation_failed"
        )
    }
}

/// A request and its current run at one moment.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// The request's id.
    pub(crate) id: String,
    /// Its name.
    pub(crate) name: String,
    /// The request's state (`provisioning`, `ready`...).
    pub(crate) state: String,
    /// `provisioning` or `deprovisioning`: the run shown.
    pub(crate) run_kind: &'static str,
    /// The run's id.
    pub(crate) run_id: Option<String>,
    /// The run's state.
    pub(crate) run_state: Option<String>,
    /// When the run (or the request) started.
    pub(crate) started_at: Option<DateTime<Utc>>,
    /// Steps done.
    pub(crate) done: usize,
    /// Steps in all.
    pub(crate) total: usize,
    /// The steps, when known (the timeline, or the request's resources).
    pub(crate) steps: Vec<StepView>,
    /// The run's last error.
    pub(crate) error: Option<String>,
    /// Whether the request runs on a simulated cloud (nothing real is made).
    pub(crate) simulated: bool,
}

/// The run a snapshot follows: the deprovisioning run once there is one, else provisioning.
pub(crate) fn current_run(request: &Value) -> (&'static str, &Value) {
    let de = at(request, "deprovisioning");
    if de.is_object() {
        ("deprovisioning", de)
    } else {
        ("provisioning", at(request, "provisioning"))
    }
}

impl Snapshot {
    /// Reads a request view, and the timeline of its current run if one was fetched.
    pub(crate) fn read(request: &Value, timeline: Option<&Value>) -> Snapshot {
        let (run_kind, run) = current_run(request);
        let steps = match timeline {
            Some(t) => steps_of_timeline(t),
            None => steps_of_resources(request, run_kind),
        };
        let total = run
            .get("steps_total")
            .and_then(Value::as_u64)
            .map_or(steps.len(), |n| n as usize);
        let done = run.get("steps_done").and_then(Value::as_u64).map_or_else(
            || steps.iter().filter(|s| s.state == "succeeded").count(),
            |n| n as usize,
        );
        let started_at = timeline
            .and_then(|t| instant(at(t, "workflow").get("created_at")))
            .or_else(|| instant(request.get("created_at")));
        let run_error = Some(s(run, "error")).filter(|e| !e.is_empty());
        Snapshot {
            id: s(request, "id"),
            name: s(request, "name"),
            state: s(request, "state"),
            run_kind,
            run_id: Some(s(run, "workflow_id")).filter(|x| !x.is_empty()),
            run_state: Some(s(run, "state")).filter(|x| !x.is_empty()),
            started_at,
            done,
            total,
            steps,
            error: run_error,
            simulated: at(request, "simulated").as_bool() == Some(true),
        }
    }

    /// Where the request stands against the goal.
    pub(crate) fn outcome(&self, goal: Goal) -> Outcome {
        match (goal, self.state.as_str()) {
            (Goal::Ready, "ready") | (Goal::Deleted, "deleted") => Outcome::Succeeded,
            (Goal::Ready, "failed" | "rolled_back" | "cancelled" | "deleted" | "delete_failed")
            | (Goal::Deleted, "delete_failed") => Outcome::Failed,
            _ => Outcome::Running,
        }
    }

    /// The step that failed, if one did.
    pub(crate) fn failed_step(&self) -> Option<&StepView> {
        self.steps
            .iter()
            .find(|s| s.state == "failed" || s.state == "compensation_failed")
    }

    /// One sentence on why the request failed: the failing step, its attempts and error.
    pub(crate) fn failure(&self) -> String {
        let mut msg = format!("request {} ({}) {}", self.name, self.id, self.state);
        match self.failed_step() {
            Some(st) => {
                msg.push_str(&format!(": step {} failed", st.name));
                if st.attempts > 0 {
                    msg.push_str(&format!(
                        " after {} attempt{}",
                        st.attempts,
                        if st.attempts == 1 { "" } else { "s" }
                    ));
                }
                if let Some(e) = st.error.as_deref().or(self.error.as_deref()) {
                    msg.push_str(&format!(": {e}"));
                }
            }
            None => {
                if let Some(e) = &self.error {
                    msg.push_str(&format!(": {e}"));
                }
            }
        }
        msg
    }
}

fn steps_of_timeline(t: &Value) -> Vec<StepView> {
    at(t, "steps")
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| {
            let state = s(st, "state");
            let compensating = matches!(
                state.as_str(),
                "compensating" | "compensated" | "compensation_failed"
            );
            let attempts = if compensating {
                st.get("compensation_attempts")
            } else {
                st.get("attempts")
            }
            .and_then(Value::as_u64)
            .unwrap_or(0) as u32;
            let (started_at, finished_at) = step_times(st);
            let mut v = StepView {
                name: s(st, "name"),
                state,
                attempts,
                started_at,
                finished_at,
                error: Some(s(st, "error")).filter(|e| !e.is_empty()),
            };
            if !v.is_finished() {
                v.finished_at = None;
            }
            v
        })
        .collect()
}

/// When a step's current (or last) attempt started and ended: a step retried after waiting
/// for an operator shows the time of the attempt that counts, not the wait. Without attempts,
/// the step's own `started_at`/`finished_at` when the API gives them.
pub(crate) fn step_times(st: &Value) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let Some(last) = at(st, "attempt_log").as_array().and_then(|a| a.last()) else {
        return (
            instant(st.get("started_at")),
            instant(st.get("finished_at")),
        );
    };
    let start = instant(last.get("started_at"));
    let end = start
        .zip(last.get("duration_ms").and_then(Value::as_i64))
        .map(|(s, ms)| s + chrono::Duration::milliseconds(ms));
    (start, end)
}

/// Without the timeline: one step per resource, its state from the resource's status.
fn steps_of_resources(request: &Value, run_kind: &str) -> Vec<StepView> {
    at(request, "resources")
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let status = s(r, "status");
            let state = match (run_kind, status.as_str()) {
                (_, "pending") => "pending",
                (_, "creating" | "deleting") => "running",
                ("provisioning", "ready") | ("deprovisioning", "deleted") => "succeeded",
                ("deprovisioning", "ready") => "pending",
                (_, "failed") => "failed",
                (_, "deleted") => "compensated",
                _ => "pending",
            };
            StepView {
                name: if run_kind == "deprovisioning" {
                    format!("delete:{}", s(r, "name"))
                } else {
                    s(r, "step")
                },
                state: state.to_owned(),
                attempts: 0,
                started_at: None,
                finished_at: None,
                error: Some(s(r, "error")).filter(|e| !e.is_empty()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(state: &str) -> Value {
        json!({
            "id": "r1", "name": "web", "state": state, "created_at": "2026-01-01T00:00:00Z",
            "provisioning": {"workflow_id": "w1", "state": "failed", "steps_total": 3,
                "steps_done": 1, "error": "run error"},
            "resources": [
                {"name": "default", "step": "create:network:default", "status": "ready"},
                {"name": "web-1", "step": "create:server:web-1", "status": "failed", "error": "quota"}
            ]
        })
    }

    #[test]
    fn the_timeline_gives_steps_attempts_and_times() {
        let t = json!({"workflow": {"created_at": "2026-01-01T00:00:00Z"}, "steps": [
            {"name": "a", "state": "succeeded", "attempts": 1, "attempt_log": [
                {"phase": "forward", "attempt": 1, "started_at": "2026-01-01T00:00:00Z",
                 "duration_ms": 1500, "outcome": "succeeded"}]},
            {"name": "b", "state": "failed", "attempts": 3, "error": "capacity exhausted",
             "started_at": 1_767_225_601_500_i64, "finished_at": 1_767_225_605_000_i64},
            {"name": "c", "state": "compensating", "attempts": 1, "compensation_attempts": 2}
        ]});
        let s = Snapshot::read(&request("failed"), Some(&t));
        let retried = json!({"name": "x", "state": "running", "attempts": 2, "attempt_log": [
            {"attempt": 1, "started_at": "2026-01-01T00:00:00Z", "duration_ms": 100},
            {"attempt": 2, "started_at": "2026-01-01T01:00:00Z"}]});
        assert_eq!(
            step_times(&retried).0,
            instant(Some(&json!("2026-01-01T01:00:00Z"))),
            "the current attempt's start, not the first one's"
        );
        assert_eq!(step_times(&retried).1, None);
        assert_eq!(s.total, 3);
        assert_eq!(s.done, 1);
        assert_eq!(s.steps[0].elapsed(Utc::now()).unwrap(), "1.5s");
        assert_eq!(s.steps[2].attempts, 2);
        assert_eq!(s.outcome(Goal::Ready), Outcome::Failed);
        assert_eq!(s.outcome(Goal::Deleted), Outcome::Running);
        let f = s.failure();
        assert!(
            f.contains("step b failed after 3 attempts: capacity exhausted"),
            "{f}"
        );
    }

    #[test]
    fn without_the_timeline_resources_stand_for_steps() {
        let s = Snapshot::read(&request("provisioning"), None);
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[1].name, "create:server:web-1");
        assert_eq!(s.steps[1].state, "failed");
        assert_eq!(s.outcome(Goal::Ready), Outcome::Running);
        let mut r = request("deleting");
        r["deprovisioning"] =
            json!({"workflow_id": "w2", "state": "running", "steps_total": 2, "steps_done": 0});
        let s = Snapshot::read(&r, None);
        assert_eq!(s.run_kind, "deprovisioning");
        assert_eq!(s.steps[0].name, "delete:default");
        assert_eq!(s.steps[0].state, "pending");
        assert_eq!(s.run_id.as_deref(), Some("w2"));
        assert_eq!(
            Snapshot::read(&request("ready"), None).outcome(Goal::Ready),
            Outcome::Succeeded
        );
        assert_eq!(
            Snapshot::read(&request("deleted"), None).outcome(Goal::Deleted),
            Outcome::Succeeded
        );
    }
}
