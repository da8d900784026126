//! Provisioning workflows: a placed request compiled into a `provision` run (network →
//! volumes → servers → attachments → wait until ready, each step undone by its compensation),
//! and a `deprovision` run that deletes in reverse and releases the request's quota.
//!
//! Steps are at-least-once: each looks its resource up by identity before creating anything
//! and records "create pending" durably before calling `create` (house rule 4), so a step
//! re-run after a crash finds what the lost attempt made. Every step calling a provider
//! instance carries the limit key `provider:<instance>`.

pub mod plan;
pub mod steps;

use std::sync::Arc;
use std::time::Duration;

use nuage_provider::ResourceSpec;
use nuage_workflows::{
    OnFailure, RetryPolicy, Step, StepContext, StepError, StepInstance, WorkflowDefinition,
};
use serde::{Deserialize, Serialize};

pub use plan::{PlannedBody, PlannedStep, ProvisionInput, ResourceParams, compile};
pub use steps::{DeleteParams, ResourceOutput};

use crate::config::{FailurePolicy, ProvisioningSettings};
use crate::db::Db;
use crate::providers::{Providers, limit_key};

/// Name of the provisioning workflow.
pub const PROVISION: &str = "provision";
/// Name of the deprovisioning workflow.
pub const DEPROVISION: &str = "deprovision";

/// What the step handlers share.
#[derive(Debug)]
pub(crate) struct Runtime {
    pub(crate) providers: Providers,
    pub(crate) settings: ProvisioningSettings,
    pub(crate) db: Db,
}

/// The input of a deprovisioning run: what the provisioning run made, in reverse order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeprovisionInput {
    /// The service request id.
    pub request: String,
    /// Its tenant.
    pub tenant: String,
    /// The provider instance.
    pub instance: String,
    /// The resources to delete, in order (last made, first deleted).
    pub resources: Vec<ResourceSpec>,
}

/// The parameters of the release step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseParams {
    /// The service request id.
    pub request: String,
}

fn retry(s: &ProvisioningSettings) -> RetryPolicy {
    RetryPolicy::new(s.max_attempts, s.base_delay, s.max_delay)
}

fn resource_step(rt: &Arc<Runtime>, kind: &'static str) -> Step<ResourceParams, ResourceOutput> {
    let (run, undo) = (rt.clone(), rt.clone());
    Step::new(kind, move |ctx: StepContext, p: ResourceParams| {
        let rt = run.clone();
        async move { rt.create(ctx, p).await }
    })
    .compensate(move |ctx, p: ResourceParams, out: Option<ResourceOutput>| {
        let rt = undo.clone();
        async move { rt.undo(ctx, p, out).await }
    })
    .retry(retry(&rt.settings))
    .timeout(rt.settings.wait_timeout + Duration::from_secs(120))
    .limit_key(|p: &ResourceParams| Some(limit_key(&p.instance)))
}

/// The `provision` and `deprovision` definitions, bound to these providers.
pub(crate) fn definitions(rt: Arc<Runtime>) -> Vec<WorkflowDefinition> {
    let mut provision = WorkflowDefinition::new(PROVISION, 1);
    for kind in [
        "network",
        "subnet",
        "security_group",
        "volume",
        "server",
        "attachment",
    ] {
        provision = provision.kind(resource_step(&rt, kind));
    }
    let wait_rt = rt.clone();
    provision = provision
        .kind(
            Step::new("wait", move |ctx: StepContext, p: ResourceParams| {
                let rt = wait_rt.clone();
                async move { rt.wait(ctx, p).await }
            })
            .retry(retry(&rt.settings))
            .timeout(rt.settings.wait_timeout + Duration::from_secs(120))
            .limit_key(|p: &ResourceParams| Some(limit_key(&p.instance))),
        )
        .plan(|input: &ProvisionInput| {
            input
                .steps
                .iter()
                .map(|s| {
                    StepInstance::new(&s.name, s.params.body.kind(), &s.params)
                        .map_err(|e| e.to_string())
                })
                .collect()
        })
        .on_failure(match rt.settings.on_failure {
            FailurePolicy::WaitForOperator => OnFailure::WaitForOperator,
            FailurePolicy::Compensate => OnFailure::Compensate,
        });

    let (del_rt, rel_rt) = (rt.clone(), rt.clone());
    let deprovision = WorkflowDefinition::new(DEPROVISION, 1)
        .kind(
            Step::new("delete", move |ctx: StepContext, p: DeleteParams| {
                let rt = del_rt.clone();
                async move { rt.delete_step(ctx, p).await }
            })
            .retry(retry(&rt.settings))
            .timeout(rt.settings.wait_timeout + Duration::from_secs(120))
            .limit_key(|p: &DeleteParams| Some(limit_key(&p.instance))),
        )
        .kind(
            Step::new("release", move |_ctx: StepContext, p: ReleaseParams| {
                let rt = rel_rt.clone();
                async move {
                    crate::requests::store::release(&rt.db, &p.request)
                        .await
                        .map_err(|e| StepError::transient(e.to_string()))
                }
            })
            .retry(retry(&rt.settings)),
        )
        .plan(|input: &DeprovisionInput| {
            let mut steps = Vec::with_capacity(input.resources.len() + 1);
            for spec in &input.resources {
                steps.push(
                    StepInstance::new(
                        format!("delete:{}", spec.meta.resource()),
                        "delete",
                        &DeleteParams {
                            instance: input.instance.clone(),
                            spec: spec.clone(),
                        },
                    )
                    .map_err(|e| e.to_string())?,
                );
            }
            steps.push(
                StepInstance::new(
                    "release",
                    "release",
                    &ReleaseParams {
                        request: input.request.clone(),
                    },
                )
                .map_err(|e| e.to_string())?,
            );
            Ok(steps)
        })
        .on_failure(OnFailure::WaitForOperator);
    vec![provision, deprovision]
}
