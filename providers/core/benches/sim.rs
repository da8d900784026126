//! Cost of the sim cloud on its zero-latency path, the one benchmarks of the broker and the
//! workflow engine run on: time per operation (sequential and from concurrent tasks) and memory
//! per simulated resource.
//!
//! Run: `cargo bench -p nuage-provider --bench sim` (add `-- N` for N resources, default 20000).

use std::sync::Arc;
use std::time::{Duration, Instant};

use nuage_provider::sim::{SimCloud, SimConfig};
use nuage_provider::{
    ImageRef, Provider, ResourceMeta, ResourceSpec, ServerSpec, SpecBody, VolumeSpec,
};

fn server(i: usize) -> ResourceSpec {
    ResourceSpec::new(
        ResourceMeta::new(
            "bench",
            format!("req-{}", i / 10),
            format!("web-{}", i % 10),
        )
        .unwrap(),
        SpecBody::Server(ServerSpec {
            vcpus: 2,
            ram_mib: 4096,
            image: ImageRef::new("debian", "12"),
            flavor: None,
            subnet: None,
            security_groups: vec![],
            dedicated: false,
            zone: None,
            user_data: None,
        }),
    )
}

fn volume(i: usize) -> ResourceSpec {
    ResourceSpec::new(
        ResourceMeta::new(
            "bench",
            format!("req-{}", i / 10),
            format!("data-{}", i % 10),
        )
        .unwrap(),
        SpecBody::Volume(VolumeSpec {
            size_gib: 10,
            zone: None,
            volume_type: None,
        }),
    )
}

fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn report(what: &str, n: usize, took: Duration) {
    let per = took.as_nanos() as f64 / n as f64;
    println!(
        "{what:<36} {n:>8} ops  {:>9.0} ns/op  {:>12.0} ops/s",
        per,
        1e9 / per
    );
}

async fn sequential(n: usize) {
    let sim = SimCloud::new(SimConfig::default()).unwrap();
    let servers: Vec<ResourceSpec> = (0..n).map(server).collect();
    let before = resident_bytes();
    let start = Instant::now();
    for s in &servers {
        sim.create(s).await.unwrap();
    }
    report("create server (sequential)", n, start.elapsed());
    if let (Some(a), Some(b)) = (before, resident_bytes()) {
        println!(
            "{:<36} {:>8} B/server",
            "resident memory",
            b.saturating_sub(a) / n as u64
        );
    }
    let start = Instant::now();
    for s in &servers {
        assert!(sim.observe(s).await.unwrap().is_ready());
    }
    report("observe server (sequential)", n, start.elapsed());
    let start = Instant::now();
    for s in &servers {
        sim.create(s).await.unwrap();
    }
    report("create existing (idempotent)", n, start.elapsed());
    let start = Instant::now();
    for s in &servers {
        sim.delete(s).await.unwrap();
    }
    report("delete server (sequential)", n, start.elapsed());
}

async fn concurrent(n: usize, tasks: usize) {
    let sim = Arc::new(SimCloud::new(SimConfig::default()).unwrap());
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let sim = sim.clone();
        handles.push(tokio::spawn(async move {
            for i in (t..n).step_by(tasks) {
                let v = volume(i);
                sim.create(&v).await.unwrap();
                sim.observe(&v).await.unwrap();
                sim.delete(&v).await.unwrap();
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
    report(
        &format!("create+observe+delete, {tasks} tasks"),
        n * 3,
        start.elapsed(),
    );
}

fn main() {
    let n = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sequential(n).await;
        concurrent(n, 8).await;
    });
}
