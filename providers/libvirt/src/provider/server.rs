//! Servers: domains placed by host selection, with a boot disk copied from an image volume and
//! an interface on the subnet's libvirt network.

use nuage_provider::{
    CloudId, DeleteOutcome, Drift, Error as ContractError, Observation, Observed, Outputs,
    ResourceKind, ResourceSpec, ResourceState, ServerSpec, smallest_fitting,
};

use super::LibvirtProvider;
use crate::error::Error;
use crate::ids::{parse_subnet_id, server_id};
use crate::inventory::{DomainState, DomainTag};
use crate::link::ops::{self, FoundDomain};
use crate::pool::Footprint;
use crate::selection::{Demand, Request};
use crate::xml::{
    DiskSpec, DomainSpec, InterfaceSpec, VolumeFormat, VolumeSpec, domain_xml, volume_xml,
};

/// How many hosts a create tries when hosts fail under it.
const HOST_ATTEMPTS: usize = 3;

/// A server's boot volume name.
fn boot_volume(domain: &str) -> String {
    format!("{domain}-boot")
}

/// What a server spec resolves to on this pool.
struct Plan {
    vcpus: u32,
    memory_mib: u64,
    image_volume: String,
    network: Option<String>,
}

fn state_of(s: DomainState) -> (ResourceState, &'static str) {
    match s {
        DomainState::Running => (ResourceState::Ready, "running"),
        DomainState::Shutoff => (ResourceState::Stopped, "shutoff"),
        DomainState::Paused => (ResourceState::Stopped, "paused"),
        DomainState::Suspended => (ResourceState::Stopped, "pmsuspended"),
        DomainState::ShuttingDown => (ResourceState::Stopped, "shutdown"),
        DomainState::Crashed => (ResourceState::Failed, "crashed"),
        DomainState::Unknown => (ResourceState::Failed, "unknown"),
    }
}

impl LibvirtProvider {
    fn plan(&self, s: &ServerSpec) -> nuage_provider::Result<Plan> {
        if s.user_data.is_some() {
            return Err(ContractError::Unsupported(
                "cloud-init user data on libvirt hosts (no metadata service)".into(),
            ));
        }
        if !s.security_groups.is_empty() {
            return Err(ContractError::Unsupported(
                "security groups on libvirt hosts".into(),
            ));
        }
        let flavor = match &s.flavor {
            Some(name) => self.settings.flavors.iter().find(|f| &f.name == name),
            None => smallest_fitting(&self.settings.flavors, s.vcpus, s.ram_mib),
        }
        .ok_or_else(|| {
            ContractError::InvalidSpec(format!(
                "no flavor has {} vCPU and {} MiB",
                s.vcpus, s.ram_mib
            ))
        })?;
        let image_volume = self
            .settings
            .image_volume(&s.image.os, &s.image.version)
            .ok_or_else(|| ContractError::InvalidSpec(format!("image {} is not offered", s.image)))?
            .to_owned();
        let network = match &s.subnet {
            Some(id) => Some(parse_subnet_id(id)?.0),
            None => self.settings.default_network.clone(),
        };
        Ok(Plan {
            vcpus: flavor.vcpus,
            memory_mib: flavor.ram_mib,
            image_volume,
            network,
        })
    }

    /// Every copy of a domain on the healthy hosts, the one to report first: running before
    /// anything else, then in host order.
    async fn find_server(&self, name: &str) -> crate::Result<Vec<(usize, FoundDomain)>> {
        let owned = name.to_owned();
        let found = self
            .on_healthy("lookup domain", move |c| ops::find_domain(c, &owned))
            .await?;
        let mut copies: Vec<(usize, FoundDomain)> = found
            .into_iter()
            .filter_map(|(i, d)| d.map(|d| (i, d)))
            .collect();
        copies.sort_by_key(|(i, d)| (d.state != DomainState::Running, *i));
        Ok(copies)
    }

