//! Nova microversions: read the range from the version document, pick the highest we speak.

use std::fmt;
use std::str::FromStr;

use serde::Deserialize;

use crate::error::{Error, Result};

/// A compute API microversion (`2.90`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Microversion {
    /// Major version (always 2).
    pub major: u16,
    /// Minor version.
    pub minor: u16,
}

impl Microversion {
    /// A microversion.
    pub const fn new(major: u16, minor: u16) -> Self {
        Microversion { major, minor }
    }
}

impl fmt::Display for Microversion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for Microversion {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let bad = || Error::Decode {
            service: "compute",
            message: format!("microversion {s:?}"),
        };
        let (major, minor) = s.trim().split_once('.').ok_or_else(bad)?;
        Ok(Microversion {
            major: major.parse().map_err(|_| bad())?,
            minor: minor.parse().map_err(|_| bad())?,
        })
    }
}

/// Oldest microversion the adapter works with: 2.37 (`networks` required, tagged network
/// lists), long shipped by every supported release.
pub const MIN: Microversion = Microversion::new(2, 37);
/// Newest microversion the adapter was written and tested against (Nova 34 offers 2.104).
pub const MAX: Microversion = Microversion::new(2, 100);

#[derive(Deserialize)]
pub(crate) struct VersionDoc {
    version: VersionInfo,
}

#[derive(Deserialize)]
struct VersionInfo {
    #[serde(default)]
    version: String,
    #[serde(default)]
    min_version: String,
}

impl VersionDoc {
    /// The microversion to use: the highest both sides speak.
    pub(crate) fn negotiate(&self) -> Result<Microversion> {
        if self.version.version.is_empty() {
            // A cloud without microversions speaks exactly 2.1.
            return Err(Error::Unsupported(format!(
                "compute API without microversions; at least {MIN} is needed"
            )));
        }
        let server_max: Microversion = self.version.version.parse()?;
        let server_min: Microversion = if self.version.min_version.is_empty() {
            Microversion::new(2, 1)
        } else {
            self.version.min_version.parse()?
        };
        negotiate(server_min, server_max)
    }
}

/// The highest microversion in both `[server_min, server_max]` and `[MIN, MAX]`.
pub fn negotiate(server_min: Microversion, server_max: Microversion) -> Result<Microversion> {
    let chosen = server_max.min(MAX);
    if chosen < MIN || chosen < server_min {
        return Err(Error::Unsupported(format!(
            "compute API offers microversions {server_min} to {server_max}; \
             this adapter speaks {MIN} to {MAX}"
        )));
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_highest_common_microversion() {
        let v = |s: &str| s.parse::<Microversion>().unwrap();
        assert_eq!(negotiate(v("2.1"), v("2.104")).unwrap(), MAX);
        assert_eq!(negotiate(v("2.1"), v("2.79")).unwrap(), v("2.79"));
        assert!(negotiate(v("2.1"), v("2.30")).is_err());
        assert!(negotiate(v("2.101"), v("2.110")).is_err());
        assert!(v("2.9") < v("2.10"), "numeric, not lexical, order");
        assert!("2".parse::<Microversion>().is_err());
        let doc: VersionDoc = serde_json::from_value(serde_json::json!({"version": {
            "id": "v2.1", "status": "CURRENT", "version": "2.104", "min_version": "2.1"}}))
        .unwrap();
        assert_eq!(doc.negotiate().unwrap().to_string(), "2.100");
    }
}
