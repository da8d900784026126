//! The step handlers: create a resource (observe first, record "create pending", create, wait
//! until ready), undo it (delete, wait until absent), wait for a server, release a request.

use std::sync::Arc;
use std::time::Duration;

use nuage_provider::{
    AttachmentSpec, CloudId, DeleteOutcome, ErrorKind, NetworkSpec, Observation, Observed, Outputs,
    Provider, ResourceKind, ResourceMeta, ResourceSpec, ResourceState, SecurityGroupSpec,
    ServerSpec, SpecBody, SubnetSpec, VolumeSpec, WaitOptions, wait_until_absent, wait_until_ready,
};
use nuage_workflows::{StepContext, StepError};
use serde::{Deserialize, Serialize};

use super::Runtime;
use super::plan::{PlannedBody, ResourceParams};

/// What a resource step returns (and checkpoints): the resource as observed, and the spec it
/// was made from (its compensation and the deprovisioning run delete by it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceOutput {
    /// Logical name within the request.
    pub resource: String,
    /// Kind.
    pub kind: ResourceKind,
    /// Name in the cloud.
    pub name: String,
    /// The cloud's id.
    pub cloud_id: CloudId,
    /// Neutral state when observed.
    pub state: ResourceState,
    /// The cloud's own state word.
    pub native_state: String,
    /// Addresses, zone, flavor...
    pub outputs: Outputs,
    /// Other resources carrying the same identity (reported, deleted with it).
    #[serde(default)]
    pub duplicates: Vec<CloudId>,
    /// True in a simulated cloud.
    pub simulated: bool,
    /// The spec it was made from.
    pub spec: ResourceSpec,
}

impl ResourceOutput {
    fn new(spec: ResourceSpec, o: Observed) -> ResourceOutput {
        ResourceOutput {
            resource: spec.meta.resource().to_owned(),
            kind: o.kind,
            name: spec.name(),
            cloud_id: o.cloud_id,
            state: o.state,
            native_state: o.native_state,
            outputs: o.outputs,
            duplicates: o.duplicates,
            simulated: o.simulated,
            spec,
        }
    }
}

/// What a resource step records before it calls `create` (house rule 4): the spec, so an
/// interrupted step's compensation knows what to delete; and the cloud id once known.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) create_pending: ResourceSpec,
    #[serde(default)]
    pub(crate) cloud_id: Option<CloudId>,
}

/// Maps a provider error to what the engine should do: retry after the cloud's delay when
/// throttled; retry transient failures, capacity shortages and conflicts; stop at once on the
/// rest (not found, quota, auth, terminal).
pub(crate) fn step_error(e: nuage_provider::Error) -> StepError {
    let msg = e.to_string();
    match e.kind() {
        ErrorKind::Throttled { retry_after } => {
            StepError::throttled(retry_after.unwrap_or(Duration::from_secs(1)), msg)
        }
        ErrorKind::Transient | ErrorKind::Capacity | ErrorKind::Conflict => {
            StepError::transient(msg)
        }
        ErrorKind::NotFound | ErrorKind::Quota | ErrorKind::Auth | ErrorKind::Terminal => {
            StepError::terminal(msg)
        }
    }
}

impl Runtime {
    fn provider(&self, instance: &str) -> Result<Arc<dyn Provider>, StepError> {
        self.providers.get(instance).ok_or_else(|| {
            StepError::terminal(format!(
                "provider instance {instance:?} is not configured in this broker"
            ))
        })
    }

    fn wait_options(&self) -> WaitOptions {
        let s = &self.settings;
        WaitOptions {
            timeout: s.wait_timeout,
            min_delay: s.poll_min,
            max_delay: s.poll_max,
            absent_tolerance: 3,
        }
    }

    /// Creates the resource of a step, or finds it: observe, record pending, create, wait.
    pub(crate) async fn create(
        &self,
        ctx: StepContext,
        p: ResourceParams,
    ) -> Result<ResourceOutput, StepError> {
        let provider = self.provider(&p.instance)?;
        let spec = resolve(&ctx, &p)?;
        let observed = match provider.observe(&spec).await.map_err(step_error)? {
            Observation::Present(o) => o,
            Observation::Absent => {
                ctx.checkpoint(&Pending {
                    create_pending: spec.clone(),
                    cloud_id: None,
                })
                .await?;
                provider.create(&spec).await.map_err(step_error)?
            }
        };
        let observed = if observed.is_ready() {
            observed
        } else {
            if observed.state == ResourceState::Failed {
                return Err(StepError::terminal(format!(
                    "{} {} failed in the cloud: {}",
                    spec.kind(),
                    spec.name(),
                    observed.message.as_deref().unwrap_or("no reason given")
                )));
            }
            ctx.checkpoint(&Pending {
                create_pending: spec.clone(),
                cloud_id: Some(observed.cloud_id.clone()),
            })
            .await?;
            self.wait_ready(&ctx, provider.as_ref(), &spec).await?
        };
        tracing::debug!(
            step = %ctx.step_name(), cloud_id = %observed.cloud_id, simulated = observed.simulated,
            "resource ready"
        );
        Ok(ResourceOutput::new(spec, observed))
    }

