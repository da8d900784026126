//! The hard filters, in the documented order: tier, qualifications, location and jurisdiction,
//! validity on the decision date, services, capacity and quota, budget. The first failure
//! eliminates the offer and is recorded with its rule and the facts compared.

use super::decision::{Elimination, Mismatch, Stage};
use super::{PlacementContext, SystemRules};
use crate::catalogue::{Offer, QualificationStatus};
use crate::money::Money;
use crate::policy::{Check, CompiledLevel, CompiledReq};
use crate::request::{ServiceRequest, Totals};
use crate::vocabulary::ServiceKind;
use chrono::NaiveDate;
use std::sync::Arc;

/// What the filters need about the request, computed once per placement.
pub(crate) struct Prepared<'a> {
    pub(crate) request: &'a ServiceRequest,
    pub(crate) level: &'a CompiledLevel,
    pub(crate) rules: &'a SystemRules,
    pub(crate) ctx: &'a PlacementContext,
    pub(crate) eu: &'a crate::country::CountrySet,
    pub(crate) totals: Totals,
    pub(crate) kinds: Vec<ServiceKind>,
    pub(crate) date: NaiveDate,
}

fn out(stage: Stage, rule: &Arc<str>, mismatch: Mismatch) -> Elimination {
    Elimination {
        stage,
        rule: rule.clone(),
        mismatch,
    }
}

/// Regions still allowed, one bit per region of the offer (at most 64, as the schema says).
fn all_regions(offer: &Offer) -> u64 {
    match offer.regions.len() {
        64.. => u64::MAX,
        n => (1u64 << n) - 1,
    }
}

fn regions_in(offer: &Offer, mask: u64) -> impl Iterator<Item = &crate::catalogue::Region> {
    offer
        .regions
        .iter()
        .enumerate()
        .filter(move |(i, _)| mask & (1 << i) != 0)
        .map(|(_, r)| r)
}

/// Runs every filter; on success, the estimated monthly cost and the chosen region's index.
pub(crate) fn evaluate(p: &Prepared<'_>, offer: &Offer) -> Result<(Money, usize), Elimination> {
    let level = p.level;
    // 1. Sensitivity → tiers.
    if !level.tiers.contains(offer.tier) {
        return Err(out(
            Stage::Tier,
            &level.tier_rule,
            Mismatch::TierNotAllowed {
                level: p.request.sensitivity.level,
                allowed: level.tiers,
            },
        ));
    }
    // 2. Required qualifications.
    for r in level
        .qualification
        .iter()
        .filter(|r| r.applies_to(offer.tier))
    {
        let failed = match r.check {
            Check::SecnumcloudQualified
                if offer.secnumcloud.status != QualificationStatus::Qualified =>
            {
                Some(Mismatch::NotQualified(offer.secnumcloud.status))
            }
            Check::HdsCertified if !offer.hds.certified => Some(Mismatch::NotHds),
            Check::DrCapable if !offer.dr_capable => Some(Mismatch::NotDrCapable),
            _ => None,
        };
        if let Some(m) = failed {
            return Err(out(Stage::Qualification, &r.rule, m));
        }
    }
    // 3. Location and jurisdiction: the policy's, then the request's own.
    let mut mask = all_regions(offer);
    for r in level.location.iter().filter(|r| r.applies_to(offer.tier)) {
        mask = location_check(r, offer, mask)?;
    }
    mask = requested_location(p, offer, mask)?;
    if p.request.exclude_non_eu_technology && offer.jurisdiction.technology_dependency_non_eu {
        return Err(out(
            Stage::Location,
            &p.rules.technology_request,
            Mismatch::NonEuTechnology,
        ));
    }
    // 4. Qualifications valid on the decision date.
    for r in level
        .qualification
        .iter()
        .filter(|r| r.applies_to(offer.tier))
    {
        let (what, from, until) = match r.check {
            Check::SecnumcloudQualified => (
                "secnumcloud",
                offer.secnumcloud.since,
                offer.secnumcloud.expires(),
            ),
            Check::HdsCertified => ("hds", None, offer.hds.valid_until),
            _ => continue,
        };
        let early = from.is_some_and(|f| f > p.date);
        let late = until.is_some_and(|u| u < p.date);
        let unknown = what == "secnumcloud" && until.is_none();
        if early || late || unknown {
            return Err(out(
                Stage::Validity,
                &p.rules.qualification_valid,
                Mismatch::NotValidOn {
                    what,
                    from,
                    until,
                    on: p.date,
                },
            ));
        }
    }
    // 5. Services, images, sizes (sizing prices the request).
    for kind in &p.kinds {
        if !offer.services.contains(kind) {
            return Err(out(
                Stage::Services,
                &p.rules.service_kinds,
                Mismatch::KindUnsupported(*kind),
            ));
        }
    }
    if !offer.images.is_empty() {
        for s in &p.request.resources.servers {
            if !offer.images.contains(&s.image) {
                return Err(out(
                    Stage::Services,
                    &p.rules.service_kinds,
                    Mismatch::ImageUnavailable {
                        server: s.name.clone(),
                        image: format!("{} {}", s.image.os, s.image.version),
                    },
                ));
            }
        }
    }
    let cost = super::cost::monthly_total(offer, p.request, p.totals.storage_gib)
        .map_err(|m| out(Stage::Services, &p.rules.service_kinds, m))?;
    // 6. Offer capacity, then tenant quota.
    let t = p.totals;
    let c = offer.capacity;
    for (resource, requested, available) in [
        ("servers", t.servers, c.servers),
        ("vcpus", t.vcpus, c.vcpus),
        ("ram_gib", t.ram_gib, c.ram_gib),
        ("storage_gib", t.storage_gib, c.storage_gib),
    ] {
        if let Some(available) = available
            && requested > available
        {
            return Err(out(
                Stage::Capacity,
                &p.rules.capacity,
                Mismatch::Capacity {
                    resource,
                    requested,
                    available,
                },
            ));
        }
    }
    if let Some(q) = &p.ctx.tenant {
        for (resource, requested, remaining) in [
            ("vcpus", t.vcpus, q.vcpus),
            ("ram_gib", t.ram_gib, q.ram_gib),
            ("storage_gib", t.storage_gib, q.storage_gib),
        ] {
            if let Some(remaining) = remaining
                && requested > remaining
            {
                return Err(out(
                    Stage::Capacity,
                    &p.rules.tenant_quota,
                    Mismatch::Quota {
                        resource,
                        requested,
                        remaining,
                    },
                ));
            }
        }
    }
    // 7. Budgets.
    if let Some(b) = p.request.budget
        && cost > b.monthly_eur
    {
        return Err(out(
            Stage::Budget,
            &p.rules.budget,
            Mismatch::OverBudget {
                whose: "request",
                monthly: cost,
                budget: b.monthly_eur,
            },
        ));
    }
    if let Some(budget) = p.ctx.tenant.as_ref().and_then(|q| q.monthly_budget)
        && cost > budget
    {
        return Err(out(
            Stage::Budget,
            &p.rules.budget,
            Mismatch::OverBudget {
                whose: "tenant",
                monthly: cost,
                budget,
            },
        ));
    }
    Ok((cost, mask.trailing_zeros() as usize))
}

