//! Cloud ids the adapter hands out, and reading them back.
//!
//! - server: `<host>/<domain>`;
//! - volume: `<host>/<storage pool>/<volume>`;
//! - network: `<network>` (defined on every host that needs it);
//! - subnet: `<network>/<cidr>` (a DHCP range of the network).

use nuage_provider::{Cidr, CloudId};

use crate::error::{Error, Result};

/// A server's id.
pub(crate) fn server_id(host: &str, domain: &str) -> CloudId {
    CloudId::new(format!("{host}/{domain}"))
}

/// A volume's id.
pub(crate) fn volume_id(host: &str, pool: &str, volume: &str) -> CloudId {
    CloudId::new(format!("{host}/{pool}/{volume}"))
}

/// A subnet's id.
pub(crate) fn subnet_id(network: &str, cidr: &Cidr) -> CloudId {
    CloudId::new(format!("{network}/{cidr}"))
}

/// The network and range of a subnet id.
pub(crate) fn parse_subnet_id(id: &CloudId) -> Result<(String, Cidr)> {
    let bad = || Error::InvalidSpec(format!("`{id}` is not a libvirt subnet id"));
    let (network, cidr) = id.as_str().split_once('/').ok_or_else(bad)?;
    let cidr: Cidr = cidr.parse().map_err(|_| bad())?;
    if network.is_empty() {
        return Err(bad());
    }
    Ok((network.to_owned(), cidr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        assert_eq!(server_id("h1", "nuage-x-web").as_str(), "h1/nuage-x-web");
        assert_eq!(volume_id("h1", "default", "v").as_str(), "h1/default/v");
        let cidr: Cidr = "10.0.1.0/24".parse().unwrap();
        let id = subnet_id("nuage-x-net", &cidr);
        assert_eq!(id.as_str(), "nuage-x-net/10.0.1.0/24");
        assert_eq!(parse_subnet_id(&id).unwrap(), ("nuage-x-net".into(), cidr));
        for bad in ["nuage-x-net", "/10.0.0.0/24", "n/10.0.0.1/24", "n/x"] {
            assert!(parse_subnet_id(&CloudId::new(bad)).is_err(), "{bad}");
        }
    }
}
