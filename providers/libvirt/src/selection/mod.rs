//! Host selection: which host runs each server of a request.
//!
//! Best-fit bin packing on vCPU and memory within each host's overcommit limits, after
//! anti-affinity: the servers of one group go to hosts holding the fewest of the group's
//! domains, then to racks holding the fewest, and only then to the host they fill best. When no
//! host fits, the answer is a [`Shortfall`] saying why each host was turned down.

mod shortfall;

pub use shortfall::Shortfall;

use crate::error::{Error, Result};
use crate::pool::Pool;

/// One server to place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// The server's (deterministic) name.
    pub name: String,
    /// Virtual CPUs, at least 1.
    pub vcpus: u32,
    /// Memory in MiB, at least 1.
    pub memory_mib: u64,
}

/// How strictly the servers of one group are kept apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Spread {
    /// Never two servers of the group on one host; refuse rather than share. Racks are spread
    /// as far as hosts allow.
    #[default]
    Hard,
    /// Spread across hosts then racks as far as capacity allows, sharing a host when it must.
    Soft,
}

/// A request for hosts: one or more servers, optionally in an anti-affinity group that also
/// counts the group's domains already on the hosts (servers placed by earlier calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The servers, placed largest first; the answer keeps this order.
    pub servers: Vec<Demand>,
    /// The anti-affinity group (servers of one request share it); `None` for no spreading.
    pub group: Option<String>,
    /// How strict the spreading is.
    pub spread: Spread,
    /// Only hosts of this site (the contract's zone); any site when `None`.
    pub site: Option<String>,
}

/// Where one server goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The server's name.
    pub server: String,
    /// The chosen host's name.
    pub host: String,
}

impl Pool {
    /// Chooses a host for every server of the request, or refuses with
    /// [`Error::NoCapacity`] when one does not fit (nothing is reserved either way: the caller
    /// records the domains it creates with [`Pool::record_domain`]). Deterministic: the same
    /// pool and request give the same answer.
    pub fn select(&self, request: &Request) -> Result<Vec<Assignment>> {
        for d in &request.servers {
            if d.vcpus == 0 || d.memory_mib == 0 {
                return Err(Error::InvalidSpec(format!(
                    "server `{}` needs at least 1 vCPU and 1 MiB of memory",
                    d.name
                )));
            }
        }
        // Group members per host and per rack, existing domains first; dense vectors indexed
        // by host, so the scan below does no hashing.
        let mut on_host: Vec<u32> = Vec::new();
        let mut on_rack: Vec<u32> = Vec::new();
        if let Some(group) = &request.group {
            on_host = vec![0; self.hosts.len()];
            on_rack = vec![0; self.rack_count];
            if let Some(hosts) = self.groups.get(group) {
                for (&i, &n) in hosts {
                    on_host[i] = n;
                    on_rack[self.hosts[i].rack] += n;
                }
            }
        }
        // Usage added by this request's earlier servers.
        let mut added: Vec<(u64, u64)> = vec![(0, 0); self.hosts.len()];

        let mut order: Vec<usize> = (0..request.servers.len()).collect();
        order.sort_by(|&a, &b| {
            let (da, db) = (&request.servers[a], &request.servers[b]);
            (db.vcpus, db.memory_mib)
                .cmp(&(da.vcpus, da.memory_mib))
                .then(a.cmp(&b))
        });
        let mut chosen = vec![usize::MAX; request.servers.len()];
        for k in order {
            let d = &request.servers[k];
            let i = self.best_host(d, request, &on_host, &on_rack, &added)?;
            chosen[k] = i;
            added[i].0 += u64::from(d.vcpus);
            added[i].1 += d.memory_mib;
            if request.group.is_some() {
                on_host[i] += 1;
                on_rack[self.hosts[i].rack] += 1;
            }
        }
        Ok(request
            .servers
            .iter()
            .zip(chosen)
            .map(|(d, i)| Assignment {
                server: d.name.clone(),
                host: self.hosts[i].name().to_owned(),
            })
            .collect())
    }

    fn best_host(
        &self,
        d: &Demand,
        request: &Request,
        on_host: &[u32],
        on_rack: &[u32],
        added: &[(u64, u64)],
    ) -> Result<usize> {
        let grouped = request.group.is_some();
        let mut short = Shortfall::new(d, self.hosts.len());
        // (members on host, members on rack, leftover score, index): smallest wins.
        let mut best: Option<(u32, u32, u64, usize)> = None;
        for (i, h) in self.hosts.iter().enumerate() {
            if let Some(site) = &request.site
                && h.config.labels.site.as_ref() != Some(site)
            {
                short.other_site += 1;
                continue;
            }
            if !h.schedulable() {
                short.count_unschedulable(h);
                continue;
            }
            let (av, am) = added[i];
            let (lim_v, lim_m) = (h.vcpu_limit(), h.memory_limit_mib());
            let free_v = lim_v.saturating_sub(h.used_vcpus + av);
            let free_m = lim_m.saturating_sub(h.used_memory_mib + am);
            short.see_free(free_v, free_m);
            if u64::from(d.vcpus) > free_v {
                short.too_few_vcpus += 1;
                continue;
            }
            if d.memory_mib > free_m {
                short.too_little_memory += 1;
                continue;
            }
            let (host_n, rack_n) = if grouped {
                (on_host[i], on_rack[h.rack])
            } else {
                (0, 0)
            };
            if host_n > 0 && request.spread == Spread::Hard {
                short.anti_affinity += 1;
                continue;
            }
            // Best fit: the least capacity left over, each resource as a share of its limit.
            let left_v = (free_v - u64::from(d.vcpus)) * 1_000_000 / lim_v.max(1);
            let left_m = (free_m - d.memory_mib) * 1_000_000 / lim_m.max(1);
            let key = (host_n, rack_n, left_v + left_m, i);
            if best.is_none_or(|b| key < b) {
                best = Some(key);
            }
        }
        best.map(|b| b.3).ok_or(Error::NoCapacity(short))
    }
}

#[cfg(test)]
mod tests;
