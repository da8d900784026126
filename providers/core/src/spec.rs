//! Resource specs in provider-neutral terms: what the broker wants to exist.
//!
//! A spec names its resource ([`ResourceMeta`]) and describes it ([`SpecBody`]). Dependencies
//! (the subnet of a server, the volume of an attachment) are given as the [`CloudId`]s that
//! earlier steps observed: adapters resolve nothing and decide nothing.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cidr::Cidr;
use crate::error::{Error, Result};
use crate::name::ResourceMeta;

/// The kinds of resources the contract covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A private network (EC2 VPC, Neutron network, libvirt network).
    Network,
    /// An address range inside a network.
    Subnet,
    /// A set of firewall rules applied to servers.
    SecurityGroup,
    /// A virtual (or dedicated) machine.
    Server,
    /// A block storage volume.
    Volume,
    /// A volume attached to a server.
    Attachment,
}

impl ResourceKind {
    /// Every kind, in creation order (a later kind may depend on an earlier one).
    pub const ALL: [ResourceKind; 6] = [
        ResourceKind::Network,
        ResourceKind::Subnet,
        ResourceKind::SecurityGroup,
        ResourceKind::Volume,
        ResourceKind::Server,
        ResourceKind::Attachment,
    ];

    /// Stable snake_case name (`security_group`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ResourceKind::Network => "network",
            ResourceKind::Subnet => "subnet",
            ResourceKind::SecurityGroup => "security_group",
            ResourceKind::Server => "server",
            ResourceKind::Volume => "volume",
            ResourceKind::Attachment => "attachment",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id a cloud gave a resource (`i-0abc...`, a Neutron UUID, a libvirt domain name).
/// Opaque to everything but the adapter that produced it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CloudId(String);

impl CloudId {
    /// Wraps a cloud id.
    pub fn new(id: impl Into<String>) -> Self {
        CloudId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CloudId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for CloudId {
    fn from(s: &str) -> Self {
        CloudId(s.to_owned())
    }
}

impl From<String> for CloudId {
    fn from(s: String) -> Self {
        CloudId(s)
    }
}

/// A resource the broker wants: its identity and its description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceSpec {
    /// Tenant, request and logical name; yields the cloud name and tags.
    pub meta: ResourceMeta,
    /// What the resource is.
    pub body: SpecBody,
}

/// The description of a resource, by kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SpecBody {
    /// A network.
    Network(NetworkSpec),
    /// A subnet.
    Subnet(SubnetSpec),
    /// A security group.
    SecurityGroup(SecurityGroupSpec),
    /// A server.
    Server(ServerSpec),
    /// A volume.
    Volume(VolumeSpec),
    /// An attachment of a volume to a server.
    Attachment(AttachmentSpec),
}

/// A private network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    /// Address range of the whole network. Clouds whose networks carry no range (OpenStack)
    /// ignore it; subnets must lie inside it.
    pub cidr: Cidr,
}

/// An address range inside a network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetSpec {
    /// Cloud id of the network.
    pub network: CloudId,
    /// Address range of the subnet.
    pub cidr: Cidr,
    /// Availability zone, where the cloud has zones; the adapter's default zone otherwise.
    #[serde(default)]
    pub zone: Option<String>,
}

/// A set of firewall rules.
///
/// Ingress is exactly the listed ingress rules. Egress: when no egress rule is listed the
/// cloud's default (allow all outbound) is left alone; when some are listed they replace it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupSpec {
    /// Cloud id of the network the group belongs to, for clouds that scope groups to a network
    /// (EC2 VPCs); ignored elsewhere.
    #[serde(default)]
    pub network: Option<CloudId>,
    /// The rules.
    #[serde(default)]
    pub rules: Vec<SecurityRule>,
}

/// One firewall rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SecurityRule {
    /// Inbound or outbound.
    pub direction: Direction,
    /// Protocol matched.
    pub protocol: Protocol,
    /// Port range, for TCP and UDP only; `None` means every port.
    #[serde(default)]
    pub ports: Option<PortRange>,
    /// Peer addresses allowed.
    pub remote: Cidr,
}

