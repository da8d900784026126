//! Bad input is refused with every bad field named by path, and yields nothing.

mod common;

use common::*;
use nuage_placement::{Catalogue, Error, FieldError, Policy, ServiceRequest};

fn request_errors(yaml: &str) -> Vec<FieldError> {
    match ServiceRequest::from_yaml(yaml) {
        Err(Error::InvalidRequest(errors)) => errors,
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn every_unknown_field_is_named() {
    let yaml = request_yaml("public", "colour: blue").replace("vcpus: 2,", "vcpus: 2, gpus: 1,");
    let errors = request_errors(&yaml);
    assert_eq!(paths(&errors), ["colour", "resources.servers[0].gpus"]);
    assert!(errors.iter().all(|e| e.message == "unknown field"));
}

#[test]
fn negative_zero_and_absurd_sizes_are_all_reported() {
    let yaml = "api_version: nuage/v1\nname: t\ntenant: a\nsensitivity: {level: public}\nresources:\n  servers:\n    - {name: s, vcpus: -2, ram_gib: 0, count: 5000, image: {os: debian, version: '12'}}\n  volumes:\n    - {name: v, size_gib: 1000000}\n";
    let errors = request_errors(yaml);
    let mut p = paths(&errors);
    p.sort();
    p.dedup();
    assert_eq!(
        p,
        [
            "resources.servers[0].count",
            "resources.servers[0].ram_gib",
            "resources.servers[0].vcpus",
            "resources.volumes[0].size_gib"
        ]
    );
}

#[test]
fn justification_and_declarant_required_from_personal_up() {
    for level in [
        "personal",
        "health",
        "sensitive",
        "restricted",
        "classified",
    ] {
        let yaml = format!(
            "api_version: nuage/v1\nname: t\ntenant: a\nsensitivity: {{level: {level}, justification: '  '}}\nresources:\n  networks: [{{name: n}}]\n"
        );
        let errors = request_errors(&yaml);
        assert_eq!(
            paths(&errors),
            ["sensitivity.justification", "sensitivity.declared_by"],
            "{level}"
        );
    }
    for level in ["public", "internal"] {
        let yaml = format!(
            "api_version: nuage/v1\nname: t\ntenant: a\nsensitivity: {{level: {level}}}\nresources:\n  networks: [{{name: n}}]\n"
        );
        ServiceRequest::from_yaml(&yaml).unwrap();
    }
}

#[test]
fn unknown_sensitivity_and_missing_fields() {
    let errors = request_errors("api_version: nuage/v1\nname: t\nsensitivity: {level: secret}\n");
    let p = paths(&errors);
    assert!(p.contains(&"tenant"), "{errors:?}");
    assert!(p.contains(&"resources"), "{errors:?}");
    assert!(p.contains(&"sensitivity.level"), "{errors:?}");
}

#[test]
fn wrong_version_is_named() {
    let yaml = request_yaml("public", "").replace("nuage/v1", "nuage/v9");
    let errors = request_errors(&yaml);
    assert_eq!(paths(&errors), ["api_version"]);
    assert!(errors[0].message.contains("nuage/v1"));
}

#[test]
fn references_duplicates_and_ranges_between_resources() {
    let yaml = r#"
api_version: nuage/v1
name: t
tenant: a
sensitivity: {level: public}
resources:
  networks:
    - {name: n, cidr: 10.0.0.1/24}
    - {name: n, cidr: 10.0.0.0/30}
  volumes:
    - {name: v, size_gib: 1, attach_to: nobody}
    - {name: w, size_gib: 1, attach_to: many}
  servers:
    - {name: many, count: 3, vcpus: 1, ram_gib: 1, image: {os: debian, version: "12"}, networks: [ghost]}
"#;
    let errors = request_errors(yaml);
    assert_eq!(
        paths(&errors),
        [
            "resources.networks[1]",
            "resources.networks[0].cidr",
            "resources.networks[1].cidr",
            "resources.servers[0].networks[0]",
            "resources.volumes[0].attach_to",
            "resources.volumes[1].attach_to",
        ],
        "{errors:#?}"
    );
}

#[test]
fn an_empty_request_is_refused() {
    let errors = request_errors(
        "api_version: nuage/v1\nname: t\ntenant: a\nsensitivity: {level: public}\nresources: {}\n",
    );
    assert_eq!(paths(&errors), ["resources"]);
}

#[test]
fn malformed_yaml_is_a_syntax_error() {
    assert!(matches!(
        ServiceRequest::from_yaml("name: [unclosed"),
        Err(Error::Syntax { .. })
    ));
}

#[test]
fn catalogue_errors_name_file_offer_and_field() {
    let good = "api_version: nuage.catalogue/v1\noffers:\n  - id: ok\n    name: ok\n    operator: o\n    tier: external\n    binding: {adapter: sim, instance: s}\n    regions: [{id: r, country: FR}]\n    jurisdiction: {seat: FR, non_eu_control: false}\n    pricing: {vcpu_hour: 0.01, ram_gib_per_vcpu: 4, block_gib_month: 0.1}\n";
    let bad = "api_version: nuage.catalogue/v1\noffers:\n  - id: bad\n    name: bad\n    operator: o\n    tier: orbital\n    binding: {adapter: sim, instance: s}\n    regions: [{id: r, country: france}]\n    jurisdiction: {seat: FR, non_eu_control: false}\n    pricing: {vcpu_hour: -1, ram_gib_per_vcpu: 4, block_gib_month: 0.1}\n  - id: ok\n    name: dup\n    operator: o\n    tier: internal\n    binding: {adapter: sim, instance: s}\n    regions: [{id: r, country: FR}]\n    jurisdiction: {seat: FR, non_eu_control: false}\n    pricing: {vcpu_hour: 0.01, block_gib_month: 0.1}\n    secnumcloud: {status: qualified}\n";
    let Err(Error::InvalidCatalogue(errors)) =
        Catalogue::from_sources([("a.yaml", good), ("b.yaml", bad)])
    else {
        panic!("expected an invalid catalogue")
    };
    let found: Vec<_> = errors
        .iter()
        .map(|e| (e.file.as_str(), e.offer.as_deref(), e.error.path.as_str()))
        .collect();
    for expected in [
        ("b.yaml", Some("bad"), "tier"),
        ("b.yaml", Some("bad"), "regions[0].country"),
        ("b.yaml", Some("bad"), "pricing.vcpu_hour"),
        ("b.yaml", Some("ok"), "pricing"),
        ("b.yaml", Some("ok"), "secnumcloud"),
    ] {
        assert!(
            found.contains(&expected),
            "missing {expected:?} in {found:#?}"
        );
    }
    let rendered = Error::InvalidCatalogue(errors).to_string();
    assert!(rendered.contains("b.yaml: offer bad: tier"), "{rendered}");
}

#[test]
fn duplicate_offer_ids_across_files_are_refused() {
    let file = "api_version: nuage.catalogue/v1\noffers:\n  - id: same\n    name: x\n    operator: o\n    tier: external\n    binding: {adapter: sim, instance: s}\n    regions: [{id: r, country: FR}]\n    jurisdiction: {seat: FR, non_eu_control: false}\n    pricing: {vcpu_hour: 0.01, ram_gib_per_vcpu: 4, block_gib_month: 0.1}\n";
    let Err(Error::InvalidCatalogue(errors)) =
        Catalogue::from_sources([("a.yaml", file), ("b.yaml", file)])
    else {
        panic!()
    };
    assert_eq!(errors.len(), 1);
    assert!(errors[0].error.message.contains("a.yaml"));
}

#[test]
fn catalogue_directory_loads_and_example_matches_files_on_disk() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/catalogue");
    let loaded = Catalogue::load_dir(&dir).unwrap();
    assert_eq!(loaded.digest(), Catalogue::example().digest());
    assert_eq!(loaded.offers().len(), 12);
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        Catalogue::load_dir(empty.path()),
        Err(Error::InvalidCatalogue(_))
    ));
    assert!(matches!(
        Catalogue::load_dir(&empty.path().join("missing")),
        Err(Error::Io { .. })
    ));
}

