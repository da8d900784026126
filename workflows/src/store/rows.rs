//! Stored rows and the records the operator API returns.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::state::{OnFailure, Phase, StepState, WorkflowState};

/// Raw `wf_workflows` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct WorkflowRow {
    pub(crate) id: String,
    pub(crate) definition: String,
    pub(crate) version: i64,
    pub(crate) state: String,
    pub(crate) phase: String,
    pub(crate) on_failure: String,
    pub(crate) input: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) cancel_requested: i64,
    pub(crate) error: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) finished_at: Option<i64>,
    pub(crate) deadline_at: Option<i64>,
    pub(crate) next_run_at: Option<i64>,
    pub(crate) lease_owner: Option<String>,
    pub(crate) lease_epoch: i64,
    pub(crate) lease_expires_at: Option<i64>,
}

pub(crate) const WORKFLOW_COLUMNS: &str = "id, definition, version, state, phase, on_failure, input, \
     idempotency_key, cancel_requested, error, created_at, updated_at, finished_at, deadline_at, \
     next_run_at, lease_owner, lease_epoch, lease_expires_at";

/// Raw `wf_steps` row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct StepRow {
    pub(crate) position: i64,
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) params: String,
    pub(crate) limit_key: Option<String>,
    pub(crate) state: String,
    pub(crate) attempts: i64,
    pub(crate) comp_attempts: i64,
    pub(crate) retry_base: i64,
    pub(crate) output: Option<String>,
    pub(crate) checkpoint: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) started_at: Option<i64>,
    pub(crate) finished_at: Option<i64>,
}

pub(crate) const STEP_COLUMNS: &str = "position, name, kind, params, limit_key, state, attempts, comp_attempts, retry_base, \
     output, checkpoint, error, started_at, finished_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AttemptRow {
    step: String,
    phase: String,
    attempt: i64,
    epoch: i64,
    worker: String,
    started_at: i64,
    finished_at: Option<i64>,
    outcome: Option<String>,
    error_kind: Option<String>,
    error: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct EventRow {
    id: i64,
    at: i64,
    kind: String,
    step: Option<String>,
    actor: Option<String>,
    detail: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LabelRow {
    pub(crate) workflow_id: String,
    pub(crate) key: String,
    pub(crate) value: String,
}

/// A workflow run as stored.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkflowRecord {
    /// Run id.
    pub id: Uuid,
    /// Definition name.
    pub definition: String,
    /// Definition version the run started with (and keeps).
    pub version: u32,
    /// Current state.
    pub state: WorkflowState,
    /// Direction: forward, or compensating.
    pub phase: Phase,
    /// What the run does after a step's last failed attempt.
    pub on_failure: OnFailure,
    /// The run input.
    pub input: Value,
    /// The idempotency key given at start.
    pub idempotency_key: Option<String>,
    /// Labels given at start.
    pub labels: BTreeMap<String, String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// True once a cancel was requested.
    pub cancel_requested: bool,
    /// Creation time (epoch ms).
    pub created_at: i64,
    /// Last change (epoch ms).
    pub updated_at: i64,
    /// When it reached a terminal state (epoch ms).
    pub finished_at: Option<i64>,
    /// Run deadline (epoch ms).
    pub deadline_at: Option<i64>,
    /// When a worker should next pick it up (epoch ms); `None` when terminal.
    pub next_run_at: Option<i64>,
    /// The worker holding its lease.
    pub lease_owner: Option<String>,
    /// The lease epoch (incremented by every claim and operator action).
    pub lease_epoch: i64,
    /// When the lease expires (epoch ms).
    pub lease_expires_at: Option<i64>,
}

impl WorkflowRecord {
    pub(crate) fn from_row(r: WorkflowRow, labels: BTreeMap<String, String>) -> Result<Self> {
        Ok(Self {
            id: parse_id(&r.id)?,
            definition: r.definition,
            version: u32::try_from(r.version)
                .map_err(|_| Error::Corrupt(format!("version {}", r.version)))?,
            state: r.state.parse()?,
            phase: r.phase.parse()?,
            on_failure: r.on_failure.parse()?,
            input: serde_json::from_str(&r.input)?,
            idempotency_key: r.idempotency_key,
            labels,
            error: r.error,
            cancel_requested: r.cancel_requested != 0,
            created_at: r.created_at,
            updated_at: r.updated_at,
            finished_at: r.finished_at,
            deadline_at: r.deadline_at,
            next_run_at: r.next_run_at,
            lease_owner: r.lease_owner,
            lease_epoch: r.lease_epoch,
            lease_expires_at: r.lease_expires_at,
        })
    }
}

/// One attempt of a step's handler or compensation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AttemptRecord {
    /// Which handler.
    pub phase: Phase,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// Lease epoch of the worker that ran it.
    pub epoch: i64,
    /// Worker id.
    pub worker: String,
    /// Start (epoch ms; the intent was recorded then).
    pub started_at: i64,
    /// End (epoch ms), if it ended.
    pub finished_at: Option<i64>,
    /// `succeeded`, `failed`, `timed_out`, `cancelled`, `abandoned`, or `None`
    /// while running (or if the worker died: the next attempt marks it abandoned).
    pub outcome: Option<String>,
    /// Error classification (`transient`, `throttled`, `terminal`).
    pub error_kind: Option<String>,
    /// Error text.
    pub error: Option<String>,
    /// Duration in ms, when finished.
    pub duration_ms: Option<i64>,
}

