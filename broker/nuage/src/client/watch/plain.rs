//! The watch when standard output is not a terminal: one line per change, no escape codes.

use super::model::{Snapshot, StepView};
use chrono::{DateTime, SecondsFormat, Utc};

/// The lines describing what changed from `prev` (nothing seen yet when `None`) to `next`.
pub(crate) fn events(prev: Option<&Snapshot>, next: &Snapshot, now: DateTime<Utc>) -> Vec<String> {
    let ts = now.to_rfc3339_opts(SecondsFormat::Secs, true);
    let mut out = Vec::new();
    let run_changed = prev.is_none_or(|p| p.run_kind != next.run_kind || p.run_id != next.run_id);
    if prev.is_none_or(|p| p.state != next.state) || run_changed {
        let run = match (&next.run_id, &next.run_state) {
            (Some(id), Some(st)) => format!(", {} run {id} {st}", next.run_kind),
            _ => String::new(),
        };
        out.push(format!(
            "{ts} request {} ({}) {}{run}, {}/{} steps",
            next.name, next.id, next.state, next.done, next.total
        ));
    }
    for st in &next.steps {
        let before = if run_changed {
            None
        } else {
            prev.and_then(|p| p.steps.iter().find(|x| x.name == st.name))
        };
        if let Some(line) = step_event(before, st, now) {
            out.push(format!("{ts} {line}"));
        }
    }
    out
}

fn step_event(before: Option<&StepView>, st: &StepView, now: DateTime<Utc>) -> Option<String> {
    let changed = before.is_none_or(|b| b.state != st.state || b.attempts != st.attempts);
    if !changed || (before.is_none() && st.state == "pending") {
        return None;
    }
    let mut line = format!("step {} {}", st.name, st.state);
    match st.state.as_str() {
        "running" | "compensating" if st.attempts > 0 => {
            line.push_str(&format!(" (attempt {})", st.attempts));
            // a new attempt after a failed one: say why the last one failed
            if before.is_some_and(|b| b.attempts != st.attempts && b.attempts > 0)
                && let Some(e) = &st.error
            {
                line.push_str(&format!(", previous attempt failed: {e}"));
            }
        }
        "succeeded" | "compensated" => {
            if let Some(d) = st.elapsed(now) {
                line.push_str(&format!(" in {d}"));
            }
        }
        "failed" | "compensation_failed" => {
            if st.attempts > 0 {
                line.push_str(&format!(
                    " after {} attempt{}",
                    st.attempts,
                    if st.attempts == 1 { "" } else { "s" }
                ));
            }
            if let Some(e) = &st.error {
                line.push_str(&format!(": {e}"));
            }
        }
        _ => {}
    }
    Some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, state: &str, attempts: u32, error: Option<&str>) -> StepView {
        StepView {
            name: name.into(),
            state: state.into(),
            attempts,
            started_at: None,
            finished_at: None,
            error: error.map(Into::into),
        }
    }

    fn snap(state: &str, steps: Vec<StepView>) -> Snapshot {
        Snapshot {
            id: "r1".into(),
            name: "web".into(),
            state: state.into(),
            run_kind: "provisioning",
            run_id: Some("w1".into()),
            run_state: Some("running".into()),
            started_at: None,
            done: steps.iter().filter(|s| s.state == "succeeded").count(),
            total: steps.len(),
            steps,
            error: None,
            simulated: true,
        }
    }

    #[test]
    fn one_line_per_change_and_nothing_when_nothing_changes() {
        let now = Utc::now();
        let a = snap(
            "provisioning",
            vec![
                step("net", "running", 1, None),
                step("srv", "pending", 0, None),
            ],
        );
        let first = events(None, &a, now);
        assert_eq!(first.len(), 2, "{first:?}");
        assert!(
            first[0]
                .ends_with("request web (r1) provisioning, provisioning run w1 running, 0/2 steps")
        );
        assert!(first[1].ends_with("step net running (attempt 1)"));
        assert!(events(Some(&a), &a, now).is_empty());

        let b = snap(
            "provisioning",
            vec![
                step("net", "succeeded", 1, None),
                step("srv", "running", 2, Some("throttled")),
            ],
        );
        let lines = events(Some(&a), &b, now);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].ends_with("step net succeeded"));
        assert!(lines[1].ends_with("step srv running (attempt 2)"));

        let c = snap(
            "failed",
            vec![
                step("net", "succeeded", 1, None),
                step("srv", "failed", 3, Some("capacity")),
            ],
        );
        let lines = events(Some(&b), &c, now);
        assert!(lines[0].contains("request web (r1) failed"), "{lines:?}");
        assert!(lines[1].ends_with("step srv failed after 3 attempts: capacity"));
        assert!(lines.iter().all(|l| !l.contains('\u{1b}')));
    }
}
