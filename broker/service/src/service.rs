//! The broker: configuration, database, catalogue and policy, providers, the workflow engine,
//! tokens and the audit sealer, behind one cheap-to-clone handle.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use nuage_placement::{Catalogue, Policy};
use nuage_provider::Secret;
use nuage_workflows::{Engine, EngineConfig, EngineHandle};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::audit::Sealer;
use crate::auth::{TokenInfo, TokenStore};
use crate::capacity::LiveCatalogue;
use crate::config::Config;
use crate::db::{Db, redact_url};
use crate::error::{Error, Result};
use crate::providers::Providers;
use crate::provision::{Runtime, definitions};

/// The broker service. Cheap to clone; the HTTP API holds one.
#[derive(Debug, Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    db: Db,
    engine: Engine,
    catalogue: LiveCatalogue,
    policy: Policy,
    providers: Providers,
    tokens: TokenStore,
    sealer: Sealer,
    ready: AtomicBool,
    reconcile: Notify,
}

impl Broker {
    /// Opens everything the configuration names: loads the catalogue and policy, connects to
    /// the database (applying migrations), builds the providers (simulated ones for unconfigured
    /// instances) and the engine. Starts nothing; see [`Broker::run`].
    pub async fn open(config: Config) -> Result<Broker> {
        let catalogue = match &config.catalogue {
            Some(dir) => Catalogue::load_dir(dir).map_err(|e| config_error("catalogue", e))?,
            None => Catalogue::example(),
        };
        let policy = match &config.policy {
            Some(file) => Policy::load(file).map_err(|e| config_error("policy", e))?,
            None => Policy::default_policy(),
        };
        let providers = Providers::build(&config, &catalogue).await?;
        Self::open_with(config, catalogue, policy, providers).await
    }

    /// Like [`open`](Self::open) with the catalogue, policy and providers given (tests).
    pub async fn open_with(
        config: Config,
        catalogue: Catalogue,
        policy: Policy,
        providers: Providers,
    ) -> Result<Broker> {
        let url = config.database_url();
        if let Some(path) = url.strip_prefix("sqlite:")
            && let Some(dir) = std::path::Path::new(path.trim_start_matches("//")).parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir)?;
        }
        let db = Db::connect(&url, config.database.max_connections.unwrap_or(16))
            .await
            .map_err(|e| match e {
                Error::Database(inner) => Error::Config(format!(
                    "cannot open the database {}: {inner}",
                    redact_url(&url)
                )),
                other => other,
            })?;
        providers.apply_limits(db.store()).await?;
        let runtime = Arc::new(Runtime {
            providers: providers.clone(),
            settings: config.provisioning.clone(),
            db: db.clone(),
        });
        let mut builder = Engine::builder(db.store().clone()).config(EngineConfig {
            workers: config.engine.workers,
            lease_ttl: config.engine.lease_ttl,
            poll_interval: config.engine.poll_interval,
            ..EngineConfig::default()
        });
        for def in definitions(runtime) {
            builder = builder.register(def);
        }
        let engine = builder.build()?;
        let tokens = TokenStore::new(db.clone(), config.auth.cache_ttl);
        let sealer = Sealer::new(db.clone());
        Ok(Broker {
            inner: Arc::new(Inner {
                config,
                db,
                engine,
                catalogue: LiveCatalogue::new(catalogue),
                policy,
                providers,
                tokens,
                sealer,
                ready: AtomicBool::new(false),
                reconcile: Notify::new(),
            }),
        })
    }

    /// On first start (no token at all), installs the admin token from
    /// `auth.bootstrap_token`, or generates one. Returns the new token's info and, when it was
    /// generated, its secret, to print once.
    pub async fn bootstrap(&self) -> Result<Option<(TokenInfo, Option<Secret>)>> {
        let given = match &self.inner.config.auth.bootstrap_token {
            Some(r) => Some(r.resolve()?),
            None => None,
        };
        let out = self.inner.tokens.bootstrap(given).await?;
        self.inner.sealer.nudge();
        Ok(out)
    }

    /// Starts the engine's workers, the audit sealer, the reconciler and the capacity refresh.
    pub fn run(&self) -> Running {
        let stop = CancellationToken::new();
        let engine = self.inner.engine.run();
        let sealer = self
            .inner
            .sealer
            .clone()
            .spawn(Duration::from_millis(500), stop.clone());
        let reconciler = tokio::spawn(crate::reconcile::run(self.clone(), stop.clone()));
        let capacity = tokio::spawn(crate::capacity::run(self.clone(), stop.clone()));
        self.inner.ready.store(true, Ordering::SeqCst);
        Running {
            broker: self.clone(),
            engine,
            stop,
            tasks: vec![sealer, reconciler, capacity],
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    /// The workflow engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The catalogue placement uses now: as loaded, with the live capacity of the instances
    /// that report it (see [`crate::capacity`]).
    pub fn catalogue(&self) -> Arc<Catalogue> {
        self.inner.catalogue.current()
    }

    /// The last free capacity reported by each instance that reports one.
    pub fn capacity_facts(
        &self,
    ) -> std::collections::BTreeMap<String, nuage_provider::FreeCapacity> {
        self.inner.catalogue.facts()
    }

    pub(crate) fn live_catalogue(&self) -> &LiveCatalogue {
        &self.inner.catalogue
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The provider instances.
    pub fn providers(&self) -> &Providers {
        &self.inner.providers
    }

    /// The tokens.
    pub fn tokens(&self) -> &TokenStore {
        &self.inner.tokens
    }

    /// The audit sealer.
    pub fn sealer(&self) -> &Sealer {
        &self.inner.sealer
    }

    /// Whether the broker serves (running, not shutting down).
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::SeqCst)
    }

    /// Asks the reconciler to look now.
    pub(crate) fn nudge_reconciler(&self) {
        self.inner.reconcile.notify_one();
    }

    pub(crate) fn reconcile_signal(&self) -> &Notify {
        &self.inner.reconcile
    }
}

fn config_error(what: &str, e: nuage_placement::Error) -> Error {
    let problems: Vec<String> = e.field_errors().iter().map(ToString::to_string).collect();
    Error::Config(format!("the {what} is invalid: {}", problems.join("; ")))
}

/// The broker's background work; [`Running::shutdown`] stops it gracefully.
#[derive(Debug)]
pub struct Running {
    broker: Broker,
    engine: EngineHandle,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops: the broker reports not ready, running steps get `grace` to finish (then their
    /// leases are handed back for another replica or the next start), the sealer chains what
    /// is left.
    pub async fn shutdown(self, grace: Duration) {
        self.broker.inner.ready.store(false, Ordering::SeqCst);
        self.engine.shutdown(grace).await;
        self.stop.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
    }
}
