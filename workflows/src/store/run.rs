//! What workers write: claims, fenced transactions, heartbeats and releases.
//!
//! Every write to a leased run goes through [`Store::fenced`], whose first
//! statement touches the run's row only if the writer's lease epoch is still
//! current. On PostgreSQL that statement also takes the row lock, so a
//! concurrent claim (which increments the epoch) is ordered before or after
//! the whole transaction, never in the middle.

use uuid::Uuid;

use super::exec::{Arg, Tx, args};
use super::rows::{STEP_COLUMNS, WORKFLOW_COLUMNS};
use super::{StepRow, Store, WorkflowRow};
use crate::error::{Error, Result};
use crate::state::Phase;

/// A lease held by a worker on a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lease {
    pub(crate) id: Uuid,
    pub(crate) epoch: i64,
    pub(crate) owner: String,
    pub(crate) ttl_ms: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct Claimed {
    pub(crate) id: String,
    pub(crate) lease_epoch: i64,
}

#[derive(sqlx::FromRow)]
struct FenceRow {
    cancel_requested: i64,
}

#[derive(sqlx::FromRow)]
pub(crate) struct Held {
    pub(crate) id: String,
    pub(crate) lease_epoch: i64,
    pub(crate) cancel_requested: i64,
}

#[derive(sqlx::FromRow)]
struct MinRow {
    t: Option<i64>,
}

/// A fenced transaction: the epoch check passed; `cancel_requested` is the
/// run's flag as seen by it.
pub(crate) struct Fenced {
    pub(crate) tx: Tx,
    pub(crate) cancel_requested: bool,
}

