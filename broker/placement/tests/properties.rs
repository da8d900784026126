//! Property tests: for thousands of generated requests, against the example catalogue and
//! random catalogues, placement never breaks the doctrine's table and always picks the cheapest
//! allowed offer. The oracle below re-implements the table directly, without the policy engine.

mod common;

use chrono::{Months, NaiveDate};
use common::*;
use nuage_placement::catalogue::{Capacity, Flavor, QualificationStatus, Region};
use nuage_placement::placement::decision::Verdict;
use nuage_placement::request::ApiVersion;
use nuage_placement::request::{
    Budget, ImageRef, LocationConstraint, Resources, SensitivityDeclaration, ServerRequest,
    ServerVolume, VolumeRequest,
};
use nuage_placement::{
    Catalogue, Money, Offer, PlacementContext, Policy, Sensitivity, ServiceRequest, Tier, place,
};
use proptest::prelude::*;

const EU: [&str; 27] = [
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
];
const ADEQUATE_NON_EU: [&str; 17] = [
    "IS", "LI", "NO", "AD", "AR", "CA", "FO", "GG", "IL", "IM", "JP", "JE", "NZ", "KR", "CH", "GB",
    "UY",
];
const COUNTRIES: [&str; 8] = ["FR", "DE", "PL", "GB", "CH", "US", "IN", "NL"];

fn in_eu(c: &str) -> bool {
    EU.contains(&c)
}

fn adequate(c: &str) -> bool {
    in_eu(c) || ADEQUATE_NON_EU.contains(&c)
}

/// The doctrine's table, written out independently of the policy file.
fn oracle_allows(o: &Offer, r: &ServiceRequest, date: NaiveDate, region: &Region) -> bool {
    let country = region.country.as_str();
    let snc_valid = o.secnumcloud.status == QualificationStatus::Qualified
        && o.secnumcloud.since.is_none_or(|s| s <= date)
        && o.secnumcloud.expires().is_some_and(|u| u >= date);
    let hds_valid = o.hds.certified && o.hds.valid_until.is_none_or(|u| u >= date);
    let level_ok = match r.sensitivity.level {
        Sensitivity::Public | Sensitivity::Internal => true,
        Sensitivity::Personal => adequate(country),
        Sensitivity::Health => hds_valid && in_eu(country),
        Sensitivity::Sensitive => {
            o.tier != Tier::External
                && (o.tier == Tier::Internal || snc_valid)
                && in_eu(country)
                && !o.jurisdiction.non_eu_control
        }
        Sensitivity::Restricted => {
            r.sensitivity.homologation_ref.is_some()
                && match o.tier {
                    Tier::Internal => o.dr_capable,
                    Tier::Dedicated => snc_valid,
                    Tier::External => false,
                }
                && in_eu(country)
                && !o.jurisdiction.non_eu_control
        }
        Sensitivity::Classified => false,
    };
    let loc = &r.location;
    let location_ok = (loc.countries.is_empty() || loc.countries.contains(&region.country))
        && (!loc.eu_only || in_eu(country));
    let tech_ok = !(r.exclude_non_eu_technology && o.jurisdiction.technology_dependency_non_eu);
    level_ok && location_ok && tech_ok
}

/// The monthly cost, computed naively; `None` when a server fits no flavor.
fn oracle_cost(o: &Offer, r: &ServiceRequest) -> Option<i64> {
    let mut micros: i64 = 0;
    for s in &r.resources.servers {
        let hourly = match (o.pricing.vcpu_hour, o.pricing.ram_gib_per_vcpu) {
            (Some(p), Some(ratio)) => {
                let units = s.vcpus.max(s.ram_gib.div_ceil(ratio));
                p.micros() * i64::from(units)
            }
            _ => o
                .pricing
                .flavors
                .iter()
                .filter(|f| f.vcpus >= s.vcpus && f.ram_gib >= s.ram_gib)
                .map(|f| f.hour.micros())
                .min()?,
        };
        micros += hourly * 730 * i64::from(s.count);
    }
    let storage = r.totals().storage_gib as i64;
    micros += storage * o.pricing.block_gib_month.map_or(0, Money::micros);
    Some(micros)
}

