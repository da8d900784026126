//! Host pool configuration: which libvirt hosts form the pool, their labels, overcommit ratios
//! and maintenance flags. Deserialized from the broker's config file and validated once.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::uri::HostUri;

/// A pool of libvirt hosts dedicated to the State at one provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// The pool's name (e.g. `dedicated-paris`), used in logs and capacity facts.
    pub name: String,
    /// Settings every host inherits unless it overrides them.
    #[serde(default)]
    pub defaults: HostDefaults,
    /// The hosts.
    pub hosts: Vec<HostConfig>,
}

/// Settings shared by the hosts of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostDefaults {
    /// Overcommit ratios.
    pub overcommit: Overcommit,
    /// Resources kept for the hypervisor itself, never given to guests.
    pub reserved: Reserved,
    /// The libvirt storage pool that holds guest volumes.
    pub storage_pool: String,
}

impl Default for HostDefaults {
    fn default() -> Self {
        HostDefaults {
            overcommit: Overcommit::default(),
            reserved: Reserved::default(),
            storage_pool: "default".to_owned(),
        }
    }
}

/// How far guests may oversubscribe a host: guest vCPUs may reach `cpu` × physical CPUs, guest
/// memory `memory` × physical memory (both after [`Reserved`] is taken off).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overcommit {
    /// vCPU ratio, in (0, 64]. Default 4.
    pub cpu: f64,
    /// Memory ratio, in (0, 4]. Default 1 (no memory overcommit).
    pub memory: f64,
}

impl Default for Overcommit {
    fn default() -> Self {
        Overcommit {
            cpu: 4.0,
            memory: 1.0,
        }
    }
}

/// Host resources withheld from guests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Reserved {
    /// Physical CPUs kept for the hypervisor.
    pub cpus: u32,
    /// Memory kept for the hypervisor, in MiB.
    pub memory_mib: u64,
}

/// Where a host sits, used to spread the servers of one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostLabels {
    /// Site (datacentre), e.g. `paris-1`.
    pub site: Option<String>,
    /// Rack within the site, e.g. `r12`. A host without a rack counts as a rack of its own.
    pub rack: Option<String>,
    /// Other labels, carried through to observations and logs.
    pub extra: BTreeMap<String, String>,
}

/// One libvirt host of the pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostConfig {
    /// Stable name of the host in the pool (`[a-z0-9][a-z0-9._-]*`, at most 63 characters);
    /// part of cloud-side ids (`host/domain`).
    pub name: String,
    /// How to reach it.
    pub uri: HostUri,
    /// Site and rack.
    #[serde(default)]
    pub labels: HostLabels,
    /// Overrides the pool's overcommit ratios.
    #[serde(default)]
    pub overcommit: Option<Overcommit>,
    /// Overrides the pool's reserved resources.
    #[serde(default)]
    pub reserved: Option<Reserved>,
    /// Overrides the pool's storage pool.
    #[serde(default)]
    pub storage_pool: Option<String>,
    /// A host in maintenance keeps its guests but receives no new ones.
    #[serde(default)]
    pub maintenance: bool,
}

/// A host's settings once the pool defaults are applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedHost {
    /// Name in the pool.
    pub name: String,
    /// Connection URI.
    pub uri: HostUri,
    /// Site and rack.
    pub labels: HostLabels,
    /// Effective overcommit ratios.
    pub overcommit: Overcommit,
    /// Effective reserved resources.
    pub reserved: Reserved,
    /// Effective storage pool.
    pub storage_pool: String,
    /// Maintenance flag.
    pub maintenance: bool,
}

impl PoolConfig {
    /// Checks the whole config and returns every host with the defaults applied.
    pub fn resolve(&self) -> Result<Vec<ResolvedHost>> {
        check_name("name", &self.name)?;
        check_overcommit("defaults.overcommit", self.defaults.overcommit)?;
        check_libvirt_name("defaults.storage_pool", &self.defaults.storage_pool)?;
        if self.hosts.is_empty() {
            return Err(invalid("hosts", "a pool needs at least one host"));
        }
        let mut seen = HashSet::new();
        let mut out = Vec::with_capacity(self.hosts.len());
        for (i, h) in self.hosts.iter().enumerate() {
            let at = |f: &str| format!("hosts[{i}].{f}");
            check_name(&at("name"), &h.name)?;
            if !seen.insert(h.name.as_str()) {
                return Err(invalid(
                    &at("name"),
                    &format!("duplicate host `{}`", h.name),
                ));
            }
            let overcommit = h.overcommit.unwrap_or(self.defaults.overcommit);
            check_overcommit(&at("overcommit"), overcommit)?;
            let storage_pool = h
                .storage_pool
                .clone()
                .unwrap_or_else(|| self.defaults.storage_pool.clone());
            check_libvirt_name(&at("storage_pool"), &storage_pool)?;
            for (label, value) in [("site", &h.labels.site), ("rack", &h.labels.rack)] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(invalid(&at(&format!("labels.{label}")), "empty label"));
                }
            }
            out.push(ResolvedHost {
                name: h.name.clone(),
                uri: h.uri.clone(),
                labels: h.labels.clone(),
                overcommit,
                reserved: h.reserved.unwrap_or(self.defaults.reserved),
                storage_pool,
                maintenance: h.maintenance,
            });
        }
        Ok(out)
    }
}

