//! Capacity facts of a pool, for the catalogue's capacity of dedicated offers.

use super::{Health, Pool};

/// What a pool can still take, counting only schedulable hosts (healthy, not in maintenance)
/// and staying within each host's overcommit limits. A plain struct the broker maps onto an
/// offer's capacity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolCapacity {
    /// The pool's name.
    pub pool: String,
    /// Hosts in the config.
    pub hosts_total: u32,
    /// Hosts that may receive servers now.
    pub hosts_schedulable: u32,
    /// Hosts that failed their last call.
    pub hosts_unhealthy: u32,
    /// Hosts never synced yet.
    pub hosts_unknown: u32,
    /// Healthy hosts in maintenance.
    pub hosts_maintenance: u32,
    /// Sum of the vCPU limits of schedulable hosts.
    pub vcpus_limit: u64,
    /// vCPUs free on schedulable hosts.
    pub vcpus_free: u64,
    /// Sum of the memory limits of schedulable hosts, in MiB.
    pub memory_limit_mib: u64,
    /// Memory free on schedulable hosts, in MiB.
    pub memory_free_mib: u64,
    /// The most vCPUs free on one schedulable host (the largest server that could fit, CPU-wise).
    pub largest_free_vcpus: u64,
    /// The most memory free on one schedulable host, in MiB.
    pub largest_free_memory_mib: u64,
    /// Domains on all hosts (schedulable or not).
    pub domains: u64,
}

impl Pool {
    /// Summarises free vCPU and memory over the schedulable hosts.
    pub fn capacity(&self) -> PoolCapacity {
        let mut c = PoolCapacity {
            pool: self.name.clone(),
            hosts_total: self.hosts.len() as u32,
            ..PoolCapacity::default()
        };
        for h in &self.hosts {
            c.domains += h.domains.len() as u64;
            match h.health {
                Health::Unknown => c.hosts_unknown += 1,
                Health::Unhealthy { .. } => c.hosts_unhealthy += 1,
                Health::Healthy if h.config.maintenance => c.hosts_maintenance += 1,
                Health::Healthy => {
                    c.hosts_schedulable += 1;
                    c.vcpus_limit += h.vcpu_limit();
                    c.memory_limit_mib += h.memory_limit_mib();
                    let (v, m) = (h.free_vcpus(), h.free_memory_mib());
                    c.vcpus_free += v;
                    c.memory_free_mib += m;
                    c.largest_free_vcpus = c.largest_free_vcpus.max(v);
                    c.largest_free_memory_mib = c.largest_free_memory_mib.max(m);
                }
            }
        }
        c
    }

    /// How many servers of one size the pool could still take, host by host (what a flavor's
    /// capacity in the catalogue means). Zero-sized demands count as zero slots.
    pub fn slots_for(&self, vcpus: u32, memory_mib: u64) -> u64 {
        if vcpus == 0 || memory_mib == 0 {
            return 0;
        }
        self.hosts
            .iter()
            .filter(|h| h.schedulable())
            .map(|h| (h.free_vcpus() / u64::from(vcpus)).min(h.free_memory_mib() / memory_mib))
            .sum()
    }
}
