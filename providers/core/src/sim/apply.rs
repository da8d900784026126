//! The effects of each operation on the sim cloud's inventory.

use std::collections::BTreeSet;

use tokio::time::Instant;

use crate::capability::Capabilities;
use crate::error::{Error, ErrorKind, Result};
use crate::observation::{Observation, Observed};
use crate::provider::DeleteOutcome;
use crate::spec::{CloudId, ResourceKind, ResourceSpec, SpecBody};

use super::config::{Readiness, SimConfig};
use super::inventory::{Entry, Inventory, Phase, Usage, elapsed};
use super::view::{desired_flavor, observed};

/// What every effect needs besides the inventory.
pub(super) struct Ctx<'a> {
    pub(super) config: &'a SimConfig,
    pub(super) caps: &'a Capabilities,
    pub(super) now: Instant,
}

fn sim_error(kind: ErrorKind, code: &str, message: String) -> Error {
    Error::cloud(
        kind,
        Some(code.to_owned()),
        format!("{message} (simulated)"),
    )
}

fn lookup(inv: &Inventory, spec: &ResourceSpec) -> Option<CloudId> {
    match &spec.body {
        SpecBody::Attachment(a) => inv.find_pair(&a.server, &a.volume).cloned(),
        _ => inv.find(spec.kind(), &spec.meta).cloned(),
    }
}

/// The entry a dependency id designates, if it exists, has the expected kind and is not being
/// deleted.
fn live<'i>(inv: &'i Inventory, id: &CloudId, kind: ResourceKind) -> Result<&'i Entry> {
    match inv.entries.get(id) {
        Some(e) if e.kind == kind && e.phase != Phase::Deleting => Ok(e),
        _ => Err(sim_error(
            ErrorKind::NotFound,
            "SimNotFound",
            format!("{kind} {id} does not exist"),
        )),
    }
}

pub(super) fn observe(ctx: &Ctx<'_>, inv: &mut Inventory, spec: &ResourceSpec) -> Observation {
    let Some(id) = lookup(inv, spec) else {
        return Observation::Absent;
    };
    let deleting_done = match inv.entries.get_mut(&id) {
        Some(e) => {
            e.observes = e.observes.saturating_add(1);
            e.phase == Phase::Deleting && elapsed(ctx.config.deletion, e.since, e.observes, ctx.now)
        }
        None => return Observation::Absent,
    };
    if deleting_done {
        inv.remove(&id);
        return Observation::Absent;
    }
    inv.settle(&id, ctx.config.readiness, ctx.now);
    match inv.entries.get(&id) {
        Some(e) => Observation::Present(observed(ctx.config, e, spec)),
        None => Observation::Absent,
    }
}

fn initial_phase(readiness: Readiness) -> Phase {
    match readiness {
        Readiness::Immediate => Phase::Ready,
        _ => Phase::Creating,
    }
}

fn check_limits(ctx: &Ctx<'_>, inv: &Inventory, tenant: &str, extra: &Usage) -> Result<()> {
    if let Some(q) = inv.usage(tenant).exceeded_quota(extra, &ctx.config.quotas) {
        return Err(sim_error(
            ErrorKind::Quota,
            "SimQuotaExceeded",
            format!("quota {q} of tenant {tenant} would be exceeded"),
        ));
    }
    if let Some(c) = inv.total.exceeded_capacity(extra, &ctx.config.capacity) {
        return Err(sim_error(
            ErrorKind::Capacity,
            "SimInsufficientCapacity",
            format!("no capacity left ({c})"),
        ));
    }
    Ok(())
}

