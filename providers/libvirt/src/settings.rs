//! The adapter's settings: the host pool plus what turns contract specs into libvirt objects
//! (flavors, images, boot disk size, spreading, timeouts).

use std::collections::BTreeMap;
use std::time::Duration;

use nuage_provider::Flavor;
use serde::{Deserialize, Serialize};

use crate::config::PoolConfig;
use crate::error::{Error, Result};
use crate::selection::Spread;
use crate::xml::check_name;

/// Settings of one libvirt provider instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LibvirtSettings {
    /// Provider instance name (`dedicated-paris`), the registry key.
    pub instance: String,
    /// The hosts.
    pub pool: PoolConfig,
    /// Images offered: `<os>-<version>` (e.g. `debian-12`) → name of the base QCOW2 volume in
    /// each host's storage pool. A server's boot disk is a thin copy of it.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Sizes offered; a server gets the smallest that fits (the contract's rule).
    #[serde(default = "default_flavors")]
    pub flavors: Vec<Flavor>,
    /// Size of a server's boot disk, in GiB.
    #[serde(default = "default_boot_disk_gib")]
    pub boot_disk_gib: u32,
    /// How the servers of one request are kept apart: `soft` (spread across hosts then racks,
    /// share when needed) or `hard` (never two on one host).
    #[serde(default)]
    pub spread: SpreadSetting,
    /// The libvirt network a server without a subnet is attached to; none when absent.
    #[serde(default)]
    pub default_network: Option<String>,
    /// Timeouts and intervals, in milliseconds.
    #[serde(default)]
    pub timing: Timing,
}

/// Serializable form of [`Spread`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpreadSetting {
    /// [`Spread::Soft`].
    #[default]
    Soft,
    /// [`Spread::Hard`].
    Hard,
}

impl From<SpreadSetting> for Spread {
    fn from(s: SpreadSetting) -> Spread {
        match s {
            SpreadSetting::Soft => Spread::Soft,
            SpreadSetting::Hard => Spread::Hard,
        }
    }
}

/// Timeouts and intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Longest wait for one libvirt call before the host is marked unhealthy.
    pub call_timeout_ms: u64,
    /// How long an unhealthy host is left alone before it is probed again.
    pub reprobe_ms: u64,
    /// How old the pool's inventory may get before a selection re-syncs every host.
    pub resync_ms: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            call_timeout_ms: 30_000,
            reprobe_ms: 10_000,
            resync_ms: 60_000,
        }
    }
}

impl Timing {
    /// [`Timing::call_timeout_ms`] as a duration.
    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }
    /// [`Timing::reprobe_ms`] as a duration.
    pub fn reprobe(&self) -> Duration {
        Duration::from_millis(self.reprobe_ms)
    }
    /// [`Timing::resync_ms`] as a duration.
    pub fn resync(&self) -> Duration {
        Duration::from_millis(self.resync_ms)
    }
}

fn default_boot_disk_gib() -> u32 {
    20
}

/// The default sizes: 1 to 32 vCPUs with 2, 4 or 8 GiB per vCPU.
pub fn default_flavors() -> Vec<Flavor> {
    let mut out = Vec::new();
    for vcpus in [1u32, 2, 4, 8, 16, 32] {
        for (family, gib_per_vcpu) in [("c", 2u64), ("m", 4), ("r", 8)] {
            out.push(Flavor::new(
                format!("d{family}.{vcpus}c{}g", u64::from(vcpus) * gib_per_vcpu),
                vcpus,
                u64::from(vcpus) * gib_per_vcpu * 1024,
            ));
        }
    }
    out
}

impl LibvirtSettings {
    /// Checks everything once: pool, images, flavors.
    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, reason: String| Error::InvalidConfig {
            field: field.to_owned(),
            reason,
        };
        if self.instance.is_empty() {
            return Err(bad("instance", "empty".into()));
        }
        self.pool.resolve()?;
        for (image, volume) in &self.images {
            let (os, version) = image.split_once('-').ok_or_else(|| {
                bad(
                    &format!("images.{image}"),
                    "key must be `<os>-<version>`".into(),
                )
            })?;
            if os.is_empty() || version.is_empty() {
                return Err(bad(
                    &format!("images.{image}"),
                    "key must be `<os>-<version>`".into(),
                ));
            }
            check_name("image volume", volume)
                .map_err(|e| bad(&format!("images.{image}"), e.to_string()))?;
        }
        if self.flavors.is_empty() {
            return Err(bad("flavors", "at least one flavor".into()));
        }
        for (i, f) in self.flavors.iter().enumerate() {
            if f.vcpus == 0 || f.ram_mib == 0 || f.name.is_empty() {
                return Err(bad(
                    &format!("flavors[{i}]"),
                    "empty name or zero size".into(),
                ));
            }
        }
        if self.boot_disk_gib == 0 {
            return Err(bad("boot_disk_gib", "must be positive".into()));
        }
        if self.timing.call_timeout_ms == 0 {
            return Err(bad("timing.call_timeout_ms", "must be positive".into()));
        }
        if let Some(n) = &self.default_network {
            check_name("network", n).map_err(|e| bad("default_network", e.to_string()))?;
        }
        Ok(())
    }

    /// The base volume of an image, from its OS name and version.
    pub fn image_volume(&self, os: &str, version: &str) -> Option<&str> {
        self.images
            .get(&format!("{os}-{version}"))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(extra: &str) -> std::result::Result<LibvirtSettings, serde_json::Error> {
        serde_json::from_str(&format!(
            r#"{{"instance":"dedicated-paris",
                "pool":{{"name":"p","hosts":[{{"name":"h1","uri":"test:///default"}}]}}
                {extra}}}"#
        ))
    }

    #[test]
    fn defaults_are_usable() {
        let s = settings("").unwrap();
        s.validate().unwrap();
        assert_eq!(s.boot_disk_gib, 20);
        assert_eq!(s.spread, SpreadSetting::Soft);
        assert_eq!(s.flavors.len(), 18);
        assert!(
            s.flavors
                .iter()
                .any(|f| f.name == "dm.2c8g" && f.ram_mib == 8192)
        );
        assert_eq!(s.timing.call_timeout(), Duration::from_secs(30));
    }

    #[test]
    fn images_resolve_and_bad_settings_are_refused() {
        let s = settings(r#","images":{"debian-12":"debian-12.qcow2"},"spread":"hard""#).unwrap();
        s.validate().unwrap();
        assert_eq!(s.image_volume("debian", "12"), Some("debian-12.qcow2"));
        assert_eq!(s.image_volume("debian", "11"), None);
        assert_eq!(Spread::from(s.spread), Spread::Hard);
        for (extra, needle) in [
            (r#","images":{"debian":"x"}"#, "images.debian"),
            (r#","images":{"debian-12":"../x"}"#, "images.debian-12"),
            (r#","flavors":[]"#, "flavors"),
            (r#","boot_disk_gib":0"#, "boot_disk_gib"),
            (r#","default_network":"a b""#, "default_network"),
        ] {
            let err = settings(extra).unwrap().validate().unwrap_err().to_string();
            assert!(err.contains(needle), "{extra}: {err}");
        }
        assert!(settings(r#","spread":"sometimes""#).is_err());
    }
}
