//! What an adapter saw in the cloud: absent, or present with its state and outputs.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use crate::spec::{CloudId, ResourceKind};

/// The result of looking a resource up by its identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
// Returned once per call and matched on at once; boxing would only make matching clumsier.
#[allow(clippy::large_enum_variant)]
pub enum Observation {
    /// Nothing with this identity exists (or it is fully deleted).
    Absent,
    /// The resource exists.
    Present(Observed),
}

impl Observation {
    /// Whether nothing exists.
    pub fn is_absent(&self) -> bool {
        matches!(self, Observation::Absent)
    }

    /// Whether the resource exists and is ready to use.
    pub fn is_ready(&self) -> bool {
        self.present().is_some_and(Observed::is_ready)
    }

    /// The observed resource, if present.
    pub fn present(&self) -> Option<&Observed> {
        match self {
            Observation::Present(o) => Some(o),
            Observation::Absent => None,
        }
    }

    /// The observed resource, if present, by value.
    pub fn into_present(self) -> Option<Observed> {
        match self {
            Observation::Present(o) => Some(o),
            Observation::Absent => None,
        }
    }
}

/// A resource as found in the cloud.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// Kind of resource.
    pub kind: ResourceKind,
    /// The id the cloud gave it; the broker keeps it in one field and passes it to dependents.
    pub cloud_id: CloudId,
    /// Neutral lifecycle state.
    pub state: ResourceState,
    /// The cloud's own state word (`running`, `available`, `ACTIVE`, `in-use`).
    pub native_state: String,
    /// Differences between the spec and what exists; empty when up to date.
    #[serde(default)]
    pub drift: Vec<Drift>,
    /// Values the broker shows or passes on: addresses, zone, flavor, device.
    #[serde(default)]
    pub outputs: Outputs,
    /// Why the resource failed, when `state` is [`ResourceState::Failed`].
    #[serde(default)]
    pub message: Option<String>,
    /// Other resources carrying the same identity (a duplicate left by a cloud that ignored an
    /// idempotency token). The broker reports them; `delete` removes them too.
    #[serde(default)]
    pub duplicates: Vec<CloudId>,
    /// True when the resource lives in a simulated cloud and does not exist anywhere.
    pub simulated: bool,
}

impl Observed {
    /// Whether the resource is ready to use.
    pub fn is_ready(&self) -> bool {
        self.state == ResourceState::Ready
    }

    /// Whether what exists matches the spec.
    pub fn is_up_to_date(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Neutral lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceState {
    /// Being created or attached; poll again.
    Creating,
    /// Usable.
    Ready,
    /// Being changed by an update (resize, rule change); poll again.
    Updating,
    /// Exists but stopped (a server powered off).
    Stopped,
    /// Being deleted; poll until absent.
    Deleting,
    /// Broken; see [`Observed::message`]. Delete and recreate.
    Failed,
}

/// One difference between spec and cloud.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    /// Field that differs (`flavor`, `size_gib`, `rules`).
    pub field: String,
    /// Value the spec asks for.
    pub desired: String,
    /// Value found in the cloud.
    pub actual: String,
}

impl Drift {
    /// A difference.
    pub fn new(field: impl Into<String>, desired: impl ToString, actual: impl ToString) -> Self {
        Drift {
            field: field.into(),
            desired: desired.to_string(),
            actual: actual.to_string(),
        }
    }
}

/// Values produced by the cloud.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outputs {
    /// IP addresses (servers).
    #[serde(default)]
    pub addresses: Vec<Address>,
    /// Availability zone.
    #[serde(default)]
    pub zone: Option<String>,
    /// Native flavor or instance type chosen (servers).
    #[serde(default)]
    pub flavor: Option<String>,
    /// Native image id used (servers).
    #[serde(default)]
    pub image: Option<String>,
    /// Dedicated host the server runs on.
    #[serde(default)]
    pub host: Option<String>,
    /// Device name (attachments).
    #[serde(default)]
    pub device: Option<String>,
    /// Size in GiB (volumes).
    #[serde(default)]
    pub size_gib: Option<u32>,
    /// Anything else worth keeping, by name.
    #[serde(default)]
    pub extra: BTreeMap<String, String>,
}

/// An address of a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Private (inside the network) or public.
    pub scope: AddressScope,
    /// The address.
    pub ip: IpAddr,
}

/// Reach of an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddressScope {
    /// Reachable inside the network.
    Private,
    /// Reachable from outside.
    Public,
}
