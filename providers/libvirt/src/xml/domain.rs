//! Domain XML: generated from a [`DomainSpec`], read back as a [`DomainDescription`].

use crate::error::{Error, Result};
use crate::inventory::DomainTag;
use crate::uri::Driver;
use crate::xml::names::check_name;
use crate::xml::to_bytes;
use crate::xml::writer::XmlWriter;

/// The XML namespace of Nuage's tag in a domain's `<metadata>`.
pub const NAMESPACE: &str = "https://nuage.numerique.gouv.fr/xmlns/libvirt/1";

/// A disk backed by a volume of a libvirt storage pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskSpec {
    /// The storage pool.
    pub pool: String,
    /// The volume in it.
    pub volume: String,
}

/// A network interface on a libvirt network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceSpec {
    /// The libvirt network.
    pub network: String,
    /// The MAC address; `None` derives a stable one from the domain name ([`mac_for`]).
    pub mac: Option<String>,
}

/// What a domain is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainSpec {
    /// The deterministic name (the idempotency key).
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub memory_mib: u64,
    /// Disks, attached in order as `vda`, `vdb`, …; the first is the boot disk.
    pub disks: Vec<DiskSpec>,
    /// Network interfaces, in order.
    pub interfaces: Vec<InterfaceSpec>,
    /// Nuage's tag, written in `<metadata>`.
    pub tag: DomainTag,
}

/// Generates the domain XML for a host of the given driver (`kvm` guests on QEMU hosts, `test`
/// guests on the test driver). Refuses specs libvirt would refuse or misread.
pub fn domain_xml(spec: &DomainSpec, driver: Driver) -> Result<String> {
    check_name("domain", &spec.name)?;
    if spec.vcpus == 0 || spec.vcpus > 4096 {
        return Err(Error::InvalidSpec(format!(
            "domain `{}`: vCPUs must be in 1..=4096, got {}",
            spec.name, spec.vcpus
        )));
    }
    if spec.memory_mib == 0 || spec.memory_mib > (1 << 32) {
        return Err(Error::InvalidSpec(format!(
            "domain `{}`: memory must be in 1..=2^32 MiB, got {}",
            spec.name, spec.memory_mib
        )));
    }
    if spec.disks.len() > 26 {
        return Err(Error::InvalidSpec(format!(
            "domain `{}`: at most 26 disks, got {}",
            spec.name,
            spec.disks.len()
        )));
    }
    for d in &spec.disks {
        check_name("storage pool", &d.pool)?;
        check_name("volume", &d.volume)?;
    }
    let mut macs = Vec::with_capacity(spec.interfaces.len());
    for (i, nic) in spec.interfaces.iter().enumerate() {
        check_name("network", &nic.network)?;
        let mac = match &nic.mac {
            Some(m) => {
                check_mac(m)?;
                m.to_ascii_lowercase()
            }
            None => mac_for(&spec.name, i),
        };
        macs.push(mac);
    }

    let vcpus = spec.vcpus.to_string();
    let memory = spec.memory_mib.to_string();
    let mut w = XmlWriter::new();
    w.open("domain", &[("type", driver.domain_type())]);
    w.text("name", &[], &spec.name);
    w.open("metadata", &[]);
    let mut attrs = vec![("xmlns:nuage", NAMESPACE)];
    for (key, value) in [
        ("tenant", &spec.tag.tenant),
        ("request", &spec.tag.request),
        ("resource", &spec.tag.resource),
        ("group", &spec.tag.group),
    ] {
        if let Some(v) = value {
            attrs.push((key, v));
        }
    }
    w.empty("nuage:server", &attrs);
    w.close();
    w.text("memory", &[("unit", "MiB")], &memory);
    w.text("currentMemory", &[("unit", "MiB")], &memory);
    w.text("vcpu", &[("placement", "static")], &vcpus);
    w.open("os", &[]);
    match driver {
        Driver::Qemu => w.text("type", &[("arch", "x86_64"), ("machine", "q35")], "hvm"),
        Driver::Test => w.text("type", &[], "hvm"),
    };
    w.empty("boot", &[("dev", "hd")]);
    w.close();
    if driver == Driver::Qemu {
        w.open("features", &[])
            .empty("acpi", &[])
            .empty("apic", &[])
            .close();
        w.empty("cpu", &[("mode", "host-model")]);
    }
    w.text("on_poweroff", &[], "destroy");
    w.text("on_reboot", &[], "restart");
    w.text("on_crash", &[], "destroy");
    w.open("devices", &[]);
    for (i, d) in spec.disks.iter().enumerate() {
        let dev = format!("vd{}", char::from(b'a' + i as u8));
        w.open("disk", &[("type", "volume"), ("device", "disk")]);
        w.empty("driver", &[("name", "qemu"), ("type", "qcow2")]);
        w.empty("source", &[("pool", &d.pool), ("volume", &d.volume)]);
        w.empty("target", &[("dev", &dev), ("bus", "virtio")]);
        w.close();
    }
    for (nic, mac) in spec.interfaces.iter().zip(&macs) {
        w.open("interface", &[("type", "network")]);
        w.empty("source", &[("network", &nic.network)]);
        w.empty("mac", &[("address", mac)]);
        w.empty("model", &[("type", "virtio")]);
        w.close();
    }
    if driver == Driver::Qemu {
        w.open("serial", &[("type", "pty")]).close();
        w.open("console", &[("type", "pty")]).close();
    }
    w.close();
    Ok(w.finish())
}

