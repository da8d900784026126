//! The hash chain: canonical JSON, entry hashes, and verification.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{ENTRY_COLUMNS, Entry};
use crate::db::{Db, args};
use crate::error::Result;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// JSON with object keys sorted and no whitespace: the same value always gives the same text,
/// whatever the order its maps were built in.
pub(crate) fn canonical(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                write_canonical(&m[k.as_str()], out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(x, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The hash of an entry at `seq` following `prev_hash`:
/// `sha256(prev_hash || canonical JSON of seq, at, actor, tenant, action, target, request_id,
/// decision_hash, details)`, written `sha256:<hex>`.
pub fn entry_hash(prev_hash: &str, seq: i64, e: &Entry) -> String {
    let doc = serde_json::json!({
        "seq": seq,
        "at": e.at,
        "actor": e.actor,
        "tenant": e.tenant,
        "action": e.action,
        "target": e.target,
        "request_id": e.request_id,
        "decision_hash": e.decision_hash,
        "details": e.details,
    });
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(canonical(&doc).as_bytes());
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// The result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Verification {
    /// Chained entries checked.
    pub chained: i64,
    /// Entries not chained yet (appended in the last moments).
    pub unchained: i64,
    /// The head: last chained seq and its hash (keep a copy elsewhere to detect a rewritten tail).
    pub head_seq: i64,
    /// The head hash.
    pub head_hash: String,
    /// The first bad entry, if any.
    pub first_bad: Option<BadEntry>,
}

/// Where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BadEntry {
    /// The chain position.
    pub seq: i64,
    /// What is wrong there.
    pub problem: String,
}

impl Verification {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.first_bad.is_none()
    }
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

/// Walks the whole chain in order and reports the first entry that was altered, removed or
/// reordered, and a head that does not match the last entry (removed tail).
pub async fn verify(db: &Db) -> Result<Verification> {
    let head: Head = db
        .fetch_optional(
            "SELECT seq, hash FROM broker_audit_head WHERE id = 1",
            vec![],
        )
        .await?
        .unwrap_or(Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        });
    let (unchained,): (i64,) = db
        .fetch_optional::<(i64,)>(
            "SELECT COUNT(*) FROM broker_audit WHERE seq IS NULL",
            vec![],
        )
        .await?
        .unwrap_or((0,));
    let mut expected = 1i64;
    let mut prev = GENESIS.to_owned();
    let mut first_bad = None;
    'walk: loop {
        let page: Vec<Entry> = db
            .fetch_all(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM broker_audit WHERE seq >= $1 ORDER BY seq LIMIT 1000"
                ),
                args![expected],
            )
            .await?;
        if page.is_empty() {
            break;
        }
        for e in page {
            let seq = e.seq.unwrap_or_default();
            if seq != expected {
                first_bad = Some(BadEntry {
                    seq: expected,
                    problem: format!("entry {expected} is missing (removed); next is {seq}"),
                });
                break 'walk;
            }
            if e.prev_hash.as_deref() != Some(prev.as_str()) {
                first_bad = Some(BadEntry {
                    seq,
                    problem: "its previous hash does not match the entry before it (entries removed or reordered)".into(),
                });
                break 'walk;
            }
            let recomputed = entry_hash(&prev, seq, &e);
            if e.hash.as_deref() != Some(recomputed.as_str()) {
                first_bad = Some(BadEntry {
                    seq,
                    problem: "its content does not match its hash (altered)".into(),
                });
                break 'walk;
            }
            prev = recomputed;
            expected += 1;
        }
    }
    let last = expected - 1;
    if first_bad.is_none() && (head.seq != last || head.hash != prev) {
        first_bad = Some(BadEntry {
            seq: last + 1,
            problem: if head.seq > last {
                format!(
                    "the head records {} entries but the chain ends at {last} (entries removed)",
                    head.seq
                )
            } else {
                "the head does not match the last entry".to_owned()
            },
        });
    }
    Ok(Verification {
        chained: last,
        unchained,
        head_seq: head.seq,
        head_hash: head.hash,
        first_bad,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a = serde_json::json!({"b": 1, "a": {"z": [1, {"y": 2, "x": "é"}], "c": null}});
        assert_eq!(
            canonical(&a),
            r#"{"a":{"c":null,"z":[1,{"x":"é","y":2}]},"b":1}"#
        );
    }

    #[test]
    fn hashes_chain_and_depend_on_every_field() {
        let e = Entry {
            id: 1,
            seq: None,
            at: 1,
            actor: "token:a".into(),
            tenant: Some("dinum".into()),
            action: "request.create".into(),
            target: "request/1".into(),
            request_id: Some("1".into()),
            decision_hash: Some("sha256:ab".into()),
            details: "{}".into(),
            prev_hash: None,
            hash: None,
        };
        let h1 = entry_hash(GENESIS, 1, &e);
        assert!(h1.starts_with("sha256:") && h1.len() == 71);
        assert_eq!(h1, entry_hash(GENESIS, 1, &e));
        assert_ne!(h1, entry_hash(GENESIS, 2, &e));
        assert_ne!(h1, entry_hash(&h1, 1, &e));
        let mut f = e.clone();
        f.tenant = Some("other".into());
        assert_ne!(h1, entry_hash(GENESIS, 1, &f));
    }
}
