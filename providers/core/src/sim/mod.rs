//! The `sim` cloud: an in-memory, stateful provider for demos, benchmarks and chaos tests.
//!
//! It keeps networks, subnets, security groups, servers, volumes and attachments in memory and
//! behaves like a small cloud: names and tags find resources, dependencies are checked (a subnet
//! with servers cannot be deleted, a volume attaches once), quotas are per tenant and capacity is
//! global, readiness and deletion can be asynchronous, and calls can be slowed down or made to
//! fail. Every random choice (latency, faults, cloud ids) is a pure function of the seed and of
//! the call (operation, resource identity, how many times that call was made), so the same
//! sequence of calls gives the same results, even when calls on different resources interleave.
//!
//! Everything it returns says it is simulated: the descriptor, capabilities and every
//! observation (`simulated: true`, output `simulated=true`).
//!
//! Faults can be changed at runtime through [`SimCloud::faults`], so an end-to-end test can make
//! a workflow fail, then clear the fault and retry. With zero latency and no faults a call takes
//! one uncontended lock and a few map operations, which makes it a fair benchmark backend.

mod apply;
mod config;
mod faults;
mod inventory;
mod rng;
mod view;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use crate::capability::{Capabilities, FreeCapacity, ImageInfo};
use crate::error::{Error, Result};
use crate::name::ResourceMeta;
use crate::observation::{Observation, Observed, ResourceState};
use crate::provider::{DeleteOutcome, Operation, Provider, ProviderDescriptor, ProviderKind};
use crate::spec::{CloudId, ResourceKind, ResourceSpec};

pub use config::{Capacity, Latency, Quotas, Readiness, SimConfig};
pub use faults::{FaultEffect, FaultRates, FaultRule, SimFaults};
pub use inventory::Usage;

use apply::Ctx;
use faults::Injected;
use inventory::{Inventory, Phase, identity_hash};

/// The in-memory simulated cloud. Implements [`Provider`].
#[derive(Debug)]
pub struct SimCloud {
    descriptor: ProviderDescriptor,
    config: SimConfig,
    caps: Capabilities,
    inventory: Mutex<Inventory>,
    faults: SimFaults,
    calls: [AtomicU64; 5],
}

/// A simulated resource, as listed by [`SimCloud::resources`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimResource {
    /// Kind.
    pub kind: ResourceKind,
    /// Cloud id.
    pub cloud_id: CloudId,
    /// Identity.
    pub meta: ResourceMeta,
    /// Lifecycle state (as of the last call that touched it).
    pub state: ResourceState,
}

impl SimCloud {
    /// A sim cloud with this configuration. Refuses an inconsistent one (no zone, no flavor,
    /// latency min above max, a fault rate outside 0..=1).
    pub fn new(config: SimConfig) -> Result<Self> {
        let bad = |m: &str| {
            Err(Error::Config(format!(
                "sim cloud {:?}: {m}",
                config.instance
            )))
        };
        if config.instance.is_empty() {
            return bad("instance name is empty");
        }
        if config.zones.is_empty() {
            return bad("at least one zone is needed");
        }
        if config.flavors.is_empty() {
            return bad("at least one flavor is needed");
        }
        if config.latency.min > config.latency.max {
            return bad("latency min_ms is above max_ms");
        }
        let r = &config.faults;
        let rates = [r.transient, r.throttle, r.lost_response];
        if rates.iter().any(|p| !(0.0..=1.0).contains(p)) || rates.iter().sum::<f64>() > 1.0 {
            return bad("fault rates must lie in 0..=1 and sum to at most 1");
        }
        let caps = Capabilities {
            kinds: ResourceKind::ALL.into_iter().collect(),
            regions: vec![config.region.clone()],
            zones: config.zones.clone(),
            flavors: config.flavors.clone(),
            images: config
                .images
                .iter()
                .map(|i| ImageInfo {
                    image: i.clone(),
                    native_id: Some(format!("sim-img-{}-{}", i.os, i.version)),
                })
                .collect(),
            dedicated: config.dedicated,
            simulated: true,
        };
        Ok(SimCloud {
            descriptor: ProviderDescriptor {
                kind: ProviderKind::Sim,
                instance: config.instance.clone(),
                simulated: true,
            },
            faults: SimFaults::with(config.faults, &config.fault_rules),
            caps,
            config,
            inventory: Mutex::new(Inventory::default()),
            calls: Default::default(),
        })
    }

