//! The decision record: what was chosen, what it costs, and why every other offer lost.

mod candidates;
mod mismatch;

pub use candidates::{Candidate, Candidates, Verdict};
pub(crate) use candidates::{Row, Servers};
pub use mismatch::{Explanation, Mismatch};

use crate::catalogue::ProviderBinding;
use crate::country::CountryCode;
use crate::money::{HOURS_PER_MONTH, Money};
use crate::policy::RuleIdx;
use crate::vocabulary::{Sensitivity, Tier};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The record format version.
pub const DECISION_API_VERSION: &str = "nuage.decision/v1";

/// The outcome of placing one request: same inputs, same record.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// `nuage.decision/v1`.
    pub api_version: &'static str,
    /// The decision date (an input: the qualifications' validity is judged on it).
    pub decided_at: DateTime<Utc>,
    /// What was asked.
    pub request: RequestRef,
    /// The policy applied.
    pub policy: PolicyRef,
    /// The catalogue searched.
    pub catalogue: CatalogueRef,
    /// Placed or refused.
    pub outcome: Outcome,
    /// Where it goes, when placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// Why nothing fits, when refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    /// Points to review on the chosen offer (soft rules, estimates).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub advisories: Vec<Advisory>,
    /// Every offer of the catalogue: chosen, eligible (with rank and cost delta) or eliminated
    /// (with the rule and the values compared).
    pub candidates: Candidates,
}

impl Decision {
    /// `sha256:` of the record's JSON: the hash cited in the audit log.
    pub fn digest(&self) -> String {
        let bytes = serde_json::to_vec(self).expect("a decision serializes");
        format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
    }

    /// Whether the request was placed.
    pub fn is_placed(&self) -> bool {
        self.outcome == Outcome::Placed
    }
}

/// The request a decision is about.
#[derive(Debug, Clone, Serialize)]
pub struct RequestRef {
    /// The request's name.
    pub name: String,
    /// Its tenant.
    pub tenant: String,
    /// The declared sensitivity.
    pub sensitivity: Sensitivity,
    /// `sha256:` of the request's canonical JSON.
    pub digest: String,
}

/// The policy a decision applied.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRef {
    /// Policy id.
    pub id: String,
    /// Policy version.
    pub version: String,
    /// `sha256:` of the policy.
    pub digest: String,
}

/// The catalogue a decision searched.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueRef {
    /// `sha256:` of the catalogue.
    pub digest: String,
    /// How many offers it holds.
    pub offers: usize,
}

/// Placed or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// An offer was chosen.
    Placed,
    /// No offer is allowed.
    Refused,
}

/// Where a placed request goes.
#[derive(Debug, Clone, Serialize)]
pub struct Placement {
    /// The chosen offer.
    pub offer: String,
    /// Its name.
    pub offer_name: String,
    /// Its operator.
    pub operator: String,
    /// Its tier.
    pub tier: Tier,
    /// The chosen region (the offer's first region that every location rule allows).
    pub region: String,
    /// The region's country.
    pub country: CountryCode,
    /// The adapter and provider instance that will provision it.
    pub binding: ProviderBinding,
    /// The estimated monthly cost, line by line.
    pub cost: CostEstimate,
}

/// An estimated monthly cost.
#[derive(Debug, Clone, Serialize)]
pub struct CostEstimate {
    /// Always `EUR`, excluding VAT.
    pub currency: &'static str,
    /// Hours counted in a month.
    pub hours_per_month: i64,
    /// One line per server group and per storage item.
    pub lines: Vec<CostLine>,
    /// The sum of the lines.
    pub monthly_total: Money,
    /// Whether the offer's prices are estimates rather than published list prices.
    pub estimate: bool,
}

impl CostEstimate {
    pub(crate) fn new(lines: Vec<CostLine>, estimate: bool) -> CostEstimate {
        let monthly_total = lines.iter().fold(Money::ZERO, |acc, l| acc + l.monthly);
        CostEstimate {
            currency: "EUR",
            hours_per_month: HOURS_PER_MONTH,
            lines,
            monthly_total,
            estimate,
        }
    }
}

/// One line of a cost estimate.
#[derive(Debug, Clone, Serialize)]
pub struct CostLine {
    /// What is billed (`server web`, `volume data`, `volumes of server db`).
    pub item: String,
    /// How it is billed (`flavor b3-8`, `2 vCPU at 4 GiB/vCPU`, `100 GiB`).
    pub basis: String,
    /// Instances or GiB.
    pub quantity: u64,
    /// Price per instance-hour or per GiB-month.
    pub unit_price: Money,
    /// `hour` or `GiB-month`.
    pub unit: &'static str,
    /// The line's monthly amount.
    pub monthly: Money,
}

/// A point to review about the chosen offer.
#[derive(Debug, Clone, Serialize)]
pub struct Advisory {
    /// The soft rule behind it, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// What to review.
    pub message: String,
}

/// Why no offer is allowed, tier by tier.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// One sentence.
    pub summary: String,
    /// For each tier, the rules that eliminated its offers.
    pub tiers: Vec<TierFailure>,
}

/// Why one tier failed.
#[derive(Debug, Clone, Serialize)]
pub struct TierFailure {
    /// The tier.
    pub tier: Tier,
    /// How many offers of the catalogue are in it.
    pub offers: usize,
    /// The rules that eliminated them, most frequent first.
    pub reasons: Vec<ReasonCount>,
}

/// A rule and how many offers of a tier it eliminated.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    /// The rule.
    pub rule: String,
    /// The stage that applied it.
    pub stage: Stage,
    /// How many offers it eliminated.
    pub offers: usize,
    /// The explanation for the first of them.
    pub example: String,
}

/// The placement stages, in the order they filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Checks on the request itself (classified, homologation).
    Request,
    /// Sensitivity → allowed tiers.
    Tier,
    /// Required qualifications (SecNumCloud, HDS, DR).
    Qualification,
    /// Data location and jurisdiction.
    Location,
    /// Qualifications valid on the decision date.
    Validity,
    /// Kinds of service, images and sizes.
    Services,
    /// Offer capacity and tenant quota.
    Capacity,
    /// Request and tenant budget.
    Budget,
}

impl Stage {
    /// How many stages there are.
    pub(crate) const COUNT: usize = 8;

    /// The stage's name as written in records.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Request => "request",
            Stage::Tier => "tier",
            Stage::Qualification => "qualification",
            Stage::Location => "location",
            Stage::Validity => "validity",
            Stage::Services => "services",
            Stage::Capacity => "capacity",
            Stage::Budget => "budget",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an offer was eliminated.
#[derive(Debug, Clone, Copy)]
pub struct Elimination {
    /// The stage.
    pub stage: Stage,
    /// The rule cited (resolve it with [`Candidate::rule`]).
    pub rule: RuleIdx,
    /// The facts compared.
    pub mismatch: Mismatch,
}
