//! Starting runs: one transaction inserts the run, its steps and labels, or
//! returns the run that already owns the idempotency key.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::exec::args;
use super::{Store, now_ms};
use crate::definition::StepInstance;
use crate::error::{Error, Result};
use crate::state::OnFailure;

/// A run ready to be stored.
#[derive(Debug)]
pub(crate) struct NewRun {
    pub(crate) definition: String,
    pub(crate) version: u32,
    pub(crate) def_key: String,
    pub(crate) on_failure: OnFailure,
    pub(crate) input: Value,
    pub(crate) idempotency_key: Option<String>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) deadline_ms: Option<i64>,
    pub(crate) steps: Vec<(StepInstance, Option<String>)>,
    pub(crate) actor: Option<String>,
}

#[derive(sqlx::FromRow)]
#[allow(dead_code)]
struct IdRow {
    id: String,
}

#[derive(sqlx::FromRow)]
struct OwnerRow {
    id: String,
    definition: String,
}

impl Store {
    /// Inserts a run; with an idempotency key already used, returns the
    /// existing run and `false`.
    pub(crate) async fn insert_run(&self, run: NewRun) -> Result<(Uuid, bool)> {
        let id = Uuid::now_v7();
        let now = now_ms();
        let mut tx = self.begin().await?;
        let inserted: Option<IdRow> = tx
            .fetch_optional(
                "INSERT INTO wf_workflows (id, definition, version, def_key, state, phase, on_failure, input, \
                 idempotency_key, created_at, updated_at, deadline_at, next_run_at, lease_epoch) \
                 VALUES ($1, $2, $3, $4, 'pending', 'forward', $5, $6, $7, $8, $8, $9, $8, 0) \
                 ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
                args![
                    id,
                    &run.definition,
                    i64::from(run.version),
                    &run.def_key,
                    run.on_failure.as_str(),
                    serde_json::to_string(&run.input)?,
                    run.idempotency_key.clone(),
                    now,
                    run.deadline_ms.map(|d| now.saturating_add(d)),
                ],
            )
            .await?;
        if inserted.is_none() {
            drop(tx);
            let key = run.idempotency_key.unwrap_or_default();
            let owner: Option<OwnerRow> = self
                .read_optional(
                    "SELECT id, definition FROM wf_workflows WHERE idempotency_key = $1",
                    args![key.clone()],
                )
                .await?;
            let owner =
                owner.ok_or_else(|| Error::Corrupt(format!("idempotency key {key:?} vanished")))?;
            let existing = super::rows::parse_id(&owner.id)?;
            if owner.definition != run.definition {
                return Err(Error::IdempotencyConflict {
                    key,
                    existing,
                    definition: owner.definition,
                });
            }
            return Ok((existing, false));
        }
        for (pos, (inst, limit_key)) in run.steps.iter().enumerate() {
            tx.execute(
                "INSERT INTO wf_steps (workflow_id, position, name, kind, params, limit_key, state) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending')",
                args![id, pos as i64, &inst.name, &inst.kind, serde_json::to_string(&inst.params)?, limit_key.clone()],
            )
            .await?;
        }
        for (k, v) in &run.labels {
            tx.execute(
                "INSERT INTO wf_labels (workflow_id, key, value) VALUES ($1, $2, $3)",
                args![id, k, v],
            )
            .await?;
        }
        let detail = serde_json::json!({ "definition": run.definition, "version": run.version, "steps": run.steps.len() });
        tx.execute(
            "INSERT INTO wf_events (workflow_id, at, kind, actor, detail) VALUES ($1, $2, 'started', $3, $4)",
            args![id, now, run.actor, detail.to_string()],
        )
        .await?;
        tx.notify_wakeup().await?;
        tx.commit().await?;
        self.wake_local();
        Ok((id, true))
    }
}
