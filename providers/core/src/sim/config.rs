//! Configuration of a sim cloud: latency, readiness, quotas, capacity, faults, catalogue.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::capability::Flavor;
use crate::spec::ImageRef;

use super::faults::{FaultRates, FaultRule};

/// Everything that shapes a sim cloud's behaviour. Deserializes from a config file with every
/// field optional (durations in milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Instance name (descriptor and registry key).
    pub instance: String,
    /// Seed of every random choice (latency, faults, ids): same seed and same calls, same results.
    pub seed: u64,
    /// Delay added to every call, drawn uniformly in the range.
    pub latency: Latency,
    /// How long a created, attached or updated resource takes to become ready.
    pub readiness: Readiness,
    /// How long a deleted resource lingers in state `deleting` before it is gone.
    pub deletion: Readiness,
    /// Per-tenant quotas (exceeding one gives a `Quota` error).
    pub quotas: Quotas,
    /// Whole-cloud capacity (exhausting it gives a `Capacity` error).
    pub capacity: Capacity,
    /// Random faults injected from the start; changeable at runtime through
    /// [`SimCloud::faults`](super::SimCloud::faults).
    pub faults: FaultRates,
    /// Scripted faults in force from the start (`[{on: create, kind: server, fail: quota,
    /// times: 1}]`, see [`FaultRule`]); changeable at runtime like the rates.
    pub fault_rules: Vec<FaultRule>,
    /// Region served.
    pub region: String,
    /// Availability zones, first is the default.
    pub zones: Vec<String>,
    /// Flavors offered.
    pub flavors: Vec<Flavor>,
    /// Images offered.
    pub images: Vec<ImageRef>,
    /// Whether servers may ask for dedicated hardware.
    pub dedicated: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            instance: "sim".to_owned(),
            seed: 0,
            latency: Latency::default(),
            readiness: Readiness::Immediate,
            deletion: Readiness::Immediate,
            quotas: Quotas::default(),
            capacity: Capacity::default(),
            faults: FaultRates::default(),
            fault_rules: Vec::new(),
            region: "sim-1".to_owned(),
            zones: vec!["sim-1a".to_owned(), "sim-1b".to_owned()],
            flavors: vec![
                Flavor::new("sim.small", 1, 2048),
                Flavor::new("sim.medium", 2, 4096),
                Flavor::new("sim.large", 4, 8192),
                Flavor::new("sim.xlarge", 8, 16384),
                Flavor::new("sim.2xlarge", 16, 32768),
                Flavor::new("sim.mem.large", 2, 16384),
            ],
            images: vec![
                ImageRef::new("debian", "12"),
                ImageRef::new("debian", "13"),
                ImageRef::new("ubuntu", "22.04"),
                ImageRef::new("ubuntu", "24.04"),
                ImageRef::new("rocky", "9"),
            ],
            dedicated: true,
        }
    }
}

/// A latency range; zero (the default) adds no delay and no timer at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Latency {
    /// Shortest delay.
    #[serde(rename = "min_ms", with = "crate::serde_ms")]
    pub min: Duration,
    /// Longest delay.
    #[serde(rename = "max_ms", with = "crate::serde_ms")]
    pub max: Duration,
}

impl Latency {
    /// The same delay on every call.
    pub fn fixed(delay: Duration) -> Self {
        Latency {
            min: delay,
            max: delay,
        }
    }

    /// Whether the range adds no delay.
    pub fn is_zero(&self) -> bool {
        self.max.is_zero()
    }
}

/// When an asynchronous change completes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    /// At once: the call that makes the change returns it completed.
    #[default]
    Immediate,
    /// After this much (tokio) time: deterministic under a paused test clock.
    #[serde(rename = "after_ms", with = "crate::serde_ms")]
    After(Duration),
    /// After this many observations of the resource: deterministic whatever the clock.
    AfterObserves(u32),
}

/// Per-tenant limits; `None` is unlimited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quotas {
    /// Servers.
    pub servers: Option<u64>,
    /// vCPUs over all servers (by flavor).
    pub vcpus: Option<u64>,
    /// Memory over all servers, MiB (by flavor).
    pub ram_mib: Option<u64>,
    /// Volumes.
    pub volumes: Option<u64>,
    /// Volume storage, GiB.
    pub volume_gib: Option<u64>,
    /// Networks.
    pub networks: Option<u64>,
}

/// Whole-cloud capacity; `None` is unbounded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Capacity {
    /// vCPUs over all tenants.
    pub vcpus: Option<u64>,
    /// Memory over all tenants, MiB.
    pub ram_mib: Option<u64>,
    /// Dedicated hosts (one per dedicated server).
    pub dedicated_hosts: Option<u64>,
}
