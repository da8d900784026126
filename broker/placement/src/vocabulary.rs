//! The shared vocabulary of placement: tiers, sensitivity levels, service kinds.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The three tiers of the State's cloud strategy.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A State-run OpenStack cloud (Nubo, Pi), for sensitive data and applications.
    Internal,
    /// Infrastructure dedicated to the State at qualified providers.
    Dedicated,
    /// Commercial offers bought through public purchasing centrals.
    External,
}

impl Tier {
    /// Every tier, in order of preference for tie-breaks (internal first).
    pub const ALL: [Tier; 3] = [Tier::Internal, Tier::Dedicated, Tier::External];

    /// The tier's name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Internal => "internal",
            Tier::Dedicated => "dedicated",
            Tier::External => "external",
        }
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of tiers, stored as bits so filters compare in one instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TierSet(u8);

impl TierSet {
    /// Whether the set holds `tier`.
    pub fn contains(self, tier: Tier) -> bool {
        self.0 & tier.bit() != 0
    }

    /// The tiers of the set, in preference order.
    pub fn iter(self) -> impl Iterator<Item = Tier> {
        Tier::ALL.into_iter().filter(move |t| self.contains(*t))
    }
}

impl FromIterator<Tier> for TierSet {
    fn from_iter<I: IntoIterator<Item = Tier>>(iter: I) -> Self {
        TierSet(iter.into_iter().fold(0, |acc, t| acc | t.bit()))
    }
}

impl Serialize for TierSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// The declared sensitivity of the data a request will hold, from least to most sensitive.
///
/// The data's owner declares it; Nuage never infers it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Public data.
    Public,
    /// Internal, non-sensitive administrative data.
    Internal,
    /// Personal data (GDPR).
    Personal,
    /// Health data: needs an HDS-certified host.
    Health,
    /// Data of particular sensitivity (circular 6404/SG, SREN art. 31).
    Sensitive,
    /// Diffusion Restreinte (II 901).
    Restricted,
    /// National-defence classified (IGI 1300): outside every cloud, always refused.
    Classified,
}

impl Sensitivity {
    /// Every level, least sensitive first.
    pub const ALL: [Sensitivity; 7] = [
        Sensitivity::Public,
        Sensitivity::Internal,
        Sensitivity::Personal,
        Sensitivity::Health,
        Sensitivity::Sensitive,
        Sensitivity::Restricted,
        Sensitivity::Classified,
    ];

    /// Whether a justification and the declarant's identity must accompany the declaration.
    pub fn requires_declaration(self) -> bool {
        self >= Sensitivity::Personal
    }

    /// The level's name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Public => "public",
            Sensitivity::Internal => "internal",
            Sensitivity::Personal => "personal",
            Sensitivity::Health => "health",
            Sensitivity::Sensitive => "sensitive",
            Sensitivity::Restricted => "restricted",
            Sensitivity::Classified => "classified",
        }
    }
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind of resource an offer can provide.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServiceKind {
    /// Virtual servers.
    Server,
    /// Block-storage volumes.
    Volume,
    /// Private networks.
    Network,
}

impl ServiceKind {
    /// Every kind.
    pub const ALL: [ServiceKind; 3] = [
        ServiceKind::Server,
        ServiceKind::Volume,
        ServiceKind::Network,
    ];

    /// The kind's name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceKind::Server => "server",
            ServiceKind::Volume => "volume",
            ServiceKind::Network => "network",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
