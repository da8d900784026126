//! The decision record: what was chosen, what it costs, and why every other offer lost.

use crate::catalogue::{Catalogue, Offer, ProviderBinding, QualificationStatus};
use crate::country::CountryCode;
use crate::money::{HOURS_PER_MONTH, Money};
use crate::policy::{GroupIdx, Policy, RuleIdx};
use crate::vocabulary::{Sensitivity, ServiceKind, Tier, TierSet};
use chrono::{DateTime, NaiveDate, Utc};
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Value, json};
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

/// The facts that eliminated an offer, kept typed and `Copy` (cheap to build and drop for ten
/// thousand offers) and explained on demand.
#[derive(Debug, Clone, Copy)]
pub enum Mismatch {
    /// The sensitivity level is always refused.
    LevelRefused(Sensitivity),
    /// The request lacks its II 901 homologation reference.
    MissingHomologation,
    /// The offer's tier is not allowed for the level.
    TierNotAllowed {
        /// The level.
        level: Sensitivity,
        /// The allowed tiers.
        allowed: TierSet,
    },
    /// SecNumCloud status is not `qualified`.
    NotQualified(QualificationStatus),
    /// Not HDS certified.
    NotHds,
    /// Not allowed to host DR systems.
    NotDrCapable,
    /// No region in the required country group.
    OutsideGroup {
        /// The group.
        group: GroupIdx,
        /// The offer's regions still considered, one bit per region.
        regions: u64,
    },
    /// A non-EU entity controls the provider.
    NonEuControl,
    /// Built on non-EU technology.
    NonEuTechnology,
    /// No region meets the request's own location constraints.
    OutsideRequestedLocation {
        /// The offer's regions still considered, one bit per region.
        regions: u64,
    },
    /// A qualification or certification is expired (or not yet valid) on the decision date.
    NotValidOn {
        /// `secnumcloud` or `hds`.
        what: &'static str,
        /// First day of validity, if known.
        from: Option<NaiveDate>,
        /// Last day of validity.
        until: Option<NaiveDate>,
        /// The decision date.
        on: NaiveDate,
    },
    /// A kind of resource is not provided.
    KindUnsupported(ServiceKind),
    /// An image is not provided.
    ImageUnavailable {
        /// The server group's index in the request.
        server: u16,
    },
    /// No flavor is big enough.
    NoFlavor {
        /// The server group's index in the request.
        server: u16,
        /// vCPUs asked.
        vcpus: u32,
        /// RAM asked.
        ram_gib: u32,
    },
    /// Not enough capacity on the offer.
    Capacity {
        /// `servers`, `vcpus`, `ram_gib` or `storage_gib`.
        resource: &'static str,
        /// Asked.
        requested: u64,
        /// Available.
        available: u64,
    },
    /// Above the tenant's quota.
    Quota {
        /// `vcpus`, `ram_gib` or `storage_gib`.
        resource: &'static str,
        /// Asked.
        requested: u64,
        /// Remaining quota.
        remaining: u64,
    },
    /// Above a budget.
    OverBudget {
        /// `request` or `tenant`.
        whose: &'static str,
        /// The estimated monthly cost.
        monthly: Money,
        /// The budget.
        budget: Money,
    },
}

/// A mismatch in words and values.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The attribute compared.
    pub attribute: &'static str,
    /// What the rule requires.
    pub required: Value,
    /// What the offer (or request) has.
    pub actual: Value,
    /// One sentence.
    pub reason: String,
}

