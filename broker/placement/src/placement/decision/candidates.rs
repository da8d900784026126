//! Every offer's fate, referring to the catalogue and policy by index.

use super::{Elimination, Explanation};
use crate::catalogue::{Catalogue, Offer};
use crate::money::Money;
use crate::policy::Policy;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

/// Every offer's fate, in the record's order: ranked offers by rank, then eliminated offers,
/// the furthest stage first. Rows refer to the catalogue and policy by index, so building the
/// list for a large catalogue allocates almost nothing.
#[derive(Clone)]
pub struct Candidates {
    pub(crate) rows: Vec<Row>,
    pub(crate) catalogue: Catalogue,
    pub(crate) policy: Policy,
    pub(crate) servers: Servers,
}

/// The request's server groups as `(name, "os version")`, which eliminations cite by index.
pub(crate) type Servers = std::sync::Arc<[(String, String)]>;

#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) offer: u32,
    pub(crate) verdict: Verdict,
}

impl Candidates {
    /// The candidates in record order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Candidate<'_>> {
        self.rows.iter().map(|r| Candidate {
            offer: &self.catalogue.offers()[r.offer as usize],
            verdict: &r.verdict,
            policy: &self.policy,
            servers: &self.servers,
        })
    }

    /// How many offers were considered.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the catalogue was empty.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The candidate for an offer id.
    pub fn get(&self, offer: &str) -> Option<Candidate<'_>> {
        self.iter().find(|c| c.offer.id == offer)
    }
}

impl std::fmt::Debug for Candidates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Candidates {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// One offer's fate.
#[derive(Clone, Copy)]
pub struct Candidate<'a> {
    /// The offer.
    pub offer: &'a Offer,
    /// Ranked or eliminated.
    pub verdict: &'a Verdict,
    policy: &'a Policy,
    servers: &'a [(String, String)],
}

impl<'a> Candidate<'a> {
    /// The id of the rule that eliminated the offer.
    pub fn rule(&self) -> Option<&'a str> {
        match self.verdict {
            Verdict::Eliminated(e) => Some(self.policy.rule_id(e.rule)),
            Verdict::Ranked { .. } => None,
        }
    }

    /// Why the offer was eliminated, in words and values.
    pub fn explain(&self) -> Option<Explanation> {
        match self.verdict {
            Verdict::Eliminated(e) => {
                Some(e.mismatch.explain(self.offer, self.policy, self.servers))
            }
            Verdict::Ranked { .. } => None,
        }
    }
}

impl std::fmt::Debug for Candidate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("offer", &self.offer.id)
            .field("verdict", self.verdict)
            .field("rule", &self.rule())
            .finish()
    }
}

/// Chosen, eligible, or eliminated.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    /// Passed every filter; `rank` 1 is the chosen offer.
    Ranked {
        /// 1 for the cheapest (the chosen offer).
        rank: usize,
        /// Estimated monthly cost.
        monthly: Money,
        /// How much more than the chosen offer.
        delta: Money,
    },
    /// Eliminated by a rule.
    Eliminated(Elimination),
}

impl Serialize for Candidate<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("offer", &self.offer.id)?;
        m.serialize_entry("tier", &self.offer.tier)?;
        match self.verdict {
            Verdict::Ranked {
                rank,
                monthly,
                delta,
            } => {
                m.serialize_entry("verdict", if *rank == 1 { "chosen" } else { "eligible" })?;
                m.serialize_entry("rank", rank)?;
                m.serialize_entry("monthly_eur", monthly)?;
                m.serialize_entry("delta_eur", delta)?;
            }
            Verdict::Eliminated(e) => {
                let x = e.mismatch.explain(self.offer, self.policy, self.servers);
                m.serialize_entry("verdict", "eliminated")?;
                m.serialize_entry("stage", &e.stage)?;
                m.serialize_entry("rule", self.policy.rule_id(e.rule))?;
                m.serialize_entry("attribute", x.attribute)?;
                m.serialize_entry("required", &x.required)?;
                m.serialize_entry("actual", &x.actual)?;
                m.serialize_entry("reason", &x.reason)?;
            }
        }
        m.end()
    }
}
