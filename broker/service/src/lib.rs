//! The Nuage broker service: the `/v1` HTTP API that internal developer platforms call, with
//! tenants and bearer tokens, a hash-chained audit log, storage on SQLite or PostgreSQL, and the
//! provisioning workflows that turn a placed request into cloud resources.
//!
//! - [`config`]: one loader (defaults → file → `NUAGE_` environment → flags), validated once;
//! - [`Broker`]: the service (database, catalogue and policy, providers, workflow engine,
//!   tokens, audit sealer, reconciler); [`Broker::run`] starts its background work;
//! - [`api::router`]: the axum router (the HTTP test seam), its OpenAPI document
//!   ([`api::openapi`]) and problem+json errors ([`Error`], codes in `docs/errors/`);
//! - [`provision`]: workflows compiled from a placed request (network → volumes → servers →
//!   attachments → wait), each step with its compensation, and deprovisioning in reverse;
//! - [`providers`]: provider instances from the configuration, a `sim` cloud for the others,
//!   labelled simulated everywhere; [`capacity`]: their live free capacity folded into the
//!   catalogue;
//! - [`auth`] (tokens hashed at rest, roles `requester` < `operator` < `admin`, tenants) and
//!   [`audit`] (append in the mutation's transaction, chained by hash, verifiable).
//!
//! It is not the placement engine (`nuage-placement`), the workflow engine
//! (`nuage-workflows`) or a cloud adapter (`nuage-provider-*`): it wires them together. The
//! `nuage` binary runs it (`nuage serve`).

pub mod api;
pub mod audit;
pub mod auth;
pub mod capacity;
pub mod config;
pub mod db;
mod error;
pub mod providers;
pub mod provision;
mod reconcile;
pub mod requests;
pub mod server;
mod service;
#[cfg(feature = "test-util")]
pub mod testing;

pub use error::{Code, Error, Problem, ProblemField, Result};
pub use service::{Broker, Running};
