//! Provisioning through the API on the sim cloud, on SQLite and on PostgreSQL: a request goes
//! `ready` with every resource made once, is deleted and leaves nothing; a delete during
//! provisioning stops it and cleans up; failures wait for an operator who retries,
//! compensates or cancels; retryable faults are retried; the reconciler starts a run a crash
//! left unstarted.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{Backend, TestBroker, placed_instance, request, run_of, submit};
use nuage_broker::auth::Role;
use nuage_provider::sim::{FaultRule, Latency, SimCloud};
use nuage_provider::{ErrorKind, Operation, ResourceKind};
use serde_json::Value;
use std::sync::Arc;

both!(
    ready_then_deleted_leaves_nothing,
    delete_during_provisioning_cleans_up,
    failure_waits_for_operator_retry,
    operator_compensate_rolls_back,
    operator_cancel_removes_everything,
    delete_of_failed_request_cleans_up,
    retryable_faults_are_retried,
    reconciler_starts_a_missing_run,
);

const LONG: Duration = Duration::from_secs(30);

/// The sim cloud a request would be placed on.
async fn target(t: &TestBroker, tok: &str, body: &Value) -> Arc<SimCloud> {
    let instance = placed_instance(t, tok, body).await;
    t.broker.providers().sim(&instance).expect("a sim instance")
}

async fn held_vcpus(t: &TestBroker, tok: &str, tenant: &str) -> i64 {
    let a = t
        .call(
            Method::GET,
            &format!("/v1/tenants/{tenant}"),
            Some(tok),
            None,
        )
        .await;
    a.body["held"]["vcpus"].as_i64().unwrap()
}

async fn wait_released(t: &TestBroker, tok: &str, tenant: &str) {
    let deadline = tokio::time::Instant::now() + LONG;
    while held_vcpus(t, tok, tenant).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "quota never released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn ready_then_deleted_leaves_nothing(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let body = request("wiki", "dinum");
    let sim = target(&t, &tok, &body).await;
    let id = submit(&t, &tok, &body).await;
    let v = t.wait_state(&tok, &id, &["ready"], LONG).await;
    assert_eq!(v["simulated"], true);
    assert_eq!(v["placement"]["simulated"], true);
    assert!(v["cost"]["monthly_eur"].as_f64().unwrap() > 0.0);
    assert_eq!(v["provisioning"]["state"], "succeeded");
    assert_eq!(
        v["provisioning"]["steps_done"],
        v["provisioning"]["steps_total"]
    );
    let resources = v["resources"].as_array().unwrap();
    let kinds: Vec<&str> = resources
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "network",
            "subnet",
            "security_group",
            "volume",
            "server",
            "attachment"
        ]
    );
    for r in resources {
        assert_eq!(r["status"], "ready", "{r}");
        assert!(r["cloud_id"].as_str().is_some_and(|c| !c.is_empty()), "{r}");
        assert!(r["cloud_name"].as_str().unwrap().starts_with("nuage-"));
        assert_eq!(r["simulated"], true);
    }
    let server = &resources[4];
    assert!(
        !server["addresses"].as_array().unwrap().is_empty(),
        "{server}"
    );
    // exactly one of each in the cloud
    for kind in [
        ResourceKind::Network,
        ResourceKind::Subnet,
        ResourceKind::SecurityGroup,
        ResourceKind::Volume,
        ResourceKind::Server,
        ResourceKind::Attachment,
    ] {
        assert_eq!(sim.count(kind), 1, "{kind}");
    }
    assert_eq!(held_vcpus(&t, &tok, "dinum").await, 2);

    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED, "{}", d.body);
    let v = t.wait_state(&tok, &id, &["deleted"], LONG).await;
    assert_eq!(v["deprovisioning"]["state"], "succeeded");
    assert!(
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "deleted"),
        "{v}"
    );
    assert!(sim.resources().is_empty(), "{:?}", sim.resources());
    wait_released(&t, &tok, "dinum").await;
    // the audit log tells the story
    t.broker.sealer().seal_pending().await.unwrap();
    let log = t
        .call(
            Method::GET,
            &format!("/v1/audit?request={id}"),
            Some(&tok),
            None,
        )
        .await;
    let actions: Vec<&str> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["request.create", "request.delete", "request.release"]
    );
}

