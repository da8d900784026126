//! One test per placement rule: each eliminates exactly the offer that breaks it, cites its id,
//! and records the values compared.

mod common;

use common::*;
use nuage_placement::catalogue::{Capacity, Flavor, Region};
use nuage_placement::placement::decision::Verdict;
use nuage_placement::{
    Decision, Outcome, PlacementContext, Policy, ServiceRequest, Stage, TenantLimits, Tier, place,
};
use serde_json::Value;

fn plan(request: &ServiceRequest, offers: Vec<nuage_placement::Offer>) -> Decision {
    place(
        request,
        &catalogue(offers),
        &Policy::default_policy(),
        &PlacementContext::at(at("2026-11-29")),
    )
}

/// The elimination of `offer`: (stage, rule, JSON of the candidate).
fn eliminated(d: &Decision, offer: &str) -> (Stage, String, Value) {
    let c = d.candidates.get(offer).expect("offer listed");
    let Verdict::Eliminated(e) = c.verdict else {
        panic!("{offer} was not eliminated: {c:?}")
    };
    (
        e.stage,
        c.rule().unwrap().to_string(),
        serde_json::to_value(c).unwrap(),
    )
}

fn chosen(d: &Decision) -> &str {
    &d.placement.as_ref().expect("placed").offer
}

#[test]
fn classified_is_refused_before_any_offer() {
    let d = plan(
        &request("classified"),
        vec![offer("a", Tier::Internal), offer("b", Tier::External)],
    );
    assert_eq!(d.outcome, Outcome::Refused);
    for id in ["a", "b"] {
        let (stage, rule, _) = eliminated(&d, id);
        assert_eq!((stage, rule.as_str()), (Stage::Request, "R-CLASSIFIED"));
    }
    assert!(d.refusal.unwrap().summary.contains("R-CLASSIFIED"));
}

#[test]
fn sensitive_never_goes_external() {
    let cheap_external = priced(qualified(offer("ext", Tier::External), "2025-01-01"), 0.001);
    let d = plan(
        &request("sensitive"),
        vec![cheap_external, offer("int", Tier::Internal)],
    );
    assert_eq!(chosen(&d), "int");
    let (stage, rule, json) = eliminated(&d, "ext");
    assert_eq!((stage, rule.as_str()), (Stage::Tier, "R-TIER-SENSITIVE"));
    assert_eq!(json["attribute"], "tier");
    assert_eq!(
        json["required"],
        serde_json::json!(["internal", "dedicated"])
    );
}

#[test]
fn sensitive_on_dedicated_needs_secnumcloud_qualified() {
    let mut j2 = priced(offer("j2", Tier::Dedicated), 0.001);
    j2.secnumcloud.status = nuage_placement::catalogue::QualificationStatus::J2;
    let good = qualified(offer("snc", Tier::Dedicated), "2025-01-01");
    let d = plan(&request("sensitive"), vec![j2, good]);
    assert_eq!(chosen(&d), "snc");
    let (stage, rule, json) = eliminated(&d, "j2");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Qualification, "R-SNC-QUALIFIED")
    );
    assert_eq!(json["actual"], "J2");
    assert_eq!(json["required"], "qualified");
}

#[test]
fn internal_tier_is_exempt_from_secnumcloud() {
    let d = plan(&request("sensitive"), vec![offer("int", Tier::Internal)]);
    assert_eq!(chosen(&d), "int");
}

#[test]
fn expired_qualification_is_refused_on_the_decision_date() {
    // Qualified on 2023-01-01: valid three years, until 2026-01-01.
    let old = priced(
        qualified(offer("old", Tier::Dedicated), "2023-01-01"),
        0.001,
    );
    let fresh = qualified(offer("fresh", Tier::Dedicated), "2025-06-01");
    let req = request("sensitive");
    let cat = catalogue(vec![old.clone(), fresh]);
    let policy = Policy::default_policy();
    let before = place(&req, &cat, &policy, &PlacementContext::at(at("2025-12-31")));
    assert_eq!(chosen(&before), "old", "still valid the day before expiry");
    let after = place(&req, &cat, &policy, &PlacementContext::at(at("2026-01-02")));
    assert_eq!(chosen(&after), "fresh");
    let (stage, rule, json) = eliminated(&after, "old");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Validity, "R-QUALIFICATION-VALID")
    );
    assert_eq!(json["actual"]["until"], "2026-01-01");
    // Not yet qualified on a date before `since`.
    let early = place(
        &req,
        &catalogue(vec![old]),
        &policy,
        &PlacementContext::at(at("2022-06-01")),
    );
    assert_eq!(early.outcome, Outcome::Refused);
    assert_eq!(eliminated(&early, "old").0, Stage::Validity);
}

