//! An offer of the catalogue: who sells what, where, under which law and qualifications, at what
//! price.

use crate::country::CountryCode;
use crate::money::Money;
use crate::request::{FieldError, ImageRef};
use crate::vocabulary::{ServiceKind, Tier};
use chrono::{Months, NaiveDate};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// How long a SecNumCloud qualification lasts when the file gives only its start date.
pub const SECNUMCLOUD_VALIDITY_MONTHS: u32 = 36;

/// A cloud offer Nuage may place requests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    /// Stable identifier, cited in decisions.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub id: String,
    /// Human-readable name.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// The company or administration operating it.
    #[schemars(length(min = 1, max = 200))]
    pub operator: String,
    /// Its tier in the State's strategy.
    pub tier: Tier,
    /// Which Nuage adapter and which configured instance of it provisions on this offer.
    pub binding: ProviderBinding,
    /// The provider's native API (a fact about the offer; the binding says how Nuage drives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api: Option<String>,
    /// Where it runs, in order of preference.
    #[schemars(length(min = 1, max = 64))]
    pub regions: Vec<Region>,
    /// The kinds of resource it provides; all when absent.
    #[serde(default = "all_kinds")]
    pub services: Vec<ServiceKind>,
    /// The images it provides; any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
    /// What it costs.
    pub pricing: Pricing,
    /// SecNumCloud qualification.
    #[serde(default)]
    pub secnumcloud: SecNumCloud,
    /// HDS (health data hosting) certification.
    #[serde(default)]
    pub hds: Hds,
    /// Whose law applies and who controls the provider.
    pub jurisdiction: Jurisdiction,
    /// Whether it may host Diffusion Restreinte systems.
    #[serde(default)]
    pub dr_capable: bool,
    /// Capacity still available to Nuage on this offer; unlimited when absent.
    #[serde(default, skip_serializing_if = "Capacity::is_unlimited")]
    pub capacity: Capacity,
    /// Purchasing vehicles (UGAP, RESAH...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub procurement: Vec<String>,
    /// Availability remark, e.g. `limited` (not 24/7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub availability: Option<String>,
    /// The facts of this entry that are estimates rather than published figures (field paths).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub estimates: Vec<String>,
    /// Sources and remarks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

fn all_kinds() -> Vec<ServiceKind> {
    ServiceKind::ALL.to_vec()
}

/// The adapter kinds Nuage can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AdapterKind {
    /// OpenStack (Keystone, Nova, Neutron, Cinder, Glance).
    Openstack,
    /// Pools of libvirt hosts (dedicated tier).
    Libvirt,
    /// AWS EC2 or an EC2-compatible API (Outscale).
    Ec2,
    /// The simulated cloud.
    Sim,
}

impl AdapterKind {
    /// The kind's name as written in files.
    pub fn as_str(self) -> &'static str {
        match self {
            AdapterKind::Openstack => "openstack",
            AdapterKind::Libvirt => "libvirt",
            AdapterKind::Ec2 => "ec2",
            AdapterKind::Sim => "sim",
        }
    }
}

/// The adapter and configured provider instance an offer provisions through.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderBinding {
    /// The adapter.
    pub adapter: AdapterKind,
    /// The provider instance's name in the broker's configuration.
    #[schemars(
        length(min = 1, max = 63),
        regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
    )]
    pub instance: String,
}

/// A region of an offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    /// The provider's region id.
    #[schemars(length(min = 1, max = 63))]
    pub id: String,
    /// The country the data centres are in.
    pub country: CountryCode,
}

/// Prices, in euros excluding VAT, list price on demand.
///
/// Either per vCPU-hour with RAM included up to a ratio (`vcpu_hour` + `ram_gib_per_vcpu`), or
/// a list of flavors with an hourly price each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Pricing {
    /// Price of one vCPU for one hour, RAM included up to `ram_gib_per_vcpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpu_hour: Option<Money>,
    /// GiB of RAM included with each vCPU; more RAM is billed as extra vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub ram_gib_per_vcpu: Option<u32>,
    /// Flavors with an hourly price.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flavors: Vec<Flavor>,
    /// Block storage, per GiB and month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_gib_month: Option<Money>,
    /// Whether these prices are estimates rather than published list prices.
    #[serde(default)]
    pub estimate: bool,
    /// The date the prices were read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_of: Option<NaiveDate>,
    /// Where they come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A server size with its price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flavor {
    /// The provider's flavor name.
    #[schemars(length(min = 1, max = 63))]
    pub name: String,
    /// vCPUs.
    #[schemars(range(min = 1, max = 1024))]
    pub vcpus: u32,
    /// RAM in GiB.
    #[schemars(range(min = 1, max = 24576))]
    pub ram_gib: u32,
    /// Price per hour.
    pub hour: Money,
}