async fn delete_during_provisioning_cleans_up(backend: Backend) {
    let t = TestBroker::start(backend, |c| {
        c.sim.latency = Latency::fixed(Duration::from_millis(120));
    })
    .await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let body = request("slow", "dinum");
    let sim = target(&t, &tok, &body).await;
    let id = submit(&t, &tok, &body).await;
    // wait until some resources exist, not all
    let deadline = tokio::time::Instant::now() + LONG;
    loop {
        let v = t
            .call(Method::GET, &format!("/v1/requests/{id}"), Some(&tok), None)
            .await;
        let done = v.body["provisioning"]["steps_done"].as_u64().unwrap_or(0);
        if done >= 2 {
            assert_eq!(v.body["state"], "provisioning", "too late: {}", v.body);
            break;
        }
        assert!(tokio::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!sim.resources().is_empty());
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    assert!(
        ["deleting", "deleted"].contains(&d.body["state"].as_str().unwrap()),
        "{}",
        d.body
    );
    let v = t.wait_state(&tok, &id, &["deleted"], LONG).await;
    assert_eq!(v["provisioning"]["state"], "cancelled");
    assert!(
        v.get("deprovisioning").is_none(),
        "no deprovisioning run was needed"
    );
    assert!(sim.resources().is_empty(), "{:?}", sim.resources());
    wait_released(&t, &tok, "dinum").await;
}

async fn failing_request(t: &TestBroker, tok: &str, name: &str) -> (String, Arc<SimCloud>) {
    let body = request(name, "dinum");
    let sim = target(t, tok, &body).await;
    sim.faults().push(
        FaultRule::fail(ErrorKind::Terminal)
            .on(Operation::Create)
            .kind(ResourceKind::Server)
            .times(1),
    );
    let id = submit(t, tok, &body).await;
    let v = t.wait_state(tok, &id, &["failed"], LONG).await;
    assert_eq!(v["provisioning"]["state"], "failed");
    assert!(v["provisioning"]["error"].as_str().is_some(), "{v}");
    let server = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "server")
        .unwrap()
        .clone();
    assert_eq!(server["status"], "failed", "{server}");
    assert!(
        server["error"].as_str().unwrap().contains("terminal"),
        "{server}"
    );
    (id, sim)
}

