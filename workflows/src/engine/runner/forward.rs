//! Forward: attempts of a run's steps, retries, failure handling.

use serde_json::{Value, json};

use super::{Exec, Flow, Runner};
use crate::definition::StepKind;
use crate::error::Result;
use crate::failure::{ErrorKind, StepError};
use crate::state::{OnFailure, Phase, StepState, WorkflowState};
use crate::store::limits::{acquire as limits_acquire, record_failure, success_stmt};
use crate::store::now_ms;
use crate::store::run::sql;
use std::sync::Arc;

impl Runner {
    pub(super) async fn forward(&mut self) -> Result<Flow> {
        let now = now_ms();
        if self.cancel_requested {
            return self.start_backward(WorkflowState::Cancelling, None).await;
        }
        if self.deadline.is_some_and(|d| now >= d) {
            return self.fail(None, "workflow deadline exceeded".into()).await;
        }
        let Some(idx) = self
            .steps
            .iter()
            .position(|s| s.state != StepState::Succeeded.as_str())
        else {
            let id = self.lease.id;
            let ev = self.event(now, "succeeded", None, None);
            self.commit(vec![sql::finish_run(id, "succeeded", None, now), ev])
                .await?;
            return Ok(Flow::Stop);
        };
        let Some(kind) = self.kind_of(idx) else {
            let msg = format!("step kind {:?} is not registered", self.steps[idx].kind);
            return self.fail(Some(idx), msg).await;
        };
        let policy = kind.retry_policy();
        let used = (self.steps[idx].attempts - self.steps[idx].retry_base) as u32;
        if used >= policy.max_attempts {
            return self
                .fail(
                    Some(idx),
                    "out of attempts (the last attempt was interrupted)".into(),
                )
                .await;
        }
        let attempt = self.steps[idx].attempts + 1;
        let name = self.steps[idx].name.clone();
        let limit_key = self.steps[idx].limit_key.clone();

        let mut f = self.fenced().await?;
        if self.cancel_requested {
            f.tx.commit().await?;
            return Ok(Flow::Continue);
        }
        if let Some(key) = &limit_key
            && let Some(d) = limits_acquire(&mut f.tx, key, &self.lease, now).await?
        {
            for (q, a) in [
                sql::park(self.lease.id, d.until),
                self.event(
                    now,
                    "deferred",
                    Some(&name),
                    Some(json!({ "reason": d.reason, "until": d.until, "key": key })),
                ),
            ] {
                f.tx.execute(q, a).await?;
            }
            f.tx.commit().await?;
            return Ok(Flow::Stop);
        }
        for (q, a) in sql::begin_attempt(
            self.lease.id,
            &name,
            Phase::Forward,
            attempt,
            &self.lease,
            now,
        ) {
            f.tx.execute(q, a).await?;
        }
        if self.state == WorkflowState::Pending {
            let (q, a) = sql::set_run(self.lease.id, "running", Phase::Forward, None);
            f.tx.execute(q, a).await?;
        }
        f.tx.commit().await?;
        self.state = WorkflowState::Running;
        self.steps[idx].state = StepState::Running.as_str().into();
        self.steps[idx].attempts = attempt;

        let token = self.cancel.child_token();
        let ctx = self.context(idx, Phase::Forward, attempt, token.clone());
        let params: Value = serde_json::from_str(&self.steps[idx].params)?;
        let exec = self
            .execute(
                kind.run(ctx, params),
                self.span(idx, Phase::Forward, attempt),
                kind.attempt_timeout(),
                self.deadline,
                &token,
            )
            .await;
        let now = now_ms();
        let (outcome, err) = match exec {
            Exec::LeaseLost => return Ok(Flow::Stop),
            Exec::Done(Ok(out)) => {
                let id = self.lease.id;
                self.buffered.push(sql::finish_attempt(
                    id,
                    &name,
                    Phase::Forward,
                    attempt,
                    now,
                    "succeeded",
                    None,
                ));
                self.buffered
                    .push(sql::step_succeeded(id, &name, out.to_string(), now));
                if let Some(key) = &limit_key {
                    self.buffered.push(sql::release_permits(id));
                    self.buffered.push(success_stmt(key));
                }
                self.steps[idx].state = StepState::Succeeded.as_str().into();
                Arc::make_mut(&mut self.outputs).insert(name, out);
                return Ok(Flow::Continue);
            }
            Exec::Done(Err(e)) => ("failed", e),
            Exec::TimedOut(t) => (
                "timed_out",
                StepError::transient(format!("attempt timed out after {t:?}")),
            ),
            Exec::DeadlineExceeded => (
                "timed_out",
                StepError::terminal("workflow deadline exceeded"),
            ),
        };
        self.attempt_failed(idx, attempt, used + 1, outcome, err, &kind)
            .await
    }

