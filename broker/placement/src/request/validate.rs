//! Parsing and validation of service requests: JSON Schema first, then the rules a schema
//! cannot say (cross-field requirements, references between resources, aggregates).

use super::{REQUEST_API_VERSION, ServiceRequest};
use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::OnceLock;

/// The most server instances one request may ask for, all groups together.
pub(crate) const MAX_INSTANCES: u64 = 1000;

/// One bad field of an input document: where (a path such as `resources.servers[0].vcpus`) and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The path of the field, `.` between keys and `[i]` for list items; empty for the document.
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// The JSON Schema (draft 2020-12) of [`ServiceRequest`], as checked in at
/// `docs/schema/request.v1.json`.
pub fn request_schema() -> Value {
    serde_json::to_value(schemars::schema_for!(ServiceRequest))
        .expect("a generated schema is valid JSON")
}

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        jsonschema::validator_for(&request_schema()).expect("the generated schema compiles")
    })
}

/// Parses YAML (1.2 booleans only: `no`, `n`, `off` stay strings) into a JSON value.
pub(crate) fn parse_yaml(text: &str) -> std::result::Result<Value, String> {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    serde_saphyr::from_str_with_options(text, options).map_err(|e| e.to_string())
}

/// Joins a JSON Pointer's segments as `a.b[0].c`.
pub(crate) fn pointer_to_path<'a>(segments: impl IntoIterator<Item = PathSegment<'a>>) -> String {
    let mut out = String::new();
    for seg in segments {
        match seg {
            PathSegment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSegment::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// A step of a field path.
pub(crate) enum PathSegment<'a> {
    Key(&'a str),
    Index(usize),
}

/// Every schema violation of `value` against `validator`, as field errors.
pub(crate) fn schema_errors(validator: &jsonschema::Validator, value: &Value) -> Vec<FieldError> {
    use jsonschema::error::ValidationErrorKind as Kind;
    use jsonschema::paths::LocationSegment;
    let mut errors = Vec::new();
    for e in validator.iter_errors(value) {
        let segments: Vec<LocationSegment<'_>> = e.instance_path().iter().collect();
        let base: Vec<PathSegment<'_>> = segments
            .iter()
            .map(|s| match s {
                LocationSegment::Property(p) => PathSegment::Key(p.as_ref()),
                LocationSegment::Index(i) => PathSegment::Index(*i),
            })
            .collect();
        let child = |name: &str| {
            let mut p = pointer_to_path(base.iter().map(|s| match s {
                PathSegment::Key(k) => PathSegment::Key(k),
                PathSegment::Index(i) => PathSegment::Index(*i),
            }));
            if !p.is_empty() {
                p.push('.');
            }
            p.push_str(name);
            p
        };
        match e.kind() {
            Kind::AdditionalProperties { unexpected } => {
                for name in unexpected {
                    errors.push(FieldError::new(child(name), "unknown field"));
                }
            }
            Kind::Required { property } => {
                let name = property.as_str().unwrap_or_default();
                errors.push(FieldError::new(child(name), "missing required field"));
            }
            _ => errors.push(FieldError::new(pointer_to_path(base), e.to_string())),
        }
    }
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    errors
}

impl ServiceRequest {
    /// Parses a request from YAML (or JSON, which is YAML) text, reporting every bad field.
    pub fn from_yaml(text: &str) -> Result<ServiceRequest> {
        let value = parse_yaml(text).map_err(|message| Error::Syntax {
            what: "request".into(),
            message,
        })?;
        ServiceRequest::from_json_value(value)
    }

    /// Validates a JSON document as a request, reporting every bad field.
    pub fn from_json_value(value: Value) -> Result<ServiceRequest> {
        if let Some(v) = value.get("api_version").and_then(Value::as_str)
            && v != REQUEST_API_VERSION
        {
            return Err(Error::InvalidRequest(vec![FieldError::new(
                "api_version",
                format!(
                    "unsupported version {v:?}: this build understands {REQUEST_API_VERSION:?}"
                ),
            )]));
        }
        let mut errors = schema_errors(validator(), &value);
        errors.extend(declaration_errors(&value));
        if !errors.is_empty() {
            return Err(Error::InvalidRequest(errors));
        }
        let request: ServiceRequest = serde_path_to_error::deserialize(value).map_err(|e| {
            Error::InvalidRequest(vec![FieldError::new(
                e.path().to_string(),
                e.inner().to_string(),
            )])
        })?;
        let errors = request.semantic_errors();
        if errors.is_empty() {
            Ok(request)
        } else {
            Err(Error::InvalidRequest(errors))
        }
    }

    /// Validates an already-typed request (for example built in code) by the same rules.
    pub fn validate(&self) -> Result<()> {
        let value = serde_json::to_value(self).map_err(|e| Error::Syntax {
            what: "request".into(),
            message: e.to_string(),
        })?;
        ServiceRequest::from_json_value(value).map(drop)
    }

    /// The rules a schema cannot express.
    fn semantic_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        unique(
            &mut errors,
            "location.countries",
            self.location.countries.iter().map(|c| c.as_str()),
        );
        unique(
            &mut errors,
            "location.regions",
            self.location.regions.iter().map(String::as_str),
        );
        for (i, r) in self.location.regions.iter().enumerate() {
            if r.trim().is_empty() {
                errors.push(FieldError::new(
                    format!("location.regions[{i}]"),
                    "empty region name",
                ));
            }
        }

        let res = &self.resources;
        if res.networks.is_empty() && res.volumes.is_empty() && res.servers.is_empty() {
            errors.push(FieldError::new(
                "resources",
                "a request must ask for at least one server, volume or network",
            ));
        }
        unique(
            &mut errors,
            "resources.networks",
            res.networks.iter().map(|n| n.name.as_str()),
        );
        unique(
            &mut errors,
            "resources.volumes",
            res.volumes.iter().map(|v| v.name.as_str()),
        );
        unique(
            &mut errors,
            "resources.servers",
            res.servers.iter().map(|s| s.name.as_str()),
        );
        for (i, n) in res.networks.iter().enumerate() {
            if let Some(cidr) = &n.cidr
                && let Err(why) = check_cidr(cidr)
            {
                errors.push(FieldError::new(
                    format!("resources.networks[{i}].cidr"),
                    why,
                ));
            }
        }
        let networks: HashSet<&str> = res.networks.iter().map(|n| n.name.as_str()).collect();
        for (i, s) in res.servers.iter().enumerate() {
            unique(
                &mut errors,
                &format!("resources.servers[{i}].volumes"),
                s.volumes.iter().map(|v| v.name.as_str()),
            );
            for (j, n) in s.networks.iter().enumerate() {
                if !networks.contains(n.as_str()) {
                    errors.push(FieldError::new(
                        format!("resources.servers[{i}].networks[{j}]"),
                        format!("no network named {n:?} is declared in resources.networks"),
                    ));
                }
            }
        }
        for (i, v) in res.volumes.iter().enumerate() {
            let Some(target) = &v.attach_to else { continue };
            match res.servers.iter().find(|s| &s.name == target) {
                None => errors.push(FieldError::new(
                    format!("resources.volumes[{i}].attach_to"),
                    format!("no server named {target:?} is declared in resources.servers"),
                )),
                Some(s) if s.count != 1 => errors.push(FieldError::new(
                    format!("resources.volumes[{i}].attach_to"),
                    format!(
                        "server {target:?} has count {}: a standalone volume attaches to one server; use the server's own `volumes` for one volume per instance",
                        s.count
                    ),
                )),
                Some(_) => {}
            }
        }
        let instances: u64 = res.servers.iter().map(|s| u64::from(s.count)).sum();
        if instances > MAX_INSTANCES {
            errors.push(FieldError::new(
                "resources.servers",
                format!("{instances} server instances in all; one request may ask for at most {MAX_INSTANCES}"),
            ));
        }
        errors
    }
}

/// From `personal` up, the declaration needs a justification and its declarant. Checked on the
/// document itself so these errors are reported together with any schema error.
fn declaration_errors(value: &Value) -> Vec<FieldError> {
    let declaration = &value["sensitivity"];
    let Some(level) = declaration["level"]
        .as_str()
        .and_then(|l| serde_json::from_value::<crate::Sensitivity>(Value::from(l)).ok())
    else {
        return Vec::new();
    };
    if !level.requires_declaration() {
        return Vec::new();
    }
    let blank = |field: &str| {
        declaration[field]
            .as_str()
            .is_none_or(|t| t.trim().is_empty())
    };
    let mut errors = Vec::new();
    if blank("justification") {
        errors.push(FieldError::new(
            "sensitivity.justification",
            format!(
                "required for `{level}` data (from `personal` up): say why the data has this level"
            ),
        ));
    }
    if blank("declared_by") {
        errors.push(FieldError::new(
            "sensitivity.declared_by",
            format!("required for `{level}` data (from `personal` up): name the data owner who declared the level"),
        ));
    }
    errors
}

fn unique<'a>(errors: &mut Vec<FieldError>, path: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen = HashSet::new();
    for (i, name) in names.enumerate() {
        if !seen.insert(name) {
            errors.push(FieldError::new(
                format!("{path}[{i}]"),
                format!("{name:?} appears twice"),
            ));
        }
    }
}

fn check_cidr(cidr: &str) -> std::result::Result<(), String> {
    let bad = || format!("{cidr:?} is not an IPv4 range such as 10.0.0.0/24");
    let (addr, prefix) = cidr.split_once('/').ok_or_else(bad)?;
    let addr: Ipv4Addr = addr.parse().map_err(|_| bad())?;
    let prefix: u32 = prefix.parse().map_err(|_| bad())?;
    if !(8..=29).contains(&prefix) {
        return Err(format!("prefix /{prefix} is outside /8 to /29"));
    }
    let mask = u32::MAX << (32 - prefix);
    if u32::from(addr) & !mask != 0 {
        return Err(format!("{addr} has host bits set for a /{prefix} range"));
    }
    Ok(())
}