#[test]
fn sensitive_refuses_non_eu_control_even_when_qualified() {
    let mut us = priced(qualified(offer("us", Tier::Dedicated), "2025-01-01"), 0.001);
    us.jurisdiction.non_eu_control = true;
    us.jurisdiction.seat = cc("US");
    let d = plan(
        &request("sensitive"),
        vec![us, offer("int", Tier::Internal)],
    );
    let (stage, rule, _) = eliminated(&d, "us");
    assert_eq!((stage, rule.as_str()), (Stage::Location, "R-SNC-IMMUNITY"));
}

#[test]
fn sensitive_needs_an_eu_region_and_picks_it() {
    let mut split = qualified(offer("split", Tier::Dedicated), "2025-01-01");
    split.regions = vec![
        Region {
            id: "ch-1".into(),
            country: cc("CH"),
        },
        Region {
            id: "de-1".into(),
            country: cc("DE"),
        },
    ];
    let mut swiss = qualified(offer("swiss", Tier::Dedicated), "2025-01-01");
    swiss.regions = vec![Region {
        id: "ch-1".into(),
        country: cc("CH"),
    }];
    let d = plan(&request("sensitive"), vec![split, swiss]);
    let p = d.placement.as_ref().unwrap();
    assert_eq!((p.offer.as_str(), p.region.as_str()), ("split", "de-1"));
    let (stage, rule, json) = eliminated(&d, "swiss");
    assert_eq!((stage, rule.as_str()), (Stage::Location, "R-EU-LOCATION"));
    assert_eq!(json["actual"], serde_json::json!(["CH"]));
}

#[test]
fn health_needs_hds() {
    let mut hds = offer("hds", Tier::External);
    hds.hds.certified = true;
    let cheap = priced(offer("cheap", Tier::External), 0.001);
    let d = plan(&request("health"), vec![hds, cheap]);
    assert_eq!(chosen(&d), "hds");
    let (stage, rule, _) = eliminated(&d, "cheap");
    assert_eq!((stage, rule.as_str()), (Stage::Qualification, "R-HDS"));
}

#[test]
fn expired_hds_certificate_is_refused() {
    let mut hds = offer("hds", Tier::External);
    hds.hds.certified = true;
    hds.hds.valid_until = Some(day("2026-01-01"));
    let d = plan(&request("health"), vec![hds]);
    let (stage, rule, _) = eliminated(&d, "hds");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Validity, "R-QUALIFICATION-VALID")
    );
}

#[test]
fn personal_data_stays_in_adequate_countries_and_flags_non_eu_control() {
    let mut us_region = priced(offer("us-region", Tier::External), 0.001);
    us_region.regions = vec![Region {
        id: "us-east-1".into(),
        country: cc("US"),
    }];
    let mut us_owned = offer("us-owned", Tier::External);
    us_owned.jurisdiction.non_eu_control = true;
    us_owned.jurisdiction.exposure = vec!["CLOUD Act".into()];
    let d = plan(&request("personal"), vec![us_region, us_owned]);
    assert_eq!(
        chosen(&d),
        "us-owned",
        "non-EU control is a review flag for personal data"
    );
    let (stage, rule, _) = eliminated(&d, "us-region");
    assert_eq!((stage, rule.as_str()), (Stage::Location, "R-GDPR-TRANSFER"));
    let review = d
        .advisories
        .iter()
        .find(|a| a.rule.as_deref() == Some("R-PERSONAL-REVIEW"));
    assert!(review.expect("flagged").message.contains("CLOUD Act"));
}

#[test]
fn restricted_needs_homologation_reference() {
    let yaml = request_yaml("restricted", "").replace("\n  homologation_ref: II901-T-1", "");
    let req = ServiceRequest::from_yaml(&yaml).unwrap();
    let mut pi = offer("pi", Tier::Internal);
    pi.dr_capable = true;
    let d = plan(&req, vec![pi]);
    let (stage, rule, _) = eliminated(&d, "pi");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Request, "R-DR-HOMOLOGATION")
    );
}

#[test]
fn restricted_on_internal_needs_dr_capable() {
    let plain = priced(offer("plain", Tier::Internal), 0.001);
    let mut pi = offer("pi", Tier::Internal);
    pi.dr_capable = true;
    let d = plan(&request("restricted"), vec![plain, pi]);
    assert_eq!(chosen(&d), "pi");
    let (stage, rule, _) = eliminated(&d, "plain");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Qualification, "R-DR-CAPABLE")
    );
}

