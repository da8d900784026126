//! Live capacity: what each provider instance says it can still take (a pool of dedicated
//! hosts knows its free vCPUs and memory; a public cloud does not say) folded into the
//! catalogue's capacity of the offers bound to it, the smaller of declared and free per
//! dimension. Placement then eliminates an offer that cannot take a request, citing the
//! capacity rule with the live figures, instead of choosing it and failing at provisioning.
//!
//! Refreshed every `capacity_refresh_ms` while the broker runs (and on demand with
//! [`refresh`]). The catalogue digest a decision cites covers these facts. An instance that
//! does not answer keeps its last known facts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use nuage_placement::Catalogue;
use nuage_placement::catalogue::Capacity;
use nuage_provider::FreeCapacity;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::service::Broker;

/// How long one instance may take to answer.
const ASK_TIMEOUT: Duration = Duration::from_secs(30);

/// The catalogue as loaded, the live one, and the last facts of each instance.
#[derive(Debug)]
pub(crate) struct LiveCatalogue {
    base: Catalogue,
    live: RwLock<Arc<Catalogue>>,
    facts: Mutex<BTreeMap<String, FreeCapacity>>,
}

impl LiveCatalogue {
    pub(crate) fn new(base: Catalogue) -> Self {
        LiveCatalogue {
            live: RwLock::new(Arc::new(base.clone())),
            base,
            facts: Mutex::new(BTreeMap::new()),
        }
    }

    /// The catalogue placement uses now.
    pub(crate) fn current(&self) -> Arc<Catalogue> {
        self.live.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The last facts of every instance that gave some.
    pub(crate) fn facts(&self) -> BTreeMap<String, FreeCapacity> {
        self.facts.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The smaller of the declared capacity and the free one, per dimension.
fn merged(declared: &Capacity, free: &FreeCapacity) -> Capacity {
    let min = |a: Option<u64>, b: Option<u64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    Capacity {
        servers: min(declared.servers, free.servers),
        vcpus: min(declared.vcpus, free.vcpus),
        ram_gib: min(declared.ram_gib, free.ram_mib.map(|m| m / 1024)),
        storage_gib: min(declared.storage_gib, free.storage_gib),
    }
}

/// Asks every instance the catalogue names for its free capacity (in parallel) and installs
/// the catalogue with it. Returns the facts in force.
pub async fn refresh(b: &Broker) -> Result<BTreeMap<String, FreeCapacity>> {
    let live = b.live_catalogue();
    let mut instances: Vec<String> = live
        .base
        .offers()
        .iter()
        .map(|o| o.binding.instance.clone())
        .collect();
    instances.sort();
    instances.dedup();
    let asks = instances.into_iter().filter_map(|name| {
        let p = b.providers().get(&name)?;
        Some(async move {
            let answer = tokio::time::timeout(ASK_TIMEOUT, p.free_capacity()).await;
            (name, answer)
        })
    });
    let answers = futures::future::join_all(asks).await;
    let facts = {
        let mut facts = live.facts.lock().unwrap_or_else(|p| p.into_inner());
        for (name, answer) in answers {
            match answer {
                Ok(Ok(Some(f))) => {
                    facts.insert(name, f);
                }
                Ok(Ok(None)) => {
                    facts.remove(&name);
                }
                Ok(Err(e)) => tracing::warn!(
                    instance = %name, error = %e,
                    "free capacity unknown: the last known facts stay in force"
                ),
                Err(_) => tracing::warn!(
                    instance = %name,
                    "free capacity: no answer in {ASK_TIMEOUT:?}; the last known facts stay in force"
                ),
            }
        }
        facts.clone()
    };
    let next = live
        .base
        .with_capacities(|o| {
            facts
                .get(&o.binding.instance)
                .map(|f| merged(&o.capacity, f))
        })
        .map_err(|e| Error::Internal(format!("live capacity: {e}")))?;
    let changed = live.current().digest() != next.digest();
    if changed {
        tracing::info!(catalogue = %next.digest(), instances = facts.len(), "live capacity installed");
        *live.live.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
    }
    Ok(facts)
}

/// Refreshes every `capacity_refresh_ms` until stopped.
pub(crate) async fn run(b: Broker, stop: CancellationToken) {
    let every = b.config().capacity_refresh;
    loop {
        if let Err(e) = refresh(&b).await {
            tracing::error!(error = %e, "capacity refresh failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smaller_of_declared_and_free_wins_per_dimension() {
        let declared = Capacity {
            servers: Some(10),
            vcpus: Some(64),
            ram_gib: None,
            storage_gib: Some(500),
        };
        let free = FreeCapacity {
            servers: None,
            vcpus: Some(12),
            ram_mib: Some(20 * 1024 + 512),
            storage_gib: Some(900),
        };
        assert_eq!(
            merged(&declared, &free),
            Capacity {
                servers: Some(10),
                vcpus: Some(12),
                ram_gib: Some(20),
                storage_gib: Some(500),
            }
        );
        assert_eq!(merged(&declared, &FreeCapacity::default()), declared);
    }
}