    async fn attempt_failed(
        &mut self,
        idx: usize,
        attempt: i64,
        used: u32,
        outcome: &str,
        err: StepError,
        kind: &StepKind,
    ) -> Result<Flow> {
        let now = now_ms();
        let id = self.lease.id;
        let name = self.steps[idx].name.clone();
        let limit_key = self.steps[idx].limit_key.clone();
        let msg = err.message().to_string();
        let mut f = self.fenced().await?;
        let mut stmts = vec![sql::finish_attempt(
            id,
            &name,
            Phase::Forward,
            attempt,
            now,
            outcome,
            Some((err.kind().as_str(), &msg)),
        )];
        if let Some(key) = &limit_key {
            stmts.push(sql::release_permits(id));
            if err.kind() != ErrorKind::Terminal
                && let Some(until) =
                    record_failure(&mut f.tx, key, self.shared.config.default_breaker, now).await?
            {
                stmts.push(self.event(
                    now,
                    "circuit_opened",
                    Some(&name),
                    Some(json!({ "key": key, "until": until })),
                ));
            }
        }
        let policy = kind.retry_policy();
        let exhausted = err.kind() == ErrorKind::Terminal || used >= policy.max_attempts;
        let delay = policy.delay(used, err.kind(), &mut rand::rng());
        let next = now + crate::store::ms(delay);
        let past_deadline = self.deadline.is_some_and(|d| next >= d);
        if exhausted || past_deadline {
            let msg = if exhausted {
                msg
            } else {
                format!("{msg} (no retry: it would pass the workflow deadline)")
            };
            for (q, a) in stmts {
                f.tx.execute(q, a).await?;
            }
            f.tx.commit().await?;
            return self.fail(Some(idx), msg).await;
        }
        if self.cancel_requested {
            stmts.push(sql::step_retry(id, &name, "pending", &msg));
            self.steps[idx].state = StepState::Pending.as_str().into();
            for (q, a) in stmts {
                f.tx.execute(q, a).await?;
            }
            f.tx.commit().await?;
            return Ok(Flow::Continue);
        }
        stmts.push(sql::step_retry(id, &name, "pending", &msg));
        stmts.push(sql::park(id, next));
        stmts.push(self.event(
            now,
            "retry_scheduled",
            Some(&name),
            Some(json!({ "attempt": attempt, "delay_ms": crate::store::ms(delay), "error": msg, "kind": err.kind().as_str() })),
        ));
        for (q, a) in stmts {
            f.tx.execute(q, a).await?;
        }
        f.tx.commit().await?;
        Ok(Flow::Stop)
    }

    /// The run failed forward (step `idx`, if any, is marked failed): per
    /// definition, compensate or wait for an operator; a pending cancel wins.
    async fn fail(&mut self, idx: Option<usize>, msg: String) -> Result<Flow> {
        let now = now_ms();
        let id = self.lease.id;
        let mut stmts = Vec::new();
        let step = idx.map(|i| self.steps[i].name.clone());
        if let Some(i) = idx {
            stmts.push(sql::set_step(
                id,
                &self.steps[i].name,
                "failed",
                Some(&msg),
                now,
            ));
            stmts.push(self.event(
                now,
                "step_failed",
                step.as_deref(),
                Some(json!({ "error": msg })),
            ));
            self.steps[i].state = StepState::Failed.as_str().into();
        }
        if self.cancel_requested {
            self.commit(stmts).await?;
            return self.start_backward(WorkflowState::Cancelling, None).await;
        }
        match self.def.failure_policy() {
            OnFailure::Compensate => {
                stmts.push(self.event(
                    now,
                    "failed",
                    step.as_deref(),
                    Some(json!({ "error": msg, "then": "compensate" })),
                ));
                self.commit(stmts).await?;
                self.start_backward(WorkflowState::Compensating, Some(msg))
                    .await
            }
            OnFailure::WaitForOperator => {
                stmts.push(sql::finish_run(id, "failed", Some(&msg), now));
                stmts.push(sql::set_run(id, "failed", Phase::Forward, Some(&msg)));
                stmts.push(self.event(
                    now,
                    "failed",
                    step.as_deref(),
                    Some(json!({ "error": msg, "then": "operator" })),
                ));
                self.commit(stmts).await?;
                self.state = WorkflowState::Failed;
                Ok(Flow::Stop)
            }
        }
    }

    async fn start_backward(
        &mut self,
        state: WorkflowState,
        error: Option<String>,
    ) -> Result<Flow> {
        let now = now_ms();
        let id = self.lease.id;
        let kind = if state == WorkflowState::Cancelling {
            "cancelling"
        } else {
            "compensating"
        };
        let ev = self.event(now, kind, None, None);
        self.commit(vec![
            sql::set_run(id, state.as_str(), Phase::Compensate, error.as_deref()),
            ev,
        ])
        .await?;
        self.state = state;
        Ok(Flow::Continue)
    }
}
