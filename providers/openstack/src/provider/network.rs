//! Networks and subnets on Neutron.

use std::net::IpAddr;

use nuage_provider::{
    DeleteOutcome, Drift, NetworkSpec, Observation, Observed, ResourceKind, ResourceSpec,
    ResourceState, SubnetSpec,
};
use serde_json::json;

use super::OpenStackProvider;
use super::identity::{Claim, claim_tags, neutron_tags, observed, pick};
use crate::error::Result;
use crate::network::{Collection, Network, Subnet};

fn network_state(status: &str) -> ResourceState {
    match status {
        "ACTIVE" | "DOWN" => ResourceState::Ready,
        "BUILD" => ResourceState::Creating,
        _ => ResourceState::Failed,
    }
}

impl OpenStackProvider {
    async fn find_networks(
        &self,
        spec: &ResourceSpec,
    ) -> Result<Option<(Network, Claim, Vec<Network>)>> {
        let found: Vec<Network> = self
            .neutron
            .named(Collection::Networks, &spec.name())
            .await?;
        Ok(pick(found, true, |n| claim_tags(&spec.meta, &n.tags)))
    }

    pub(super) async fn observe_network(&self, spec: &ResourceSpec) -> Result<Observation> {
        let Some((network, _, duplicates)) = self.find_networks(spec).await? else {
            return Ok(Observation::Absent);
        };
        let mut o = observed(
            ResourceKind::Network,
            &network.id,
            network_state(&network.status),
            &network.status,
        );
        if o.state == ResourceState::Failed {
            o.message = Some(format!("network status {}", network.status));
        }
        o.duplicates = duplicates.into_iter().map(|n| n.id.into()).collect();
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_network(
        &self,
        spec: &ResourceSpec,
        _body: &NetworkSpec,
    ) -> Result<Observed> {
        if let Some((network, claim, _)) = self.find_networks(spec).await? {
            if claim == Claim::Untagged {
                self.neutron
                    .set_tags(Collection::Networks, &network.id, &neutron_tags(&spec.meta))
                    .await?;
            }
            return self.present(spec).await;
        }
        let network: Network = self
            .neutron
            .create(
                Collection::Networks,
                json!({"name": spec.name(), "admin_state_up": true}),
            )
            .await?;
        self.neutron
            .set_tags(Collection::Networks, &network.id, &neutron_tags(&spec.meta))
            .await?;
        Ok(observed(
            ResourceKind::Network,
            &network.id,
            network_state(&network.status),
            &network.status,
        ))
    }

    pub(super) async fn delete_network(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        let Some((network, _, duplicates)) = self.find_networks(spec).await? else {
            return Ok(DeleteOutcome::AlreadyAbsent);
        };
        let mut deleted = false;
        for n in std::iter::once(network).chain(duplicates) {
            deleted |= self.neutron.delete(Collection::Networks, &n.id).await?;
        }
        Ok(if deleted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }

    async fn find_subnets(
        &self,
        spec: &ResourceSpec,
    ) -> Result<Option<(Subnet, Claim, Vec<Subnet>)>> {
        let found: Vec<Subnet> = self
            .neutron
            .named(Collection::Subnets, &spec.name())
            .await?;
        Ok(pick(found, true, |s| claim_tags(&spec.meta, &s.tags)))
    }

    pub(super) async fn observe_subnet(
        &self,
        spec: &ResourceSpec,
        body: &SubnetSpec,
    ) -> Result<Observation> {
        let Some((subnet, _, duplicates)) = self.find_subnets(spec).await? else {
            return Ok(Observation::Absent);
        };
        let mut o = observed(
            ResourceKind::Subnet,
            &subnet.id,
            ResourceState::Ready,
            "ACTIVE",
        );
        if subnet.cidr != body.cidr.to_string() {
            o.drift.push(Drift::new("cidr", body.cidr, &subnet.cidr));
        }
        if subnet.network_id != body.network.as_str() {
            o.drift
                .push(Drift::new("network", &body.network, &subnet.network_id));
        }
        o.outputs
            .extra
            .insert("network_id".into(), subnet.network_id.clone());
        o.outputs.extra.insert("cidr".into(), subnet.cidr.clone());
        o.duplicates = duplicates.into_iter().map(|s| s.id.into()).collect();
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_subnet(
        &self,
        spec: &ResourceSpec,
        body: &SubnetSpec,
    ) -> Result<Observed> {
        if let Some((subnet, claim, _)) = self.find_subnets(spec).await? {
            if claim == Claim::Untagged {
                self.neutron
                    .set_tags(Collection::Subnets, &subnet.id, &neutron_tags(&spec.meta))
                    .await?;
            }
            return self.present(spec).await;
        }
        let ip_version = match body.cidr.addr() {
            IpAddr::V4(_) => 4,
            IpAddr::V6(_) => 6,
        };
        let subnet: Subnet = self
            .neutron
            .create(
                Collection::Subnets,
                json!({
                    "name": spec.name(),
                    "network_id": body.network.as_str(),
                    "cidr": body.cidr.to_string(),
                    "ip_version": ip_version,
                }),
            )
            .await?;
        self.neutron
            .set_tags(Collection::Subnets, &subnet.id, &neutron_tags(&spec.meta))
            .await?;
        let mut o = observed(
            ResourceKind::Subnet,
            &subnet.id,
            ResourceState::Ready,
            "ACTIVE",
        );
        o.outputs
            .extra
            .insert("network_id".into(), subnet.network_id);
        o.outputs.extra.insert("cidr".into(), subnet.cidr);
        Ok(o)
    }

    pub(super) async fn delete_subnet(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        let Some((subnet, _, duplicates)) = self.find_subnets(spec).await? else {
            return Ok(DeleteOutcome::AlreadyAbsent);
        };
        let mut deleted = false;
        for s in std::iter::once(subnet).chain(duplicates) {
            deleted |= self.neutron.delete(Collection::Subnets, &s.id).await?;
        }
        Ok(if deleted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }
}
