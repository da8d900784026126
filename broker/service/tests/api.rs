//! The `/v1` API through the router (no socket), on SQLite and on PostgreSQL: authentication
//! and roles, tenant isolation, idempotency keys, dry runs, every bad-input class answered 4xx
//! with nothing stored, refusals and quotas, listing, tokens, the audit chain.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{Backend, TestBroker, counts, request, sized};
use nuage_broker::auth::Role;
use serde_json::{Value, json};

both!(
    auth_and_roles,
    tenant_isolation,
    idempotency_keys,
    dry_run_stores_nothing,
    bad_input_changes_nothing,
    refusals_and_quotas,
    names_are_unique_among_live_requests,
    listing_filters_and_pages,
    offers_and_plan,
    tokens_are_shown_once,
    audit_chain_detects_tampering,
);

fn problem_code(a: &nuage_broker::testing::Answer) -> &str {
    assert_eq!(
        a.headers["content-type"], "application/problem+json",
        "{:?}",
        a.body
    );
    assert_eq!(
        a.body["status"].as_u64(),
        Some(u64::from(a.status.as_u16()))
    );
    a.body["code"].as_str().unwrap_or_default()
}

async fn auth_and_roles(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    // no token, a malformed one, an unknown one
    let a = t.call(Method::GET, "/v1/requests", None, None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert_eq!(problem_code(&a), "unauthorized");
    assert!(a.headers.contains_key("www-authenticate"));
    let a = t
        .call(Method::GET, "/v1/requests", Some("hello"), None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let unknown = nuage_broker::auth::generate_token();
    let a = t
        .call(Method::GET, "/v1/requests", Some(unknown.expose()), None)
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    // roles
    let req = t.token(Role::Requester, Some("dinum")).await;
    let op = t.token(Role::Operator, Some("dinum")).await;
    assert_eq!(
        t.call(Method::GET, "/v1/requests", Some(&req), None)
            .await
            .status,
        StatusCode::OK
    );
    let a = t.call(Method::GET, "/v1/workflows", Some(&req), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(problem_code(&a), "forbidden");
    assert_eq!(
        t.call(Method::GET, "/v1/workflows", Some(&op), None)
            .await
            .status,
        StatusCode::OK
    );
    let a = t.call(Method::GET, "/v1/tokens", Some(&op), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let me = t.call(Method::GET, "/v1/me", Some(&op), None).await;
    assert_eq!(me.body["role"], "operator");
    assert_eq!(me.body["tenant"], "dinum");
    // open routes, unknown paths and methods
    assert_eq!(
        t.call(Method::GET, "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.call(Method::GET, "/readyz", None, None).await.status,
        StatusCode::OK
    );
    let doc = t.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(doc.body["info"]["title"], "Nuage broker API");
    let a = t.call(Method::GET, "/v1/nothing", Some(&req), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(problem_code(&a), "not-found");
    let a = t.call(Method::PUT, "/v1/requests", Some(&req), None).await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem_code(&a), "method-not-allowed");
    // every answer carries a request id
    assert!(a.headers.contains_key("x-request-id"));
}

async fn tenant_isolation(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let a = t.token(Role::Requester, Some("tenant-a")).await;
    let b = t.token(Role::Requester, Some("tenant-b")).await;
    let b_op = t.token(Role::Admin, Some("tenant-b")).await;
    let created = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&a),
            Some(&request("wiki", "tenant-a")),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_owned();
    let run = created.body["provisioning"]["workflow_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // B cannot read, list, delete or retry A's request, and cannot tell it exists.
    let absent = t
        .call(
            Method::GET,
            "/v1/requests/0190f000-0000-7000-8000-000000000000",
            Some(&b),
            None,
        )
        .await;
    let other = t
        .call(Method::GET, &format!("/v1/requests/{id}"), Some(&b), None)
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(other.body["code"], absent.body["code"]);
    for token in [&b, &b_op] {
        let list = t.call(Method::GET, "/v1/requests", Some(token), None).await;
        assert_eq!(list.body["items"], json!([]), "{}", list.body);
        let list = t
            .call(
                Method::GET,
                "/v1/requests?tenant=tenant-a",
                Some(token),
                None,
            )
            .await;
        assert_eq!(list.body["items"], json!([]));
        let del = t
            .call(
                Method::DELETE,
                &format!("/v1/requests/{id}"),
                Some(token),
                None,
            )
            .await;
        assert_eq!(del.status, StatusCode::NOT_FOUND);
    }
    for action in ["retry", "cancel", "compensate", "resume"] {
        let r = t
            .call(
                Method::POST,
                &format!("/v1/workflows/{run}/{action}"),
                Some(&b_op),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{action}: {}", r.body);
    }
    let w = t
        .call(
            Method::GET,
            &format!("/v1/workflows/{run}"),
            Some(&b_op),
            None,
        )
        .await;
    assert_eq!(w.status, StatusCode::NOT_FOUND);
    let wl = t
        .call(Method::GET, "/v1/workflows", Some(&b_op), None)
        .await;
    assert_eq!(wl.body["items"], json!([]));
    // B's audit view holds none of A's entries; the global admin sees them
    let audit = t.call(Method::GET, "/v1/audit", Some(&b_op), None).await;
    assert!(
        audit.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["tenant"] == "tenant-b"),
        "{}",
        audit.body
    );
    let all = t
        .call(
            Method::GET,
            "/v1/audit?action=request.create",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(all.body["items"][0]["request_id"], id.as_str());
    // B cannot submit for A
    let before = counts(&t).await;
    let r = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&b),
            Some(&request("x", "tenant-a")),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(counts(&t).await, before);
    // A still sees its own request, untouched
    let mine = t
        .call(Method::GET, &format!("/v1/requests/{id}"), Some(&a), None)
        .await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body["delete_requested_at"].is_null());
}

async fn idempotency_keys(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let post = |body: Value, key: &'static str| {
        let tok = tok.clone();
        let t = &t;
        async move {
            let req = Request::post("/v1/requests")
                .header("authorization", format!("Bearer {tok}"))
                .header("content-type", "application/json")
                .header("idempotency-key", key)
                .body(Body::from(body.to_string()))
                .unwrap();
            t.send(req).await
        }
    };
    let first = post(request("wiki", "dinum"), "key-1").await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert!(!first.headers.contains_key("idempotent-replayed"));
    let again = post(request("wiki", "dinum"), "key-1").await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "{}", again.body);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["id"], first.body["id"]);
    let other = post(request("wiki-2", "dinum"), "key-1").await;
    assert_eq!(other.status, StatusCode::CONFLICT);
    assert_eq!(problem_code(&other), "idempotency-mismatch");
    assert_eq!(t.db.count("FROM broker_requests").await, 1);
    assert_eq!(t.db.count("FROM wf_workflows").await, 1);

    // the same key from concurrent clients gives one request
    let mut tasks = Vec::new();
    for _ in 0..8 {
        tasks.push(post(request("burst", "dinum"), "key-2"));
    }
    let answers = futures::future::join_all(tasks).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .filter(|a| a.status == StatusCode::ACCEPTED)
        .map(|a| a.body["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    for a in &answers {
        assert!(
            a.status == StatusCode::ACCEPTED || a.status == StatusCode::CONFLICT,
            "{a:?}"
        );
    }
    assert_eq!(t.db.count("FROM broker_requests").await, 2);
    assert_eq!(t.db.count("FROM wf_workflows").await, 2);
    // a bad key is refused
    let req = Request::post("/v1/requests")
        .header("authorization", format!("Bearer {tok}"))
        .header("content-type", "application/json")
        .header("idempotency-key", "x".repeat(300))
        .body(Body::from(request("long", "dinum").to_string()))
        .unwrap();
    let a = t.send(req).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert_eq!(t.db.count("FROM broker_requests").await, 2);
}

async fn dry_run_stores_nothing(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let before = counts(&t).await;
    let a = t
        .call(
            Method::POST,
            "/v1/requests?dryRun=true",
            Some(&tok),
            Some(&request("wiki", "dinum")),
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert_eq!(a.body["dry_run"], true);
    assert_eq!(a.body["decision"]["outcome"], "placed");
    assert!(a.body["decision"]["candidates"].as_array().unwrap().len() > 3);
    let mut classified = request("secret", "dinum");
    classified["sensitivity"] =
        json!({"level": "classified", "justification": "x", "declared_by": "y"});
    let r = t
        .call(
            Method::POST,
            "/v1/requests?dryRun=true",
            Some(&tok),
            Some(&classified),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_code(&r), "refused");
    assert_eq!(counts(&t).await, before);
}

async fn bad_input_changes_nothing(backend: Backend) {
    let t = TestBroker::start(backend, |c| c.max_body_bytes = 4096).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    // one live request, so a name conflict is possible
    let ok = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&request("taken", "dinum")),
        )
        .await;
    assert_eq!(ok.status, StatusCode::ACCEPTED);
    tokio::time::sleep(Duration::from_millis(300)).await;
    t.broker.sealer().seal_pending().await.unwrap();
    let before = counts(&t).await;

    let raw = |ctype: &str, body: String| {
        Request::post("/v1/requests")
            .header("authorization", format!("Bearer {tok}"))
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap()
    };
    let mut bad_fields = request("bad", "dinum");
    bad_fields["resources"]["servers"][0]["vcpus"] = json!(0);
    bad_fields["resources"]["servers"][0]["image"] = json!({"os": "Debian!"});
    bad_fields["colour"] = json!("blue");
    let mut bad_cidr = request("net", "dinum");
    bad_cidr["resources"]["networks"] = json!([{"name": "app", "cidr": "10.0.0.1/33"}]);
    let mut bad_attach = request("att", "dinum");
    bad_attach["resources"]["volumes"][0]["attach_to"] = json!("nobody");
    let mut classified = request("secret", "dinum");
    classified["sensitivity"] =
        json!({"level": "classified", "justification": "x", "declared_by": "y"});
    let mut missing = request("missing", "dinum");
    missing.as_object_mut().unwrap().remove("sensitivity");

    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "not JSON",
            raw("application/json", "{nope".into()),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "empty body",
            raw("application/json", String::new()),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "bad YAML",
            raw("application/yaml", "a: [".into()),
            StatusCode::BAD_REQUEST,
            "malformed-request",
        ),
        (
            "a list",
            raw("application/json", "[1,2]".into()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "XML",
            raw("application/xml", "<r/>".into()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
        ),
        (
            "too large",
            raw(
                "application/json",
                format!("{{\"pad\": \"{}\"}}", "x".repeat(8000)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
        ),
        (
            "bad fields",
            raw("application/json", bad_fields.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "missing field",
            raw("application/json", missing.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "bad cidr",
            raw("application/json", bad_cidr.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "bad reference",
            raw("application/json", bad_attach.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-request",
        ),
        (
            "classified",
            raw("application/json", classified.to_string()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "refused",
        ),
        (
            "another tenant",
            raw("application/json", request("x", "other").to_string()),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
        (
            "name taken",
            raw("application/json", request("taken", "dinum").to_string()),
            StatusCode::CONFLICT,
            "conflict",
        ),
    ];
    for (what, req, status, code) in cases {
        let a = t.send(req).await;
        assert_eq!(a.status, status, "{what}: {}", a.body);
        assert_eq!(problem_code(&a), code, "{what}");
        if code == "invalid-request" && what == "bad fields" {
            let paths: Vec<&str> = a.body["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["path"].as_str().unwrap())
                .collect();
            assert!(paths.contains(&"resources.servers[0].vcpus"), "{paths:?}");
            assert!(
                paths
                    .iter()
                    .any(|p| p.starts_with("resources.servers[0].image")),
                "{paths:?}"
            );
            assert!(paths.contains(&"colour"), "{paths:?}");
        }
        if code == "refused" {
            assert_eq!(a.body["decision"]["outcome"], "refused");
        }
        t.broker.sealer().seal_pending().await.unwrap();
        assert_eq!(counts(&t).await, before, "{what} stored something");
    }
    // bad query strings and ids
    let a = t
        .call(
            Method::POST,
            "/v1/requests?dryRun=maybe",
            Some(&tok),
            Some(&request("q", "dinum")),
        )
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = t
        .call(Method::GET, "/v1/requests?state=sleeping", Some(&tok), None)
        .await;
    assert_eq!(problem_code(&a), "malformed-request");
    let a = t
        .call(Method::GET, "/v1/requests?limit=0", Some(&tok), None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = t
        .call(Method::GET, "/v1/requests?cursor=..%2F", Some(&tok), None)
        .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = t
        .call(Method::DELETE, "/v1/requests/not-an-id", Some(&tok), None)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(counts(&t).await, before);
    // a YAML body is accepted
    let yaml = "api_version: nuage/v1\nname: from-yaml\ntenant: dinum\nsensitivity: {level: public}\n\
                resources:\n  servers:\n    - {name: a, vcpus: 1, ram_gib: 2, image: {os: debian, version: '12'}}\n";
    let a = t.send(raw("application/yaml", yaml.into())).await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
}

async fn refusals_and_quotas(backend: Backend) {
    let t = TestBroker::start(backend, |c| {
        c.tenants.insert(
            "small".into(),
            nuage_broker::config::TenantSettings {
                quota: nuage_broker::config::Quota {
                    vcpus: Some(6),
                    ..Default::default()
                },
            },
        );
        c.tenants.insert(
            "poor".into(),
            nuage_broker::config::TenantSettings {
                quota: nuage_broker::config::Quota {
                    monthly_budget_eur: nuage_placement::Money::from_euros(1.0),
                    ..Default::default()
                },
            },
        );
    })
    .await;
    let small = t.token(Role::Requester, Some("small")).await;
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&small),
            Some(&sized("one", "small", 4)),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let one = a.body["id"].as_str().unwrap().to_owned();
    let before = counts(&t).await;
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&small),
            Some(&sized("two", "small", 4)),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.body);
    assert_eq!(problem_code(&a), "quota-exceeded");
    assert!(
        a.body["detail"].as_str().unwrap().contains("vcpus"),
        "{}",
        a.body
    );
    assert_eq!(a.body["decision"]["outcome"], "refused");
    let tenant = t
        .call(Method::GET, "/v1/tenants/small", Some(&small), None)
        .await;
    assert_eq!(tenant.body["held"]["vcpus"], 4);
    assert_eq!(tenant.body["quota"]["vcpus"], 6);
    // 2 more vCPUs fit
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&small),
            Some(&sized("three", "small", 2)),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    assert_eq!(counts(&t).await.0, before.0 + 1);
    // deleting the first gives its quota back
    t.wait_state(&small, &one, &["ready"], Duration::from_secs(20))
        .await;
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{one}"),
            Some(&small),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    t.wait_state(&small, &one, &["deleted"], Duration::from_secs(20))
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let tenant = t
            .call(Method::GET, "/v1/tenants/small", Some(&small), None)
            .await;
        if tenant.body["held"]["vcpus"] == 2 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{}", tenant.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&small),
            Some(&sized("two", "small", 4)),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);

    // a budget too small for every offer
    let poor = t.token(Role::Requester, Some("poor")).await;
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&poor),
            Some(&sized("x", "poor", 2)),
        )
        .await;
    assert_eq!(problem_code(&a), "quota-exceeded");
    assert!(
        a.body["detail"].as_str().unwrap().contains("budget"),
        "{}",
        a.body
    );
    // the plan says the same, as a decision
    let p = t
        .call(
            Method::POST,
            "/v1/plan",
            Some(&poor),
            Some(&sized("x", "poor", 2)),
        )
        .await;
    assert_eq!(p.status, StatusCode::OK);
    assert_eq!(p.body["outcome"], "refused");
}

async fn names_are_unique_among_live_requests(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&request("wiki", "dinum")),
        )
        .await;
    let id = a.body["id"].as_str().unwrap().to_owned();
    let b = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&request("wiki", "dinum")),
        )
        .await;
    assert_eq!(b.status, StatusCode::CONFLICT);
    assert!(b.body["detail"].as_str().unwrap().contains("wiki"));
    // another tenant may use the name
    let other = t.token(Role::Requester, Some("culture")).await;
    let c = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&other),
            Some(&request("wiki", "culture")),
        )
        .await;
    assert_eq!(c.status, StatusCode::ACCEPTED);
    // once deleted, the name is free
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED, "{}", d.body);
    let again = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "delete is idempotent");
    let e = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&request("wiki", "dinum")),
        )
        .await;
    assert_eq!(e.status, StatusCode::ACCEPTED, "{}", e.body);
    assert_ne!(e.body["id"], a.body["id"]);
}

