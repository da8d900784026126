//! The catalogue: every offer Nuage may place on, loaded from YAML files and validated whole.
//!
//! A catalogue file reads:
//! ```yaml
//! api_version: nuage.catalogue/v1
//! offers:
//!   - id: ...
//! ```
//! A catalogue directory is every `*.yaml`/`*.yml` file in it. Loading reports every problem of
//! every file, each with its file, offer and field, and yields nothing unless all are good.

pub(crate) mod facts;
mod offer;

pub use offer::{
    AdapterKind, Capacity, Flavor, Hds, Jurisdiction, Offer, Pricing, ProviderBinding,
    QualificationStatus, Region, SECNUMCLOUD_VALIDITY_MONTHS, SecNumCloud,
};

use crate::error::{Error, Result, SourcedError};
use crate::request::FieldError;
use crate::request::validate::{parse_yaml, schema_errors};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The catalogue file format version this build reads.
pub const CATALOGUE_API_VERSION: &str = "nuage.catalogue/v1";

/// The example catalogue shipped in `examples/catalogue/`, built into the binary.
const EXAMPLE_FILES: [(&str, &str); 3] = [
    (
        "internal.yaml",
        include_str!("../../../../examples/catalogue/internal.yaml"),
    ),
    (
        "dedicated.yaml",
        include_str!("../../../../examples/catalogue/dedicated.yaml"),
    ),
    (
        "external.yaml",
        include_str!("../../../../examples/catalogue/external.yaml"),
    ),
];

/// A validated set of offers, sorted by id, with a digest that identifies its content.
/// Cloning is cheap (shared, immutable).
#[derive(Debug, Clone)]
pub struct Catalogue {
    offers: Arc<[Arc<Offer>]>,
    facts: Arc<[facts::Facts]>,
    flavors: Arc<[facts::PackedFlavor]>,
    digest: Arc<str>,
}

impl Catalogue {
    /// Builds a catalogue from offers already in memory, validating them as a file would be.
    pub fn from_offers(offers: Vec<Offer>) -> Result<Catalogue> {
        let mut errors = Vec::new();
        let mut seen = HashMap::new();
        for (i, offer) in offers.iter().enumerate() {
            for error in offer.semantic_errors() {
                errors.push(SourcedError {
                    file: "(memory)".into(),
                    offer: Some(offer.id.clone()),
                    error,
                });
            }
            if let Some(first) = seen.insert(offer.id.as_str(), i) {
                errors.push(SourcedError {
                    file: "(memory)".into(),
                    offer: Some(offer.id.clone()),
                    error: FieldError::new("id", format!("also the id of offer #{first}")),
                });
            }
        }
        if !errors.is_empty() {
            return Err(Error::InvalidCatalogue(errors));
        }
        Ok(Catalogue::sealed(offers))
    }

    /// Parses and validates catalogue files given as `(name, text)` pairs.
    pub fn from_sources<'a>(
        files: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Catalogue> {
        let mut errors = Vec::new();
        let mut offers = Vec::new();
        let mut origin: HashMap<String, String> = HashMap::new();
        for (file, text) in files {
            for offer in parse_file(file, text, &mut errors) {
                if let Some(prev) = origin.insert(offer.id.clone(), file.to_string()) {
                    errors.push(SourcedError {
                        file: file.to_string(),
                        offer: Some(offer.id.clone()),
                        error: FieldError::new("id", format!("offer id already defined in {prev}")),
                    });
                }
                offers.push(offer);
            }
        }
        if !errors.is_empty() {
            return Err(Error::InvalidCatalogue(errors));
        }
        Ok(Catalogue::sealed(offers))
    }

