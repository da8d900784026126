//! The provider contract every Nuage cloud adapter implements, and the in-memory `sim` cloud.
//!
//! This crate is the small interface between the broker and the clouds (house rules 3 to 6):
//! - [`ResourceSpec`]: what the broker wants (network, subnet, security group, server, volume,
//!   attachment) in provider-neutral terms, named by a [`ResourceMeta`] (tenant, request,
//!   logical name) that yields a deterministic cloud name and `nuage:*` tags;
//! - [`Provider`]: the object-safe trait (`Arc<dyn Provider>`) with `observe`, `create`,
//!   `update` and `delete`, all idempotent and all finding resources by identity;
//! - [`Observation`]: absent, or present with cloud id, state, drift and outputs;
//! - [`Error`] with a neutral [`ErrorKind`] (not found, conflict, throttled with retry-after,
//!   quota, capacity, auth, transient, terminal), the native code, and retry helpers;
//! - [`Capabilities`] for catalogue checks, [`ProviderRegistry`], [`Secret`], and bounded waits
//!   ([`wait_until_ready`], [`wait_until_absent`]);
//! - [`sim::SimCloud`]: a stateful in-memory cloud with latency, asynchronous readiness, quotas,
//!   capacity and fault injection, deterministic under a seed, for demos, benchmarks and chaos
//!   tests. Everything it returns is marked simulated.
//!
//! It is not an adapter for any real cloud (those live in `nuage-provider-aws`,
//! `-openstack`, `-libvirt`) and holds no HTTP client or SDK: it builds fast.

mod capability;
mod cidr;
mod error;
mod name;
mod observation;
mod provider;
mod registry;
mod secret;
mod serde_ms;
pub mod sim;
mod spec;
mod wait;

pub use capability::{Capabilities, Flavor, FreeCapacity, ImageInfo, smallest_fitting};
pub use cidr::Cidr;
pub use error::{Error, ErrorKind, Result};
pub use name::{
    MAX_ID_LEN, MAX_RESOURCE_LEN, NAME_PREFIX, ResourceMeta, TAG_MANAGED, TAG_REQUEST,
    TAG_RESOURCE, TAG_TENANT, stable_hash,
};
pub use observation::{
    Address, AddressScope, Drift, Observation, Observed, Outputs, ResourceState,
};
pub use provider::{DeleteOutcome, Operation, Provider, ProviderDescriptor, ProviderKind};
pub use registry::ProviderRegistry;
pub use secret::Secret;
pub use spec::{
    AttachmentSpec, CloudId, Direction, ImageRef, MAX_RAM_MIB, MAX_RULES, MAX_USER_DATA, MAX_VCPUS,
    MAX_VOLUME_GIB, MIN_RAM_MIB, NetworkSpec, PortRange, Protocol, ResourceKind, ResourceSpec,
    SecurityGroupSpec, SecurityRule, ServerSpec, SpecBody, SubnetSpec, VolumeSpec,
};
pub use wait::{WaitOptions, wait_until_absent, wait_until_ready};
