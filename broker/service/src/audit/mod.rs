//! The audit log: every mutation (who, tenant, action, target, request, decision hash),
//! appended in the same transaction as the mutation, then chained by hash.
//!
//! An entry is inserted unchained inside the mutation's transaction, so it exists exactly when
//! the mutation committed, and appends never wait for each other. The [`Sealer`] then chains
//! entries in commit order, one batch per transaction under a lock (one sealer at a time across
//! replicas on PostgreSQL): entry `seq` gets `prev_hash` = the hash of entry `seq - 1` and
//! `hash = sha256(prev_hash || canonical JSON of the entry)`, and the head row records the last
//! `(seq, hash)`. [`verify`] walks the chain and reports the first entry altered, removed or
//! reordered. An entry is chained within one sealer interval (a few hundred milliseconds);
//! [`verify`] counts those still unchained.

mod chain;
mod sealer;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub use chain::{GENESIS, Verification, entry_hash, verify};
pub use sealer::Sealer;

use crate::db::{Db, Tx, args, now_ms};
use crate::error::Result;

/// An entry to append.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// Who: `token:<id>`, `system`, `cli`.
    pub actor: String,
    /// The tenant concerned, if any.
    pub tenant: Option<String>,
    /// What: `request.create`, `request.delete`, `workflow.retry`, `token.create`...
    pub action: String,
    /// The object: `request/<id>`, `workflow/<id>`, `token/<id>`.
    pub target: String,
    /// The service request concerned.
    pub request_id: Option<String>,
    /// The decision record's hash (`sha256:…`) for placements.
    pub decision_hash: Option<String>,
    /// More facts (JSON object), never a secret.
    pub details: Value,
}

impl NewEntry {
    /// An entry with no request, decision or details.
    pub fn new(
        actor: impl Into<String>,
        tenant: Option<&str>,
        action: &str,
        target: impl Into<String>,
    ) -> NewEntry {
        NewEntry {
            actor: actor.into(),
            tenant: tenant.map(str::to_owned),
            action: action.to_owned(),
            target: target.into(),
            request_id: None,
            decision_hash: None,
            details: Value::Object(Default::default()),
        }
    }

    /// With a request id.
    pub fn request(mut self, id: &str) -> NewEntry {
        self.request_id = Some(id.to_owned());
        self
    }

    /// With a decision hash.
    pub fn decision(mut self, hash: &str) -> NewEntry {
        self.decision_hash = Some(hash.to_owned());
        self
    }

    /// With details.
    pub fn details(mut self, details: Value) -> NewEntry {
        self.details = details;
        self
    }
}

/// Appends an entry inside the mutation's transaction (chained later by the [`Sealer`]).
pub(crate) async fn append(tx: &mut Tx, e: &NewEntry) -> Result<()> {
    let details = chain::canonical(&e.details);
    tx.execute(
        "INSERT INTO broker_audit (at, actor, tenant, action, target, request_id, decision_hash, details) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        args![
            now_ms(),
            &e.actor,
            e.tenant.as_deref(),
            &e.action,
            &e.target,
            e.request_id.as_deref(),
            e.decision_hash.as_deref(),
            details
        ],
    )
    .await?;
    Ok(())
}

/// An entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Entry {
    /// Insertion id (internal order of appends).
    pub id: i64,
    /// Place in the chain; absent until chained.
    pub seq: Option<i64>,
    /// When, epoch milliseconds.
    pub at: i64,
    /// Who.
    pub actor: String,
    /// Tenant concerned.
    pub tenant: Option<String>,
    /// What.
    pub action: String,
    /// On what.
    pub target: String,
    /// Service request concerned.
    pub request_id: Option<String>,
    /// Hash of the decision record.
    pub decision_hash: Option<String>,
    /// More facts: stored as canonical JSON text (what the hash covers), answered as the JSON
    /// object it holds.
    #[serde(serialize_with = "as_json")]
    #[schema(value_type = Object)]
    pub details: String,
    /// Hash of the previous entry in the chain.
    pub prev_hash: Option<String>,
    /// This entry's hash.
    pub hash: Option<String>,
}

/// Answers stored JSON text as the value it holds (as the text itself if it is not JSON).
fn as_json<S: serde::Serializer>(text: &str, s: S) -> std::result::Result<S::Ok, S::Error> {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => serde::Serialize::serialize(&v, s),
        Err(_) => s.serialize_str(text),
    }
}

const ENTRY_COLUMNS: &str = "id, seq, at, actor, tenant, action, target, request_id, decision_hash, details, prev_hash, hash";

/// A filter over the log.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this tenant's entries.
    pub tenant: Option<String>,
    /// Only this action.
    pub action: Option<String>,
    /// Only entries about this request.
    pub request_id: Option<String>,
    /// Only entries appended after this id (the cursor).
    pub after: Option<i64>,
    /// Only entries made at or after this time (epoch ms).
    pub since: Option<i64>,
    /// Only entries made before this time (epoch ms).
    pub until: Option<i64>,
    /// At most this many (1 to 1000).
    pub limit: u32,
}

/// Entries in append order, oldest first.
pub async fn list(db: &Db, f: &AuditFilter) -> Result<Vec<Entry>> {
    let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM broker_audit WHERE 1 = 1");
    let mut a = Vec::new();
    if let Some(t) = &f.tenant {
        a.push(t.into());
        sql.push_str(&format!(" AND tenant = ${}", a.len()));
    }
    if let Some(x) = &f.action {
        a.push(x.into());
        sql.push_str(&format!(" AND action = ${}", a.len()));
    }
    if let Some(r) = &f.request_id {
        a.push(r.into());
        sql.push_str(&format!(" AND request_id = ${}", a.len()));
    }
    if let Some(after) = f.after {
        a.push(after.into());
        sql.push_str(&format!(" AND id > ${}", a.len()));
    }
    if let Some(t) = f.since {
        a.push(t.into());
        sql.push_str(&format!(" AND at >= ${}", a.len()));
    }
    if let Some(t) = f.until {
        a.push(t.into());
        sql.push_str(&format!(" AND at < ${}", a.len()));
    }
    a.push(i64::from(f.limit.clamp(1, 1000)).into());
    sql.push_str(&format!(" ORDER BY id LIMIT ${}", a.len()));
    db.fetch_all(&sql, a).await
}