pub(super) fn create(ctx: &Ctx<'_>, inv: &mut Inventory, spec: &ResourceSpec) -> Result<Observed> {
    if let Some(id) = lookup(inv, spec) {
        inv.settle(&id, ctx.config.readiness, ctx.now);
        let entry = &inv.entries[&id];
        if entry.phase == Phase::Deleting {
            return Err(sim_error(
                ErrorKind::Conflict,
                "SimIncorrectState",
                format!("{} {} is still being deleted", spec.kind(), spec.name()),
            ));
        }
        return Ok(observed(ctx.config, entry, spec));
    }
    ctx.caps.check(spec)?;
    let mut entry = Entry {
        cloud_id: CloudId::new(String::new()),
        kind: spec.kind(),
        meta: spec.meta.clone(),
        body: spec.body.clone(),
        phase: initial_phase(ctx.config.readiness),
        since: ctx.now,
        observes: 0,
        zone: None,
        flavor: None,
        address: None,
        device: None,
        host: None,
        deps: spec.dependencies().into_iter().cloned().collect(),
        dependents: BTreeSet::new(),
        next_address: 4,
        charge: Usage::default(),
    };
    let default_zone = ctx.config.zones.first().cloned();
    let mut subnet_to_bump = None;
    match &spec.body {
        SpecBody::Network(_) => entry.charge.networks = 1,
        SpecBody::Subnet(s) => {
            let net = live(inv, &s.network, ResourceKind::Network)?;
            let SpecBody::Network(n) = &net.body else {
                unreachable!("a network entry holds a network body")
            };
            if !n.cidr.contains(&s.cidr) {
                return Err(sim_error(
                    ErrorKind::Terminal,
                    "SimInvalidSubnetRange",
                    format!("subnet {} is outside network {}", s.cidr, n.cidr),
                ));
            }
            let overlap = net.dependents.iter().filter_map(|d| inv.entries.get(d)).any(|e| {
                matches!(&e.body, SpecBody::Subnet(o) if o.cidr.contains(&s.cidr) || s.cidr.contains(&o.cidr))
            });
            if overlap {
                return Err(sim_error(
                    ErrorKind::Conflict,
                    "SimSubnetConflict",
                    format!("subnet {} overlaps another subnet of {}", s.cidr, s.network),
                ));
            }
            entry.zone = s.zone.clone().or(default_zone);
        }
        SpecBody::SecurityGroup(g) => {
            if let Some(net) = &g.network {
                live(inv, net, ResourceKind::Network)?;
            }
        }
        SpecBody::Server(s) => {
            let flavor = desired_flavor(ctx.config, s)?;
            let mut zone = s.zone.clone();
            if let Some(subnet_id) = &s.subnet {
                let subnet = live(inv, subnet_id, ResourceKind::Subnet)?;
                if zone.is_some() && zone != subnet.zone {
                    return Err(sim_error(
                        ErrorKind::Terminal,
                        "SimZoneMismatch",
                        format!("server zone differs from the zone of subnet {subnet_id}"),
                    ));
                }
                zone = subnet.zone.clone();
                let SpecBody::Subnet(sn) = &subnet.body else {
                    unreachable!("a subnet entry holds a subnet body")
                };
                entry.address = Some(sn.cidr.nth(subnet.next_address).ok_or_else(|| {
                    sim_error(
                        ErrorKind::Capacity,
                        "SimInsufficientFreeAddresses",
                        format!("subnet {subnet_id} has no free address"),
                    )
                })?);
                subnet_to_bump = Some(subnet_id.clone());
            }
            for sg in &s.security_groups {
                live(inv, sg, ResourceKind::SecurityGroup)?;
            }
            entry.charge = Usage {
                servers: 1,
                vcpus: u64::from(flavor.vcpus),
                ram_mib: flavor.ram_mib,
                dedicated_hosts: u64::from(s.dedicated),
                ..Usage::default()
            };
            entry.zone = zone.or(default_zone);
            entry.flavor = Some(flavor);
        }
        SpecBody::Volume(v) => {
            entry.charge = Usage {
                volumes: 1,
                volume_gib: u64::from(v.size_gib),
                ..Usage::default()
            };
            entry.zone = v.zone.clone().or(default_zone);
        }
        SpecBody::Attachment(a) => {
            let server = live(inv, &a.server, ResourceKind::Server)?;
            let volume = live(inv, &a.volume, ResourceKind::Volume)?;
            if volume
                .dependents
                .iter()
                .any(|d| inv.entries.contains_key(d))
            {
                return Err(sim_error(
                    ErrorKind::Conflict,
                    "SimVolumeInUse",
                    format!("volume {} is attached elsewhere", a.volume),
                ));
            }
            if server.zone != volume.zone {
                return Err(sim_error(
                    ErrorKind::Terminal,
                    "SimZoneMismatch",
                    format!(
                        "volume {} and server {} are in different zones",
                        a.volume, a.server
                    ),
                ));
            }
            let used: BTreeSet<&str> = server
                .dependents
                .iter()
                .filter_map(|d| inv.entries.get(d)?.device.as_deref())
                .collect();
            let device = match &a.device {
                Some(d) if used.contains(d.as_str()) => {
                    return Err(sim_error(
                        ErrorKind::Conflict,
                        "SimDeviceInUse",
                        format!("device {d} of server {} is taken", a.server),
                    ));
                }
                Some(d) => d.clone(),
                None => ('b'..='z')
                    .map(|c| format!("/dev/vd{c}"))
                    .find(|d| !used.contains(d.as_str()))
                    .ok_or_else(|| {
                        sim_error(
                            ErrorKind::Capacity,
                            "SimNoFreeDevice",
                            format!("server {} has no free device", a.server),
                        )
                    })?,
            };
            entry.zone = server.zone.clone();
            entry.device = Some(device);
        }
    }
    check_limits(ctx, inv, spec.meta.tenant(), &entry.charge)?;
    entry.cloud_id = inv.new_id(ctx.config.seed, spec.kind(), &spec.meta);
    if let SpecBody::Server(s) = &spec.body
        && s.dedicated
    {
        entry.host = Some(entry.cloud_id.as_str().replace("sim-srv-", "sim-host-"));
    }
    if let Some(subnet) = subnet_to_bump
        && let Some(e) = inv.entries.get_mut(&subnet)
    {
        e.next_address += 1;
    }
    let id = entry.cloud_id.clone();
    inv.insert(entry);
    Ok(observed(ctx.config, &inv.entries[&id], spec))
}

