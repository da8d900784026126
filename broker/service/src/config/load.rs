//! The one configuration loader: built-in defaults, then a YAML (or JSON) file, then
//! environment variables, then command-line flags; each layer overrides the previous one key by
//! key, and the result is deserialized and validated once.
//!
//! Environment: `NUAGE_<KEY>` with `__` between nesting levels (`NUAGE_DATABASE__URL`,
//! `NUAGE_ENGINE__WORKERS=8`), keys lower-cased; only variables whose first level is a
//! configuration key are read (so `NUAGE_TOOLS_DIR` and friends are left alone). Values that
//! read as JSON numbers, booleans, arrays or objects are taken as such, others as strings.
//! `DATABASE_URL` sets `database.url` (a `NUAGE_DATABASE__URL` wins over it).
//!
//! Tests build [`Sources`] by hand: the process environment is read only by
//! [`Sources::with_process_env`].

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::Config;
use crate::error::{Error, Result};

/// The top-level keys of [`Config`], the only ones read from `NUAGE_*` variables.
const KEYS: &[&str] = &[
    "listen",
    "database",
    "catalogue",
    "policy",
    "engine",
    "provisioning",
    "auth",
    "tenants",
    "default_quota",
    "providers",
    "sim",
    "shutdown_grace_ms",
    "reconcile_interval_ms",
    "capacity_refresh_ms",
    "max_body_bytes",
    "log",
];

/// What the loader reads, layer by layer.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// A configuration file (YAML or JSON).
    pub file: Option<PathBuf>,
    /// Environment variables (name, value).
    pub env: Vec<(String, String)>,
    /// Flags, as dotted keys and values (`database.url`), applied last.
    pub flags: Vec<(String, Value)>,
}

impl Sources {
    /// No file, no environment, no flags: the defaults.
    pub fn new() -> Sources {
        Sources::default()
    }

    /// Reads this file too.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Sources {
        self.file = Some(path.into());
        self
    }

    /// Adds one environment variable.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Sources {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds the process's environment (for the binary; tests pass variables one by one).
    pub fn with_process_env(mut self) -> Sources {
        self.env.extend(std::env::vars());
        self
    }

    /// Sets a dotted key (`engine.workers`) as a flag would.
    pub fn flag(mut self, key: impl Into<String>, value: impl Into<Value>) -> Sources {
        self.flags.push((key.into(), value.into()));
        self
    }
}

/// Loads and validates the configuration.
pub fn load(sources: &Sources) -> Result<Config> {
    let mut merged = Value::Object(Map::new());
    if let Some(path) = &sources.file {
        merge(&mut merged, read_file(path)?);
    }
    merge(&mut merged, env_layer(&sources.env));
    for (key, value) in &sources.flags {
        let path: Vec<String> = key.split('.').map(str::to_owned).collect();
        merge(&mut merged, nest(&path, value.clone()));
    }
    let config: Config = serde_path_to_error::deserialize(merged).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            Error::Config(inner.to_string())
        } else {
            Error::Config(format!("{path}: {inner}"))
        }
    })?;
    config.validate()?;
    Ok(config)
}

fn read_file(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {}", path.display(), e.kind())))?;
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    let value: Value = serde_saphyr::from_str_with_options(&text, options)
        .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Ok(Value::Object(Map::new())),
        _ => Err(Error::Config(format!(
            "{}: the configuration must be a mapping of keys",
            path.display()
        ))),
    }
}

fn env_layer(env: &[(String, String)]) -> Value {
    let mut layer = Value::Object(Map::new());
    // DATABASE_URL first, so NUAGE_DATABASE__URL overrides it.
    for (name, value) in env {
        if name == "DATABASE_URL" && !value.is_empty() {
            merge(
                &mut layer,
                nest(
                    &["database".into(), "url".into()],
                    Value::String(value.clone()),
                ),
            );
        }
    }
    for (name, value) in env {
        let Some(rest) = name.strip_prefix("NUAGE_") else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
        if path.iter().any(String::is_empty) || !KEYS.contains(&path[0].as_str()) {
            continue;
        }
        merge(&mut layer, nest(&path, env_value(value)));
    }
    layer
}

