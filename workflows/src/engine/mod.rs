//! The engine: registered definitions, starting runs, and the in-process
//! workers (a dispatcher claiming runs into N slots, a heartbeat renewing
//! leases, and on PostgreSQL a LISTEN task for wake-ups).

mod runner;
mod worker;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::definition::{WorkflowDefinition, def_key};
use crate::error::{Error, Result};
use crate::store::start::NewRun;
use crate::store::{BreakerConfig, Store, StoreTx, ms, now_ms};

/// Worker settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Runs executed at once by this process (default 4).
    pub workers: usize,
    /// Lease duration; leases are renewed every third of it (default 30 s).
    pub lease_ttl: Duration,
    /// Safety-net poll of idle workers (default 5 s); wake-ups normally come
    /// from notifications.
    pub poll_interval: Duration,
    /// Breaker applied to limit keys that have none configured (default
    /// [`BreakerConfig::default`]); `None` for no default breaker.
    pub default_breaker: Option<BreakerConfig>,
    /// This process's worker id (default: a random one). Must be unique among
    /// live replicas.
    pub worker_id: Option<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            workers: 4,
            lease_ttl: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
            default_breaker: Some(BreakerConfig::default()),
            worker_id: None,
        }
    }
}

/// Builds an [`Engine`].
#[derive(Debug)]
pub struct EngineBuilder {
    store: Store,
    defs: Vec<WorkflowDefinition>,
    config: EngineConfig,
}

impl EngineBuilder {
    /// Registers a definition (several versions of one name may be registered:
    /// new runs use the highest, old runs keep theirs).
    pub fn register(mut self, def: WorkflowDefinition) -> Self {
        self.defs.push(def);
        self
    }

    /// Replaces the whole configuration.
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Number of runs executed at once.
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n;
        self
    }

    /// Lease duration.
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.config.lease_ttl = ttl;
        self
    }

    /// Safety-net poll interval.
    pub fn poll_interval(mut self, d: Duration) -> Self {
        self.config.poll_interval = d;
        self
    }

    /// Worker id.
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.config.worker_id = Some(id.into());
        self
    }

    /// Default breaker for limit keys without one.
    pub fn default_breaker(mut self, b: Option<BreakerConfig>) -> Self {
        self.config.default_breaker = b;
        self
    }

    /// Validates the definitions and builds the engine (no worker runs until
    /// [`Engine::run`]).
    pub fn build(self) -> Result<Engine> {
        let mut defs = HashMap::new();
        let mut latest: HashMap<String, u32> = HashMap::new();
        for d in self.defs {
            d.validate()?;
            let key = d.key();
            if defs.contains_key(&key) {
                return Err(Error::InvalidDefinition {
                    definition: d.name().to_string(),
                    reason: format!("version {} registered twice", d.version()),
                });
            }
            let l = latest.entry(d.name().to_string()).or_insert(d.version());
            *l = (*l).max(d.version());
            defs.insert(key, Arc::new(d));
        }
        if self.config.lease_ttl < Duration::from_millis(300) {
            return Err(Error::InvalidDefinition {
                definition: "<engine>".into(),
                reason: "lease_ttl must be at least 300 ms".into(),
            });
        }
        let keys: Vec<&String> = defs.keys().collect();
        let def_keys = serde_json::to_string(&keys)?;
        let owner = self
            .config
            .worker_id
            .clone()
            .unwrap_or_else(|| format!("w-{}", Uuid::new_v4().simple()));
        let workers = self.config.workers;
        Ok(Engine {
            shared: Arc::new(Shared {
                store: self.store,
                defs,
                latest,
                def_keys,
                owner,
                config: self.config,
                leases: Mutex::new(HashMap::new()),
                shutdown: CancellationToken::new(),
                slots: Arc::new(Semaphore::new(workers)),
                running: AtomicBool::new(false),
            }),
        })
    }
}

/// A lease this process holds, as the heartbeat sees it.
#[derive(Debug)]
pub(crate) struct LocalLease {
    pub(crate) epoch: i64,
    pub(crate) since: Instant,
    /// Fired when the lease is lost (abandon without writing).
    pub(crate) lost: CancellationToken,
    /// Fired on operator cancel (child of `lost`).
    pub(crate) cancel: CancellationToken,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) defs: HashMap<String, Arc<WorkflowDefinition>>,
    latest: HashMap<String, u32>,
    pub(crate) def_keys: String,
    pub(crate) owner: String,
    pub(crate) config: EngineConfig,
    pub(crate) leases: Mutex<HashMap<Uuid, LocalLease>>,
    pub(crate) shutdown: CancellationToken,
    pub(crate) slots: Arc<Semaphore>,
    running: AtomicBool,
}

impl Shared {
    pub(crate) fn ttl_ms(&self) -> i64 {
        ms(self.config.lease_ttl)
    }
}

/// The durable workflow engine. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

/// A request to start a run.
#[derive(Debug, Clone)]
pub struct StartRequest {
    definition: String,
    version: Option<u32>,
    input: Value,
    idempotency_key: Option<String>,
    labels: BTreeMap<String, String>,
    actor: Option<String>,
}

impl StartRequest {
    /// Starts `definition` (latest registered version) with `input`.
    pub fn new(definition: impl Into<String>, input: &impl Serialize) -> Result<Self> {
        Ok(Self {
            definition: definition.into(),
            version: None,
            input: serde_json::to_value(input)?,
            idempotency_key: None,
            labels: BTreeMap::new(),
            actor: None,
        })
    }

