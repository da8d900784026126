//! The `broker_requests` table, joined with the engine's runs to derive each request's state.
//!
//! A request's provisioning run is the engine run whose idempotency key is
//! `provision:<request id>`, its deprovisioning run `deprovision:<request id>`; the state the
//! API shows is computed from both (one SQL expression, [`STATE_SQL`]), so it is never stale.

use serde::Serialize;

use crate::audit::{self, NewEntry};
use crate::db::{Arg, Db, Tx, args, now_ms};
use crate::error::Result;

/// The state of a request, from its runs: `accepted` (no run yet), `provisioning`, `ready`,
/// `failed` (waiting for an operator), `rolling_back`, `rolled_back`, `cancelling`,
/// `cancelled`, and once deletion is asked `deleting`, `deleted`, `delete_failed`.
pub(crate) const STATE_SQL: &str = "CASE \
  WHEN r.delete_requested_at IS NOT NULL THEN CASE \
    WHEN d.state = 'succeeded' THEN 'deleted' \
    WHEN d.state = 'failed' THEN 'delete_failed' \
    WHEN d.state IS NOT NULL THEN 'deleting' \
    WHEN p.state IS NULL THEN 'deleted' \
    WHEN p.state IN ('cancelled', 'compensated') THEN 'deleted' \
    WHEN p.state = 'failed' AND p.phase = 'compensate' THEN 'delete_failed' \
    ELSE 'deleting' END \
  WHEN p.state IS NULL THEN 'accepted' \
  WHEN p.state IN ('pending', 'running') THEN 'provisioning' \
  WHEN p.state = 'succeeded' THEN 'ready' \
  WHEN p.state = 'failed' THEN 'failed' \
  WHEN p.state = 'compensating' THEN 'rolling_back' \
  WHEN p.state = 'compensated' THEN 'rolled_back' \
  WHEN p.state = 'cancelling' THEN 'cancelling' \
  ELSE 'cancelled' END";

const FROM_SQL: &str = "FROM broker_requests r \
  LEFT JOIN wf_workflows p ON p.idempotency_key = 'provision:' || r.id \
  LEFT JOIN wf_workflows d ON d.idempotency_key = 'deprovision:' || r.id";

const COLUMNS: &str = "r.id, r.tenant, r.name, r.idempotency_key, r.body_digest, r.decision_digest, \
  r.offer, r.adapter, r.instance, r.simulated, r.region, r.tier, r.monthly_micros, r.vcpus, \
  r.ram_gib, r.storage_gib, r.created_at, r.created_by, r.delete_requested_at, r.deleted_by, \
  r.released_at, p.id AS provision_id, p.state AS provision_state, p.phase AS provision_phase, \
  p.cancel_requested AS provision_cancel, d.id AS deprovision_id, d.state AS deprovision_state";

/// A stored request with its runs' ids and states.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub(crate) struct RequestRow {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) name: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) body_digest: String,
    pub(crate) decision_digest: String,
    pub(crate) offer: String,
    pub(crate) adapter: String,
    pub(crate) instance: String,
    pub(crate) simulated: i64,
    pub(crate) region: String,
    pub(crate) tier: String,
    pub(crate) monthly_micros: i64,
    pub(crate) vcpus: i64,
    pub(crate) ram_gib: i64,
    pub(crate) storage_gib: i64,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
    pub(crate) delete_requested_at: Option<i64>,
    pub(crate) deleted_by: Option<String>,
    pub(crate) released_at: Option<i64>,
    pub(crate) provision_id: Option<String>,
    pub(crate) provision_state: Option<String>,
    pub(crate) provision_phase: Option<String>,
    pub(crate) provision_cancel: Option<i64>,
    pub(crate) deprovision_id: Option<String>,
    pub(crate) deprovision_state: Option<String>,
    pub(crate) state: String,
    /// The request document (JSON); only read for one request.
    pub(crate) request: Option<String>,
    /// The decision record (JSON); only read for one request.
    pub(crate) decision: Option<String>,
}

/// A request to store.
#[derive(Debug, Clone)]
pub(crate) struct NewRequest {
    pub(crate) id: String,
    pub(crate) tenant: String,
    pub(crate) name: String,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) body_digest: String,
    pub(crate) request: String,
    pub(crate) decision: String,
    pub(crate) decision_digest: String,
    pub(crate) plan: String,
    pub(crate) offer: String,
    pub(crate) adapter: String,
    pub(crate) instance: String,
    pub(crate) simulated: bool,
    pub(crate) region: String,
    pub(crate) tier: String,
    pub(crate) monthly_micros: i64,
    pub(crate) vcpus: i64,
    pub(crate) ram_gib: i64,
    pub(crate) storage_gib: i64,
    pub(crate) created_at: i64,
    pub(crate) created_by: String,
}