/// A variable's value: JSON scalars and containers as such, anything else as a string.
fn env_value(raw: &str) -> Value {
    let trimmed = raw.trim();
    let looks_json = trimmed == "true"
        || trimmed == "false"
        || trimmed.starts_with(['[', '{', '"'])
        || trimmed.parse::<f64>().is_ok();
    if looks_json && let Ok(v) = serde_json::from_str::<Value>(trimmed) {
        return v;
    }
    Value::String(raw.to_owned())
}

fn nest(path: &[String], value: Value) -> Value {
    path.iter().rev().fold(value, |inner, key| {
        let mut m = Map::new();
        m.insert(key.clone(), inner);
        Value::Object(m)
    })
}

/// Deep merge: objects key by key, anything else replaced.
fn merge(base: &mut Value, layer: Value) {
    match (base, layer) {
        (Value::Object(b), Value::Object(l)) => {
            for (k, v) in l {
                match b.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (b, l) => *b = l,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::LogFormat;

    #[test]
    fn defaults_then_file_then_env_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nuage.yaml");
        std::fs::write(
            &file,
            "listen: 0.0.0.0:9000\nengine: {workers: 4, lease_ttl_ms: 5000}\nlog: {format: json}\n\
             tenants:\n  dinum: {quota: {vcpus: 64, monthly_budget_eur: 1500.5}}\n",
        )
        .unwrap();
        let defaults = load(&Sources::new()).unwrap();
        assert_eq!(defaults.engine.workers, 16);
        assert_eq!(defaults.listen.to_string(), "127.0.0.1:8080");

        let c = load(
            &Sources::new()
                .file(&file)
                .env("NUAGE_ENGINE__WORKERS", "8")
                .env("NUAGE_TOOLS_DIR", "/ignored")
                .env("DATABASE_URL", "postgres://u@h/db")
                .flag("listen", "127.0.0.1:7000"),
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000"); // flag beats file
        assert_eq!(c.engine.workers, 8); // env beats file
        assert_eq!(c.engine.lease_ttl, Duration::from_secs(5)); // file beats default
        assert_eq!(c.engine.poll_interval, Duration::from_secs(5)); // default kept
        assert_eq!(c.log.format, LogFormat::Json);
        assert_eq!(c.database_url(), "postgres://u@h/db");
        assert_eq!(c.quota("dinum").vcpus, Some(64));
        assert_eq!(c.quota("other").vcpus, None);

        let c = load(
            &Sources::new()
                .env("DATABASE_URL", "postgres://a@h/db")
                .env("NUAGE_DATABASE__URL", "sqlite:x.db"),
        )
        .unwrap();
        assert_eq!(c.database_url(), "sqlite:x.db");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = load(&Sources::new().env("NUAGE_ENGINE__WORKERS", "many"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("engine.workers"), "{err}");
        let err = load(&Sources::new().env("NUAGE_ENGINE__WORKRES", "3"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("workres"), "{err}");
        let err = load(&Sources::new().flag("engine.workers", 0))
            .unwrap_err()
            .to_string();
        assert!(err.contains("engine.workers must be at least 1"), "{err}");
        let err = load(&Sources::new().flag("database.url", "mysql://x"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("database.url"), "{err}");
    }

    #[test]
    fn env_values_are_typed() {
        assert_eq!(env_value("8"), Value::from(8));
        assert_eq!(env_value("true"), Value::Bool(true));
        assert_eq!(env_value("postgres://x"), Value::from("postgres://x"));
        assert_eq!(env_value("[1,2]"), serde_json::json!([1, 2]));
        assert_eq!(env_value("{oops"), Value::from("{oops"));
    }
}
