//! How a simulated resource looks to the caller: state, drift and outputs.

use std::collections::BTreeSet;

use crate::capability::{Flavor, smallest_fitting};
use crate::error::{Error, Result};
use crate::observation::{Address, AddressScope, Drift, Observed, Outputs, ResourceState};
use crate::spec::{Direction, ResourceSpec, SecurityRule, ServerSpec, SpecBody};

use super::config::SimConfig;
use super::inventory::{Entry, Phase};

/// The flavor a server spec asks for: the named one, or the smallest that fits.
pub(super) fn desired_flavor(config: &SimConfig, s: &ServerSpec) -> Result<Flavor> {
    let found = match &s.flavor {
        Some(name) => config.flavors.iter().find(|f| &f.name == name),
        None => smallest_fitting(&config.flavors, s.vcpus, s.ram_mib),
    };
    found.cloned().ok_or_else(|| {
        Error::cloud(
            crate::ErrorKind::Terminal,
            Some("SimInvalidFlavor".to_owned()),
            match &s.flavor {
                Some(name) => format!("flavor {name:?} does not exist (simulated)"),
                None => format!(
                    "no flavor has {} vCPU and {} MiB (simulated)",
                    s.vcpus, s.ram_mib
                ),
            },
        )
    })
}

/// Native image id of an OS image in the sim.
pub(super) fn image_id(s: &ServerSpec) -> String {
    format!("sim-img-{}-{}", s.image.os, s.image.version)
}

/// The observation of an entry against the spec the caller holds.
pub(super) fn observed(config: &SimConfig, entry: &Entry, spec: &ResourceSpec) -> Observed {
    let (state, native) = match (entry.phase, &entry.body) {
        (Phase::Creating, SpecBody::Attachment(_)) => (ResourceState::Creating, "attaching"),
        (Phase::Creating, _) => (ResourceState::Creating, "building"),
        (Phase::Ready, SpecBody::Attachment(_)) => (ResourceState::Ready, "attached"),
        (Phase::Ready, _) => (ResourceState::Ready, "active"),
        (Phase::Updating, _) => (ResourceState::Updating, "updating"),
        (Phase::Deleting, SpecBody::Attachment(_)) => (ResourceState::Deleting, "detaching"),
        (Phase::Deleting, _) => (ResourceState::Deleting, "deleting"),
    };
    let mut outputs = Outputs {
        addresses: entry
            .address
            .map(|ip| Address {
                scope: AddressScope::Private,
                ip,
            })
            .into_iter()
            .collect(),
        zone: entry.zone.clone(),
        flavor: entry.flavor.as_ref().map(|f| f.name.clone()),
        image: match &entry.body {
            SpecBody::Server(s) => Some(image_id(s)),
            _ => None,
        },
        host: entry.host.clone(),
        device: entry.device.clone(),
        size_gib: match &entry.body {
            SpecBody::Volume(v) => Some(v.size_gib),
            _ => None,
        },
        ..Outputs::default()
    };
    outputs
        .extra
        .insert("simulated".to_owned(), "true".to_owned());
    outputs.extra.insert("name".to_owned(), entry.meta.name());
    Observed {
        kind: entry.kind,
        cloud_id: entry.cloud_id.clone(),
        state,
        native_state: native.to_owned(),
        drift: drift(config, entry, spec),
        outputs,
        message: None,
        duplicates: Vec::new(),
        simulated: true,
    }
}

fn drift(config: &SimConfig, entry: &Entry, spec: &ResourceSpec) -> Vec<Drift> {
    let mut out = Vec::new();
    let mut cmp = |field: &str, desired: String, actual: String| {
        if desired != actual {
            out.push(Drift::new(field, desired, actual));
        }
    };
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    match (&spec.body, &entry.body) {
        (SpecBody::Network(want), SpecBody::Network(have)) => {
            cmp("cidr", want.cidr.to_string(), have.cidr.to_string());
        }
        (SpecBody::Subnet(want), SpecBody::Subnet(have)) => {
            cmp(
                "network",
                want.network.to_string(),
                have.network.to_string(),
            );
            cmp("cidr", want.cidr.to_string(), have.cidr.to_string());
            if want.zone.is_some() {
                cmp("zone", opt(&want.zone), opt(&entry.zone));
            }
        }
        (SpecBody::SecurityGroup(want), SpecBody::SecurityGroup(have)) => {
            cmp(
                "network",
                want.network
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                have.network
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            for direction in [Direction::Ingress, Direction::Egress] {
                let wanted = rules(&want.rules, direction);
                if direction == Direction::Egress && wanted.is_empty() {
                    continue;
                }
                let field = match direction {
                    Direction::Ingress => "ingress_rules",
                    Direction::Egress => "egress_rules",
                };
                cmp(field, wanted, rules(&have.rules, direction));
            }
        }
        (SpecBody::Server(want), SpecBody::Server(have)) => {
            let desired = desired_flavor(config, want)
                .map(|f| f.name)
                .unwrap_or_default();
            let actual = entry
                .flavor
                .as_ref()
                .map(|f| f.name.clone())
                .unwrap_or_default();
            cmp("flavor", desired, actual);
            cmp("image", want.image.to_string(), have.image.to_string());
            cmp(
                "subnet",
                want.subnet
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
                have.subnet
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default(),
            );
            let set = |v: &Vec<crate::CloudId>| {
                let s: BTreeSet<&str> = v.iter().map(|c| c.as_str()).collect();
                s.into_iter().collect::<Vec<_>>().join(",")
            };
            cmp(
                "security_groups",
                set(&want.security_groups),
                set(&have.security_groups),
            );
            cmp(
                "dedicated",
                want.dedicated.to_string(),
                have.dedicated.to_string(),
            );
            if want.zone.is_some() {
                cmp("zone", opt(&want.zone), opt(&entry.zone));
            }
        }
        (SpecBody::Volume(want), SpecBody::Volume(have)) => {
            cmp(
                "size_gib",
                want.size_gib.to_string(),
                have.size_gib.to_string(),
            );
            if want.volume_type.is_some() {
                cmp(
                    "volume_type",
                    opt(&want.volume_type),
                    opt(&have.volume_type),
                );
            }
            if want.zone.is_some() {
                cmp("zone", opt(&want.zone), opt(&entry.zone));
            }
        }
        (SpecBody::Attachment(want), SpecBody::Attachment(_)) => {
            if want.device.is_some() {
                cmp("device", opt(&want.device), opt(&entry.device));
            }
        }
        _ => cmp("kind", spec.kind().to_string(), entry.kind.to_string()),
    }
    out
}

fn rules(rules: &[SecurityRule], direction: Direction) -> String {
    let set: BTreeSet<String> = rules
        .iter()
        .filter(|r| r.direction == direction)
        .map(|r| {
            let ports = r
                .ports
                .map(|p| format!(":{}-{}", p.from, p.to))
                .unwrap_or_default();
            format!("{:?}{ports}<{}", r.protocol, r.remote).to_lowercase()
        })
        .collect();
    set.into_iter().collect::<Vec<_>>().join(" ")
}