pub(crate) async fn insert(tx: &mut Tx, r: &NewRequest) -> Result<()> {
    tx.execute(
        "INSERT INTO broker_requests (id, tenant, name, live_name, idempotency_key, body_digest, \
         request, decision, decision_digest, plan, offer, adapter, instance, simulated, region, tier, \
         monthly_micros, vcpus, ram_gib, storage_gib, created_at, created_by) \
         VALUES ($1, $2, $3, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        args![
            &r.id,
            &r.tenant,
            &r.name,
            r.idempotency_key.as_deref(),
            &r.body_digest,
            &r.request,
            &r.decision,
            &r.decision_digest,
            &r.plan,
            &r.offer,
            &r.adapter,
            &r.instance,
            i64::from(r.simulated),
            &r.region,
            &r.tier,
            r.monthly_micros,
            r.vcpus,
            r.ram_gib,
            r.storage_gib,
            r.created_at,
            &r.created_by
        ],
    )
    .await?;
    Ok(())
}

/// One request, with its documents.
pub(crate) async fn get(db: &Db, id: &str) -> Result<Option<RequestRow>> {
    db.fetch_optional(
        &format!(
            "SELECT {COLUMNS}, {STATE_SQL} AS state, r.request, r.decision {FROM_SQL} WHERE r.id = $1"
        ),
        args![id],
    )
    .await
}

/// The request a tenant made with an idempotency key.
pub(crate) async fn by_idempotency_key(
    db: &Db,
    tenant: &str,
    key: &str,
) -> Result<Option<RequestRow>> {
    db.fetch_optional(
        &format!(
            "SELECT {COLUMNS}, {STATE_SQL} AS state, r.request, r.decision {FROM_SQL} \
             WHERE r.tenant = $1 AND r.idempotency_key = $2"
        ),
        args![tenant, key],
    )
    .await
}

/// Filters of a listing.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub(crate) tenant: Option<String>,
    pub(crate) states: Vec<String>,
    pub(crate) name: Option<String>,
    pub(crate) offer: Option<String>,
    pub(crate) created_after: Option<i64>,
    pub(crate) created_before: Option<i64>,
    /// Only ids below this one (the cursor: ids sort by creation).
    pub(crate) before_id: Option<String>,
    pub(crate) limit: u32,
}

/// Requests matching the filter, newest first, without their documents.
pub(crate) async fn list(db: &Db, f: &ListFilter) -> Result<Vec<RequestRow>> {
    let mut inner = format!(
        "SELECT {COLUMNS}, {STATE_SQL} AS state, CAST(NULL AS TEXT) AS request, \
         CAST(NULL AS TEXT) AS decision {FROM_SQL} WHERE 1 = 1"
    );
    let mut a: Vec<Arg> = Vec::new();
    if let Some(t) = &f.tenant {
        a.push(t.into());
        inner.push_str(&format!(" AND r.tenant = ${}", a.len()));
    }
    if let Some(n) = &f.name {
        a.push(n.into());
        inner.push_str(&format!(" AND r.name = ${}", a.len()));
    }
    if let Some(o) = &f.offer {
        a.push(o.into());
        inner.push_str(&format!(" AND r.offer = ${}", a.len()));
    }
    if let Some(t) = f.created_after {
        a.push(t.into());
        inner.push_str(&format!(" AND r.created_at >= ${}", a.len()));
    }
    if let Some(t) = f.created_before {
        a.push(t.into());
        inner.push_str(&format!(" AND r.created_at < ${}", a.len()));
    }
    if let Some(c) = &f.before_id {
        a.push(c.into());
        inner.push_str(&format!(" AND r.id < ${}", a.len()));
    }
    let mut sql = format!("SELECT * FROM ({inner}) x WHERE 1 = 1");
    if !f.states.is_empty() {
        let mut marks = Vec::new();
        for s in &f.states {
            a.push(s.into());
            marks.push(format!("${}", a.len()));
        }
        sql.push_str(&format!(" AND x.state IN ({})", marks.join(", ")));
    }
    a.push(i64::from(f.limit).into());
    sql.push_str(&format!(" ORDER BY x.id DESC LIMIT ${}", a.len()));
    db.fetch_all(&sql, a).await
}