/// Applies one policy location/jurisdiction requirement; returns the regions still allowed.
fn location_check(r: &CompiledReq, offer: &Offer, mask: u64) -> Result<u64, Elimination> {
    match r.check {
        Check::LocationIn => {
            let Some((name, group)) = &r.group else {
                return Ok(mask);
            };
            let mut kept = mask;
            for (i, region) in offer.regions.iter().enumerate() {
                if kept & (1 << i) != 0 && !group.contains(region.country) {
                    kept &= !(1 << i);
                }
            }
            if kept == 0 {
                let mut countries: Vec<_> = regions_in(offer, mask).map(|r| r.country).collect();
                countries.dedup();
                return Err(out(
                    Stage::Location,
                    &r.rule,
                    Mismatch::OutsideGroup {
                        group: name.clone(),
                        countries,
                    },
                ));
            }
            Ok(kept)
        }
        Check::NoNonEuControl if offer.jurisdiction.non_eu_control => Err(out(
            Stage::Location,
            &r.rule,
            Mismatch::NonEuControl {
                seat: offer.jurisdiction.seat,
            },
        )),
        Check::NoNonEuTechnology if offer.jurisdiction.technology_dependency_non_eu => {
            Err(out(Stage::Location, &r.rule, Mismatch::NonEuTechnology))
        }
        _ => Ok(mask),
    }
}

/// Applies the request's own countries / regions / EU-only constraints.
fn requested_location(p: &Prepared<'_>, offer: &Offer, mask: u64) -> Result<u64, Elimination> {
    let loc = &p.request.location;
    if loc.is_empty() {
        return Ok(mask);
    }
    let mut kept = mask;
    for (i, region) in offer.regions.iter().enumerate() {
        let ok = (loc.countries.is_empty() || loc.countries.contains(&region.country))
            && (loc.regions.is_empty() || loc.regions.iter().any(|r| r == &region.id))
            && (!loc.eu_only || p.eu.contains(region.country));
        if !ok {
            kept &= !(1 << i);
        }
    }
    if kept == 0 {
        return Err(out(
            Stage::Location,
            &p.rules.location_request,
            Mismatch::OutsideRequestedLocation {
                regions: regions_in(offer, mask).map(|r| r.id.clone()).collect(),
            },
        ));
    }
    Ok(kept)
}

/// Whether a soft requirement holds for the chosen offer and region.
pub(crate) fn soft_check_holds(r: &CompiledReq, offer: &Offer, region: usize) -> bool {
    match r.check {
        Check::SecnumcloudQualified => offer.secnumcloud.status == QualificationStatus::Qualified,
        Check::HdsCertified => offer.hds.certified,
        Check::DrCapable => offer.dr_capable,
        Check::LocationIn => r
            .group
            .as_ref()
            .is_none_or(|(_, g)| g.contains(offer.regions[region].country)),
        Check::NoNonEuControl => !offer.jurisdiction.non_eu_control,
        Check::NoNonEuTechnology => !offer.jurisdiction.technology_dependency_non_eu,
        Check::HomologationReference => true,
    }
}