    fn server_observed(
        &self,
        i: usize,
        found: &FoundDomain,
        plan: Option<&Plan>,
        duplicates: Vec<CloudId>,
    ) -> Observed {
        let host = &self.hosts[i];
        let d = &found.description;
        let (state, native) = state_of(found.state);
        let mut drift = Vec::new();
        if let Some(plan) = plan {
            if d.vcpus != plan.vcpus {
                drift.push(Drift::new("vcpus", plan.vcpus, d.vcpus));
            }
            if d.memory_mib != plan.memory_mib {
                drift.push(Drift::new("ram_mib", plan.memory_mib, d.memory_mib));
            }
        }
        let flavor = self
            .settings
            .flavors
            .iter()
            .find(|f| f.vcpus == d.vcpus && f.ram_mib == d.memory_mib)
            .map(|f| f.name.clone());
        let mut outputs = Outputs {
            host: Some(host.name.clone()),
            zone: host.labels.site.clone(),
            flavor,
            image: plan.map(|p| p.image_volume.clone()),
            ..Outputs::default()
        };
        if let Some(rack) = &host.labels.rack {
            outputs.extra.insert("rack".into(), rack.clone());
        }
        outputs.extra.insert("uuid".into(), d.uuid.clone());
        if let Some(nic) = d.interfaces.first() {
            outputs.extra.insert("network".into(), nic.network.clone());
            if let Some(mac) = &nic.mac {
                outputs.extra.insert("mac".into(), mac.clone());
            }
        }
        Observed {
            kind: ResourceKind::Server,
            cloud_id: server_id(&host.name, &d.name),
            state,
            native_state: native.into(),
            drift,
            outputs,
            message: (state == ResourceState::Failed)
                .then(|| format!("domain is {native} on host {}", host.name)),
            duplicates,
            simulated: self.simulated(i),
        }
    }

    pub(super) async fn observe_server(
        &self,
        _spec: &ResourceSpec,
        s: &ServerSpec,
        name: &str,
    ) -> nuage_provider::Result<Observation> {
        let plan = self.plan(s).ok();
        let copies = self.find_server(name).await?;
        Ok(match copies.split_first() {
            None => Observation::Absent,
            Some(((i, first), rest)) => {
                let dups = rest
                    .iter()
                    .map(|(j, d)| server_id(&self.hosts[*j].name, &d.description.name))
                    .collect();
                Observation::Present(self.server_observed(*i, first, plan.as_ref(), dups))
            }
        })
    }

    pub(super) async fn create_server(
        &self,
        spec: &ResourceSpec,
        s: &ServerSpec,
        name: &str,
    ) -> nuage_provider::Result<Observed> {
        let plan = self.plan(s)?;
        // Creating what exists returns it: the deterministic name is the idempotency key.
        let copies = self.find_server(name).await?;
        if let Some(((i, first), rest)) = copies.split_first() {
            let dups = rest
                .iter()
                .map(|(j, d)| server_id(&self.hosts[*j].name, &d.description.name))
                .collect();
            // A create interrupted between define and start (a crash) left our domain defined
            // but shut off: finish the job, as create promises a running server.
            let ours = first.description.tag.as_ref().is_some_and(|t| {
                t.tenant.as_deref() == Some(spec.meta.tenant())
                    && t.request.as_deref() == Some(spec.meta.request())
                    && t.resource.as_deref() == Some(spec.meta.resource())
            });
            if ours && first.state == DomainState::Shutoff {
                let owned = name.to_owned();
                let started = self
                    .on_host(*i, "start server", move |c| ops::start_domain(c, &owned))
                    .await?;
                return Ok(self.server_observed(*i, &started, Some(&plan), dups));
            }
            return Ok(self.server_observed(*i, first, Some(&plan), dups));
        }
        let group = spec.meta.request_short();
        let tag = DomainTag {
            tenant: Some(spec.meta.tenant().to_owned()),
            request: Some(spec.meta.request().to_owned()),
            resource: Some(spec.meta.resource().to_owned()),
            group: Some(group.clone()),
        };
        let request = Request {
            servers: vec![Demand {
                name: name.to_owned(),
                vcpus: plan.vcpus,
                memory_mib: plan.memory_mib,
            }],
            group: Some(group.clone()),
            spread: self.settings.spread.into(),
            site: s.zone.clone(),
        };
        let footprint = Footprint {
            vcpus: plan.vcpus,
            memory_mib: plan.memory_mib,
            group: Some(group),
        };
        let mut last = None;
        for _ in 0..HOST_ATTEMPTS {
            // Select and reserve under one lock, so concurrent creates see each other.
            let i = {
                let mut pool = self.pool();
                let chosen = pool.select(&request)?;
                let host = chosen[0].host.clone();
                pool.record_domain(&host, name, footprint.clone())?;
                self.hosts.iter().position(|h| h.name == host).unwrap_or(0)
            };
            match self.build_server(i, name, &plan, &tag).await {
                Ok(found) => {
                    tracing::info!(host = %self.hosts[i].name, domain = name, "server created");
                    return Ok(self.server_observed(i, &found, Some(&plan), Vec::new()));
                }
                Err(e) => {
                    let _ = self.pool().forget_domain(&self.hosts[i].name, name);
                    match e {
                        Error::HostUnavailable { .. } | Error::Timeout { .. } => last = Some(e),
                        other => return Err(other.into()),
                    }
                }
            }
        }
        Err(last.map_or_else(|| ContractError::transient("no host answered"), Into::into))
    }