fn invalid(field: &str, reason: &str) -> Error {
    Error::InvalidConfig {
        field: field.to_owned(),
        reason: reason.to_owned(),
    }
}

fn check_name(field: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            field,
            &format!("`{name}` must match [a-z0-9][a-z0-9._-]* (at most 63 characters)"),
        ))
    }
}

fn check_libvirt_name(field: &str, name: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
        Err(invalid(
            field,
            &format!("`{name}` is not a libvirt object name"),
        ))
    } else {
        Ok(())
    }
}

fn check_overcommit(field: &str, o: Overcommit) -> Result<()> {
    if !(o.cpu.is_finite() && o.cpu > 0.0 && o.cpu <= 64.0) {
        return Err(invalid(&format!("{field}.cpu"), "must be in (0, 64]"));
    }
    if !(o.memory.is_finite() && o.memory > 0.0 && o.memory <= 4.0) {
        return Err(invalid(&format!("{field}.memory"), "must be in (0, 4]"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(json: &str) -> PoolConfig {
        serde_json::from_str(json).unwrap()
    }

    const GOOD: &str = r#"{
        "name": "dedicated-paris",
        "defaults": { "overcommit": { "cpu": 8.0, "memory": 1.5 }, "reserved": { "cpus": 1, "memory_mib": 1024 } },
        "hosts": [
            { "name": "kvm-01", "uri": "qemu+ssh://ops@kvm-01.example/system",
              "labels": { "site": "paris-1", "rack": "r1" } },
            { "name": "kvm-02", "uri": "qemu+tls://kvm-02.example/system",
              "labels": { "site": "paris-1", "rack": "r2" },
              "overcommit": { "cpu": 2.0, "memory": 1.0 }, "maintenance": true,
              "storage_pool": "fast" }
        ]
    }"#;

    #[test]
    fn applies_defaults_and_overrides() {
        let hosts = pool(GOOD).resolve().unwrap();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].overcommit.cpu, 8.0);
        assert_eq!(hosts[0].reserved.memory_mib, 1024);
        assert_eq!(hosts[0].storage_pool, "default");
        assert!(!hosts[0].maintenance);
        assert_eq!(hosts[1].overcommit.cpu, 2.0);
        assert_eq!(hosts[1].storage_pool, "fast");
        assert!(hosts[1].maintenance);
        assert_eq!(hosts[1].labels.rack.as_deref(), Some("r2"));
    }

    #[test]
    fn refuses_bad_configs_precisely() {
        let cases: &[(&str, &str)] = &[
            (
                r#"{"name":"p","hosts":[]}"#,
                "hosts: a pool needs at least one host",
            ),
            (
                r#"{"name":"p","hosts":[{"name":"a","uri":"test:///default"},{"name":"a","uri":"test:///default"}]}"#,
                "hosts[1].name: duplicate host `a`",
            ),
            (
                r#"{"name":"p","hosts":[{"name":"A b","uri":"test:///default"}]}"#,
                "hosts[0].name",
            ),
            (
                r#"{"name":"p","hosts":[{"name":"a","uri":"test:///default","overcommit":{"cpu":0.0,"memory":1.0}}]}"#,
                "hosts[0].overcommit.cpu",
            ),
            (
                r#"{"name":"p","defaults":{"overcommit":{"cpu":4.0,"memory":9.0}},"hosts":[{"name":"a","uri":"test:///default"}]}"#,
                "defaults.overcommit.memory",
            ),
            (
                r#"{"name":"p","hosts":[{"name":"a","uri":"test:///default","labels":{"rack":" "}}]}"#,
                "hosts[0].labels.rack",
            ),
        ];
        for (json, needle) in cases {
            let err = pool(json).resolve().unwrap_err().to_string();
            assert!(err.contains(needle), "{json}\n→ {err}");
        }
    }

    #[test]
    fn unknown_fields_and_bad_uris_fail_to_parse() {
        assert!(
            serde_json::from_str::<PoolConfig>(
                r#"{"name":"p","hosts":[{"name":"a","uri":"test:///default","cpus":4}]}"#
            )
            .is_err()
        );
        let err = serde_json::from_str::<PoolConfig>(
            r#"{"name":"p","hosts":[{"name":"a","uri":"qemu+ssh://u:secret@h/system"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("password") && !err.contains("secret"), "{err}");
    }
}
