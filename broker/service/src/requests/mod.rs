//! Service requests: submit (validate, place, enforce quota and budget, store, start the
//! provisioning run), read, list, delete. The HTTP handlers in [`crate::api`] are thin shells
//! over these operations.

mod create;
mod delete;
pub(crate) mod store;
mod view;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

pub use create::{Submission, Submitted};
pub use view::{ResourceStatus, ResourceView, RunView};

use crate::auth::Principal;
use crate::error::{Error, Result};
use crate::service::Broker;
use store::{ListFilter, RequestRow};

/// A request's state, derived from its workflow runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// Stored; its provisioning run is about to start.
    Accepted,
    /// Its resources are being created.
    Provisioning,
    /// Every resource exists and is ready.
    Ready,
    /// Provisioning stopped on an error; an operator may retry or compensate, the requester may
    /// delete.
    Failed,
    /// What was created is being removed after a failure.
    RollingBack,
    /// What was created was removed after a failure.
    RolledBack,
    /// An operator cancelled provisioning; what was created is being removed.
    Cancelling,
    /// Cancelled; nothing remains.
    Cancelled,
    /// Deletion asked; resources are being removed.
    Deleting,
    /// Deleted; nothing remains.
    Deleted,
    /// Removing the resources failed; an operator must act.
    DeleteFailed,
}

impl RequestState {
    /// Every state.
    pub const ALL: [RequestState; 11] = [
        RequestState::Accepted,
        RequestState::Provisioning,
        RequestState::Ready,
        RequestState::Failed,
        RequestState::RollingBack,
        RequestState::RolledBack,
        RequestState::Cancelling,
        RequestState::Cancelled,
        RequestState::Deleting,
        RequestState::Deleted,
        RequestState::DeleteFailed,
    ];

    /// The state's name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Accepted => "accepted",
            RequestState::Provisioning => "provisioning",
            RequestState::Ready => "ready",
            RequestState::Failed => "failed",
            RequestState::RollingBack => "rolling_back",
            RequestState::RolledBack => "rolled_back",
            RequestState::Cancelling => "cancelling",
            RequestState::Cancelled => "cancelled",
            RequestState::Deleting => "deleting",
            RequestState::Deleted => "deleted",
            RequestState::DeleteFailed => "delete_failed",
        }
    }

    /// Parses a state name.
    pub fn parse(s: &str) -> Option<RequestState> {
        RequestState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether nothing more will happen without someone acting.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            RequestState::Ready
                | RequestState::Failed
                | RequestState::RolledBack
                | RequestState::Cancelled
                | RequestState::Deleted
                | RequestState::DeleteFailed
        )
    }
}

/// Where a request was placed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlacementView {
    /// The chosen offer.
    pub offer: String,
    /// Its tier.
    pub tier: String,
    /// Its region.
    pub region: String,
    /// The adapter (`ec2`, `openstack`, `libvirt`, `sim`).
    pub adapter: String,
    /// The provider instance.
    pub instance: String,
    /// True when the instance is simulated: nothing real is created.
    pub simulated: bool,
}

/// The estimated cost.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CostView {
    /// Euros per month, excluding VAT.
    pub monthly_eur: f64,
    /// Always `EUR`.
    pub currency: String,
}

/// What a request holds against its tenant's quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct TotalsView {
    /// vCPUs.
    pub vcpus: i64,
    /// Memory, GiB.
    pub ram_gib: i64,
    /// Block storage, GiB.
    pub storage_gib: i64,
}

/// A service request as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RequestView {
    /// Its id.
    pub id: String,
    /// Its name (unique among the tenant's live requests).
    pub name: String,
    /// Its tenant.
    pub tenant: String,
    /// Its state.
    pub state: RequestState,
    /// True when placed on a simulated cloud: nothing real exists.
    pub simulated: bool,
    /// Submission time.
    pub created_at: DateTime<Utc>,
    /// Who submitted it.
    pub created_by: String,
    /// When deletion was asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_requested_at: Option<DateTime<Utc>>,
    /// Where it went.
    pub placement: PlacementView,
    /// The estimated cost.
    pub cost: CostView,
    /// What it holds against the tenant's quota.
    pub totals: TotalsView,
    /// `sha256:` of the decision record (cited in the audit log).
    pub decision_digest: String,
    /// The decision record (chosen offer, cost lines, every other offer's fate).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub decision: Option<Value>,
    /// The request document as submitted (normalized).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub request: Option<Value>,
    /// Its resources, with cloud ids and addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<ResourceView>,
    /// The provisioning run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provisioning: Option<RunView>,
    /// The deprovisioning run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deprovisioning: Option<RunView>,
}