    async fn build_server(
        &self,
        i: usize,
        name: &str,
        plan: &Plan,
        tag: &DomainTag,
    ) -> crate::Result<FoundDomain> {
        if let Some(network) = &plan.network {
            self.ensure_network_on(i, network).await?;
        }
        let host = &self.hosts[i];
        let storage_pool = host.storage_pool.clone();
        let boot = boot_volume(name);
        let spec = DomainSpec {
            name: name.to_owned(),
            vcpus: plan.vcpus,
            memory_mib: plan.memory_mib,
            disks: vec![DiskSpec {
                pool: storage_pool.clone(),
                volume: boot.clone(),
            }],
            interfaces: plan
                .network
                .iter()
                .map(|n| InterfaceSpec {
                    network: n.clone(),
                    mac: None,
                })
                .collect(),
            tag: tag.clone(),
        };
        let xml = domain_xml(&spec, host.uri.driver())?;
        let image = plan.image_volume.clone();
        let boot_bytes = u64::from(self.settings.boot_disk_gib) << 30;
        let domain = name.to_owned();
        self.on_host(i, "create server", move |c| {
            let base = ops::find_volume(c, &storage_pool, &image)?.ok_or_else(|| {
                Error::InvalidSpec(format!(
                    "image volume `{image}` is missing from storage pool `{storage_pool}`"
                ))
            })?;
            let vol = VolumeSpec {
                name: boot.clone(),
                capacity_bytes: boot_bytes,
                format: VolumeFormat::Qcow2,
                backing_path: base.path,
            };
            ops::create_volume(c, &storage_pool, &boot, &volume_xml(&vol)?)?;
            ops::define_and_start(c, &domain, &xml)
        })
        .await
    }

    pub(super) async fn delete_server(&self, name: &str) -> nuage_provider::Result<DeleteOutcome> {
        let copies = self.find_server(name).await?;
        let mut deleted = false;
        for (i, _) in &copies {
            let domain = name.to_owned();
            let storage_pool = self.hosts[*i].storage_pool.clone();
            let existed = self
                .on_host(*i, "delete server", move |c| {
                    let existed = ops::destroy_and_undefine(c, &domain)?;
                    ops::delete_volume(c, &storage_pool, &boot_volume(&domain))?;
                    Ok(existed)
                })
                .await?;
            deleted |= existed;
            let _ = self.pool().forget_domain(&self.hosts[*i].name, name);
        }
        let unreachable = self.unreachable_holders(name);
        if !unreachable.is_empty() {
            return Err(ContractError::transient(format!(
                "server {name} may still exist on unreachable host(s) {}",
                unreachable.join(", ")
            )));
        }
        Ok(if deleted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }
}
