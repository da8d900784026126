//! Placement for Nuage: the service-request model, the offer catalogue, the sovereignty policy,
//! and explainable, deterministic placement decisions.
//!
//! This crate is pure: it reads files only when asked to load a catalogue or policy, does no
//! network or database I/O, and holds no state. The broker, the CLI and the Kubernetes
//! controller all place through [`place`].
//!
//! ```
//! use nuage_placement::{Catalogue, Policy, PlacementContext, ServiceRequest, place};
//!
//! let request = ServiceRequest::from_yaml(r#"
//! api_version: nuage/v1
//! name: etat-civil
//! tenant: min-interieur
//! sensitivity:
//!   level: sensitive
//!   justification: civil-status records (CRPA L.311-6, private life)
//!   declared_by: dpo@interieur.gouv.fr
//! resources:
//!   servers:
//!     - {name: app, vcpus: 2, ram_gib: 8, image: {os: debian, version: "12"}}
//! "#).unwrap();
//! let at = "2026-11-29T00:00:00Z".parse().unwrap();
//! let decision = place(&request, &Catalogue::example(), &Policy::default_policy(),
//!                      &PlacementContext::at(at));
//! let chosen = decision.placement.expect("an internal or qualified offer takes it");
//! assert_ne!(chosen.tier, nuage_placement::Tier::External);
//! ```
//!
//! It is not the provisioning engine: a decision names an offer and its provider binding; the
//! broker turns it into a workflow.

pub mod catalogue;
mod country;
mod error;
mod money;
pub mod placement;
pub mod policy;
pub mod request;
mod vocabulary;

pub use catalogue::{Catalogue, Offer};
pub use country::{CountryCode, CountrySet};
pub use error::{Error, Result, SourcedError};
pub use money::{HOURS_PER_MONTH, Money};
pub use placement::decision::{Decision, Outcome, Stage};
pub use placement::{PlacementContext, TenantLimits, place, request_digest};
pub use policy::Policy;
pub use request::{FieldError, ServiceRequest};
pub use vocabulary::{Sensitivity, ServiceKind, Tier, TierSet};
