//! Benchmark of `POST /v1/requests` (not a test): accepted requests per second and p50/p99
//! latency at 8, 32 and 128 concurrent clients, on SQLite and on PostgreSQL, over real HTTP on
//! loopback, with every offer bound to the sim cloud with zero latency. Two configurations:
//! the whole service (as `nuage serve`: the engine provisions every accepted request in the
//! background, the audit sealer and the reconciler run) and the API alone (requests stored and
//! their runs started, no worker running them). In the same run: `pgbench -N` on the same
//! PostgreSQL at the same client counts, and the idle RSS of the real `nuage serve` process.
//!
//! ```text
//! cargo bench -p nuage-tests --bench api
//! NUAGE_BENCH_SECS=5 cargo bench -p nuage-tests --bench api     # shorter rounds
//! NUAGE_BENCH_ONLY=postgres,api cargo bench -p nuage-tests --bench api   # some rounds only
//! ```
//!
//! Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and `pgbench` (on PATH or in
//! /usr/lib/postgresql/*/bin). Client and server share the machine's cores.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use nuage_broker::auth::{NewToken, Role};
use nuage_broker::testing::{Backend, TestDb, pg_base};
use nuage_broker::{Broker, Running};
use serde_json::json;
use tokio::net::TcpListener;

/// The allocator of the `nuage` binary, so that the in-process broker measured here is the one
/// that runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const LEVELS: [usize; 3] = [8, 32, 128];
const TENANTS: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Service,
    ApiOnly,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Service => "service (engine provisioning in background)",
            Mode::ApiOnly => "API only (runs started, not executed)",
        }
    }
}

struct Round {
    backend: &'static str,
    mode: Mode,
    clients: usize,
    accepted: u64,
    other: u64,
    secs: f64,
    p50: Duration,
    p99: Duration,
    provisioned: i64,
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn secs() -> u64 {
    std::env::var("NUAGE_BENCH_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10)
}

/// Starts a broker on `db` serving on a loopback socket; returns its URL, tokens, and handles.
async fn start(
    db: &TestDb,
    mode: Mode,
) -> (
    String,
    Vec<String>,
    Broker,
    Option<Running>,
    tokio::task::JoinHandle<()>,
) {
    let mut config = nuage_broker::testing::fast_config(&db.url);
    config.database.max_connections = Some(32);
    config.engine.workers = 16;
    config.engine.lease_ttl = Duration::from_secs(30);
    config.engine.poll_interval = Duration::from_secs(5);
    config.reconcile_interval = Duration::from_secs(2);
    config.log.level = "warn".into();
    let broker = Broker::open(config).await.expect("open the broker");
    let mut tokens = Vec::new();
    for t in 0..TENANTS {
        let (_, secret) = broker
            .tokens()
            .create(
                &NewToken {
                    name: format!("bench-{t}"),
                    role: Role::Requester,
                    tenant: Some(format!("tenant-{t}")),
                },
                "bench",
            )
            .await
            .expect("a token");
        tokens.push(secret.expose().to_owned());
    }
    let running = (mode == Mode::Service).then(|| broker.run());
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = nuage_broker::api::router(broker.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, tokens, broker, running, server)
}

async fn round(
    url: &str,
    tokens: &[String],
    clients: usize,
    run_for: Duration,
    tag: &str,
) -> (u64, u64, Vec<Duration>) {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let other = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, stop, other) = (http.clone(), stop.clone(), other.clone());
        let token = tokens[c % tokens.len()].clone();
        let tenant = format!("tenant-{}", c % tokens.len());
        let url = format!("{url}/v1/requests");
        let tag = tag.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let body = json!({
                    "api_version": "nuage/v1",
                    "name": format!("{tag}-{c}-{i}"),
                    "tenant": tenant,
                    "sensitivity": {"level": "public"},
                    "resources": {"servers": [{"name": "app", "vcpus": 2, "ram_gib": 4,
                        "image": {"os": "debian", "version": "12"}}]}
                });
                let t0 = Instant::now();
                let r = http.post(&url).bearer_auth(&token).json(&body).send().await;
                let ok = match r {
                    Ok(resp) => {
                        let s = resp.status();
                        let _ = resp.bytes().await;
                        s.as_u16() == 202
                    }
                    Err(_) => false,
                };
                if ok {
                    lat.push(t0.elapsed());
                } else {
                    other.fetch_add(1, Ordering::Relaxed);
                }
            }
            lat
        }));
    }
    tokio::time::sleep(run_for).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    (all.len() as u64, other.load(Ordering::Relaxed), all)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn bench_backend(backend: Backend, mode: Mode, out: &mut Vec<Round>) {
    let name = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    let db = TestDb::new(backend).await;
    let (url, tokens, broker, running, server) = start(&db, mode).await;
    let run_for = Duration::from_secs(secs());
    // warm up connections, caches and the query planner
    round(&url, &tokens, 8, Duration::from_secs(2), "warm").await;
    for (k, clients) in LEVELS.into_iter().enumerate() {
        let (accepted, other, mut lat) =
            round(&url, &tokens, clients, run_for, &format!("r{k}")).await;
        lat.sort();
        let provisioned = db
            .count("FROM wf_workflows WHERE state = 'succeeded'")
            .await;
        let r = Round {
            backend: name,
            mode,
            clients,
            accepted,
            other,
            secs: run_for.as_secs_f64(),
            p50: pct(&lat, 0.50),
            p99: pct(&lat, 0.99),
            provisioned,
        };
        eprintln!(
            "{name:10} {:45} {clients:3} clients: {:7.0} accepted/s  p50 {:6.2} ms  p99 {:7.2} ms  ({} not accepted; {} runs provisioned so far; load {})",
            mode.name(),
            r.accepted as f64 / r.secs,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.other,
            r.provisioned,
            load()
        );
        out.push(r);
    }
    server.abort();
    if let Some(r) = running {
        r.shutdown(Duration::from_secs(5)).await;
    }
    broker.db().close().await;
}

