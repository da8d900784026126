//! OpenStack adapter of Nuage: the internal tier (Nubo, Pi) and any cloud that speaks
//! OpenStack (OVHcloud's public cloud).
//!
//! - [`Session`]: Keystone v3 authentication (password or application credential, project or
//!   domain scope), token caching with renewal before expiry and on 401, and endpoint selection
//!   from the service catalog by service type, interface and region.
//! - Thin REST clients on reqwest + serde: [`Nova`] (microversion negotiated from the version
//!   document, flavors, servers, volume attachments), [`Neutron`] (networks, subnets, security
//!   groups and rules, ports), [`Glance`] (images by OS name and version), [`Cinder`] (volumes).
//! - [`OpenStackProvider`]: the `nuage-provider` contract on top of them: idempotent
//!   observe / create / update / delete found by the deterministic name and `nuage:*` tags.
//!
//! Every call is logged (tracing, `debug`) with its `x-openstack-request-id`; tokens and
//! secrets never are. Errors map onto the contract's neutral kinds (see [`Error::kind`]).
//!
//! It is not an SDK for all of OpenStack: only the calls the broker needs. It decides nothing
//! (no retries of refused calls beyond one token renewal; the workflow engine retries).

mod auth;
mod compute;
mod config;
mod error;
mod http;
mod image;
mod network;
mod provider;
mod volume;

pub use auth::{Catalog, CatalogEndpoint, CatalogService, Request, Session, Token};
pub use compute::{
    CreateServer, Fault, Flavor as NovaFlavor, MAX_MICROVERSION, MIN_MICROVERSION, Microversion,
    Nova, Server, ServerAddress, VolumeAttachment, negotiate,
};
pub use config::{AuthConfig, Credentials, Interface, OpenStackConfig, Scope, SecretRef};
pub use error::{ApiError, Error, Result};
pub use http::Reply;
pub use image::{Glance, Image};
pub use network::{
    Collection, FixedIp, Network, Neutron, Port, SecurityGroup, SecurityGroupRule, Subnet,
};
pub use provider::OpenStackProvider;
pub use volume::{Cinder, CreateVolume, VOLUME_MICROVERSION, Volume, VolumeAttachmentRef};
