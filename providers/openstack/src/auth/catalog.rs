//! The service catalog of a token, and choosing an endpoint by type, interface and region.

use serde::Deserialize;

use crate::config::Interface;
use crate::error::{Error, Result};

/// The services a token may call.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(transparent)]
pub struct Catalog {
    /// Services, as Keystone lists them.
    pub services: Vec<CatalogService>,
}

/// One service of the catalog.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CatalogService {
    /// Service type (`compute`, `network`, `volumev3`...).
    #[serde(rename = "type")]
    pub service_type: String,
    /// Service name (`nova`), informative.
    #[serde(default)]
    pub name: Option<String>,
    /// Its endpoints.
    #[serde(default)]
    pub endpoints: Vec<CatalogEndpoint>,
}

/// One endpoint of a service.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct CatalogEndpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// Region id.
    #[serde(default)]
    pub region_id: Option<String>,
    /// Region (older field, same value).
    #[serde(default)]
    pub region: Option<String>,
    /// Base URL.
    pub url: String,
}

impl CatalogEndpoint {
    fn region(&self) -> Option<&str> {
        self.region_id.as_deref().or(self.region.as_deref())
    }
}

/// Service types that name the same API (the block-storage service has had three).
fn aliases(service_type: &str) -> &'static [&'static str] {
    match service_type {
        "volumev3" | "block-storage" | "volume" => &["volumev3", "block-storage", "volume"],
        "compute" => &["compute"],
        "network" => &["network"],
        "image" => &["image"],
        "identity" => &["identity"],
        "placement" => &["placement"],
        _ => &[],
    }
}

impl Catalog {
    /// The URL of the endpoint of `service_type` with this interface, in `region`.
    ///
    /// Aliases count (`volumev3`, `block-storage`, `volume`). Without a region, the endpoints
    /// found must all be in one region; several regions is an error asking for one, since
    /// picking one silently would send work to the wrong place.
    pub fn endpoint(
        &self,
        service_type: &str,
        interface: Interface,
        region: Option<&str>,
    ) -> Result<&str> {
        let names = aliases(service_type);
        let wanted = |t: &str| t == service_type || names.contains(&t);
        let services: Vec<&CatalogService> = self
            .services
            .iter()
            .filter(|s| wanted(&s.service_type))
            .collect();
        let no_endpoint = |detail: String| Error::NoEndpoint {
            service_type: service_type.to_owned(),
            interface: interface.as_str().to_owned(),
            region: region.map(str::to_owned),
            detail,
        };
        if services.is_empty() {
            let mut types: Vec<&str> = self
                .services
                .iter()
                .map(|s| s.service_type.as_str())
                .collect();
            types.sort_unstable();
            return Err(no_endpoint(format!(
                "the catalog offers {}",
                types.join(", ")
            )));
        }
        // The exact type first, then its aliases in their listed order.
        let rank = |t: &str| {
            if t == service_type {
                0
            } else {
                1 + names.iter().position(|n| *n == t).unwrap_or(names.len())
            }
        };
        let mut candidates: Vec<(usize, &CatalogEndpoint)> = services
            .iter()
            .flat_map(|s| s.endpoints.iter().map(move |e| (rank(&s.service_type), e)))
            .filter(|(_, e)| e.interface == interface.as_str())
            .filter(|(_, e)| region.is_none_or(|r| e.region() == Some(r)))
            .collect();
        if candidates.is_empty() {
            let mut offered: Vec<String> = services
                .iter()
                .flat_map(|s| &s.endpoints)
                .map(|e| format!("{} in {}", e.interface, e.region().unwrap_or("no region")))
                .collect();
            offered.sort();
            offered.dedup();
            return Err(no_endpoint(format!("it has {}", offered.join(", "))));
        }
        candidates.sort_by_key(|(rank, _)| *rank);
        let best_rank = candidates[0].0;
        candidates.retain(|(rank, _)| *rank == best_rank);
        if region.is_none() {
            let mut regions: Vec<&str> =
                candidates.iter().filter_map(|(_, e)| e.region()).collect();
            regions.sort_unstable();
            regions.dedup();
            if regions.len() > 1 {
                return Err(no_endpoint(format!(
                    "it is offered in several regions ({}): configure `region`",
                    regions.join(", ")
                )));
            }
        }
        Ok(candidates[0].1.url.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        serde_json::from_value(serde_json::json!([
            {"type": "compute", "name": "nova", "endpoints": [
                {"interface": "public", "region_id": "One", "region": "One", "url": "http://c1/pub"},
                {"interface": "internal", "region_id": "One", "url": "http://c1/int"},
                {"interface": "public", "region_id": "Two", "url": "http://c2/pub"}
            ]},
            {"type": "block-storage", "endpoints": [
                {"interface": "public", "region_id": "One", "url": "http://bs/v3/p"}
            ]},
            {"type": "volumev3", "endpoints": [
                {"interface": "public", "region_id": "One", "url": "http://v3/v3/p"}
            ]},
            {"type": "network", "endpoints": [
                {"interface": "public", "region_id": "One", "url": "http://n"}
            ]}
        ]))
        .unwrap()
    }

    #[test]
    fn selects_by_type_interface_and_region() {
        let c = catalog();
        assert_eq!(
            c.endpoint("compute", Interface::Public, Some("One"))
                .unwrap(),
            "http://c1/pub"
        );
        assert_eq!(
            c.endpoint("compute", Interface::Internal, Some("One"))
                .unwrap(),
            "http://c1/int"
        );
        assert_eq!(
            c.endpoint("compute", Interface::Public, Some("Two"))
                .unwrap(),
            "http://c2/pub"
        );
        assert_eq!(
            c.endpoint("network", Interface::Public, None).unwrap(),
            "http://n"
        );
    }

    #[test]
    fn prefers_the_exact_type_over_aliases() {
        let c = catalog();
        assert_eq!(
            c.endpoint("volumev3", Interface::Public, None).unwrap(),
            "http://v3/v3/p"
        );
        assert_eq!(
            c.endpoint("block-storage", Interface::Public, None)
                .unwrap(),
            "http://bs/v3/p"
        );
        assert_eq!(
            c.endpoint("volume", Interface::Public, None).unwrap(),
            "http://v3/v3/p"
        );
    }

    #[test]
    fn explains_what_is_missing() {
        let c = catalog();
        let err = c
            .endpoint("compute", Interface::Public, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("several regions (One, Two)"), "{err}");
        let err = c
            .endpoint("compute", Interface::Admin, Some("One"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("internal in One, public in One, public in Two"),
            "{err}"
        );
        let err = c
            .endpoint("image", Interface::Public, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("offers block-storage, compute, network, volumev3"),
            "{err}"
        );
        let err = c
            .endpoint("network", Interface::Public, Some("Three"))
            .unwrap_err();
        assert!(matches!(err, Error::NoEndpoint { .. }));
    }
}
