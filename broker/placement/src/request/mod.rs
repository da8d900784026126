//! The service request: what a tenant asks for, with the declared sensitivity of its data.
//!
//! The model is versioned (`api_version: nuage/v1`); its JSON Schema is generated from these
//! types ([`request_schema`]) and checked in as `docs/schema/request.v1.json`. Parse untrusted
//! input with [`ServiceRequest::from_yaml`] or [`ServiceRequest::from_json_value`]: both report
//! every bad field by path and never return a half-valid request.

pub(crate) mod validate;

use crate::country::CountryCode;
use crate::money::Money;
use crate::vocabulary::{Sensitivity, ServiceKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use validate::{FieldError, request_schema};

/// The only request schema version this build understands.
pub const REQUEST_API_VERSION: &str = "nuage/v1";

/// The version tag of a request document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ApiVersion {
    /// The first stable version.
    #[serde(rename = "nuage/v1")]
    V1,
}

/// A request for cloud resources, placed and provisioned as one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Nuage service request")]
pub struct ServiceRequest {
    /// Schema version: `nuage/v1`.
    pub api_version: ApiVersion,
    /// The request's name, unique within its tenant: lower-case letters, digits and dashes.
    #[schemars(
        length(min = 1, max = 40),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub name: String,
    /// The tenant (administration) the resources belong to.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub tenant: String,
    /// Free text shown to operators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 1000))]
    pub description: Option<String>,
    /// The sensitivity of the data, as declared by its owner.
    pub sensitivity: SensitivityDeclaration,
    /// Where the data may be located, on top of what the policy requires.
    #[serde(default, skip_serializing_if = "LocationConstraint::is_empty")]
    pub location: LocationConstraint,
    /// Refuse offers built on technology controlled from outside the EU, even if qualified.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclude_non_eu_technology: bool,
    /// The most the request may cost per month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    /// The resources wanted.
    pub resources: Resources,
}

/// The declared sensitivity of the request's data, with who declared it and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SensitivityDeclaration {
    /// The level.
    pub level: Sensitivity,
    /// Why the data has this level; required from `personal` up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 2000))]
    pub justification: Option<String>,
    /// Who declared the level (name or e-mail of the data owner); required from `personal` up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub declared_by: Option<String>,
    /// The II 901 homologation reference of the tenant's system, for `restricted` data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 200))]
    pub homologation_ref: Option<String>,
}

/// Location constraints chosen by the requester. Empty means: whatever the policy allows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationConstraint {
    /// Only these countries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub countries: Vec<CountryCode>,
    /// Only these regions (offer region ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 50))]
    pub regions: Vec<String>,
    /// Only EU member states.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub eu_only: bool,
}

impl LocationConstraint {
    /// Whether the constraint allows every location.
    pub fn is_empty(&self) -> bool {
        self.countries.is_empty() && self.regions.is_empty() && !self.eu_only
    }
}

/// A monthly budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// The most the request may cost per month, in euros excluding VAT.
    pub monthly_eur: Money,
}

/// The resources of a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Private networks. When none is declared, servers get one network named `default`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub networks: Vec<NetworkRequest>,
    /// Standalone volumes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub volumes: Vec<VolumeRequest>,
    /// Servers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 256))]
    pub servers: Vec<ServerRequest>,
}

/// A private network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkRequest {
    /// Name, unique among the request's networks.
    #[schemars(
        length(min = 1, max = 40),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub name: String,
    /// IPv4 range in CIDR notation (prefix /8 to /29); chosen by the provider when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<String>,
}

/// A standalone block-storage volume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VolumeRequest {
    /// Name, unique among the request's volumes.
    #[schemars(
        length(min = 1, max = 40),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Size in GiB.
    #[schemars(range(min = 1, max = 65536))]
    pub size_gib: u32,
    /// The server (with `count: 1`) to attach it to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attach_to: Option<String>,
}

/// A group of identical servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerRequest {
    /// Name, unique among the request's servers; instances are named `NAME-1`, `NAME-2`...
    #[schemars(
        length(min = 1, max = 36),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Virtual CPUs per server.
    #[schemars(range(min = 1, max = 512))]
    pub vcpus: u32,
    /// Memory per server, in GiB.
    #[schemars(range(min = 1, max = 12288))]
    pub ram_gib: u32,
    /// The operating system image.
    pub image: ImageRef,
    /// How many identical servers.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 1000))]
    pub count: u32,
    /// Volumes created for and attached to each server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub volumes: Vec<ServerVolume>,
    /// Names of the networks the servers join; all declared networks when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    pub networks: Vec<String>,
}

fn one() -> u32 {
    1
}

/// A volume created for each server of a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerVolume {
    /// Name, unique among the server's volumes.
    #[schemars(
        length(min = 1, max = 20),
        regex(pattern = r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub name: String,
    /// Size in GiB.
    #[schemars(range(min = 1, max = 65536))]
    pub size_gib: u32,
}

/// An operating-system image, by name and version, resolved by each provider.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ImageRef {
    /// OS name, e.g. `debian`, `ubuntu`, `rocky`.
    #[schemars(length(min = 1, max = 40), regex(pattern = r"^[a-z][a-z0-9-]*$"))]
    pub os: String,
    /// OS version, e.g. `12`, `24.04`.
    #[schemars(
        length(min = 1, max = 20),
        regex(pattern = r"^[0-9A-Za-z][0-9A-Za-z.-]*$")
    )]
    pub version: String,
}

/// What a request adds up to, for capacity, quota and cost checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    /// Servers (instances).
    pub servers: u64,
    /// Virtual CPUs.
    pub vcpus: u64,
    /// Memory, GiB.
    pub ram_gib: u64,
    /// Block storage, GiB.
    pub storage_gib: u64,
}

impl ServiceRequest {
    /// The totals of the request's resources.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for s in &self.resources.servers {
            let n = u64::from(s.count);
            t.servers += n;
            t.vcpus += n * u64::from(s.vcpus);
            t.ram_gib += n * u64::from(s.ram_gib);
            t.storage_gib += n * s.volumes.iter().map(|v| u64::from(v.size_gib)).sum::<u64>();
        }
        t.storage_gib += self
            .resources
            .volumes
            .iter()
            .map(|v| u64::from(v.size_gib))
            .sum::<u64>();
        t
    }

    /// The kinds of service the request needs.
    pub fn service_kinds(&self) -> Vec<ServiceKind> {
        let r = &self.resources;
        let mut kinds = Vec::with_capacity(3);
        if !r.servers.is_empty() {
            kinds.push(ServiceKind::Server);
            kinds.push(ServiceKind::Network);
        } else if !r.networks.is_empty() {
            kinds.push(ServiceKind::Network);
        }
        if !r.volumes.is_empty() || r.servers.iter().any(|s| !s.volumes.is_empty()) {
            kinds.push(ServiceKind::Volume);
        }
        kinds.sort();
        kinds
    }
}
