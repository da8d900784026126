//! Starting runs: one transaction inserts the run, its steps and labels, or
//! returns the run that already owns the idempotency key.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use super::exec::{Arg, Tx, args};
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
        let mut tx = self.begin().await?;
        let out = self.insert_run_in(&mut tx, run).await?;
        tx.commit().await?;
        if out.1 {
            self.wake_local();
        }
        Ok(out)
    }

    /// [`insert_run`](Self::insert_run) in the caller's transaction (which commits it).
    pub(crate) async fn insert_run_in(&self, tx: &mut Tx, run: NewRun) -> Result<(Uuid, bool)> {
        let id = Uuid::now_v7();
        let now = now_ms();
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
            // The key's owner committed (a concurrent insert of the same key waits for it).
            let key = run.idempotency_key.unwrap_or_default();
            let owner: Option<OwnerRow> = tx
                .fetch_optional(
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
        // Steps and labels in a few multi-row statements: one round trip each, not one per row.
        let steps: Vec<Vec<Arg>> = run
            .steps
            .iter()
            .enumerate()
            .map(|(pos, (inst, limit_key))| {
                Ok(args![
                    id,
                    pos as i64,
                    &inst.name,
                    &inst.kind,
                    serde_json::to_string(&inst.params)?,
                    limit_key.clone()
                ])
            })
            .collect::<Result<_>>()?;
        insert_rows(
            tx,
            "INSERT INTO wf_steps (workflow_id, position, name, kind, params, limit_key, state) VALUES ",
            "'pending'",
            steps,
        )
        .await?;
        let labels = run.labels.iter().map(|(k, v)| args![id, k, v]).collect();
        insert_rows(
            tx,
            "INSERT INTO wf_labels (workflow_id, key, value) VALUES ",
            "",
            labels,
        )
        .await?;
        let detail = serde_json::json!({ "definition": run.definition, "version": run.version, "steps": run.steps.len() });
        tx.execute(
            "INSERT INTO wf_events (workflow_id, at, kind, actor, detail) VALUES ($1, $2, 'started', $3, $4)",
            args![id, now, run.actor, detail.to_string()],
        )
        .await?;
        tx.notify_wakeup().await?;
        Ok((id, true))
    }
}

/// Rows per multi-row insert (well under either database's parameter limit).
const ROWS_PER_INSERT: usize = 200;

/// Inserts `rows` with `head` (`INSERT INTO t (cols) VALUES `), each row's values followed by
/// the constant `tail` (if not empty), a few hundred rows per statement.
async fn insert_rows(tx: &mut Tx, head: &str, tail: &str, rows: Vec<Vec<Arg>>) -> Result<()> {
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql = String::from(head);
        let mut all = Vec::new();
        for (i, row) in rows.by_ref().take(ROWS_PER_INSERT).enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for (j, arg) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push_str(", ");
                }
                all.push(arg);
                sql.push_str(&format!("${}", all.len()));
            }
            if !tail.is_empty() {
                sql.push_str(", ");
                sql.push_str(tail);
            }
            sql.push(')');
        }
        tx.execute(&sql, all).await?;
    }
    Ok(())
}