async fn listing_filters_and_pages(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let a = t
            .call(
                Method::POST,
                "/v1/requests",
                Some(&tok),
                Some(&request(&format!("r{i}"), "dinum")),
            )
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
        ids.push(a.body["id"].as_str().unwrap().to_owned());
    }
    let other = t.token(Role::Requester, Some("culture")).await;
    t.call(
        Method::POST,
        "/v1/requests",
        Some(&other),
        Some(&request("c", "culture")),
    )
    .await;
    // pages of 3, newest first, no overlap, no gap
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/requests?limit=3&cursor={c}"),
            None => "/v1/requests?limit=3".to_owned(),
        };
        let page = t.call(Method::GET, &path, Some(&tok), None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        pages += 1;
        for item in page.body["items"].as_array().unwrap() {
            assert_eq!(item["tenant"], "dinum");
            assert!(
                item.get("decision").is_none(),
                "list items carry no documents"
            );
            seen.push(item["id"].as_str().unwrap().to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    // filters
    let by_name = t
        .call(Method::GET, "/v1/requests?name=r3", Some(&tok), None)
        .await;
    assert_eq!(by_name.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_name.body["items"][0]["id"], ids[3].as_str());
    for id in &ids {
        t.wait_state(&tok, id, &["ready"], Duration::from_secs(30))
            .await;
    }
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{}", ids[0]),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    t.wait_state(&tok, &ids[0], &["deleted"], Duration::from_secs(20))
        .await;
    let ready = t
        .call(Method::GET, "/v1/requests?state=ready", Some(&tok), None)
        .await;
    assert_eq!(ready.body["items"].as_array().unwrap().len(), 6);
    let gone = t
        .call(
            Method::GET,
            "/v1/requests?state=deleted,deleting",
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(gone.body["items"][0]["id"], ids[0].as_str());
    let admin_all = t
        .call(Method::GET, "/v1/requests?limit=500", Some(&t.admin), None)
        .await;
    assert_eq!(admin_all.body["items"].as_array().unwrap().len(), 8);
    let admin_one = t
        .call(
            Method::GET,
            "/v1/requests?tenant=culture",
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(admin_one.body["items"].as_array().unwrap().len(), 1);
}

async fn offers_and_plan(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let offers = t.call(Method::GET, "/v1/offers", Some(&tok), None).await;
    let items = offers.body["items"].as_array().unwrap();
    assert!(items.len() >= 10);
    // no provider is configured: every offer is simulated, and says why
    for o in items {
        assert_eq!(o["simulated"], true, "{o}");
        assert!(o["provider"]["reason"].as_str().unwrap().contains("sim"));
    }
    let external = t
        .call(Method::GET, "/v1/offers?tier=external", Some(&tok), None)
        .await;
    assert!(
        external.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["tier"] == "external")
    );
    let bad = t
        .call(Method::GET, "/v1/offers?tier=space", Some(&tok), None)
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let first = items[0]["id"].as_str().unwrap();
    let one = t
        .call(
            Method::GET,
            &format!("/v1/offers/{first}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(one.body["id"], first);
    let none = t
        .call(Method::GET, "/v1/offers/nope", Some(&tok), None)
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    let before = counts(&t).await;
    let plan = t
        .call(
            Method::POST,
            "/v1/plan",
            Some(&tok),
            Some(&request("wiki", "dinum")),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert_eq!(plan.body["outcome"], "placed");
    let invalid = t
        .call(
            Method::POST,
            "/v1/plan",
            Some(&tok),
            Some(&json!({"name": 3})),
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!invalid.body["errors"].as_array().unwrap().is_empty());
    assert_eq!(counts(&t).await, before);
}

async fn tokens_are_shown_once(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let created = t
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&t.admin),
            Some(&json!({"name": "ci", "role": "requester", "tenant": "dinum"})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let secret = created.body["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("nuage_"));
    let id = created.body["id"].as_str().unwrap().to_owned();
    // usable, and never shown again (nor its hash)
    let me = t.call(Method::GET, "/v1/me", Some(&secret), None).await;
    assert_eq!(me.body["token_id"], id.as_str());
    let list = t
        .call(Method::GET, "/v1/tokens", Some(&t.admin), None)
        .await;
    let text = list.body.to_string();
    assert!(!text.contains(&secret));
    assert!(!text.contains(&nuage_broker::auth::hash_token(&secret)));
    assert!(!text.contains("hash"));
    // stored hashed only
    assert_eq!(
        t.db.count(&format!(
            "FROM broker_tokens WHERE hash = '{}'",
            nuage_broker::auth::hash_token(&secret)
        ))
        .await,
        1
    );
    assert_eq!(
        t.db.count(&format!("FROM broker_tokens WHERE hash = '{secret}'"))
            .await,
        0
    );
    // a tenant's admin manages its tenant only
    let tadmin = t.token(Role::Admin, Some("dinum")).await;
    let other = t
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&tadmin),
            Some(&json!({"name": "x", "role": "admin"})),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let bad = t
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&t.admin),
            Some(&json!({"name": "x", "role": "king"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let global_requester = t
        .call(
            Method::POST,
            "/v1/tokens",
            Some(&t.admin),
            Some(&json!({"name": "x", "role": "requester"})),
        )
        .await;
    assert_eq!(global_requester.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(global_requester.body["errors"][0]["path"], "tenant");
    // revoked: refused (after the cache's short TTL)
    let r = t
        .call(
            Method::DELETE,
            &format!("/v1/tokens/{id}"),
            Some(&t.admin),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body["revoked_at"].is_i64());
    tokio::time::sleep(Duration::from_millis(150)).await;
    let me = t.call(Method::GET, "/v1/me", Some(&secret), None).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let missing = t
        .call(Method::DELETE, "/v1/tokens/tok_nope", Some(&t.admin), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

async fn audit_chain_detects_tampering(backend: Backend) {
    let t = TestBroker::start(backend, |_| {}).await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    for i in 0..3 {
        let a = t
            .call(
                Method::POST,
                "/v1/requests",
                Some(&tok),
                Some(&request(&format!("a{i}"), "dinum")),
            )
            .await;
        assert_eq!(a.status, StatusCode::ACCEPTED);
    }
    let v = t
        .call(Method::GET, "/v1/audit/verify", Some(&t.admin), None)
        .await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.body);
    assert!(v.body["first_bad"].is_null(), "{}", v.body);
    let chained = v.body["chained"].as_i64().unwrap();
    assert!(chained >= 5, "{}", v.body); // bootstrap + 1 token + 3 requests
    // the entries carry who, what, the request and the decision hash
    let log = t
        .call(
            Method::GET,
            "/v1/audit?action=request.create",
            Some(&tok),
            None,
        )
        .await;
    let e = &log.body["items"][0];
    assert!(e["actor"].as_str().unwrap().starts_with("token:tok_"));
    assert_eq!(e["tenant"], "dinum");
    assert!(e["decision_hash"].as_str().unwrap().starts_with("sha256:"));
    assert!(e["hash"].as_str().unwrap().starts_with("sha256:"));
    // a requester may not verify the whole chain
    let denied = t
        .call(Method::GET, "/v1/audit/verify", Some(&tok), None)
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // alter an entry: detected at its seq
    t.db.exec("UPDATE broker_audit SET actor = 'someone-else' WHERE seq = 3")
        .await;
    let v = nuage_broker::audit::verify(t.broker.db()).await.unwrap();
    assert_eq!(v.first_bad.as_ref().map(|b| b.seq), Some(3), "{v:?}");
    assert!(v.first_bad.unwrap().problem.contains("altered"));
    // remove an entry in the middle: detected
    t.db.exec("DELETE FROM broker_audit WHERE seq = 2").await;
    let v = nuage_broker::audit::verify(t.broker.db()).await.unwrap();
    assert_eq!(v.first_bad.as_ref().map(|b| b.seq), Some(2), "{v:?}");
    assert!(v.first_bad.unwrap().problem.contains("missing"));
}