    /// Waits until the server made by an earlier step is ready.
    pub(crate) async fn wait(
        &self,
        ctx: StepContext,
        p: ResourceParams,
    ) -> Result<ResourceOutput, StepError> {
        let PlannedBody::Wait { server } = &p.body else {
            return Err(StepError::terminal("a wait step needs a server"));
        };
        let provider = self.provider(&p.instance)?;
        let made: ResourceOutput = earlier(&ctx, server)?;
        let observed = self.wait_ready(&ctx, provider.as_ref(), &made.spec).await?;
        Ok(ResourceOutput::new(made.spec, observed))
    }

    async fn wait_ready(
        &self,
        ctx: &StepContext,
        provider: &dyn Provider,
        spec: &ResourceSpec,
    ) -> Result<Observed, StepError> {
        let options = self.wait_options();
        tokio::select! {
            r = wait_until_ready(provider, spec, &options) => r.map_err(step_error),
            _ = ctx.cancelled() => Err(StepError::transient("cancelled while waiting")),
        }
    }

    /// Undoes a resource step: deletes what it made (by the spec in its output, or in its
    /// "create pending" record when it did not finish) and waits until it is gone. A step that
    /// never recorded a pending create made nothing.
    pub(crate) async fn undo(
        &self,
        ctx: StepContext,
        p: ResourceParams,
        out: Option<ResourceOutput>,
    ) -> Result<(), StepError> {
        let spec = match out {
            Some(o) => o.spec,
            None => match ctx.checkpointed::<Pending>()? {
                Some(pending) => pending.create_pending,
                None => return Ok(()),
            },
        };
        let provider = self.provider(&p.instance)?;
        self.delete(&ctx, provider.as_ref(), &spec).await
    }

    /// Deletes a resource and waits until it is absent; what is gone is success.
    pub(crate) async fn delete(
        &self,
        ctx: &StepContext,
        provider: &dyn Provider,
        spec: &ResourceSpec,
    ) -> Result<(), StepError> {
        match provider.delete(spec).await {
            Ok(DeleteOutcome::Deleted | DeleteOutcome::AlreadyAbsent) => Ok(()),
            Ok(DeleteOutcome::InProgress) => {
                let options = self.wait_options();
                tokio::select! {
                    r = wait_until_absent(provider, spec, &options) => r.map_err(step_error),
                    _ = ctx.cancelled() => Err(StepError::transient("interrupted while waiting for a deletion")),
                }
            }
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(step_error(e)),
        }
    }

    /// A deprovisioning step: deletes one resource.
    pub(crate) async fn delete_step(
        &self,
        ctx: StepContext,
        p: DeleteParams,
    ) -> Result<(), StepError> {
        let provider = self.provider(&p.instance)?;
        self.delete(&ctx, provider.as_ref(), &p.spec).await
    }
}

/// The parameters of a deprovisioning step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeleteParams {
    /// Provider instance.
    pub instance: String,
    /// The resource, as it was made.
    pub spec: ResourceSpec,
}

fn earlier(ctx: &StepContext, step: &str) -> Result<ResourceOutput, StepError> {
    ctx.output::<ResourceOutput>(step)?.ok_or_else(|| {
        StepError::terminal(format!("step {step} has no output; it must run before"))
    })
}

fn cloud_id(ctx: &StepContext, step: &str) -> Result<CloudId, StepError> {
    earlier(ctx, step).map(|o| o.cloud_id)
}

/// The spec of a step, with its dependencies' cloud ids.
fn resolve(ctx: &StepContext, p: &ResourceParams) -> Result<ResourceSpec, StepError> {
    let meta = ResourceMeta::new(&p.tenant, &p.request, &p.resource)
        .map_err(|e| StepError::terminal(e.to_string()))?;
    let body = match &p.body {
        PlannedBody::Network { cidr } => SpecBody::Network(NetworkSpec { cidr: *cidr }),
        PlannedBody::Subnet { network, cidr } => SpecBody::Subnet(SubnetSpec {
            network: cloud_id(ctx, network)?,
            cidr: *cidr,
            zone: None,
        }),
        PlannedBody::SecurityGroup { network, rules } => {
            SpecBody::SecurityGroup(SecurityGroupSpec {
                network: Some(cloud_id(ctx, network)?),
                rules: rules.clone(),
            })
        }
        PlannedBody::Volume { size_gib } => SpecBody::Volume(VolumeSpec {
            size_gib: *size_gib,
            zone: None,
            volume_type: None,
        }),
        PlannedBody::Server {
            vcpus,
            ram_mib,
            image,
            subnet,
            security_groups,
            dedicated,
        } => SpecBody::Server(ServerSpec {
            vcpus: *vcpus,
            ram_mib: *ram_mib,
            image: image.clone(),
            flavor: None,
            subnet: subnet.as_deref().map(|s| cloud_id(ctx, s)).transpose()?,
            security_groups: security_groups
                .iter()
                .map(|s| cloud_id(ctx, s))
                .collect::<Result<_, _>>()?,
            dedicated: *dedicated,
            zone: None,
            user_data: None,
        }),
        PlannedBody::Attachment { server, volume } => SpecBody::Attachment(AttachmentSpec {
            server: cloud_id(ctx, server)?,
            volume: cloud_id(ctx, volume)?,
            device: None,
        }),
        PlannedBody::Wait { .. } => {
            return Err(StepError::terminal("a wait step makes no resource"));
        }
    };
    let spec = ResourceSpec::new(meta, body);
    spec.validate()
        .map_err(|e| StepError::terminal(e.to_string()))?;
    Ok(spec)
}