fn fits(o: &Offer, r: &ServiceRequest) -> bool {
    let t = r.totals();
    let c = o.capacity;
    c.servers.is_none_or(|x| t.servers <= x)
        && c.vcpus.is_none_or(|x| t.vcpus <= x)
        && c.ram_gib.is_none_or(|x| t.ram_gib <= x)
        && c.storage_gib.is_none_or(|x| t.storage_gib <= x)
}

/// The cheapest cost among offers the oracle allows.
fn oracle_best(cat: &Catalogue, r: &ServiceRequest, date: NaiveDate) -> Option<i64> {
    cat.offers()
        .iter()
        .filter(|o| o.regions.iter().any(|reg| oracle_allows(o, r, date, reg)))
        .filter(|o| fits(o, r))
        .filter_map(|o| oracle_cost(o, r))
        .filter(|c| r.budget.is_none_or(|b| *c <= b.monthly_eur.micros()))
        .min()
}

fn check(cat: &Catalogue, r: &ServiceRequest, date: NaiveDate) -> Result<(), TestCaseError> {
    let at = date.and_hms_opt(12, 0, 0).unwrap().and_utc();
    let d = place(r, cat, &Policy::default_policy(), &PlacementContext::at(at));
    prop_assert_eq!(d.candidates.len(), cat.offers().len());
    let best = oracle_best(cat, r, date);
    match &d.placement {
        None => prop_assert!(
            best.is_none(),
            "refused but the oracle allows an offer costing {:?}",
            best
        ),
        Some(p) => {
            let o = cat.get(&p.offer).unwrap();
            let region = o.regions.iter().find(|x| x.id == p.region).unwrap();
            prop_assert!(
                oracle_allows(o, r, date, region),
                "{} in {} breaks the table for {:?}",
                p.offer,
                p.region,
                r.sensitivity.level
            );
            prop_assert_ne!(r.sensitivity.level, Sensitivity::Classified);
            if matches!(
                r.sensitivity.level,
                Sensitivity::Sensitive | Sensitivity::Restricted
            ) {
                prop_assert_ne!(o.tier, Tier::External);
                if o.tier != Tier::Internal {
                    prop_assert_eq!(o.secnumcloud.status, QualificationStatus::Qualified);
                    prop_assert!(o.secnumcloud.expires().unwrap() >= date);
                }
            }
            if r.sensitivity.level == Sensitivity::Health {
                prop_assert!(o.hds.certified);
            }
            prop_assert_eq!(
                Some(p.cost.monthly_total.micros()),
                best,
                "not the cheapest allowed offer"
            );
            prop_assert_eq!(Some(p.cost.monthly_total.micros()), oracle_cost(o, r));
            for c in d.candidates.iter() {
                if let Verdict::Ranked { monthly, .. } = c.verdict {
                    prop_assert!(*monthly >= p.cost.monthly_total);
                }
            }
        }
    }
    Ok(())
}

fn level() -> impl Strategy<Value = Sensitivity> {
    prop::sample::select(Sensitivity::ALL.to_vec())
}

fn country() -> impl Strategy<Value = &'static str> {
    prop::sample::select(COUNTRIES.to_vec())
}

fn server() -> impl Strategy<Value = ServerRequest> {
    (1u32..=16, 1u32..=64, 1u32..=4, prop::option::of(1u32..=500)).prop_map(|(v, r, n, vol)| {
        ServerRequest {
            name: "s".into(),
            vcpus: v,
            ram_gib: r,
            image: ImageRef {
                os: "debian".into(),
                version: "12".into(),
            },
            count: n,
            volumes: vol
                .map(|g| ServerVolume {
                    name: "d".into(),
                    size_gib: g,
                })
                .into_iter()
                .collect(),
            networks: Vec::new(),
        }
    })
}

