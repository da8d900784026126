//! [`LibvirtProvider`]: the provider contract over a pool of libvirt hosts.

mod network;
mod server;
mod volume;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use async_trait::async_trait;
use nuage_provider::{
    Capabilities, DeleteOutcome, Error as ContractError, ImageInfo, ImageRef, Observation,
    Observed, Provider, ProviderDescriptor, ProviderKind, ResourceKind, ResourceSpec, SpecBody,
};
use tokio::task::JoinSet;
use virt::connect::Connect;

use crate::config::ResolvedHost;
use crate::error::{Error, Result};
use crate::inventory::HostFacts;
use crate::link::HostLink;
use crate::link::ops::{self, OpError};
use crate::pool::{Health, Pool, PoolCapacity};
use crate::settings::LibvirtSettings;
use crate::uri::Driver;

/// The dedicated-hosts provider: places servers on the pool's hosts and manages domains,
/// volumes and networks on them. Every libvirt call runs on tokio's blocking pool.
pub struct LibvirtProvider {
    descriptor: ProviderDescriptor,
    settings: LibvirtSettings,
    hosts: Vec<ResolvedHost>,
    links: Vec<Arc<HostLink>>,
    pool: Mutex<Pool>,
    probes: Mutex<Probes>,
}

#[derive(Default)]
struct Probes {
    last_full_sync: Option<Instant>,
    last_attempt: HashMap<usize, Instant>,
}

impl std::fmt::Debug for LibvirtProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibvirtProvider")
            .field("instance", &self.descriptor.instance)
            .field("hosts", &self.hosts.len())
            .finish()
    }
}

impl LibvirtProvider {
    /// Builds the provider from validated settings, without touching any host (every host
    /// starts unknown; see [`LibvirtProvider::sync`]).
    pub fn new(settings: LibvirtSettings) -> Result<LibvirtProvider> {
        settings.validate()?;
        // libvirt prints every error on stderr by default; ours go through `Error`.
        virt::error::clear_error_callback();
        let pool = Pool::new(&settings.pool)?;
        let hosts = settings.pool.resolve()?;
        let links = hosts
            .iter()
            .map(|h| {
                HostLink::new(
                    h.name.clone(),
                    h.uri.clone(),
                    settings.timing.call_timeout(),
                )
            })
            .collect();
        let simulated = hosts.iter().all(|h| h.uri.driver() == Driver::Test);
        Ok(LibvirtProvider {
            descriptor: ProviderDescriptor {
                kind: ProviderKind::Libvirt,
                instance: settings.instance.clone(),
                simulated,
            },
            settings,
            hosts,
            links,
            pool: Mutex::new(pool),
            probes: Mutex::new(Probes::default()),
        })
    }

