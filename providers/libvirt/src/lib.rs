//! Dedicated-hosts adapter: Nuage's provider for pools of KVM hosts driven through libvirt.
//!
//! The dedicated tier is infrastructure dedicated to the State at a qualified provider, with
//! virtualisation mastered in-house. This crate manages a pool of such hosts and decides which
//! host runs each server:
//!
//! - [`PoolConfig`]: the hosts (libvirt URIs, site and rack labels, overcommit ratios,
//!   maintenance flags), validated once;
//! - [`Pool`]: the model of the pool (health, facts synced from the hosts, the domains on each),
//!   with [`Pool::select`] (best-fit bin packing with anti-affinity, refusing with a
//!   [`Shortfall`] when nothing fits) and [`Pool::capacity`] (capacity facts for the catalogue);
//! - [`xml`]: the libvirt XML of domains, volumes and networks, generated from plain specs, and
//!   the reading of domain XML back into facts.
//!
//! With the `libvirt` cargo feature (needs `libvirt-dev`), the crate also holds the connection
//! code that talks to the hosts through the `virt` bindings, off the async runtime.
//!
//! It is not a hypervisor manager: it does not install hosts, migrate guests or balance load
//! after placement, and, like every adapter, it decides nothing beyond which host of its pool
//! runs a server (which offer to use is the placement layer's decision).

mod config;
mod contract_error;
mod error;
#[cfg_attr(not(feature = "libvirt"), allow(dead_code))]
mod ids;
mod inventory;
#[cfg(feature = "libvirt")]
mod link;
mod pool;
#[cfg(feature = "libvirt")]
mod provider;
mod selection;
mod settings;
mod uri;
pub mod xml;

pub use config::{
    HostConfig, HostDefaults, HostLabels, Overcommit, PoolConfig, Reserved, ResolvedHost,
};
pub use error::{Error, Result};
pub use inventory::{DomainFacts, DomainState, DomainTag, HostFacts};
pub use pool::{Footprint, Health, Host, Pool, PoolCapacity};
#[cfg(feature = "libvirt")]
pub use provider::LibvirtProvider;
pub use selection::{Assignment, Demand, Request, Shortfall, Spread};
pub use settings::{LibvirtSettings, SpreadSetting, Timing, default_flavors};
pub use uri::{Driver, HostUri, Transport};
