//! Servers on Nova, each on a port of its own (Neutron) when the spec names a subnet.
//!
//! The port carries the server's name and identity tags and the security groups; Nova is
//! given `networks: [{"port": ...}]`. Nova does not delete a port it did not create, so
//! `delete` waits (bounded) for the server to go, then deletes the port.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use nuage_provider::{
    Address, AddressScope, DeleteOutcome, Drift, Observation, Observed, ResourceKind, ResourceSpec,
    ResourceState, ServerSpec, smallest_fitting,
};
use serde_json::{Value, json};

use super::OpenStackProvider;
use super::identity::{Claim, claim_metadata, claim_tags, neutron_tags, observed, pick};
use crate::compute::{CreateServer, Server};
use crate::error::{Error, Result};
use crate::network::{Collection, Port, Subnet};

/// Poll interval while waiting for a deleted server to release its port.
const POLL: Duration = Duration::from_millis(300);

/// Neutral state of a Nova server.
pub(super) fn server_state(server: &Server) -> ResourceState {
    if server.task_state.as_deref() == Some("deleting") {
        return ResourceState::Deleting;
    }
    match server.status.as_str() {
        "ACTIVE" => ResourceState::Ready,
        "BUILD" => ResourceState::Creating,
        "ERROR" => ResourceState::Failed,
        "SHUTOFF" | "STOPPED" | "SUSPENDED" | "PAUSED" | "SHELVED" | "SHELVED_OFFLOADED" => {
            ResourceState::Stopped
        }
        "DELETED" | "SOFT_DELETED" => ResourceState::Deleting,
        "UNKNOWN" => ResourceState::Failed,
        // RESIZE, VERIFY_RESIZE, REVERT_RESIZE, REBOOT, HARD_REBOOT, REBUILD, MIGRATING,
        // PASSWORD, RESCUE
        _ => ResourceState::Updating,
    }
}

/// The observation of a server.
pub(super) fn server_observed(spec_body: &ServerSpec, server: &Server) -> Observed {
    let state = server_state(server);
    let mut o = observed(ResourceKind::Server, &server.id, state, &server.status);
    if state == ResourceState::Failed {
        o.message = Some(
            server
                .fault_message()
                .unwrap_or_else(|| format!("server is {}", server.status)),
        );
    }
    let mut addresses = Vec::new();
    for list in server.addresses.values() {
        for a in list {
            if let Ok(ip) = a.addr.parse::<IpAddr>() {
                let scope = if a.kind.as_deref() == Some("floating") {
                    AddressScope::Public
                } else {
                    AddressScope::Private
                };
                addresses.push(Address { scope, ip });
            }
        }
    }
    o.outputs.addresses = addresses;
    o.outputs.zone = server.availability_zone.clone().filter(|z| !z.is_empty());
    o.outputs.flavor = server.flavor_name();
    o.outputs.image = server.image_id();
    if let (Some(wanted), Some(actual)) = (&spec_body.flavor, server.flavor_name())
        && wanted != &actual
        && server.flavor.get("id").and_then(Value::as_str) != Some(wanted.as_str())
    {
        o.drift.push(Drift::new("flavor", wanted, actual));
    } else if spec_body.flavor.is_none() {
        let vcpus = server.flavor.get("vcpus").and_then(Value::as_u64);
        let ram = server.flavor.get("ram").and_then(Value::as_u64);
        if let (Some(vcpus), Some(ram)) = (vcpus, ram)
            && (vcpus < u64::from(spec_body.vcpus) || ram < spec_body.ram_mib)
        {
            o.drift.push(Drift::new(
                "size",
                format!("{} vCPU {} MiB", spec_body.vcpus, spec_body.ram_mib),
                format!("{vcpus} vCPU {ram} MiB"),
            ));
        }
    }
    o
}

