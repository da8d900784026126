//! Drives one claimed run while its lease holds: forward through its steps,
//! or backward through compensations, writing every transition in a
//! transaction fenced by the lease epoch.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::Shared;
use crate::context::StepContext;
use crate::definition::{BoxFuture, StepKind, WorkflowDefinition};
use crate::error::{Error, Result};
use crate::failure::{ErrorKind, StepError};
use crate::state::{OnFailure, Phase, StepState, WorkflowState};
use crate::store::limits::{acquire as limits_acquire, record_failure, success_stmt};
use crate::store::run::sql::{self, Stmt};
use crate::store::run::{Fenced, Lease};
use crate::store::{StepRow, now_ms};

enum Flow {
    Continue,
    Stop,
}

enum Exec<T> {
    Done(Result<T, StepError>),
    TimedOut(Duration),
    DeadlineExceeded,
    LeaseLost,
}

/// Runs a claimed lease to its end (terminal state, parked, or lost).
pub(crate) async fn run_lease(
    shared: Arc<Shared>,
    lease: Lease,
    lost: CancellationToken,
    cancel: CancellationToken,
) {
    let id = lease.id;
    match Runner::load(shared.clone(), lease.clone(), lost.clone(), cancel).await {
        Ok(mut r) => {
            if let Err(e) = r.drive().await
                && !matches!(e, Error::StaleEpoch { .. })
            {
                tracing::warn!(workflow = %id, error = %e, "run interrupted by a store error; handing the lease back");
                let _ = shared.store.release(&lease, now_ms() + 1_000).await;
            }
        }
        Err(e) => {
            tracing::warn!(workflow = %id, error = %e, "cannot load claimed run");
            let _ = shared.store.release(&lease, now_ms() + 5_000).await;
        }
    }
}

struct Runner {
    shared: Arc<Shared>,
    lease: Lease,
    def: Arc<WorkflowDefinition>,
    state: WorkflowState,
    cancel_requested: bool,
    deadline: Option<i64>,
    steps: Vec<StepRow>,
    input: Arc<Value>,
    outputs: Arc<HashMap<String, Value>>,
    buffered: Vec<Stmt>,
    fresh: bool,
    lost: CancellationToken,
    cancel: CancellationToken,
}

impl Runner {
    async fn load(
        shared: Arc<Shared>,
        lease: Lease,
        lost: CancellationToken,
        cancel: CancellationToken,
    ) -> Result<Self> {
        let (wf, steps) = shared.store.load_run(lease.id).await?;
        let key = crate::definition::def_key(&wf.definition, wf.version as u32);
        let def = shared
            .defs
            .get(&key)
            .cloned()
            .ok_or(Error::UnknownDefinition {
                name: wf.definition.clone(),
                version: Some(wf.version as u32),
            })?;
        let mut outputs = HashMap::new();
        for s in &steps {
            if let (Some(o), true) = (&s.output, s.state == "succeeded") {
                outputs.insert(s.name.clone(), serde_json::from_str(o)?);
            }
        }
        Ok(Self {
            def,
            state: wf.state.parse()?,
            cancel_requested: wf.cancel_requested != 0,
            deadline: wf.deadline_at,
            input: Arc::new(serde_json::from_str(&wf.input)?),
            outputs: Arc::new(outputs),
            steps,
            buffered: Vec::new(),
            fresh: true,
            shared,
            lease,
            lost,
            cancel,
        })
    }

    fn actor(&self) -> String {
        format!("worker:{}", self.lease.owner)
    }

    async fn drive(&mut self) -> Result<()> {
        loop {
            if self.lost.is_cancelled() {
                return Ok(());
            }
            if self.shared.shutdown.is_cancelled() {
                let now = now_ms();
                return self
                    .commit(vec![sql::park(self.lease.id, now)])
                    .await
                    .map(|_| ());
            }
            let flow = match self.state {
                WorkflowState::Pending | WorkflowState::Running => self.forward().await?,
                WorkflowState::Cancelling | WorkflowState::Compensating => self.backward().await?,
                _ => {
                    let now = now_ms();
                    self.commit(vec![sql::finish_run(
                        self.lease.id,
                        self.state.as_str(),
                        None,
                        now,
                    )])
                    .await?;
                    Flow::Stop
                }
            };
            if let Flow::Stop = flow {
                return Ok(());
            }
        }
    }