fn request() -> impl Strategy<Value = ServiceRequest> {
    (
        level(),
        prop::collection::vec(server(), 1..3),
        prop::option::of(1u32..2000),
        prop::option::of(10u32..5000),
        prop::collection::vec(country(), 0..2),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(level, mut servers, vol, budget, countries, eu_only, no_tech, homologated)| {
                for (i, s) in servers.iter_mut().enumerate() {
                    s.name = format!("s{i}");
                }
                let mut countries: Vec<_> = countries.into_iter().map(cc).collect();
                countries.dedup();
                ServiceRequest {
                    api_version: ApiVersion::V1,
                    name: "p".into(),
                    tenant: "t".into(),
                    description: None,
                    sensitivity: SensitivityDeclaration {
                        level,
                        justification: Some("generated".into()),
                        declared_by: Some("prop@test".into()),
                        homologation_ref: homologated.then(|| "II901-X".into()),
                    },
                    location: LocationConstraint {
                        countries,
                        regions: Vec::new(),
                        eu_only,
                    },
                    exclude_non_eu_technology: no_tech,
                    budget: budget.map(|b| Budget {
                        monthly_eur: eur(f64::from(b)),
                    }),
                    resources: Resources {
                        networks: Vec::new(),
                        volumes: vol
                            .map(|g| VolumeRequest {
                                name: "v".into(),
                                size_gib: g,
                                attach_to: None,
                            })
                            .into_iter()
                            .collect(),
                        servers,
                    },
                }
            },
        )
}

fn random_offer() -> impl Strategy<Value = Offer> {
    (
        prop::sample::select(Tier::ALL.to_vec()),
        prop::sample::select(vec![
            QualificationStatus::None,
            QualificationStatus::J0,
            QualificationStatus::J2,
            QualificationStatus::Qualified,
        ]),
        0u32..96,
        (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        prop::collection::vec(country(), 1..4),
        (1u32..200, prop::option::of(1u32..16), any::<bool>()),
        prop::option::of(1u64..200),
    )
        .prop_map(
            |(
                tier,
                status,
                since_months,
                (hds, non_eu, tech, dr),
                countries,
                (price, ratio, flavors),
                cap,
            )| {
                let mut o = offer("x", tier);
                o.secnumcloud.status = status;
                if status == QualificationStatus::Qualified {
                    o.secnumcloud.since = NaiveDate::from_ymd_opt(2020, 1, 1)
                        .unwrap()
                        .checked_add_months(Months::new(since_months));
                }
                o.hds.certified = hds;
                o.jurisdiction.non_eu_control = non_eu;
                o.jurisdiction.technology_dependency_non_eu = tech;
                o.dr_capable = dr;
                o.regions = countries
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Region {
                        id: format!("r{i}"),
                        country: cc(c),
                    })
                    .collect();
                let hour = eur(f64::from(price) / 1000.0);
                if flavors {
                    o.pricing.vcpu_hour = None;
                    o.pricing.ram_gib_per_vcpu = None;
                    o.pricing.flavors = (0..4)
                        .map(|k| Flavor {
                            name: format!("f{k}"),
                            vcpus: 2 << k,
                            ram_gib: 8 << k,
                            hour: hour.times(1 << k),
                        })
                        .collect();
                } else {
                    o.pricing.vcpu_hour = Some(hour);
                    o.pricing.ram_gib_per_vcpu = Some(ratio.unwrap_or(4));
                }
                o.capacity = Capacity {
                    vcpus: cap,
                    ..Capacity::default()
                };
                o
            },
        )
}

fn random_catalogue() -> impl Strategy<Value = Catalogue> {
    prop::collection::vec(random_offer(), 0..24).prop_map(|mut offers| {
        for (i, o) in offers.iter_mut().enumerate() {
            o.id = format!("o{i:02}");
        }
        Catalogue::from_offers(offers).unwrap()
    })
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0u32..96).prop_map(|m| {
        NaiveDate::from_ymd_opt(2021, 1, 15)
            .unwrap()
            .checked_add_months(Months::new(m))
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn example_catalogue_respects_the_table(r in request(), d in date()) {
        check(&Catalogue::example(), &r, d)?;
    }

    #[test]
    fn random_catalogues_respect_the_table(cat in random_catalogue(), r in request(), d in date()) {
        check(&cat, &r, d)?;
    }
}
