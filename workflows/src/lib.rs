//! # nuage-workflows: the durable workflow engine
//!
//! Every provisioning request becomes a *run* of a workflow definition: an
//! ordered, fixed-at-start list of steps, each an async handler with typed
//! (serde) parameters and output, an optional compensation, a retry policy, a
//! timeout and an optional shared-limit key. Runs live in SQLite (one host) or
//! PostgreSQL (several replicas) and survive crashes, restarts and zombie
//! workers:
//!
//! - each attempt's *intent* is recorded before the handler runs, and its
//!   output checkpointed under the unique (run, step) key;
//! - retries are stored as `next_run_at` (exponential backoff, full jitter);
//! - workers hold leases with heartbeats and an **epoch**: every write to a
//!   leased run is conditioned on it, so a paused worker that wakes up cannot
//!   complete or duplicate anything ([`Engine::stale_writes_rejected`]);
//! - cancellation is cooperative and followed by compensation in reverse
//!   order; after the last attempt a run compensates or waits for an operator;
//! - concurrency, rate limits and circuit breakers per key are kept in the
//!   database ([`Store::set_limit`], [`Store::set_breaker`]);
//! - operators list, inspect, retry, cancel, compensate and resume runs
//!   ([`Store::list`], [`Store::timeline`], [`Store::retry`]...).
//!
//! What it is not: it knows nothing of clouds, providers or the broker; it
//! has no HTTP API or CLI (those live in the broker); it does not run
//! arbitrary code durably (no replay of handler code: a step's effect must be
//! idempotent, using [`StepContext::idempotency_key`] and
//! [`StepContext::checkpoint`]). Execution is at-least-once per attempt.
//!
//! ```no_run
//! use nuage_workflows::{Engine, StartRequest, Step, StepContext, StepError, Store, WorkflowDefinition};
//! # async fn demo() -> nuage_workflows::Result<()> {
//! let store = Store::connect("sqlite:/tmp/nuage-wf.db").await?;
//! let def = WorkflowDefinition::new("hello", 1)
//!     .step(Step::new("greet", |ctx: StepContext, name: String| async move {
//!         Ok::<_, StepError>(format!("hello {name} ({})", ctx.idempotency_key()))
//!     }));
//! let engine = Engine::builder(store).register(def).build()?;
//! let handle = engine.run();
//! let run = engine.start(StartRequest::new("hello", &"world")?.idempotency_key("req-1")).await?;
//! let done = engine.store().wait_terminal(run.id, std::time::Duration::from_secs(10)).await?;
//! assert_eq!(done.state, nuage_workflows::WorkflowState::Succeeded);
//! handle.shutdown(std::time::Duration::from_secs(5)).await;
//! # Ok(()) }
//! ```

mod context;
mod definition;
mod engine;
mod error;
mod failure;
mod retry;
mod state;
mod store;
pub use store::exec as sql;

pub use context::StepContext;
pub use definition::{BoxFuture, Step, StepInstance, StepKind, WorkflowDefinition};
pub use engine::{Engine, EngineBuilder, EngineConfig, EngineHandle, StartRequest, Started};
pub use error::{Error, Result};
pub use failure::{ErrorKind, StepError};
pub use retry::RetryPolicy;
pub use state::{OnFailure, Phase, StepState, WorkflowState};
pub use store::{
    AttemptRecord, BreakerConfig, Dialect, EventRecord, LimitConfig, LimitStatus, StepRecord,
    Store, StoreTx, Timeline, WorkflowFilter, WorkflowRecord, now_ms,
};

/// The engine guide's examples (`docs/workflows.md`), compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../docs/workflows.md")]
struct GuideExamples;
