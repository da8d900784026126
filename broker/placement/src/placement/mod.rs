//! Placement: every offer through the hard filters, survivors ranked by estimated monthly cost,
//! and a [`Decision`] that explains the outcome for every offer.
//!
//! Deterministic: the catalogue is sorted by offer id, ties are broken by tier (internal first),
//! then by EU control (EU first), then by offer id, and the decision date is an input.

mod cost;
pub mod decision;
mod filter;
mod rank;

use crate::catalogue::Catalogue;
use crate::money::Money;
use crate::policy::{Policy, RuleIdx, system_rules};
use crate::request::ServiceRequest;
use crate::vocabulary::Tier;
use chrono::{DateTime, Utc};
use decision::{
    Advisory, Candidates, CatalogueRef, DECISION_API_VERSION, Decision, Elimination, Mismatch,
    Outcome, Placement, PolicyRef, ReasonCount, Refusal, RequestRef, Row, Stage, TierFailure,
    Verdict,
};
use filter::Prepared;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// What placement needs besides the request, catalogue and policy.
#[derive(Debug, Clone)]
pub struct PlacementContext {
    /// The decision date: qualifications must be valid on it, and the record carries it.
    pub at: DateTime<Utc>,
    /// The tenant's remaining quotas and budget, when the caller enforces them.
    pub tenant: Option<TenantLimits>,
}

impl PlacementContext {
    /// A context at `at` with no tenant limits.
    pub fn at(at: DateTime<Utc>) -> PlacementContext {
        PlacementContext { at, tenant: None }
    }
}

/// What a tenant may still consume; `None` is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TenantLimits {
    /// vCPUs left.
    pub vcpus: Option<u64>,
    /// RAM left, GiB.
    pub ram_gib: Option<u64>,
    /// Block storage left, GiB.
    pub storage_gib: Option<u64>,
    /// Monthly budget left.
    pub monthly_budget: Option<Money>,
}

/// The policy's rule ids for the fixed filters, resolved once per placement.
pub(crate) struct SystemRules {
    pub(crate) qualification_valid: RuleIdx,
    pub(crate) location_request: RuleIdx,
    pub(crate) technology_request: RuleIdx,
    pub(crate) service_kinds: RuleIdx,
    pub(crate) capacity: RuleIdx,
    pub(crate) tenant_quota: RuleIdx,
    pub(crate) budget: RuleIdx,
}

impl SystemRules {
    fn of(policy: &Policy) -> SystemRules {
        SystemRules {
            qualification_valid: policy.system_rule(system_rules::QUALIFICATION_VALID),
            location_request: policy.system_rule(system_rules::LOCATION_REQUEST),
            technology_request: policy.system_rule(system_rules::TECHNOLOGY_REQUEST),
            service_kinds: policy.system_rule(system_rules::SERVICE_KINDS),
            capacity: policy.system_rule(system_rules::CAPACITY),
            tenant_quota: policy.system_rule(system_rules::TENANT_QUOTA),
            budget: policy.system_rule(system_rules::BUDGET),
        }
    }
}

/// Places a validated request: the same inputs always give the same decision.
pub fn place(
    request: &ServiceRequest,
    catalogue: &Catalogue,
    policy: &Policy,
    ctx: &PlacementContext,
) -> Decision {
    let level = policy.level(request.sensitivity.level);
    let rules = SystemRules::of(policy);
    let prepared = Prepared {
        request,
        level,
        rules: &rules,
        ctx,
        eu: policy.eu(),
        totals: request.totals(),
        kinds: request.service_kinds(),
        kind_bits: request
            .service_kinds()
            .into_iter()
            .fold(0, |acc, k| acc | crate::catalogue::facts::service_bit(k)),
        date: ctx.at.date_naive(),
        flavors: catalogue.flavor_table(),
    };
    let refused_upfront = request_refusal(&prepared);

    let offers = catalogue.offers();
    let facts = catalogue.facts();
    let mut survivors: Vec<rank::Survivor> = Vec::new();
    // Eliminated offers, bucketed by stage so the record lists the furthest stage first
    // without sorting: each bucket is filled in index (= offer id) order.
    let mut eliminated: [Vec<(usize, Elimination)>; Stage::COUNT] = Default::default();
    for (i, offer) in offers.iter().enumerate() {
        let e = match &refused_upfront {
            Some(e) => *e,
            None => match filter::evaluate(&prepared, &facts[i], offer) {
                Ok((cost, _)) => {
                    survivors.push(rank::Survivor { cost, index: i });
                    continue;
                }
                Err(e) => e,
            },
        };
        eliminated[e.stage as usize].push((i, e));
    }
    let ranked = rank::rank(&survivors, facts);
    let servers: decision::Servers = request
        .resources
        .servers
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                format!("{} {}", s.image.os, s.image.version),
            )
        })
        .collect();

    let best = ranked.first().map(|r| r.0).unwrap_or(Money::ZERO);
    let mut rows = Vec::with_capacity(offers.len());
    for (rank, (cost, i)) in ranked.iter().enumerate() {
        rows.push(Row {
            offer: *i as u32,
            verdict: Verdict::Ranked {
                rank: rank + 1,
                monthly: *cost,
                delta: *cost - best,
            },
        });
    }
    for bucket in eliminated.iter().rev() {
        rows.extend(bucket.iter().map(|(i, e)| Row {
            offer: *i as u32,
            verdict: Verdict::Eliminated(*e),
        }));
    }
    let refusal = ranked
        .is_empty()
        .then(|| refusal(request, catalogue, &rows, policy, &servers));
    let candidates = Candidates {
        rows,
        catalogue: catalogue.clone(),
        policy: policy.clone(),
        servers,
    };

    let (placement, advisories) = match ranked.first() {
        Some(&(_, i)) => {
            let offer = &offers[i];
            let region = filter::evaluate(&prepared, &facts[i], offer).map_or(0, |(_, r)| r);
            let r = &offer.regions[region];
            let placement = Placement {
                offer: offer.id.clone(),
                offer_name: offer.name.clone(),
                operator: offer.operator.clone(),
                tier: offer.tier,
                region: r.id.clone(),
                country: r.country,
                binding: offer.binding.clone(),
                cost: cost::estimate(offer, request),
            };
            (
                Some(placement),
                advisories(&prepared, policy, offer, region),
            )
        }
        None => (None, Vec::new()),
    };

    Decision {
        api_version: DECISION_API_VERSION,
        decided_at: ctx.at,
        request: RequestRef {
            name: request.name.clone(),
            tenant: request.tenant.clone(),
            sensitivity: request.sensitivity.level,
            digest: request_digest(request),
        },
        policy: PolicyRef {
            id: policy.id().to_string(),
            version: policy.version().to_string(),
            digest: policy.digest().to_string(),
        },
        catalogue: CatalogueRef {
            digest: catalogue.digest().to_string(),
            offers: offers.len(),
        },
        outcome: if placement.is_some() {
            Outcome::Placed
        } else {
            Outcome::Refused
        },
        placement,
        refusal,
        advisories,
        candidates,
    }
}

