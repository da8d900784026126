//! Virtual network XML.

use std::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::xml::names::check_name;
use crate::xml::writer::XmlWriter;

/// A libvirt virtual network: an isolated or NAT-ed IPv4 subnet with DHCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// The deterministic name (the idempotency key on each host).
    pub name: String,
    /// Subnet address, e.g. `10.20.0.0`.
    pub subnet: Ipv4Addr,
    /// Prefix length, 8 to 29.
    pub prefix: u8,
    /// Whether guests reach outside through NAT; `false` isolates the network.
    pub nat: bool,
}

/// Generates the network XML: the host takes the first address as gateway, DHCP hands out the
/// rest but the broadcast address.
pub fn network_xml(spec: &NetworkSpec) -> Result<String> {
    check_name("network", &spec.name)?;
    if !(8..=29).contains(&spec.prefix) {
        return Err(Error::InvalidSpec(format!(
            "network `{}`: prefix /{} must be in /8../29",
            spec.name, spec.prefix
        )));
    }
    let mask = u32::MAX << (32 - u32::from(spec.prefix));
    let base = u32::from(spec.subnet);
    if base & !mask != 0 {
        return Err(Error::InvalidSpec(format!(
            "network `{}`: {}/{} has host bits set",
            spec.name, spec.subnet, spec.prefix
        )));
    }
    let gateway = Ipv4Addr::from(base + 1).to_string();
    let first = Ipv4Addr::from(base + 2).to_string();
    let last = Ipv4Addr::from((base | !mask) - 1).to_string();
    let netmask = Ipv4Addr::from(mask).to_string();
    let mut w = XmlWriter::new();
    w.open("network", &[]);
    w.text("name", &[], &spec.name);
    if spec.nat {
        w.empty("forward", &[("mode", "nat")]);
    }
    w.open("ip", &[("address", &gateway), ("netmask", &netmask)]);
    w.open("dhcp", &[])
        .empty("range", &[("start", &first), ("end", &last)])
        .close();
    w.close();
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_gateway_and_dhcp_range() {
        let xml = network_xml(&NetworkSpec {
            name: "req-42-net".into(),
            subnet: Ipv4Addr::new(10, 20, 0, 0),
            prefix: 24,
            nat: false,
        })
        .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let ip = doc.descendants().find(|n| n.has_tag_name("ip")).unwrap();
        assert_eq!(ip.attribute("address"), Some("10.20.0.1"));
        assert_eq!(ip.attribute("netmask"), Some("255.255.255.0"));
        let range = doc.descendants().find(|n| n.has_tag_name("range")).unwrap();
        assert_eq!(range.attribute("start"), Some("10.20.0.2"));
        assert_eq!(range.attribute("end"), Some("10.20.0.254"));
        assert!(!doc.descendants().any(|n| n.has_tag_name("forward")));
    }

    #[test]
    fn refuses_bad_subnets() {
        let spec = |subnet, prefix| NetworkSpec {
            name: "n".into(),
            subnet,
            prefix,
            nat: true,
        };
        let e = network_xml(&spec(Ipv4Addr::new(10, 0, 0, 1), 24)).unwrap_err();
        assert!(e.to_string().contains("host bits"), "{e}");
        let e = network_xml(&spec(Ipv4Addr::new(10, 0, 0, 0), 31)).unwrap_err();
        assert!(e.to_string().contains("/31"), "{e}");
    }
}
