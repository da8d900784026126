//! The sovereignty policy: rules as data, with the text each cites.
//!
//! The default policy (`examples/policy/default.yaml`, built in) encodes the doctrine's table:
//! for each sensitivity level, the tiers it may go to and the requirements an offer must meet.
//! A custom policy file in the same format can tighten or relax it, within two fixed limits:
//! `classified` is always refused, and the system rules cited by the fixed filters must exist.

mod compiled;

pub(crate) use compiled::{CompiledLevel, CompiledReq};

use crate::country::{CountryCode, CountrySet};
use crate::error::{Error, Result, SourcedError};
use crate::request::FieldError;
use crate::request::validate::{parse_yaml, schema_errors};
use crate::vocabulary::{Sensitivity, Tier};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The policy file format version this build reads.
pub const POLICY_API_VERSION: &str = "nuage.policy/v1";

/// The built-in default policy's text.
pub const DEFAULT_POLICY_YAML: &str = include_str!("../../../../examples/policy/default.yaml");

/// The country group `eu_only` constraints refer to; every policy defines it.
pub const EU_GROUP: &str = "eu";

/// Ids of the rules cited by the fixed filters; every policy defines them (it may reword them).
pub mod system_rules {
    /// A qualification or certification must be valid on the decision date.
    pub const QUALIFICATION_VALID: &str = "R-QUALIFICATION-VALID";
    /// The request's own location constraints.
    pub const LOCATION_REQUEST: &str = "R-LOCATION-REQUEST";
    /// The request's `exclude_non_eu_technology`.
    pub const TECHNOLOGY_REQUEST: &str = "R-TECHNOLOGY-REQUEST";
    /// The offer must provide every kind of resource, image and size asked for.
    pub const SERVICE_KINDS: &str = "R-SERVICE-KINDS";
    /// The offer must have the capacity.
    pub const CAPACITY: &str = "R-CAPACITY";
    /// The tenant's quotas.
    pub const TENANT_QUOTA: &str = "R-TENANT-QUOTA";
    /// The request's budget and the tenant's remaining budget.
    pub const BUDGET: &str = "R-BUDGET";
    /// Every system rule.
    pub const ALL: [&str; 7] = [
        QUALIFICATION_VALID,
        LOCATION_REQUEST,
        TECHNOLOGY_REQUEST,
        SERVICE_KINDS,
        CAPACITY,
        TENANT_QUOTA,
        BUDGET,
    ];
}

/// A policy file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// `nuage.policy/v1`.
    pub api_version: String,
    /// The policy's name.
    #[schemars(length(min = 1, max = 63))]
    pub id: String,
    /// Its version, cited in every decision.
    #[schemars(length(min = 1, max = 63))]
    pub version: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Named sets of countries (`eu`, `eea`, `adequacy`...).
    pub country_groups: BTreeMap<String, Vec<CountryCode>>,
    /// The rules, with the text each cites.
    #[schemars(length(min = 1))]
    pub rules: Vec<Rule>,
    /// What each sensitivity level requires; every level must appear.
    pub levels: BTreeMap<Sensitivity, LevelPolicy>,
}

/// A rule decisions cite.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Its id, `R-` then upper-case letters, digits and dashes.
    #[schemars(regex(pattern = r"^R-[A-Z0-9]+(-[A-Z0-9]+)*$"))]
    pub id: String,
    /// A short title.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// What the rule says and where it comes from.
    #[schemars(length(min = 1))]
    pub cites: String,
    /// Public sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// What one sensitivity level requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelPolicy {
    /// When set, requests of this level are always refused, citing this rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused_by: Option<String>,
    /// The tiers this level may go to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// The rule cited when an offer's tier is not allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_rule: Option<String>,
    /// Hard requirements: an offer failing one is eliminated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Requirement>,
    /// Soft requirements: an offer failing one is flagged for review, not eliminated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advises: Vec<Requirement>,
}

/// A check an offer (or the request) must pass.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The rule cited when the check fails.
    pub rule: String,
    /// The check.
    pub check: Check,
    /// For `location_in`: the country group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The tiers the requirement applies to; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
}

