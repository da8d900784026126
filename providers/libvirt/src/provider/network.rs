//! Networks and subnets: a libvirt network per contract network, defined on the hosts that
//! need it, and one DHCP range of it per contract subnet.

use std::net::{IpAddr, Ipv4Addr};

use nuage_provider::{
    Cidr, CloudId, DeleteOutcome, Drift, Error as ContractError, NetworkSpec as ContractNetwork,
    Observation, Observed, Outputs, ResourceKind, ResourceState, SubnetSpec,
};

use super::LibvirtProvider;
use crate::error::Error;
use crate::ids::subnet_id;
use crate::link::ops;
use crate::xml::{
    NetworkSpec, dhcp_range, dhcp_range_xml, network_xml, parse_dhcp_ranges, parse_network_ip,
};

fn v4(cidr: &Cidr) -> nuage_provider::Result<(Ipv4Addr, u8)> {
    match cidr.addr() {
        IpAddr::V4(a) => Ok((a, cidr.prefix())),
        IpAddr::V6(_) => Err(ContractError::Unsupported(
            "IPv6 networks on libvirt hosts".into(),
        )),
    }
}

impl LibvirtProvider {
    /// The network's XML on every healthy host that has it.
    async fn network_copies(&self, name: &str) -> crate::Result<Vec<(usize, String)>> {
        let owned = name.to_owned();
        let found = self
            .on_healthy("lookup network", move |c| ops::find_network(c, &owned))
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|(i, x)| x.map(|x| (i, x)))
            .collect())
    }

    fn network_observed(
        &self,
        name: &str,
        copies: &[(usize, String)],
        want: Option<(Ipv4Addr, u8)>,
    ) -> crate::Result<Observed> {
        let actual = parse_network_ip(&copies[0].1)?;
        let mut drift = Vec::new();
        if let (Some(want), Some(actual)) = (want, actual)
            && want != actual
        {
            drift.push(Drift::new(
                "cidr",
                format!("{}/{}", want.0, want.1),
                format!("{}/{}", actual.0, actual.1),
            ));
        }
        let mut outputs = Outputs::default();
        let hosts: Vec<&str> = copies
            .iter()
            .map(|(i, _)| self.hosts[*i].name.as_str())
            .collect();
        outputs.extra.insert("hosts".into(), hosts.join(","));
        Ok(Observed {
            kind: ResourceKind::Network,
            cloud_id: CloudId::new(name),
            state: ResourceState::Ready,
            native_state: "active".into(),
            drift,
            outputs,
            message: None,
            duplicates: Vec::new(),
            simulated: copies.iter().all(|(i, _)| self.simulated(*i)),
        })
    }

    pub(super) async fn observe_network(
        &self,
        n: &ContractNetwork,
        name: &str,
    ) -> nuage_provider::Result<Observation> {
        let want = v4(&n.cidr)?;
        let copies = self.network_copies(name).await?;
        if copies.is_empty() {
            return Ok(Observation::Absent);
        }
        Ok(Observation::Present(self.network_observed(
            name,
            &copies,
            Some(want),
        )?))
    }

    /// Defines the network on every schedulable host that lacks it; at least one host must
    /// hold it in the end.
    pub(super) async fn create_network(
        &self,
        n: &ContractNetwork,
        name: &str,
    ) -> nuage_provider::Result<Observed> {
        let (subnet, prefix) = v4(&n.cidr)?;
        let xml = network_xml(&NetworkSpec {
            name: name.to_owned(),
            subnet,
            prefix,
            nat: false,
            dhcp: false,
        })?;
        let targets: Vec<usize> = {
            let pool = self.pool();
            pool.hosts()
                .iter()
                .enumerate()
                .filter(|(_, h)| h.schedulable())
                .map(|(i, _)| i)
                .collect()
        };
        let mut last = None;
        for i in targets {
            let (xml, owned) = (xml.clone(), name.to_owned());
            match self
                .on_host(i, "define network", move |c| {
                    ops::define_network(c, &owned, &xml)
                })
                .await
            {
                Ok(_) => {}
                Err(e @ (Error::HostUnavailable { .. } | Error::Timeout { .. })) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        let copies = self.network_copies(name).await?;
        if copies.is_empty() {
            return Err(last.map_or_else(
                || {
                    ContractError::cloud(
                        nuage_provider::ErrorKind::Capacity,
                        None,
                        "no schedulable libvirt host",
                    )
                },
                Into::into,
            ));
        }
        Ok(self.network_observed(name, &copies, Some((subnet, prefix)))?)
    }

    /// Makes sure host `i` has the network, copying its definition from a host that has it.
    pub(super) async fn ensure_network_on(&self, i: usize, network: &str) -> crate::Result<()> {
        let owned = network.to_owned();
        let here = self
            .on_host(i, "lookup network", move |c| ops::find_network(c, &owned))
            .await?;
        if here.is_some() {
            return Ok(());
        }
        let copies = self.network_copies(network).await?;
        let Some((_, xml)) = copies.into_iter().next() else {
            return Err(Error::InvalidSpec(format!(
                "network `{network}` does not exist"
            )));
        };
        let owned = network.to_owned();
        self.on_host(i, "define network", move |c| {
            ops::define_network(c, &owned, &xml)
        })
        .await?;
        Ok(())
    }

    pub(super) async fn delete_network(&self, name: &str) -> nuage_provider::Result<DeleteOutcome> {
        let copies = self.network_copies(name).await?;
        for (i, xml) in &copies {
            if !parse_dhcp_ranges(xml)?.is_empty() {
                return Err(ContractError::conflict(format!(
                    "network {name} still has subnets on host {}",
                    self.hosts[*i].name
                )));
            }
        }
        for (i, _) in &copies {
            let owned = name.to_owned();
            self.on_host(*i, "undefine network", move |c| {
                ops::undefine_network(c, &owned)
            })
            .await?;
        }
        Ok(if copies.is_empty() {
            DeleteOutcome::AlreadyAbsent
        } else {
            DeleteOutcome::Deleted
        })
    }

    /// The range a subnet gets in its network, from the network's XML.
    fn subnet_range(xml: &str, s: &SubnetSpec) -> nuage_provider::Result<(Ipv4Addr, Ipv4Addr)> {
        let want = v4(&s.cidr)?;
        let net = parse_network_ip(xml)?
            .ok_or_else(|| ContractError::InvalidSpec("network has no IPv4 range".into()))?;
        dhcp_range(net, want).ok_or_else(|| {
            ContractError::InvalidSpec(format!(
                "subnet {} is not inside network {}/{} or leaves no address",
                s.cidr, net.0, net.1
            ))
        })
    }

    fn subnet_observed(&self, network: &str, s: &SubnetSpec, hosts: &[usize]) -> Observed {
        let mut outputs = Outputs::default();
        let names: Vec<&str> = hosts.iter().map(|i| self.hosts[*i].name.as_str()).collect();
        outputs.extra.insert("hosts".into(), names.join(","));
        outputs.extra.insert("network".into(), network.to_owned());
        Observed {
            kind: ResourceKind::Subnet,
            cloud_id: subnet_id(network, &s.cidr),
            state: ResourceState::Ready,
            native_state: "active".into(),
            drift: Vec::new(),
            outputs,
            message: None,
            duplicates: Vec::new(),
            simulated: hosts.iter().all(|i| self.simulated(*i)),
        }
    }

    pub(super) async fn observe_subnet(
        &self,
        s: &SubnetSpec,
    ) -> nuage_provider::Result<Observation> {
        let network = s.network.as_str().to_owned();
        let copies = self.network_copies(&network).await?;
        let mut with = Vec::new();
        for (i, xml) in &copies {
            let range = Self::subnet_range(xml, s)?;
            if parse_dhcp_ranges(xml)?.contains(&range) {
                with.push(*i);
            }
        }
        Ok(if with.is_empty() {
            Observation::Absent
        } else {
            Observation::Present(self.subnet_observed(&network, s, &with))
        })
    }

    pub(super) async fn create_subnet(&self, s: &SubnetSpec) -> nuage_provider::Result<Observed> {
        let network = s.network.as_str().to_owned();
        let copies = self.network_copies(&network).await?;
        if copies.is_empty() {
            return Err(ContractError::not_found(format!(
                "network {network} does not exist"
            )));
        }
        let mut with = Vec::new();
        for (i, xml) in &copies {
            let range = Self::subnet_range(xml, s)?;
            if !parse_dhcp_ranges(xml)?.contains(&range) {
                let (owned, range_xml) = (network.clone(), dhcp_range_xml(range.0, range.1));
                self.on_host(*i, "add subnet", move |c| {
                    ops::update_dhcp_range(c, &owned, &range_xml, true)
                })
                .await?;
            }
            with.push(*i);
        }
        Ok(self.subnet_observed(&network, s, &with))
    }

    pub(super) async fn delete_subnet(
        &self,
        s: &SubnetSpec,
    ) -> nuage_provider::Result<DeleteOutcome> {
        let network = s.network.as_str().to_owned();
        let owned = network.clone();
        let users = self
            .on_healthy("list network users", move |c| {
                ops::domains_on_network(c, &owned)
            })
            .await?;
        if let Some((i, domains)) = users.iter().find(|(_, d)| !d.is_empty()) {
            return Err(ContractError::conflict(format!(
                "subnet {} still has servers on host {}: {}",
                s.cidr,
                self.hosts[*i].name,
                domains.join(", ")
            )));
        }
        let copies = self.network_copies(&network).await?;
        let mut deleted = false;
        for (i, xml) in &copies {
            let range = Self::subnet_range(xml, s)?;
            if parse_dhcp_ranges(xml)?.contains(&range) {
                let (owned, range_xml) = (network.clone(), dhcp_range_xml(range.0, range.1));
                self.on_host(*i, "remove subnet", move |c| {
                    ops::update_dhcp_range(c, &owned, &range_xml, false)
                })
                .await?;
                deleted = true;
            }
        }
        Ok(if deleted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }
}
