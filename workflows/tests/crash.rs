//! Crash tests (custom harness): worker processes running a workflow of
//! effectful steps are killed with SIGKILL at random moments, many times, and
//! one is paused with SIGSTOP past its lease then resumed. Effects go to a
//! test service (a SQLite file) keyed by the steps' idempotency keys and
//! fenced by lease epochs. Afterwards: every run is terminal, no key's effect
//! happened twice, compensated and cancelled runs left nothing behind, and on
//! PostgreSQL stale-epoch writes were rejected (and counted).
//!
//! `cargo test -p nuage-workflows --test crash`; replay with
//! `NUAGE_WF_CRASH_SEED=<seed>` (process timing still varies).

#![allow(missing_docs, unreachable_pub)]

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use nuage_workflows::{
    Engine, RetryPolicy, StartRequest, Step, StepContext, StepError, StepInstance, Store,
    WorkflowDefinition, WorkflowFilter, WorkflowState,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

const LEASE_TTL: Duration = Duration::from_millis(1000);

// ------------------------------------------------------------------ service

/// The "cloud": resources keyed by idempotency key, every operation fenced by
/// the caller's lease epoch (a lower epoch than one already seen for the key
/// is refused, as a fencing-token aware API would). A PostgreSQL database
/// (row lock per key) in the PostgreSQL scenario, a SQLite file in the other.
#[derive(Clone)]
enum Service {
    Sqlite(SqlitePool),
    Pg(sqlx::PgPool),
}

#[derive(Debug)]
enum SvcError {
    Fenced,
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SvcError {
    fn from(e: sqlx::Error) -> Self {
        SvcError::Db(e)
    }
}

/// Runs one fenced service operation on either backend.
macro_rules! fenced_op {
    ($svc:expr, $key:expr, $epoch:expr, $op:expr, |$tx:ident| $body:block) => {{
        match $svc {
            Service::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let seen: i64 = sqlx::query(
                    "INSERT INTO svc_fence (key, epoch) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
                     SET epoch = MAX(epoch, excluded.epoch) RETURNING epoch",
                )
                .bind($key)
                .bind($epoch)
                .fetch_one(&mut *$tx)
                .await?
                .get(0);
                fenced_op!(@check $tx, seen, $key, $epoch, $op, $body)
            }
            Service::Pg(pool) => {
                let mut $tx = pool.begin().await?;
                let seen: i64 = sqlx::query(
                    "INSERT INTO svc_fence (key, epoch) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE \
                     SET epoch = GREATEST(svc_fence.epoch, excluded.epoch) RETURNING epoch",
                )
                .bind($key)
                .bind($epoch)
                .fetch_one(&mut *$tx)
                .await?
                .get(0);
                fenced_op!(@check $tx, seen, $key, $epoch, $op, $body)
            }
        }
    }};
    (@check $tx:ident, $seen:expr, $key:expr, $epoch:expr, $op:expr, $body:block) => {{
        if $seen > $epoch {
            sqlx::query("INSERT INTO svc_rejections (key, epoch, op) VALUES ($1, $2, $3)")
                .bind($key)
                .bind($epoch)
                .bind($op)
                .execute(&mut *$tx)
                .await?;
            $tx.commit().await?;
            Err(SvcError::Fenced)
        } else {
            let out = $body;
            $tx.commit().await?;
            Ok(out)
        }
    }};
}

impl Service {
    async fn open(url: &str) -> Service {
        let svc = if url.starts_with("postgres") {
            Service::Pg(
                sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .connect(url)
                    .await
                    .unwrap(),
            )
        } else {
            let opts = SqliteConnectOptions::from_str(url)
                .unwrap()
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(30));
            Service::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .connect_with(opts)
                    .await
                    .unwrap(),
            )
        };
        let serial = if url.starts_with("postgres") {
            "BIGSERIAL"
        } else {
            "INTEGER"
        };
        for q in [
            "CREATE TABLE IF NOT EXISTS svc_fence (key TEXT PRIMARY KEY, epoch BIGINT NOT NULL)".to_string(),
            format!(
                "CREATE TABLE IF NOT EXISTS svc_resources (id {serial} PRIMARY KEY, key TEXT NOT NULL, \
                 epoch BIGINT NOT NULL, worker TEXT NOT NULL, deleted BIGINT NOT NULL DEFAULT 0)"
            ),
            "CREATE TABLE IF NOT EXISTS svc_rejections (key TEXT NOT NULL, epoch BIGINT NOT NULL, op TEXT NOT NULL)"
                .to_string(),
        ] {
            match &svc {
                Service::Sqlite(p) => sqlx::query(&q).execute(p).await.map(|_| ()),
                Service::Pg(p) => sqlx::query(&q).execute(p).await.map(|_| ()),
            }
            .unwrap();
        }
        svc
    }

    async fn lookup(&self, key: &str, epoch: i64) -> Result<Option<i64>, SvcError> {
        const Q: &str = "SELECT id FROM svc_resources WHERE key = $1 AND deleted = 0";
        fenced_op!(self, key, epoch, "lookup", |tx| {
            sqlx::query(Q)
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.get::<i64, _>(0))
        })
    }

    async fn create(&self, key: &str, epoch: i64, worker: &str) -> Result<i64, SvcError> {
        const Q: &str =
            "INSERT INTO svc_resources (key, epoch, worker) VALUES ($1, $2, $3) RETURNING id";
        fenced_op!(self, key, epoch, "create", |tx| {
            sqlx::query(Q)
                .bind(key)
                .bind(epoch)
                .bind(worker)
                .fetch_one(&mut *tx)
                .await?
                .get::<i64, _>(0)
        })
    }

    async fn delete(&self, key: &str, epoch: i64) -> Result<(), SvcError> {
        const Q: &str = "UPDATE svc_resources SET deleted = 1 WHERE key = $1";
        fenced_op!(self, key, epoch, "delete", |tx| {
            sqlx::query(Q).bind(key).execute(&mut *tx).await?;
        })
    }

    async fn scalar(&self, q: &str) -> i64 {
        match self {
            Service::Sqlite(p) => sqlx::query(q).fetch_one(p).await.unwrap().get(0),
            Service::Pg(p) => sqlx::query(q).fetch_one(p).await.unwrap().get(0),
        }
    }

    async fn keys(&self, q: &str) -> Vec<String> {
        match self {
            Service::Sqlite(p) => sqlx::query_scalar(q).fetch_all(p).await.unwrap(),
            Service::Pg(p) => sqlx::query_scalar(q).fetch_all(p).await.unwrap(),
        }
    }

    async fn live_id(&self, key: &str) -> Option<i64> {
        const Q: &str = "SELECT id FROM svc_resources WHERE key = $1 AND deleted = 0";
        match self {
            Service::Sqlite(p) => sqlx::query_scalar(Q)
                .bind(key)
                .fetch_optional(p)
                .await
                .unwrap(),
            Service::Pg(p) => sqlx::query_scalar(Q)
                .bind(key)
                .fetch_optional(p)
                .await
                .unwrap(),
        }
    }
}

