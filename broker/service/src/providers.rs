//! Provider instances: built from the configuration (`providers:`), keyed by the catalogue's
//! binding instance names, and a simulated cloud for every instance the catalogue names but
//! the configuration does not. Everything about a simulated instance says so.

use std::collections::BTreeMap;
use std::sync::Arc;

use nuage_placement::Catalogue;
use nuage_placement::catalogue::AdapterKind;
use nuage_provider::sim::{SimCloud, SimConfig};
use nuage_provider::{Provider, ProviderRegistry};
use nuage_workflows::{LimitConfig, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::{Error, Result};

/// The typed settings of one configured instance.
#[derive(Debug, Clone)]
pub enum ProviderSettings {
    /// AWS EC2 or an EC2-compatible cloud.
    Ec2(Box<nuage_provider_aws::AwsConfig>),
    /// OpenStack.
    Openstack(Box<nuage_provider_openstack::OpenStackConfig>),
    /// A pool of libvirt hosts (only with the `libvirt` feature).
    #[cfg(feature = "libvirt")]
    Libvirt(Box<nuage_provider_libvirt::LibvirtSettings>),
    /// A simulated cloud, configured explicitly (latency, faults...).
    Sim(Box<SimConfig>),
}

/// Limits shared by every step that calls one instance (across replicas).
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Steps calling the instance at once.
    pub max_concurrent: Option<u32>,
    /// Step attempts started per second.
    pub rate_per_sec: Option<f64>,
    /// Attempts that may start back to back.
    pub burst: Option<f64>,
}

/// A configured instance: its adapter settings and limits.
#[derive(Debug, Clone)]
pub struct ProviderEntry {
    /// The adapter settings.
    pub settings: ProviderSettings,
    /// Shared limits.
    pub limits: Option<Limits>,
}

impl ProviderSettings {
    /// Parses `providers.<name>`: `adapter` picks the adapter, `limits` is the broker's, every
    /// other key is the adapter's own (its instance name is the key). Secret references are
    /// checked for shape only; [`ProviderSettings::resolve`] reads them.
    pub fn parse(name: &str, raw: &Value) -> std::result::Result<ProviderEntry, String> {
        Self::parse_with(name, raw, false)
    }

    /// Parses `providers.<name>` and reads its secret references (files, variables).
    pub fn resolve(name: &str, raw: &Value) -> std::result::Result<ProviderEntry, String> {
        Self::parse_with(name, raw, true)
    }

    fn parse_with(
        name: &str,
        raw: &Value,
        resolve: bool,
    ) -> std::result::Result<ProviderEntry, String> {
        let at = |e: String| format!("providers.{name}: {e}");
        let Value::Object(map) = raw else {
            return Err(at("must be a mapping with an `adapter` key".into()));
        };
        let mut map = map.clone();
        let adapter = map
            .remove("adapter")
            .and_then(|a| a.as_str().map(str::to_owned))
            .ok_or_else(|| at("`adapter` (ec2, openstack, libvirt or sim) is required".into()))?;
        let limits = match map.remove("limits") {
            Some(v) => Some(de::<Limits>(v).map_err(|e| at(format!("limits.{e}")))?),
            None => None,
        };
        let settings = match adapter.as_str() {
            "ec2" => {
                map.insert("name".into(), Value::String(name.to_owned()));
                resolve_aws_secrets(&mut map, resolve).map_err(at)?;
                ProviderSettings::Ec2(Box::new(de(Value::Object(map)).map_err(at)?))
            }
            "openstack" => {
                map.insert("instance".into(), Value::String(name.to_owned()));
                let cfg: nuage_provider_openstack::OpenStackConfig =
                    de(Value::Object(map)).map_err(at)?;
                cfg.validate().map_err(|e| at(e.to_string()))?;
                ProviderSettings::Openstack(Box::new(cfg))
            }
            "sim" => {
                map.insert("instance".into(), Value::String(name.to_owned()));
                ProviderSettings::Sim(Box::new(de(Value::Object(map)).map_err(at)?))
            }
            #[cfg(feature = "libvirt")]
            "libvirt" => {
                map.insert("instance".into(), Value::String(name.to_owned()));
                ProviderSettings::Libvirt(Box::new(de(Value::Object(map)).map_err(at)?))
            }
            #[cfg(not(feature = "libvirt"))]
            "libvirt" => {
                return Err(at(
                    "this build has no libvirt adapter (build nuage with --features libvirt)"
                        .into(),
                ));
            }
            other => {
                return Err(at(format!(
                    "unknown adapter {other:?} (expected ec2, openstack, libvirt or sim)"
                )));
            }
        };
        Ok(ProviderEntry { settings, limits })
    }

