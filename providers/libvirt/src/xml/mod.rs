//! Libvirt XML: domains, volumes and networks generated from plain specs, and domain XML read
//! back into facts. Pure functions, no I/O.

mod domain;
mod names;
mod network;
mod volume;
mod writer;

pub use domain::{
    DiskSpec, DomainDescription, DomainSpec, InterfaceSpec, NAMESPACE, domain_xml, mac_for,
    parse_domain,
};
pub use names::check_name;
pub use network::{
    NetworkSpec, dhcp_range, dhcp_range_xml, network_xml, parse_dhcp_ranges, parse_network_ip,
};
pub use volume::{VolumeDescription, VolumeFormat, VolumeSpec, parse_volume, volume_xml};

use crate::error::{Error, Result};

/// Converts a libvirt size with its unit (`KiB`, `MiB`, `bytes`, …) to bytes.
pub(crate) fn to_bytes(value: u64, unit: Option<&str>) -> Result<u64> {
    let factor: u64 = match unit.unwrap_or("KiB") {
        "b" | "bytes" => 1,
        "KB" => 1_000,
        "k" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "T" | "TiB" => 1 << 40,
        other => return Err(Error::Xml(format!("unknown size unit `{other}`"))),
    };
    value
        .checked_mul(factor)
        .ok_or_else(|| Error::Xml(format!("size {value} {factor} overflows")))
}
