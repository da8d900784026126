//! Builders shared by the placement tests.
#![allow(dead_code, unreachable_pub)]

use chrono::{DateTime, NaiveDate, Utc};
use nuage_placement::catalogue::{
    AdapterKind, Capacity, Hds, Jurisdiction, Offer, Pricing, ProviderBinding, QualificationStatus,
    Region, SecNumCloud,
};
use nuage_placement::{Catalogue, CountryCode, Money, ServiceKind, ServiceRequest, Tier};

pub fn at(date: &str) -> DateTime<Utc> {
    format!("{date}T00:00:00Z").parse().unwrap()
}

pub fn day(date: &str) -> NaiveDate {
    date.parse().unwrap()
}

pub fn cc(s: &str) -> CountryCode {
    CountryCode::parse(s).unwrap()
}

pub fn eur(x: f64) -> Money {
    Money::from_euros(x).unwrap()
}

/// A plain, unqualified offer in France priced per vCPU.
pub fn offer(id: &str, tier: Tier) -> Offer {
    Offer {
        id: id.into(),
        name: id.into(),
        operator: "test".into(),
        tier,
        binding: ProviderBinding {
            adapter: AdapterKind::Sim,
            instance: "sim".into(),
        },
        api: None,
        regions: vec![Region {
            id: "fr-1".into(),
            country: cc("FR"),
        }],
        services: ServiceKind::ALL.to_vec(),
        images: Vec::new(),
        pricing: Pricing {
            vcpu_hour: Some(eur(0.05)),
            ram_gib_per_vcpu: Some(4),
            flavors: Vec::new(),
            block_gib_month: Some(eur(0.1)),
            estimate: false,
            as_of: None,
            source: None,
        },
        secnumcloud: SecNumCloud::default(),
        hds: Hds::default(),
        jurisdiction: Jurisdiction {
            seat: cc("FR"),
            non_eu_control: false,
            technology_dependency_non_eu: false,
            exposure: Vec::new(),
        },
        dr_capable: false,
        capacity: Capacity::default(),
        procurement: Vec::new(),
        availability: None,
        estimates: Vec::new(),
        notes: None,
    }
}

pub fn qualified(mut o: Offer, since: &str) -> Offer {
    o.secnumcloud = SecNumCloud {
        status: QualificationStatus::Qualified,
        version: Some("3.2".into()),
        since: Some(day(since)),
        valid_until: None,
    };
    o
}

pub fn priced(mut o: Offer, vcpu_hour: f64) -> Offer {
    o.pricing.vcpu_hour = Some(eur(vcpu_hour));
    o
}

pub fn catalogue(offers: Vec<Offer>) -> Catalogue {
    Catalogue::from_offers(offers).unwrap()
}

/// A valid request of the given level with one 2 vCPU / 8 GiB server.
pub fn request(level: &str) -> ServiceRequest {
    ServiceRequest::from_yaml(&request_yaml(level, "")).unwrap()
}

/// Request YAML with `extra` appended at the top level.
pub fn request_yaml(level: &str, extra: &str) -> String {
    let declaration = if matches!(level, "public" | "internal") {
        String::new()
    } else {
        "\n  justification: test data\n  declared_by: owner@example.gouv.fr\n  homologation_ref: II901-T-1".into()
    };
    format!(
        "api_version: nuage/v1\nname: t\ntenant: tenant-a\nsensitivity:\n  level: {level}{declaration}\n{extra}\nresources:\n  servers:\n    - {{name: s, vcpus: 2, ram_gib: 8, image: {{os: debian, version: \"12\"}}}}\n"
    )
}
