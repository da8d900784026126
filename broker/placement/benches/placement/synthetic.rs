//! Synthetic catalogues and requests for the placement benchmark.

use chrono::NaiveDate;
use nuage_placement::catalogue::{
    AdapterKind, Capacity, Flavor, Hds, Jurisdiction, Offer, Pricing, ProviderBinding,
    QualificationStatus, Region, SecNumCloud,
};
use nuage_placement::{Catalogue, CountryCode, Money, ServiceKind, ServiceRequest, Tier};

const COUNTRIES: [&str; 8] = ["FR", "DE", "NL", "PL", "GB", "CH", "US", "IE"];

/// Deterministic synthetic offers: every tier, qualification status, pricing model and
/// jurisdiction appears, in proportions close to a real catalogue.
pub(crate) fn synthetic(n: usize) -> Catalogue {
    let eur = |x: f64| Money::from_euros(x).unwrap();
    let offers = (0..n)
        .map(|i| {
            let tier = Tier::ALL[i % 3];
            let status = [
                QualificationStatus::None,
                QualificationStatus::J0,
                QualificationStatus::Qualified,
                QualificationStatus::Qualified,
            ][i % 4];
            let regions = (0..1 + i % 3)
                .map(|k| Region {
                    id: format!("r{k}"),
                    country: CountryCode::parse(COUNTRIES[(i + k) % COUNTRIES.len()]).unwrap(),
                })
                .collect();
            let price = 0.02 + (i % 97) as f64 / 1000.0;
            let pricing = if i % 2 == 0 {
                Pricing {
                    vcpu_hour: Some(eur(price)),
                    ram_gib_per_vcpu: Some(4),
                    flavors: Vec::new(),
                    block_gib_month: Some(eur(0.05)),
                    estimate: false,
                    as_of: None,
                    source: None,
                }
            } else {
                Pricing {
                    vcpu_hour: None,
                    ram_gib_per_vcpu: None,
                    flavors: (0..5)
                        .map(|k| Flavor {
                            name: format!("f{k}"),
                            vcpus: 1 << k,
                            ram_gib: 4 << k,
                            hour: eur(price * f64::from(1u32 << k)),
                        })
                        .collect(),
                    block_gib_month: Some(eur(0.05)),
                    estimate: false,
                    as_of: None,
                    source: None,
                }
            };
            Offer {
                id: format!("offer-{i:05}"),
                name: format!("Offer {i}"),
                operator: "synthetic".into(),
                tier,
                binding: ProviderBinding {
                    adapter: AdapterKind::Sim,
                    instance: "sim".into(),
                },
                api: None,
                regions,
                services: ServiceKind::ALL.to_vec(),
                images: Vec::new(),
                pricing,
                secnumcloud: SecNumCloud {
                    status,
                    version: None,
                    since: (status == QualificationStatus::Qualified)
                        .then(|| NaiveDate::from_ymd_opt(2024 + (i % 3) as i32, 1, 1).unwrap()),
                    valid_until: None,
                },
                hds: Hds {
                    certified: i % 5 == 0,
                    valid_until: None,
                },
                jurisdiction: Jurisdiction {
                    seat: CountryCode::parse(if i % 7 == 0 { "US" } else { "FR" }).unwrap(),
                    non_eu_control: i % 7 == 0,
                    technology_dependency_non_eu: i % 11 == 0,
                    exposure: Vec::new(),
                },
                dr_capable: i % 13 == 0,
                capacity: Capacity {
                    vcpus: Some(1000 + (i % 50) as u64 * 100),
                    ..Capacity::default()
                },
                procurement: Vec::new(),
                availability: None,
                estimates: Vec::new(),
                notes: None,
            }
        })
        .collect();
    Catalogue::from_offers(offers).unwrap()
}

pub(crate) fn request(level: &str) -> ServiceRequest {
    let text = format!(
        r#"
api_version: nuage/v1
name: bench
tenant: bench
sensitivity: {{level: {level}, justification: bench, declared_by: bench}}
resources:
  networks: [{{name: app}}]
  servers:
    - {{name: web, vcpus: 2, ram_gib: 8, count: 3, image: {{os: debian, version: "12"}}}}
    - {{name: db, vcpus: 8, ram_gib: 32, image: {{os: debian, version: "12"}}, volumes: [{{name: data, size_gib: 500}}]}}
"#
    );
    ServiceRequest::from_yaml(&text).unwrap()
}
