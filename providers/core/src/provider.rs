//! The [`Provider`] trait every adapter implements.

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::capability::{Capabilities, FreeCapacity};
use crate::error::Result;
use crate::observation::{Observation, Observed};
use crate::spec::ResourceSpec;

/// The family of cloud an adapter talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// AWS EC2 or an EC2-compatible cloud (Outscale).
    Aws,
    /// OpenStack (Nova, Neutron, Cinder, Glance).
    Openstack,
    /// A pool of libvirt hosts (dedicated hardware).
    Libvirt,
    /// The in-memory simulated cloud.
    Sim,
}

impl ProviderKind {
    /// Stable lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProviderKind::Aws => "aws",
            ProviderKind::Openstack => "openstack",
            ProviderKind::Libvirt => "libvirt",
            ProviderKind::Sim => "sim",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a provider instance is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderDescriptor {
    /// Family of cloud.
    pub kind: ProviderKind,
    /// Instance name from configuration (`aws-paris`, `outscale-secnum`, `sim`); the key of the
    /// [`ProviderRegistry`](crate::ProviderRegistry) and of per-provider rate limits.
    pub instance: String,
    /// True when nothing real is created.
    pub simulated: bool,
}

/// The operations of the contract, for metrics, rate limits and fault injection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// [`Provider::capabilities`].
    Capabilities,
    /// [`Provider::observe`].
    Observe,
    /// [`Provider::create`].
    Create,
    /// [`Provider::update`].
    Update,
    /// [`Provider::delete`].
    Delete,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 5] = [
        Operation::Capabilities,
        Operation::Observe,
        Operation::Create,
        Operation::Update,
        Operation::Delete,
    ];

    /// Stable lowercase name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Operation::Capabilities => "capabilities",
            Operation::Observe => "observe",
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a delete did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    /// The resource existed and is now gone.
    Deleted,
    /// Nothing existed: deleting what is gone is success.
    AlreadyAbsent,
    /// Deletion started and completes asynchronously: poll [`Provider::observe`] until
    /// [`Observation::Absent`] (or use [`wait_until_absent`](crate::wait_until_absent)).
    InProgress,
}

/// A cloud adapter: observes, creates, updates and deletes resources, idempotently, and decides
/// nothing (house rule 3). Object safe; the broker holds adapters as `Arc<dyn Provider>`.
///
/// Every operation finds the resource by the spec's identity ([`ResourceSpec::meta`]: the
/// deterministic name and `nuage:*` tags), never by a remembered cloud id, so a step that crashed
/// after the cloud call and before its checkpoint finds what it made.
///
/// Errors carry a neutral [`ErrorKind`](crate::ErrorKind) that tells the workflow engine whether
/// to retry. Adapters validate the spec ([`ResourceSpec::validate`]) before any cloud call.
#[async_trait]
pub trait Provider: Send + Sync {
    /// Who this instance is. Cheap, no I/O.
    fn descriptor(&self) -> &ProviderDescriptor;

    /// What this instance offers, for catalogue checks.
    async fn capabilities(&self) -> Result<Capabilities>;

    /// Looks the resource up by its identity. [`Observation::Absent`] when nothing exists (a
    /// server being terminated is still present, in state
    /// [`Deleting`](crate::ResourceState::Deleting)). Reports drift between spec and cloud.
    async fn observe(&self, spec: &ResourceSpec) -> Result<Observation>;

    /// Creates the resource, or returns it unchanged if one with this identity already exists
    /// (creating what exists returns it). The result may not be ready yet: poll
    /// [`observe`](Provider::observe) until [`Observed::is_ready`].
    async fn create(&self, spec: &ResourceSpec) -> Result<Observed>;

    /// Brings an existing resource in line with the spec (grow a volume, replace rules,
    /// resize a server). Errors with kind `NotFound` if absent, and `Terminal` for changes the
    /// cloud cannot make in place (a network's range).
    async fn update(&self, spec: &ResourceSpec) -> Result<Observed>;

    /// Deletes the resource and any duplicate carrying its identity. Deleting what is gone is
    /// success ([`DeleteOutcome::AlreadyAbsent`]). Deleting something others still depend on
    /// (a subnet with servers) fails with kind `Conflict`.
    async fn delete(&self, spec: &ResourceSpec) -> Result<DeleteOutcome>;

    /// What the instance can still take, for the catalogue's capacity of its offers: `Ok(None)`
    /// (the default) when it does not know, as with public clouds. Answered from what the
    /// adapter observes of its own infrastructure; never creates anything.
    async fn free_capacity(&self) -> Result<Option<FreeCapacity>> {
        Ok(None)
    }
}
