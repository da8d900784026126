//! The broker's configuration: one loader (defaults → file → `NUAGE_` environment → flags,
//! see [`load`]), validated once. The reference is `docs/configuration.md`.

mod load;
mod secret;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nuage_placement::Money;
use nuage_provider::sim::SimConfig;
use serde::Deserialize;
use serde_json::Value;

pub use load::{Sources, load};
pub use secret::SecretRef;

use crate::error::{Error, Result};

/// Everything the broker reads at start.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API listens on.
    pub listen: SocketAddr,
    /// The database.
    pub database: DatabaseConfig,
    /// A catalogue directory (`*.yaml`); the built-in example catalogue when absent.
    pub catalogue: Option<PathBuf>,
    /// A policy file; the built-in default policy when absent.
    pub policy: Option<PathBuf>,
    /// The workflow engine's workers.
    pub engine: EngineSettings,
    /// How provisioning steps retry and wait.
    pub provisioning: ProvisioningSettings,
    /// Tokens.
    pub auth: AuthSettings,
    /// Quotas of tenants by id; tenants not listed get `default_quota`.
    pub tenants: BTreeMap<String, TenantSettings>,
    /// The quota of tenants not listed in `tenants` (unlimited by default).
    pub default_quota: Quota,
    /// Provider instances by the catalogue's binding instance name (`aws-eu-west-3`, `nubo`...).
    /// Each is an object with `adapter: ec2 | openstack | libvirt | sim`, the adapter's own
    /// settings, and optional `limits`. An offer whose instance is not listed is bound to a
    /// simulated cloud.
    pub providers: BTreeMap<String, Value>,
    /// Settings of the simulated clouds that stand in for unconfigured instances (the instance
    /// name is set per offer).
    pub sim: SimConfig,
    /// How long a shutdown lets running steps finish before handing their leases back.
    #[serde(rename = "shutdown_grace_ms", with = "ms")]
    pub shutdown_grace: Duration,
    /// How often the reconciler starts missing workflows and releases quotas.
    #[serde(rename = "reconcile_interval_ms", with = "ms")]
    pub reconcile_interval: Duration,
    /// How often the provider instances are asked for their free capacity (folded into the
    /// catalogue's capacity of their offers).
    #[serde(rename = "capacity_refresh_ms", with = "ms")]
    pub capacity_refresh: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Logging.
    pub log: LogSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DatabaseConfig::default(),
            catalogue: None,
            policy: None,
            engine: EngineSettings::default(),
            provisioning: ProvisioningSettings::default(),
            auth: AuthSettings::default(),
            tenants: BTreeMap::new(),
            default_quota: Quota::default(),
            providers: BTreeMap::new(),
            sim: SimConfig::default(),
            shutdown_grace: Duration::from_secs(30),
            reconcile_interval: Duration::from_secs(2),
            capacity_refresh: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            log: LogSettings::default(),
        }
    }
}

/// Where the data lives.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:PATH` or `postgres://…`. `DATABASE_URL` sets it too. When absent: the SQLite
    /// file `$XDG_DATA_HOME/nuage/nuage.db` if `XDG_DATA_HOME` is set, else `nuage.db` in the
    /// working directory.
    pub url: Option<String>,
    /// Connections in the pool (PostgreSQL), or readers (SQLite; at most 8).
    pub max_connections: Option<u32>,
}

/// The workflow engine's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineSettings {
    /// Runs executed at once by this process.
    pub workers: usize,
    /// Lease of a run; renewed every third of it.
    #[serde(rename = "lease_ttl_ms", with = "ms")]
    pub lease_ttl: Duration,
    /// Safety-net poll of idle workers.
    #[serde(rename = "poll_interval_ms", with = "ms")]
    pub poll_interval: Duration,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            workers: 16,
            lease_ttl: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
        }
    }
}

/// What a failed provisioning run does after its last attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailurePolicy {
    /// Stop in `failed`: an operator retries or compensates, the requester may delete.
    WaitForOperator,
    /// Undo what was created at once (the request ends `rolled_back`).
    Compensate,
}

/// Retries and waits of provisioning steps.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProvisioningSettings {
    /// After a step's last attempt.
    pub on_failure: FailurePolicy,
    /// Attempts per step, the first included.
    pub max_attempts: u32,
    /// Backoff base between attempts.
    #[serde(rename = "base_delay_ms", with = "ms")]
    pub base_delay: Duration,
    /// Backoff cap.
    #[serde(rename = "max_delay_ms", with = "ms")]
    pub max_delay: Duration,
    /// Longest wait for a resource to become ready (or gone) inside one attempt.
    #[serde(rename = "wait_timeout_ms", with = "ms")]
    pub wait_timeout: Duration,
    /// First delay between polls of a resource.
    #[serde(rename = "poll_min_ms", with = "ms")]
    pub poll_min: Duration,
    /// Longest delay between polls of a resource.
    #[serde(rename = "poll_max_ms", with = "ms")]
    pub poll_max: Duration,
}

