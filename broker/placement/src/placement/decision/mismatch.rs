//! The facts that eliminated an offer, and their explanation in words and values.

use crate::catalogue::{Offer, QualificationStatus};
use crate::country::CountryCode;
use crate::money::Money;
use crate::policy::{GroupIdx, Policy};
use crate::vocabulary::{Sensitivity, ServiceKind, Tier, TierSet};
use chrono::NaiveDate;
use serde_json::{Value, json};

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