impl Store {
    /// Claims up to `max` runnable runs for `owner`, incrementing their epochs.
    pub(crate) async fn claim(
        &self,
        owner: &str,
        now: i64,
        ttl_ms: i64,
        max: usize,
        def_keys: &str,
    ) -> Result<Vec<Claimed>> {
        let sql = format!(
            "UPDATE wf_workflows SET lease_owner = $1, lease_epoch = lease_epoch + 1, lease_expires_at = $2, updated_at = $3 \
             WHERE id IN (SELECT id FROM wf_workflows WHERE next_run_at IS NOT NULL AND next_run_at <= $3 \
               AND (lease_expires_at IS NULL OR lease_expires_at < $3) AND {} \
               ORDER BY next_run_at LIMIT $4{}) \
             RETURNING id, lease_epoch",
            self.in_json_list("def_key", 5),
            self.skip_locked()
        );
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch_all(&sql, args![owner, now + ttl_ms, now, max as i64, def_keys])
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// When the next run may become claimable (for idle workers' sleep).
    pub(crate) async fn next_wakeup(&self, owner: &str, def_keys: &str) -> Result<Option<i64>> {
        let sql = format!(
            "SELECT MIN(CASE WHEN lease_owner IS NULL OR lease_expires_at IS NULL OR lease_expires_at < next_run_at \
               THEN next_run_at ELSE lease_expires_at END) AS t \
             FROM wf_workflows WHERE next_run_at IS NOT NULL AND (lease_owner IS NULL OR lease_owner <> $1) AND {}",
            self.in_json_list("def_key", 2)
        );
        let row: Option<MinRow> = self.read_optional(&sql, args![owner, def_keys]).await?;
        Ok(row.and_then(|r| r.t))
    }

    /// Loads a run and its steps.
    pub(crate) async fn load_run(&self, id: Uuid) -> Result<(WorkflowRow, Vec<StepRow>)> {
        let wf: Option<WorkflowRow> = self
            .read_optional(
                &format!("SELECT {WORKFLOW_COLUMNS} FROM wf_workflows WHERE id = $1"),
                args![id],
            )
            .await?;
        let wf = wf.ok_or(Error::NotFound(id))?;
        let steps = self
            .read_all(
                &format!(
                    "SELECT {STEP_COLUMNS} FROM wf_steps WHERE workflow_id = $1 ORDER BY position"
                ),
                args![id],
            )
            .await?;
        Ok((wf, steps))
    }

    /// Opens a transaction fenced by `lease`: fails with
    /// [`Error::StaleEpoch`] (counted, and recorded in the timeline) when the
    /// epoch is no longer current. Extends the lease as a side effect.
    pub(crate) async fn fenced(&self, lease: &Lease, now: i64) -> Result<Fenced> {
        let mut tx = self.begin().await?;
        let row: Option<FenceRow> = tx
            .fetch_optional(
                "UPDATE wf_workflows SET updated_at = $3, lease_expires_at = $5 \
                 WHERE id = $1 AND lease_epoch = $2 AND lease_owner = $4 RETURNING cancel_requested",
                args![lease.id, lease.epoch, now, &lease.owner, now + lease.ttl_ms],
            )
            .await?;
        match row {
            Some(r) => Ok(Fenced {
                tx,
                cancel_requested: r.cancel_requested != 0,
            }),
            None => {
                drop(tx);
                self.reject_stale(lease, now).await;
                Err(Error::StaleEpoch {
                    id: lease.id,
                    epoch: lease.epoch,
                })
            }
        }
    }

    /// Counts a rejected stale write and records it in the run's timeline.
    pub(crate) async fn reject_stale(&self, lease: &Lease, now: i64) {
        self.count_stale_write();
        tracing::warn!(workflow = %lease.id, epoch = lease.epoch, worker = %lease.owner, "stale lease epoch: write rejected");
        let detail = serde_json::json!({ "epoch": lease.epoch }).to_string();
        let _ = self
            .write(
                "INSERT INTO wf_events (workflow_id, at, kind, actor, detail) VALUES ($1, $2, 'stale_write_rejected', $3, $4)",
                args![lease.id, now, format!("worker:{}", lease.owner), detail],
            )
            .await;
    }

    /// Records a progress checkpoint of the running step, fenced.
    pub(crate) async fn checkpoint(&self, lease: &Lease, step: &str, value: String) -> Result<()> {
        let now = super::now_ms();
        let mut f = self.fenced(lease, now).await?;
        f.tx.execute(
            "UPDATE wf_steps SET checkpoint = $3 WHERE workflow_id = $1 AND name = $2",
            args![lease.id, step, value],
        )
        .await?;
        f.tx.commit().await
    }

    /// Renews every lease (and concurrency permit) held by `owner`, and
    /// returns what it holds.
    pub(crate) async fn heartbeat(&self, owner: &str, now: i64, ttl_ms: i64) -> Result<Vec<Held>> {
        let mut tx = self.begin().await?;
        tx.execute(
            "UPDATE wf_workflows SET lease_expires_at = $2 WHERE lease_owner = $1",
            args![owner, now + ttl_ms],
        )
        .await?;
        tx.execute(
            "UPDATE wf_permits SET expires_at = $2 WHERE owner = $1",
            args![owner, now + ttl_ms],
        )
        .await?;
        let held = tx
            .fetch_all(
                "SELECT id, lease_epoch, cancel_requested FROM wf_workflows WHERE lease_owner = $1",
                args![owner],
            )
            .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Ids of runs held by `owner` with a cancel request.
    pub(crate) async fn cancel_requests(&self, owner: &str) -> Result<Vec<Held>> {
        self.read_all(
            "SELECT id, lease_epoch, cancel_requested FROM wf_workflows WHERE lease_owner = $1 AND cancel_requested <> 0",
            args![owner],
        )
        .await
    }

    /// Hands a lease back (fenced): the run is runnable again at `next_run_at`.
    pub(crate) async fn release(&self, lease: &Lease, next_run_at: i64) -> Result<bool> {
        let n = self
            .write(
                "UPDATE wf_workflows SET lease_owner = NULL, lease_expires_at = NULL, next_run_at = $3 \
                 WHERE id = $1 AND lease_epoch = $2 AND lease_owner = $4 AND next_run_at IS NOT NULL",
                args![lease.id, lease.epoch, next_run_at, &lease.owner],
            )
            .await?;
        if n > 0 {
            self.wake_local();
        }
        Ok(n > 0)
    }

    /// Hands back every lease `owner` holds (shutdown after the grace period).
    pub(crate) async fn release_all(&self, owner: &str, now: i64) -> Result<u64> {
        self.write(
            "UPDATE wf_workflows SET lease_owner = NULL, lease_expires_at = NULL, next_run_at = $2 \
             WHERE lease_owner = $1 AND next_run_at IS NOT NULL",
            args![owner, now],
        )
        .await
    }
}

/// Statements composed by the runner inside fenced transactions.
pub(crate) mod sql {
    use super::*;

    /// A statement and its arguments, for buffering.
    pub(crate) type Stmt = (&'static str, Vec<Arg>);

    pub(crate) fn begin_attempt(
        wf: Uuid,
        step: &str,
        phase: Phase,
        attempt: i64,
        lease: &Lease,
        now: i64,
    ) -> Vec<Stmt> {
        let step_update: Stmt = match phase {
            Phase::Forward => (
                "UPDATE wf_steps SET state = 'running', attempts = $3, started_at = COALESCE(started_at, $4) \
                 WHERE workflow_id = $1 AND name = $2",
                args![wf, step, attempt, now],
            ),
            Phase::Compensate => (
                "UPDATE wf_steps SET state = 'compensating', comp_attempts = $3, finished_at = COALESCE(finished_at, $4) \
                 WHERE workflow_id = $1 AND name = $2",
                args![wf, step, attempt, now],
            ),
        };
        vec![
            step_update,
            (
                "INSERT INTO wf_attempts (workflow_id, step, phase, attempt, epoch, worker, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
                args![
                    wf,
                    step,
                    phase.as_str(),
                    attempt,
                    lease.epoch,
                    &lease.owner,
                    now
                ],
            ),
        ]
    }

    /// Marks attempts left open by a dead worker.
    pub(crate) fn abandon_open_attempts(wf: Uuid, now: i64) -> Stmt {
        (
            "UPDATE wf_attempts SET finished_at = $2, outcome = 'abandoned' WHERE workflow_id = $1 AND finished_at IS NULL",
            args![wf, now],
        )
    }

    pub(crate) fn finish_attempt(
        wf: Uuid,
        step: &str,
        phase: Phase,
        attempt: i64,
        now: i64,
        outcome: &str,
        error: Option<(&str, &str)>,
    ) -> Stmt {
        (
            "UPDATE wf_attempts SET finished_at = $5, outcome = $6, error_kind = $7, error = $8 \
             WHERE workflow_id = $1 AND step = $2 AND phase = $3 AND attempt = $4 AND finished_at IS NULL",
            args![
                wf,
                step,
                phase.as_str(),
                attempt,
                now,
                outcome,
                error.map(|e| e.0),
                error.map(|e| e.1)
            ],
        )
    }

    pub(crate) fn set_step(
        wf: Uuid,
        step: &str,
        state: &str,
        error: Option<&str>,
        now: i64,
    ) -> Stmt {
        (
            "UPDATE wf_steps SET state = $3, error = $4, finished_at = $5 WHERE workflow_id = $1 AND name = $2",
            args![wf, step, state, error, now],
        )
    }

    pub(crate) fn step_succeeded(wf: Uuid, step: &str, output: String, now: i64) -> Stmt {
        (
            "UPDATE wf_steps SET state = 'succeeded', output = $3, error = NULL, finished_at = $4 \
             WHERE workflow_id = $1 AND name = $2",
            args![wf, step, output, now],
        )
    }

    /// Step back to pending after a failed attempt (a retry is scheduled).
    pub(crate) fn step_retry(wf: Uuid, step: &str, state: &str, error: &str) -> Stmt {
        (
            "UPDATE wf_steps SET state = $3, error = $4 WHERE workflow_id = $1 AND name = $2",
            args![wf, step, state, error],
        )
    }

    /// Sets state and phase, keeping the lease.
    pub(crate) fn set_run(wf: Uuid, state: &str, phase: Phase, error: Option<&str>) -> Stmt {
        (
            "UPDATE wf_workflows SET state = $2, phase = $3, error = COALESCE($4, error) WHERE id = $1",
            args![wf, state, phase.as_str(), error],
        )
    }

    /// Hands the lease back; the run is claimable again at `next_run_at`.
    pub(crate) fn park(wf: Uuid, next_run_at: i64) -> Stmt {
        (
            "UPDATE wf_workflows SET lease_owner = NULL, lease_expires_at = NULL, next_run_at = $2 WHERE id = $1",
            args![wf, next_run_at],
        )
    }

    /// Ends the run (terminal state), handing the lease back.
    pub(crate) fn finish_run(wf: Uuid, state: &str, error: Option<&str>, now: i64) -> Stmt {
        (
            "UPDATE wf_workflows SET state = $2, error = COALESCE($3, error), finished_at = $4, next_run_at = NULL, \
             lease_owner = NULL, lease_expires_at = NULL WHERE id = $1",
            args![wf, state, error, now],
        )
    }

    pub(crate) fn event(
        wf: Uuid,
        now: i64,
        kind: &str,
        step: Option<&str>,
        actor: &str,
        detail: Option<serde_json::Value>,
    ) -> Stmt {
        (
            "INSERT INTO wf_events (workflow_id, at, kind, step, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            args![wf, now, kind, step, actor, detail.map(|d| d.to_string())],
        )
    }

    pub(crate) fn release_permits(wf: Uuid) -> Stmt {
        ("DELETE FROM wf_permits WHERE workflow_id = $1", args![wf])
    }
}
