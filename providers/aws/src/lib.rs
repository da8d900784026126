//! The AWS EC2 adapter of Nuage: one [`AwsProvider`] per EC2 endpoint, AWS itself or an
//! EC2-compatible cloud (Outscale) reached by endpoint override.
//!
//! It implements the [`nuage_provider::Provider`] contract with `aws-sdk-ec2`:
//! networks are VPCs, subnets are subnets, security groups are VPC security groups whose rules
//! are kept exactly as specified, servers are instances (sizes mapped to instance types, OS
//! names to AMIs by owner and name pattern, dedicated servers placed on their own Dedicated
//! Host), volumes are EBS volumes, attachments are volume attachments. Everything carries the
//! `Name` and `nuage:*` tags, and every create looks up by tags before calling EC2 (and passes
//! a deterministic `ClientToken`), so a retry after a lost answer never duplicates, even on
//! endpoints that ignore the token. EC2 error codes map to neutral error kinds
//! ([`classify`]).
//!
//! Credentials come from the standard AWS chain or from a static key given as a
//! [`Secret`](nuage_provider::Secret); they never appear in logs or errors.
//!
//! This crate is the only one that builds `aws-sdk-ec2`. It has no error type of its own:
//! failures are [`nuage_provider::Error`]s. With the `test-util` feature it also offers
//! [`testing::MotoServer`], which runs the moto EC2 server for tests, and
//! [`testing::FaultLayer`], an HTTP layer that injects the faults moto cannot produce.

mod attachment;
mod config;
mod error;
mod host;
mod image;
mod network;
mod provider;
mod security_group;
mod server;
mod subnet;
mod tags;
mod volume;

#[cfg(feature = "test-util")]
pub mod testing;

pub use config::{
    AwsConfig, AwsCredentials, ImageRule, RetrySettings, Timeouts, WaitSettings, default_images,
    default_instance_types,
};
pub use error::classify;
pub use provider::AwsProvider;
