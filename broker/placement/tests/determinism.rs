//! Same inputs, same record; and the shipped examples and schemas stay true.

mod common;

use common::*;
use nuage_placement::{Catalogue, Outcome, PlacementContext, Policy, ServiceRequest, place};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn example(name: &str) -> ServiceRequest {
    let text = std::fs::read_to_string(repo().join("examples/requests").join(name)).unwrap();
    ServiceRequest::from_yaml(&text).unwrap()
}

#[test]
fn same_inputs_give_byte_identical_records() {
    let req = example("sensitive.yaml");
    let ctx = PlacementContext::at(at("2026-11-29"));
    let a = place(&req, &Catalogue::example(), &Policy::default_policy(), &ctx);
    let b = place(&req, &Catalogue::example(), &Policy::default_policy(), &ctx);
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn file_order_does_not_change_the_decision() {
    let files = Catalogue::example_files();
    let reversed: Vec<_> = files.iter().rev().copied().collect();
    let other = Catalogue::from_sources(reversed).unwrap();
    assert_eq!(other.digest(), Catalogue::example().digest());
    let req = example("public.yaml");
    let ctx = PlacementContext::at(at("2026-11-29"));
    let a = place(&req, &Catalogue::example(), &Policy::default_policy(), &ctx);
    let b = place(&req, &other, &Policy::default_policy(), &ctx);
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn the_record_cites_its_inputs() {
    let req = example("health.yaml");
    let ctx = PlacementContext::at(at("2026-11-29"));
    let d = place(&req, &Catalogue::example(), &Policy::default_policy(), &ctx);
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["api_version"], "nuage.decision/v1");
    assert_eq!(json["decided_at"], "2026-11-29T00:00:00Z");
    assert_eq!(json["policy"]["id"], "nuage-default");
    assert_eq!(json["policy"]["version"], "2026.11");
    assert_eq!(json["catalogue"]["digest"], Catalogue::example().digest());
    assert_eq!(
        json["request"]["digest"],
        nuage_placement::request_digest(&req)
    );
    // A later decision date is a different input and a different record.
    let later = place(
        &req,
        &Catalogue::example(),
        &Policy::default_policy(),
        &PlacementContext::at(at("2026-11-30")),
    );
    assert_ne!(later.digest(), d.digest());
}

#[test]
fn every_example_request_plans_as_documented() {
    let expected = [
        ("public.yaml", Outcome::Placed),
        ("internal.yaml", Outcome::Placed),
        ("personal.yaml", Outcome::Placed),
        ("health.yaml", Outcome::Placed),
        ("sensitive.yaml", Outcome::Placed),
        ("restricted.yaml", Outcome::Placed),
        ("classified.yaml", Outcome::Refused),
    ];
    let ctx = PlacementContext::at(at("2026-11-29"));
    for (file, outcome) in expected {
        let d = place(
            &example(file),
            &Catalogue::example(),
            &Policy::default_policy(),
            &ctx,
        );
        assert_eq!(d.outcome, outcome, "{file}");
    }
    let levels = std::fs::read_dir(repo().join("examples/requests"))
        .unwrap()
        .count();
    assert_eq!(levels, expected.len(), "one example per sensitivity level");
}

/// The checked-in schemas are what the code generates (`scripts/generate` rewrites them).
#[test]
fn checked_in_schemas_match_the_code() {
    for (file, schema) in [
        (
            "request.v1.json",
            nuage_placement::request::request_schema(),
        ),
        ("offer.v1.json", nuage_placement::catalogue::offer_schema()),
        ("policy.v1.json", nuage_placement::policy::policy_schema()),
    ] {
        let path = repo().join("docs/schema").join(file);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        let generated = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        assert!(
            on_disk == generated,
            "{} is stale: run scripts/generate",
            path.display()
        );
    }
}
