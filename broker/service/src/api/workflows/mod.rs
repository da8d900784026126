//! `/v1/workflows`: list runs, show a timeline, and the operator actions (retry, cancel,
//! compensate, resume). Operator role; a tenant's operator sees its tenant's runs only.

mod view;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use nuage_workflows::{WorkflowFilter, WorkflowRecord, WorkflowState};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use view::{AttemptView, EventView, LeaseView, StepView, TimelineView, WorkflowView};

use super::extract::{Caller, Q};
use crate::audit::{self, NewEntry};
use crate::auth::{Principal, Role};
use crate::error::{Error, Problem, Result};
use crate::service::Broker;

/// A page of runs.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkflowPage {
    /// Runs, newest first.
    pub items: Vec<WorkflowView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/workflows`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct WorkflowQuery {
    /// Only these states, comma-separated.
    state: Option<String>,
    /// Only this definition (`provision`, `deprovision`).
    definition: Option<String>,
    /// Only the runs of this request.
    request: Option<String>,
    /// Only this tenant (global tokens).
    tenant: Option<String>,
    /// Only runs created at or after this time (RFC 3339).
    created_after: Option<DateTime<Utc>>,
    /// Only runs created before this time (RFC 3339).
    created_before: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
}

/// List workflow runs (operator).
#[utoipa::path(
    get, path = "/v1/workflows", tag = "workflows", operation_id = "listWorkflows",
    params(WorkflowQuery),
    responses(
        (status = 200, description = "A page of runs", body = WorkflowPage),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(b): State<Broker>,
    Caller(who): Caller,
    Q(q): Q<WorkflowQuery>,
) -> Result<Json<WorkflowPage>> {
    who.require(Role::Operator)?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(Error::Malformed("limit must be 1 to 500".into()));
    }
    let mut states = Vec::new();
    for s in q.state.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            continue;
        }
        states.push(
            WorkflowState::ALL
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| Error::Malformed(format!("unknown workflow state {s:?}")))?,
        );
    }
    let mut labels = Vec::new();
    match (&who.tenant, &q.tenant) {
        (Some(own), Some(asked)) if own != asked => {
            return Ok(Json(WorkflowPage {
                items: Vec::new(),
                next_cursor: None,
            }));
        }
        (Some(own), _) | (None, Some(own)) => labels.push(("tenant".to_owned(), own.clone())),
        (None, None) => {}
    }
    if let Some(r) = &q.request {
        labels.push(("request".to_owned(), r.clone()));
    }
    let cursor = match &q.cursor {
        Some(c) => Some(parse_cursor(c)?),
        None => None,
    };
    // Fetch from the cursor's millisecond on, then skip what the previous page showed.
    let slack = 256;
    let runs = b
        .db()
        .store()
        .list(&WorkflowFilter {
            states,
            definition: q.definition.clone(),
            labels,
            created_after: q.created_after.map(|t| t.timestamp_millis()),
            created_before: match (cursor.as_ref().map(|(ts, _)| ts + 1), q.created_before) {
                (Some(c), Some(b)) => Some(c.min(b.timestamp_millis())),
                (c, b) => c.or(b.map(|t| t.timestamp_millis())),
            },
            limit: Some(limit + 1 + if cursor.is_some() { slack } else { 0 }),
        })
        .await?;
    let after: Vec<&WorkflowRecord> = runs
        .iter()
        .filter(|w| match &cursor {
            None => true,
            Some((ts, id)) => w.created_at < *ts || (w.created_at == *ts && w.id.to_string() < *id),
        })
        .take(limit as usize + 1)
        .collect();
    let more = after.len() > limit as usize;
    let items: Vec<WorkflowView> = after
        .iter()
        .take(limit as usize)
        .map(|w| (*w).into())
        .collect();
    let next_cursor = if more {
        after
            .get(limit as usize - 1)
            .map(|w| format!("{}_{}", w.created_at, w.id))
    } else {
        None
    };
    Ok(Json(WorkflowPage { items, next_cursor }))
}

fn parse_cursor(c: &str) -> Result<(i64, String)> {
    let bad = || Error::Malformed("cursor is not a cursor returned by this API".into());
    let (ts, id) = c.split_once('_').ok_or_else(bad)?;
    let ts: i64 = ts.parse().map_err(|_| bad())?;
    uuid::Uuid::parse_str(id).map_err(|_| bad())?;
    Ok((ts, id.to_owned()))
}

/// A run visible to the caller (404 otherwise, another tenant's included).
async fn visible(b: &Broker, who: &Principal, id: &str) -> Result<WorkflowRecord> {
    let not_found = || Error::NotFound(format!("workflow {id}"));
    let uuid: uuid::Uuid = id.parse().map_err(|_| not_found())?;
    let w = match b.db().store().get(uuid).await {
        Ok(w) => w,
        Err(nuage_workflows::Error::NotFound(_)) => return Err(not_found()),
        Err(e) => return Err(e.into()),
    };
    let tenant = w.labels.get("tenant").map(String::as_str);
    match (&who.tenant, tenant) {
        (None, _) => Ok(w),
        (Some(own), Some(t)) if own == t => Ok(w),
        _ => Err(not_found()),
    }
}

/// Show a run's timeline (operator).
#[utoipa::path(
    get, path = "/v1/workflows/{id}", tag = "workflows", operation_id = "getWorkflow",
    params(("id" = String, Path, description = "Run id")),
    responses((status = 200, description = "The run with its steps, attempts and events", body = TimelineView)),
    security(("bearer" = []))
)]
pub async fn get(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<TimelineView>> {
    who.require(Role::Operator)?;
    let w = visible(&b, &who, &id).await?;
    let t = b.db().store().timeline(w.id).await?;
    Ok(Json((&t).into()))
}

/// Body of `retry`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryBody {
    /// Restart the attempt numbering of the steps run again at 1.
    #[serde(default)]
    pub reset_attempts: bool,
    /// Run again from this step (its `name`), the steps after it included, even those that
    /// succeeded; it must be the failed step or come before it. Absent: from the failed step.
    #[serde(default)]
    pub from_step: Option<String>,
}

#[derive(Clone)]
enum Action {
    Retry(bool, Option<String>),
    Cancel,
    Compensate,
    Resume,
}

impl Action {
    fn name(&self) -> &'static str {
        match self {
            Action::Retry(..) => "retry",
            Action::Cancel => "cancel",
            Action::Compensate => "compensate",
            Action::Resume => "resume",
        }
    }
}

async fn act(b: &Broker, who: &Principal, id: &str, action: Action) -> Result<WorkflowView> {
    who.require(Role::Operator)?;
    let w = visible(b, who, id).await?;
    let store = b.db().store();
    let actor = who.actor();
    let done = match &action {
        Action::Retry(reset, from) => {
            store
                .retry_from(w.id, &actor, *reset, from.as_deref())
                .await
        }
        Action::Cancel => store.cancel(w.id, &actor).await,
        Action::Compensate => store.compensate(w.id, &actor).await,
        Action::Resume => store.resume(w.id, &actor).await,
    };
    match done {
        Ok(()) => {}
        Err(nuage_workflows::Error::InvalidState { state, .. }) => {
            return Err(Error::Conflict(format!(
                "cannot {} a workflow in state {state}",
                action.name()
            )));
        }
        Err(nuage_workflows::Error::InvalidStep { step, reason, .. }) => {
            return Err(Error::Conflict(format!(
                "cannot retry from step {step:?}: {reason}"
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let tenant = w.labels.get("tenant").cloned();
    let request = w.labels.get("request").cloned();
    let mut tx = b.db().begin().await?;
    let mut entry = NewEntry::new(
        &actor,
        tenant.as_deref(),
        &format!("workflow.{}", action.name()),
        format!("workflow/{}", w.id),
    )
    .details(match &action {
        Action::Retry(reset, from) => serde_json::json!({
            "definition": w.definition, "state_before": w.state.as_str(),
            "reset_attempts": reset, "from_step": from,
        }),
        _ => serde_json::json!({ "definition": w.definition, "state_before": w.state.as_str() }),
    });
    if let Some(r) = &request {
        entry = entry.request(r);
    }
    audit::append(&mut tx, &entry).await?;
    tx.commit().await?;
    b.sealer().nudge();
    b.nudge_reconciler();
    tracing::info!(workflow = %w.id, action = action.name(), actor = %actor, "operator action");
    Ok((&store.get(w.id).await?).into())
}

/// Retry a failed run from its failed step, or from an earlier step (operator).
#[utoipa::path(
    post, path = "/v1/workflows/{id}/retry", tag = "workflows", operation_id = "retryWorkflow",
    params(("id" = String, Path, description = "Run id")),
    request_body(content = Option<RetryBody>, content_type = "application/json"),
    responses(
        (status = 202, description = "Retrying", body = WorkflowView),
        (status = 409, description = "The run is not failed, or `from_step` names no step before the failed one", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn retry(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: std::result::Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<WorkflowView>)> {
    let body = body.map_err(|e| match e {
        axum::extract::rejection::BytesRejection::FailedToBufferBody(_) => Error::PayloadTooLarge,
        other => Error::Malformed(other.body_text()),
    })?;
    let body: RetryBody = if body.is_empty() {
        RetryBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::Malformed(format!("the body is not a retry request: {e}")))?
    };
    let v = act(
        &b,
        &who,
        &id,
        Action::Retry(body.reset_attempts, body.from_step),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(v)))
}

/// Cancel a run: stop its running step, then undo what it did (operator).
#[utoipa::path(
    post, path = "/v1/workflows/{id}/cancel", tag = "workflows", operation_id = "cancelWorkflow",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 202, description = "Cancelling", body = WorkflowView),
        (status = 409, description = "The run cannot be cancelled in its state", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn cancel(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WorkflowView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(act(&b, &who, &id, Action::Cancel).await?),
    ))
}

/// Undo a failed run's steps in reverse order (operator).
#[utoipa::path(
    post, path = "/v1/workflows/{id}/compensate", tag = "workflows", operation_id = "compensateWorkflow",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 202, description = "Compensating", body = WorkflowView),
        (status = 409, description = "The run is not failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn compensate(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WorkflowView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(act(&b, &who, &id, Action::Compensate).await?),
    ))
}

/// Resume a failed run where it stopped (operator).
#[utoipa::path(
    post, path = "/v1/workflows/{id}/resume", tag = "workflows", operation_id = "resumeWorkflow",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 202, description = "Resuming", body = WorkflowView),
        (status = 409, description = "The run is not failed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn resume(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<WorkflowView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(act(&b, &who, &id, Action::Resume).await?),
    ))
}
