//! Cross-crate end-to-end, multi-process and crash tests, and the harness that starts real
//! components for them: the real `nuage` binary ([`binary`], [`server::Serve`]), a client of
//! its API ([`client::Api`]), and a TCP proxy that slows a cloud down ([`proxy::SlowProxy`]).
//! The moto EC2 server comes from `nuage-provider-aws`'s `test-util`, throwaway databases from
//! `nuage-broker`'s.
//!
//! It is not a test framework: the tests live in `e2e/` and the API benchmark in `benches/`.

pub mod binary;
pub mod client;
pub mod proxy;
pub mod server;
