//! The sim cloud's state: resources, identity indexes, dependencies, usage.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

use tokio::time::Instant;

use crate::capability::Flavor;
use crate::name::{ResourceMeta, stable_hash};
use crate::spec::{CloudId, ResourceKind, SpecBody};

use super::config::{Capacity, Quotas, Readiness};

/// Lifecycle phase of a simulated resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phase {
    Creating,
    Ready,
    Updating,
    Deleting,
}

/// One simulated resource.
#[derive(Clone, Debug)]
pub(super) struct Entry {
    pub(super) cloud_id: CloudId,
    pub(super) kind: ResourceKind,
    pub(super) meta: ResourceMeta,
    /// The resource as it exists (the spec it was created or last updated from).
    pub(super) body: SpecBody,
    pub(super) phase: Phase,
    pub(super) since: Instant,
    pub(super) observes: u32,
    pub(super) zone: Option<String>,
    pub(super) flavor: Option<Flavor>,
    pub(super) address: Option<IpAddr>,
    pub(super) device: Option<String>,
    pub(super) host: Option<String>,
    /// Cloud ids this resource depends on.
    pub(super) deps: Vec<CloudId>,
    /// Cloud ids depending on this resource.
    pub(super) dependents: BTreeSet<CloudId>,
    /// Next host number handed out (subnets).
    pub(super) next_address: u64,
    /// What it consumes of its tenant's quotas and of the cloud's capacity.
    pub(super) charge: Usage,
}

/// Consumption counted against quotas and capacity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Servers.
    pub servers: u64,
    /// vCPUs.
    pub vcpus: u64,
    /// Memory, MiB.
    pub ram_mib: u64,
    /// Volumes.
    pub volumes: u64,
    /// Volume storage, GiB.
    pub volume_gib: u64,
    /// Networks.
    pub networks: u64,
    /// Dedicated hosts.
    pub dedicated_hosts: u64,
}

impl Usage {
    fn add(&mut self, other: &Usage) {
        self.servers += other.servers;
        self.vcpus += other.vcpus;
        self.ram_mib += other.ram_mib;
        self.volumes += other.volumes;
        self.volume_gib += other.volume_gib;
        self.networks += other.networks;
        self.dedicated_hosts += other.dedicated_hosts;
    }

    fn sub(&mut self, other: &Usage) {
        self.servers -= other.servers;
        self.vcpus -= other.vcpus;
        self.ram_mib -= other.ram_mib;
        self.volumes -= other.volumes;
        self.volume_gib -= other.volume_gib;
        self.networks -= other.networks;
        self.dedicated_hosts -= other.dedicated_hosts;
    }

    /// The first per-tenant quota that `self + extra` would exceed.
    pub(super) fn exceeded_quota(&self, extra: &Usage, q: &Quotas) -> Option<&'static str> {
        let over = |used: u64, add: u64, limit: Option<u64>| {
            add > 0 && limit.is_some_and(|l| used + add > l)
        };
        [
            ("servers", over(self.servers, extra.servers, q.servers)),
            ("vcpus", over(self.vcpus, extra.vcpus, q.vcpus)),
            ("ram_mib", over(self.ram_mib, extra.ram_mib, q.ram_mib)),
            ("volumes", over(self.volumes, extra.volumes, q.volumes)),
            (
                "volume_gib",
                over(self.volume_gib, extra.volume_gib, q.volume_gib),
            ),
            ("networks", over(self.networks, extra.networks, q.networks)),
        ]
        .into_iter()
        .find_map(|(name, over)| over.then_some(name))
    }

    /// The first capacity that `self + extra` would exhaust.
    pub(super) fn exceeded_capacity(&self, extra: &Usage, c: &Capacity) -> Option<&'static str> {
        let over = |used: u64, add: u64, limit: Option<u64>| {
            add > 0 && limit.is_some_and(|l| used + add > l)
        };
        [
            ("vcpus", over(self.vcpus, extra.vcpus, c.vcpus)),
            ("ram_mib", over(self.ram_mib, extra.ram_mib, c.ram_mib)),
            (
                "dedicated_hosts",
                over(
                    self.dedicated_hosts,
                    extra.dedicated_hosts,
                    c.dedicated_hosts,
                ),
            ),
        ]
        .into_iter()
        .find_map(|(name, over)| over.then_some(name))
    }
}

/// Every simulated resource and the indexes over them.
#[derive(Debug, Default)]
pub(super) struct Inventory {
    pub(super) entries: HashMap<CloudId, Entry>,
    by_identity: HashMap<(ResourceKind, ResourceMeta), CloudId>,
    by_pair: HashMap<(CloudId, CloudId), CloudId>,
    incarnations: HashMap<(ResourceKind, ResourceMeta), u64>,
    calls: HashMap<(u8, u64), u64>,
    deleting: BTreeSet<CloudId>,
    usage: HashMap<String, Usage>,
    pub(super) total: Usage,
}

/// Whether a phase that began at `since`, observed `observes` times, has completed.
pub(super) fn elapsed(readiness: Readiness, since: Instant, observes: u32, now: Instant) -> bool {
    match readiness {
        Readiness::Immediate => true,
        Readiness::After(d) => now.duration_since(since) >= d,
        Readiness::AfterObserves(n) => observes >= n,
    }
}

