//! The hard filters, in the documented order: tier, qualifications, location and jurisdiction,
//! validity on the decision date, services, capacity and quota, budget. The first failure
//! eliminates the offer and is recorded with its rule and the facts compared.
//!
//! Filters read the packed [`Facts`] of each offer; the full offer is read only for what is rare
//! or big (images, flavors, more than eight regions, requested region names, capacity).

use super::decision::{Elimination, Mismatch, Stage};
use super::{PlacementContext, SystemRules};
use crate::catalogue::facts::{Facts, service_bit};
use crate::catalogue::{Offer, QualificationStatus};
use crate::country::CountrySet;
use crate::money::Money;
use crate::policy::{Check, CompiledLevel, CompiledReq, RuleIdx};
use crate::request::{ServiceRequest, Totals};
use crate::vocabulary::ServiceKind;
use chrono::NaiveDate;

/// What the filters need about the request, computed once per placement.
pub(crate) struct Prepared<'a> {
    pub(crate) request: &'a ServiceRequest,
    pub(crate) level: &'a CompiledLevel,
    pub(crate) rules: &'a SystemRules,
    pub(crate) ctx: &'a PlacementContext,
    pub(crate) eu: &'a CountrySet,
    pub(crate) totals: Totals,
    pub(crate) kinds: Vec<ServiceKind>,
    pub(crate) kind_bits: u8,
    pub(crate) flavors: &'a [crate::catalogue::facts::PackedFlavor],
    pub(crate) date: NaiveDate,
}

fn out(stage: Stage, rule: RuleIdx, mismatch: Mismatch) -> Elimination {
    Elimination {
        stage,
        rule,
        mismatch,
    }
}

/// Regions still allowed, one bit per region of the offer (at most 64, as the schema says).
fn all_regions(f: &Facts) -> u64 {
    match f.regions {
        64.. => u64::MAX,
        n => (1u64 << n) - 1,
    }
}

