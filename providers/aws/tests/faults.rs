//! Faults moto cannot produce (throttling, capacity, quotas, auth refusals, bare 5xx, timeouts,
//! broken connections), injected by an HTTP layer in front of the EC2 client while moto serves
//! everything else: each maps to the right neutral kind, and is retried where it should be.

mod common;

use std::time::Duration;

use common::*;
use nuage_provider::{ErrorKind, Provider};
use nuage_provider_aws::testing::{FaultLayer, HttpFault, HttpFaultRule, MotoServer};
use nuage_provider_aws::{AwsConfig, AwsProvider};

async fn provider_with(config: AwsConfig) -> (AwsProvider, FaultLayer) {
    let faults = FaultLayer::new();
    let p = AwsProvider::connect_with(config, Some(faults.http_client()))
        .await
        .unwrap();
    (p, faults)
}

async fn provider() -> (AwsProvider, FaultLayer) {
    provider_with(MotoServer::shared().config("aws-faults")).await
}

#[tokio::test]
async fn a_passing_throttle_is_retried_in_process() {
    let (p, faults) = provider().await;
    let net = network(&request("throttle-once"));
    faults.push(
        HttpFaultRule::new(HttpFault::throttle())
            .on("DescribeVpcs")
            .times(1),
    );
    assert!(p.observe(&net).await.unwrap().is_absent());
    assert_eq!(faults.attempts("DescribeVpcs"), 2);
}

#[tokio::test]
async fn persistent_throttling_is_throttled_with_retry_after() {
    let (p, faults) = provider().await;
    let net = network(&request("throttle"));
    faults.push(HttpFaultRule::new(HttpFault::throttle()).on("DescribeVpcs"));
    let err = p.observe(&net).await.unwrap_err();
    assert_eq!(err.native_code(), Some("RequestLimitExceeded"));
    assert!(err.is_retryable());
    // No Retry-After header: the configured default.
    assert_eq!(err.retry_after(), Some(Duration::from_millis(200)));
    assert_eq!(
        faults.attempts("DescribeVpcs"),
        3,
        "max_attempts of the harness config"
    );

    // A Retry-After header from the endpoint (or a proxy) wins.
    faults.clear();
    faults.push(
        HttpFaultRule::new(HttpFault::Error {
            status: 503,
            code: "RequestLimitExceeded".into(),
            message: "Request limit exceeded.".into(),
            retry_after: Some(7),
        })
        .on("DescribeVpcs"),
    );
    let err = p.observe(&net).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(7))
        }
    );
    faults.clear();
    assert!(p.observe(&net).await.unwrap().is_absent());
}

#[tokio::test]
async fn capacity_and_quota_refusals_fail_the_create_without_creating() {
    let (p, faults) = provider().await;
    let req = request("capacity");
    let srv = server(&req, "web", server_spec(None, &[]));

    faults.push(HttpFaultRule::new(HttpFault::insufficient_capacity()).on("RunInstances"));
    let err = p.create(&srv).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Capacity, Some("InsufficientInstanceCapacity"))
    );
    assert!(err.is_retryable());
    assert_eq!(
        faults.attempts("RunInstances"),
        1,
        "creates are never retried in-process"
    );
    assert!(p.observe(&srv).await.unwrap().is_absent());

    faults.clear();
    faults.push(HttpFaultRule::new(HttpFault::instance_limit()).on("RunInstances"));
    let err = p.create(&srv).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert!(!err.is_retryable());

    // Once capacity is back, the workflow's retry creates it, once.
    faults.clear();
    let o = p.create(&srv).await.unwrap();
    assert_eq!(p.create(&srv).await.unwrap().cloud_id, o.cloud_id);
    p.delete(&srv).await.unwrap();
}

#[tokio::test]
async fn auth_refusals_are_auth_and_not_retried() {
    let (p, faults) = provider().await;
    faults.push(HttpFaultRule::new(HttpFault::auth_failure()));
    let err = p.observe(&network(&request("auth"))).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Auth, Some("AuthFailure"))
    );
    assert!(!err.is_retryable());
    assert_eq!(faults.attempts("DescribeVpcs"), 1);
}

#[tokio::test]
async fn server_errors_are_transient() {
    let (p, faults) = provider().await;
    let vol = volume(&request("5xx"), 5, None);

    // An EC2 internal error, once: absorbed by the SDK's retry.
    faults.push(
        HttpFaultRule::new(HttpFault::internal_error())
            .on("DescribeVolumes")
            .times(1),
    );
    assert!(p.observe(&vol).await.unwrap().is_absent());
    assert_eq!(faults.attempts("DescribeVolumes"), 2);

    // A proxy's bare 502, persistently: transient, with the status as native code.
    faults.push(HttpFaultRule::new(HttpFault::Status(502)).on("DescribeVolumes"));
    let err = p.observe(&vol).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Transient, Some("HTTP 502"))
    );
    assert!(err.is_retryable());
}

#[tokio::test]
async fn timeouts_and_broken_connections_are_transient() {
    let mut config = MotoServer::shared().config("aws-timeouts");
    config.timeouts.attempt = Duration::from_millis(300);
    config.timeouts.operation = Duration::from_secs(5);
    let (p, faults) = provider_with(config).await;
    let sub = subnet(&request("timeout"), &"vpc-00000000".into());

    faults.push(HttpFaultRule::new(HttpFault::Timeout).on("DescribeSubnets"));
    let err = p.observe(&sub).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Transient, Some("Timeout"))
    );
    assert_eq!(
        faults.attempts("DescribeSubnets"),
        3,
        "timed-out reads are retried"
    );

    faults.clear();
    faults.push(
        HttpFaultRule::new(HttpFault::ConnectionReset)
            .on("DescribeSubnets")
            .times(1),
    );
    assert!(p.observe(&sub).await.unwrap().is_absent());

    faults.push(HttpFaultRule::new(HttpFault::ConnectionReset).on("DescribeSubnets"));
    let err = p.observe(&sub).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Transient, Some("ConnectionError"))
    );

    // A slow answer within the timeout is just slow.
    faults.clear();
    faults.push(
        HttpFaultRule::new(HttpFault::Delay(Duration::from_millis(100)))
            .on("DescribeSubnets")
            .times(1),
    );
    assert!(p.observe(&sub).await.unwrap().is_absent());
}

#[tokio::test]
async fn an_unreachable_endpoint_is_transient_and_says_why() {
    let mut config = MotoServer::shared().config("aws-down");
    // Nothing listens on port 9 of the loopback.
    config.endpoint = Some("http://127.0.0.1:9".into());
    config.retry.max_attempts = 1;
    let p = AwsProvider::connect(config).await.unwrap();
    let err = p.observe(&network(&request("down"))).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(!err.to_string().contains("nuage-moto-test-secret"));
}