/// Direction of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Traffic to the servers.
    Ingress,
    /// Traffic from the servers.
    Egress,
}

/// Protocol of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (all types).
    Icmp,
    /// Every protocol.
    Any,
}

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRange {
    /// First port.
    pub from: u16,
    /// Last port (inclusive).
    pub to: u16,
}

impl PortRange {
    /// A single port.
    pub fn single(port: u16) -> Self {
        PortRange {
            from: port,
            to: port,
        }
    }
}

/// A server (virtual machine, or a machine on a dedicated host).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerSpec {
    /// Virtual CPUs wanted (the adapter picks the smallest flavor that has at least this many).
    pub vcpus: u32,
    /// Memory wanted, in MiB.
    pub ram_mib: u64,
    /// Operating system image.
    pub image: ImageRef,
    /// A provider-native flavor or instance type to use instead of the size-based choice.
    #[serde(default)]
    pub flavor: Option<String>,
    /// Cloud id of the subnet to attach to; the cloud's default network when absent.
    #[serde(default)]
    pub subnet: Option<CloudId>,
    /// Cloud ids of the security groups to apply.
    #[serde(default)]
    pub security_groups: Vec<CloudId>,
    /// Whether the server must run on hardware dedicated to the tenant (EC2 Dedicated Hosts,
    /// the libvirt pool); adapters without it refuse with [`Error::Unsupported`].
    #[serde(default)]
    pub dedicated: bool,
    /// Availability zone; the adapter's default zone (or the subnet's) otherwise.
    #[serde(default)]
    pub zone: Option<String>,
    /// Cloud-init user data, plain text (adapters encode it as their API needs).
    #[serde(default)]
    pub user_data: Option<String>,
}

/// An operating system image, by name and version (`debian` `12`, `ubuntu` `24.04`). Each adapter
/// maps it to a native image through its configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ImageRef {
    /// OS name, lowercase.
    pub os: String,
    /// OS version.
    pub version: String,
}

impl ImageRef {
    /// An image reference.
    pub fn new(os: impl Into<String>, version: impl Into<String>) -> Self {
        ImageRef {
            os: os.into(),
            version: version.into(),
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.os, self.version)
    }
}

/// A block storage volume.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    /// Size in GiB. Volumes grow in place; they never shrink.
    pub size_gib: u32,
    /// Availability zone; the adapter's default zone otherwise. Must match the zone of the
    /// server it will be attached to.
    #[serde(default)]
    pub zone: Option<String>,
    /// A provider-native volume type (`gp3`, a Cinder type); the cloud's default otherwise.
    #[serde(default)]
    pub volume_type: Option<String>,
}

/// A volume attached to a server.
///
/// Most clouds put no tags on attachments: adapters find one by its (server, volume) pair,
/// which is as deterministic as a name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentSpec {
    /// Cloud id of the server.
    pub server: CloudId,
    /// Cloud id of the volume.
    pub volume: CloudId,
    /// Device name wanted (`/dev/sdf`, `/dev/vdb`); the adapter picks the first free one otherwise.
    #[serde(default)]
    pub device: Option<String>,
}

/// Largest vCPU count accepted in a spec.
pub const MAX_VCPUS: u32 = 1024;
/// Smallest memory accepted, in MiB.
pub const MIN_RAM_MIB: u64 = 128;
/// Largest memory accepted, in MiB (24 TiB).
pub const MAX_RAM_MIB: u64 = 24 * 1024 * 1024;
/// Largest volume accepted, in GiB.
pub const MAX_VOLUME_GIB: u32 = 65_536;
/// Largest user data accepted, in bytes (EC2's limit).
pub const MAX_USER_DATA: usize = 16 * 1024;
/// Most rules accepted in one security group.
pub const MAX_RULES: usize = 60;

impl ResourceSpec {
    /// A spec from its parts.
    pub fn new(meta: ResourceMeta, body: SpecBody) -> Self {
        ResourceSpec { meta, body }
    }

