//! The watch on a terminal: an overall progress bar, then one line per step with a spinner while
//! it runs, a mark when it ends, attempts and elapsed times; redrawn in place.

use super::model::{Snapshot, StepView};
use crate::client::style::{self, Tone};
use crate::client::time::human;
use chrono::{DateTime, Utc};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::time::Duration;

/// The live view.
pub(crate) struct Live {
    multi: MultiProgress,
    header: ProgressBar,
    steps: Vec<(String, ProgressBar)>,
    run: Option<String>,
}

/// The text after a step's mark: name, state, attempts, elapsed, error.
pub(crate) fn step_text(st: &StepView, width: usize, now: DateTime<Utc>) -> String {
    let mut t = format!("{:<width$}  ", st.name);
    t.push_str(&style::paint(
        &format!("{:<12}", st.state),
        style::tone(&st.state),
    ));
    if let Some(e) = st.elapsed(now) {
        t.push_str(&format!(" {e:>7}"));
    }
    if st.attempts > 1 || (st.attempts == 1 && !st.is_finished() && st.state != "pending") {
        t.push_str(&style::dim(&format!("  attempt {}", st.attempts)));
    }
    if let Some(e) = &st.error
        && st.state != "succeeded"
    {
        let e: String = e.chars().take(100).collect();
        t.push_str(&format!("  {}", style::paint(&e, Tone::Bad)));
    }
    t
}

/// The mark before a finished step.
fn mark(state: &str) -> String {
    match state {
        "succeeded" | "compensated" => style::paint("✓", Tone::Good),
        "failed" | "compensation_failed" => style::paint("✗", Tone::Bad),
        _ => style::dim("·"),
    }
}

fn header_text(s: &Snapshot, now: DateTime<Utc>) -> String {
    let elapsed = s.started_at.map(|t| human(now - t)).unwrap_or_default();
    let run = if s.run_kind == "provisioning" {
        String::new()
    } else {
        style::dim(&format!(" ({} run)", s.run_kind))
    };
    format!(
        "{}{run}  {elapsed}",
        style::paint(&s.state, style::tone(&s.state)),
    )
}

impl Live {
    /// Starts drawing on standard output.
    pub(crate) fn new(title: &str) -> Live {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout_with_hz(10));
        let header = multi.add(ProgressBar::new(0));
        header.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30.green/white.dim}] {pos}/{len} steps  {wide_msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        header.set_prefix(style::bold(title));
        Live {
            multi,
            header,
            steps: Vec::new(),
            run: None,
        }
    }

    /// Draws a snapshot.
    pub(crate) fn update(&mut self, s: &Snapshot, now: DateTime<Utc>) {
        self.header.set_length(s.total as u64);
        self.header.set_position(s.done as u64);
        self.header.set_message(header_text(s, now));
        let names: Vec<&str> = s.steps.iter().map(|x| x.name.as_str()).collect();
        let current: Vec<&str> = self.steps.iter().map(|(n, _)| n.as_str()).collect();
        let run = Some(format!(
            "{}:{}",
            s.run_kind,
            s.run_id.clone().unwrap_or_default()
        ));
        if names != current || run != self.run {
            for (_, pb) in self.steps.drain(..) {
                self.multi.remove(&pb);
            }
            for n in &names {
                let pb = self.multi.add(ProgressBar::new_spinner());
                self.steps.push(((*n).to_owned(), pb));
            }
            self.run = run;
        }
        let width = names.iter().map(|n| n.len()).max().unwrap_or(0);
        for (st, (_, pb)) in s.steps.iter().zip(&self.steps) {
            let running = matches!(st.state.as_str(), "running" | "compensating");
            let template = if running {
                "  {spinner:.yellow} {wide_msg}".to_owned()
            } else {
                format!("  {} {{wide_msg}}", mark(&st.state))
            };
            pb.set_style(
                ProgressStyle::with_template(&template)
                    .expect("valid template")
                    .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
            );
            pb.set_message(step_text(st, width, now));
            if running {
                pb.enable_steady_tick(Duration::from_millis(100));
            } else {
                pb.disable_steady_tick();
                pb.tick();
            }
        }
        self.header.tick();
    }

    /// Stops redrawing, leaving the last frame on screen.
    pub(crate) fn finish(self) {
        for (_, pb) in &self.steps {
            pb.disable_steady_tick();
            pb.abandon();
        }
        self.header.abandon();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_line_has_state_elapsed_attempts_and_error() {
        let now = Utc::now();
        let st = StepView {
            name: "create:server:web-1".into(),
            state: "running".into(),
            attempts: 2,
            started_at: Some(now - chrono::Duration::milliseconds(4200)),
            finished_at: None,
            error: Some("throttled".into()),
        };
        let t = step_text(&st, 20, now);
        assert!(t.starts_with("create:server:web-1   running"), "{t:?}");
        assert!(
            t.contains("4.2s") && t.contains("attempt 2") && t.contains("throttled"),
            "{t:?}"
        );
        let done = StepView {
            state: "succeeded".into(),
            attempts: 1,
            finished_at: Some(now),
            error: None,
            ..st
        };
        let t = step_text(&done, 20, now);
        assert!(!t.contains("attempt"), "{t:?}");
    }
}