/// One step of a run, with its attempts.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StepRecord {
    /// Position in the run (from 0).
    pub position: u32,
    /// Unique name within the run.
    pub name: String,
    /// Step kind.
    pub kind: String,
    /// Parameters.
    pub params: Value,
    /// Shared-limit key.
    pub limit_key: Option<String>,
    /// State.
    pub state: StepState,
    /// Forward attempts made.
    pub attempts: u32,
    /// Compensation attempts made.
    pub compensation_attempts: u32,
    /// Checkpointed output.
    pub output: Option<Value>,
    /// Last progress recorded with `StepContext::checkpoint`.
    pub checkpoint: Option<Value>,
    /// Last error.
    pub error: Option<String>,
    /// First attempt start (epoch ms).
    pub started_at: Option<i64>,
    /// Success or final failure (epoch ms).
    pub finished_at: Option<i64>,
    /// Attempts, oldest first.
    pub attempt_log: Vec<AttemptRecord>,
}

impl StepRecord {
    pub(crate) fn from_row(r: StepRow) -> Result<Self> {
        Ok(Self {
            position: r.position as u32,
            name: r.name,
            kind: r.kind,
            params: serde_json::from_str(&r.params)?,
            limit_key: r.limit_key,
            state: r.state.parse()?,
            attempts: r.attempts as u32,
            compensation_attempts: r.comp_attempts as u32,
            output: r.output.as_deref().map(serde_json::from_str).transpose()?,
            checkpoint: r
                .checkpoint
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            error: r.error,
            started_at: r.started_at,
            finished_at: r.finished_at,
            attempt_log: Vec::new(),
        })
    }
}

impl AttemptRecord {
    pub(crate) fn from_row(r: AttemptRow) -> Result<(String, Self)> {
        Ok((
            r.step,
            Self {
                phase: r.phase.parse()?,
                attempt: r.attempt as u32,
                epoch: r.epoch,
                worker: r.worker,
                started_at: r.started_at,
                finished_at: r.finished_at,
                duration_ms: r.finished_at.map(|f| f - r.started_at),
                outcome: r.outcome,
                error_kind: r.error_kind,
                error: r.error,
            },
        ))
    }
}

/// One entry of a run's event timeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EventRecord {
    /// Monotonic id.
    pub id: i64,
    /// When (epoch ms).
    pub at: i64,
    /// What: `started`, `step_started`, `step_succeeded`, `step_failed`,
    /// `retry_scheduled`, `deferred`, `cancel_requested`, `compensation_started`,
    /// `step_compensated`, `succeeded`, `failed`, `compensated`, `cancelled`,
    /// `stale_write_rejected`, `operator_retry`, `operator_cancel`,
    /// `operator_compensate`, `operator_resume`, `circuit_opened`, `timed_out`...
    pub kind: String,
    /// The step concerned.
    pub step: Option<String>,
    /// Who did it: an operator's actor string, or `worker:<id>`.
    pub actor: Option<String>,
    /// Details.
    pub detail: Option<Value>,
}

impl EventRecord {
    pub(crate) fn from_row(r: EventRow) -> Self {
        Self {
            id: r.id,
            at: r.at,
            kind: r.kind,
            step: r.step,
            actor: r.actor,
            detail: r
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
        }
    }
}

/// A run with its steps, attempts and events.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Timeline {
    /// The run.
    pub workflow: WorkflowRecord,
    /// Its steps in order, each with its attempts.
    pub steps: Vec<StepRecord>,
    /// Its events, oldest first.
    pub events: Vec<EventRecord>,
}

impl Timeline {
    /// The step named `name`.
    pub fn step(&self, name: &str) -> Option<&StepRecord> {
        self.steps.iter().find(|s| s.name == name)
    }

    /// Events of a kind.
    pub fn events_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a EventRecord> + 'a {
        self.events.iter().filter(move |e| e.kind == kind)
    }
}

/// Filter for [`Store::list`](crate::Store::list). Empty means everything.
#[derive(Debug, Clone, Default)]
pub struct WorkflowFilter {
    /// Only these states (any of).
    pub states: Vec<WorkflowState>,
    /// Only this definition.
    pub definition: Option<String>,
    /// Only runs carrying every one of these labels.
    pub labels: Vec<(String, String)>,
    /// Created at or after (epoch ms).
    pub created_after: Option<i64>,
    /// Created before (epoch ms).
    pub created_before: Option<i64>,
    /// At most this many (default 100).
    pub limit: Option<u32>,
}

pub(crate) fn parse_id(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|_| Error::Corrupt(format!("workflow id {s:?}")))
}

pub(crate) fn read_rows(attempts: Vec<AttemptRow>, steps: Vec<StepRow>) -> Result<Vec<StepRecord>> {
    let mut out: Vec<StepRecord> = steps
        .into_iter()
        .map(StepRecord::from_row)
        .collect::<Result<_>>()?;
    for a in attempts {
        let (step, rec) = AttemptRecord::from_row(a)?;
        if let Some(s) = out.iter_mut().find(|s| s.name == step) {
            s.attempt_log.push(rec);
        }
    }
    Ok(out)
}