    /// The adapter kind, as catalogue bindings name it.
    pub fn adapter(&self) -> AdapterKind {
        match self {
            ProviderSettings::Ec2(_) => AdapterKind::Ec2,
            ProviderSettings::Openstack(_) => AdapterKind::Openstack,
            #[cfg(feature = "libvirt")]
            ProviderSettings::Libvirt(_) => AdapterKind::Libvirt,
            ProviderSettings::Sim(_) => AdapterKind::Sim,
        }
    }
}

fn de<T: serde::de::DeserializeOwned>(v: Value) -> std::result::Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
}

/// `credentials.secret_access_key` and `session_token` may be `{env: VAR}` or `{file: PATH}`;
/// read when `resolve`, else replaced by a placeholder (to check the rest of the settings).
fn resolve_aws_secrets(
    map: &mut serde_json::Map<String, Value>,
    resolve: bool,
) -> std::result::Result<(), String> {
    let Some(Value::Object(creds)) = map.get_mut("credentials") else {
        return Ok(());
    };
    for key in ["secret_access_key", "session_token"] {
        if let Some(v @ Value::Object(_)) = creds.get_mut(key) {
            let r: crate::config::SecretRef = serde_json::from_value(v.clone()).map_err(|_| {
                format!("credentials.{key}: expected {{env: VAR}} or {{file: PATH}}")
            })?;
            if !resolve {
                *v = Value::String("unresolved".to_owned());
                continue;
            }
            let secret = r.resolve().map_err(|e| match e {
                Error::Config(m) => format!("credentials.{key}: {m}"),
                other => format!("credentials.{key}: {other}"),
            })?;
            *v = Value::String(secret.expose().to_owned());
        }
    }
    Ok(())
}

/// What the API and logs say about an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProviderInfo {
    /// Instance name.
    pub instance: String,
    /// Adapter kind (`ec2`, `openstack`, `libvirt`, `sim`).
    pub adapter: String,
    /// True when nothing real is created.
    pub simulated: bool,
    /// Why it is simulated, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The provider instances of this broker.
#[derive(Debug, Clone, Default)]
pub struct Providers {
    registry: ProviderRegistry,
    sims: BTreeMap<String, Arc<SimCloud>>,
    info: BTreeMap<String, ProviderInfo>,
    limits: BTreeMap<String, Limits>,
}

impl Providers {
    /// Builds every configured instance, and a simulated cloud for each instance the catalogue
    /// binds but the configuration does not. An instance configured with another adapter than
    /// its offers' binding is refused.
    pub async fn build(config: &Config, catalogue: &Catalogue) -> Result<Providers> {
        let mut p = Providers::default();
        let mut bindings: BTreeMap<String, AdapterKind> = BTreeMap::new();
        for offer in catalogue.offers() {
            bindings.insert(offer.binding.instance.clone(), offer.binding.adapter);
        }
        for (name, raw) in &config.providers {
            let entry = ProviderSettings::resolve(name, raw).map_err(Error::Config)?;
            if let Some(bound) = bindings.get(name)
                && *bound != entry.settings.adapter()
                && entry.settings.adapter() != AdapterKind::Sim
            {
                return Err(Error::Config(format!(
                    "providers.{name}: configured as {} but the catalogue binds it as {}",
                    entry.settings.adapter().as_str(),
                    bound.as_str()
                )));
            }
            if !bindings.contains_key(name) {
                tracing::warn!(instance = %name, "provider instance configured but no offer binds it");
            }
            if let Some(l) = entry.limits {
                p.limits.insert(name.clone(), l);
            }
            let reason = matches!(entry.settings, ProviderSettings::Sim(_))
                .then(|| "configured as a simulated cloud".to_owned());
            let provider: Arc<dyn Provider> = match entry.settings {
                ProviderSettings::Ec2(cfg) => {
                    Arc::new(nuage_provider_aws::AwsProvider::connect(*cfg).await?)
                }
                ProviderSettings::Openstack(cfg) => Arc::new(
                    nuage_provider_openstack::OpenStackProvider::new(*cfg)
                        .map_err(|e| Error::Config(format!("providers.{name}: {e}")))?,
                ),
                #[cfg(feature = "libvirt")]
                ProviderSettings::Libvirt(cfg) => Arc::new(
                    nuage_provider_libvirt::LibvirtProvider::connect(*cfg)
                        .await
                        .map_err(|e| Error::Config(format!("providers.{name}: {e}")))?,
                ),
                ProviderSettings::Sim(cfg) => {
                    let sim = Arc::new(SimCloud::new(*cfg)?);
                    p.sims.insert(name.clone(), sim.clone());
                    sim
                }
            };
            p.add(provider, None, reason)?;
        }
        for name in bindings.keys() {
            if p.registry.get(name).is_none() {
                let mut cfg = config.sim.clone();
                cfg.instance = name.clone();
                let sim = Arc::new(SimCloud::new(cfg)?);
                p.sims.insert(name.clone(), sim.clone());
                p.add(
                    sim,
                    Some(bindings[name].as_str()),
                    Some("no provider configured for this instance: bound to the sim cloud".into()),
                )?;
            }
        }
        for i in p.info.values() {
            if i.simulated {
                tracing::info!(instance = %i.instance, adapter = %i.adapter, simulated = true, "provider instance is simulated");
            } else {
                tracing::info!(instance = %i.instance, adapter = %i.adapter, simulated = false, "provider instance ready");
            }
        }
        Ok(p)
    }

