//! End-to-end tests of the real `nuage serve` process, on SQLite and on PostgreSQL: a request
//! placed on an EC2-backed offer makes real resources in moto, goes `ready`, is deleted and
//! leaves moto empty; the same through the sim cloud; a broker killed with SIGKILL in the
//! middle of provisioning and started again finishes with no duplicate and no leak.

mod cloud;
mod crash;
mod moto;
mod sim;

use nuage_broker::testing::{Backend, TestDb};
use serde_json::{Value, json};

/// Runs `async fn name(backend: Backend)` as two tests, on SQLite and on PostgreSQL.
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(nuage_broker::testing::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(nuage_broker::testing::Backend::Postgres).await
            }
        }
    )*};
}
pub(crate) use both;

/// A database for a spawned broker.
pub(crate) async fn database(backend: Backend) -> TestDb {
    TestDb::new(backend).await
}

/// Fast engine and provisioning settings for a spawned broker.
pub(crate) const FAST: &str = "engine: {workers: 4, lease_ttl_ms: 3000, poll_interval_ms: 200}\n\
    reconcile_interval_ms: 200\n\
    shutdown_grace_ms: 2000\n\
    provisioning: {max_attempts: 8, base_delay_ms: 50, max_delay_ms: 1000, wait_timeout_ms: 60000, \
    poll_min_ms: 20, poll_max_ms: 300}\n";

/// A public request placed on the `aws-eu-west-3` offer (region constraint): `servers`
/// servers, each with its own volume, and a standalone volume attached to the first.
pub(crate) fn ec2_request(name: &str, servers: u32) -> Value {
    json!({
        "api_version": "nuage/v1",
        "name": name,
        "tenant": "dinum",
        "sensitivity": {"level": "public"},
        "location": {"regions": ["eu-west-3"]},
        "resources": {
            "networks": [{"name": "app", "cidr": "10.20.0.0/16"}],
            "servers": [
                {"name": "web", "vcpus": 2, "ram_gib": 4, "count": servers,
                 "image": {"os": "debian", "version": "12"},
                 "volumes": [{"name": "data", "size_gib": 8}]},
                {"name": "db", "vcpus": 2, "ram_gib": 8, "image": {"os": "debian", "version": "12"}}
            ],
            "volumes": [{"name": "backup", "size_gib": 20, "attach_to": "db"}]
        }
    })
}