impl OpenStackProvider {
    async fn find_servers(&self, spec: &ResourceSpec) -> Result<Option<(Server, Vec<Server>)>> {
        let found = self.nova.servers_named(&spec.name()).await?;
        // Nova stores metadata with the server in one call: untagged servers are not ours.
        Ok(pick(found, false, |s| claim_metadata(&spec.meta, &s.metadata)).map(|(s, _, d)| (s, d)))
    }

    pub(super) async fn observe_server(
        &self,
        spec: &ResourceSpec,
        body: &ServerSpec,
    ) -> Result<Observation> {
        let Some((server, duplicates)) = self.find_servers(spec).await? else {
            return Ok(Observation::Absent);
        };
        let mut o = server_observed(body, &server);
        o.duplicates = duplicates.into_iter().map(|s| s.id.into()).collect();
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_server(
        &self,
        spec: &ResourceSpec,
        body: &ServerSpec,
    ) -> Result<Observed> {
        if let Some((server, _)) = self.find_servers(spec).await? {
            return Ok(server_observed(body, &server));
        }
        let flavor_ref = self.flavor_for(body).await?;
        let image_ref = self.image_for(body).await?;
        let mut port_id = None;
        let (networks, security_groups) = match &body.subnet {
            Some(subnet) => {
                let port = self.port_for(spec, subnet.as_str(), body).await?;
                port_id = Some(port.id.clone());
                (vec![json!({"port": port.id})], Vec::new())
            }
            None => {
                let network = self.config.default_network.clone().ok_or_else(|| {
                    Error::Invalid(format!(
                        "{}: no subnet given and no default_network configured",
                        spec.meta
                    ))
                })?;
                let groups = body
                    .security_groups
                    .iter()
                    .map(|g| json!({"name": g.as_str()}))
                    .collect();
                (vec![json!({"uuid": network})], groups)
            }
        };
        let request = CreateServer {
            name: spec.name(),
            flavor_ref,
            image_ref,
            networks,
            metadata: spec.meta.tags(),
            security_groups,
            availability_zone: body
                .zone
                .clone()
                .or_else(|| self.config.default_zone.clone()),
            user_data: body
                .user_data
                .as_ref()
                .map(|d| base64::engine::general_purpose::STANDARD.encode(d)),
        };
        let id = match self.nova.create_server(&request).await {
            Ok(id) => id,
            Err(e) => {
                // Refused for good (bad flavor, quota): the port would only be litter. For
                // passing failures it stays, and the retry reuses it.
                if let Some(port) = port_id
                    && !e.kind().is_retryable()
                    && let Err(cleanup) = self.neutron.delete(Collection::Ports, &port).await
                {
                    tracing::warn!(port = %port, error = %cleanup, "could not remove the port of a refused server");
                }
                return Err(e);
            }
        };
        tracing::info!(server = %spec.name(), id = %id, "server creation started");
        match self.nova.server(&id).await? {
            Some(server) => Ok(server_observed(body, &server)),
            None => Ok(observed(
                ResourceKind::Server,
                &id,
                ResourceState::Creating,
                "BUILD",
            )),
        }
    }

    /// The flavor: the named one, else the smallest public flavor that fits.
    async fn flavor_for(&self, body: &ServerSpec) -> Result<String> {
        let flavors = self.flavors().await?;
        if let Some(wanted) = &body.flavor {
            // A name or an id; an unknown one is passed on and Nova answers why (400).
            return Ok(flavors
                .iter()
                .find(|f| &f.name == wanted || &f.id == wanted)
                .map(|f| f.id.clone())
                .unwrap_or_else(|| wanted.clone()));
        }
        let sizes: Vec<nuage_provider::Flavor> = flavors
            .iter()
            .filter(|f| f.is_public)
            .map(|f| nuage_provider::Flavor::new(&f.id, f.vcpus, f.ram))
            .collect();
        smallest_fitting(&sizes, body.vcpus, body.ram_mib)
            .map(|f| f.name.clone())
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "no flavor has at least {} vCPU and {} MiB",
                    body.vcpus, body.ram_mib
                ))
            })
    }

    /// The image: configured mapping, else Glance properties, else the `<os>-<version>` name.
    async fn image_for(&self, body: &ServerSpec) -> Result<String> {
        let key = format!("{} {}", body.image.os, body.image.version);
        if let Some(reference) = self.config.images.get(&key) {
            // An explicit id is passed on as is (Nova answers 400 if Glance does not know it).
            return Ok(match self.glance.find_ref(reference).await? {
                Some(image) => image.id,
                None => reference.clone(),
            });
        }
        match self
            .glance
            .find_os(&body.image.os, &body.image.version)
            .await?
        {
            Some(image) => Ok(image.id),
            None => Err(Error::Invalid(format!(
                "no active image for {} in Glance (by os_distro/os_version or name {}-{})",
                body.image, body.image.os, body.image.version
            ))),
        }
    }

    /// The server's port on the subnet: found by name and tags, or created.
    async fn port_for(
        &self,
        spec: &ResourceSpec,
        subnet_id: &str,
        body: &ServerSpec,
    ) -> Result<Port> {
        let found: Vec<Port> = self.neutron.named(Collection::Ports, &spec.name()).await?;
        if let Some((port, claim, _)) = pick(found, true, |p| claim_tags(&spec.meta, &p.tags)) {
            if claim == Claim::Untagged {
                self.neutron
                    .set_tags(Collection::Ports, &port.id, &neutron_tags(&spec.meta))
                    .await?;
            }
            return Ok(port);
        }
        let subnet: Subnet = self
            .neutron
            .get(Collection::Subnets, subnet_id)
            .await?
            .ok_or_else(|| Error::Invalid(format!("subnet {subnet_id} does not exist")))?;
        let mut attributes = json!({
            "name": spec.name(),
            "network_id": subnet.network_id,
            "fixed_ips": [{"subnet_id": subnet.id}],
        });
        if !body.security_groups.is_empty() {
            attributes["security_groups"] = json!(
                body.security_groups
                    .iter()
                    .map(|g| g.as_str())
                    .collect::<Vec<_>>()
            );
        }
        let port: Port = self.neutron.create(Collection::Ports, attributes).await?;
        self.neutron
            .set_tags(Collection::Ports, &port.id, &neutron_tags(&spec.meta))
            .await?;
        Ok(port)
    }

    /// Resizes a server whose size or flavor drifted: resize, wait (bounded) for
    /// `VERIFY_RESIZE`, confirm. A later call finishes what a timed-out one started.
    pub(super) async fn update_server(
        &self,
        spec: &ResourceSpec,
        body: &ServerSpec,
    ) -> Result<Observed> {
        let Some((server, _)) = self.find_servers(spec).await? else {
            return Err(super::absent_error(spec));
        };
        match server.status.as_str() {
            "VERIFY_RESIZE" => {
                self.nova.confirm_resize(&server.id).await?;
                return self.present(spec).await;
            }
            "RESIZE" => return Ok(server_observed(body, &server)),
            _ => {}
        }
        let o = server_observed(body, &server);
        if o.drift.is_empty() {
            return Ok(o);
        }
        let flavor = self.flavor_for(body).await?;
        tracing::info!(server = %spec.name(), flavor = %flavor, "resizing server");
        self.nova.resize(&server.id, &flavor).await?;
        let start = tokio::time::Instant::now();
        while start.elapsed() < self.config.server_wait {
            tokio::time::sleep(POLL).await;
            match self.nova.server(&server.id).await? {
                Some(s) if s.status == "VERIFY_RESIZE" => {
                    self.nova.confirm_resize(&server.id).await?;
                    break;
                }
                Some(s)
                    if s.status == "ERROR" || s.status == "ACTIVE" && s.task_state.is_none() =>
                {
                    // Failed, or Nova reverted (the observation tells which).
                    return Ok(server_observed(body, &s));
                }
                Some(_) => {}
                None => return Err(super::absent_error(spec)),
            }
        }
        self.present(spec).await
    }

    pub(super) async fn delete_server(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        let servers = match self.find_servers(spec).await? {
            Some((server, duplicates)) => std::iter::once(server).chain(duplicates).collect(),
            None => Vec::new(),
        };
        let mut acted = false;
        for server in &servers {
            acted |= self.nova.delete_server(&server.id).await?;
        }
        let mut gone = true;
        for server in &servers {
            gone &= self
                .nova
                .wait_gone(&server.id, self.config.server_wait, POLL)
                .await?;
        }
        if !gone {
            // The port is deleted by a later call, once the server has gone.
            return Ok(DeleteOutcome::InProgress);
        }
        let ports: Vec<Port> = self.neutron.named(Collection::Ports, &spec.name()).await?;
        for port in ports {
            if claim_tags(&spec.meta, &port.tags) != Claim::Foreign {
                acted |= self.neutron.delete(Collection::Ports, &port.id).await?;
            }
        }
        Ok(if acted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuage_provider::ImageRef;

    fn spec() -> ServerSpec {
        ServerSpec {
            vcpus: 2,
            ram_mib: 4096,
            image: ImageRef::new("debian", "12"),
            flavor: None,
            subnet: None,
            security_groups: vec![],
            dedicated: false,
            zone: None,
            user_data: None,
        }
    }

    fn server(status: &str, extra: Value) -> Server {
        let mut v = json!({"id": "s1", "name": "n", "status": status,
            "flavor": {"original_name": "m1.medium", "vcpus": 2, "ram": 4096},
            "addresses": {"net": [
                {"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"},
                {"addr": "192.0.2.9", "version": 4, "OS-EXT-IPS:type": "floating"}]}});
        for (k, val) in extra.as_object().unwrap() {
            v[k] = val.clone();
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn maps_states_and_outputs() {
        let o = server_observed(&spec(), &server("ACTIVE", json!({})));
        assert_eq!(o.state, ResourceState::Ready);
        assert_eq!(o.outputs.flavor.as_deref(), Some("m1.medium"));
        assert_eq!(o.outputs.addresses.len(), 2);
        assert_eq!(o.outputs.addresses[1].scope, AddressScope::Public);
        assert!(o.drift.is_empty());
        let o = server_observed(
            &spec(),
            &server(
                "ERROR",
                json!({"fault": {"code": 500, "message": "No valid host was found."}}),
            ),
        );
        assert_eq!(o.state, ResourceState::Failed);
        assert_eq!(o.message.as_deref(), Some("No valid host was found."));
        let deleting = server("ACTIVE", json!({"OS-EXT-STS:task_state": "deleting"}));
        assert_eq!(server_state(&deleting), ResourceState::Deleting);
        assert_eq!(
            server_state(&server("BUILD", json!({}))),
            ResourceState::Creating
        );
        assert_eq!(
            server_state(&server("SHUTOFF", json!({}))),
            ResourceState::Stopped
        );
        assert_eq!(
            server_state(&server("VERIFY_RESIZE", json!({}))),
            ResourceState::Updating
        );
    }

    #[test]
    fn reports_size_and_flavor_drift() {
        let mut bigger = spec();
        bigger.vcpus = 4;
        let o = server_observed(&bigger, &server("ACTIVE", json!({})));
        assert_eq!(o.drift[0].field, "size");
        let mut named = spec();
        named.flavor = Some("m1.large".into());
        let o = server_observed(&named, &server("ACTIVE", json!({})));
        assert_eq!(o.drift[0].field, "flavor");
        named.flavor = Some("m1.medium".into());
        assert!(
            server_observed(&named, &server("ACTIVE", json!({})))
                .drift
                .is_empty()
        );
    }
}
