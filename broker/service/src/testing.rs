//! Test support (feature `test-util`): a throwaway database per test (a temporary SQLite file,
//! or a fresh PostgreSQL database on `127.0.0.1:5432` dropped afterwards), a broker on it with
//! fast settings, and a client that calls the router in memory (no socket).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use tower::ServiceExt;

use crate::api::router;
use crate::auth::{NewToken, Role};
use crate::config::Config;
use crate::service::{Broker, Running};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// The PostgreSQL server tests use: `NUAGE_TEST_PG`, or `postgres://postgres@127.0.0.1:5432`.
pub fn pg_base() -> String {
    std::env::var("NUAGE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A throwaway database, removed when dropped.
#[derive(Debug)]
pub struct TestDb {
    /// Its URL.
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// A database of this backend.
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite:{}", dir.path().join("nuage.db").display());
                TestDb {
                    url,
                    pg_name: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let name = format!("nuage_broker_{}", uuid::Uuid::new_v4().simple());
                let admin = format!("{}/postgres", pg_base());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
                    .await
                    .expect("PostgreSQL must run on 127.0.0.1:5432 (user postgres, trust auth)");
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create a test database");
                TestDb {
                    url: format!("{}/{name}", pg_base()),
                    pg_name: Some(name),
                    _dir: None,
                }
            }
        }
    }

    /// Runs one statement on its own connection; rows touched.
    pub async fn exec(&self, sql: &str) -> u64 {
        if self.pg_name.is_some() {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .expect("statement")
                .rows_affected()
        } else {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .expect("statement")
                .rows_affected()
        }
    }

    /// `SELECT COUNT(*)` of a query's rows (`FROM ...` part given).
    pub async fn count(&self, from: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) {from}");
        if self.pg_name.is_some() {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&mut c)
                .await
                .expect("count")
        } else {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.url)
                .await
                .expect("connect");
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&mut c)
                .await
                .expect("count")
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.pg_name {
            let _ = std::process::Command::new("psql")
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

/// Settings that make tests quick: few workers, short leases and polls, fast retries.
pub fn fast_config(url: &str) -> Config {
    let mut c = Config::default();
    c.database.url = Some(url.to_owned());
    c.database.max_connections = Some(8);
    c.engine.workers = 4;
    c.engine.lease_ttl = Duration::from_millis(1500);
    c.engine.poll_interval = Duration::from_millis(200);
    c.provisioning.max_attempts = 4;
    c.provisioning.base_delay = Duration::from_millis(20);
    c.provisioning.max_delay = Duration::from_millis(200);
    c.provisioning.wait_timeout = Duration::from_secs(20);
    c.provisioning.poll_min = Duration::from_millis(10);
    c.provisioning.poll_max = Duration::from_millis(100);
    c.reconcile_interval = Duration::from_millis(100);
    c.shutdown_grace = Duration::from_secs(2);
    c.auth.cache_ttl = Duration::from_millis(100);
    c
}

/// A broker on a throwaway database, running, with an admin token.
pub struct TestBroker {
    /// The broker.
    pub broker: Broker,
    /// Its router.
    pub router: Router,
    /// The global admin token.
    pub admin: String,
    /// The database.
    pub db: TestDb,
    running: Option<Running>,
}

/// An answer: status, headers, JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Value,
}

impl TestBroker {
    /// Starts a broker on a new database of `backend`; `tune` adjusts the fast configuration.
    pub async fn start(backend: Backend, tune: impl FnOnce(&mut Config)) -> TestBroker {
        let db = TestDb::new(backend).await;
        let mut config = fast_config(&db.url);
        tune(&mut config);
        config.validate().expect("a valid test configuration");
        let broker = Broker::open(config).await.expect("open the broker");
        let (_, secret) = broker
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("a first start");
        let admin = secret.expect("a generated token").expose().to_owned();
        let running = broker.run();
        TestBroker {
            router: router(broker.clone()),
            broker,
            admin,
            db,
            running: Some(running),
        }
    }

    /// A new token with this role and tenant.
    pub async fn token(&self, role: Role, tenant: Option<&str>) -> String {
        let (_, secret) = self
            .broker
            .tokens()
            .create(
                &NewToken {
                    name: format!("test-{role}"),
                    role,
                    tenant: tenant.map(str::to_owned),
                },
                "test",
            )
            .await
            .expect("create a token");
        secret.expose().to_owned()
    }

    /// Calls the API in memory with a JSON body (or none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("a request");
        self.send(req).await
    }

    /// Sends a raw request.
    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("the router answers");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Polls a request until its state is one of `states`; panics after `timeout`.
    pub async fn wait_state(
        &self,
        token: &str,
        id: &str,
        states: &[&str],
        timeout: Duration,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let a = self
                .call(
                    Method::GET,
                    &format!("/v1/requests/{id}"),
                    Some(token),
                    None,
                )
                .await;
            assert_eq!(a.status, StatusCode::OK, "{}", a.body);
            let state = a.body["state"].as_str().unwrap_or_default().to_owned();
            if states.contains(&state.as_str()) {
                return a.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "request {id} still {state} after {timeout:?}, expected {states:?}: {}",
                a.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops the background work (workers, sealer, reconciler).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown(Duration::from_secs(2)).await;
        }
    }
}