impl Default for ProvisioningSettings {
    fn default() -> Self {
        ProvisioningSettings {
            on_failure: FailurePolicy::WaitForOperator,
            max_attempts: 8,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            wait_timeout: Duration::from_secs(600),
            poll_min: Duration::from_millis(200),
            poll_max: Duration::from_secs(10),
        }
    }
}

/// Tokens.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// The admin token to install on first start (empty token table), as a reference
    /// (`{env: VAR}` or `{file: PATH}`) or a value. When absent, one is generated and printed
    /// once on standard output.
    pub bootstrap_token: Option<SecretRef>,
    /// How long a verified token is trusted without reading the database again (a revocation
    /// takes at most this long to reach other replicas).
    #[serde(rename = "cache_ttl_ms", with = "ms")]
    pub cache_ttl: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            bootstrap_token: None,
            cache_ttl: Duration::from_secs(10),
        }
    }
}

/// A tenant's settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// Its quota.
    pub quota: Quota,
}

/// Limits on what a tenant holds at once; absent means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quota {
    /// vCPUs.
    pub vcpus: Option<u64>,
    /// Memory, GiB.
    pub ram_gib: Option<u64>,
    /// Block storage, GiB.
    pub storage_gib: Option<u64>,
    /// Estimated monthly cost, euros.
    pub monthly_budget_eur: Option<Money>,
}

impl Quota {
    /// Whether nothing is limited.
    pub fn is_unlimited(&self) -> bool {
        self.vcpus.is_none()
            && self.ram_gib.is_none()
            && self.storage_gib.is_none()
            && self.monthly_budget_eur.is_none()
    }
}

/// Log output.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogSettings {
    /// A `tracing` filter (`info`, `nuage_broker=debug,info`); `RUST_LOG` overrides it.
    pub level: String,
    /// `text` or `json`.
    pub format: LogFormat,
}

impl Default for LogSettings {
    fn default() -> Self {
        LogSettings {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// For people.
    Text,
    /// One JSON object per line.
    Json,
}

impl Config {
    /// The database URL, with the default SQLite file when none is configured.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.clone(),
            None => default_sqlite_url(std::env::var_os("XDG_DATA_HOME").map(PathBuf::from)),
        }
    }

    /// The quota of a tenant.
    pub fn quota(&self, tenant: &str) -> Quota {
        self.tenants
            .get(tenant)
            .map_or(self.default_quota, |t| t.quota)
    }

    /// Checks what deserialization cannot: every problem is listed.
    pub fn validate(&self) -> Result<()> {
        let mut problems = Vec::new();
        if self.engine.workers == 0 {
            problems.push("engine.workers must be at least 1".to_owned());
        }
        if self.engine.lease_ttl < Duration::from_millis(300) {
            problems.push("engine.lease_ttl_ms must be at least 300".to_owned());
        }
        if self.provisioning.max_attempts == 0 {
            problems.push("provisioning.max_attempts must be at least 1".to_owned());
        }
        if self.provisioning.poll_min > self.provisioning.poll_max {
            problems.push("provisioning.poll_min_ms is above poll_max_ms".to_owned());
        }
        if self.max_body_bytes < 1024 {
            problems.push("max_body_bytes must be at least 1024".to_owned());
        }
        if self.reconcile_interval < Duration::from_millis(10) {
            problems.push("reconcile_interval_ms must be at least 10".to_owned());
        }
        if self.capacity_refresh < Duration::from_millis(10) {
            problems.push("capacity_refresh_ms must be at least 10".to_owned());
        }
        for name in self.tenants.keys() {
            if !crate::auth::valid_tenant(name) {
                problems.push(format!(
                    "tenants.{name}: a tenant id is 1 to 63 lower-case letters, digits and '-', starting with a letter"
                ));
            }
        }
        if let Some(url) = &self.database.url
            && !(url.starts_with("sqlite:")
                || url.starts_with("postgres://")
                || url.starts_with("postgresql://"))
        {
            problems.push(format!(
                "database.url must start with sqlite: or postgres://, got {:?}",
                crate::db::redact_url(url)
            ));
        }
        for name in self.providers.keys() {
            if let Err(e) = crate::providers::ProviderSettings::parse(name, &self.providers[name]) {
                problems.push(e);
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Error::Config(problems.join("; ")))
        }
    }
}

/// `sqlite:` URL of the default database file.
fn default_sqlite_url(xdg_data_home: Option<PathBuf>) -> String {
    let path = match xdg_data_home {
        Some(dir) if dir.is_absolute() => dir.join("nuage").join("nuage.db"),
        _ => Path::new("nuage.db").to_path_buf(),
    };
    format!("sqlite:{}", path.display())
}

/// Durations in milliseconds.
pub(crate) mod ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_database_is_a_local_sqlite_file() {
        assert_eq!(default_sqlite_url(None), "sqlite:nuage.db");
        assert_eq!(
            default_sqlite_url(Some("/home/a/.local/share".into())),
            "sqlite:/home/a/.local/share/nuage/nuage.db"
        );
        // a relative XDG_DATA_HOME is invalid per the XDG spec: ignored
        assert_eq!(default_sqlite_url(Some("rel".into())), "sqlite:nuage.db");
    }
}