    /// The kind of resource.
    pub fn kind(&self) -> ResourceKind {
        match &self.body {
            SpecBody::Network(_) => ResourceKind::Network,
            SpecBody::Subnet(_) => ResourceKind::Subnet,
            SpecBody::SecurityGroup(_) => ResourceKind::SecurityGroup,
            SpecBody::Server(_) => ResourceKind::Server,
            SpecBody::Volume(_) => ResourceKind::Volume,
            SpecBody::Attachment(_) => ResourceKind::Attachment,
        }
    }

    /// The deterministic cloud name (see [`ResourceMeta::name`]).
    pub fn name(&self) -> String {
        self.meta.name()
    }

    /// The cloud ids this resource depends on.
    pub fn dependencies(&self) -> Vec<&CloudId> {
        match &self.body {
            SpecBody::Network(_) | SpecBody::Volume(_) => vec![],
            SpecBody::Subnet(s) => vec![&s.network],
            SpecBody::SecurityGroup(g) => g.network.iter().collect(),
            SpecBody::Server(s) => s.subnet.iter().chain(&s.security_groups).collect(),
            SpecBody::Attachment(a) => vec![&a.server, &a.volume],
        }
    }

    /// Checks the values an adapter cannot check against its catalogue: sizes, ports, text
    /// lengths. Adapters call it before any cloud call; an error here is terminal.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidSpec(format!("{}: {msg}", self.meta)));
        match &self.body {
            SpecBody::Network(_) => {}
            SpecBody::Subnet(s) => check_zone(&s.zone).or_else(bad)?,
            SpecBody::SecurityGroup(g) => {
                if g.rules.len() > MAX_RULES {
                    return bad(format!("{} rules, at most {MAX_RULES}", g.rules.len()));
                }
                for rule in &g.rules {
                    check_rule(rule).or_else(bad)?;
                }
            }
            SpecBody::Server(s) => {
                if s.vcpus == 0 || s.vcpus > MAX_VCPUS {
                    return bad(format!("vcpus {} not in 1..={MAX_VCPUS}", s.vcpus));
                }
                if !(MIN_RAM_MIB..=MAX_RAM_MIB).contains(&s.ram_mib) {
                    return bad(format!(
                        "ram_mib {} not in {MIN_RAM_MIB}..={MAX_RAM_MIB}",
                        s.ram_mib
                    ));
                }
                check_word("image os", &s.image.os).or_else(bad)?;
                check_word("image version", &s.image.version).or_else(bad)?;
                if let Some(flavor) = &s.flavor {
                    check_word("flavor", flavor).or_else(bad)?;
                }
                check_zone(&s.zone).or_else(bad)?;
                if let Some(data) = &s.user_data
                    && data.len() > MAX_USER_DATA
                {
                    return bad(format!(
                        "user data is {} bytes, at most {MAX_USER_DATA}",
                        data.len()
                    ));
                }
            }
            SpecBody::Volume(v) => {
                if v.size_gib == 0 || v.size_gib > MAX_VOLUME_GIB {
                    return bad(format!(
                        "size_gib {} not in 1..={MAX_VOLUME_GIB}",
                        v.size_gib
                    ));
                }
                check_zone(&v.zone).or_else(bad)?;
                if let Some(t) = &v.volume_type {
                    check_word("volume type", t).or_else(bad)?;
                }
            }
            SpecBody::Attachment(a) => {
                if let Some(device) = &a.device {
                    let ok = device.starts_with("/dev/")
                        && device.len() <= 32
                        && device[5..]
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '/');
                    if !ok || device.len() == 5 {
                        return bad(format!("device {device:?} is not a /dev/ path"));
                    }
                }
            }
        }
        for id in self.dependencies() {
            if id.as_str().is_empty() {
                return bad("a dependency cloud id is empty".to_owned());
            }
        }
        Ok(())
    }
}

fn check_word(what: &str, value: &str) -> std::result::Result<(), String> {
    let ok = !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {value:?} must be 1 to 64 ASCII letters, digits, '.', '_' or '-'"
        ))
    }
}

