//! Store construction: existing pools, and migrations sharing a database
//! with another migrator (the broker's), on SQLite and PostgreSQL.

mod common;

use std::time::Duration;

use common::{Db, WAIT};
use nuage_workflows::{
    Dialect, Engine, StartRequest, Step, StepContext, StepError, Store, StoreTx,
    WorkflowDefinition, WorkflowFilter, WorkflowState,
};
use serde_json::Value;

both!(
    existing_pool_is_accepted,
    migrations_coexist_with_another_migrator,
    a_run_started_in_a_callers_transaction_lives_or_dies_with_it,
);

async fn store_from_pool(db: &Db) -> Store {
    if db.is_pg() {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect(&db.url)
            .await
            .unwrap();
        Store::from_pg_pool(pool).await.unwrap()
    } else {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                db.url
                    .parse::<sqlx::sqlite::SqliteConnectOptions>()
                    .unwrap()
                    .create_if_missing(true),
            )
            .await
            .unwrap();
        Store::from_sqlite_pool(pool).await.unwrap()
    }
}

async fn existing_pool_is_accepted(db: &Db) {
    let store = store_from_pool(db).await;
    assert_eq!(
        store.dialect(),
        if db.is_pg() {
            Dialect::Postgres
        } else {
            Dialect::Sqlite
        }
    );
    assert_eq!(store.pg_pool().is_some(), db.is_pg());
    let def = WorkflowDefinition::new("hello", 1)
        .step(Step::new("s", |_: StepContext, name: String| async move {
            Ok::<_, StepError>(format!("hello {name}"))
        }));
    let e = Engine::builder(store)
        .register(def)
        .lease_ttl(Duration::from_secs(2))
        .build()
        .unwrap();
    let h = e.run();
    let run = e
        .start(StartRequest::new("hello", &"world").unwrap())
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(
        t.step("s").unwrap().output,
        Some(Value::from("hello world"))
    );
    h.shutdown(WAIT).await;
    // migrating twice is harmless
    e.store().migrate().await.unwrap();
}

async fn migrations_coexist_with_another_migrator(db: &Db) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("20260101000000_broker.sql"),
        "CREATE TABLE broker_things (id BIGINT PRIMARY KEY);",
    )
    .unwrap();
    let mut broker = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    broker.set_ignore_missing(true);
    // the engine first, then the broker, then the engine again
    let store = Store::connect(&db.url).await.unwrap();
    run_broker(db, &broker).await.unwrap();
    store.migrate().await.unwrap();
    Store::connect(&db.url).await.unwrap();
    run_broker(db, &broker).await.unwrap();
    assert_eq!(
        db.exec("INSERT INTO broker_things (id) VALUES (1)").await,
        1
    );
    assert_eq!(db.exec("DELETE FROM wf_workflows").await, 0);
}

async fn run_broker(
    db: &Db,
    m: &sqlx::migrate::Migrator,
) -> Result<(), sqlx::migrate::MigrateError> {
    if db.is_pg() {
        m.run(&sqlx::PgPool::connect(&db.url).await.unwrap()).await
    } else {
        m.run(&sqlx::SqlitePool::connect(&db.url).await.unwrap())
            .await
    }
}

/// A caller's transaction on the store's own pool (the writer on SQLite).
async fn callers_tx(store: &Store, row: &str) -> StoreTx {
    match store.pg_pool() {
        Some(pool) => {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS caller_rows (id TEXT PRIMARY KEY)")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("INSERT INTO caller_rows (id) VALUES ($1)")
                .bind(row)
                .execute(&mut *tx)
                .await
                .unwrap();
            StoreTx::postgres(tx)
        }
        None => {
            let pool = store.sqlite_pool().unwrap();
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS caller_rows (id TEXT PRIMARY KEY)")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query("INSERT INTO caller_rows (id) VALUES ($1)")
                .bind(row)
                .execute(&mut *tx)
                .await
                .unwrap();
            StoreTx::sqlite(tx)
        }
    }
}

async fn a_run_started_in_a_callers_transaction_lives_or_dies_with_it(db: &Db) {
    let store = db.store().await;
    let def = WorkflowDefinition::new("hello", 1)
        .step(Step::new("s", |_: StepContext, name: String| async move {
            Ok::<_, StepError>(format!("hello {name}"))
        }));
    let e = common::fast(Engine::builder(store.clone()))
        .register(def)
        .build()
        .unwrap();
    let h = e.run();
    let all = WorkflowFilter::default();

    // rolled back: neither the caller's row nor the run exists
    let mut tx = callers_tx(&store, "first").await;
    let started = e
        .start_in(
            &mut tx,
            StartRequest::new("hello", &"a")
                .unwrap()
                .idempotency_key("k"),
        )
        .await
        .unwrap();
    assert!(started.created);
    drop(tx);
    assert!(store.list(&all).await.unwrap().is_empty());
    assert!(matches!(
        store.get(started.id).await,
        Err(nuage_workflows::Error::NotFound(_))
    ));

    // committed: both exist, and the run is executed
    let mut tx = callers_tx(&store, "second").await;
    let started = e
        .start_in(
            &mut tx,
            StartRequest::new("hello", &"b")
                .unwrap()
                .idempotency_key("k"),
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let rec = store.wait_terminal(started.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    assert_eq!(caller_rows(db).await, vec!["second".to_owned()]);

    // the same key in another transaction names the committed run
    let mut tx = callers_tx(&store, "third").await;
    let again = e
        .start_in(
            &mut tx,
            StartRequest::new("hello", &"b")
                .unwrap()
                .idempotency_key("k"),
        )
        .await
        .unwrap();
    drop(tx);
    assert_eq!((again.id, again.created), (started.id, false));
    assert_eq!(caller_rows(db).await, vec!["second".to_owned()]);
    h.shutdown(WAIT).await;
}

/// The caller's rows, read on a connection of their own.
async fn caller_rows(db: &Db) -> Vec<String> {
    let q = "SELECT id FROM caller_rows ORDER BY id";
    if db.is_pg() {
        let pool = sqlx::postgres::PgPool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(q).fetch_all(&pool).await.unwrap()
    } else {
        let pool = sqlx::sqlite::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query_scalar(q).fetch_all(&pool).await.unwrap()
    }
}
