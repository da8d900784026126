//! Why a server fits on no host: the capacity error the placement layer acts on.

use std::fmt;

use super::Demand;
use crate::pool::{Health, Host};

/// Why a server could not be placed: every host of the pool counted once, under the first
/// reason that turned it down.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shortfall {
    /// The server that did not fit.
    pub server: String,
    /// Its vCPUs.
    pub vcpus: u32,
    /// Its memory in MiB.
    pub memory_mib: u64,
    /// Hosts in the pool.
    pub hosts: u32,
    /// Hosts of another site than the one asked for.
    pub other_site: u32,
    /// Hosts that failed their last call.
    pub unhealthy: u32,
    /// Hosts never synced.
    pub unknown: u32,
    /// Hosts in maintenance.
    pub maintenance: u32,
    /// Hosts without enough free vCPUs within overcommit.
    pub too_few_vcpus: u32,
    /// Hosts without enough free memory within overcommit.
    pub too_little_memory: u32,
    /// Hosts that already hold a server of the same anti-affinity group.
    pub anti_affinity: u32,
    /// The most vCPUs free on one schedulable host.
    pub largest_free_vcpus: u64,
    /// The most memory free on one schedulable host, in MiB.
    pub largest_free_memory_mib: u64,
}

impl Shortfall {
    pub(crate) fn new(d: &Demand, hosts: usize) -> Shortfall {
        Shortfall {
            server: d.name.clone(),
            vcpus: d.vcpus,
            memory_mib: d.memory_mib,
            hosts: hosts as u32,
            ..Shortfall::default()
        }
    }

    pub(crate) fn count_unschedulable(&mut self, h: &Host) {
        match h.health() {
            Health::Unknown => self.unknown += 1,
            Health::Unhealthy { .. } => self.unhealthy += 1,
            Health::Healthy => self.maintenance += 1,
        }
    }

    pub(crate) fn see_free(&mut self, vcpus: u64, memory_mib: u64) {
        self.largest_free_vcpus = self.largest_free_vcpus.max(vcpus);
        self.largest_free_memory_mib = self.largest_free_memory_mib.max(memory_mib);
    }

    /// Whether the pool might take the server once unavailable hosts come back (some hosts were
    /// only unhealthy, unsynced or in maintenance); `false` means it is full for this size.
    pub fn may_clear(&self) -> bool {
        self.unhealthy + self.unknown + self.maintenance > 0
    }
}

impl fmt::Display for Shortfall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server `{}` ({} vCPU, {} MiB) fits on none of {} hosts: {} in another site, \
             {} unhealthy, {} not synced, \
             {} in maintenance, {} short of vCPUs, {} short of memory, {} excluded by \
             anti-affinity (largest free: {} vCPU, {} MiB)",
            self.server,
            self.vcpus,
            self.memory_mib,
            self.hosts,
            self.other_site,
            self.unhealthy,
            self.unknown,
            self.maintenance,
            self.too_few_vcpus,
            self.too_little_memory,
            self.anti_affinity,
            self.largest_free_vcpus,
            self.largest_free_memory_mib,
        )
    }
}
