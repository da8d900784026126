//! Backward: compensations in reverse order, after a failure or a cancel.

use serde_json::{Value, json};

use super::{Exec, Flow, Runner};
use crate::error::Result;
use crate::failure::{ErrorKind, StepError};
use crate::state::{Phase, StepState, WorkflowState};
use crate::store::now_ms;
use crate::store::run::sql;

impl Runner {
    pub(super) async fn backward(&mut self) -> Result<Flow> {
        let now = now_ms();
        let id = self.lease.id;
        let todo = self
            .steps
            .iter()
            .rposition(|s| s.attempts > 0 && s.state != StepState::Compensated.as_str());
        let Some(idx) = todo else {
            let end = if self.cancel_requested {
                "cancelled"
            } else {
                "compensated"
            };
            let ev = self.event(now, end, None, None);
            self.commit(vec![sql::finish_run(id, end, None, now), ev])
                .await?;
            self.state = end.parse()?;
            return Ok(Flow::Stop);
        };
        let name = self.steps[idx].name.clone();
        let kind = match self.kind_of(idx) {
            Some(k) if k.has_compensation() => k,
            _ => {
                self.buffered
                    .push(sql::set_step(id, &name, "compensated", None, now));
                self.buffered.push(self.event(
                    now,
                    "step_compensated",
                    Some(&name),
                    Some(json!({ "handler": false })),
                ));
                self.steps[idx].state = StepState::Compensated.as_str().into();
                return Ok(Flow::Continue);
            }
        };
        let policy = kind.retry_policy();
        let used = self.steps[idx].comp_attempts as u32;
        if used >= policy.max_attempts {
            return self
                .compensation_failed(
                    idx,
                    "out of attempts (the last attempt was interrupted)".into(),
                )
                .await;
        }
        let attempt = self.steps[idx].comp_attempts + 1;
        let stmts = sql::begin_attempt(id, &name, Phase::Compensate, attempt, &self.lease, now);
        self.commit(stmts).await?;
        self.steps[idx].state = StepState::Compensating.as_str().into();
        self.steps[idx].comp_attempts = attempt;

        let token = self.lost.child_token();
        let ctx = self.context(idx, Phase::Compensate, attempt, token.clone());
        let params: Value = serde_json::from_str(&self.steps[idx].params)?;
        let output = self.outputs.get(&name).cloned();
        let Some(fut) = kind.run_compensation(ctx, params, output) else {
            return Ok(Flow::Continue);
        };
        let exec = self
            .execute(
                fut,
                self.span(idx, Phase::Compensate, attempt),
                kind.attempt_timeout(),
                None,
                &token,
            )
            .await;
        let now = now_ms();
        let (outcome, err) = match exec {
            Exec::LeaseLost => return Ok(Flow::Stop),
            Exec::Done(Ok(())) => {
                self.buffered.push(sql::finish_attempt(
                    id,
                    &name,
                    Phase::Compensate,
                    attempt,
                    now,
                    "succeeded",
                    None,
                ));
                self.buffered
                    .push(sql::set_step(id, &name, "compensated", None, now));
                self.buffered
                    .push(self.event(now, "step_compensated", Some(&name), None));
                self.steps[idx].state = StepState::Compensated.as_str().into();
                return Ok(Flow::Continue);
            }
            Exec::Done(Err(e)) => ("failed", e),
            Exec::TimedOut(t) => (
                "timed_out",
                StepError::transient(format!("attempt timed out after {t:?}")),
            ),
            Exec::DeadlineExceeded => ("timed_out", StepError::transient("deadline")),
        };
        let msg = err.message().to_string();
        let mut stmts = vec![sql::finish_attempt(
            id,
            &name,
            Phase::Compensate,
            attempt,
            now,
            outcome,
            Some((err.kind().as_str(), &msg)),
        )];
        if err.kind() == ErrorKind::Terminal || used + 1 >= policy.max_attempts {
            self.commit(stmts).await?;
            return self.compensation_failed(idx, msg).await;
        }
        let delay = policy.delay(used + 1, err.kind(), &mut rand::rng());
        let next = now + crate::store::ms(delay);
        stmts.push(sql::step_retry(id, &name, "compensating", &msg));
        stmts.push(sql::park(id, next));
        stmts.push(self.event(
            now,
            "retry_scheduled",
            Some(&name),
            Some(json!({ "attempt": attempt, "phase": "compensate", "delay_ms": crate::store::ms(delay), "error": msg })),
        ));
        self.commit(stmts).await?;
        Ok(Flow::Stop)
    }

    async fn compensation_failed(&mut self, idx: usize, msg: String) -> Result<Flow> {
        let now = now_ms();
        let id = self.lease.id;
        let name = self.steps[idx].name.clone();
        let text = format!("compensation of step {name} failed: {msg}");
        let stmts = vec![
            sql::set_step(id, &name, "compensation_failed", Some(&msg), now),
            sql::finish_run(id, "failed", Some(&text), now),
            sql::set_run(id, "failed", Phase::Compensate, Some(&text)),
            self.event(
                now,
                "failed",
                Some(&name),
                Some(json!({ "error": text, "phase": "compensate" })),
            ),
        ];
        self.commit(stmts).await?;
        self.state = WorkflowState::Failed;
        Ok(Flow::Stop)
    }
}
