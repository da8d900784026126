//! A request's resources and progress, read from its runs' timelines.

use chrono::{DateTime, Utc};
use nuage_workflows::{StepRecord, StepState, Timeline, WorkflowState};
use serde::Serialize;
use utoipa::ToSchema;

use super::store::RequestRow;
use super::{RequestView, time};
use crate::error::Result;
use crate::provision::ResourceOutput;
use crate::provision::steps::Pending;
use crate::service::Broker;

/// Progress of a workflow run.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RunView {
    /// The run id (see `/v1/workflows/{id}`).
    pub workflow_id: String,
    /// Its state (`pending`, `running`, `succeeded`, `failed`, `cancelling`, `compensating`,
    /// `compensated`, `cancelled`).
    pub state: String,
    /// Steps in the run.
    pub steps_total: usize,
    /// Steps done.
    pub steps_done: usize,
    /// The step it is on, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_step: Option<String>,
    /// The last error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl RunView {
    pub(crate) fn started(id: uuid::Uuid, steps: usize) -> RunView {
        RunView {
            workflow_id: id.to_string(),
            state: WorkflowState::Pending.as_str().to_owned(),
            steps_total: steps,
            steps_done: 0,
            current_step: None,
            error: None,
            updated_at: Utc::now(),
        }
    }

    fn of(t: &Timeline) -> RunView {
        let done = t
            .steps
            .iter()
            .filter(|s| s.state == StepState::Succeeded)
            .count();
        let current = t
            .steps
            .iter()
            .rev()
            .find(|s| matches!(s.state, StepState::Running | StepState::Compensating))
            .or_else(|| {
                (!t.workflow.state.is_terminal())
                    .then(|| t.steps.iter().find(|s| s.state == StepState::Pending))
                    .flatten()
            });
        RunView {
            workflow_id: t.workflow.id.to_string(),
            state: t.workflow.state.as_str().to_owned(),
            steps_total: t.steps.len(),
            steps_done: done,
            current_step: current.map(|s| s.name.clone()),
            error: t
                .workflow
                .error
                .clone()
                .or_else(|| t.steps.iter().rev().find_map(|s| s.error.clone())),
            updated_at: time(t.workflow.updated_at),
        }
    }
}

/// Where a resource stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceStatus {
    /// Not started.
    Pending,
    /// Being created.
    Creating,
    /// Exists and is ready.
    Ready,
    /// Its step failed.
    Failed,
    /// Being deleted.
    Deleting,
    /// Gone.
    Deleted,
}

/// An address of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AddressView {
    /// `private` or `public`.
    pub scope: String,
    /// The address.
    pub ip: String,
}

/// One resource of a request.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResourceView {
    /// Logical name within the request (`srv-web-1`).
    pub name: String,
    /// `network`, `subnet`, `security_group`, `volume`, `server`, `attachment`.
    pub kind: String,
    /// The provisioning step that makes it.
    pub step: String,
    /// Where it stands.
    pub status: ResourceStatus,
    /// Its name in the cloud (`nuage-<hash>-<name>`), once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_name: Option<String>,
    /// The cloud's id, once known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_id: Option<String>,
    /// The cloud's own state word when last seen.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_state: Option<String>,
    /// Addresses (servers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<AddressView>,
    /// True in a simulated cloud: it does not exist anywhere.
    pub simulated: bool,
    /// The last error of its step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn resource_of(step: &StepRecord, simulated: bool) -> Option<ResourceView> {
    if step.kind == "wait" {
        return None;
    }
    let out: Option<ResourceOutput> = step
        .output
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let pending: Option<Pending> = step
        .checkpoint
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let name = step
        .params
        .get("resource")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let status = match step.state {
        StepState::Pending => ResourceStatus::Pending,
        StepState::Running => ResourceStatus::Creating,
        StepState::Succeeded => ResourceStatus::Ready,
        StepState::Failed | StepState::CompensationFailed => ResourceStatus::Failed,
        StepState::Compensating => ResourceStatus::Deleting,
        StepState::Compensated => ResourceStatus::Deleted,
    };
    let mut v = ResourceView {
        name,
        kind: step.kind.clone(),
        step: step.name.clone(),
        status,
        cloud_name: None,
        cloud_id: None,
        native_state: None,
        addresses: Vec::new(),
        simulated,
        error: step.error.clone(),
    };
    if let Some(o) = out {
        apply_output(&mut v, &o);
    } else if let Some(p) = pending {
        v.cloud_name = Some(p.create_pending.name());
        v.cloud_id = p.cloud_id.map(|c| c.to_string());
    }
    Some(v)
}

fn apply_output(v: &mut ResourceView, o: &ResourceOutput) {
    v.cloud_name = Some(o.name.clone());
    v.cloud_id = Some(o.cloud_id.to_string());
    v.native_state = Some(o.native_state.clone());
    v.simulated = v.simulated || o.simulated;
    if !o.outputs.addresses.is_empty() {
        v.addresses = o
            .outputs
            .addresses
            .iter()
            .map(|a| AddressView {
                scope: match a.scope {
                    nuage_provider::AddressScope::Private => "private".into(),
                    nuage_provider::AddressScope::Public => "public".into(),
                },
                ip: a.ip.to_string(),
            })
            .collect();
    }
}

/// Adds the runs' progress and the resources to a request's view.
pub(crate) async fn add_runs(b: &Broker, row: &RequestRow, v: &mut RequestView) -> Result<()> {
    let simulated = row.simulated != 0;
    if let Some(id) = row.provision_id.as_deref().and_then(|i| i.parse().ok()) {
        let t = b.db().store().timeline(id).await?;
        v.provisioning = Some(RunView::of(&t));
        for s in &t.steps {
            if let Some(r) = resource_of(s, simulated) {
                v.resources.push(r);
            }
        }
        // A wait step's output is the ready server, with its addresses.
        for s in t.steps.iter().filter(|s| s.kind == "wait") {
            if let Some(o) = s
                .output
                .as_ref()
                .and_then(|x| serde_json::from_value::<ResourceOutput>(x.clone()).ok())
                && let Some(r) = v.resources.iter_mut().find(|r| r.name == o.resource)
            {
                apply_output(r, &o);
            }
        }
    }
    if let Some(id) = row.deprovision_id.as_deref().and_then(|i| i.parse().ok()) {
        let t = b.db().store().timeline(id).await?;
        v.deprovisioning = Some(RunView::of(&t));
        for s in &t.steps {
            let Some(resource) = s.name.strip_prefix("delete:") else {
                continue;
            };
            if let Some(r) = v.resources.iter_mut().find(|r| r.name == resource) {
                match s.state {
                    StepState::Succeeded => r.status = ResourceStatus::Deleted,
                    StepState::Running => r.status = ResourceStatus::Deleting,
                    StepState::Failed => {
                        r.status = ResourceStatus::Failed;
                        r.error = s.error.clone();
                    }
                    _ => {}
                }
            }
        }
    }
    Ok(())
}
