//! The pool model: every host with its settings, health, synced facts and the resources used by
//! its domains. Pure data, no I/O: the connection code feeds it facts and failures, and host
//! selection and capacity facts read it.

mod capacity;
mod host;

use std::collections::HashMap;

pub use capacity::PoolCapacity;
pub use host::{Footprint, Health, Host};

use crate::config::{PoolConfig, ResolvedHost};
use crate::error::{Error, Result};
use crate::inventory::HostFacts;

/// A pool of libvirt hosts and what is known about each.
#[derive(Debug, Clone)]
pub struct Pool {
    name: String,
    pub(crate) hosts: Vec<Host>,
    by_name: HashMap<String, usize>,
    /// Anti-affinity group → (host index → number of the group's domains on that host).
    pub(crate) groups: HashMap<String, HashMap<usize, u32>>,
    /// Number of distinct failure domains (racks); hosts without a rack label get their own.
    pub(crate) rack_count: usize,
}

impl Pool {
    /// Builds the pool from a validated config. Hosts start in [`Health::Unknown`] and receive no
    /// servers until their facts are applied by an inventory sync.
    pub fn new(config: &PoolConfig) -> Result<Pool> {
        let resolved = config.resolve()?;
        Ok(Pool::from_resolved(config.name.clone(), resolved))
    }

    fn from_resolved(name: String, resolved: Vec<ResolvedHost>) -> Pool {
        let mut racks: HashMap<(Option<String>, String), usize> = HashMap::new();
        let mut hosts = Vec::with_capacity(resolved.len());
        let mut by_name = HashMap::with_capacity(resolved.len());
        for (i, cfg) in resolved.into_iter().enumerate() {
            let key = match &cfg.labels.rack {
                Some(rack) => (cfg.labels.site.clone(), rack.clone()),
                // A host without a rack label is a failure domain of its own.
                None => (None, format!("\u{0}host:{}", cfg.name)),
            };
            let next = racks.len();
            let rack = *racks.entry(key).or_insert(next);
            by_name.insert(cfg.name.clone(), i);
            hosts.push(Host::new(cfg, rack));
        }
        Pool {
            name,
            hosts,
            by_name,
            groups: HashMap::new(),
            rack_count: racks.len(),
        }
    }

    /// The pool's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// All hosts, in config order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// A host by name.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.by_name.get(name).map(|&i| &self.hosts[i])
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.by_name
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownHost(name.to_owned()))
    }

    /// Replaces what is known of a host with freshly synced facts and marks it healthy.
    pub fn apply_facts(&mut self, host: &str, facts: HostFacts) -> Result<()> {
        let i = self.index(host)?;
        for (_, fp) in self.hosts[i].domains.drain() {
            if let Some(group) = fp.group {
                Self::ungroup(&mut self.groups, &group, i);
            }
        }
        let h = &mut self.hosts[i];
        h.cpus = facts.cpus;
        h.memory_mib = facts.memory_mib;
        h.used_vcpus = 0;
        h.used_memory_mib = 0;
        h.health = Health::Healthy;
        for d in facts.domains {
            let fp = Footprint {
                vcpus: d.vcpus,
                memory_mib: d.memory_mib,
                group: d.tag.and_then(|t| t.group),
            };
            self.insert_domain(i, d.name, fp);
        }
        Ok(())
    }

    /// Marks a host unhealthy: it receives no servers until it answers again
    /// ([`Pool::apply_facts`] or [`Pool::mark_healthy`]).
    pub fn mark_unhealthy(&mut self, host: &str, reason: impl Into<String>) -> Result<()> {
        let i = self.index(host)?;
        self.hosts[i].health = Health::Unhealthy {
            reason: reason.into(),
        };
        Ok(())
    }

    /// Marks a host healthy again without a full sync (it answered a call). A host whose facts
    /// were never synced stays [`Health::Unknown`].
    pub fn mark_healthy(&mut self, host: &str) -> Result<()> {
        let i = self.index(host)?;
        let h = &mut self.hosts[i];
        if h.cpus > 0 {
            h.health = Health::Healthy;
        }
        Ok(())
    }

    /// Puts a host in or out of maintenance (no new servers while in maintenance).
    pub fn set_maintenance(&mut self, host: &str, maintenance: bool) -> Result<()> {
        let i = self.index(host)?;
        self.hosts[i].config.maintenance = maintenance;
        Ok(())
    }

    /// Records a domain just created on a host, so the next selection sees its footprint
    /// without waiting for a sync. Recording a name already there replaces its footprint.
    pub fn record_domain(&mut self, host: &str, name: &str, footprint: Footprint) -> Result<()> {
        let i = self.index(host)?;
        self.remove_domain(i, name);
        self.insert_domain(i, name.to_owned(), footprint);
        Ok(())
    }

    /// Forgets a domain just deleted from a host. Forgetting an unknown name does nothing.
    pub fn forget_domain(&mut self, host: &str, name: &str) -> Result<()> {
        let i = self.index(host)?;
        self.remove_domain(i, name);
        Ok(())
    }

    /// The hosts whose last known facts list a domain of this name (a hint: the hosts
    /// themselves are the truth).
    pub fn hosts_holding(&self, domain: &str) -> Vec<&str> {
        self.hosts
            .iter()
            .filter(|h| h.domains.contains_key(domain))
            .map(|h| h.config.name.as_str())
            .collect()
    }

    fn insert_domain(&mut self, i: usize, name: String, fp: Footprint) {
        let h = &mut self.hosts[i];
        h.used_vcpus += u64::from(fp.vcpus);
        h.used_memory_mib += fp.memory_mib;
        if let Some(group) = &fp.group {
            *self
                .groups
                .entry(group.clone())
                .or_default()
                .entry(i)
                .or_insert(0) += 1;
        }
        if let Some(old) = h.domains.insert(name, fp) {
            // Same name listed twice in one sync: keep the last, drop the first's usage.
            h.used_vcpus -= u64::from(old.vcpus);
            h.used_memory_mib -= old.memory_mib;
            if let Some(group) = old.group {
                Self::ungroup(&mut self.groups, &group, i);
            }
        }
    }

    fn remove_domain(&mut self, i: usize, name: &str) {
        let h = &mut self.hosts[i];
        if let Some(fp) = h.domains.remove(name) {
            h.used_vcpus -= u64::from(fp.vcpus);
            h.used_memory_mib -= fp.memory_mib;
            if let Some(group) = fp.group {
                Self::ungroup(&mut self.groups, &group, i);
            }
        }
    }

    fn ungroup(groups: &mut HashMap<String, HashMap<usize, u32>>, group: &str, i: usize) {
        if let Some(hosts) = groups.get_mut(group) {
            if let Some(n) = hosts.get_mut(&i) {
                *n -= 1;
                if *n == 0 {
                    hosts.remove(&i);
                }
            }
            if hosts.is_empty() {
                groups.remove(group);
            }
        }
    }
}

#[cfg(test)]
mod tests;
