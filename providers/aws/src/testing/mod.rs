//! Test utilities (feature `test-util`): the moto EC2 server harness and an HTTP fault layer.
//!
//! [`MotoServer`] runs a real moto server (PyPI `moto[server]`, installed by
//! `scripts/deps/moto.sh`) on a free loopback port, with AMI and instance-type validation on and
//! a small catalogue of realistic Debian, Ubuntu and Amazon Linux AMIs. [`FaultLayer`] sits
//! between the EC2 client and the network and injects what moto never produces: throttling,
//! capacity errors, 5xx, timeouts, lost answers.

mod fault;
mod moto;

pub use fault::{FaultLayer, HttpFault, HttpFaultRule};
pub use moto::{MotoOptions, MotoServer, images};