fn pgbench_bin() -> Option<PathBuf> {
    if Command::new("pgbench").arg("--version").output().is_ok() {
        return Some(PathBuf::from("pgbench"));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin/pgbench"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop()
}

fn pgbench(clients: usize, secs: u64) -> Option<f64> {
    let bin = pgbench_bin()?;
    let name = format!("nuage_pgbench_{}", uuid::Uuid::new_v4().simple());
    let psql = |sql: &str| {
        Command::new("psql")
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-q",
                "-c",
                sql,
            ])
            .output()
    };
    psql(&format!("CREATE DATABASE {name}")).ok()?;
    let init = Command::new(&bin)
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-i",
            "-q",
            "-s",
            "1",
            &name,
        ])
        .output()
        .ok()?;
    let mut tps = None;
    if init.status.success() {
        let run = Command::new(&bin)
            .args(["-h", "127.0.0.1", "-U", "postgres", "-N", "-j", "2"])
            .args(["-c", &clients.to_string(), "-T", &secs.to_string(), &name])
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&run.stdout);
        tps = text
            .lines()
            .find(|l| l.starts_with("tps ="))
            .and_then(|l| l.split_whitespace().nth(2))
            .and_then(|v| v.parse().ok());
    }
    let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    tps
}

/// Idle RSS of the real `nuage serve` (release build) on a fresh SQLite file.
fn idle_rss() -> Option<(u64, u64)> {
    let bin = nuage_tests::binary::nuage();
    let dir = tempfile::tempdir().ok()?;
    let port = nuage_tests::server::free_port();
    let mut child = Command::new(&bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--database-url")
        .arg(format!("sqlite:{}", dir.path().join("nuage.db").display()))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(5));
    let rss = |pid: u32| -> Option<u64> {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()?
            .lines()
            .find(|l| l.starts_with("VmRSS:"))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    };
    let first = rss(child.id());
    std::thread::sleep(Duration::from_secs(5));
    let second = rss(child.id());
    let _ = child.kill();
    let _ = child.wait();
    Some((first?, second?))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let started = load();
    eprintln!(
        "load average at start: {started}; rounds of {} s; PostgreSQL {}",
        secs(),
        pg_base()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut rounds = Vec::new();
    let mut pg = Vec::new();
    // NUAGE_BENCH_ONLY=postgres,api (any of sqlite, postgres, service, api) narrows the rounds.
    let only = std::env::var("NUAGE_BENCH_ONLY").unwrap_or_default();
    let words: Vec<&str> = only
        .split(',')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    // a group (backends, modes) none of whose names is given is not narrowed
    let picks = |group: [&str; 2], name: &str| {
        !group.iter().any(|k| words.contains(k)) || words.contains(&name)
    };
    rt.block_on(async {
        for (mode, m) in [(Mode::Service, "service"), (Mode::ApiOnly, "api")] {
            for (backend, b) in [(Backend::Sqlite, "sqlite"), (Backend::Postgres, "postgres")] {
                if picks(["sqlite", "postgres"], b) && picks(["service", "api"], m) {
                    bench_backend(backend, mode, &mut rounds).await;
                }
            }
        }
    });
    if !only.is_empty() {
        return;
    }
    for clients in [8usize, 32, 90] {
        let tps = pgbench(clients, secs().min(10));
        eprintln!("pgbench -N -c {clients}: {tps:?} tps (load {})", load());
        pg.push((clients, tps));
    }
    let rss = idle_rss();
    let ended = load();

    println!("\nLoad average: {started} at start, {ended} at end (2 cores, shared).\n");
    println!("| database | configuration | clients | accepted/s | p50 | p99 | not accepted |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for r in &rounds {
        println!(
            "| {} | {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} |",
            r.backend,
            r.mode.name(),
            r.clients,
            r.accepted as f64 / r.secs,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3,
            r.other
        );
    }
    println!("\n| pgbench -N, clients | tps |\n|---:|---:|");
    for (c, tps) in &pg {
        match tps {
            Some(t) => println!("| {c} | {t:.0} |"),
            None => println!("| {c} | (pgbench unavailable) |"),
        }
    }
    match rss {
        Some((a, b)) => println!(
            "\nIdle RSS of `nuage serve` (release, SQLite, example catalogue, 12 sim instances): {:.1} MiB after 5 s, {:.1} MiB after 10 s.",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        ),
        None => println!("\nIdle RSS: could not start nuage serve"),
    }
}
