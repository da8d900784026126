//! Shared test helpers: requests to submit, and `both!` to run a scenario on SQLite and on
//! PostgreSQL.
#![allow(dead_code, unreachable_pub, missing_docs)]

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

pub use nuage_broker::testing::{Backend, TestBroker};

/// Runs `async fn name(backend: Backend)` as two tests, on SQLite and on PostgreSQL.
#[macro_export]
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

/// A small public request: one server with an attached volume.
pub fn request(name: &str, tenant: &str) -> Value {
    json!({
        "api_version": "nuage/v1",
        "name": name,
        "tenant": tenant,
        "sensitivity": {"level": "public"},
        "resources": {
            "servers": [{"name": "web", "vcpus": 2, "ram_gib": 4, "image": {"os": "debian", "version": "12"}}],
            "volumes": [{"name": "data", "size_gib": 10, "attach_to": "web"}]
        }
    })
}

/// A request of `vcpus` vCPUs in one server, no volume.
pub fn sized(name: &str, tenant: &str, vcpus: u32) -> Value {
    json!({
        "api_version": "nuage/v1",
        "name": name,
        "tenant": tenant,
        "sensitivity": {"level": "public"},
        "resources": {
            "servers": [{"name": "app", "vcpus": vcpus, "ram_gib": vcpus * 2, "image": {"os": "debian", "version": "12"}}]
        }
    })
}

/// What the database holds, to check that refused input changed nothing.
pub async fn counts(t: &TestBroker) -> (i64, i64, i64) {
    (
        t.db.count("FROM broker_requests").await,
        t.db.count("FROM wf_workflows").await,
        t.db.count("FROM broker_audit").await,
    )
}

/// The provider instance a request would be placed on (`POST /v1/plan`).
pub async fn placed_instance(t: &TestBroker, tok: &str, body: &Value) -> String {
    let plan = t
        .call(Method::POST, "/v1/plan", Some(tok), Some(body))
        .await;
    plan.body["placement"]["binding"]["instance"]
        .as_str()
        .expect("placed")
        .to_owned()
}

/// Submits a request, expecting 202; its id.
pub async fn submit(t: &TestBroker, tok: &str, body: &Value) -> String {
    let a = t
        .call(Method::POST, "/v1/requests", Some(tok), Some(body))
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    a.body["id"].as_str().unwrap().to_owned()
}

/// The provisioning run of a request.
pub async fn run_of(t: &TestBroker, tok: &str, id: &str) -> String {
    let v = t
        .call(Method::GET, &format!("/v1/requests/{id}"), Some(tok), None)
        .await;
    v.body["provisioning"]["workflow_id"]
        .as_str()
        .unwrap()
        .to_owned()
}