fn policy_errors(text: &str) -> Vec<String> {
    match Policy::from_yaml("p.yaml", text) {
        Err(Error::InvalidPolicy(errors)) => errors.iter().map(|e| e.to_string()).collect(),
        other => panic!(
            "expected an invalid policy, got {:?}",
            other.map(|p| p.id().to_string())
        ),
    }
}

#[test]
fn classified_cannot_be_relaxed() {
    let text = nuage_placement::policy::DEFAULT_POLICY_YAML.replace(
        "  classified:\n    refused_by: R-CLASSIFIED",
        "  classified:\n    tiers: [internal]\n    tier_rule: R-TIER-OPEN",
    );
    let errors = policy_errors(&text);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("levels.classified.refused_by")),
        "{errors:?}"
    );
}

#[test]
fn policy_references_are_checked() {
    let text = nuage_placement::policy::DEFAULT_POLICY_YAML
        .replace(
            "{rule: R-HDS, check: hds_certified}",
            "{rule: R-NOPE, check: hds_certified}",
        )
        .replace(
            "check: location_in, group: gdpr_adequate",
            "check: location_in, group: mars",
        )
        .replace("  - id: R-BUDGET\n", "  - id: R-BUDGET-X\n")
        .replace(
            "  public:\n    tiers: [internal, dedicated, external]\n    tier_rule: R-TIER-OPEN\n",
            "",
        );
    let errors = policy_errors(&text).join("\n");
    for needle in [
        "levels.health.requires[0].rule: no rule \"R-NOPE\"",
        "levels.personal.requires[0].group: no country group \"mars\"",
        "the system rule R-BUDGET must be defined",
        "levels.public: missing",
    ] {
        assert!(errors.contains(needle), "missing {needle:?} in\n{errors}");
    }
}

#[test]
fn a_stricter_policy_changes_the_decision() {
    // Tighten: personal data may no longer go to the external tier.
    let text = nuage_placement::policy::DEFAULT_POLICY_YAML.replace(
        "  personal:\n    tiers: [internal, dedicated, external]",
        "  personal:\n    tiers: [internal, dedicated]",
    );
    let strict = Policy::from_yaml("strict.yaml", &text).unwrap();
    assert_ne!(strict.digest(), Policy::default_policy().digest());
    let req = request("personal");
    let cat = Catalogue::example();
    let ctx = nuage_placement::PlacementContext::at(at("2026-11-29"));
    let default = nuage_placement::place(&req, &cat, &Policy::default_policy(), &ctx);
    let tight = nuage_placement::place(&req, &cat, &strict, &ctx);
    assert_eq!(
        default.placement.unwrap().tier,
        nuage_placement::Tier::External
    );
    assert_ne!(
        tight.placement.unwrap().tier,
        nuage_placement::Tier::External
    );
}