/// The checks a policy can require, each evaluated at a fixed stage of placement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// SecNumCloud status `qualified` (stage: qualifications), valid on the decision date
    /// (stage: validity).
    SecnumcloudQualified,
    /// HDS certified (qualifications), valid on the decision date (validity).
    HdsCertified,
    /// Allowed to host Diffusion Restreinte systems (qualifications).
    DrCapable,
    /// Data located in a country of `group` (location).
    LocationIn,
    /// No non-EU control over the provider (jurisdiction).
    NoNonEuControl,
    /// Not built on technology controlled from outside the EU (jurisdiction).
    NoNonEuTechnology,
    /// The request carries its II 901 homologation reference (checked on the request).
    HomologationReference,
}

/// A rule, as its index in the policy's `rules` (opaque); decisions resolve it through the
/// policy they were made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleIdx(pub(crate) u16);

impl RuleIdx {
    /// Stands for a reference that failed validation (never in a valid policy).
    pub(crate) const MISSING: RuleIdx = RuleIdx(u16::MAX);
}

/// A country group, as its index in the policy's sorted group names (opaque).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupIdx(pub(crate) u16);

/// A validated, compiled policy. Cloning is cheap (shared, immutable).
#[derive(Debug, Clone)]
pub struct Policy {
    document: Arc<PolicyDocument>,
    digest: String,
    rules: Arc<HashMap<String, RuleIdx>>,
    levels: Arc<[CompiledLevel; 7]>,
    eu: Arc<CountrySet>,
}

impl Policy {
    /// The built-in default policy.
    pub fn default_policy() -> Policy {
        static DEFAULT: OnceLock<Policy> = OnceLock::new();
        DEFAULT
            .get_or_init(|| {
                Policy::from_yaml("default.yaml", DEFAULT_POLICY_YAML)
                    .expect("the default policy is valid")
            })
            .clone()
    }

