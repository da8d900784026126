//! CIDR blocks (`10.0.0.0/16`, `2001:db8::/56`), validated once.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// An IPv4 or IPv6 network in CIDR notation, with no host bits set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `other` lies entirely inside this network.
    pub fn contains(&self, other: &Cidr) -> bool {
        if other.prefix < self.prefix {
            return false;
        }
        match (self.addr, other.addr) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let mask = mask32(self.prefix);
                u32::from(a) & mask == u32::from(b) & mask
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let mask = mask128(self.prefix);
                u128::from(a) & mask == u128::from(b) & mask
            }
            _ => false,
        }
    }

    /// The `n`-th address of the network (0 is the network address), if it lies inside.
    pub fn nth(&self, n: u64) -> Option<IpAddr> {
        match self.addr {
            IpAddr::V4(a) => {
                let size = 1u64 << (32 - u32::from(self.prefix));
                (n < size).then(|| {
                    IpAddr::V4((u32::from(a) + u32::try_from(n).unwrap_or(u32::MAX)).into())
                })
            }
            IpAddr::V6(a) => {
                let bits = 128 - u32::from(self.prefix);
                let fits = bits >= 64 || n < (1u64 << bits);
                fits.then(|| IpAddr::V6((u128::from(a) + u128::from(n)).into()))
            }
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

impl FromStr for Cidr {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::InvalidSpec(format!("CIDR {s:?} is invalid: {why}"));
        let (addr, prefix) = s.split_once('/').ok_or_else(|| bad("missing /prefix"))?;
        let addr: IpAddr = addr.parse().map_err(|_| bad("not an IP address"))?;
        let prefix: u8 = prefix.parse().map_err(|_| bad("prefix is not a number"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad("prefix too long"));
        }
        let host_bits_clear = match addr {
            IpAddr::V4(a) => u32::from(a) & !mask32(prefix) == 0,
            IpAddr::V6(a) => u128::from(a) & !mask128(prefix) == 0,
        };
        if !host_bits_clear {
            return Err(bad("host bits are set"));
        }
        Ok(Cidr { addr, prefix })
    }
}

impl TryFrom<String> for Cidr {
    type Error = Error;

    fn try_from(s: String) -> Result<Self, Error> {
        s.parse()
    }
}

impl From<Cidr> for String {
    fn from(c: Cidr) -> String {
        c.to_string()
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_checks() {
        let net: Cidr = "10.0.0.0/16".parse().unwrap();
        let sub: Cidr = "10.0.1.0/24".parse().unwrap();
        let other: Cidr = "10.1.0.0/24".parse().unwrap();
        assert!(net.contains(&sub));
        assert!(!net.contains(&other));
        assert!(!sub.contains(&net));
        assert_eq!(sub.nth(4).unwrap().to_string(), "10.0.1.4");
        assert_eq!(sub.nth(256), None);
        assert_eq!(net.to_string(), "10.0.0.0/16");
        let any: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(any.contains(&net));
        let v6: Cidr = "2001:db8::/56".parse().unwrap();
        assert!(v6.contains(&"2001:db8:0:1::/64".parse().unwrap()));
        for bad in [
            "10.0.0.1/16",
            "10.0.0.0",
            "10.0.0.0/33",
            "nope/8",
            "10.0.0.0/x",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn serde_round_trip() {
        let c: Cidr = serde_json::from_str("\"192.168.0.0/24\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"192.168.0.0/24\"");
        assert!(serde_json::from_str::<Cidr>("\"192.168.0.1/24\"").is_err());
    }
}
