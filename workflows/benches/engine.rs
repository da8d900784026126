//! Engine benchmark (a bench binary, run in one go on one machine):
//!
//! - `pgbench -N` TPS on the local PostgreSQL, the reference limit;
//! - no-op step throughput and per-step overhead (p50/p99) on PostgreSQL
//!   with 1, 2 and 4 workers, and on SQLite;
//! - resident memory with 10,000 in-flight runs whose step is sleeping.
//!
//! `cargo bench -p nuage-workflows --bench engine` (PostgreSQL on
//! 127.0.0.1:5432, user postgres, trust auth). Set `NUAGE_WF_BENCH_QUICK=1`
//! for a shorter run.

#![allow(missing_docs)]

use std::collections::HashMap;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nuage_workflows::{
    Engine, StartRequest, Step, StepContext, StepError, StepInstance, Store, WorkflowDefinition,
    WorkflowFilter, WorkflowState,
};
use serde_json::Value;
use uuid::Uuid;

const PG: &str = "postgres://postgres@127.0.0.1:5432";

type Marks = Arc<Mutex<HashMap<Uuid, Vec<Instant>>>>;

fn noop_definition(steps: usize, marks: Marks) -> WorkflowDefinition {
    WorkflowDefinition::new("noop", 1)
        .kind(Step::new("noop", move |ctx: StepContext, _: Value| {
            let marks = marks.clone();
            async move {
                marks
                    .lock()
                    .unwrap()
                    .entry(ctx.workflow_id())
                    .or_default()
                    .push(Instant::now());
                Ok::<_, StepError>(())
            }
        }))
        .plan(move |_: &Value| {
            (0..steps)
                .map(|i| {
                    StepInstance::new(format!("s{i}"), "noop", &Value::Null)
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
}

fn sleeper_definition() -> WorkflowDefinition {
    WorkflowDefinition::new("sleeper", 1).step(Step::new(
        "sleep",
        |_: StepContext, _: Value| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok::<_, StepError>(())
        },
    ))
}

struct Throughput {
    label: String,
    steps: usize,
    secs: f64,
    p50_us: f64,
    p99_us: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn throughput(
    label: &str,
    url: &str,
    workers: usize,
    runs: usize,
    steps: usize,
) -> Throughput {
    let marks: Marks = Arc::default();
    let store = Store::connect(url).await.unwrap();
    let engine = Engine::builder(store)
        .register(noop_definition(steps, marks.clone()))
        .workers(workers)
        .build()
        .unwrap();
    for _ in 0..runs {
        engine
            .start(StartRequest::new("noop", &Value::Null).unwrap())
            .await
            .unwrap();
    }
    let t0 = Instant::now();
    let h = engine.run();
    loop {
        let open = engine
            .store()
            .list(&WorkflowFilter {
                states: vec![WorkflowState::Pending, WorkflowState::Running],
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        if open.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let secs = t0.elapsed().as_secs_f64();
    h.shutdown(Duration::from_secs(10)).await;
    // per-step overhead: time between two consecutive no-op steps of a run
    let mut gaps: Vec<f64> = marks
        .lock()
        .unwrap()
        .values()
        .flat_map(|v| {
            v.windows(2)
                .map(|w| (w[1] - w[0]).as_secs_f64() * 1e6)
                .collect::<Vec<_>>()
        })
        .collect();
    gaps.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Throughput {
        label: label.to_string(),
        steps: runs * steps,
        secs,
        p50_us: percentile(&gaps, 0.5),
        p99_us: percentile(&gaps, 0.99),
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .map(|v| v.trim().trim_end_matches("kB").trim().parse().unwrap())
        })
        .unwrap()
}

async fn sleeping_rss(url: &str, runs: usize) -> (u64, u64, f64) {
    let store = Store::connect(url).await.unwrap();
    let engine = Engine::builder(store)
        .register(sleeper_definition())
        .workers(runs)
        .build()
        .unwrap();
    let before = rss_kib();
    for _ in 0..runs {
        engine
            .start(StartRequest::new("sleeper", &Value::Null).unwrap())
            .await
            .unwrap();
    }
    let t0 = Instant::now();
    let h = engine.run();
    loop {
        let pending = engine
            .store()
            .list(&WorkflowFilter {
                states: vec![WorkflowState::Pending],
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ramp = t0.elapsed().as_secs_f64();
    // let a heartbeat round pass with everything in flight
    tokio::time::sleep(Duration::from_secs(11)).await;
    let after = rss_kib();
    h.shutdown(Duration::from_millis(10)).await;
    (before, after, ramp)
}

fn psql(db: &str, sql: &str) {
    let ok = Command::new("psql")
        .env("PGOPTIONS", "--client-min-messages=warning")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            db,
            "-q",
            "-c",
            sql,
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "psql {sql}");
}

fn fresh_pg(tag: &str) -> String {
    let name = format!("nuage_wf_bench_{tag}");
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    psql("postgres", &format!("CREATE DATABASE {name}"));
    name
}

fn pgbench_path() -> String {
    for p in ["pgbench", "/usr/lib/postgresql/15/bin/pgbench"] {
        if Command::new(p).arg("--version").output().is_ok() {
            return p.to_string();
        }
    }
    panic!("pgbench not found (apt-get install postgresql-client or postgresql)");
}

fn pgbench(clients: u32, secs: u32) -> f64 {
    let db = fresh_pg("pgbench");
    let bin = pgbench_path();
    let init = Command::new(&bin)
        .args(["-h", "127.0.0.1", "-U", "postgres", "-i", "-q", &db])
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "pgbench -i: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let out = Command::new(&bin)
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-N",
            "-c",
            &clients.to_string(),
            "-j",
            "2",
            "-T",
            &secs.to_string(),
            &db,
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    psql(
        "postgres",
        &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
    );
    text.lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l["tps = ".len()..].split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no tps in pgbench output: {text}"))
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() {
    let quick = std::env::var("NUAGE_WF_BENCH_QUICK").is_ok();
    let (runs, steps, pg_secs, rounds, sleepers) = if quick {
        (100, 10, 3, 1, 2_000)
    } else {
        (300, 10, 8, 3, 10_000)
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_default()
    );
    println!("machine: {machine}");
    println!("load average at start: {}", loadavg());
    // each engine configuration alternates with pgbench at as many clients,
    // for several rounds, so both see the same (shared, noisy) machine; the
    // medians are reported
    let mut tps = Vec::new();
    let mut rows = Vec::new();
    for workers in [1usize, 2, 4] {
        let mut pg_rounds = Vec::new();
        let mut engine_rounds = Vec::new();
        for round in 0..rounds {
            let t = pgbench(workers as u32, pg_secs);
            let db = fresh_pg("engine");
            let r = rt.block_on(throughput(
                &format!("PostgreSQL, {workers} worker(s)"),
                &format!("{PG}/{db}"),
                workers,
                runs,
                steps,
            ));
            psql(
                "postgres",
                &format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"),
            );
            println!(
                "round {round}: pgbench -N -c {workers}: {t:.0} tps; engine, {workers} worker(s): {:.0} steps/s",
                r.steps as f64 / r.secs
            );
            pg_rounds.push(t);
            engine_rounds.push(r);
        }
        pg_rounds.sort_by(|a, b| a.partial_cmp(b).unwrap());
        engine_rounds.sort_by(|a, b| {
            (a.steps as f64 / a.secs)
                .partial_cmp(&(b.steps as f64 / b.secs))
                .unwrap()
        });
        tps.push((workers, pg_rounds[rounds / 2]));
        rows.push(engine_rounds.swap_remove(rounds / 2));
    }
    for workers in [1usize, 2, 4] {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("bench.db").display());
        let r = rt.block_on(throughput(
            &format!("SQLite, {workers} worker(s)"),
            &url,
            workers,
            runs,
            steps,
        ));
        println!("{}: {:.0} steps/s", r.label, r.steps as f64 / r.secs);
        rows.push(r);
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("sleepers.db").display());
    let (before, after, ramp) = rt.block_on(sleeping_rss(&url, sleepers));

    println!("load average at end: {}", loadavg());
    println!();
    println!("medians of {rounds} alternating rounds for PostgreSQL");
    println!("| configuration | steps | seconds | steps/s | per-step p50 | per-step p99 |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {} | {:.2} | {:.0} | {:.2} ms | {:.2} ms |",
            r.label,
            r.steps,
            r.secs,
            r.steps as f64 / r.secs,
            r.p50_us / 1000.0,
            r.p99_us / 1000.0
        );
    }
    for (c, t) in &tps {
        let engine = rows
            .iter()
            .find(|r| r.label == format!("PostgreSQL, {c} worker(s)"))
            .map(|r| r.steps as f64 / r.secs);
        println!(
            "| pgbench -N, {c} client(s) (reference) | | {pg_secs} | {t:.0} tps | engine/pgbench {:.0}% | |",
            100.0 * engine.unwrap_or(0.0) / t
        );
    }
    println!();
    println!(
        "{sleepers} in-flight sleeping runs (SQLite): VmRSS {:.1} MiB (process before start: {:.1} MiB), all claimed in {ramp:.1} s",
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
}
