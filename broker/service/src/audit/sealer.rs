//! Chains appended entries, in batches, one sealer at a time.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::chain::{GENESIS, entry_hash};
use super::{ENTRY_COLUMNS, Entry};
use crate::db::{Db, Tx, args};
use crate::error::Result;

/// Entries chained per transaction.
const BATCH: i64 = 256;

/// Chains unchained audit entries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sealer {
    db: Db,
    nudge: Arc<Notify>,
}

#[derive(sqlx::FromRow)]
struct Head {
    seq: i64,
    hash: String,
}

impl Sealer {
    /// A sealer on this database.
    pub fn new(db: Db) -> Sealer {
        Sealer {
            db,
            nudge: Arc::new(Notify::new()),
        }
    }

    /// Asks the background task to chain soon (after a mutation).
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Chains every entry appended so far; returns how many it chained.
    pub async fn seal_pending(&self) -> Result<u64> {
        let mut total = 0;
        loop {
            let n = self.seal_batch().await?;
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    async fn seal_batch(&self) -> Result<u64> {
        let mut tx = self.db.begin().await?;
        crate::db::lock(&mut tx, "audit-sealer").await?;
        let head = read_head(&mut tx).await?;
        let pending: Vec<Entry> = tx
            .fetch_all(
                &format!(
                    "SELECT {ENTRY_COLUMNS} FROM broker_audit WHERE seq IS NULL ORDER BY id LIMIT $1"
                ),
                args![BATCH],
            )
            .await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let (mut seq, mut prev) = (head.seq, head.hash);
        for e in &pending {
            seq += 1;
            let hash = entry_hash(&prev, seq, e);
            tx.execute(
                "UPDATE broker_audit SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4 AND seq IS NULL",
                args![seq, &prev, &hash, e.id],
            )
            .await?;
            prev = hash;
        }
        tx.execute(
            "UPDATE broker_audit_head SET seq = $1, hash = $2 WHERE id = 1",
            args![seq, prev],
        )
        .await?;
        tx.commit().await?;
        Ok(pending.len() as u64)
    }

    /// Runs in the background: chains on every nudge and at least every `interval`, until
    /// `stop`; then chains what is left.
    pub fn spawn(self, interval: Duration, stop: CancellationToken) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = self.nudge.notified() => {
                        // let a burst of mutations gather into one batch
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    _ = tokio::time::sleep(interval) => {}
                }
                if let Err(e) = self.seal_pending().await {
                    tracing::warn!(error = %e, "chaining audit entries failed; will retry");
                }
            }
            if let Err(e) = self.seal_pending().await {
                tracing::warn!(error = %e, "chaining audit entries at shutdown failed");
            }
        })
    }
}

async fn read_head(tx: &mut Tx) -> Result<Head> {
    let sql = if tx.is_postgres() {
        "SELECT seq, hash FROM broker_audit_head WHERE id = 1 FOR UPDATE"
    } else {
        "SELECT seq, hash FROM broker_audit_head WHERE id = 1"
    };
    Ok(tx
        .fetch_optional::<Head>(sql, vec![])
        .await?
        .unwrap_or(Head {
            seq: 0,
            hash: GENESIS.to_owned(),
        }))
}
