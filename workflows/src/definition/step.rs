//! Step kinds: a typed handler, its optional compensation, retry policy,
//! timeout and limit key.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::context::StepContext;
use crate::failure::StepError;
use crate::retry::RetryPolicy;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

type RunFn = Arc<dyn Fn(StepContext, Value) -> BoxFuture<Result<Value, StepError>> + Send + Sync>;
type CompensateFn = Arc<
    dyn Fn(StepContext, Value, Option<Value>) -> BoxFuture<Result<(), StepError>> + Send + Sync,
>;
type LimitFn = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;
type CheckFn = Arc<dyn Fn(&Value) -> Result<(), String> + Send + Sync>;

/// A typed step kind under construction: `P` is its parameters (for a static
/// step, the workflow input), `O` its output.
///
/// ```
/// use nuage_workflows::{Step, StepContext, StepError, RetryPolicy};
/// use std::time::Duration;
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Net { cidr: String }
/// let step = Step::new("network", |ctx: StepContext, p: Net| async move {
///         Ok::<_, StepError>(format!("{}:{}", ctx.idempotency_key(), p.cidr))
///     })
///     .compensate(|_ctx, _p: Net, _out: Option<String>| async move { Ok(()) })
///     .retry(RetryPolicy::new(3, Duration::from_millis(100), Duration::from_secs(5)))
///     .timeout(Duration::from_secs(30))
///     .limit_key(|_p: &Net| Some("sim:local".to_string()));
/// ```
pub struct Step<P, O> {
    kind: StepKind,
    _types: PhantomData<fn(P) -> O>,
}

impl<P, O> Step<P, O>
where
    P: DeserializeOwned + Send + 'static,
    O: Serialize + DeserializeOwned + Send + 'static,
{
    /// A step kind named `kind` whose handler is `handler`.
    pub fn new<F, Fut>(kind: impl Into<String>, handler: F) -> Self
    where
        F: Fn(StepContext, P) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, StepError>> + Send + 'static,
    {
        let run: RunFn = Arc::new(move |ctx, params| {
            let parsed = serde_json::from_value::<P>(params);
            match parsed {
                Ok(p) => {
                    let fut = handler(ctx, p);
                    Box::pin(async move {
                        let out = fut.await?;
                        serde_json::to_value(out).map_err(StepError::from)
                    })
                }
                Err(e) => Box::pin(async move {
                    Err(StepError::terminal(format!("invalid step parameters: {e}")))
                }),
            }
        });
        let check: CheckFn =
            Arc::new(|v: &Value| P::deserialize(v).map(|_| ()).map_err(|e| e.to_string()));
        Self {
            kind: StepKind {
                kind: kind.into(),
                run,
                check,
                compensate: None,
                retry: RetryPolicy::default(),
                timeout: None,
                limit: None,
            },
            _types: PhantomData,
        }
    }

    /// The compensation handler: undoes the step's effect. It receives the
    /// step's parameters and its output when the step succeeded (`None` when it
    /// failed or was interrupted: its checkpoint, if any, is in the context).
    /// It must tolerate finding nothing to undo.
    pub fn compensate<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(StepContext, P, Option<O>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StepError>> + Send + 'static,
    {
        let f: CompensateFn = Arc::new(move |ctx, params, output| {
            let parsed = serde_json::from_value::<P>(params)
                .map_err(|e| StepError::terminal(format!("invalid step parameters: {e}")))
                .and_then(|p| {
                    let out = match output {
                        Some(v) => Some(serde_json::from_value::<O>(v).map_err(|e| {
                            StepError::terminal(format!("invalid step output: {e}"))
                        })?),
                        None => None,
                    };
                    Ok((p, out))
                });
            match parsed {
                Ok((p, out)) => Box::pin(handler(ctx, p, out)),
                Err(e) => Box::pin(async move { Err(e) }),
            }
        });
        self.kind.compensate = Some(f);
        self
    }

    /// The retry policy (default: [`RetryPolicy::default`]), used for the
    /// compensation too.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.kind.retry = policy;
        self
    }

    /// The per-attempt timeout; an attempt that overruns it is dropped and
    /// counted as a transient failure.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.kind.timeout = Some(timeout);
        self
    }

    /// The shared-limit key of an instance, computed from its parameters
    /// (e.g. `aws:eu-west-3`): steps with a key obey its concurrency and rate
    /// limits and its circuit breaker.
    pub fn limit_key<F>(mut self, f: F) -> Self
    where
        F: Fn(&P) -> Option<String> + Send + Sync + 'static,
    {
        self.kind.limit = Some(Arc::new(move |v: &Value| {
            serde_json::from_value::<P>(v.clone())
                .ok()
                .and_then(|p| f(&p))
        }));
        self
    }
}

impl<P, O> From<Step<P, O>> for StepKind {
    fn from(s: Step<P, O>) -> Self {
        s.kind
    }
}

/// A step kind with its types erased, as the engine stores it.
#[derive(Clone)]
pub struct StepKind {
    kind: String,
    run: RunFn,
    check: CheckFn,
    compensate: Option<CompensateFn>,
    retry: RetryPolicy,
    timeout: Option<Duration>,
    limit: Option<LimitFn>,
}

impl std::fmt::Debug for StepKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepKind")
            .field("kind", &self.kind)
            .field("compensates", &self.compensate.is_some())
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl StepKind {
    /// The kind's name.
    pub fn name(&self) -> &str {
        &self.kind
    }

    /// Its retry policy.
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Its per-attempt timeout.
    pub fn attempt_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// True if it has a compensation handler.
    pub fn has_compensation(&self) -> bool {
        self.compensate.is_some()
    }

    pub(crate) fn check_params(&self, params: &Value) -> Result<(), String> {
        (self.check)(params)
    }

    pub(crate) fn limit_key(&self, params: &Value) -> Option<String> {
        self.limit.as_ref().and_then(|f| f(params))
    }

    pub(crate) fn run(
        &self,
        ctx: StepContext,
        params: Value,
    ) -> BoxFuture<Result<Value, StepError>> {
        (self.run)(ctx, params)
    }

    pub(crate) fn run_compensation(
        &self,
        ctx: StepContext,
        params: Value,
        output: Option<Value>,
    ) -> Option<BoxFuture<Result<(), StepError>>> {
        self.compensate.as_ref().map(|f| f(ctx, params, output))
    }
}
