//! Neutron's resources as the API returns them (only the fields the adapter reads).

use serde::Deserialize;

/// A network.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Network {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `ACTIVE`, `BUILD`, `DOWN`, `ERROR`.
    #[serde(default)]
    pub status: String,
    /// Tags (`nuage:tenant=...`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Subnet ids.
    #[serde(default)]
    pub subnets: Vec<String>,
}

/// A subnet.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Subnet {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Network id.
    pub network_id: String,
    /// Range.
    pub cidr: String,
    /// 4 or 6.
    #[serde(default)]
    pub ip_version: u8,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A security group.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SecurityGroup {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Rules (Neutron embeds them).
    #[serde(default)]
    pub security_group_rules: Vec<SecurityGroupRule>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A security group rule.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct SecurityGroupRule {
    /// Id.
    pub id: String,
    /// `ingress` or `egress`.
    pub direction: String,
    /// `IPv4` or `IPv6`.
    #[serde(default)]
    pub ethertype: String,
    /// `tcp`, `udp`, `icmp`, a number, or `null` for any.
    #[serde(default)]
    pub protocol: Option<String>,
    /// First port.
    #[serde(default)]
    pub port_range_min: Option<u16>,
    /// Last port.
    #[serde(default)]
    pub port_range_max: Option<u16>,
    /// Peer range; `null` means any address of the ethertype.
    #[serde(default)]
    pub remote_ip_prefix: Option<String>,
    /// Peer group (rules between members of a group).
    #[serde(default)]
    pub remote_group_id: Option<String>,
}

/// A port.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Port {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Network id.
    pub network_id: String,
    /// `ACTIVE`, `DOWN`, `BUILD`.
    #[serde(default)]
    pub status: String,
    /// What uses it (a server id), empty if free.
    #[serde(default)]
    pub device_id: String,
    /// Fixed addresses.
    #[serde(default)]
    pub fixed_ips: Vec<FixedIp>,
    /// Security group ids.
    #[serde(default)]
    pub security_groups: Vec<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// A fixed address of a port.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct FixedIp {
    /// Subnet id.
    pub subnet_id: String,
    /// Address.
    pub ip_address: String,
}