/// One page of a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RequestPage {
    /// The requests, newest first (without documents or resources).
    pub items: Vec<RequestView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Filters of [`Broker::list_requests`].
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Only this tenant (global tokens; a tenant's token always sees its own).
    pub tenant: Option<String>,
    /// Only these states.
    pub states: Vec<RequestState>,
    /// Only this name.
    pub name: Option<String>,
    /// Only this offer.
    pub offer: Option<String>,
    /// Created at or after.
    pub created_after: Option<DateTime<Utc>>,
    /// Created before.
    pub created_before: Option<DateTime<Utc>>,
    /// The cursor of the previous page.
    pub cursor: Option<String>,
    /// Page size (1 to 500, default 50).
    pub limit: Option<u32>,
}

pub(crate) fn time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

impl RequestRow {
    pub(crate) fn state(&self) -> RequestState {
        RequestState::parse(&self.state).unwrap_or(RequestState::Failed)
    }

    fn view(&self) -> RequestView {
        RequestView {
            id: self.id.clone(),
            name: self.name.clone(),
            tenant: self.tenant.clone(),
            state: self.state(),
            simulated: self.simulated != 0,
            created_at: time(self.created_at),
            created_by: self.created_by.clone(),
            delete_requested_at: self.delete_requested_at.map(time),
            placement: PlacementView {
                offer: self.offer.clone(),
                tier: self.tier.clone(),
                region: self.region.clone(),
                adapter: self.adapter.clone(),
                instance: self.instance.clone(),
                simulated: self.simulated != 0,
            },
            cost: CostView {
                monthly_eur: nuage_placement::Money::from_micros(self.monthly_micros).euros(),
                currency: "EUR".into(),
            },
            totals: TotalsView {
                vcpus: self.vcpus,
                ram_gib: self.ram_gib,
                storage_gib: self.storage_gib,
            },
            decision_digest: self.decision_digest.clone(),
            decision: self
                .decision
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            request: self
                .request
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok()),
            resources: Vec::new(),
            provisioning: None,
            deprovisioning: None,
        }
    }
}

impl Broker {
    /// A request visible to the caller (404 for absent ones and other tenants' alike).
    pub(crate) async fn visible_request(&self, who: &Principal, id: &str) -> Result<RequestRow> {
        if id.is_empty() || id.len() > 64 {
            return Err(Error::NotFound(format!("request {id}")));
        }
        match store::get(self.db(), id).await? {
            Some(row) if who.sees(&row.tenant) => Ok(row),
            _ => Err(Error::NotFound(format!("request {id}"))),
        }
    }

    /// One request: state, decision, resources with cloud ids and addresses, cost, progress.
    pub async fn get_request(&self, who: &Principal, id: &str) -> Result<RequestView> {
        let row = self.visible_request(who, id).await?;
        self.full_view(&row).await
    }

    pub(crate) async fn full_view(&self, row: &RequestRow) -> Result<RequestView> {
        let mut v = row.view();
        view::add_runs(self, row, &mut v).await?;
        Ok(v)
    }

    /// Requests the caller may see, newest first, a page at a time.
    pub async fn list_requests(&self, who: &Principal, q: &RequestQuery) -> Result<RequestPage> {
        let tenant = match (&who.tenant, &q.tenant) {
            (Some(own), Some(asked)) if own != asked => {
                // another tenant's requests do not exist for this caller
                return Ok(RequestPage {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
            (Some(own), _) => Some(own.clone()),
            (None, asked) => asked.clone(),
        };
        let limit = q.limit.unwrap_or(50).clamp(1, 500);
        let rows = store::list(
            self.db(),
            &ListFilter {
                tenant,
                states: q.states.iter().map(|s| s.as_str().to_owned()).collect(),
                name: q.name.clone(),
                offer: q.offer.clone(),
                created_after: q.created_after.map(|t| t.timestamp_millis()),
                created_before: q.created_before.map(|t| t.timestamp_millis()),
                before_id: q.cursor.clone(),
                limit: limit + 1,
            },
        )
        .await?;
        let more = rows.len() > limit as usize;
        let items: Vec<RequestView> = rows
            .iter()
            .take(limit as usize)
            .map(RequestRow::view)
            .collect();
        Ok(RequestPage {
            next_cursor: if more {
                items.last().map(|v| v.id.clone())
            } else {
                None
            },
            items,
        })
    }
}
