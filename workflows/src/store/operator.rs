//! The operator API: list, inspect, retry, cancel, compensate, resume. Every
//! action bumps the lease epoch of an unleased run (fencing any zombie) and
//! records its actor in the timeline.

use std::collections::BTreeMap;
use std::time::Duration;

use uuid::Uuid;

use super::exec::{Arg, args};
use super::rows::{EventRow, LabelRow, STEP_COLUMNS, StepRow, WORKFLOW_COLUMNS, read_rows};
use super::{Store, WorkflowRow, now_ms};
use crate::error::{Error, Result};
use crate::state::{Phase, WorkflowState};
use crate::{EventRecord, Timeline, WorkflowFilter, WorkflowRecord};

impl Store {
    /// One run.
    pub async fn get(&self, id: Uuid) -> Result<WorkflowRecord> {
        let row: Option<WorkflowRow> = self
            .read_optional(
                &format!("SELECT {WORKFLOW_COLUMNS} FROM wf_workflows WHERE id = $1"),
                args![id],
            )
            .await?;
        let row = row.ok_or(Error::NotFound(id))?;
        let labels = self
            .labels_of(std::slice::from_ref(&row.id))
            .await?
            .remove(&row.id)
            .unwrap_or_default();
        WorkflowRecord::from_row(row, labels)
    }