fn check_zone(zone: &Option<String>) -> std::result::Result<(), String> {
    match zone {
        Some(z) => check_word("zone", z),
        None => Ok(()),
    }
}

fn check_rule(rule: &SecurityRule) -> std::result::Result<(), String> {
    match (rule.protocol, rule.ports) {
        (Protocol::Icmp | Protocol::Any, Some(_)) => {
            Err(format!("{:?} rules take no port range", rule.protocol))
        }
        (_, Some(p)) if p.from > p.to || p.from == 0 => {
            Err(format!("port range {}-{} is invalid", p.from, p.to))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ResourceMeta {
        ResourceMeta::new("t", "r", "web").unwrap()
    }

    fn server() -> ServerSpec {
        ServerSpec {
            vcpus: 2,
            ram_mib: 4096,
            image: ImageRef::new("debian", "12"),
            flavor: None,
            subnet: Some("subnet-1".into()),
            security_groups: vec!["sg-1".into()],
            dedicated: false,
            zone: None,
            user_data: None,
        }
    }

    #[test]
    fn kinds_and_dependencies() {
        let spec = ResourceSpec::new(meta(), SpecBody::Server(server()));
        assert_eq!(spec.kind(), ResourceKind::Server);
        assert_eq!(
            spec.dependencies(),
            vec![&CloudId::from("subnet-1"), &"sg-1".into()]
        );
        spec.validate().unwrap();
    }

    #[test]
    fn validation_refuses_bad_values() {
        let mut s = server();
        s.vcpus = 0;
        assert!(
            ResourceSpec::new(meta(), SpecBody::Server(s))
                .validate()
                .is_err()
        );
        let mut s = server();
        s.ram_mib = 64;
        assert!(
            ResourceSpec::new(meta(), SpecBody::Server(s))
                .validate()
                .is_err()
        );
        let mut s = server();
        s.image.os = "debian 12".into();
        assert!(
            ResourceSpec::new(meta(), SpecBody::Server(s))
                .validate()
                .is_err()
        );
        let mut s = server();
        s.user_data = Some("x".repeat(MAX_USER_DATA + 1));
        assert!(
            ResourceSpec::new(meta(), SpecBody::Server(s))
                .validate()
                .is_err()
        );
        let v = VolumeSpec {
            size_gib: 0,
            zone: None,
            volume_type: None,
        };
        assert!(
            ResourceSpec::new(meta(), SpecBody::Volume(v))
                .validate()
                .is_err()
        );
        let rule = SecurityRule {
            direction: Direction::Ingress,
            protocol: Protocol::Icmp,
            ports: Some(PortRange::single(22)),
            remote: "0.0.0.0/0".parse().unwrap(),
        };
        let g = SecurityGroupSpec {
            network: None,
            rules: vec![rule],
        };
        let err = ResourceSpec::new(meta(), SpecBody::SecurityGroup(g))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("t/r/web"), "{err}");
        let a = AttachmentSpec {
            server: "i-1".into(),
            volume: "".into(),
            device: None,
        };
        assert!(
            ResourceSpec::new(meta(), SpecBody::Attachment(a))
                .validate()
                .is_err()
        );
        let a = AttachmentSpec {
            server: "i-1".into(),
            volume: "v-1".into(),
            device: Some("sdf".into()),
        };
        assert!(
            ResourceSpec::new(meta(), SpecBody::Attachment(a))
                .validate()
                .is_err()
        );
    }

    #[test]
    fn serde_shape_is_tagged_by_kind() {
        let spec = ResourceSpec::new(
            meta(),
            SpecBody::Volume(VolumeSpec {
                size_gib: 10,
                zone: None,
                volume_type: None,
            }),
        );
        let json = serde_json::to_value(&spec).unwrap();
        assert_eq!(json["body"]["kind"], "volume");
        assert_eq!(json["body"]["size_gib"], 10);
        let back: ResourceSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, spec);
    }
}
