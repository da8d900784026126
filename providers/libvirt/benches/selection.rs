//! Host selection over a large pool: 1,000 hosts in 50 racks holding 10,000 domains (a tenth of
//! them in anti-affinity groups). Target: p50 under 1 ms per request.
//!
//! Run: `cargo bench -p nuage-provider-libvirt --bench selection`. Besides criterion's
//! estimates, prints p50/p99 over 2,000 timed calls per case.

// criterion_group! generates an undocumented pub fn.
#![allow(missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use nuage_provider_libvirt::{
    Demand, DomainFacts, DomainState, DomainTag, HostConfig, HostFacts, HostLabels, HostUri, Pool,
    PoolConfig, Request, Spread,
};

const HOSTS: usize = 1_000;
const DOMAINS: usize = 10_000;

/// A fixed pseudo-random sequence (64-bit LCG), so every run measures the same pool.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn big_pool() -> Pool {
    let uri = HostUri::parse("qemu+tls://kvm.example/system").unwrap();
    let cfg = PoolConfig {
        name: "bench".into(),
        defaults: Default::default(),
        hosts: (0..HOSTS)
            .map(|i| HostConfig {
                name: format!("kvm-{i:04}"),
                uri: uri.clone(),
                labels: HostLabels {
                    site: Some(format!("site-{}", i % 2)),
                    rack: Some(format!("r{:02}", i % 50)),
                    ..Default::default()
                },
                overcommit: None,
                reserved: None,
                storage_pool: None,
                maintenance: i % 97 == 0,
            })
            .collect(),
    };
    let mut pool = Pool::new(&cfg).unwrap();
    let mut rng = Lcg(42);
    let mut per_host: Vec<Vec<DomainFacts>> = vec![Vec::new(); HOSTS];
    for d in 0..DOMAINS {
        let host = rng.next(HOSTS as u64) as usize;
        let vcpus = [1, 2, 4, 8][rng.next(4) as usize];
        per_host[host].push(DomainFacts {
            name: format!("dom-{d:05}"),
            uuid: String::new(),
            vcpus,
            memory_mib: u64::from(vcpus) * 2048,
            state: DomainState::Running,
            tag: (d % 10 == 0).then(|| DomainTag {
                tenant: None,
                request: None,
                resource: None,
                group: Some(format!("req-{}", d / 30)),
            }),
        });
    }
    for (i, domains) in per_host.into_iter().enumerate() {
        let facts = HostFacts {
            cpus: [32, 48, 64][i % 3],
            memory_mib: [131_072, 262_144, 524_288][i % 3],
            domains,
        };
        pool.apply_facts(&format!("kvm-{i:04}"), facts).unwrap();
    }
    for i in (0..HOSTS).step_by(89) {
        pool.mark_unhealthy(&format!("kvm-{i:04}"), "bench")
            .unwrap();
    }
    pool
}

fn cases() -> Vec<(&'static str, Request)> {
    let servers = |n: usize, vcpus: u32| {
        (0..n)
            .map(|i| Demand {
                name: format!("new-{i}"),
                vcpus,
                memory_mib: u64::from(vcpus) * 4096,
            })
            .collect::<Vec<_>>()
    };
    vec![
        (
            "1 server, no group",
            Request {
                servers: servers(1, 4),
                group: None,
                spread: Spread::Hard,
                site: None,
            },
        ),
        (
            "3 servers, hard anti-affinity, group with members",
            Request {
                servers: servers(3, 4),
                group: Some("req-7".into()),
                spread: Spread::Hard,
                site: None,
            },
        ),
        (
            "10 servers, soft anti-affinity",
            Request {
                servers: servers(10, 8),
                group: Some("req-new".into()),
                spread: Spread::Soft,
                site: None,
            },
        ),
    ]
}

fn percentiles(pool: &Pool) {
    for (label, request) in cases() {
        let mut times: Vec<Duration> = (0..2_000)
            .map(|_| {
                let t = Instant::now();
                black_box(pool.select(black_box(&request)).unwrap());
                t.elapsed()
            })
            .collect();
        times.sort();
        println!(
            "select over {HOSTS} hosts / {DOMAINS} domains, {label}: p50 {:?}, p99 {:?}",
            times[times.len() / 2],
            times[times.len() * 99 / 100]
        );
    }
}

fn bench(c: &mut Criterion) {
    let pool = big_pool();
    assert_eq!(pool.capacity().domains, DOMAINS as u64);
    percentiles(&pool);
    let mut g = c.benchmark_group("select_1000_hosts_10000_domains");
    for (label, request) in cases() {
        g.bench_function(label, |b| {
            b.iter(|| pool.select(black_box(&request)).unwrap())
        });
    }
    g.finish();
    c.bench_function("capacity_1000_hosts", |b| {
        b.iter(|| black_box(pool.capacity()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
