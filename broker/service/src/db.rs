//! One database for the broker and the workflow engine, on SQLite or PostgreSQL.
//!
//! The broker's tables (`broker_*`) live beside the engine's (`wf_*`) and share its pool: on
//! SQLite every write goes through the engine's single writer connection (`BEGIN IMMEDIATE`),
//! reads through a separate read-only pool; on PostgreSQL one pool serves both. The SQL is
//! written once with `$n` parameters, which both dialects accept.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use crate::error::{Error, Result};

/// A bound SQL argument.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptI64(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_owned))
    }
}
impl From<Option<&String>> for Arg {
    fn from(v: Option<&String>) -> Self {
        Arg::OptText(v.cloned())
    }
}

/// `args![a, b]`: an argument list.
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::db::Arg::from($a)),*] };
}
pub(crate) use args;

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::OptI64(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
            };
        }
        q
    }};
}

/// A row type both backends can decode.
pub(crate) trait DbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> DbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// Which SQL dialect the database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// The embedded default: one file, one host.
    Sqlite,
    /// Several replicas.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pools {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

/// Handle on the broker's database (cheap to clone), and the engine's [`Store`] on it.
///
/// [`Store`]: nuage_workflows::Store
#[derive(Debug, Clone)]
pub struct Db {
    pools: Pools,
    store: nuage_workflows::Store,
}

/// An open write transaction.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Db {
    /// Connects to `sqlite:PATH` (created if missing) or `postgres://…`, and applies the
    /// engine's migrations then the broker's (both idempotent).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        let db = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true);
            let store = nuage_workflows::Store::open_sqlite(opts.clone()).await?;
            let writer = store
                .sqlite_pool()
                .cloned()
                .ok_or_else(|| Error::Internal("the engine opened no SQLite pool".into()))?;
            let readers = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(1, 8))
                .connect_with(opts.read_only(true))
                .await?;
            Db {
                pools: Pools::Sqlite { writer, readers },
                store,
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            let store = nuage_workflows::Store::from_pg_pool(pool.clone()).await?;
            Db {
                pools: Pools::Postgres(pool),
                store,
            }
        } else {
            return Err(Error::Config(format!(
                "database url must start with sqlite: or postgres://, got {:?}",
                redact_url(url)
            )));
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the broker's embedded migrations (versions `78000000xx`; the engine's are
    /// `77000000xx`, so each migrator ignores the other's).
    pub async fn migrate(&self) -> Result<()> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => {
                let mut m = sqlx::migrate!("migrations/sqlite");
                m.set_ignore_missing(true);
                m.run(writer).await?;
            }
            Pools::Postgres(pool) => {
                let mut m = sqlx::migrate!("migrations/postgres");
                m.set_ignore_missing(true);
                m.run(pool).await?;
            }
        }
        Ok(())
    }

    /// The workflow engine's store on the same database.
    pub fn store(&self) -> &nuage_workflows::Store {
        &self.store
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        match self.pools {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, readers } => {
                readers.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(match &self.pools {
            Pools::Sqlite { writer, .. } => Tx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => Tx::Pg(pool.begin().await?),
        })
    }

    /// One auto-committed write statement; the number of rows it touched.
    pub(crate) async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match &self.pools {
            Pools::Sqlite { writer, .. } => bind_all!(sqlx::query(sql), args)
                .execute(writer)
                .await?
                .rows_affected(),
            Pools::Postgres(pool) => bind_all!(sqlx::query(sql), args)
                .execute(pool)
                .await?
                .rows_affected(),
        })
    }

    /// Every row of a read (a reader connection on SQLite).
    pub(crate) async fn fetch_all<T: DbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>> {
        Ok(match &self.pools {
            Pools::Sqlite { readers, .. } => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(readers)
                    .await?
            }
            Pools::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// At most one row of a read.
    pub(crate) async fn fetch_optional<T: DbRow>(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>> {
        Ok(match &self.pools {
            Pools::Sqlite { readers, .. } => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(readers)
                    .await?
            }
            Pools::Postgres(pool) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(pool)
                    .await?
            }
        })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.fetch_optional::<(i64,)>("SELECT CAST(1 AS BIGINT)", vec![])
            .await
            .is_ok()
    }
}

impl Tx {
    /// The same transaction, for the workflow engine to start a run in it
    /// ([`nuage_workflows::Engine::start_in`]); commit it with [`nuage_workflows::StoreTx::commit`].
    pub(crate) fn into_store_tx(self) -> nuage_workflows::StoreTx {
        match self {
            Tx::Sqlite(t) => nuage_workflows::StoreTx::sqlite(t),
            Tx::Pg(t) => nuage_workflows::StoreTx::postgres(t),
        }
    }

    /// Runs a statement; the number of rows it touched.
    pub(crate) async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(match self {
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Pg(t) => bind_all!(sqlx::query(sql), args)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    /// Every row.
    pub(crate) async fn fetch_all<T: DbRow>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Vec<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **t)
                    .await?
            }
            Tx::Pg(t) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_all(&mut **t)
                    .await?
            }
        })
    }

    /// At most one row.
    pub(crate) async fn fetch_optional<T: DbRow>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>> {
        Ok(match self {
            Tx::Sqlite(t) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **t)
                    .await?
            }
            Tx::Pg(t) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args)
                    .fetch_optional(&mut **t)
                    .await?
            }
        })
    }

    /// Serializes this transaction with every other one taking the same key, until it ends
    /// (PostgreSQL advisory transaction lock; SQLite's single writer already serializes).
    pub(crate) async fn lock(&mut self, key: &str) -> Result<()> {
        if let Tx::Pg(_) = self {
            let k = i64::from_ne_bytes(
                nuage_provider::stable_hash(&["nuage-broker", key]).to_ne_bytes(),
            );
            self.execute("SELECT pg_advisory_xact_lock($1)", args![k])
                .await?;
        }
        Ok(())
    }

    /// Commits.
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// `true` when a database error is a unique-constraint violation.
pub(crate) fn is_unique_violation(e: &Error) -> bool {
    match e {
        Error::Database(sqlx::Error::Database(d)) => d.is_unique_violation(),
        _ => false,
    }
}

/// A database URL with its password replaced, for messages.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Milliseconds since the Unix epoch, the one timestamp format of the database.
pub fn now_ms() -> i64 {
    nuage_workflows::now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password() {
        assert_eq!(
            redact_url("postgres://nuage:s3cret@db:5432/nuage"),
            "postgres://nuage:***@db:5432/nuage"
        );
        assert_eq!(
            redact_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
        assert_eq!(redact_url("sqlite:nuage.db"), "sqlite:nuage.db");
    }
}
