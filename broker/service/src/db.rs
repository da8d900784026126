//! One database for the broker and the workflow engine, on SQLite or PostgreSQL.
//!
//! The broker's tables (`broker_*`) live beside the engine's (`wf_*`) and share its pool: on
//! SQLite every write goes through the engine's single writer connection (`BEGIN IMMEDIATE`),
//! reads through a separate read-only pool; on PostgreSQL one pool serves both. The SQL is
//! written once with `$n` parameters, which both dialects accept.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;

pub use nuage_workflows::Dialect;
pub(crate) use nuage_workflows::args;
pub(crate) use nuage_workflows::sql::{Arg, DbRow};

use crate::error::{Error, Result};

/// An open write transaction, shared with the workflow engine (a run started in it with
/// [`nuage_workflows::Engine::start_in`] is stored with the broker's rows or not at all).
pub(crate) type Tx = nuage_workflows::StoreTx;

/// Handle on the broker's database (cheap to clone): the engine's [`Store`], whose pools,
/// SQL arguments and transactions the broker's statements use too.
///
/// [`Store`]: nuage_workflows::Store
#[derive(Debug, Clone)]
pub struct Db {
    store: nuage_workflows::Store,
}

impl Db {
    /// Connects to `sqlite:PATH` (created if missing) or `postgres://…`, and applies the
    /// engine's migrations then the broker's (both idempotent). `max_connections` sizes the
    /// PostgreSQL pool, or the SQLite readers (at most 8; SQLite has one writer).
    pub async fn connect(url: &str, max_connections: u32) -> Result<Db> {
        let store = if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?.create_if_missing(true);
            nuage_workflows::Store::open_sqlite_with_readers(opts, max_connections.clamp(1, 8))
                .await?
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections.max(2))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(PgConnectOptions::from_str(url)?)
                .await?;
            nuage_workflows::Store::from_pg_pool(pool).await?
        } else {
            return Err(Error::Config(format!(
                "database url must start with sqlite: or postgres://, got {:?}",
                redact_url(url)
            )));
        };
        let db = Db { store };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the broker's embedded migrations (versions `78000000xx`; the engine's are
    /// `77000000xx`, so each migrator ignores the other's).
    pub async fn migrate(&self) -> Result<()> {
        if let Some(writer) = self.store.sqlite_pool() {
            let mut m = sqlx::migrate!("migrations/sqlite");
            m.set_ignore_missing(true);
            m.run(writer).await?;
        } else if let Some(pool) = self.store.pg_pool() {
            let mut m = sqlx::migrate!("migrations/postgres");
            m.set_ignore_missing(true);
            m.run(pool).await?;
        }
        Ok(())
    }

    /// The workflow engine's store on the same database.
    pub fn store(&self) -> &nuage_workflows::Store {
        &self.store
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.store.dialect()
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.store.close().await;
    }

    /// Begins a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> Result<Tx> {
        Ok(self.store.begin_tx().await?)
    }

    /// One auto-committed write statement; the number of rows it touched.
    pub(crate) async fn execute(&self, sql: &str, args: Vec<Arg>) -> Result<u64> {
        Ok(self.store.write(sql, args).await?)
    }

    /// Every row of a read (a reader connection on SQLite).
    pub(crate) async fn fetch_all<T: DbRow>(&self, sql: &str, args: Vec<Arg>) -> Result<Vec<T>> {
        Ok(self.store.read_all(sql, args).await?)
    }

    /// At most one row of a read.
    pub(crate) async fn fetch_optional<T: DbRow>(
        &self,
        sql: &str,
        args: Vec<Arg>,
    ) -> Result<Option<T>> {
        Ok(self.store.read_optional(sql, args).await?)
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> bool {
        self.fetch_optional::<(i64,)>("SELECT CAST(1 AS BIGINT)", vec![])
            .await
            .is_ok()
    }
}

/// Serializes `tx` with every other transaction taking the same key, until it ends
/// (PostgreSQL advisory transaction lock; SQLite's single writer already serializes).
pub(crate) async fn lock(tx: &mut Tx, key: &str) -> Result<()> {
    if tx.is_postgres() {
        let k =
            i64::from_ne_bytes(nuage_provider::stable_hash(&["nuage-broker", key]).to_ne_bytes());
        tx.execute("SELECT pg_advisory_xact_lock($1)", args![k])
            .await?;
    }
    Ok(())
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
