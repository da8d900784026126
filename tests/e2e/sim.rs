//! The same lifecycle through the sim cloud (no provider configured): everything about the
//! request says simulated, in the API and in the broker's output and log.

use std::time::Duration;

use nuage_tests::client::Api;
use nuage_tests::server::{ADMIN_TOKEN, Serve};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::{FAST, both, database};
use nuage_broker::testing::Backend;

both!(sim_request_lifecycle);

async fn sim_request_lifecycle(backend: Backend) {
    let db = database(backend).await;
    let serve = Serve::start(&db.url, FAST);
    let admin = Api::new(&serve.url, ADMIN_TOKEN);
    let api = admin.with_token(&admin.token("requester", Some("min-culture")).await);
    let request = json!({
        "api_version": "nuage/v1", "name": "intranet-wiki", "tenant": "min-culture",
        "sensitivity": {"level": "internal"}, "budget": {"monthly_eur": 300},
        "resources": {
            "servers": [{"name": "wiki", "vcpus": 2, "ram_gib": 4, "image": {"os": "ubuntu", "version": "24.04"}}],
            "volumes": [{"name": "attachments", "size_gib": 50, "attach_to": "wiki"}]
        }
    });
    let (status, created) = api.call(Method::POST, "/v1/requests", Some(&request)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{created}");
    assert_eq!(created["simulated"], true);
    assert_eq!(created["placement"]["simulated"], true);
    let id = created["id"].as_str().unwrap().to_owned();
    let v = api.wait(&id, &["ready"], Duration::from_secs(60)).await;
    for r in v["resources"].as_array().unwrap() {
        assert_eq!(r["simulated"], true, "{r}");
        assert_eq!(r["status"], "ready");
    }
    let (status, _) = api
        .call(Method::DELETE, &format!("/v1/requests/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let v = api.wait(&id, &["deleted"], Duration::from_secs(60)).await;
    assert!(
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "deleted")
    );
    let log = serve.log();
    let instance = v["placement"]["instance"].as_str().unwrap();
    assert!(
        log.contains(&format!("provider {instance} (")) && log.contains("simulated"),
        "the startup output names the simulated instance:\n{log}"
    );
    assert!(
        log.contains("simulated=true"),
        "log lines say simulated:\n{log}"
    );
}