/// A stable number for a resource identity (kind and meta).
pub(super) fn identity_hash(kind: ResourceKind, meta: &ResourceMeta) -> u64 {
    stable_hash(&[
        kind.as_str(),
        meta.tenant(),
        meta.request(),
        meta.resource(),
    ])
}

impl Inventory {
    /// The n-th call of this operation on this identity (0 first): the input of its draws.
    pub(super) fn next_call(&mut self, op: u8, identity: u64) -> u64 {
        let n = self.calls.entry((op, identity)).or_insert(0);
        let current = *n;
        *n += 1;
        current
    }

    /// Finishes every deletion whose delay has passed.
    pub(super) fn settle_deletions(&mut self, deletion: Readiness, now: Instant) {
        if self.deleting.is_empty() {
            return;
        }
        let done: Vec<CloudId> = self
            .deleting
            .iter()
            .filter(|id| {
                self.entries
                    .get(*id)
                    .is_none_or(|e| elapsed(deletion, e.since, e.observes, now))
            })
            .cloned()
            .collect();
        for id in done {
            self.remove(&id);
        }
    }

    /// Moves pending creations and updates to ready when their delay has passed.
    pub(super) fn settle(&mut self, id: &CloudId, readiness: Readiness, now: Instant) {
        if let Some(e) = self.entries.get_mut(id)
            && matches!(e.phase, Phase::Creating | Phase::Updating)
            && elapsed(readiness, e.since, e.observes, now)
        {
            e.phase = Phase::Ready;
            e.since = now;
            e.observes = 0;
        }
    }

    /// The resource of this kind with this identity (possibly being deleted).
    pub(super) fn find(&self, kind: ResourceKind, meta: &ResourceMeta) -> Option<&CloudId> {
        self.by_identity.get(&(kind, meta.clone()))
    }

    /// The attachment of this volume to this server (possibly being detached).
    pub(super) fn find_pair(&self, server: &CloudId, volume: &CloudId) -> Option<&CloudId> {
        self.by_pair.get(&(server.clone(), volume.clone()))
    }

    /// A fresh deterministic cloud id for a new incarnation of this identity.
    pub(super) fn new_id(&mut self, seed: u64, kind: ResourceKind, meta: &ResourceMeta) -> CloudId {
        let n = self.incarnations.entry((kind, meta.clone())).or_insert(0);
        *n += 1;
        let mut salt = *n;
        loop {
            let id = super::rng::draw(seed, &[identity_hash(kind, meta), salt]);
            let prefix = match kind {
                ResourceKind::Network => "net",
                ResourceKind::Subnet => "subnet",
                ResourceKind::SecurityGroup => "sg",
                ResourceKind::Server => "srv",
                ResourceKind::Volume => "vol",
                ResourceKind::Attachment => "att",
            };
            let id = CloudId::new(format!("sim-{prefix}-{:012x}", id >> 16));
            if !self.entries.contains_key(&id) {
                return id;
            }
            salt += 1 << 32;
        }
    }

    /// Current usage of a tenant.
    pub(super) fn usage(&self, tenant: &str) -> Usage {
        self.usage.get(tenant).copied().unwrap_or_default()
    }

    /// Adds a resource, indexing it and charging its usage.
    pub(super) fn insert(&mut self, entry: Entry) {
        let id = entry.cloud_id.clone();
        for dep in &entry.deps {
            if let Some(d) = self.entries.get_mut(dep) {
                d.dependents.insert(id.clone());
            }
        }
        if let SpecBody::Attachment(a) = &entry.body {
            self.by_pair
                .insert((a.server.clone(), a.volume.clone()), id.clone());
        } else {
            self.by_identity
                .insert((entry.kind, entry.meta.clone()), id.clone());
        }
        self.charge(entry.meta.tenant(), &entry.charge, true);
        self.entries.insert(id, entry);
    }

    /// Charges (or refunds) usage to a tenant and to the cloud.
    pub(super) fn charge(&mut self, tenant: &str, usage: &Usage, add: bool) {
        let t = self.usage.entry(tenant.to_owned()).or_default();
        if add {
            t.add(usage);
            self.total.add(usage);
        } else {
            t.sub(usage);
            self.total.sub(usage);
        }
    }

    /// Starts deleting a resource: it stays findable, in phase `Deleting`, until
    /// [`Inventory::settle_deletions`] removes it.
    pub(super) fn start_delete(&mut self, id: &CloudId, now: Instant) {
        if let Some(e) = self.entries.get_mut(id) {
            e.phase = Phase::Deleting;
            e.since = now;
            e.observes = 0;
            self.deleting.insert(id.clone());
        }
    }

    /// Removes a resource for good, refunding its usage and unlinking its dependencies.
    pub(super) fn remove(&mut self, id: &CloudId) {
        self.deleting.remove(id);
        let Some(entry) = self.entries.remove(id) else {
            return;
        };
        for dep in &entry.deps {
            if let Some(d) = self.entries.get_mut(dep) {
                d.dependents.remove(id);
            }
        }
        if let SpecBody::Attachment(a) = &entry.body {
            let key = (a.server.clone(), a.volume.clone());
            if self.by_pair.get(&key) == Some(id) {
                self.by_pair.remove(&key);
            }
        } else {
            let key = (entry.kind, entry.meta.clone());
            if self.by_identity.get(&key) == Some(id) {
                self.by_identity.remove(&key);
            }
        }
        self.charge(entry.meta.tenant(), &entry.charge, false);
    }
}
