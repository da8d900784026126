//! One host of the pool as the model sees it.

use std::collections::HashMap;

use crate::config::ResolvedHost;

/// Whether a host can be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Never synced: its capacity is unknown, so it receives nothing.
    Unknown,
    /// Answered its last call.
    Healthy,
    /// Failed its last call; skipped until it answers again.
    Unhealthy {
        /// Why (libvirt's message).
        reason: String,
    },
}

/// What one domain takes from its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// The anti-affinity group, for Nuage's domains that have one.
    pub group: Option<String>,
}

/// A host: its settings, health, physical resources and the domains on it.
#[derive(Debug, Clone)]
pub struct Host {
    pub(crate) config: ResolvedHost,
    pub(crate) rack: usize,
    pub(crate) health: Health,
    pub(crate) cpus: u32,
    pub(crate) memory_mib: u64,
    pub(crate) used_vcpus: u64,
    pub(crate) used_memory_mib: u64,
    pub(crate) domains: HashMap<String, Footprint>,
}

impl Host {
    pub(crate) fn new(config: ResolvedHost, rack: usize) -> Host {
        Host {
            config,
            rack,
            health: Health::Unknown,
            cpus: 0,
            memory_mib: 0,
            used_vcpus: 0,
            used_memory_mib: 0,
            domains: HashMap::new(),
        }
    }

    /// The host's settings.
    pub fn config(&self) -> &ResolvedHost {
        &self.config
    }

    /// The host's name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Its health.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Whether it may receive new servers: healthy and not in maintenance.
    pub fn schedulable(&self) -> bool {
        self.health == Health::Healthy && !self.config.maintenance
    }

    /// Physical CPUs, from the last sync (0 before any).
    pub fn cpus(&self) -> u32 {
        self.cpus
    }

    /// Physical memory in MiB, from the last sync (0 before any).
    pub fn memory_mib(&self) -> u64 {
        self.memory_mib
    }

    /// The most vCPUs guests may have in total: (CPUs − reserved) × CPU overcommit, rounded
    /// down.
    pub fn vcpu_limit(&self) -> u64 {
        let usable = self.cpus.saturating_sub(self.config.reserved.cpus);
        (f64::from(usable) * self.config.overcommit.cpu).floor() as u64
    }

    /// The most memory guests may have in total, in MiB: (memory − reserved) × memory
    /// overcommit, rounded down.
    pub fn memory_limit_mib(&self) -> u64 {
        let usable = self
            .memory_mib
            .saturating_sub(self.config.reserved.memory_mib);
        (usable as f64 * self.config.overcommit.memory).floor() as u64
    }

    /// vCPUs of the domains on it.
    pub fn used_vcpus(&self) -> u64 {
        self.used_vcpus
    }

    /// Memory of the domains on it, in MiB.
    pub fn used_memory_mib(&self) -> u64 {
        self.used_memory_mib
    }

    /// vCPUs still free within the overcommit limit.
    pub fn free_vcpus(&self) -> u64 {
        self.vcpu_limit().saturating_sub(self.used_vcpus)
    }

    /// Memory still free within the overcommit limit, in MiB.
    pub fn free_memory_mib(&self) -> u64 {
        self.memory_limit_mib().saturating_sub(self.used_memory_mib)
    }

    /// Names of the domains on it.
    pub fn domain_names(&self) -> impl Iterator<Item = &str> {
        self.domains.keys().map(String::as_str)
    }

    /// The footprint of one domain on it.
    pub fn domain(&self, name: &str) -> Option<&Footprint> {
        self.domains.get(name)
    }
}