    async fn labels_of(
        &self,
        ids: &[String],
    ) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
        let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let sql = format!(
            "SELECT workflow_id, key, value FROM wf_labels WHERE {}",
            self.in_json_list("workflow_id", 1)
        );
        let rows: Vec<LabelRow> = self
            .read_all(&sql, args![serde_json::to_string(ids)?])
            .await?;
        for r in rows {
            out.entry(r.workflow_id).or_default().insert(r.key, r.value);
        }
        Ok(out)
    }

    /// Runs matching `filter`, newest first.
    pub async fn list(&self, filter: &WorkflowFilter) -> Result<Vec<WorkflowRecord>> {
        let mut sql = format!("SELECT {WORKFLOW_COLUMNS} FROM wf_workflows w WHERE 1 = 1");
        let mut a: Vec<Arg> = Vec::new();
        if !filter.states.is_empty() {
            let names: Vec<&str> = filter.states.iter().map(WorkflowState::as_str).collect();
            a.push(serde_json::to_string(&names)?.into());
            sql.push_str(&format!(" AND {}", self.in_json_list("state", a.len())));
        }
        if let Some(d) = &filter.definition {
            a.push(d.into());
            sql.push_str(&format!(" AND definition = ${}", a.len()));
        }
        for (k, v) in &filter.labels {
            a.push(k.into());
            a.push(v.into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM wf_labels l WHERE l.workflow_id = w.id AND l.key = ${} AND l.value = ${})",
                a.len() - 1,
                a.len()
            ));
        }
        if let Some(t) = filter.created_after {
            a.push(t.into());
            sql.push_str(&format!(" AND created_at >= ${}", a.len()));
        }
        if let Some(t) = filter.created_before {
            a.push(t.into());
            sql.push_str(&format!(" AND created_at < ${}", a.len()));
        }
        a.push(i64::from(filter.limit.unwrap_or(100)).into());
        sql.push_str(&format!(
            " ORDER BY created_at DESC, id DESC LIMIT ${}",
            a.len()
        ));
        let rows: Vec<WorkflowRow> = self.read_all(&sql, a).await?;
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut labels = self.labels_of(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let l = labels.remove(&r.id).unwrap_or_default();
                WorkflowRecord::from_row(r, l)
            })
            .collect()
    }

    /// A run with its steps, attempts (with errors and durations) and events.
    pub async fn timeline(&self, id: Uuid) -> Result<Timeline> {
        let workflow = self.get(id).await?;
        let steps = self
            .read_all(
                &format!(
                    "SELECT {} FROM wf_steps WHERE workflow_id = $1 ORDER BY position",
                    super::rows::STEP_COLUMNS
                ),
                args![id],
            )
            .await?;
        let attempts = self
            .read_all(
                "SELECT step, phase, attempt, epoch, worker, started_at, finished_at, outcome, error_kind, error \
                 FROM wf_attempts WHERE workflow_id = $1 ORDER BY id",
                args![id],
            )
            .await?;
        let events: Vec<EventRow> = self
            .read_all(
                "SELECT id, at, kind, step, actor, detail FROM wf_events WHERE workflow_id = $1 ORDER BY id",
                args![id],
            )
            .await?;
        Ok(Timeline {
            workflow,
            steps: read_rows(attempts, steps)?,
            events: events.into_iter().map(EventRecord::from_row).collect(),
        })
    }

    /// Waits until the run is terminal (polling, woken early by local events).
    pub async fn wait_terminal(&self, id: Uuid, timeout: Duration) -> Result<WorkflowRecord> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.wakeup().notified();
            let rec = self.get(id).await?;
            if rec.state.is_terminal() {
                return Ok(rec);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(Error::WaitTimeout(id));
            }
            let _ = tokio::time::timeout(Duration::from_millis(25), notified).await;
        }
    }

    /// Cancels a run: the running step is asked to stop (cooperatively), then
    /// completed steps are compensated in reverse order, ending `cancelled`.
    /// Allowed in `pending`, `running` and `failed`.
    pub async fn cancel(&self, id: Uuid, actor: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE wf_workflows SET cancel_requested = 1, updated_at = $2, finished_at = NULL, \
                 state = CASE WHEN lease_owner IS NULL THEN 'cancelling' ELSE state END, \
                 phase = CASE WHEN lease_owner IS NULL THEN 'compensate' ELSE phase END, \
                 next_run_at = CASE WHEN lease_owner IS NULL THEN $2 ELSE next_run_at END, \
                 lease_epoch = CASE WHEN lease_owner IS NULL THEN lease_epoch + 1 ELSE lease_epoch END \
                 WHERE id = $1 AND state IN ('pending', 'running', 'failed')",
                args![id, now],
            )
            .await?;
        if n == 0 {
            drop(tx);
            return Err(self.refused(id, "cancel").await);
        }
        self.operator_event(
            &mut tx,
            id,
            now,
            "operator_cancel",
            actor,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_local();
        Ok(())
    }

    /// Retries a run that failed forward, from its failed step. With
    /// `reset_attempts` the step's attempt count restarts at 1; without, the
    /// numbering continues. Either way it gets its full retry budget again.
    /// Like every reopening operation, it gives a run with a deadline a full
    /// run timeout again, counted from now.
    pub async fn retry(&self, id: Uuid, actor: &str, reset_attempts: bool) -> Result<()> {
        self.retry_from(id, actor, reset_attempts, None).await
    }

    /// [`retry`](Self::retry), but from the step named `from` when given: that step and every
    /// later one run again, those that had succeeded included (with a fresh budget; their
    /// outputs are replaced when they succeed again). Handlers are idempotent, so a step run
    /// again finds what it made before. `from` must be the failed step or come before it;
    /// anything else is refused with [`Error::InvalidStep`] and changes nothing.
    pub async fn retry_from(
        &self,
        id: Uuid,
        actor: &str,
        reset_attempts: bool,
        from: Option<&str>,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = self
            .reopen(
                &mut tx,
                id,
                now,
                "running",
                Phase::Forward,
                "AND phase = 'forward' AND cancel_requested = 0",
            )
            .await?;
        if n == 0 {
            drop(tx);
            return Err(self.refused(id, "retry").await);
        }
        let from_position = match from {
            None => i64::MAX,
            Some(step) => {
                let steps: Vec<StepRow> = tx
                    .fetch_all(
                        &format!(
                            "SELECT {STEP_COLUMNS} FROM wf_steps WHERE workflow_id = $1 ORDER BY position"
                        ),
                        args![id],
                    )
                    .await?;
                let refuse = |reason: String| Error::InvalidStep {
                    id,
                    step: step.to_owned(),
                    reason,
                };
                let Some(target) = steps.iter().find(|s| s.name == step) else {
                    return Err(refuse("the run has no such step".into()));
                };
                if let Some(open) = steps.iter().find(|s| s.state != "succeeded")
                    && target.position > open.position
                {
                    return Err(refuse(format!(
                        "it comes after the step the run stopped at, {} (position {})",
                        open.name, open.position
                    )));
                }
                target.position
            }
        };
        let reset = if reset_attempts { 1i64 } else { 0 };
        tx.execute(
            "UPDATE wf_steps SET state = 'pending', error = NULL, finished_at = NULL, \
             attempts = CASE WHEN $2 = 1 THEN 0 ELSE attempts END, \
             retry_base = CASE WHEN $2 = 1 THEN 0 ELSE attempts END \
             WHERE workflow_id = $1 AND ((state IN ('failed', 'running', 'pending') AND attempts > 0) \
             OR (state = 'succeeded' AND position >= $3))",
            args![id, reset, from_position],
        )
        .await?;
        let mut detail = serde_json::json!({ "reset_attempts": reset_attempts });
        if let Some(step) = from {
            detail["from_step"] = step.into();
        }
        self.operator_event(&mut tx, id, now, "operator_retry", actor, detail)
            .await?;
        tx.commit().await?;
        self.wake_local();
        Ok(())
    }

    /// Compensates a failed run: completed steps are undone in reverse order,
    /// ending `compensated`. Steps whose compensation failed get a fresh budget.
    pub async fn compensate(&self, id: Uuid, actor: &str) -> Result<()> {
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = self
            .reopen(
                &mut tx,
                id,
                now,
                "compensating",
                Phase::Compensate,
                "AND cancel_requested = 0",
            )
            .await?;
        if n == 0 {
            drop(tx);
            return Err(self.refused(id, "compensate").await);
        }
        tx.execute(
            "UPDATE wf_steps SET comp_attempts = 0, state = 'failed' WHERE workflow_id = $1 AND state = 'compensation_failed'",
            args![id],
        )
        .await?;
        self.operator_event(
            &mut tx,
            id,
            now,
            "operator_compensate",
            actor,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_local();
        Ok(())
    }

    /// Resumes a failed run where it stopped: forward from the failed step (as
    /// [`retry`](Self::retry) without reset), or the interrupted compensation
    /// (or cancellation) with a fresh budget for the step that failed it.
    pub async fn resume(&self, id: Uuid, actor: &str) -> Result<()> {
        let rec = self.get(id).await?;
        if rec.state != WorkflowState::Failed {
            return Err(Error::InvalidState {
                id,
                op: "resume",
                state: rec.state,
            });
        }
        let now = now_ms();
        let mut tx = self.begin().await?;
        let n = match (rec.phase, rec.cancel_requested) {
            (Phase::Forward, false) => {
                let n = self
                    .reopen(
                        &mut tx,
                        id,
                        now,
                        "running",
                        Phase::Forward,
                        "AND phase = 'forward'",
                    )
                    .await?;
                tx.execute(
                    "UPDATE wf_steps SET state = 'pending', error = NULL, finished_at = NULL, retry_base = attempts \
                     WHERE workflow_id = $1 AND state IN ('failed', 'running') AND attempts > 0",
                    args![id],
                )
                .await?;
                n
            }
            (_, cancel) => {
                let state = if cancel { "cancelling" } else { "compensating" };
                let n = self
                    .reopen(&mut tx, id, now, state, Phase::Compensate, "")
                    .await?;
                tx.execute(
                    "UPDATE wf_steps SET comp_attempts = 0, state = 'failed' WHERE workflow_id = $1 AND state = 'compensation_failed'",
                    args![id],
                )
                .await?;
                n
            }
        };
        if n == 0 {
            drop(tx);
            return Err(self.refused(id, "resume").await);
        }
        self.operator_event(
            &mut tx,
            id,
            now,
            "operator_resume",
            actor,
            serde_json::json!({ "phase": rec.phase }),
        )
        .await?;
        tx.commit().await?;
        self.wake_local();
        Ok(())
    }

    async fn reopen(
        &self,
        tx: &mut super::exec::Tx,
        id: Uuid,
        now: i64,
        state: &str,
        phase: Phase,
        extra: &str,
    ) -> Result<u64> {
        tx.execute(
            &format!(
                "UPDATE wf_workflows SET state = $2, phase = $3, error = NULL, finished_at = NULL, next_run_at = $4, \
                 updated_at = $4, lease_owner = NULL, lease_expires_at = NULL, lease_epoch = lease_epoch + 1, \
                 deadline_at = CASE WHEN deadline_at IS NULL THEN NULL ELSE $4 + (deadline_at - created_at) END \
                 WHERE id = $1 AND state = 'failed' {extra}"
            ),
            args![id, state, phase.as_str(), now],
        )
        .await
    }

    async fn operator_event(
        &self,
        tx: &mut super::exec::Tx,
        id: Uuid,
        now: i64,
        kind: &str,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        tx.execute(
            "INSERT INTO wf_events (workflow_id, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)",
            args![id, now, kind, actor, detail.to_string()],
        )
        .await?;
        tx.notify_wakeup().await
    }

    async fn refused(&self, id: Uuid, op: &'static str) -> Error {
        match self.get(id).await {
            Ok(rec) => Error::InvalidState {
                id,
                op,
                state: rec.state,
            },
            Err(e) => e,
        }
    }
}