impl Mismatch {
    /// The mismatch in words and values, for the offer it eliminated under `policy`.
    pub(crate) fn explain(
        &self,
        offer: &Offer,
        policy: &Policy,
        servers: &[(String, String)],
    ) -> Explanation {
        let server = |i: &u16| {
            servers
                .get(usize::from(*i))
                .cloned()
                .unwrap_or_else(|| ("?".into(), "?".into()))
        };
        let kept = |mask: u64| {
            offer
                .regions
                .iter()
                .enumerate()
                .filter(move |(i, _)| mask & (1 << i) != 0)
                .map(|(_, r)| r)
        };
        let x = |attribute, required, actual, reason: String| Explanation {
            attribute,
            required,
            actual,
            reason,
        };
        match self {
            Mismatch::LevelRefused(level) => x(
                "sensitivity",
                json!("a level the policy does not refuse"),
                json!(level),
                format!("`{level}` data is outside every cloud"),
            ),
            Mismatch::MissingHomologation => x(
                "sensitivity.homologation_ref",
                json!("the system's II 901 homologation reference"),
                Value::Null,
                "the request does not give its II 901 homologation reference".into(),
            ),
            Mismatch::TierNotAllowed { level, allowed } => x(
                "tier",
                json!(allowed),
                Value::Null,
                format!(
                    "`{level}` data may go only to {}",
                    allowed
                        .iter()
                        .map(Tier::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            Mismatch::NotQualified(status) => x(
                "secnumcloud.status",
                json!(QualificationStatus::Qualified),
                json!(status),
                format!("SecNumCloud status is {}, not qualified", json!(status)),
            ),
            Mismatch::NotHds => x(
                "hds.certified",
                json!(true),
                json!(false),
                "not HDS certified".into(),
            ),
            Mismatch::NotDrCapable => x(
                "dr_capable",
                json!(true),
                json!(false),
                "not allowed to host Diffusion Restreinte systems".into(),
            ),
            Mismatch::OutsideGroup { group, regions } => {
                let group = policy.group_name(*group);
                let mut countries: Vec<CountryCode> = kept(*regions).map(|r| r.country).collect();
                countries.dedup();
                x(
                    "regions.country",
                    json!(format!("a country of group `{group}`")),
                    json!(countries),
                    format!(
                        "no region in a country of `{group}` (regions in {})",
                        countries
                            .iter()
                            .map(CountryCode::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            }
            Mismatch::NonEuControl => x(
                "jurisdiction.non_eu_control",
                json!(false),
                json!(true),
                format!(
                    "controlled from outside the EU (seat {}): exposed to extra-EU law",
                    offer.jurisdiction.seat
                ),
            ),
            Mismatch::NonEuTechnology => x(
                "jurisdiction.technology_dependency_non_eu",
                json!(false),
                json!(true),
                "built on technology controlled from outside the EU".into(),
            ),
            Mismatch::OutsideRequestedLocation { regions } => x(
                "regions",
                json!("a region the request's location constraints allow"),
                json!(kept(*regions).map(|r| r.id.as_str()).collect::<Vec<_>>()),
                "no region meets the request's location constraints".into(),
            ),
            Mismatch::NotValidOn {
                what,
                from,
                until,
                on,
            } => x(
                if *what == "hds" {
                    "hds.valid_until"
                } else {
                    "secnumcloud.valid_until"
                },
                json!(format!("valid on {on}")),
                json!({ "from": from, "until": until }),
                match (from, until) {
                    (Some(f), _) if f > on => format!("{what} is valid only from {f}"),
                    (_, Some(u)) => format!("{what} expired on {u}"),
                    _ => format!("{what} validity unknown"),
                },
            ),
            Mismatch::KindUnsupported(kind) => x(
                "services",
                json!(kind),
                Value::Null,
                format!("does not provide {kind}s"),
            ),
            Mismatch::ImageUnavailable { server: i } => {
                let (server, image) = server(i);
                x(
                    "images",
                    json!(image),
                    Value::Null,
                    format!("no {image} image for server {server}"),
                )
            }
            Mismatch::NoFlavor {
                server: i,
                vcpus,
                ram_gib,
            } => x(
                "pricing.flavors",
                json!({ "vcpus": vcpus, "ram_gib": ram_gib }),
                Value::Null,
                format!(
                    "no flavor with {vcpus} vCPU and {ram_gib} GiB for server {}",
                    server(i).0
                ),
            ),
            Mismatch::Capacity {
                resource,
                requested,
                available,
            } => x(
                "capacity",
                json!({ *resource: requested }),
                json!({ *resource: available }),
                format!("needs {requested} {resource}, {available} available"),
            ),
            Mismatch::Quota {
                resource,
                requested,
                remaining,
            } => x(
                "tenant.quota",
                json!({ *resource: requested }),
                json!({ *resource: remaining }),
                format!("needs {requested} {resource}, the tenant has {remaining} left"),
            ),
            Mismatch::OverBudget {
                whose,
                monthly,
                budget,
            } => x(
                "monthly_cost",
                json!({ "at_most": budget }),
                json!(monthly),
                format!("costs {monthly}/month, over the {whose} budget of {budget}"),
            ),
        }
    }
}