    /// Adds a provider (tests use it to inject their own). `adapter` is the catalogue's name
    /// for what it stands in for (a sim standing in for an `ec2` instance says `ec2`);
    /// `reason` says why it is simulated, when it is.
    pub fn add(
        &mut self,
        provider: Arc<dyn Provider>,
        adapter: Option<&str>,
        reason: Option<String>,
    ) -> Result<()> {
        let d = provider.descriptor().clone();
        self.registry.register(provider)?;
        self.info.insert(
            d.instance.clone(),
            ProviderInfo {
                instance: d.instance,
                adapter: match (adapter, d.kind) {
                    (Some(a), _) => a.to_owned(),
                    (None, nuage_provider::ProviderKind::Aws) => "ec2".to_owned(),
                    (None, other) => other.to_string(),
                },
                simulated: d.simulated,
                reason: if d.simulated { reason } else { None },
            },
        );
        Ok(())
    }

    /// The provider of an instance.
    pub fn get(&self, instance: &str) -> Option<Arc<dyn Provider>> {
        self.registry.get(instance)
    }

    /// Whether an instance is simulated (unknown instances count as simulated: nothing real
    /// can be made through them).
    pub fn is_simulated(&self, instance: &str) -> bool {
        self.info.get(instance).is_none_or(|i| i.simulated)
    }

    /// The simulated cloud behind an instance, if it is one.
    pub fn sim(&self, instance: &str) -> Option<Arc<SimCloud>> {
        self.sims.get(instance).cloned()
    }

    /// Every instance.
    pub fn list(&self) -> Vec<ProviderInfo> {
        self.info.values().cloned().collect()
    }

    /// Applies the configured limits to the engine's shared limits (key `provider:<name>`).
    pub async fn apply_limits(&self, store: &Store) -> Result<()> {
        for (name, l) in &self.limits {
            store
                .set_limit(
                    &limit_key(name),
                    LimitConfig {
                        max_concurrent: l.max_concurrent,
                        rate_per_sec: l.rate_per_sec,
                        burst: l.burst,
                    },
                )
                .await?;
        }
        Ok(())
    }
}

/// The shared-limit key of the steps that call an instance.
pub fn limit_key(instance: &str) -> String {
    format!("provider:{instance}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settings_parse_per_adapter_with_paths_in_errors() {
        let e = ProviderSettings::parse(
            "aws-eu-west-3",
            &json!({"adapter": "ec2", "region": "eu-west-3", "limits": {"max_concurrent": 4}}),
        )
        .unwrap();
        assert_eq!(e.settings.adapter(), AdapterKind::Ec2);
        assert_eq!(e.limits.unwrap().max_concurrent, Some(4));
        let err = ProviderSettings::parse("x", &json!({"adapter": "ec2"})).unwrap_err();
        assert!(
            err.contains("providers.x") && err.contains("region"),
            "{err}"
        );
        let err = ProviderSettings::parse("x", &json!({"adapter": "vmware"})).unwrap_err();
        assert!(err.contains("unknown adapter"), "{err}");
        let err = ProviderSettings::parse(
            "x",
            &json!({"adapter": "sim", "latency": {"min_ms": 1, "max_ms": 2}, "typo": 1}),
        )
        .unwrap_err();
        assert!(err.contains("typo"), "{err}");
    }

    #[test]
    fn aws_secrets_are_resolved_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key");
        std::fs::write(&f, "s3cr3t\n").unwrap();
        let raw = json!({"adapter": "ec2", "region": "eu-west-3", "credentials": {
            "source": "static", "access_key_id": "AKIA", "secret_access_key": {"file": f}}});
        assert!(ProviderSettings::parse("aws", &raw).is_ok(), "shape only");
        let e = ProviderSettings::resolve("aws", &raw).unwrap();
        let ProviderSettings::Ec2(cfg) = e.settings else {
            panic!("not ec2")
        };
        assert!(!format!("{cfg:?}").contains("s3cr3t"));
        let nuage_provider_aws::AwsCredentials::Static {
            secret_access_key, ..
        } = &cfg.credentials
        else {
            panic!("not static")
        };
        assert_eq!(secret_access_key.expose(), "s3cr3t");
        std::fs::remove_file(&f).unwrap();
        let err = ProviderSettings::resolve("aws", &raw).unwrap_err();
        assert!(
            err.contains("secret file") && !err.contains("s3cr3t"),
            "{err}"
        );
    }
}
