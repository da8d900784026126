//! What `/v1/workflows` answers: runs with their lease, steps with their attempts, events.

use chrono::{DateTime, Utc};
use nuage_workflows::{AttemptRecord, StepRecord, Timeline, WorkflowRecord};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;

use crate::requests::time;

/// A workflow run.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowView {
    /// Run id.
    pub id: String,
    /// `provision` or `deprovision`.
    pub definition: String,
    /// Definition version.
    pub version: u32,
    /// `pending`, `running`, `succeeded`, `failed`, `cancelling`, `compensating`,
    /// `compensated`, `cancelled`.
    pub state: String,
    /// `forward` or `compensate`.
    pub phase: String,
    /// After a step's last failed attempt: `wait_for_operator` (stop in `failed`) or
    /// `compensate` (undo at once).
    pub on_failure: String,
    /// Labels (`tenant`, `request`).
    pub labels: BTreeMap<String, String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True once a cancel was asked.
    pub cancel_requested: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// End time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// When a worker picks the run up next (absent once it ended, or while a worker holds it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_run_at: Option<DateTime<Utc>>,
    /// The run's deadline, when its definition has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_at: Option<DateTime<Utc>>,
    /// Who executes the run now.
    pub lease: LeaseView,
}

/// A run's lease: which worker holds it, until when, and its fencing epoch.
#[derive(Debug, Serialize, ToSchema)]
pub struct LeaseView {
    /// The worker holding it (`host:pid:n`); absent when no worker does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// When it expires unless renewed; another replica takes the run over after that.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Incremented by every claim and operator action; a worker with an older epoch can no
    /// longer write.
    pub epoch: i64,
}

impl From<&WorkflowRecord> for WorkflowView {
    fn from(w: &WorkflowRecord) -> Self {
        WorkflowView {
            id: w.id.to_string(),
            definition: w.definition.clone(),
            version: w.version,
            state: w.state.as_str().to_owned(),
            phase: w.phase.as_str().to_owned(),
            on_failure: w.on_failure.as_str().to_owned(),
            labels: w.labels.clone(),
            error: w.error.clone(),
            cancel_requested: w.cancel_requested,
            created_at: time(w.created_at),
            updated_at: time(w.updated_at),
            finished_at: w.finished_at.map(time),
            next_run_at: w.next_run_at.filter(|_| w.lease_owner.is_none()).map(time),
            deadline_at: w.deadline_at.map(time),
            lease: LeaseView {
                owner: w.lease_owner.clone(),
                expires_at: w.lease_owner.as_ref().and(w.lease_expires_at).map(time),
                epoch: w.lease_epoch,
            },
        }
    }
}

/// One attempt of a step.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    /// `forward` or `compensate`.
    pub phase: String,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// The worker that ran it.
    pub worker: String,
    /// Its lease epoch.
    pub epoch: i64,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End, once it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Duration in milliseconds, once it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// `succeeded`, `failed`, `timed_out`, `cancelled`, `abandoned`; absent while running.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// `transient`, `throttled` or `terminal`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// The error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl From<&AttemptRecord> for AttemptView {
    fn from(a: &AttemptRecord) -> Self {
        AttemptView {
            phase: a.phase.as_str().to_owned(),
            attempt: a.attempt,
            worker: a.worker.clone(),
            epoch: a.epoch,
            started_at: time(a.started_at),
            finished_at: a.finished_at.map(time),
            duration_ms: a.duration_ms,
            outcome: a.outcome.clone(),
            error_kind: a.error_kind.clone(),
            error: a.error.clone(),
        }
    }
}

/// One step of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepView {
    /// Position in the run, from 0 (what `retry`'s `from_step` may name).
    pub position: u32,
    /// Unique name within the run (`network:app`, `server:web-1`...).
    pub name: String,
    /// Step kind.
    pub kind: String,
    /// `pending`, `running`, `succeeded`, `failed`, `compensating`, `compensated`,
    /// `compensation_failed`.
    pub state: String,
    /// Forward attempts made.
    pub attempts: u32,
    /// Compensation attempts made.
    pub compensation_attempts: u32,
    /// The last error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// First attempt's start.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// Success or final failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Its checkpointed output (cloud ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Its last progress checkpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<Value>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<AttemptView>,
}

impl From<&StepRecord> for StepView {
    fn from(s: &StepRecord) -> Self {
        StepView {
            position: s.position,
            name: s.name.clone(),
            kind: s.kind.clone(),
            state: s.state.as_str().to_owned(),
            attempts: s.attempts,
            compensation_attempts: s.compensation_attempts,
            error: s.error.clone(),
            started_at: s.started_at.map(time),
            finished_at: s.finished_at.map(time),
            output: s.output.clone(),
            checkpoint: s.checkpoint.clone(),
            attempt_log: s.attempt_log.iter().map(Into::into).collect(),
        }
    }
}

/// One event of a run.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    /// When.
    pub at: DateTime<Utc>,
    /// `started`, `step_failed`, `operator_retry`...
    pub kind: String,
    /// The step concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// Who (operator actions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// A run's timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineView {
    /// The run.
    pub workflow: WorkflowView,
    /// Its steps, in order.
    pub steps: Vec<StepView>,
    /// Its events, oldest first.
    pub events: Vec<EventView>,
}

impl From<&Timeline> for TimelineView {
    fn from(t: &Timeline) -> Self {
        TimelineView {
            workflow: (&t.workflow).into(),
            steps: t.steps.iter().map(Into::into).collect(),
            events: t
                .events
                .iter()
                .map(|e| EventView {
                    at: time(e.at),
                    kind: e.kind.clone(),
                    step: e.step.clone(),
                    actor: e.actor.clone(),
                    detail: e.detail.clone(),
                })
                .collect(),
        }
    }
}
