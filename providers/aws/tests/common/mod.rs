//! Spec builders shared by the moto tests.

#![allow(dead_code, unreachable_pub)]

use nuage_provider::{
    AttachmentSpec, CloudId, Direction, ImageRef, NetworkSpec, PortRange, Protocol, ResourceMeta,
    ResourceSpec, SecurityGroupSpec, SecurityRule, ServerSpec, SpecBody, SubnetSpec, VolumeSpec,
};

/// A request id unique to this test run and label, so tests can share one moto server.
pub fn request(label: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{label}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An identity in the test tenant.
pub fn meta(request: &str, resource: &str) -> ResourceMeta {
    ResourceMeta::new("min-interieur", request, resource).unwrap()
}

/// A network spec.
pub fn network(request: &str) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "net"),
        SpecBody::Network(NetworkSpec {
            cidr: "10.20.0.0/16".parse().unwrap(),
        }),
    )
}

/// A subnet spec inside `network`.
pub fn subnet(request: &str, network: &CloudId) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "subnet"),
        SpecBody::Subnet(SubnetSpec {
            network: network.clone(),
            cidr: "10.20.1.0/24".parse().unwrap(),
            zone: None,
        }),
    )
}

/// Ingress SSH from 10/8.
pub fn ssh_rule() -> SecurityRule {
    SecurityRule {
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        ports: Some(PortRange::single(22)),
        remote: "10.0.0.0/8".parse().unwrap(),
    }
}

/// A security group spec.
pub fn group(request: &str, network: &CloudId, rules: Vec<SecurityRule>) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "sg"),
        SpecBody::SecurityGroup(SecurityGroupSpec {
            network: Some(network.clone()),
            rules,
        }),
    )
}

/// A 2 vCPU, 4 GiB Debian 12 server body.
pub fn server_spec(subnet: Option<&CloudId>, groups: &[&CloudId]) -> ServerSpec {
    ServerSpec {
        vcpus: 2,
        ram_mib: 4096,
        image: ImageRef::new("debian", "12"),
        flavor: None,
        subnet: subnet.cloned(),
        security_groups: groups.iter().map(|g| (*g).clone()).collect(),
        dedicated: false,
        zone: None,
        user_data: Some("#cloud-config\n".to_owned()),
    }
}

/// A server spec.
pub fn server(request: &str, name: &str, spec: ServerSpec) -> ResourceSpec {
    ResourceSpec::new(meta(request, name), SpecBody::Server(spec))
}

/// A gp3 volume spec.
pub fn volume(request: &str, size_gib: u32, zone: Option<String>) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "data"),
        SpecBody::Volume(VolumeSpec {
            size_gib,
            zone,
            volume_type: Some("gp3".to_owned()),
        }),
    )
}

/// An attachment spec.
pub fn attachment(request: &str, server: &CloudId, volume: &CloudId) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "data-att"),
        SpecBody::Attachment(AttachmentSpec {
            server: server.clone(),
            volume: volume.clone(),
            device: None,
        }),
    )
}