/// What a tenant's live (not yet released) requests hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub(crate) struct Held {
    pub(crate) vcpus: i64,
    pub(crate) ram_gib: i64,
    pub(crate) storage_gib: i64,
    pub(crate) monthly_micros: i64,
}

const HELD_SQL: &str = "SELECT CAST(COALESCE(SUM(vcpus), 0) AS BIGINT) AS vcpus, \
  CAST(COALESCE(SUM(ram_gib), 0) AS BIGINT) AS ram_gib, \
  CAST(COALESCE(SUM(storage_gib), 0) AS BIGINT) AS storage_gib, \
  CAST(COALESCE(SUM(monthly_micros), 0) AS BIGINT) AS monthly_micros \
  FROM broker_requests WHERE tenant = $1 AND released_at IS NULL";

/// What a tenant holds, read inside the transaction that will add to it.
pub(crate) async fn held_in(tx: &mut Tx, tenant: &str) -> Result<Held> {
    Ok(tx
        .fetch_optional(HELD_SQL, args![tenant])
        .await?
        .unwrap_or_default())
}

/// What a tenant holds.
pub(crate) async fn held(db: &Db, tenant: &str) -> Result<Held> {
    Ok(db
        .fetch_optional(HELD_SQL, args![tenant])
        .await?
        .unwrap_or_default())
}

/// Marks a request for deletion (its name is free again); false when it already was.
pub(crate) async fn mark_deleting(tx: &mut Tx, id: &str, actor: &str) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE broker_requests SET delete_requested_at = $1, deleted_by = $2, live_name = NULL, \
             watch = 1 WHERE id = $3 AND delete_requested_at IS NULL",
            args![now_ms(), actor, id],
        )
        .await?;
    Ok(n > 0)
}

/// Gives a request's quota back to its tenant, once; true when this call released it.
pub(crate) async fn release(db: &Db, id: &str) -> Result<bool> {
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            "UPDATE broker_requests SET released_at = $1, watch = 0 WHERE id = $2 AND released_at IS NULL",
            args![now_ms(), id],
        )
        .await?;
    if n > 0 {
        let tenant: Option<(String,)> = tx
            .fetch_optional(
                "SELECT tenant FROM broker_requests WHERE id = $1",
                args![id],
            )
            .await?;
        audit::append(
            &mut tx,
            &NewEntry::new(
                "system",
                tenant.as_ref().map(|t| t.0.as_str()),
                "request.release",
                format!("request/{id}"),
            )
            .request(id),
        )
        .await?;
    } else {
        tx.execute(
            "UPDATE broker_requests SET watch = 0 WHERE id = $1 AND released_at IS NOT NULL",
            args![id],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n > 0)
}

/// Watched requests the reconciler must act on: no provisioning run yet (older than
/// `settled_before`), a deletion not yet followed up, a quota to give back, or a request now
/// ready (to stop watching it).
pub(crate) async fn needing_attention(
    db: &Db,
    settled_before: i64,
    limit: u32,
) -> Result<Vec<RequestRow>> {
    let sql = format!(
        "SELECT * FROM (SELECT {COLUMNS}, {STATE_SQL} AS state, CAST(NULL AS TEXT) AS request, \
         CAST(NULL AS TEXT) AS decision {FROM_SQL} \
         WHERE r.watch = 1) x \
         WHERE (x.state = 'accepted' AND x.created_at < $1) \
            OR (x.state = 'ready' AND x.delete_requested_at IS NULL) \
            OR (x.state IN ('deleted', 'rolled_back', 'cancelled')) \
            OR (x.delete_requested_at IS NOT NULL AND x.deprovision_id IS NULL \
                AND (x.provision_state = 'succeeded' \
                     OR (x.provision_state IN ('pending', 'running', 'failed') AND x.provision_cancel = 0 \
                         AND x.provision_phase = 'forward'))) \
         ORDER BY x.id LIMIT $2"
    );
    db.fetch_all(&sql, args![settled_before, i64::from(limit)])
        .await
}

/// Stops watching a request (it is ready: nothing to follow up until a deletion).
pub(crate) async fn unwatch(db: &Db, id: &str) -> Result<()> {
    db.execute(
        "UPDATE broker_requests SET watch = 0 WHERE id = $1 AND delete_requested_at IS NULL",
        args![id],
    )
    .await?;
    Ok(())
}

/// The compiled provisioning input of a request.
pub(crate) async fn plan(db: &Db, id: &str) -> Result<Option<String>> {
    Ok(db
        .fetch_optional::<(String,)>("SELECT plan FROM broker_requests WHERE id = $1", args![id])
        .await?
        .map(|(p,)| p))
}