/// Runs every filter; on success, the estimated monthly cost and the chosen region's index.
pub(crate) fn evaluate(
    p: &Prepared<'_>,
    f: &Facts,
    offer: &Offer,
) -> Result<(Money, usize), Elimination> {
    let level = p.level;
    // 1. Sensitivity → tiers.
    if !level.tiers.contains(f.tier) {
        return Err(out(
            Stage::Tier,
            level.tier_rule,
            Mismatch::TierNotAllowed {
                level: p.request.sensitivity.level,
                allowed: level.tiers,
            },
        ));
    }
    // 2. Required qualifications.
    for r in level.qualification.iter().filter(|r| r.applies_to(f.tier)) {
        let failed = match r.check {
            Check::SecnumcloudQualified if f.snc != QualificationStatus::Qualified => {
                Some(Mismatch::NotQualified(f.snc))
            }
            Check::HdsCertified if !f.hds => Some(Mismatch::NotHds),
            Check::DrCapable if !f.dr => Some(Mismatch::NotDrCapable),
            _ => None,
        };
        if let Some(m) = failed {
            return Err(out(Stage::Qualification, r.rule, m));
        }
    }
    // 3. Location and jurisdiction: the policy's, then the request's own.
    let mut mask = all_regions(f);
    for r in level.location.iter().filter(|r| r.applies_to(f.tier)) {
        mask = location_check(r, f, offer, mask)?;
    }
    mask = requested_location(p, f, offer, mask)?;
    if p.request.exclude_non_eu_technology && f.non_eu_technology {
        return Err(out(
            Stage::Location,
            p.rules.technology_request,
            Mismatch::NonEuTechnology,
        ));
    }
    // 4. Qualifications valid on the decision date.
    for r in level.qualification.iter().filter(|r| r.applies_to(f.tier)) {
        let (what, from, until) = match r.check {
            Check::SecnumcloudQualified => ("secnumcloud", f.snc_from, f.snc_until),
            Check::HdsCertified => ("hds", None, f.hds_until),
            _ => continue,
        };
        let early = from.is_some_and(|d| d > p.date);
        let late = until.is_some_and(|d| d < p.date);
        let unknown = what == "secnumcloud" && until.is_none();
        if early || late || unknown {
            return Err(out(
                Stage::Validity,
                p.rules.qualification_valid,
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
    if f.services & p.kind_bits != p.kind_bits {
        let kind = p.kinds.iter().find(|k| f.services & service_bit(**k) == 0);
        let kind = *kind.expect("a missing kind exists");
        return Err(out(
            Stage::Services,
            p.rules.service_kinds,
            Mismatch::KindUnsupported(kind),
        ));
    }
    if f.has_images {
        missing_image(p, offer)?;
    }
    let cost = super::cost::monthly_total(f, p.flavors, p.request, p.totals.storage_gib)
        .map_err(|m| out(Stage::Services, p.rules.service_kinds, m))?;
    // 6. Offer capacity, then tenant quota.
    let t = p.totals;
    let wanted = [t.servers, t.vcpus, t.ram_gib, t.storage_gib];
    if let Some(k) = (0..4).find(|&k| wanted[k] > f.capacity[k]) {
        return Err(out(
            Stage::Capacity,
            p.rules.capacity,
            Mismatch::Capacity {
                resource: ["servers", "vcpus", "ram_gib", "storage_gib"][k],
                requested: wanted[k],
                available: f.capacity[k],
            },
        ));
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
                    p.rules.tenant_quota,
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
            p.rules.budget,
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
            p.rules.budget,
            Mismatch::OverBudget {
                whose: "tenant",
                monthly: cost,
                budget,
            },
        ));
    }
    Ok((cost, mask.trailing_zeros() as usize))
}

/// The first server group whose image the offer does not provide. Out of line: the hot loop
/// never touches the offer itself.
#[cold]
#[inline(never)]
fn missing_image(p: &Prepared<'_>, offer: &Offer) -> Result<(), Elimination> {
    for (i, s) in p.request.resources.servers.iter().enumerate() {
        if !offer.images.contains(&s.image) {
            return Err(out(
                Stage::Services,
                p.rules.service_kinds,
                Mismatch::ImageUnavailable { server: i as u16 },
            ));
        }
    }
    Ok(())
}

/// Applies one policy location/jurisdiction requirement; returns the regions still allowed.
fn location_check(
    r: &CompiledReq,
    f: &Facts,
    offer: &Offer,
    mask: u64,
) -> Result<u64, Elimination> {
    match r.check {
        Check::LocationIn => {
            let Some((name, group)) = &r.group else {
                return Ok(mask);
            };
            let mut kept = mask;
            for i in 0..usize::from(f.regions) {
                if kept & (1 << i) != 0 && !group.contains(f.country(offer, i)) {
                    kept &= !(1 << i);
                }
            }
            if kept == 0 {
                return Err(out(
                    Stage::Location,
                    r.rule,
                    Mismatch::OutsideGroup {
                        group: *name,
                        regions: mask,
                    },
                ));
            }
            Ok(kept)
        }
        Check::NoNonEuControl if f.non_eu_control => {
            Err(out(Stage::Location, r.rule, Mismatch::NonEuControl))
        }
        Check::NoNonEuTechnology if f.non_eu_technology => {
            Err(out(Stage::Location, r.rule, Mismatch::NonEuTechnology))
        }
        _ => Ok(mask),
    }
}

/// Applies the request's own countries / regions / EU-only constraints.
fn requested_location(
    p: &Prepared<'_>,
    f: &Facts,
    offer: &Offer,
    mask: u64,
) -> Result<u64, Elimination> {
    if p.request.location.is_empty() {
        return Ok(mask);
    }
    constrain_location(p, f, offer, mask)
}

#[cold]
#[inline(never)]
fn constrain_location(
    p: &Prepared<'_>,
    f: &Facts,
    offer: &Offer,
    mask: u64,
) -> Result<u64, Elimination> {
    let loc = &p.request.location;
    let mut kept = mask;
    for i in 0..usize::from(f.regions) {
        let country = f.country(offer, i);
        let ok = (loc.countries.is_empty() || loc.countries.contains(&country))
            && (loc.regions.is_empty() || loc.regions.iter().any(|r| *r == offer.regions[i].id))
            && (!loc.eu_only || p.eu.contains(country));
        if !ok {
            kept &= !(1 << i);
        }
    }
    if kept == 0 {
        return Err(out(
            Stage::Location,
            p.rules.location_request,
            Mismatch::OutsideRequestedLocation { regions: mask },
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
