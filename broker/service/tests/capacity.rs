//! Live capacity, on SQLite and on PostgreSQL: the simulated clouds get a whole-cloud capacity
//! of 4 vCPUs each, report what is free, and placement follows: a request bigger than any
//! instance's free vCPUs is refused citing the capacity rule; once a request holds an
//! instance's vCPUs, its offers show the smaller capacity and the next request goes elsewhere.

mod common;

use std::time::Duration;

use axum::http::{Method, StatusCode};
use common::{Backend, TestBroker, sized};
use nuage_broker::auth::Role;
use nuage_broker::capacity;
use serde_json::Value;

both!(placement_follows_the_free_capacity_of_the_instances);

/// The offer a plan chooses, and its instance.
async fn chosen(t: &TestBroker, tok: &str, body: &Value) -> Option<(String, String)> {
    let plan = t
        .call(Method::POST, "/v1/plan", Some(tok), Some(body))
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    let p = plan.body.get("placement")?;
    Some((
        p["offer"].as_str()?.to_owned(),
        p["binding"]["instance"].as_str()?.to_owned(),
    ))
}

fn vcpus_of(offers: &Value, id: &str) -> Option<u64> {
    offers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == id)
        .and_then(|o| o["offer"]["capacity"]["vcpus"].as_u64())
}

async fn placement_follows_the_free_capacity_of_the_instances(backend: Backend) {
    let t = TestBroker::start(backend, |c| {
        c.sim.capacity.vcpus = Some(4);
        c.capacity_refresh = Duration::from_secs(3600);
    })
    .await;
    let tok = t.token(Role::Requester, Some("dinum")).await;
    let facts = capacity::refresh(&t.broker).await.unwrap();
    assert!(!facts.is_empty());
    assert!(facts.values().all(|f| f.vcpus == Some(4)), "{facts:?}");
    let offers = t.call(Method::GET, "/v1/offers", Some(&tok), None).await;
    assert_ne!(
        offers.body["catalogue_digest"],
        nuage_placement::Catalogue::example().digest(),
        "the live facts are part of the catalogue a decision cites"
    );

    // 8 vCPUs fit nowhere: refused, citing the capacity rule
    let plan = t
        .call(
            Method::POST,
            "/v1/plan",
            Some(&tok),
            Some(&sized("big", "dinum", 8)),
        )
        .await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    assert_eq!(plan.body["outcome"], "refused", "{}", plan.body);
    assert!(
        plan.body.to_string().contains("R-CAPACITY"),
        "{}",
        plan.body
    );
    let r = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&sized("big", "dinum", 8)),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.body["code"], "refused");

    // 2 vCPUs take half of the cheapest instance
    let (offer, instance) = chosen(&t, &tok, &sized("first", "dinum", 2)).await.unwrap();
    let a = t
        .call(
            Method::POST,
            "/v1/requests",
            Some(&tok),
            Some(&sized("first", "dinum", 2)),
        )
        .await;
    assert_eq!(a.status, StatusCode::ACCEPTED, "{}", a.body);
    let id = a.body["id"].as_str().unwrap().to_owned();
    t.wait_state(&tok, &id, &["ready"], Duration::from_secs(30))
        .await;
    let facts = capacity::refresh(&t.broker).await.unwrap();
    assert_eq!(facts[&instance].vcpus, Some(2), "{facts:?}");
    let offers = t.call(Method::GET, "/v1/offers", Some(&tok), None).await;
    assert_eq!(vcpus_of(&offers.body, &offer), Some(2), "{}", offers.body);

    // 4 vCPUs go to another instance: the first is eliminated on capacity
    let (next, next_instance) = chosen(&t, &tok, &sized("second", "dinum", 4))
        .await
        .unwrap();
    assert_ne!(next_instance, instance, "{next} is on the same instance");
    assert_ne!(next, offer);

    // deleting the first request frees the instance again
    let d = t
        .call(
            Method::DELETE,
            &format!("/v1/requests/{id}"),
            Some(&tok),
            None,
        )
        .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    t.wait_state(&tok, &id, &["deleted"], Duration::from_secs(30))
        .await;
    let facts = capacity::refresh(&t.broker).await.unwrap();
    assert_eq!(facts[&instance].vcpus, Some(4));
    assert_eq!(
        chosen(&t, &tok, &sized("third", "dinum", 4))
            .await
            .unwrap()
            .0,
        offer
    );
}