    /// Opens a fenced transaction and flushes buffered statements into it.
    async fn fenced(&mut self) -> Result<Fenced> {
        let mut f = match self.shared.store.fenced(&self.lease, now_ms()).await {
            Ok(f) => f,
            Err(e) => {
                if matches!(e, Error::StaleEpoch { .. }) {
                    self.lost.cancel();
                }
                return Err(e);
            }
        };
        if self.fresh {
            let (q, a) = sql::abandon_open_attempts(self.lease.id, now_ms());
            f.tx.execute(q, a).await?;
            self.fresh = false;
        }
        for (q, a) in self.buffered.drain(..) {
            f.tx.execute(q, a).await?;
        }
        if f.cancel_requested {
            self.cancel_requested = true;
        }
        Ok(f)
    }

    async fn commit(&mut self, stmts: Vec<Stmt>) -> Result<bool> {
        let mut f = self.fenced().await?;
        for (q, a) in stmts {
            f.tx.execute(q, a).await?;
        }
        f.tx.commit().await?;
        Ok(f.cancel_requested)
    }

    fn event(&self, now: i64, kind: &str, step: Option<&str>, detail: Option<Value>) -> Stmt {
        sql::event(self.lease.id, now, kind, step, &self.actor(), detail)
    }

    fn kind_of(&self, idx: usize) -> Option<StepKind> {
        self.def.step_kind(&self.steps[idx].kind).cloned()
    }

    // ---------------------------------------------------------------- forward

    async fn forward(&mut self) -> Result<Flow> {
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

    // --------------------------------------------------------------- backward

    async fn backward(&mut self) -> Result<Flow> {
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
            .execute(fut, kind.attempt_timeout(), None, &token)
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

    // ---------------------------------------------------------------- helpers

    fn context(
        &self,
        idx: usize,
        phase: Phase,
        attempt: i64,
        token: CancellationToken,
    ) -> StepContext {
        let s = &self.steps[idx];
        let checkpoint = s
            .checkpoint
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok());
        StepContext::new(
            self.shared.store.clone(),
            self.lease.clone(),
            s.name.clone(),
            phase,
            attempt as u32,
            self.input.clone(),
            self.outputs.clone(),
            checkpoint,
            token,
        )
    }

    /// Runs a handler future: catches panics (terminal), applies the attempt
    /// timeout and the run deadline (both drop the future), and abandons it if
    /// the lease is lost.
    async fn execute<T>(
        &self,
        fut: BoxFuture<Result<T, StepError>>,
        timeout: Option<Duration>,
        deadline: Option<i64>,
        token: &CancellationToken,
    ) -> Exec<T> {
        let guarded = AssertUnwindSafe(fut).catch_unwind();
        let timed = async {
            match timeout {
                Some(t) => tokio::time::timeout(t, guarded).await.map_err(|_| t),
                None => Ok(guarded.await),
            }
        };
        let until_deadline = async {
            match deadline {
                Some(d) => {
                    let left = (d - now_ms()).max(0) as u64;
                    tokio::time::sleep(Duration::from_millis(left)).await;
                    token.cancel();
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            biased;
            _ = self.lost.cancelled() => Exec::LeaseLost,
            r = timed => match r {
                Err(t) => Exec::TimedOut(t),
                Ok(Ok(v)) => Exec::Done(v),
                Ok(Err(panic)) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "non-string panic payload".into());
                    Exec::Done(Err(StepError::terminal(format!("handler panicked: {what}"))))
                }
            },
            _ = until_deadline => Exec::DeadlineExceeded,
        }
    }
}
