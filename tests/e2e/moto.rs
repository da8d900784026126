//! A request placed on the EC2-backed offer `aws-eu-west-3`, with that instance pointing at
//! moto: real EC2 resources are made, tagged, found again, and all deleted.

use std::time::Duration;

use nuage_provider_aws::testing::MotoServer;
use nuage_tests::client::Api;
use nuage_tests::server::{ADMIN_TOKEN, Serve};
use reqwest::{Method, StatusCode};

use crate::cloud::{Inventory, ec2_provider, inventory};
use crate::{FAST, both, database, ec2_request};
use nuage_broker::testing::Backend;

both!(ec2_request_lifecycle);

async fn ec2_request_lifecycle(backend: Backend) {
    let moto = MotoServer::start();
    let db = database(backend).await;
    let serve = Serve::start(
        &db.url,
        &format!("{FAST}{}", ec2_provider(&moto.endpoint())),
    );
    let admin = Api::new(&serve.url, ADMIN_TOKEN);
    let api = admin.with_token(&admin.token("requester", Some("dinum")).await);

    // the offer is bound to a configured instance: nothing about it says simulated
    let (status, offer) = api
        .call(Method::GET, "/v1/offers/aws-eu-west-3", None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(offer["simulated"], false, "{offer}");
    assert_eq!(offer["provider"]["adapter"], "ec2");

    let id = api.submit(&ec2_request("shop", 2)).await;
    let v = api.wait(&id, &["ready"], Duration::from_secs(120)).await;
    assert_eq!(v["placement"]["offer"], "aws-eu-west-3", "{v}");
    assert_eq!(v["simulated"], false);
    let resources = v["resources"].as_array().unwrap();
    assert_eq!(resources.len(), 3 + 3 + 3 + 3, "{v}");
    for r in resources {
        assert_eq!(r["status"], "ready", "{r}");
        assert_eq!(r["simulated"], false);
        let id = r["cloud_id"].as_str().unwrap();
        let prefix = match r["kind"].as_str().unwrap() {
            "network" => "vpc-",
            "subnet" => "subnet-",
            "security_group" => "sg-",
            "server" => "i-",
            "volume" | "attachment" => "vol-",
            other => panic!("unexpected kind {other}"),
        };
        assert!(id.starts_with(prefix), "{r}");
    }
    let servers: Vec<_> = resources.iter().filter(|r| r["kind"] == "server").collect();
    assert!(
        servers
            .iter()
            .all(|s| !s["addresses"].as_array().unwrap().is_empty())
    );
    assert_eq!(
        inventory(&moto, &id).await,
        Inventory {
            vpcs: 1,
            subnets: 1,
            security_groups: 1,
            instances: 3,
            volumes: 3,
            attachments: 3,
        }
    );

    let (status, body) = api
        .call(Method::DELETE, &format!("/v1/requests/{id}"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let v = api.wait(&id, &["deleted"], Duration::from_secs(120)).await;
    assert_eq!(v["deprovisioning"]["state"], "succeeded");
    assert_eq!(
        inventory(&moto, &id).await,
        Inventory::default(),
        "moto is empty again"
    );
    assert!(serve.log().contains("request accepted"), "{}", serve.log());
}