async fn failure_waits_for_operator_retry(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let op = t.token(Role::Operator, Some("dinum")).await;
    let (id, sim) = failing_request(&t, &tok, "flaky").await;
    let run = run_of(&t, &tok, &id).await;
    // a requester may not retry; compensating is refused while... nothing: retry it
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/retry"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/retry"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    t.wait_state(&tok, &id, &["ready"], LONG).await;
    assert_eq!(sim.count(ResourceKind::Server), 1);
    // retrying a succeeded run is a conflict
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/retry"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.body["code"], "conflict");
    // the timeline shows the failed attempt and the operator's retry
    let tl = t
        .call(
            Method::GET,
            &format!("/v1/workflows/{run}"),
            Some(&op),
            None,
        )
        .await;
    let events: Vec<&str> = tl.body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(events.contains(&"operator_retry"), "{events:?}");
    t.broker.sealer().seal_pending().await.unwrap();
    let log = t
        .call(
            Method::GET,
            "/v1/audit?action=workflow.retry",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(log.body["items"].as_array().unwrap().len(), 1);
}

async fn operator_compensate_rolls_back(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let op = t.token(Role::Operator, None).await;
    let (id, sim) = failing_request(&t, &tok, "broken").await;
    assert!(!sim.resources().is_empty());
    let run = run_of(&t, &tok, &id).await;
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/compensate"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    t.wait_state(&tok, &id, &["rolled_back"], LONG).await;
    assert!(sim.resources().is_empty(), "{:?}", sim.resources());
    wait_released(&t, &tok, "dinum").await;
}

async fn operator_cancel_removes_everything(backend: Backend) {
    let t = TestBroker::start(backend, |c| {
        c.sim.latency = Latency::fixed(Duration::from_millis(100));
    })
    .await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let op = t.token(Role::Operator, Some("dinum")).await;
    let body = request("cancel-me", "dinum");
    let sim = target(&t, &tok, &body).await;
    let id = submit(&t, &tok, &body).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let run = run_of(&t, &tok, &id).await;
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/cancel"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    t.wait_state(&tok, &id, &["cancelled"], LONG).await;
    assert!(sim.resources().is_empty(), "{:?}", sim.resources());
    wait_released(&t, &tok, "dinum").await;
}

async fn delete_of_failed_request_cleans_up(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let (id, sim) = failing_request(&t, &tok, "doomed").await;
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    t.wait_state(&tok, &id, &["deleted"], LONG).await;
    assert!(sim.resources().is_empty(), "{:?}", sim.resources());
    wait_released(&t, &tok, "dinum").await;
}

async fn retryable_faults_are_retried(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let op = t.token(Role::Operator, Some("dinum")).await;
    let body = request("bumpy", "dinum");
    let sim = target(&t, &tok, &body).await;
    // a lost answer (created, but the step never heard) then a throttle: no duplicate
    sim.faults().push(
        FaultRule::fail_after_effect(ErrorKind::Transient)
            .on(Operation::Create)
            .kind(ResourceKind::Volume)
            .times(1),
    );
    sim.faults().push(
        FaultRule::fail(ErrorKind::Throttled {
            retry_after: Some(Duration::from_millis(50)),
        })
        .on(Operation::Create)
        .kind(ResourceKind::Server)
        .times(1),
    );
    let id = submit(&t, &tok, &body).await;
    let v = t.wait_state(&tok, &id, &["ready"], LONG).await;
    assert_eq!(
        sim.count(ResourceKind::Volume),
        1,
        "the lost answer made no duplicate"
    );
    assert_eq!(sim.count(ResourceKind::Server), 1);
    let run = v["provisioning"]["workflow_id"].as_str().unwrap();
    let tl = t
        .call(
            Method::GET,
            &format!("/v1/workflows/{run}"),
            Some(&op),
            None,
        )
        .await;
    let steps = tl.body["steps"].as_array().unwrap();
    let attempts = |name: &str| {
        steps.iter().find(|s| s["name"] == name).unwrap()["attempts"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(attempts("volume:data"), 2);
    assert_eq!(attempts("server:web-1"), 2);
    let kinds: Vec<&str> =
        steps.iter().find(|s| s["name"] == "server:web-1").unwrap()["attempt_log"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["error_kind"].as_str())
            .collect();
    assert_eq!(kinds, ["throttled"]);
}

async fn reconciler_starts_a_missing_run(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let id = submit(&t, &tok, &request("original", "dinum")).await;
    t.wait_state(&tok, &id, &["ready"], LONG).await;
    // A crash between storing a request and starting its run: a stored request with no run.
    let orphan = uuid::Uuid::now_v7().to_string();
    let n = t
        .db
        .exec(&format!(
            "INSERT INTO broker_requests (id, tenant, name, live_name, idempotency_key, body_digest, \
             request, decision, decision_digest, plan, offer, adapter, instance, simulated, region, \
             tier, monthly_micros, vcpus, ram_gib, storage_gib, created_at, created_by) \
             SELECT '{orphan}', tenant, 'orphan', 'orphan', NULL, body_digest, request, decision, \
             decision_digest, REPLACE(plan, '{id}', '{orphan}'), offer, adapter, instance, simulated, \
             region, tier, monthly_micros, vcpus, ram_gib, storage_gib, created_at - 5000, created_by \
             FROM broker_requests WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(n, 1);
    let v = t.wait_state(&tok, &orphan, &["ready"], LONG).await;
    let names: Vec<&str> = v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["cloud_name"].as_str().unwrap())
        .collect();
    let first = t
        .call(Method::GET, &format!("/v1/requests/{id}"), Some(&tok), None)
        .await;
    for r in first.body["resources"].as_array().unwrap() {
        assert!(
            !names.contains(&r["cloud_name"].as_str().unwrap()),
            "the orphan's resources are its own"
        );
    }
}
