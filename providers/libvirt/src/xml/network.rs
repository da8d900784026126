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
    /// Whether DHCP serves the whole subnet; `false` leaves ranges to [`dhcp_range_xml`]
    /// updates (one per contract subnet).
    pub dhcp: bool,
}

/// The DHCP range a subnet of the network gets: from its first host address (skipping the
/// network's gateway) to the last before its broadcast address. `None` when the subnet is not
/// inside the network or leaves no address.
pub fn dhcp_range(network: (Ipv4Addr, u8), subnet: (Ipv4Addr, u8)) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let (net, net_prefix) = (u32::from(network.0), network.1);
    let (sub, sub_prefix) = (u32::from(subnet.0), subnet.1);
    if !(net_prefix..=30).contains(&sub_prefix) {
        return None;
    }
    let net_mask = u32::MAX << (32 - u32::from(net_prefix));
    if sub & net_mask != net {
        return None;
    }
    let sub_mask = u32::MAX << (32 - u32::from(sub_prefix));
    let gateway = net + 1;
    let mut first = sub + 1;
    if first == gateway {
        first += 1;
    }
    let last = (sub | !sub_mask) - 1;
    (first <= last).then(|| (Ipv4Addr::from(first), Ipv4Addr::from(last)))
}

/// The `<range>` element for a network update adding or removing a subnet's DHCP range.
pub fn dhcp_range_xml(start: Ipv4Addr, end: Ipv4Addr) -> String {
    format!("<range start='{start}' end='{end}'/>")
}

/// The IPv4 network a libvirt network's XML declares: (network address, prefix), from its
/// `<ip>` element's address and `prefix` or `netmask`.
pub fn parse_network_ip(xml: &str) -> Result<Option<(Ipv4Addr, u8)>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Xml(e.to_string()))?;
    let Some(ip) = doc
        .descendants()
        .find(|n| n.has_tag_name("ip") && n.attribute("family").is_none_or(|f| f == "ipv4"))
    else {
        return Ok(None);
    };
    let address: Ipv4Addr = ip
        .attribute("address")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| Error::Xml("network <ip> without a valid address".into()))?;
    let prefix = match (ip.attribute("prefix"), ip.attribute("netmask")) {
        (Some(p), _) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| Error::Xml(format!("bad prefix `{p}`")))?,
        (None, Some(m)) => {
            let m: Ipv4Addr = m
                .parse()
                .map_err(|_| Error::Xml(format!("bad netmask `{m}`")))?;
            u32::from(m).count_ones() as u8
        }
        (None, None) => 24,
    };
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    };
    Ok(Some((Ipv4Addr::from(u32::from(address) & mask), prefix)))
}

/// The DHCP ranges a network's XML declares.
pub fn parse_dhcp_ranges(xml: &str) -> Result<Vec<(Ipv4Addr, Ipv4Addr)>> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Xml(e.to_string()))?;
    let mut out = Vec::new();
    for r in doc.descendants().filter(|n| n.has_tag_name("range")) {
        let addr = |a: &str| {
            r.attribute(a)
                .and_then(|v| v.parse::<Ipv4Addr>().ok())
                .ok_or_else(|| Error::Xml(format!("DHCP range without a valid `{a}`")))
        };
        out.push((addr("start")?, addr("end")?));
    }
    Ok(out)
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
    if spec.dhcp {
        w.open("dhcp", &[])
            .empty("range", &[("start", &first), ("end", &last)])
            .close();
    }
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
            dhcp: true,
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
    fn subnet_ranges_skip_the_gateway_and_stay_inside() {
        let net = (Ipv4Addr::new(10, 0, 0, 0), 16);
        let r = dhcp_range(net, (Ipv4Addr::new(10, 0, 0, 0), 24)).unwrap();
        assert_eq!(
            r,
            (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 254))
        );
        let r = dhcp_range(net, (Ipv4Addr::new(10, 0, 5, 0), 24)).unwrap();
        assert_eq!(
            r,
            (Ipv4Addr::new(10, 0, 5, 1), Ipv4Addr::new(10, 0, 5, 254))
        );
        assert_eq!(dhcp_range(net, (Ipv4Addr::new(10, 1, 0, 0), 24)), None);
        assert_eq!(dhcp_range(net, (Ipv4Addr::new(10, 0, 0, 0), 8)), None);
        let xml = network_xml(&NetworkSpec {
            name: "n".into(),
            subnet: net.0,
            prefix: 16,
            nat: false,
            dhcp: false,
        })
        .unwrap();
        assert!(parse_dhcp_ranges(&xml).unwrap().is_empty());
        assert_eq!(parse_network_ip(&xml).unwrap(), Some(net));
        let with = xml.replace(
            "</ip>",
            &format!("<dhcp>{}</dhcp></ip>", dhcp_range_xml(r.0, r.1)),
        );
        assert_eq!(parse_dhcp_ranges(&with).unwrap(), vec![r]);
    }

    #[test]
    fn refuses_bad_subnets() {
        let spec = |subnet, prefix| NetworkSpec {
            name: "n".into(),
            subnet,
            prefix,
            nat: true,
            dhcp: false,
        };
        let e = network_xml(&spec(Ipv4Addr::new(10, 0, 0, 1), 24)).unwrap_err();
        assert!(e.to_string().contains("host bits"), "{e}");
        let e = network_xml(&spec(Ipv4Addr::new(10, 0, 0, 0), 31)).unwrap_err();
        assert!(e.to_string().contains("/31"), "{e}");
    }
}