/// A stable, locally administered MAC address (QEMU's `52:54:00` prefix) for interface `index`
/// of a domain: a re-created domain keeps its addresses.
pub fn mac_for(domain: &str, index: usize) -> String {
    // FNV-1a: fixed across Rust versions, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in domain.bytes().chain((index as u64).to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let b = h.to_be_bytes();
    format!("52:54:00:{:02x}:{:02x}:{:02x}", b[5], b[6], b[7])
}

fn check_mac(mac: &str) -> Result<()> {
    let parts: Vec<&str> = mac.split(':').collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
        && u8::from_str_radix(parts[0], 16).is_ok_and(|b| b & 1 == 0);
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidSpec(format!(
            "`{mac}` is not a unicast MAC address"
        )))
    }
}

/// A domain as its XML describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainDescription {
    /// Name.
    pub name: String,
    /// UUID (empty when the XML has none, e.g. generated XML).
    pub uuid: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB (rounded down).
    pub memory_mib: u64,
    /// Volume-backed disks.
    pub disks: Vec<DiskSpec>,
    /// Network interfaces, with their MAC addresses when known.
    pub interfaces: Vec<InterfaceSpec>,
    /// Nuage's tag, when the domain has one.
    pub tag: Option<DomainTag>,
}

/// Reads a domain's XML (as `virDomainGetXMLDesc` returns it).
pub fn parse_domain(xml: &str) -> Result<DomainDescription> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| Error::Xml(e.to_string()))?;
    let root = doc.root_element();
    if !root.has_tag_name("domain") {
        return Err(Error::Xml(format!(
            "expected <domain>, found <{}>",
            root.tag_name().name()
        )));
    }
    let child = |name: &str| root.children().find(|n| n.has_tag_name(name));
    let text = |name: &str| child(name).and_then(|n| n.text()).map(str::trim);
    let name = text("name")
        .ok_or_else(|| Error::Xml("domain without <name>".into()))?
        .to_owned();
    let vcpus = text("vcpu")
        .ok_or_else(|| Error::Xml(format!("domain `{name}` without <vcpu>")))?
        .parse::<u32>()
        .map_err(|e| Error::Xml(format!("domain `{name}`: <vcpu>: {e}")))?;
    let mem_node =
        child("memory").ok_or_else(|| Error::Xml(format!("domain `{name}` without <memory>")))?;
    let mem_value = mem_node
        .text()
        .map(str::trim)
        .unwrap_or_default()
        .parse::<u64>()
        .map_err(|e| Error::Xml(format!("domain `{name}`: <memory>: {e}")))?;
    let memory_mib = to_bytes(mem_value, mem_node.attribute("unit"))? >> 20;
    let mut disks = Vec::new();
    let mut interfaces = Vec::new();
    if let Some(devices) = child("devices") {
        for dev in devices.children().filter(|n| n.is_element()) {
            let source = dev.children().find(|n| n.has_tag_name("source"));
            if dev.has_tag_name("disk") {
                if let Some((pool, volume)) =
                    source.and_then(|s| Some((s.attribute("pool")?, s.attribute("volume")?)))
                {
                    disks.push(DiskSpec {
                        pool: pool.to_owned(),
                        volume: volume.to_owned(),
                    });
                }
            } else if dev.has_tag_name("interface")
                && let Some(network) = source.and_then(|s| s.attribute("network"))
            {
                let mac = dev
                    .children()
                    .find(|n| n.has_tag_name("mac"))
                    .and_then(|m| m.attribute("address"))
                    .map(str::to_owned);
                interfaces.push(InterfaceSpec {
                    network: network.to_owned(),
                    mac,
                });
            }
        }
    }
    let tag = child("metadata").and_then(|m| {
        m.children()
            .find(|n| n.has_tag_name((NAMESPACE, "server")))
            .map(|n| DomainTag {
                tenant: n.attribute("tenant").map(str::to_owned),
                request: n.attribute("request").map(str::to_owned),
                resource: n.attribute("resource").map(str::to_owned),
                group: n.attribute("group").map(str::to_owned),
            })
    });
    Ok(DomainDescription {
        uuid: text("uuid").unwrap_or_default().to_owned(),
        name,
        vcpus,
        memory_mib,
        disks,
        interfaces,
        tag,
    })
}

#[cfg(test)]
mod tests;