fn svc_err(e: SvcError) -> StepError {
    match e {
        SvcError::Fenced => {
            StepError::transient("fenced out by the service: a newer worker owns this run")
        }
        SvcError::Db(e) => StepError::transient(format!("service: {e}")),
    }
}

// --------------------------------------------------------------- definition

#[derive(Serialize, Deserialize)]
struct Input {
    steps: usize,
    fail_at: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct Params {
    index: usize,
    fail: bool,
}

fn definition(svc: Service, worker: String) -> WorkflowDefinition {
    let (svc2, w) = (svc.clone(), worker.clone());
    WorkflowDefinition::new("crashy", 1)
        .kind(
            Step::new("effect", move |ctx: StepContext, p: Params| {
                let (svc, worker) = (svc.clone(), w.clone());
                async move {
                    let key = ctx.idempotency_key();
                    let jitter = || Duration::from_millis(rand::rng().random_range(5..60));
                    // observe first: a previous attempt may have created it
                    let refused =
                        || StepError::terminal(format!("step {} refused by the provider", p.index));
                    if let Some(id) = svc.lookup(&key, ctx.epoch()).await.map_err(svc_err)? {
                        return if p.fail { Err(refused()) } else { Ok(id) };
                    }
                    ctx.checkpoint(&json!({ "pending": key })).await?;
                    tokio::time::sleep(jitter()).await;
                    let id = svc
                        .create(&key, ctx.epoch(), &worker)
                        .await
                        .map_err(svc_err)?;
                    tokio::time::sleep(jitter()).await;
                    if p.fail {
                        // the provider created something, then reported a failure
                        return Err(refused());
                    }
                    Ok(id)
                }
            })
            .compensate(move |ctx: StepContext, _: Params, _: Option<i64>| {
                let svc = svc2.clone();
                async move {
                    let pause = Duration::from_millis(rand::rng().random_range(5..40));
                    tokio::time::sleep(pause).await;
                    svc.delete(&ctx.idempotency_key(), ctx.epoch())
                        .await
                        .map_err(svc_err)
                }
            })
            .retry(RetryPolicy::new(
                50,
                Duration::from_millis(20),
                Duration::from_millis(200),
            ))
            .timeout(Duration::from_secs(5)),
        )
        .plan(|i: &Input| {
            (0..i.steps)
                .map(|n| {
                    StepInstance::new(
                        format!("s{n}"),
                        "effect",
                        &Params {
                            index: n,
                            fail: i.fail_at == Some(n),
                        },
                    )
                    .map_err(|e| e.to_string())
                })
                .collect()
        })
        .timeout(Duration::from_secs(600))
}

// ------------------------------------------------------------------- worker

async fn worker_main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("nuage_workflows=info"))
        .with_writer(std::io::stderr)
        .init();
    let db = std::env::var("CRASH_DB").unwrap();
    let svc = Service::open(&std::env::var("CRASH_SVC").unwrap()).await;
    let id = std::env::var("CRASH_WORKER").unwrap();
    let store = Store::connect(&db).await.unwrap();
    let engine = Engine::builder(store)
        .register(definition(svc, id.clone()))
        .workers(3)
        .lease_ttl(LEASE_TTL)
        .poll_interval(Duration::from_millis(250))
        .worker_id(format!("{id}-{}", std::process::id()))
        .build()
        .unwrap();
    let _h = engine.run();
    // run until killed
    std::future::pending::<()>().await;
}

