//! Test harness: a fresh database per test, SQLite (temp file) or
//! PostgreSQL (`nuage_wf_<uuid>` on 127.0.0.1:5432, dropped afterwards).
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use nuage_workflows::{Engine, EngineBuilder, Store, WorkflowDefinition};

pub const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn pg_base() -> String {
    std::env::var("NUAGE_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into())
}

/// A throwaway database.
pub struct Db {
    pub url: String,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Db {
    pub async fn sqlite() -> Db {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite:{}", dir.path().join("wf.db").display());
        Db {
            url,
            pg_name: None,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Db {
        let name = format!("nuage_wf_{}", uuid::Uuid::new_v4().simple());
        let admin = format!("{}/postgres", pg_base());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("PostgreSQL must run on 127.0.0.1:5432 (user postgres, trust auth)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        Db {
            url: format!("{}/{name}", pg_base()),
            pg_name: Some(name),
            _dir: None,
        }
    }

    pub fn is_pg(&self) -> bool {
        self.pg_name.is_some()
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.url).await.expect("connect store")
    }

    /// Raw SQL for tests that play the part of another worker.
    pub async fn exec(&self, sql: &str) -> u64 {
        if self.is_pg() {
            let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&self.url)
                .await
                .unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .unwrap()
                .rows_affected()
        } else {
            let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&self.url)
                .await
                .unwrap();
            sqlx::query(sql)
                .execute(&mut c)
                .await
                .unwrap()
                .rows_affected()
        }
    }
}

impl Drop for Db {
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

/// Fast settings for tests.
pub fn fast(b: EngineBuilder) -> EngineBuilder {
    b.workers(4)
        .lease_ttl(Duration::from_millis(1500))
        .poll_interval(Duration::from_millis(500))
}

pub async fn engine(db: &Db, defs: Vec<WorkflowDefinition>) -> Engine {
    let mut b = fast(Engine::builder(db.store().await));
    for d in defs {
        b = b.register(d);
    }
    b.build().expect("engine")
}

/// A shared, ordered log of what handlers did.
#[derive(Clone, Default)]
pub struct Log(pub Arc<Mutex<Vec<String>>>);

impl Log {
    pub fn push(&self, s: impl Into<String>) {
        self.0.lock().unwrap().push(s.into());
    }
    pub fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    pub fn count(&self, s: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|x| *x == s).count()
    }
}

pub const WAIT: Duration = Duration::from_secs(20);

/// Runs one async test body against both backends.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::common::Db::sqlite().await;
                super::$name(&db).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::common::Db::postgres().await;
                super::$name(&db).await;
            }
        }
    )*};
}
