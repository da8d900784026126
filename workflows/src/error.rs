//! The crate's error type.

use uuid::Uuid;

use crate::state::WorkflowState;

/// Everything that can go wrong when talking to the engine or its store.
///
/// Handler failures are not errors of this type: a step handler returns a
/// [`StepError`](crate::StepError), which the engine records and acts on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database refused or failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database URL names neither SQLite nor PostgreSQL.
    #[error("unsupported database url (expected sqlite:… or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// No definition with this name (and version, when given) is registered.
    #[error("unknown workflow definition {name} (version {version:?})")]
    UnknownDefinition {
        /// Definition name.
        name: String,
        /// Requested version, if any.
        version: Option<u32>,
    },
    /// A definition is malformed (duplicate step, unknown kind, no steps...).
    #[error("invalid workflow definition {definition}: {reason}")]
    InvalidDefinition {
        /// Definition name.
        definition: String,
        /// What is wrong.
        reason: String,
    },
    /// The input of a start request was refused; nothing was stored.
    #[error("invalid input for workflow {definition}: {reason}")]
    InvalidInput {
        /// Definition name.
        definition: String,
        /// What is wrong.
        reason: String,
    },
    /// A value could not be (de)serialized as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// No workflow with this id.
    #[error("workflow {0} not found")]
    NotFound(Uuid),
    /// An operator operation does not apply to the workflow's current state.
    #[error("cannot {op} workflow {id} in state {state}")]
    InvalidState {
        /// Workflow id.
        id: Uuid,
        /// The refused operation.
        op: &'static str,
        /// The workflow's state when refused.
        state: WorkflowState,
    },
    /// An operator action named a step it cannot apply to.
    #[error("cannot retry workflow {id} from step {step:?}: {reason}")]
    InvalidStep {
        /// Run id.
        id: Uuid,
        /// The step named.
        step: String,
        /// Why.
        reason: String,
    },
    /// A write was fenced off: this worker's lease epoch is no longer current.
    #[error("stale lease epoch {epoch} for workflow {id}: write rejected")]
    StaleEpoch {
        /// Workflow id.
        id: Uuid,
        /// The epoch the writer held.
        epoch: i64,
    },
    /// The idempotency key is already used by a workflow of another definition.
    #[error("idempotency key {key:?} already names workflow {existing} of definition {definition}")]
    IdempotencyConflict {
        /// The key.
        key: String,
        /// The workflow that owns the key.
        existing: Uuid,
        /// Its definition.
        definition: String,
    },
    /// Waiting for a workflow to reach a terminal state timed out.
    #[error("timed out waiting for workflow {0}")]
    WaitTimeout(Uuid),
    /// A limit configuration was refused.
    #[error("invalid limit for key {key:?}: {reason}")]
    InvalidLimit {
        /// Limit key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A stored value could not be understood (unknown state name...).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
