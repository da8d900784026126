//! What a provider instance offers, for catalogue checks before anything is created.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::spec::{ImageRef, ResourceKind, ResourceSpec, SpecBody};

/// What an instance can still take, as it knows now: live facts that the broker folds into the
/// catalogue's capacity of the offers bound to the instance (a pool of dedicated hosts knows
/// them; a public cloud does not say). A field left `None` is not known, so not limited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FreeCapacity {
    /// More server instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<u64>,
    /// vCPUs free (within overcommit limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u64>,
    /// Memory free, MiB (within overcommit limits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_mib: Option<u64>,
    /// Block storage free, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_gib: Option<u64>,
}

/// The kinds, regions, zones, flavors and images a provider instance offers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Resource kinds it can manage.
    pub kinds: BTreeSet<ResourceKind>,
    /// Regions it serves (usually one per instance).
    pub regions: Vec<String>,
    /// Availability zones, first is the default.
    pub zones: Vec<String>,
    /// Sizes it can give, in preference order.
    pub flavors: Vec<Flavor>,
    /// Images it can boot, by OS name and version.
    pub images: Vec<ImageInfo>,
    /// Whether it can place servers on dedicated hardware.
    pub dedicated: bool,
    /// True for a simulated cloud.
    pub simulated: bool,
}

/// A size of server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flavor {
    /// Native name (`m5.large`, a Nova flavor name).
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub ram_mib: u64,
}

impl Flavor {
    /// A flavor.
    pub fn new(name: impl Into<String>, vcpus: u32, ram_mib: u64) -> Self {
        Flavor {
            name: name.into(),
            vcpus,
            ram_mib,
        }
    }

    /// Whether it has at least these resources.
    pub fn fits(&self, vcpus: u32, ram_mib: u64) -> bool {
        self.vcpus >= vcpus && self.ram_mib >= ram_mib
    }
}

/// An image, by OS name and version, with its native id when known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// The OS name and version.
    pub image: ImageRef,
    /// Native id (`ami-...`, a Glance UUID), when resolved.
    #[serde(default)]
    pub native_id: Option<String>,
}

/// The smallest flavor with at least `vcpus` and `ram_mib`: fewest vCPUs, then least memory,
/// then first in list order. The rule every adapter uses to turn a size into a flavor.
pub fn smallest_fitting(flavors: &[Flavor], vcpus: u32, ram_mib: u64) -> Option<&Flavor> {
    flavors
        .iter()
        .enumerate()
        .filter(|(_, f)| f.fits(vcpus, ram_mib))
        .min_by_key(|(i, f)| (f.vcpus, f.ram_mib, *i))
        .map(|(_, f)| f)
}

impl Capabilities {
    /// Whether the kind is offered.
    pub fn supports(&self, kind: ResourceKind) -> bool {
        self.kinds.contains(&kind)
    }

    /// Whether the image is offered.
    pub fn has_image(&self, image: &ImageRef) -> bool {
        self.images.iter().any(|i| &i.image == image)
    }

    /// The flavor a server of this size gets (see [`smallest_fitting`]).
    pub fn flavor_for(&self, vcpus: u32, ram_mib: u64) -> Option<&Flavor> {
        smallest_fitting(&self.flavors, vcpus, ram_mib)
    }

    /// Checks a spec against the catalogue: kind offered, zone known, and for servers a fitting
    /// (or the named) flavor, the image and dedicated hardware. An error is terminal.
    pub fn check(&self, spec: &ResourceSpec) -> Result<()> {
        let kind = spec.kind();
        if !self.supports(kind) {
            return Err(Error::Unsupported(format!("{kind} resources")));
        }
        let zone = match &spec.body {
            SpecBody::Subnet(s) => s.zone.as_ref(),
            SpecBody::Server(s) => s.zone.as_ref(),
            SpecBody::Volume(v) => v.zone.as_ref(),
            _ => None,
        };
        if let Some(zone) = zone
            && !self.zones.is_empty()
            && !self.zones.contains(zone)
        {
            return Err(Error::InvalidSpec(format!(
                "zone {zone:?} is not offered (zones: {})",
                self.zones.join(", ")
            )));
        }
        if let SpecBody::Server(s) = &spec.body {
            match &s.flavor {
                Some(name) if !self.flavors.iter().any(|f| &f.name == name) => {
                    return Err(Error::InvalidSpec(format!(
                        "flavor {name:?} is not offered"
                    )));
                }
                Some(_) => {}
                None if self.flavor_for(s.vcpus, s.ram_mib).is_none() => {
                    return Err(Error::InvalidSpec(format!(
                        "no flavor has {} vCPU and {} MiB",
                        s.vcpus, s.ram_mib
                    )));
                }
                None => {}
            }
            if !self.has_image(&s.image) {
                return Err(Error::InvalidSpec(format!(
                    "image {} is not offered",
                    s.image
                )));
            }
            if s.dedicated && !self.dedicated {
                return Err(Error::Unsupported("dedicated hardware".to_owned()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smallest_fitting_prefers_fewer_vcpus_then_less_ram() {
        let flavors = vec![
            Flavor::new("m.xlarge", 4, 16384),
            Flavor::new("r.large", 2, 16384),
            Flavor::new("c.large", 2, 4096),
            Flavor::new("m.large", 2, 8192),
        ];
        assert_eq!(smallest_fitting(&flavors, 2, 4096).unwrap().name, "c.large");
        assert_eq!(smallest_fitting(&flavors, 1, 5000).unwrap().name, "m.large");
        assert_eq!(
            smallest_fitting(&flavors, 2, 16000).unwrap().name,
            "r.large"
        );
        assert_eq!(
            smallest_fitting(&flavors, 3, 1024).unwrap().name,
            "m.xlarge"
        );
        assert!(smallest_fitting(&flavors, 8, 1024).is_none());
    }
}