fn immutable(field: &str, spec: &ResourceSpec) -> Error {
    sim_error(
        ErrorKind::Terminal,
        "SimImmutable",
        format!(
            "{field} of {} {} cannot change in place; delete and recreate",
            spec.kind(),
            spec.name()
        ),
    )
}

pub(super) fn update(ctx: &Ctx<'_>, inv: &mut Inventory, spec: &ResourceSpec) -> Result<Observed> {
    let Some(id) = lookup(inv, spec) else {
        return Err(sim_error(
            ErrorKind::NotFound,
            "SimNotFound",
            format!("{} {} does not exist", spec.kind(), spec.name()),
        ));
    };
    inv.settle(&id, ctx.config.readiness, ctx.now);
    let entry = &inv.entries[&id];
    if entry.phase != Phase::Ready {
        return Err(sim_error(
            ErrorKind::Conflict,
            "SimIncorrectState",
            format!("{} {} is not ready", spec.kind(), spec.name()),
        ));
    }
    let mut charge = entry.charge;
    let mut flavor = entry.flavor.clone();
    let mut becomes_updating = false;
    match (&spec.body, &entry.body) {
        (SpecBody::Network(want), SpecBody::Network(have)) => {
            if want.cidr != have.cidr {
                return Err(immutable("cidr", spec));
            }
        }
        (SpecBody::Subnet(want), SpecBody::Subnet(have)) => {
            if want.cidr != have.cidr || want.network != have.network {
                return Err(immutable("range", spec));
            }
            if want.zone.is_some() && want.zone != entry.zone {
                return Err(immutable("zone", spec));
            }
        }
        (SpecBody::SecurityGroup(want), SpecBody::SecurityGroup(have)) => {
            if want.network != have.network {
                return Err(immutable("network", spec));
            }
        }
        (SpecBody::Server(want), SpecBody::Server(have)) => {
            if want.image != have.image {
                return Err(immutable("image", spec));
            }
            if want.subnet != have.subnet {
                return Err(immutable("subnet", spec));
            }
            if want.dedicated != have.dedicated {
                return Err(immutable("dedicated", spec));
            }
            if want.zone.is_some() && want.zone != entry.zone {
                return Err(immutable("zone", spec));
            }
            for sg in &want.security_groups {
                live(inv, sg, ResourceKind::SecurityGroup)?;
            }
            let new = desired_flavor(ctx.config, want)?;
            if Some(&new) != entry.flavor.as_ref() {
                charge.vcpus = u64::from(new.vcpus);
                charge.ram_mib = new.ram_mib;
                becomes_updating = true;
                flavor = Some(new);
            }
        }
        (SpecBody::Volume(want), SpecBody::Volume(have)) => {
            if want.size_gib < have.size_gib {
                return Err(sim_error(
                    ErrorKind::Terminal,
                    "SimInvalidSize",
                    format!(
                        "volume {} cannot shrink from {} GiB",
                        spec.name(),
                        have.size_gib
                    ),
                ));
            }
            if want.zone.is_some() && want.zone != entry.zone {
                return Err(immutable("zone", spec));
            }
            charge.volume_gib = u64::from(want.size_gib);
            becomes_updating = want.size_gib != have.size_gib;
        }
        (SpecBody::Attachment(want), SpecBody::Attachment(_)) => {
            if want.device.is_some() && want.device != entry.device {
                return Err(immutable("device", spec));
            }
        }
        _ => return Err(immutable("kind", spec)),
    }
    let old = entry.charge;
    let extra = Usage {
        vcpus: charge.vcpus.saturating_sub(old.vcpus),
        ram_mib: charge.ram_mib.saturating_sub(old.ram_mib),
        volume_gib: charge.volume_gib.saturating_sub(old.volume_gib),
        ..Usage::default()
    };
    let tenant = spec.meta.tenant().to_owned();
    check_limits(ctx, inv, &tenant, &extra)?;
    inv.charge(&tenant, &old, false);
    inv.charge(&tenant, &charge, true);
    let entry = inv.entries.get_mut(&id).expect("looked up above");
    entry.charge = charge;
    entry.flavor = flavor;
    // Keep what the cloud decided (zone, device) and take the rest from the spec.
    entry.body = spec.body.clone();
    if becomes_updating && ctx.config.readiness != Readiness::Immediate {
        entry.phase = Phase::Updating;
        entry.since = ctx.now;
        entry.observes = 0;
    }
    Ok(observed(ctx.config, &inv.entries[&id], spec))
}

