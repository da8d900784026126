//! What a step handler sees of its run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::failure::StepError;
use crate::state::Phase;
use crate::store::Store;
use crate::store::run::Lease;

/// The context handed to a step (or compensation) handler. Cheap to clone.
#[derive(Clone)]
pub struct StepContext {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    lease: Lease,
    step: String,
    phase: Phase,
    attempt: u32,
    input: Arc<Value>,
    outputs: Arc<HashMap<String, Value>>,
    checkpoint: Mutex<Option<Value>>,
    cancel: CancellationToken,
}

impl std::fmt::Debug for StepContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepContext")
            .field("workflow_id", &self.inner.lease.id)
            .field("step", &self.inner.step)
            .field("phase", &self.inner.phase)
            .field("attempt", &self.inner.attempt)
            .field("epoch", &self.inner.lease.epoch)
            .finish()
    }
}

impl StepContext {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        store: Store,
        lease: Lease,
        step: String,
        phase: Phase,
        attempt: u32,
        input: Arc<Value>,
        outputs: Arc<HashMap<String, Value>>,
        checkpoint: Option<Value>,
        cancel: CancellationToken,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                lease,
                step,
                phase,
                attempt,
                input,
                outputs,
                checkpoint: Mutex::new(checkpoint),
                cancel,
            }),
        }
    }

    /// The run's id.
    pub fn workflow_id(&self) -> Uuid {
        self.inner.lease.id
    }

    /// This step's unique name within the run.
    pub fn step_name(&self) -> &str {
        &self.inner.step
    }

    /// Whether this is the step's handler or its compensation.
    pub fn phase(&self) -> Phase {
        self.inner.phase
    }

    /// Attempt number of this handler, from 1.
    pub fn attempt(&self) -> u32 {
        self.inner.attempt
    }

    /// The worker's lease epoch: strictly increases each time the run changes
    /// hands, so it can serve as a fencing token towards external services.
    pub fn epoch(&self) -> i64 {
        self.inner.lease.epoch
    }

    /// A deterministic key for the step's external effects (the same on every
    /// attempt, worker and compensation): `wf-<run id>-<step name>`. Use it to
    /// name or tag what the step creates, and to look it up after a crash.
    pub fn idempotency_key(&self) -> String {
        format!("wf-{}-{}", self.inner.lease.id.simple(), self.inner.step)
    }

    /// The run input, typed.
    pub fn input<T: DeserializeOwned>(&self) -> Result<T, StepError> {
        T::deserialize(&*self.inner.input)
            .map_err(|e| StepError::terminal(format!("run input: {e}")))
    }

    /// The run input, raw.
    pub fn input_value(&self) -> &Value {
        &self.inner.input
    }

    /// The output of an earlier step that succeeded, typed; `None` if it has
    /// no output (yet).
    pub fn output<T: DeserializeOwned>(&self, step: &str) -> Result<Option<T>, StepError> {
        self.inner
            .outputs
            .get(step)
            .map(|v| {
                T::deserialize(v)
                    .map_err(|e| StepError::terminal(format!("output of step {step}: {e}")))
            })
            .transpose()
    }

    /// Every output of earlier steps, by step name.
    pub fn outputs(&self) -> &HashMap<String, Value> {
        &self.inner.outputs
    }

    /// Durably records progress of this step before an external effect (for
    /// instance "create pending, name X"). The write is fenced by the lease
    /// epoch: it fails (terminally for this attempt) if the lease was lost.
    /// The next attempt, on any worker, sees the value in
    /// [`checkpointed`](Self::checkpointed); so does the compensation.
    pub async fn checkpoint<T: Serialize>(&self, value: &T) -> Result<(), StepError> {
        let v = serde_json::to_value(value)?;
        self.inner
            .store
            .checkpoint(&self.inner.lease, &self.inner.step, v.to_string())
            .await?;
        *self
            .inner
            .checkpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(v);
        Ok(())
    }

    /// The last value recorded with [`checkpoint`](Self::checkpoint) by any
    /// attempt of this step.
    pub fn checkpointed<T: DeserializeOwned>(&self) -> Result<Option<T>, StepError> {
        let guard = self
            .inner
            .checkpoint
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        guard
            .as_ref()
            .map(|v| T::deserialize(v).map_err(|e| StepError::terminal(format!("checkpoint: {e}"))))
            .transpose()
    }

    /// The cancellation signal: fired when an operator cancels the run, when
    /// the run's deadline passes, or when the lease is lost. Handlers should
    /// stop at the next safe point.
    pub fn cancellation(&self) -> &CancellationToken {
        &self.inner.cancel
    }

    /// True once cancellation was signalled.
    pub fn is_cancelled(&self) -> bool {
        self.inner.cancel.is_cancelled()
    }

    /// Resolves when cancellation is signalled.
    pub async fn cancelled(&self) {
        self.inner.cancel.cancelled().await
    }
}