// ------------------------------------------------------------- orchestrator

struct Workers {
    exe: std::path::PathBuf,
    db: String,
    svc: String,
    children: Vec<Child>,
    spawned: usize,
    log_dir: std::path::PathBuf,
}

impl Workers {
    fn spawn(&mut self) -> usize {
        self.spawned += 1;
        let log = std::fs::File::create(self.log_dir.join(format!("worker-{}.log", self.spawned)))
            .unwrap();
        let child = Command::new(&self.exe)
            .env("NUAGE_WF_CRASH_ROLE", "worker")
            .env("CRASH_DB", &self.db)
            .env("CRASH_SVC", &self.svc)
            .env("CRASH_WORKER", format!("w{}", self.spawned))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn worker");
        self.children.push(child);
        self.children.len() - 1
    }

    fn kill(&mut self, i: usize) {
        let mut c = self.children.remove(i);
        let _ = c.kill(); // SIGKILL
        let _ = c.wait();
    }

    fn signal(&self, i: usize, sig: &str) {
        let pid = self.children[i].id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill {sig} {pid}");
    }

    fn kill_all(&mut self) {
        while !self.children.is_empty() {
            self.kill(0);
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        for c in &self.children {
            let _ = Command::new("kill")
                .args(["-CONT", &c.id().to_string()])
                .status();
        }
        self.kill_all();
    }
}

struct Scenario {
    name: &'static str,
    service_url: String,
    db_url: String,
    processes: usize,
    runs: usize,
    min_kills: usize,
    pause: bool,
}

#[derive(Debug, Default)]
struct Report {
    kills: usize,
    pauses: usize,
    stale_rejected: i64,
    service_fenced: i64,
    abandoned_attempts: usize,
    states: HashMap<WorkflowState, usize>,
    elapsed: Duration,
}

async fn run_scenario(sc: &Scenario, seed: u64) -> Result<Report, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let svc_path = sc.service_url.clone();
    let svc = Service::open(&svc_path).await;
    let store = Store::connect(&sc.db_url)
        .await
        .map_err(|e| e.to_string())?;
    // the orchestrator starts and cancels runs but executes no step
    let starter = Engine::builder(store.clone())
        .register(definition(svc.clone(), "orchestrator".into()))
        .workers(0)
        .build()
        .unwrap();
    let mut runs = Vec::new();
    let mut to_cancel = Vec::new();
    for i in 0..sc.runs {
        let fail_at = rng.random_bool(0.25).then(|| rng.random_range(0..5));
        let input = Input { steps: 5, fail_at };
        let r = starter
            .start(
                StartRequest::new("crashy", &input)
                    .unwrap()
                    .idempotency_key(format!("req-{i}")),
            )
            .await
            .map_err(|e| e.to_string())?;
        // starting again with the same key changes nothing
        let again = starter
            .start(
                StartRequest::new("crashy", &input)
                    .unwrap()
                    .idempotency_key(format!("req-{i}")),
            )
            .await;
        assert_eq!(again.unwrap().id, r.id);
        if fail_at.is_none() && rng.random_bool(0.15) {
            to_cancel.push(r.id);
        }
        runs.push((r.id, fail_at));
    }
    let mut workers = Workers {
        exe: std::env::current_exe().unwrap(),
        db: sc.db_url.clone(),
        svc: svc_path.clone(),
        children: Vec::new(),
        spawned: 0,
        log_dir: dir.path().to_path_buf(),
    };
    for _ in 0..sc.processes {
        workers.spawn();
    }
    let t0 = Instant::now();
    let mut report = Report::default();
    let mut cancelled = HashSet::new();
    let all_terminal = |store: Store| async move {
        let open = store
            .list(&WorkflowFilter {
                states: vec![
                    WorkflowState::Pending,
                    WorkflowState::Running,
                    WorkflowState::Cancelling,
                    WorkflowState::Compensating,
                ],
                limit: Some(1),
                ..Default::default()
            })
            .await
            .unwrap();
        open.is_empty()
    };
    // chaos: kill -9 a random worker every 150-600 ms (respawning it), cancel
    // some runs, and once pause a worker past its lease
    while report.kills < sc.min_kills || !all_terminal(store.clone()).await {
        if t0.elapsed() > Duration::from_secs(90) {
            return Err(format!(
                "[{}] runs not terminal after 90 s (kills {})",
                sc.name, report.kills
            ));
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(150..600))).await;
        if let Some(id) = to_cancel.pop()
            && store.cancel(id, "crash-test").await.is_ok()
        {
            cancelled.insert(id);
        }
        if sc.pause && report.pauses == 0 && report.kills >= 3 {
            // pause a worker that holds leases right now, until at least one
            // of its runs has been taken over by another worker (and at least
            // three lease durations), then resume it
            let held: Vec<(uuid::Uuid, i64, String)> = store
                .list(&WorkflowFilter {
                    states: vec![WorkflowState::Running],
                    limit: Some(1000),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_iter()
                .filter_map(|r| {
                    let pid = r.lease_owner.as_deref()?.rsplit('-').next()?.to_string();
                    Some((r.id, r.lease_epoch, pid))
                })
                .collect();
            let target = workers
                .children
                .iter()
                .position(|c| held.iter().any(|h| h.2 == c.id().to_string()));
            if let Some(i) = target {
                let pid = workers.children[i].id().to_string();
                let mine: Vec<(uuid::Uuid, i64)> = held
                    .iter()
                    .filter(|h| h.2 == pid)
                    .map(|h| (h.0, h.1))
                    .collect();
                eprintln!("pausing worker pid {pid} holding {} run(s)", mine.len());
                workers.signal(i, "-STOP");
                let paused = Instant::now();
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    let mut taken = false;
                    for (id, epoch) in &mine {
                        taken |= store.get(*id).await.unwrap().lease_epoch != *epoch;
                    }
                    if (taken && paused.elapsed() >= LEASE_TTL * 3)
                        || paused.elapsed() > Duration::from_secs(15)
                    {
                        break;
                    }
                }
                workers.signal(i, "-CONT");
                report.pauses += 1;
                continue;
            }
        }
        if report.kills < sc.min_kills && !workers.children.is_empty() {
            let i = rng.random_range(0..workers.children.len());
            workers.kill(i);
            report.kills += 1;
            workers.spawn();
        }
    }
    // let the resumed/paused worker drain, then stop everyone
    tokio::time::sleep(Duration::from_millis(500)).await;
    workers.kill_all();
    report.elapsed = t0.elapsed();

