//! Operator tooling through the API, on SQLite and on PostgreSQL: faults of the simulated
//! clouds set and cleared by a global admin (and refused to anyone else, and for bad rules);
//! a failed run retried from an earlier step; runs and audit entries filtered by time; a
//! run's lease and step times in its timeline.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{Backend, TestBroker, counts, placed_instance, request, run_of, submit};
use nuage_broker::auth::Role;
use nuage_provider::ResourceKind;
use serde_json::{Value, json};

both!(
    sim_faults_are_set_and_cleared_by_a_global_admin,
    bad_fault_documents_change_nothing,
    a_run_is_retried_from_an_earlier_step,
    runs_and_audit_entries_filter_by_time,
);

const LONG: Duration = Duration::from_secs(30);

fn server_quota() -> Value {
    json!({"rules": [{"on": "create", "kind": "server", "fail": "quota"}]})
}

async fn sim_faults_are_set_and_cleared_by_a_global_admin(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let admin = t.token(Role::Admin, None).await;
    let tenant_admin = t.token(Role::Admin, Some("dinum")).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let body = request("wiki", "dinum");
    let inst = placed_instance(&t, &tok, &body).await;
    let path = format!("/v1/admin/sim/{inst}/faults");

    // every simulated instance is listed, with no fault
    let l = t
        .call(Method::GET, "/v1/admin/sim", Some(&admin), None)
        .await;
    assert_eq!(l.status, StatusCode::OK, "{}", l.body);
    let items = l.body["items"].as_array().unwrap();
    assert!(
        items.iter().any(|i| i["instance"] == inst.as_str()),
        "{}",
        l.body
    );
    assert!(items.iter().all(|i| i["rules"] == json!([])), "{}", l.body);

    // only a global admin: a requester or a tenant's admin is refused, nothing is set
    for who in [&tok, &tenant_admin] {
        let r = t
            .call(Method::PUT, &path, Some(who), Some(&server_quota()))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    }
    let r = t.call(Method::GET, "/v1/admin/sim", None, None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let sim = t.broker.providers().sim(&inst).unwrap();
    assert!(sim.faults().rules().is_empty());

    // an unknown instance is 404
    let r = t
        .call(
            Method::PUT,
            "/v1/admin/sim/nowhere/faults",
            Some(&admin),
            Some(&server_quota()),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);

    // set: the next request fails at its server step with the injected quota error
    let r = t
        .call(Method::PUT, &path, Some(&admin), Some(&server_quota()))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["instance"], inst.as_str());
    assert_eq!(r.body["rules"], server_quota()["rules"]);
    let id = submit(&t, &tok, &body).await;
    let v = t.wait_state(&tok, &id, &["failed"], LONG).await;
    assert!(
        v["provisioning"]["error"]
            .as_str()
            .unwrap()
            .contains("quota fault injected"),
        "{v}"
    );
    assert_eq!(sim.count(ResourceKind::Server), 0);
    let l = t
        .call(Method::GET, "/v1/admin/sim", Some(&admin), None)
        .await;
    let mine = l.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["instance"] == inst.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["injected"], 1, "{mine}");

    // clear: a retry goes through
    let r = t.call(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["rules"], json!([]));
    let op = t.token(Role::Operator, None).await;
    let run = run_of(&t, &tok, &id).await;
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

    // both changes are audited, by the admin's token
    t.broker.sealer().seal_pending().await.unwrap();
    for action in ["sim.faults.set", "sim.faults.clear"] {
        let log = t
            .call(
                Method::GET,
                &format!("/v1/audit?action={action}"),
                Some(&admin),
                None,
            )
            .await;
        let items = log.body["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{action}: {}", log.body);
        assert_eq!(items[0]["target"], format!("sim/{inst}"));
    }
}

async fn bad_fault_documents_change_nothing(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let admin = t.token(Role::Admin, None).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let inst = placed_instance(&t, &tok, &request("wiki", "dinum")).await;
    let path = format!("/v1/admin/sim/{inst}/faults");
    t.call(Method::PUT, &path, Some(&admin), Some(&server_quota()))
        .await;
    let before = counts(&t).await;
    for (doc, field) in [
        (json!({"rules": [{"fail": "explode"}]}), "rules[0]"),
        (json!({"rules": [{"on": "create"}]}), "rules[0]"),
        (
            json!({"rules": [{"fail": "quota", "times": 0}]}),
            "rules[0]",
        ),
        (json!({"rates": {"transient": 1.5}}), "rates.transient"),
        (
            json!({"rates": {"transient": 0.6, "throttle": 0.6}}),
            "rates",
        ),
        (json!({"rates": {"typo": 1}}), "rates"),
        (json!({"extra": true}), ""),
    ] {
        let r = t.call(Method::PUT, &path, Some(&admin), Some(&doc)).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{doc}: {}",
            r.body
        );
        assert_eq!(r.body["code"], "invalid-request", "{}", r.body);
        let paths: Vec<&str> = r.body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["path"].as_str().unwrap())
            .collect();
        assert!(
            paths.iter().any(|p| p.starts_with(field)),
            "{doc}: {paths:?}"
        );
    }
    assert_eq!(
        counts(&t).await,
        before,
        "no audit entry for a refused change"
    );
    let sim = t.broker.providers().sim(&inst).unwrap();
    assert_eq!(
        sim.faults().rules().len(),
        1,
        "the faults in force are kept"
    );
}