    /// A specific version.
    pub fn version(mut self, v: u32) -> Self {
        self.version = Some(v);
        self
    }

    /// Same key, same run: a second start returns the first run.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }

    /// Adds a label (for filtering).
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Who starts it (recorded in the timeline).
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = Some(actor.into());
        self
    }
}

/// The outcome of [`Engine::start`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The run.
    pub id: Uuid,
    /// False when the idempotency key named an existing run.
    pub created: bool,
}

impl Engine {
    /// A builder over `store`.
    pub fn builder(store: Store) -> EngineBuilder {
        EngineBuilder {
            store,
            defs: Vec::new(),
            config: EngineConfig::default(),
        }
    }

    /// The store (operator operations live there).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// This process's worker id.
    pub fn worker_id(&self) -> &str {
        &self.shared.owner
    }

    /// Writes refused in this process because their lease epoch was stale.
    pub fn stale_writes_rejected(&self) -> u64 {
        self.shared.store.stale_writes_rejected()
    }

    /// Starts a run: computes its steps from the input (refusing bad input
    /// before anything is stored) and stores it. With an idempotency key
    /// already used, returns the existing run.
    pub async fn start(&self, req: StartRequest) -> Result<Started> {
        let run = self.new_run(req)?;
        let (id, created) = self.shared.store.insert_run(run).await?;
        Ok(Started { id, created })
    }

    /// [`start`](Self::start) inside the caller's transaction, so that the caller's own rows
    /// and the run are stored together or not at all. The run is picked up once
    /// [`StoreTx::commit`] commits.
    pub async fn start_in(&self, tx: &mut StoreTx, req: StartRequest) -> Result<Started> {
        let run = self.new_run(req)?;
        let (id, created) = self.shared.store.insert_run_in(&mut tx.tx, run).await?;
        tx.wake = Some(self.shared.store.clone());
        Ok(Started { id, created })
    }

    /// Checks a start request against its definition and computes its steps.
    fn new_run(&self, req: StartRequest) -> Result<NewRun> {
        let version = match req.version {
            Some(v) => v,
            None => *self.shared.latest.get(&req.definition).ok_or_else(|| {
                Error::UnknownDefinition {
                    name: req.definition.clone(),
                    version: None,
                }
            })?,
        };
        let def = self
            .shared
            .defs
            .get(&def_key(&req.definition, version))
            .ok_or_else(|| Error::UnknownDefinition {
                name: req.definition.clone(),
                version: Some(version),
            })?;
        if req.idempotency_key.as_deref() == Some("") {
            return Err(Error::InvalidInput {
                definition: req.definition,
                reason: "empty idempotency key".into(),
            });
        }
        let instances = def.instances(&req.input)?;
        let steps = instances
            .into_iter()
            .map(|i| {
                let key = def.step_kind(&i.kind).and_then(|k| k.limit_key(&i.params));
                (i, key)
            })
            .collect();
        Ok(NewRun {
            definition: def.name().to_string(),
            version,
            def_key: def.key(),
            on_failure: def.failure_policy(),
            input: req.input,
            idempotency_key: req.idempotency_key,
            labels: req.labels,
            deadline_ms: def.run_timeout().map(ms),
            steps,
            actor: req.actor,
        })
    }

    /// Starts the workers in the background. Call once.
    pub fn run(&self) -> EngineHandle {
        let first = !self.shared.running.swap(true, Ordering::SeqCst);
        let mut tasks = Vec::new();
        let heartbeat_stop = CancellationToken::new();
        if first {
            tasks.push(tokio::spawn(worker::dispatch(self.shared.clone())));
            tasks.push(tokio::spawn(worker::watch_cancels(self.shared.clone())));
            if let Some(pool) = self.shared.store.pg_pool() {
                tasks.push(tokio::spawn(worker::listen(
                    self.shared.clone(),
                    pool.clone(),
                )));
            }
        }
        let heartbeat = first.then(|| {
            tokio::spawn(worker::heartbeat(
                self.shared.clone(),
                heartbeat_stop.clone(),
            ))
        });
        EngineHandle {
            shared: self.shared.clone(),
            tasks,
            heartbeat,
            heartbeat_stop,
        }
    }
}

/// Running workers; [`shutdown`](Self::shutdown) stops them gracefully.
#[derive(Debug)]
pub struct EngineHandle {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
    heartbeat: Option<JoinHandle<()>>,
    heartbeat_stop: CancellationToken,
}

impl EngineHandle {
    /// Stops claiming; running steps finish (each run then hands its lease
    /// back, runnable at once by another replica). After `grace`, remaining
    /// attempts are abandoned and their leases handed back.
    pub async fn shutdown(self, grace: Duration) {
        self.shared.shutdown.cancel();
        let workers = u32::try_from(self.shared.config.workers).unwrap_or(u32::MAX);
        let drained = tokio::time::timeout(grace, self.shared.slots.acquire_many(workers)).await;
        if drained.is_err() {
            let leases = self.shared.leases.lock().unwrap_or_else(|p| p.into_inner());
            for l in leases.values() {
                l.lost.cancel();
            }
        }
        for t in &self.tasks {
            t.abort();
        }
        if drained.is_err() {
            let _ = self
                .shared
                .store
                .release_all(&self.shared.owner, now_ms())
                .await;
        }
        self.heartbeat_stop.cancel();
        if let Some(h) = self.heartbeat {
            let _ = h.await;
        }
    }
}