    // ------------------------------------------------------------ verdicts
    let mut problems = Vec::new();
    let dup = svc
        .keys("SELECT key FROM svc_resources GROUP BY key HAVING COUNT(*) > 1")
        .await;
    if !dup.is_empty() {
        problems.push(format!("effects happened twice for keys {dup:?}"));
    }
    report.service_fenced = svc.scalar("SELECT COUNT(*) FROM svc_rejections").await;
    let live: HashSet<String> = svc
        .keys("SELECT key FROM svc_resources WHERE deleted = 0")
        .await
        .into_iter()
        .collect();
    for (id, fail_at) in &runs {
        let t = store.timeline(*id).await.map_err(|e| e.to_string())?;
        let st = t.workflow.state;
        *report.states.entry(st).or_default() += 1;
        report.stale_rejected += t.events_of("stale_write_rejected").count() as i64;
        report.abandoned_attempts += t
            .steps
            .iter()
            .flat_map(|s| &s.attempt_log)
            .filter(|a| a.outcome.as_deref() == Some("abandoned"))
            .count();
        let keys: Vec<String> = t
            .steps
            .iter()
            .map(|s| format!("wf-{}-{}", id.simple(), s.name))
            .collect();
        let expected = if cancelled.contains(id) {
            vec![WorkflowState::Cancelled, WorkflowState::Succeeded]
        } else if fail_at.is_some() {
            vec![WorkflowState::Compensated]
        } else {
            vec![WorkflowState::Succeeded]
        };
        if !expected.contains(&st) {
            problems.push(format!(
                "run {id} ended {st}, expected {expected:?} ({:?})",
                t.workflow.error
            ));
            continue;
        }
        match st {
            WorkflowState::Succeeded => {
                for (s, key) in t.steps.iter().zip(&keys) {
                    let out = s.output.as_ref().and_then(Value::as_i64);
                    let row = svc.live_id(key).await;
                    if out.is_none() || row != out {
                        problems.push(format!(
                            "run {id} step {}: output {out:?} but service has {row:?}",
                            s.name
                        ));
                    }
                }
            }
            _ => {
                for key in &keys {
                    if live.contains(key) {
                        problems.push(format!("{st} run {id} left {key} behind"));
                    }
                }
            }
        }
    }
    if sc.pause && report.stale_rejected == 0 {
        problems.push("the paused worker woke up but no stale-epoch write was rejected".into());
    }
    if problems.is_empty() {
        Ok(report)
    } else {
        for f in std::fs::read_dir(dir.path()).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(f.path()).unwrap_or_default();
                if !text.is_empty() {
                    eprintln!(
                        "--- {}\n{}",
                        f.path().display(),
                        text.chars().take(4000).collect::<String>()
                    );
                }
            }
        }
        Err(format!(
            "{} problem(s):\n  {}",
            problems.len(),
            problems.join("\n  ")
        ))
    }
}