/// `sha256:` of a request's canonical JSON.
pub fn request_digest(request: &ServiceRequest) -> String {
    let bytes = serde_json::to_vec(request).expect("a request serializes");
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}

/// A refusal that concerns the request itself, whatever the offer.
fn request_refusal(p: &Prepared<'_>) -> Option<Elimination> {
    if let Some(rule) = &p.level.refused_by {
        return Some(Elimination {
            stage: Stage::Request,
            rule: *rule,
            mismatch: Mismatch::LevelRefused(p.request.sensitivity.level),
        });
    }
    let blank = p
        .request
        .sensitivity
        .homologation_ref
        .as_deref()
        .is_none_or(|s| s.trim().is_empty());
    p.level
        .on_request
        .iter()
        .find(|_| blank)
        .map(|r| Elimination {
            stage: Stage::Request,
            rule: r.rule,
            mismatch: Mismatch::MissingHomologation,
        })
}

fn advisories(
    p: &Prepared<'_>,
    policy: &Policy,
    offer: &crate::catalogue::Offer,
    region: usize,
) -> Vec<Advisory> {
    let mut out = Vec::new();
    for r in p.level.advises.iter().filter(|r| r.applies_to(offer.tier)) {
        if filter::soft_check_holds(r, offer, region) {
            continue;
        }
        let rule = p.request.sensitivity.level;
        let title = match r.check {
            crate::policy::Check::NoNonEuControl => format!(
                "review: the provider is controlled from outside the EU (seat {}{}) and holds `{rule}` data",
                offer.jurisdiction.seat,
                if offer.jurisdiction.exposure.is_empty() {
                    String::new()
                } else {
                    format!(", exposed to {}", offer.jurisdiction.exposure.join(", "))
                }
            ),
            crate::policy::Check::LocationIn => format!(
                "review: region {} ({}) is outside the preferred country group",
                offer.regions[region].id, offer.regions[region].country
            ),
            other => format!("review: the chosen offer fails the soft check {other:?}"),
        };
        out.push(Advisory {
            rule: Some(policy.rule_id(r.rule).to_string()),
            message: title,
        });
    }
    if offer.pricing.estimate {
        out.push(Advisory {
            rule: None,
            message: format!(
                "the prices of {} are estimates, not published list prices",
                offer.id
            ),
        });
    }
    if let Some(a) = &offer.availability {
        out.push(Advisory {
            rule: None,
            message: format!("availability of {} is {a}", offer.id),
        });
    }
    out
}

fn refusal(
    request: &ServiceRequest,
    catalogue: &Catalogue,
    rows: &[Row],
    policy: &Policy,
    servers: &[(String, String)],
) -> Refusal {
    let offers = catalogue.offers();
    let level = request.sensitivity.level;
    let mut tiers = Vec::new();
    for tier in Tier::ALL {
        let mut reasons: BTreeMap<(Stage, RuleIdx), (usize, String)> = BTreeMap::new();
        let mut count = 0;
        for row in rows {
            let offer = &offers[row.offer as usize];
            let Verdict::Eliminated(e) = &row.verdict else {
                continue;
            };
            if offer.tier != tier {
                continue;
            }
            count += 1;
            reasons
                .entry((e.stage, e.rule))
                .or_insert_with(|| {
                    let why = e.mismatch.explain(offer, policy, servers).reason;
                    (0, format!("{}: {why}", offer.id))
                })
                .0 += 1;
        }
        let mut reasons: Vec<ReasonCount> = reasons
            .into_iter()
            .map(|((stage, rule), (offers, example))| ReasonCount {
                rule: policy.rule_id(rule).to_string(),
                stage,
                offers,
                example,
            })
            .collect();
        reasons.sort_by(|a, b| b.offers.cmp(&a.offers).then(a.stage.cmp(&b.stage)));
        tiers.push(TierFailure {
            tier,
            offers: count,
            reasons,
        });
    }
    let summary = match policy.level(level).refused_by {
        Some(rule) => format!(
            "`{level}` data is refused by {}: it may go to no cloud",
            policy.rule_id(rule)
        ),
        None if offers.is_empty() => "the catalogue has no offer".to_string(),
        None => format!(
            "no offer of the catalogue may take this `{level}` request: see why each tier failed"
        ),
    };
    Refusal { summary, tiers }
}
