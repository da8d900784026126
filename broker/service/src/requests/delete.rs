//! Deleting a request: mark it (its name is free again), then act on its provisioning run:
//! cancel it while it runs or waits for an operator (its compensation removes what it made),
//! start the deprovisioning run once it succeeded, or just give the quota back when nothing
//! was made. The reconciler repeats the follow-up until it sticks.

use nuage_workflows::{StartRequest, WorkflowState};

use super::RequestView;
use super::store;
use crate::audit::{self, NewEntry};
use crate::auth::{Principal, Role};
use crate::error::{Error, Result};
use crate::provision::{DEPROVISION, DeprovisionInput, ResourceOutput};
use crate::service::Broker;

impl Broker {
    /// Deletes a request (idempotent): 404 when the caller cannot see it.
    pub async fn delete_request(&self, who: &Principal, id: &str) -> Result<RequestView> {
        who.require(Role::Requester)?;
        let row = self.visible_request(who, id).await?;
        let mut tx = self.db().begin().await?;
        if store::mark_deleting(&mut tx, &row.id, &who.actor()).await? {
            audit::append(
                &mut tx,
                &NewEntry::new(
                    who.actor(),
                    Some(&row.tenant),
                    "request.delete",
                    format!("request/{}", row.id),
                )
                .request(&row.id)
                .decision(&row.decision_digest)
                .details(serde_json::json!({ "state_before": row.state })),
            )
            .await?;
            tx.commit().await?;
            self.sealer().nudge();
            tracing::info!(request = %row.id, tenant = %row.tenant, "deletion requested");
        } else {
            drop(tx);
        }
        if let Err(e) = self.follow_up_delete(&row.id, &who.actor()).await {
            tracing::warn!(request = %row.id, error = %e, "deletion follow-up failed; the reconciler will retry");
            self.nudge_reconciler();
        }
        let row = self.visible_request(who, id).await?;
        self.full_view(&row).await
    }

    /// Moves a deletion on one step; safe to repeat.
    pub(crate) async fn follow_up_delete(&self, id: &str, actor: &str) -> Result<()> {
        for _ in 0..3 {
            let Some(row) = store::get(self.db(), id).await? else {
                return Ok(());
            };
            if row.delete_requested_at.is_none() {
                return Ok(());
            }
            let Some(pid) = row.provision_id.as_deref() else {
                store::release(self.db(), id).await?;
                return Ok(());
            };
            let pid: uuid::Uuid = pid
                .parse()
                .map_err(|_| Error::Internal(format!("run id {pid:?}")))?;
            let state = row.provision_state.as_deref().unwrap_or_default();
            let forward = row.provision_phase.as_deref() == Some("forward");
            let cancel_asked = row.provision_cancel.unwrap_or(0) != 0;
            match state {
                "succeeded" if row.deprovision_id.is_none() => {
                    self.start_deprovisioning(&row.id, &row.tenant, &row.instance, pid, actor)
                        .await?;
                    return Ok(());
                }
                "pending" | "running" | "failed" if forward && !cancel_asked => {
                    match self.db().store().cancel(pid, actor).await {
                        Ok(()) => {
                            tracing::info!(request = %id, workflow = %pid, "provisioning cancelled for deletion");
                            return Ok(());
                        }
                        // it moved on (succeeded meanwhile): look again
                        Err(nuage_workflows::Error::InvalidState { .. }) => continue,
                        Err(e) => return Err(e.into()),
                    }
                }
                "cancelled" | "compensated" => {
                    store::release(self.db(), id).await?;
                    return Ok(());
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    async fn start_deprovisioning(
        &self,
        id: &str,
        tenant: &str,
        instance: &str,
        provision: uuid::Uuid,
        actor: &str,
    ) -> Result<()> {
        let t = self.db().store().timeline(provision).await?;
        if t.workflow.state != WorkflowState::Succeeded {
            return Err(Error::Internal(format!(
                "run {provision} is {}, not succeeded",
                t.workflow.state
            )));
        }
        let mut resources = Vec::new();
        for s in t.steps.iter().rev() {
            if s.kind == "wait" {
                continue;
            }
            if let Some(out) = &s.output {
                let o: ResourceOutput = serde_json::from_value(out.clone())?;
                resources.push(o.spec);
            }
        }
        let input = DeprovisionInput {
            request: id.to_owned(),
            tenant: tenant.to_owned(),
            instance: instance.to_owned(),
            resources,
        };
        let started = self
            .engine()
            .start(
                StartRequest::new(DEPROVISION, &input)?
                    .idempotency_key(format!("deprovision:{id}"))
                    .label("tenant", tenant)
                    .label("request", id)
                    .actor(actor),
            )
            .await?;
        tracing::info!(request = %id, workflow = %started.id, "deprovisioning started");
        Ok(())
    }
}
