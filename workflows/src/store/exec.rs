//! One set of SQL for both dialects: runtime-bound arguments (`$1`, `$2`...,
//! understood by SQLite and PostgreSQL alike) and rows decoded with
//! `sqlx::FromRow` for either backend. Public as [`crate::sql`] for callers that keep their
//! own tables in the store's database ([`Store::read_all`](crate::Store::read_all),
//! [`StoreTx::execute`]...).

use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{FromRow, Postgres, Sqlite, Transaction};

use crate::error::Result;

/// A bound argument (build lists with [`args!`](crate::args)).
#[derive(Debug, Clone)]
pub enum Arg {
    /// An integer.
    I64(i64),
    /// An integer or NULL.
    OptI64(Option<i64>),
    /// A float.
    F64(f64),
    /// A float or NULL.
    OptF64(Option<f64>),
    /// Text.
    Text(String),
    /// Text or NULL.
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
impl From<f64> for Arg {
    fn from(v: f64) -> Self {
        Arg::F64(v)
    }
}
impl From<Option<f64>> for Arg {
    fn from(v: Option<f64>) -> Self {
        Arg::OptF64(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
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
        Arg::OptText(v.map(str::to_string))
    }
}
impl From<Option<&String>> for Arg {
    fn from(v: Option<&String>) -> Self {
        Arg::OptText(v.cloned())
    }
}
impl From<uuid::Uuid> for Arg {
    fn from(v: uuid::Uuid) -> Self {
        Arg::Text(v.to_string())
    }
}

/// Builds an argument list for [`sql`](crate::sql) statements: `args![a, b, c]`.
#[macro_export]
macro_rules! args {
    ($($a:expr),* $(,)?) => { vec![$($crate::sql::Arg::from($a)),*] };
}
pub(crate) use crate::args;

macro_rules! bind_all {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::I64(v) => q.bind(v),
                Arg::OptI64(v) => q.bind(v),
                Arg::F64(v) => q.bind(v),
                Arg::OptF64(v) => q.bind(v),
                Arg::Text(v) => q.bind(v),
                Arg::OptText(v) => q.bind(v),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// A row type decodable from both backends (derive `sqlx::FromRow`).
pub trait DbRow:
    for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}
impl<T> DbRow for T where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin + 'static
{
}

/// A write transaction on the engine's database that a caller shares, to store its own rows
/// and a run's start together or not at all ([`Engine::start_in`](crate::Engine::start_in)).
/// Made from the caller's sqlx transaction on the same database (on SQLite, a `BEGIN
/// IMMEDIATE` one on the writer); [`StoreTx::commit`] commits it and wakes this process's
/// workers for the runs started in it.
pub struct StoreTx {
    pub(crate) tx: Tx,
    pub(crate) wake: Option<super::Store>,
}

impl StoreTx {
    /// Wraps a SQLite transaction.
    pub fn sqlite(tx: Transaction<'static, Sqlite>) -> Self {
        StoreTx {
            tx: Tx::Sqlite(tx),
            wake: None,
        }
    }

    /// Wraps a PostgreSQL transaction.
    pub fn postgres(tx: Transaction<'static, Postgres>) -> Self {
        StoreTx {
            tx: Tx::Pg(tx),
            wake: None,
        }
    }

    /// Runs a statement of the caller's; the number of rows it touched.
    pub async fn execute(&mut self, sql: &str, args: Vec<Arg>) -> crate::Result<u64> {
        self.tx.execute(sql, args).await
    }

    /// Every row of a query of the caller's.
    pub async fn fetch_all<T: DbRow>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> crate::Result<Vec<T>> {
        self.tx.fetch_all(sql, args).await
    }

    /// At most one row of a query of the caller's.
    pub async fn fetch_optional<T: DbRow>(
        &mut self,
        sql: &str,
        args: Vec<Arg>,
    ) -> crate::Result<Option<T>> {
        self.tx.fetch_optional(sql, args).await
    }

    /// True on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.tx.is_pg()
    }

    /// Commits, then wakes the workers (other replicas are notified by the commit itself).
    pub async fn commit(self) -> crate::Result<()> {
        self.tx.commit().await?;
        if let Some(store) = self.wake {
            store.wake_local();
        }
        Ok(())
    }
}

impl std::fmt::Debug for StoreTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_postgres() {
            "StoreTx(postgres)"
        } else {
            "StoreTx(sqlite)"
        })
    }
}

/// An open transaction on either backend.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl Tx {
    /// Runs a statement, returning the number of rows it touched.
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

    /// Fetches every row.
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

    /// Fetches at most one row.
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

    /// Commits.
    pub(crate) async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Pg(t) => t.commit().await?,
        }
        Ok(())
    }

    /// True on PostgreSQL.
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self, Tx::Pg(_))
    }

    /// Wakes every replica's workers when the transaction commits
    /// (PostgreSQL NOTIFY; a no-op on SQLite, where wake-ups are in-process).
    pub(crate) async fn notify_wakeup(&mut self) -> Result<()> {
        if self.is_pg() {
            self.execute("SELECT pg_notify('wf_wakeup', '')", vec![])
                .await?;
        }
        Ok(())
    }
}