    /// Reads and validates a policy file.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Policy::from_yaml(&path.display().to_string(), &text)
    }

    /// Parses and validates a policy from YAML text; `file` names it in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Policy> {
        let sourced = |error: FieldError| SourcedError {
            file: file.to_string(),
            offer: None,
            error,
        };
        let value: Value = parse_yaml(text).map_err(|e| {
            Error::InvalidPolicy(vec![sourced(FieldError::new(
                "",
                format!("not well-formed YAML: {e}"),
            ))])
        })?;
        let schema = schema_errors(policy_validator(), &value);
        if !schema.is_empty() {
            return Err(Error::InvalidPolicy(
                schema.into_iter().map(sourced).collect(),
            ));
        }
        let document: PolicyDocument = serde_path_to_error::deserialize(value).map_err(|e| {
            Error::InvalidPolicy(vec![sourced(FieldError::new(
                e.path().to_string(),
                e.inner().to_string(),
            ))])
        })?;
        Policy::from_document(document)
            .map_err(|errors| Error::InvalidPolicy(errors.into_iter().map(sourced).collect()))
    }

    fn from_document(doc: PolicyDocument) -> std::result::Result<Policy, Vec<FieldError>> {
        let mut errors = Vec::new();
        if doc.api_version != POLICY_API_VERSION {
            errors.push(FieldError::new(
                "api_version",
                format!(
                    "unsupported version {:?}: this build reads {POLICY_API_VERSION:?}",
                    doc.api_version
                ),
            ));
        }
        let mut rules = HashMap::new();
        for (i, r) in doc.rules.iter().enumerate() {
            let idx = RuleIdx(u16::try_from(i).unwrap_or(u16::MAX - 1));
            if rules.insert(r.id.clone(), idx).is_some() {
                errors.push(FieldError::new(
                    format!("rules[{i}].id"),
                    format!("{:?} appears twice", r.id),
                ));
            }
        }
        for id in system_rules::ALL {
            if !rules.contains_key(id) {
                errors.push(FieldError::new(
                    "rules",
                    format!("the system rule {id} must be defined (its text may be reworded)"),
                ));
            }
        }
        if !doc.country_groups.contains_key(EU_GROUP) {
            errors.push(FieldError::new(
                "country_groups",
                format!("the group {EU_GROUP:?} must be defined (requests' `eu_only` uses it)"),
            ));
        }
        let groups: HashMap<&str, (GroupIdx, Arc<CountrySet>)> = doc
            .country_groups
            .iter()
            .enumerate()
            .map(|(i, (name, list))| {
                let idx = GroupIdx(u16::try_from(i).unwrap_or(u16::MAX));
                (
                    name.as_str(),
                    (idx, Arc::new(list.iter().copied().collect())),
                )
            })
            .collect();
        let mut compiled = Vec::with_capacity(7);
        for level in Sensitivity::ALL {
            let path = format!("levels.{level}");
            match doc.levels.get(&level) {
                None => {
                    errors.push(FieldError::new(
                        &path,
                        "missing: every sensitivity level must be covered",
                    ));
                    compiled.push(CompiledLevel::refused(RuleIdx::MISSING));
                }
                Some(lp) => compiled.push(CompiledLevel::compile(
                    level,
                    lp,
                    &path,
                    &rules,
                    &groups,
                    &mut errors,
                )),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let levels: [CompiledLevel; 7] = compiled.try_into().map_err(|_| Vec::new())?;
        let eu = groups[EU_GROUP].1.clone();
        let bytes = serde_json::to_vec(&doc).expect("a policy serializes");
        Ok(Policy {
            digest: format!("sha256:{}", hex::encode(Sha256::digest(&bytes))),
            document: Arc::new(doc),
            rules: Arc::new(rules),
            levels: Arc::new(levels),
            eu,
        })
    }

    /// The policy as written.
    pub fn document(&self) -> &PolicyDocument {
        &self.document
    }

    /// The policy's id.
    pub fn id(&self) -> &str {
        &self.document.id
    }

    /// The policy's version.
    pub fn version(&self) -> &str {
        &self.document.version
    }

    /// `sha256:` of the policy's canonical JSON.
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The rule with this id.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.document.rules.iter().find(|r| r.id == id)
    }

    pub(crate) fn level(&self, s: Sensitivity) -> &CompiledLevel {
        &self.levels[s as usize]
    }

    pub(crate) fn system_rule(&self, id: &'static str) -> RuleIdx {
        self.rules.get(id).copied().unwrap_or(RuleIdx::MISSING)
    }

    /// The id of a rule reference.
    pub(crate) fn rule_id(&self, r: RuleIdx) -> &str {
        self.document
            .rules
            .get(usize::from(r.0))
            .map_or("R-UNKNOWN", |r| r.id.as_str())
    }

    /// The name of a country group reference.
    pub(crate) fn group_name(&self, g: GroupIdx) -> &str {
        self.document
            .country_groups
            .keys()
            .nth(usize::from(g.0))
            .map_or("?", String::as_str)
    }

    pub(crate) fn eu(&self) -> &CountrySet {
        &self.eu
    }

    /// The tiers a sensitivity level may go to (none for a refused level).
    pub fn allowed_tiers(&self, s: Sensitivity) -> Vec<Tier> {
        self.level(s).tiers.iter().collect()
    }
}

/// The JSON Schema of a policy file, as checked in at `docs/schema/policy.v1.json`.
pub fn policy_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(PolicyDocument)).expect("schema is JSON")
}

fn policy_validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&policy_schema()).expect("the generated schema compiles")
    })
}

pub(crate) fn check_ref(
    rules: &HashMap<String, RuleIdx>,
    id: &str,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> RuleIdx {
    match rules.get(id) {
        Some(r) => *r,
        None => {
            errors.push(FieldError::new(
                path,
                format!("no rule {id:?} is defined in `rules`"),
            ));
            RuleIdx::MISSING
        }
    }
}

pub(crate) fn unique_tiers(tiers: &[Tier], path: &str, errors: &mut Vec<FieldError>) {
    let mut seen = HashSet::new();
    for (i, t) in tiers.iter().enumerate() {
        if !seen.insert(*t) {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                format!("{t} appears twice"),
            ));
        }
    }
}
