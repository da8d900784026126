//! Drives one claimed run while its lease holds: forward through its steps
//! (`forward.rs`),
//! or backward through compensations (`backward.rs`), writing every transition in a
//! transaction fenced by the lease epoch.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

mod backward;
mod forward;

use super::Shared;
use crate::context::StepContext;
use crate::definition::{BoxFuture, StepKind, WorkflowDefinition};
use crate::error::{Error, Result};
use crate::failure::StepError;
use crate::state::{Phase, WorkflowState};
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

    /// The tracing span of one attempt.
    fn span(&self, idx: usize, phase: Phase, attempt: i64) -> tracing::Span {
        tracing::info_span!(
            "workflow_step",
            workflow = %self.lease.id,
            definition = self.def.name(),
            step = %self.steps[idx].name,
            phase = phase.as_str(),
            attempt,
            epoch = self.lease.epoch,
        )
    }

    fn kind_of(&self, idx: usize) -> Option<StepKind> {
        self.def.step_kind(&self.steps[idx].kind).cloned()
    }

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
        span: tracing::Span,
        timeout: Option<Duration>,
        deadline: Option<i64>,
        token: &CancellationToken,
    ) -> Exec<T> {
        let guarded = AssertUnwindSafe(fut.instrument(span)).catch_unwind();
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