#[test]
fn request_location_constraints_filter_regions() {
    let mut multi = offer("multi", Tier::External);
    multi.regions = vec![
        Region {
            id: "fr-1".into(),
            country: cc("FR"),
        },
        Region {
            id: "de-1".into(),
            country: cc("DE"),
        },
        Region {
            id: "uk-1".into(),
            country: cc("GB"),
        },
    ];
    let mut uk_only = priced(offer("uk-only", Tier::External), 0.001);
    uk_only.regions = vec![Region {
        id: "uk-1".into(),
        country: cc("GB"),
    }];
    let yaml = request_yaml(
        "public",
        "location:\n  countries: [DE, GB]\n  eu_only: true",
    );
    let d = plan(
        &ServiceRequest::from_yaml(&yaml).unwrap(),
        vec![multi, uk_only],
    );
    assert_eq!(d.placement.as_ref().unwrap().region, "de-1");
    let (stage, rule, _) = eliminated(&d, "uk-only");
    assert_eq!(
        (stage, rule.as_str()),
        (Stage::Location, "R-LOCATION-REQUEST")
    );
}

#[test]
fn non_eu_technology_excluded_on_request() {
    let mut s3ns = priced(
        qualified(offer("s3ns", Tier::Dedicated), "2025-12-17"),
        0.001,
    );
    s3ns.jurisdiction.technology_dependency_non_eu = true;
    let other = qualified(offer("other", Tier::Dedicated), "2025-01-01");
    let req = ServiceRequest::from_yaml(&request_yaml(
        "sensitive",
        "exclude_non_eu_technology: true",
    ))
    .unwrap();
    let d = plan(&req, vec![s3ns.clone(), other.clone()]);
    assert_eq!(chosen(&d), "other");
    assert_eq!(eliminated(&d, "s3ns").1, "R-TECHNOLOGY-REQUEST");
    // Without the flag the qualified non-EU-technology offer is allowed (and cheaper).
    assert_eq!(
        chosen(&plan(&request("sensitive"), vec![s3ns, other])),
        "s3ns"
    );
}

#[test]
fn service_kinds_images_and_flavors() {
    let mut no_volumes = priced(offer("no-volumes", Tier::External), 0.001);
    no_volumes.services = vec![
        nuage_placement::ServiceKind::Server,
        nuage_placement::ServiceKind::Network,
    ];
    no_volumes.pricing.block_gib_month = None;
    let mut no_debian = priced(offer("no-debian", Tier::External), 0.002);
    no_debian.images = vec![nuage_placement::request::ImageRef {
        os: "rocky".into(),
        version: "9".into(),
    }];
    let mut small = priced(offer("small", Tier::External), 0.003);
    small.pricing.vcpu_hour = None;
    small.pricing.ram_gib_per_vcpu = None;
    small.pricing.flavors = vec![Flavor {
        name: "tiny".into(),
        vcpus: 1,
        ram_gib: 2,
        hour: eur(0.001),
    }];
    let yaml = request_yaml("public", "").replace(
        "image: {os: debian, version: \"12\"}}",
        "image: {os: debian, version: \"12\"}, volumes: [{name: d, size_gib: 10}]}",
    );
    let req = ServiceRequest::from_yaml(&yaml).unwrap();
    let d = plan(
        &req,
        vec![no_volumes, no_debian, small, offer("ok", Tier::External)],
    );
    assert_eq!(chosen(&d), "ok");
    for (id, attribute) in [
        ("no-volumes", "services"),
        ("no-debian", "images"),
        ("small", "pricing.flavors"),
    ] {
        let (stage, rule, json) = eliminated(&d, id);
        assert_eq!(
            (stage, rule.as_str()),
            (Stage::Services, "R-SERVICE-KINDS"),
            "{id}"
        );
        assert_eq!(json["attribute"], attribute, "{id}");
    }
}

#[test]
fn offer_capacity_and_tenant_quota() {
    let mut full = priced(offer("full", Tier::External), 0.001);
    full.capacity = Capacity {
        vcpus: Some(1),
        ..Capacity::default()
    };
    let ok = offer("ok", Tier::External);
    let req = request("public");
    let d = plan(&req, vec![full.clone(), ok.clone()]);
    assert_eq!(chosen(&d), "ok");
    let (stage, rule, json) = eliminated(&d, "full");
    assert_eq!((stage, rule.as_str()), (Stage::Capacity, "R-CAPACITY"));
    assert_eq!(json["actual"]["vcpus"], 1);

    let ctx = PlacementContext {
        at: at("2026-11-29"),
        tenant: Some(TenantLimits {
            ram_gib: Some(4),
            ..TenantLimits::default()
        }),
    };
    let d = place(&req, &catalogue(vec![ok]), &Policy::default_policy(), &ctx);
    assert_eq!(d.outcome, Outcome::Refused);
    let (stage, rule, json) = eliminated(&d, "ok");
    assert_eq!((stage, rule.as_str()), (Stage::Capacity, "R-TENANT-QUOTA"));
    assert_eq!(json["required"]["ram_gib"], 8);
}