async fn a_run_is_retried_from_an_earlier_step(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let admin = t.token(Role::Admin, None).await;
    let op = t.token(Role::Operator, Some("dinum")).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let body = request("wiki", "dinum");
    let inst = placed_instance(&t, &tok, &body).await;
    let path = format!("/v1/admin/sim/{inst}/faults");
    t.call(Method::PUT, &path, Some(&admin), Some(&server_quota()))
        .await;
    let id = submit(&t, &tok, &body).await;
    t.wait_state(&tok, &id, &["failed"], LONG).await;
    let run = run_of(&t, &tok, &id).await;
    let tl = t
        .call(
            Method::GET,
            &format!("/v1/workflows/{run}"),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(tl.status, StatusCode::OK);
    let steps = tl.body["steps"].as_array().unwrap().clone();
    let failed = steps.iter().find(|s| s["state"] == "failed").unwrap();
    let failed_at = failed["position"].as_u64().unwrap() as usize;
    assert!(failed_at > 0, "steps before the server's succeeded");
    for (i, s) in steps.iter().enumerate() {
        assert_eq!(s["position"], i, "{s}");
    }
    assert!(steps[0]["started_at"].is_string() && steps[0]["finished_at"].is_string());
    // the failed run: no worker holds it, nothing scheduled, an epoch
    let w = &tl.body["workflow"];
    assert!(w["lease"]["owner"].is_null(), "{w}");
    assert!(w["lease"]["epoch"].as_i64().unwrap() >= 1, "{w}");
    assert!(w.get("next_run_at").is_none(), "{w}");
    assert_eq!(w["on_failure"], "wait_for_operator");

    // from a later step, or an unknown one: 409, and the run stays failed
    let retry = |from: &str| json!({ "from_step": from });
    let later = steps.last().unwrap()["name"].as_str().unwrap().to_owned();
    for from in [later.as_str(), "no-such-step"] {
        let r = t
            .call(
                Method::POST,
                &format!("/v1/workflows/{run}/retry"),
                Some(&op),
                Some(&retry(from)),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains(from),
            "{}",
            r.body
        );
    }
    let v = t
        .call(Method::GET, &format!("/v1/requests/{id}"), Some(&tok), None)
        .await;
    assert_eq!(v.body["state"], "failed");

    // from the first step, once the cloud behaves: it runs again and finds its network
    t.call(Method::DELETE, &path, Some(&admin), None).await;
    let first = steps[0]["name"].as_str().unwrap();
    let r = t
        .call(
            Method::POST,
            &format!("/v1/workflows/{run}/retry"),
            Some(&op),
            Some(&json!({ "from_step": first, "reset_attempts": true })),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.body);
    t.wait_state(&tok, &id, &["ready"], LONG).await;
    let sim = t.broker.providers().sim(&inst).unwrap();
    assert_eq!(sim.count(ResourceKind::Network), 1, "no second network");
    assert_eq!(sim.count(ResourceKind::Server), 1);
    let tl = t
        .call(
            Method::GET,
            &format!("/v1/workflows/{run}"),
            Some(&op),
            None,
        )
        .await;
    let again = &tl.body["steps"][0];
    assert_eq!(again["attempts"], 1, "attempts numbered from 1 again");
    assert_eq!(again["attempt_log"].as_array().unwrap().len(), 2);
    assert_eq!(again["output"], steps[0]["output"], "the same network");
    t.broker.sealer().seal_pending().await.unwrap();
    let log = t
        .call(
            Method::GET,
            "/v1/audit?action=workflow.retry",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(
        log.body["items"][0]["details"]["from_step"], first,
        "{}",
        log.body
    );
}

async fn runs_and_audit_entries_filter_by_time(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let op = t.token(Role::Operator, None).await;
    let admin = t.token(Role::Admin, None).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let first = submit(&t, &tok, &request("one", "dinum")).await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let mid = chrono::Utc::now();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = submit(&t, &tok, &request("two", "dinum")).await;
    let (r1, r2) = (
        run_of(&t, &tok, &first).await,
        run_of(&t, &tok, &second).await,
    );
    let q = |k: &str| {
        format!(
            "{k}={}",
            mid.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        )
    };
    let ids = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let after = t
        .call(
            Method::GET,
            &format!("/v1/workflows?{}", q("created_after")),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert_eq!(ids(&after.body), vec![r2.clone()]);
    let before = t
        .call(
            Method::GET,
            &format!("/v1/workflows?{}", q("created_before")),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(ids(&before.body), vec![r1]);
    // pages of one, bounded in time, still end
    let page = t
        .call(
            Method::GET,
            &format!("/v1/workflows?limit=1&{}", q("created_after")),
            Some(&op),
            None,
        )
        .await;
    assert_eq!(ids(&page.body), vec![r2]);
    assert!(page.body.get("next_cursor").is_none(), "{}", page.body);
    let bad = t
        .call(
            Method::GET,
            "/v1/workflows?created_after=yesterday",
            Some(&op),
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.body);

    t.broker.sealer().seal_pending().await.unwrap();
    let since = t
        .call(
            Method::GET,
            &format!("/v1/audit?action=request.create&{}", q("since")),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(since.status, StatusCode::OK, "{}", since.body);
    let reqs: Vec<&str> = since.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(reqs, vec![second.as_str()]);
    let until = t
        .call(
            Method::GET,
            &format!("/v1/audit?action=request.create&{}", q("until")),
            Some(&admin),
            None,
        )
        .await;
    let reqs: Vec<&str> = until.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(reqs, vec![first.as_str()]);
}
