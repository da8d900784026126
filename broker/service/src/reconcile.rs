//! The reconciler: repairs what a crash between two commits can leave behind, and follows up
//! what no request handler is waiting for. It starts the provisioning run of a stored request
//! that has none (idempotently: the run's key is the request id), follows up deletions
//! (cancel, deprovision), gives quotas back once a request holds nothing, and stops watching
//! requests that are ready. It runs every `reconcile_interval_ms` and when nudged; every action
//! is idempotent, so any replica may run it.

use tokio_util::sync::CancellationToken;

use crate::db::now_ms;
use crate::error::Result;
use crate::provision::ProvisionInput;
use crate::requests::RequestState;
use crate::requests::store;
use crate::service::Broker;

/// A stored request gets this long to have its run started by its own handler.
const SETTLE_MS: i64 = 1000;
/// Requests handled per round.
const BATCH: u32 = 500;

pub(crate) async fn run(b: Broker, stop: CancellationToken) {
    let interval = b.config().reconcile_interval;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = b.reconcile_signal().notified() => {}
            _ = tokio::time::sleep(interval) => {}
        }
        if let Err(e) = b.reconcile().await {
            tracing::warn!(error = %e, "reconciliation round failed; will retry");
        }
    }
}

impl Broker {
    /// One reconciliation round; returns how many requests it acted on.
    pub async fn reconcile(&self) -> Result<usize> {
        let rows = store::needing_attention(self.db(), now_ms() - SETTLE_MS, BATCH).await?;
        let mut acted = 0;
        for row in rows {
            let result = match row.state() {
                RequestState::Accepted => {
                    let Some(plan) = store::plan(self.db(), &row.id).await? else {
                        continue;
                    };
                    let input: ProvisionInput = serde_json::from_str(&plan)?;
                    self.start_provisioning(&input, "system:reconciler")
                        .await
                        .map(|run| {
                            tracing::info!(request = %row.id, workflow = %run, "provisioning run started by the reconciler");
                        })
                }
                RequestState::Ready if row.delete_requested_at.is_none() => {
                    store::unwatch(self.db(), &row.id).await
                }
                RequestState::Deleted | RequestState::RolledBack | RequestState::Cancelled => {
                    store::release(self.db(), &row.id).await.map(|released| {
                        if released {
                            tracing::info!(request = %row.id, tenant = %row.tenant, "quota released");
                            self.sealer().nudge();
                        }
                    })
                }
                _ if row.delete_requested_at.is_some() => {
                    self.follow_up_delete(&row.id, "system:reconciler").await
                }
                _ => Ok(()),
            };
            match result {
                Ok(()) => acted += 1,
                Err(e) => {
                    tracing::warn!(request = %row.id, error = %e, "reconciling a request failed")
                }
            }
        }
        Ok(acted)
    }
}
