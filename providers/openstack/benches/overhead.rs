//! Per-call overhead of the adapter against real OpenStack services: the same request sent with
//! a bare reqwest client and through the adapter (token cache, endpoint selection, request-id
//! logging, error mapping, typed decoding), interleaved, medians compared.
//!
//! `cargo bench -p nuage-provider-openstack --bench overhead` starts a Keystone-only stack.
//! With `NUAGE_BENCH_FULL=1` (or `NUAGE_OPENSTACK_STACK_JSON` naming a running full stack) it
//! also measures Nova and Neutron lookups (`observe`) against the full stack.

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use nuage_provider::{NetworkSpec, Provider, ResourceSpec, SpecBody};
use nuage_provider_openstack::{OpenStackProvider, Request, Session};
use reqwest::Method;

const ROUNDS: usize = 200;

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

fn report(what: &str, raw: Vec<Duration>, adapter: Vec<Duration>) {
    let (raw_med, raw_p90) = stats(raw);
    let (ad_med, ad_p90) = stats(adapter);
    let overhead = ad_med.as_secs_f64() - raw_med.as_secs_f64();
    println!(
        "{what:<44} raw median {:>7.2} ms p90 {:>7.2} ms | adapter median {:>7.2} ms p90 {:>7.2} ms | overhead {:>+7.3} ms",
        raw_med.as_secs_f64() * 1e3,
        raw_p90.as_secs_f64() * 1e3,
        ad_med.as_secs_f64() * 1e3,
        ad_p90.as_secs_f64() * 1e3,
        overhead * 1e3,
    );
}

async fn keystone_calls() {
    let stack = common::keystone();
    let mut config = stack.user_config("bench", "nuage");
    config.token_refresh_margin = Duration::ZERO;
    let session = Session::new(&config).unwrap();
    let token = session.token().await.unwrap();
    let path = format!("users/{}/projects", token.user_id);
    let url = format!("{}/{}", stack.auth_url(), path);
    let raw = reqwest::Client::new();
    let (mut raw_t, mut ad_t) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let token = session.token().await.unwrap();
        let t = Instant::now();
        let r = raw
            .get(&url)
            .header("X-Auth-Token", token.value.expose())
            .send()
            .await
            .unwrap();
        let _: serde_json::Value = r.json().await.unwrap();
        raw_t.push(t.elapsed());
        let t = Instant::now();
        let reply = session
            .send(Request::new("identity", Method::GET, &path))
            .await
            .unwrap();
        let _: serde_json::Value = reply.json().unwrap();
        ad_t.push(t.elapsed());
    }
    report("keystone GET users/{id}/projects", raw_t, ad_t);

    // Token issuance (what a cache miss costs).
    let mut issue = Vec::new();
    for _ in 0..20 {
        let fresh = Session::new(&config).unwrap();
        let t = Instant::now();
        fresh.token().await.unwrap();
        issue.push(t.elapsed());
    }
    let (med, p90) = stats(issue);
    println!(
        "{:<44} median {:>7.2} ms p90 {:>7.2} ms",
        "keystone token issue (password)",
        med.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3
    );
}

async fn full_stack_calls() {
    let stack = common::full();
    let provider = OpenStackProvider::new(stack.user_config("bench", "nuage")).unwrap();
    let spec = ResourceSpec::new(
        common::meta("bench", "net"),
        SpecBody::Network(NetworkSpec {
            cidr: "10.99.0.0/16".parse().unwrap(),
        }),
    );
    provider.create(&spec).await.unwrap();
    let network = stack.str("/endpoints/network");
    let raw = reqwest::Client::new();
    let (mut raw_t, mut ad_t) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS / 2 {
        let token = provider.session().token().await.unwrap();
        let t = Instant::now();
        let r = raw
            .get(format!("{network}/v2.0/networks"))
            .query(&[("name", spec.name())])
            .header("X-Auth-Token", token.value.expose())
            .send()
            .await
            .unwrap();
        let _: serde_json::Value = r.json().await.unwrap();
        raw_t.push(t.elapsed());
        let t = Instant::now();
        assert!(provider.observe(&spec).await.unwrap().is_ready());
        ad_t.push(t.elapsed());
    }
    report("neutron observe(network) vs GET networks?name", raw_t, ad_t);

    let compute = stack.str("/endpoints/compute");
    let version = provider.nova().microversion().await.unwrap();
    let (mut raw_t, mut ad_t) = (Vec::new(), Vec::new());
    let name = spec.name();
    for _ in 0..ROUNDS / 2 {
        let token = provider.session().token().await.unwrap();
        let t = Instant::now();
        let r = raw
            .get(format!("{compute}/servers/detail"))
            .query(&[("name", format!("^{name}$"))])
            .header("X-Auth-Token", token.value.expose())
            .header("OpenStack-API-Version", format!("compute {version}"))
            .send()
            .await
            .unwrap();
        let _: serde_json::Value = r.json().await.unwrap();
        raw_t.push(t.elapsed());
        let t = Instant::now();
        provider.nova().servers_named(&name).await.unwrap();
        ad_t.push(t.elapsed());
    }
    report("nova servers_named vs GET servers/detail", raw_t, ad_t);
    provider.delete(&spec).await.unwrap();
}

#[tokio::main]
async fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing; nothing to list.
    }
    keystone_calls().await;
    if std::env::var_os("NUAGE_BENCH_FULL").is_some()
        || std::env::var_os("NUAGE_OPENSTACK_STACK_JSON").is_some()
    {
        full_stack_calls().await;
    }
}