pub(super) fn delete(
    ctx: &Ctx<'_>,
    inv: &mut Inventory,
    spec: &ResourceSpec,
) -> Result<DeleteOutcome> {
    let Some(id) = lookup(inv, spec) else {
        return Ok(DeleteOutcome::AlreadyAbsent);
    };
    let entry = &inv.entries[&id];
    if entry.phase == Phase::Deleting {
        return Ok(DeleteOutcome::InProgress);
    }
    if entry.kind == ResourceKind::Server {
        // Deleting a server detaches its volumes, as real clouds do.
        let attachments: Vec<CloudId> = entry.dependents.iter().cloned().collect();
        for a in attachments {
            inv.remove(&a);
        }
    }
    let entry = &inv.entries[&id];
    if !entry.dependents.is_empty() {
        return Err(sim_error(
            ErrorKind::Conflict,
            "SimDependencyViolation",
            format!(
                "{} {} still has {} dependent resource(s)",
                spec.kind(),
                spec.name(),
                entry.dependents.len()
            ),
        ));
    }
    inv.start_delete(&id, ctx.now);
    if ctx.config.deletion == Readiness::Immediate {
        inv.remove(&id);
        Ok(DeleteOutcome::Deleted)
    } else {
        Ok(DeleteOutcome::InProgress)
    }
}