    /// Loads every `*.yaml`/`*.yml` file of a directory (not recursive).
    pub fn load_dir(dir: &Path) -> Result<Catalogue> {
        let io = |source| Error::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
            })
            .collect();
        paths.sort();
        let mut texts = Vec::with_capacity(paths.len());
        for path in &paths {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            texts.push((path.display().to_string(), text));
        }
        if texts.is_empty() {
            return Err(Error::InvalidCatalogue(vec![SourcedError {
                file: dir.display().to_string(),
                offer: None,
                error: FieldError::new("", "no *.yaml file in this directory"),
            }]));
        }
        Catalogue::from_sources(texts.iter().map(|(n, t)| (n.as_str(), t.as_str())))
    }

    /// The example catalogue of French public-sector offers (`examples/catalogue/`), built in.
    pub fn example() -> Catalogue {
        static EXAMPLE: OnceLock<Catalogue> = OnceLock::new();
        EXAMPLE
            .get_or_init(|| {
                Catalogue::from_sources(EXAMPLE_FILES).expect("the example catalogue is valid")
            })
            .clone()
    }

    /// The example catalogue's files, as `(name, text)`.
    pub fn example_files() -> &'static [(&'static str, &'static str)] {
        &EXAMPLE_FILES
    }

    fn sealed(mut offers: Vec<Offer>) -> Catalogue {
        offers.sort_by(|a, b| a.id.cmp(&b.id));
        let bytes = serde_json::to_vec(&offers).expect("offers serialize");
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        let mut flavors = Vec::new();
        Catalogue {
            facts: offers
                .iter()
                .map(|o| facts::Facts::of(o, &mut flavors))
                .collect(),
            flavors: flavors.into(),
            offers: offers.into_iter().map(Arc::new).collect(),
            digest: digest.into(),
        }
    }

    /// The offers, sorted by id.
    pub fn offers(&self) -> &[Arc<Offer>] {
        &self.offers
    }

    pub(crate) fn facts(&self) -> &[facts::Facts] {
        &self.facts
    }

    pub(crate) fn flavor_table(&self) -> &[facts::PackedFlavor] {
        &self.flavors
    }

    /// The offer with this id.
    pub fn get(&self, id: &str) -> Option<&Arc<Offer>> {
        self.offers
            .binary_search_by(|o| o.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.offers[i])
    }

    /// `sha256:` of the canonical JSON of the sorted offers: equal digests, equal catalogues.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The catalogue with the capacity of every offer for which `capacity` answers replaced
    /// (e.g. by live facts from a host pool), rebuilt and digested once.
    pub fn with_capacities(
        &self,
        capacity: impl Fn(&Offer) -> Option<Capacity>,
    ) -> Result<Catalogue> {
        let offers = self
            .offers
            .iter()
            .map(|o| {
                let mut new = Offer::clone(o);
                if let Some(c) = capacity(o) {
                    new.capacity = c;
                }
                new
            })
            .collect();
        Catalogue::from_offers(offers)
    }
}

fn offer_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema = serde_json::to_value(schemars::schema_for!(Offer)).expect("schema is JSON");
        jsonschema::validator_for(&schema).expect("the generated schema compiles")
    })
}

/// The JSON Schema of one offer, as checked in at `docs/schema/offer.v1.json`.
pub fn offer_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(Offer)).expect("schema is JSON")
}

fn parse_file(file: &str, text: &str, errors: &mut Vec<SourcedError>) -> Vec<Offer> {
    let err = |offer: Option<String>, path: &str, message: String| SourcedError {
        file: file.to_string(),
        offer,
        error: FieldError::new(path, message),
    };
    let doc: Value = match parse_yaml(text) {
        Ok(v) => v,
        Err(e) => {
            errors.push(err(None, "", format!("not well-formed YAML: {e}")));
            return Vec::new();
        }
    };
    let Some(map) = doc.as_object() else {
        errors.push(err(
            None,
            "",
            "expected a mapping with `api_version` and `offers`".into(),
        ));
        return Vec::new();
    };
    for key in map.keys() {
        if key != "api_version" && key != "offers" {
            errors.push(err(None, key, "unknown field".into()));
        }
    }
    match map.get("api_version").and_then(Value::as_str) {
        Some(CATALOGUE_API_VERSION) => {}
        Some(other) => errors.push(err(
            None,
            "api_version",
            format!("unsupported version {other:?}: this build reads {CATALOGUE_API_VERSION:?}"),
        )),
        None => errors.push(err(
            None,
            "api_version",
            format!("missing: write `api_version: {CATALOGUE_API_VERSION}`"),
        )),
    }
    let Some(items) = map.get("offers").and_then(Value::as_array) else {
        errors.push(err(None, "offers", "missing list of offers".into()));
        return Vec::new();
    };
    let mut offers = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let name = item
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_string);
        let schema = schema_errors(offer_validator(), item);
        if !schema.is_empty() {
            errors.extend(schema.into_iter().map(|error| SourcedError {
                file: file.to_string(),
                offer: Some(name.clone()),
                error,
            }));
            continue;
        }
        match serde_path_to_error::deserialize::<_, Offer>(item) {
            Ok(offer) => {
                let semantic = offer.semantic_errors();
                if semantic.is_empty() {
                    offers.push(offer);
                } else {
                    errors.extend(semantic.into_iter().map(|error| SourcedError {
                        file: file.to_string(),
                        offer: Some(name.clone()),
                        error,
                    }));
                }
            }
            Err(e) => errors.push(err(
                Some(name),
                &e.path().to_string(),
                e.inner().to_string(),
            )),
        }
    }
    offers
}