#[test]
fn budgets_of_request_and_tenant() {
    // 2 vCPU x 0.05 EUR x 730 h = 73 EUR/month.
    let req =
        ServiceRequest::from_yaml(&request_yaml("public", "budget: {monthly_eur: 72.99}")).unwrap();
    let d = plan(&req, vec![offer("o", Tier::External)]);
    let (stage, rule, json) = eliminated(&d, "o");
    assert_eq!((stage, rule.as_str()), (Stage::Budget, "R-BUDGET"));
    assert_eq!(json["actual"], 73.0);
    let req =
        ServiceRequest::from_yaml(&request_yaml("public", "budget: {monthly_eur: 73}")).unwrap();
    assert_eq!(chosen(&plan(&req, vec![offer("o", Tier::External)])), "o");

    let ctx = PlacementContext {
        at: at("2026-11-29"),
        tenant: Some(TenantLimits {
            monthly_budget: Some(eur(50.0)),
            ..TenantLimits::default()
        }),
    };
    let d = place(
        &request("public"),
        &catalogue(vec![offer("o", Tier::External)]),
        &Policy::default_policy(),
        &ctx,
    );
    assert!(
        eliminated(&d, "o").2["reason"]
            .as_str()
            .unwrap()
            .contains("tenant budget")
    );
}

#[test]
fn cheapest_wins_and_ties_prefer_internal_then_eu_then_id() {
    let d = plan(
        &request("public"),
        vec![
            offer("z-ext", Tier::External),
            offer("b-int", Tier::Internal),
            offer("a-int", Tier::Internal),
        ],
    );
    let order: Vec<_> = d.candidates.iter().map(|c| c.offer.id.clone()).collect();
    assert_eq!(order, ["a-int", "b-int", "z-ext"]);

    let mut us = offer("a-us", Tier::External);
    us.jurisdiction.non_eu_control = true;
    let d = plan(&request("public"), vec![us, offer("b-eu", Tier::External)]);
    assert_eq!(chosen(&d), "b-eu");

    let d = plan(
        &request("public"),
        vec![
            offer("int", Tier::Internal),
            priced(offer("ext", Tier::External), 0.04),
        ],
    );
    assert_eq!(chosen(&d), "ext", "cost comes before the tier preference");
    let Verdict::Ranked { rank, delta, .. } = d.candidates.iter().nth(1).unwrap().verdict else {
        panic!()
    };
    assert_eq!((*rank, delta.euros()), (2, 14.6));
}

#[test]
fn ram_beyond_the_included_ratio_is_billed_as_vcpus() {
    // 2 vCPU with 16 GiB at 4 GiB/vCPU: billed as 4 vCPU-equivalents.
    let yaml = request_yaml("public", "").replace("ram_gib: 8", "ram_gib: 16");
    let d = plan(
        &ServiceRequest::from_yaml(&yaml).unwrap(),
        vec![offer("o", Tier::External)],
    );
    let cost = &d.placement.unwrap().cost;
    assert_eq!(cost.monthly_total, eur(4.0 * 0.05 * 730.0));
    assert!(cost.lines[0].basis.starts_with("4 vCPU"));
}

#[test]
fn refusal_lists_why_each_tier_failed() {
    let mut j0 = offer("bleu", Tier::Dedicated);
    j0.secnumcloud.status = nuage_placement::catalogue::QualificationStatus::J0;
    let d = plan(
        &request("sensitive"),
        vec![j0, offer("ext", Tier::External)],
    );
    let r = d.refusal.expect("refused");
    let by_tier: Vec<_> = r
        .tiers
        .iter()
        .map(|t| {
            (
                t.tier,
                t.offers,
                t.reasons.first().map(|x| x.rule.to_string()),
            )
        })
        .collect();
    assert_eq!(
        by_tier,
        [
            (Tier::Internal, 0, None),
            (Tier::Dedicated, 1, Some("R-SNC-QUALIFIED".into())),
            (Tier::External, 1, Some("R-TIER-SENSITIVE".into())),
        ]
    );
}