    /// Builds the provider and syncs every host's inventory (hosts that do not answer are
    /// marked unhealthy; that is not an error).
    pub async fn connect(settings: LibvirtSettings) -> Result<LibvirtProvider> {
        let p = LibvirtProvider::new(settings)?;
        p.sync().await;
        Ok(p)
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads a snapshot of the pool model (health, facts, domains).
    pub fn with_pool<T>(&self, f: impl FnOnce(&Pool) -> T) -> T {
        f(&self.pool())
    }

    /// Capacity facts of the pool, for the catalogue's capacity of dedicated offers.
    pub fn capacity(&self) -> PoolCapacity {
        self.pool().capacity()
    }

    /// Puts a host in or out of maintenance.
    pub fn set_maintenance(&self, host: &str, maintenance: bool) -> Result<()> {
        self.pool().set_maintenance(host, maintenance)
    }

    /// Syncs the inventory of every host, in parallel.
    pub async fn sync(&self) {
        let all: Vec<usize> = (0..self.hosts.len()).collect();
        self.sync_hosts(&all).await;
        self.probes().last_full_sync = Some(Instant::now());
    }

    fn probes(&self) -> MutexGuard<'_, Probes> {
        self.probes.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn sync_hosts(&self, which: &[usize]) {
        let mut set = JoinSet::new();
        for &i in which {
            let link = Arc::clone(&self.links[i]);
            set.spawn(async move { (i, link.call("sync", ops::facts).await) });
        }
        let now = Instant::now();
        while let Some(joined) = set.join_next().await {
            let Ok((i, result)) = joined else { continue };
            self.probes().last_attempt.insert(i, now);
            self.absorb(i, result);
        }
    }

    fn absorb(&self, i: usize, result: Result<HostFacts>) {
        let name = &self.hosts[i].name;
        let mut pool = self.pool();
        let outcome = match result {
            Ok(facts) => pool.apply_facts(name, facts),
            Err(e) => {
                tracing::warn!(host = %name, error = %e, "libvirt host unhealthy");
                pool.mark_unhealthy(name, e.to_string())
            }
        };
        debug_assert!(outcome.is_ok(), "host indices come from the pool");
    }

    /// Before a decision: re-syncs everything when the inventory is older than the resync
    /// interval, otherwise probes hosts that are unknown or unhealthy and were last tried
    /// longer ago than the reprobe interval.
    async fn refresh(&self) {
        let timing = self.settings.timing;
        let stale = self
            .probes()
            .last_full_sync
            .is_none_or(|t| t.elapsed() >= timing.resync());
        if stale {
            self.sync().await;
            return;
        }
        let due: Vec<usize> = {
            let pool = self.pool();
            let probes = self.probes();
            pool.hosts()
                .iter()
                .enumerate()
                .filter(|(_, h)| *h.health() != Health::Healthy)
                .filter(|(i, _)| {
                    probes
                        .last_attempt
                        .get(i)
                        .is_none_or(|t| t.elapsed() >= timing.reprobe())
                })
                .map(|(i, _)| i)
                .collect()
        };
        if !due.is_empty() {
            self.sync_hosts(&due).await;
        }
    }

    /// Runs one unit of work on one host; a host that does not answer is marked unhealthy.
    async fn on_host<T, F>(&self, i: usize, operation: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connect) -> std::result::Result<T, OpError> + Send + 'static,
    {
        let result = self.links[i].call(operation, f).await;
        if let Err(e @ (Error::HostUnavailable { .. } | Error::Timeout { .. })) = &result {
            tracing::warn!(host = %self.hosts[i].name, error = %e, operation, "libvirt host failed");
            let _ = self
                .pool()
                .mark_unhealthy(&self.hosts[i].name, e.to_string());
            self.probes().last_attempt.insert(i, Instant::now());
        }
        result
    }

    /// Indices of the hosts currently healthy (maintenance included: they still hold guests).
    fn healthy(&self) -> Vec<usize> {
        let pool = self.pool();
        pool.hosts()
            .iter()
            .enumerate()
            .filter(|(_, h)| *h.health() == Health::Healthy)
            .map(|(i, _)| i)
            .collect()
    }

    /// Runs the same unit of work on every healthy host in parallel. Hosts that fail to
    /// answer are marked unhealthy and left out; other failures are returned.
    async fn on_healthy<T, F>(&self, operation: &'static str, f: F) -> Result<Vec<(usize, T)>>
    where
        T: Send + 'static,
        F: Fn(&Connect) -> std::result::Result<T, OpError> + Send + Sync + Clone + 'static,
    {
        let mut set = JoinSet::new();
        for i in self.healthy() {
            let link = Arc::clone(&self.links[i]);
            let f = f.clone();
            set.spawn(async move { (i, link.call(operation, f).await) });
        }
        let mut out = Vec::new();
        let mut failure = None;
        while let Some(joined) = set.join_next().await {
            let (i, result) = joined.map_err(|e| Error::Worker(e.to_string()))?;
            match result {
                Ok(v) => out.push((i, v)),
                Err(e @ (Error::HostUnavailable { .. } | Error::Timeout { .. })) => {
                    tracing::warn!(host = %self.hosts[i].name, error = %e, operation, "libvirt host failed");
                    let _ = self
                        .pool()
                        .mark_unhealthy(&self.hosts[i].name, e.to_string());
                    self.probes().last_attempt.insert(i, Instant::now());
                }
                Err(e) => failure = Some(e),
            }
        }
        if let Some(e) = failure {
            return Err(e);
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }

    /// Whether a host runs the test driver (what it holds exists nowhere).
    fn simulated(&self, i: usize) -> bool {
        self.hosts[i].uri.driver() == Driver::Test
    }

    /// Unhealthy hosts whose last known inventory lists a domain of this name.
    fn unreachable_holders(&self, domain: &str) -> Vec<String> {
        let pool = self.pool();
        pool.hosts()
            .iter()
            .filter(|h| *h.health() != Health::Healthy && h.domain(domain).is_some())
            .map(|h| h.name().to_owned())
            .collect()
    }

    fn capabilities_now(&self) -> Capabilities {
        let mut zones: Vec<String> = self
            .hosts
            .iter()
            .filter_map(|h| h.labels.site.clone())
            .collect();
        zones.sort();
        zones.dedup();
        Capabilities {
            kinds: [
                ResourceKind::Network,
                ResourceKind::Subnet,
                ResourceKind::Server,
                ResourceKind::Volume,
            ]
            .into_iter()
            .collect(),
            regions: vec![self.settings.pool.name.clone()],
            zones,
            flavors: self.settings.flavors.clone(),
            images: self
                .settings
                .images
                .iter()
                .filter_map(|(key, volume)| {
                    let (os, version) = key.split_once('-')?;
                    Some(ImageInfo {
                        image: ImageRef::new(os, version),
                        native_id: Some(volume.clone()),
                    })
                })
                .collect(),
            dedicated: true,
            simulated: self.descriptor.simulated,
        }
    }
}

fn unsupported(what: &str) -> ContractError {
    ContractError::Unsupported(format!("{what} on libvirt hosts"))
}

#[async_trait]
impl Provider for LibvirtProvider {
    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    async fn capabilities(&self) -> nuage_provider::Result<Capabilities> {
        Ok(self.capabilities_now())
    }

    /// Free vCPUs and memory over the schedulable hosts, within overcommit (after a re-sync
    /// when the inventory is stale). Unknown (`None`) while no host has ever answered.
    async fn free_capacity(&self) -> nuage_provider::Result<Option<nuage_provider::FreeCapacity>> {
        self.refresh().await;
        let c = self.capacity();
        if c.hosts_unknown == c.hosts_total {
            return Ok(None);
        }
        Ok(Some(nuage_provider::FreeCapacity {
            vcpus: Some(c.vcpus_free),
            ram_mib: Some(c.memory_free_mib),
            ..nuage_provider::FreeCapacity::default()
        }))
    }

    async fn observe(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observation> {
        spec.validate()?;
        self.refresh().await;
        let name = spec.name();
        Ok(match &spec.body {
            SpecBody::Server(s) => self.observe_server(spec, s, &name).await?,
            SpecBody::Volume(v) => self.observe_volume(v, &name).await?,
            SpecBody::Network(n) => self.observe_network(n, &name).await?,
            SpecBody::Subnet(s) => self.observe_subnet(s).await?,
            SpecBody::SecurityGroup(_) => return Err(unsupported("security groups")),
            SpecBody::Attachment(_) => return Err(unsupported("volume attachments")),
        })
    }

    async fn create(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observed> {
        spec.validate()?;
        self.capabilities_now().check(spec)?;
        self.refresh().await;
        let name = spec.name();
        match &spec.body {
            SpecBody::Server(s) => self.create_server(spec, s, &name).await,
            SpecBody::Volume(v) => self.create_volume(v, &name).await,
            SpecBody::Network(n) => self.create_network(n, &name).await,
            SpecBody::Subnet(s) => self.create_subnet(s).await,
            SpecBody::SecurityGroup(_) => Err(unsupported("security groups")),
            SpecBody::Attachment(_) => Err(unsupported("volume attachments")),
        }
    }

    async fn update(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observed> {
        let observed = match self.observe(spec).await? {
            Observation::Present(o) => o,
            Observation::Absent => {
                return Err(ContractError::not_found(format!(
                    "{} does not exist",
                    spec.name()
                )));
            }
        };
        if observed.drift.is_empty() {
            return Ok(observed);
        }
        let fields: Vec<&str> = observed.drift.iter().map(|d| d.field.as_str()).collect();
        Err(ContractError::terminal(format!(
            "{} {} cannot change {} in place on libvirt hosts: replace it",
            spec.kind(),
            spec.name(),
            fields.join(", ")
        )))
    }

    async fn delete(&self, spec: &ResourceSpec) -> nuage_provider::Result<DeleteOutcome> {
        spec.validate()?;
        self.refresh().await;
        let name = spec.name();
        match &spec.body {
            SpecBody::Server(_) => self.delete_server(&name).await,
            SpecBody::Volume(_) => self.delete_volume(&name).await,
            SpecBody::Network(_) => self.delete_network(&name).await,
            SpecBody::Subnet(s) => self.delete_subnet(s).await,
            SpecBody::SecurityGroup(_) => Err(unsupported("security groups")),
            SpecBody::Attachment(_) => Err(unsupported("volume attachments")),
        }
    }
}