/// Milestones of a SecNumCloud qualification. Only `qualified` counts as qualified.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize, JsonSchema,
)]
pub enum QualificationStatus {
    /// Not engaged.
    #[default]
    #[serde(rename = "none")]
    None,
    /// Application accepted (J0).
    J0,
    /// Evaluation under way (J1).
    J1,
    /// Evaluation finished, decision pending (J2).
    J2,
    /// Qualified.
    #[serde(rename = "qualified")]
    Qualified,
}

/// An offer's SecNumCloud qualification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecNumCloud {
    /// The milestone reached.
    #[serde(default)]
    pub status: QualificationStatus,
    /// The referential version, e.g. `3.2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// When the status was reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    /// Last day of validity; three years after `since` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

impl SecNumCloud {
    /// Last day the qualification is valid: `valid_until`, else three years after `since`.
    pub fn expires(&self) -> Option<NaiveDate> {
        self.valid_until.or_else(|| {
            self.since
                .and_then(|d| d.checked_add_months(Months::new(SECNUMCLOUD_VALIDITY_MONTHS)))
        })
    }
}

/// An offer's HDS certification.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hds {
    /// Whether the host is HDS certified.
    #[serde(default)]
    pub certified: bool,
    /// Last day of validity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
}

/// Jurisdiction and ownership facts (SecNumCloud 3.2 §19.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Jurisdiction {
    /// Country of the provider's seat.
    pub seat: CountryCode,
    /// Whether a non-EU entity controls the provider or can reach the data (extra-EU law
    /// exposure).
    pub non_eu_control: bool,
    /// Whether the offer is built on technology controlled from outside the EU.
    #[serde(default)]
    pub technology_dependency_non_eu: bool,
    /// Laws the offer is exposed to (e.g. CLOUD Act, FISA 702).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exposure: Vec<String>,
}

/// Capacity still available on an offer; `None` fields are unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Server instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servers: Option<u64>,
    /// vCPUs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u64>,
    /// RAM, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_gib: Option<u64>,
    /// Block storage, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_gib: Option<u64>,
}

impl Capacity {
    /// Whether no limit is set.
    pub fn is_unlimited(&self) -> bool {
        *self == Capacity::default()
    }
}

impl Offer {
    /// The rules a schema cannot express.
    pub(crate) fn semantic_errors(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let p = &self.pricing;
        match (
            p.vcpu_hour.is_some(),
            p.ram_gib_per_vcpu.is_some(),
            p.flavors.is_empty(),
        ) {
            (true, true, true) | (false, false, false) => {}
            (true, false, _) | (false, true, _) => errors.push(FieldError::new(
                "pricing",
                "`vcpu_hour` and `ram_gib_per_vcpu` go together",
            )),
            (true, true, false) => errors.push(FieldError::new(
                "pricing",
                "give either `vcpu_hour` with `ram_gib_per_vcpu`, or `flavors`, not both",
            )),
            (false, false, true) => errors.push(FieldError::new(
                "pricing",
                "no price: give `vcpu_hour` with `ram_gib_per_vcpu`, or `flavors`",
            )),
        }
        if self.services.contains(&ServiceKind::Volume) && p.block_gib_month.is_none() {
            errors.push(FieldError::new(
                "pricing.block_gib_month",
                "required when the offer provides volumes",
            ));
        }
        let mut names = HashSet::new();
        for (i, f) in p.flavors.iter().enumerate() {
            if !names.insert(f.name.as_str()) {
                errors.push(FieldError::new(
                    format!("pricing.flavors[{i}].name"),
                    format!("{:?} appears twice", f.name),
                ));
            }
        }
        let mut regions = HashSet::new();
        for (i, r) in self.regions.iter().enumerate() {
            if !regions.insert(r.id.as_str()) {
                errors.push(FieldError::new(
                    format!("regions[{i}].id"),
                    format!("{:?} appears twice", r.id),
                ));
            }
        }
        let mut kinds = HashSet::new();
        for (i, k) in self.services.iter().enumerate() {
            if !kinds.insert(*k) {
                errors.push(FieldError::new(
                    format!("services[{i}]"),
                    format!("{k} appears twice"),
                ));
            }
        }
        let snc = &self.secnumcloud;
        if snc.status == QualificationStatus::Qualified && snc.expires().is_none() {
            errors.push(FieldError::new(
                "secnumcloud",
                "a qualified offer needs `since` or `valid_until` so its validity can be checked",
            ));
        }
        if let (Some(since), Some(until)) = (snc.since, snc.valid_until)
            && until < since
        {
            errors.push(FieldError::new(
                "secnumcloud.valid_until",
                format!("{until} is before `since` ({since})"),
            ));
        }
        if self.hds.valid_until.is_some() && !self.hds.certified {
            errors.push(FieldError::new(
                "hds.valid_until",
                "set only for a certified offer (`certified: true`)",
            ));
        }
        errors
    }
}
