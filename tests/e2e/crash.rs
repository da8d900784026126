//! The broker killed with SIGKILL in the middle of provisioning (and of deprovisioning),
//! several times, then started again on the same database: the request finishes `ready` with
//! exactly one cloud resource per planned resource, and its deletion leaves nothing.
//!
//! The cloud is moto behind a proxy that delays every call, so provisioning takes long enough
//! to be interrupted between and inside steps; moto lives in the test process, so its state
//! survives the broker's deaths.

use std::time::Duration;

use nuage_provider_aws::testing::MotoServer;
use nuage_tests::client::Api;
use nuage_tests::proxy::SlowProxy;
use nuage_tests::server::{ADMIN_TOKEN, Serve};
use reqwest::{Method, StatusCode};

use crate::cloud::{Inventory, ec2_provider, inventory};
use crate::{FAST, both, database, ec2_request};
use nuage_broker::testing::Backend;

both!(sigkill_mid_provisioning_finishes_without_duplicates);

/// Waits until the named run has done at least `done` steps (or finished).
async fn until_steps(api: &Api, id: &str, run: &str, done: u64) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let v = api.get(id).await;
        let steps = v[run]["steps_done"].as_u64().unwrap_or(0);
        let state = v[run]["state"].as_str().unwrap_or_default();
        if state == "succeeded" {
            return false;
        }
        if steps >= done {
            return true;
        }
        assert!(tokio::time::Instant::now() < deadline, "stuck: {v}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn sigkill_mid_provisioning_finishes_without_duplicates(backend: Backend) {
    let moto = MotoServer::start();
    let proxy = SlowProxy::start(moto.port(), Duration::from_millis(120));
    let db = database(backend).await;
    let mut serve = Serve::start(
        &db.url,
        &format!("{FAST}{}", ec2_provider(&proxy.endpoint())),
    );
    let admin = Api::new(&serve.url, ADMIN_TOKEN);
    let api = admin.with_token(&admin.token("requester", Some("dinum")).await);

    let id = api.submit(&ec2_request("crash", 3)).await;
    let mut kills = 0;
    for done in [2, 6, 11, 15] {
        if !until_steps(&api, &id, "provisioning", done).await {
            break;
        }
        serve.kill();
        kills += 1;
        serve.restart();
    }
    assert!(
        kills >= 3,
        "provisioning ended before the broker could be killed 3 times"
    );
    proxy.set_delay(Duration::ZERO);
    let v = api.wait(&id, &["ready"], Duration::from_secs(180)).await;
    assert_eq!(v["provisioning"]["steps_done"], 19, "{v}");
    let expected = Inventory {
        vpcs: 1,
        subnets: 1,
        security_groups: 1,
        instances: 4,
        volumes: 4,
        attachments: 4,
    };
    assert_eq!(
        inventory(&moto, &id).await,
        expected,
        "one cloud resource per planned resource, no duplicate"
    );
    for r in v["resources"].as_array().unwrap() {
        assert_eq!(r["status"], "ready", "{r}");
    }
    // the run went through every process the kills left behind
    let op = admin.with_token(&admin.token("operator", Some("dinum")).await);
    let run = v["provisioning"]["workflow_id"].as_str().unwrap();
    let (_, timeline) = op
        .call(Method::GET, &format!("/v1/workflows/{run}"), None)
        .await;
    let workers: std::collections::BTreeSet<&str> = timeline["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["attempt_log"].as_array().unwrap())
        .map(|a| a["worker"].as_str().unwrap())
        .collect();
    assert!(
        workers.len() > kills,
        "{} workers for {kills} kills",
        workers.len()
    );

    // deletion, killed once in the middle too
    proxy.set_delay(Duration::from_millis(120));
    let (status, body) = api
        .call(Method::DELETE, &format!("/v1/requests/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    if until_steps(&api, &id, "deprovisioning", 4).await {
        serve.kill();
        serve.restart();
        kills += 1;
    }
    proxy.set_delay(Duration::ZERO);
    api.wait(&id, &["deleted"], Duration::from_secs(180)).await;
    assert_eq!(
        inventory(&moto, &id).await,
        Inventory::default(),
        "nothing leaked"
    );
    assert!(serve.starts() as usize == kills + 1);
}
