//! The store: the workflow tables on SQLite or PostgreSQL, behind one type.
//!
//! SQLite runs with WAL, a single writer connection whose transactions begin
//! with `BEGIN IMMEDIATE`, a busy timeout, and a separate pool of readers.
//! PostgreSQL uses one pool; claims use `FOR UPDATE SKIP LOCKED`. Every write
//! to a leased workflow is conditioned on its lease epoch.

pub mod exec;
pub(crate) mod limits;
mod operator;
mod rows;
pub(crate) mod run;
pub(crate) mod start;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::Notify;

use crate::error::{Error, Result};
use exec::{Arg, DbRow, Tx, bind_all};

pub use exec::StoreTx;
pub use limits::{BreakerConfig, LimitConfig, LimitStatus};
pub use rows::{AttemptRecord, EventRecord, StepRecord, Timeline, WorkflowFilter, WorkflowRecord};
pub(crate) use rows::{StepRow, WorkflowRow};

#[derive(Debug)]
enum Backend {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

#[derive(Debug)]
struct Inner {
    backend: Backend,
    wakeup: Notify,
    stale_writes: AtomicU64,
}

/// Which SQL dialect a store speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite (embedded, one host).
    Sqlite,
    /// PostgreSQL (several replicas).
    Postgres,
}

/// Handle on the workflow tables. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

impl Store {
    /// Connects to `sqlite:PATH` (created if missing) or `postgres://...`
    /// and applies the embedded migrations.
    pub async fn connect(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            Self::open_sqlite(opts).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .connect_with(opts)
                .await?;
            Self::from_pg_pool(pool).await
        } else {
            Err(Error::UnsupportedUrl(url.to_string()))
        }
    }

    /// Opens a SQLite file with the engine's settings: WAL, `synchronous =
    /// NORMAL`, a 10 s busy timeout, one writer connection and up to four readers.
    pub async fn open_sqlite(opts: SqliteConnectOptions) -> Result<Self> {
        Self::open_sqlite_with_readers(opts, 4).await
    }

    /// [`open_sqlite`](Self::open_sqlite) with up to `readers` reader connections.
    pub async fn open_sqlite_with_readers(
        opts: SqliteConnectOptions,
        readers: u32,
    ) -> Result<Self> {
        let opts = opts
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(opts.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(readers.max(1))
            .connect_with(opts.read_only(true))
            .await
            .unwrap_or_else(|_| writer.clone());
        Self::build(Backend::Sqlite { writer, readers }).await
    }

    /// Uses an existing SQLite pool for reads and writes. For the single-writer
    /// guarantee, give it `max_connections(1)`; migrations are applied.
    pub async fn from_sqlite_pool(pool: SqlitePool) -> Result<Self> {
        Self::build(Backend::Sqlite {
            writer: pool.clone(),
            readers: pool,
        })
        .await
    }

    /// Uses an existing PostgreSQL pool; migrations are applied.
    pub async fn from_pg_pool(pool: PgPool) -> Result<Self> {
        Self::build(Backend::Postgres(pool)).await
    }

    async fn build(backend: Backend) -> Result<Self> {
        let store = Self {
            inner: Arc::new(Inner {
                backend,
                wakeup: Notify::new(),
                stale_writes: AtomicU64::new(0),
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the embedded migrations (idempotent; safe from several replicas
    /// at once on PostgreSQL). Migration versions `77000000xx` belong to this
    /// crate; other migrators sharing the database must ignore missing versions.
    pub async fn migrate(&self) -> Result<()> {
        match &self.inner.backend {
            Backend::Sqlite { writer, .. } => {
                let mut m = sqlx::migrate!("migrations/sqlite");
                m.set_ignore_missing(true);
                m.run(writer).await?;
            }
            Backend::Postgres(pool) => {
                let mut m = sqlx::migrate!("migrations/postgres");
                m.set_ignore_missing(true);
                m.run(pool).await?;
            }
        }
        Ok(())
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match self.inner.backend {
            Backend::Sqlite { .. } => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The PostgreSQL pool, when on PostgreSQL.
    pub fn pg_pool(&self) -> Option<&PgPool> {
        match &self.inner.backend {
            Backend::Postgres(p) => Some(p),
            Backend::Sqlite { .. } => None,
        }
    }

    /// The SQLite writer pool, when on SQLite.
    pub fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.inner.backend {
            Backend::Sqlite { writer, .. } => Some(writer),
            Backend::Postgres(_) => None,
        }
    }

    /// Writes refused in this process because their lease epoch was stale.
    pub fn stale_writes_rejected(&self) -> u64 {
        self.inner.stale_writes.load(Ordering::Relaxed)
    }

    pub(crate) fn count_stale_write(&self) {
        self.inner.stale_writes.fetch_add(1, Ordering::Relaxed);
    }

    /// Wakes this process's idle workers.
    pub(crate) fn wake_local(&self) {
        self.inner.wakeup.notify_waiters();
    }

    pub(crate) fn wakeup(&self) -> &Notify {
        &self.inner.wakeup
    }

    /// Begins a write transaction for a caller's own statements, in which
    /// [`Engine::start_in`](crate::Engine::start_in) may also start runs (`BEGIN IMMEDIATE` on
    /// the writer on SQLite).
    pub async fn begin_tx(&self) -> Result<StoreTx> {
        Ok(StoreTx {
            tx: self.begin().await?,
            wake: None,
        })
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.inner.backend {
            Backend::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Backend::Postgres(pool) => pool.close().await,
        }
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.inner.backend {
            Backend::Sqlite { writer, .. } => {
                Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?)
            }
            Backend::Postgres(pool) => Tx::Pg(pool.begin().await?),
        })
    }

    /// One auto-committed write statement; the number of rows it touched.
    pub async fn write(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match &self.inner.backend {
            Backend::Sqlite { writer, .. } => bind_all!(sqlx::query(sql), args)
                .execute(writer)
                .await?
                .rows_affected(),
            Backend::Postgres(pool) => bind_all!(sqlx::query(sql), args)
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// Reads every row (from a reader connection on SQLite).
    pub async fn read_all<T: DbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>> {
        Ok(match &self.inner.backend {
            Backend::Sqlite { readers, .. } => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(readers)
                    .await?
            }
            Backend::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// Reads at most one row (from a reader connection on SQLite).
    pub async fn read_optional<T: DbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<Option<T>> {
        Ok(match &self.inner.backend {
            Backend::Sqlite { readers, .. } => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(readers)
                    .await?
            }
            Backend::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// `col IN (<json array bound at $n>)` in this dialect.
    pub(crate) fn in_json_list(&self, col: &str, n: usize) -> String {
        match self.dialect() {
            Dialect::Sqlite => format!("{col} IN (SELECT value FROM json_each(${n}))"),
            Dialect::Postgres => {
                format!("{col} IN (SELECT jsonb_array_elements_text(${n}::jsonb))")
            }
        }
    }

    /// The row-lock suffix of a claim query.
    pub(crate) fn skip_locked(&self) -> &'static str {
        match self.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }
}

/// Milliseconds since the Unix epoch, the engine's one timestamp format.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