fn main() {
    if std::env::var("NUAGE_WF_CRASH_ROLE").as_deref() == Ok("worker") {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(worker_main());
        return;
    }
    let seed: u64 = std::env::var("NUAGE_WF_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (mut passed, mut failed) = (0, 0);
    for which in ["postgres", "sqlite"] {
        println!("crash test [{which}] seed {seed} (replay: NUAGE_WF_CRASH_SEED={seed})");
        let result = rt.block_on(async {
            let (sc, _guard) = scenario(which).await;
            run_scenario(&sc, seed).await
        });
        match result {
            Ok(r) => {
                passed += 1;
                println!(
                    "crash test [{which}] ok in {:.1} s: {} kills, {} pauses, {} stale-epoch writes rejected, {} service \
                     calls fenced, {} abandoned attempts, final states {:?}",
                    r.elapsed.as_secs_f64(),
                    r.kills,
                    r.pauses,
                    r.stale_rejected,
                    r.service_fenced,
                    r.abandoned_attempts,
                    r.states
                );
            }
            Err(e) => {
                failed += 1;
                println!("crash test [{which}] FAILED (seed {seed}): {e}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

struct PgGuard(Vec<String>);

impl Drop for PgGuard {
    fn drop(&mut self) {
        for name in &self.0 {
            let _ = Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-q",
                    "-c",
                ])
                .arg(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .output();
        }
    }
}

async fn scenario(which: &str) -> (Scenario, (PgGuard, Option<tempfile::TempDir>)) {
    if which == "postgres" {
        let base = std::env::var("NUAGE_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("nuage_wf_crash_{}", uuid::Uuid::new_v4().simple());
        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&format!("{base}/postgres"))
            .await
            .expect("PostgreSQL on 127.0.0.1:5432");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}_svc"))
            .execute(&mut c)
            .await
            .unwrap();
        let sc = Scenario {
            name: "postgres",
            service_url: format!("{base}/{name}_svc"),
            db_url: format!("{base}/{name}"),
            processes: 3,
            runs: 40,
            min_kills: 15,
            pause: true,
        };
        (
            sc,
            (PgGuard(vec![name.clone(), format!("{name}_svc")]), None),
        )
    } else {
        let dir = tempfile::tempdir().unwrap();
        let sc = Scenario {
            name: "sqlite",
            service_url: format!("sqlite:{}", dir.path().join("service.db").display()),
            db_url: format!("sqlite:{}", dir.path().join("wf.db").display()),
            processes: 1,
            runs: 25,
            min_kills: 12,
            pause: false,
        };
        (sc, (PgGuard(Vec::new()), Some(dir)))
    }
}