    /// Handle on the faults: change rates or script failures while the cloud runs.
    pub fn faults(&self) -> &SimFaults {
        &self.faults
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    /// Every resource it holds (including those being deleted), sorted by cloud id.
    pub fn resources(&self) -> Vec<SimResource> {
        let inv = self.lock();
        let mut all: Vec<SimResource> = inv
            .entries
            .values()
            .map(|e| SimResource {
                kind: e.kind,
                cloud_id: e.cloud_id.clone(),
                meta: e.meta.clone(),
                state: match e.phase {
                    Phase::Creating => ResourceState::Creating,
                    Phase::Ready => ResourceState::Ready,
                    Phase::Updating => ResourceState::Updating,
                    Phase::Deleting => ResourceState::Deleting,
                },
            })
            .collect();
        all.sort_by(|a, b| a.cloud_id.cmp(&b.cloud_id));
        all
    }

    /// How many resources of this kind it holds (including those being deleted).
    pub fn count(&self, kind: ResourceKind) -> usize {
        self.lock()
            .entries
            .values()
            .filter(|e| e.kind == kind)
            .count()
    }

    /// What a tenant consumes now.
    pub fn usage(&self, tenant: &str) -> Usage {
        self.lock().usage(tenant)
    }

    /// How many calls of an operation it received (faulted ones included).
    pub fn calls(&self, op: Operation) -> u64 {
        self.calls[op as usize].load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inventory> {
        self.inventory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one call: count it, validate, draw latency and fault, apply the effect.
    async fn call<T>(
        &self,
        op: Operation,
        spec: Option<&ResourceSpec>,
        effect: impl FnOnce(&Ctx<'_>, &mut Inventory) -> Result<T>,
    ) -> Result<T> {
        self.calls[op as usize].fetch_add(1, Ordering::Relaxed);
        if let Some(spec) = spec {
            spec.validate()?;
        }
        let (latency, injected) = self.draw(op, spec);
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let after = match injected {
            Some(Injected::Before(e)) => return Err(e),
            Some(Injected::Delay(d)) => {
                tokio::time::sleep(d).await;
                None
            }
            Some(Injected::After(e)) => Some(e),
            None => None,
        };
        let result = {
            let mut inv = self.lock();
            let ctx = Ctx {
                config: &self.config,
                caps: &self.caps,
                now: Instant::now(),
            };
            inv.settle_deletions(self.config.deletion, ctx.now);
            effect(&ctx, &mut inv)
        };
        match (result, after) {
            (Ok(_), Some(lost)) => Err(lost),
            (result, _) => result,
        }
    }

    fn draw(&self, op: Operation, spec: Option<&ResourceSpec>) -> (Duration, Option<Injected>) {
        let latency = self.config.latency;
        let faults_possible = self.faults.is_active();
        if latency.is_zero() && !faults_possible {
            return (Duration::ZERO, None);
        }
        let identity = spec.map_or(0, |s| identity_hash(s.kind(), &s.meta));
        let n = self.lock().next_call(op as u8, identity);
        let seed = self.config.seed;
        let delay = if latency.is_zero() {
            Duration::ZERO
        } else {
            let span = latency.max - latency.min;
            let u = rng::unit(rng::draw(seed, &[1, op as u64, identity, n]));
            latency.min + span.mul_f64(u)
        };
        let roll = rng::unit(rng::draw(seed, &[2, op as u64, identity, n]));
        let injected = self.faults.decide(
            op,
            spec.map(ResourceSpec::kind),
            spec.map(|s| &s.meta),
            roll,
        );
        (delay, injected)
    }
}

#[async_trait]
impl Provider for SimCloud {
    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    async fn capabilities(&self) -> Result<Capabilities> {
        self.call(Operation::Capabilities, None, |ctx, _| Ok(ctx.caps.clone()))
            .await
    }

    async fn observe(&self, spec: &ResourceSpec) -> Result<Observation> {
        self.call(Operation::Observe, Some(spec), |ctx, inv| {
            Ok(apply::observe(ctx, inv, spec))
        })
        .await
    }

    async fn create(&self, spec: &ResourceSpec) -> Result<Observed> {
        self.call(Operation::Create, Some(spec), |ctx, inv| {
            apply::create(ctx, inv, spec)
        })
        .await
    }

    async fn update(&self, spec: &ResourceSpec) -> Result<Observed> {
        self.call(Operation::Update, Some(spec), |ctx, inv| {
            apply::update(ctx, inv, spec)
        })
        .await
    }

    async fn delete(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        self.call(Operation::Delete, Some(spec), |ctx, inv| {
            apply::delete(ctx, inv, spec)
        })
        .await
    }

    /// The configured whole-cloud capacity minus what is in use; `None` without a capacity.
    async fn free_capacity(&self) -> Result<Option<FreeCapacity>> {
        let c = self.config().capacity;
        if c.vcpus.is_none() && c.ram_mib.is_none() {
            return Ok(None);
        }
        let used = self.lock().total;
        Ok(Some(FreeCapacity {
            vcpus: c.vcpus.map(|l| l.saturating_sub(used.vcpus)),
            ram_mib: c.ram_mib.map(|l| l.saturating_sub(used.ram_mib)),
            ..FreeCapacity::default()
        }))
    }
}
