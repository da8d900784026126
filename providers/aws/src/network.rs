//! Networks as EC2 VPCs.

use aws_sdk_ec2::types::{ResourceType, Vpc};
use nuage_provider::{
    CloudId, DeleteOutcome, Drift, ErrorKind, NetworkSpec, Observation, Observed, Outputs,
    ResourceKind, ResourceSpec, ResourceState, Result,
};

use crate::provider::{AwsProvider, absent, immutable};
use crate::tags;

async fn find(p: &AwsProvider, spec: &ResourceSpec) -> Result<Vec<Vpc>> {
    let out = p
        .client
        .describe_vpcs()
        .set_filters(Some(tags::identity_filters(&spec.meta)))
        .send()
        .await
        .map_err(|e| p.err("DescribeVpcs", e))?;
    let mut vpcs: Vec<Vpc> = out
        .vpcs()
        .iter()
        .filter(|v| tags::matches(&spec.meta, v.tags()))
        .cloned()
        .collect();
    vpcs.sort_by(|a, b| a.vpc_id().cmp(&b.vpc_id()));
    Ok(vpcs)
}

fn observed(vpc: &Vpc, want: &NetworkSpec, duplicates: &[Vpc]) -> Observed {
    let native = vpc
        .state()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default();
    let state = match native.as_str() {
        "pending" => ResourceState::Creating,
        _ => ResourceState::Ready,
    };
    let cidr = vpc.cidr_block().unwrap_or_default();
    let mut drift = Vec::new();
    if cidr != want.cidr.to_string() {
        drift.push(Drift::new("cidr", want.cidr, cidr));
    }
    let mut outputs = Outputs::default();
    outputs.extra.insert("cidr".to_owned(), cidr.to_owned());
    Observed {
        kind: ResourceKind::Network,
        cloud_id: CloudId::new(vpc.vpc_id().unwrap_or_default()),
        state,
        native_state: native,
        drift,
        outputs,
        message: None,
        duplicates: duplicates
            .iter()
            .filter_map(|v| v.vpc_id().map(CloudId::from))
            .collect(),
        simulated: false,
    }
}

pub(crate) async fn observe(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &NetworkSpec,
) -> Result<Observation> {
    let vpcs = find(p, spec).await?;
    Ok(match vpcs.split_first() {
        Some((vpc, rest)) => Observation::Present(observed(vpc, want, rest)),
        None => Observation::Absent,
    })
}

pub(crate) async fn create(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &NetworkSpec,
) -> Result<Observed> {
    if let Observation::Present(o) = observe(p, spec, want).await? {
        return Ok(o);
    }
    let out = p
        .client
        .create_vpc()
        .cidr_block(want.cidr.to_string())
        .tag_specifications(tags::tag_spec(ResourceType::Vpc, &spec.meta))
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("CreateVpc", e))?;
    match out.vpc() {
        Some(vpc) => Ok(observed(vpc, want, &[])),
        None => observe(p, spec, want)
            .await?
            .into_present()
            .ok_or_else(|| nuage_provider::Error::transient("CreateVpc returned no VPC")),
    }
}

pub(crate) async fn update(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &NetworkSpec,
) -> Result<Observed> {
    let o = observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| absent(spec))?;
    if !o.is_up_to_date() {
        return Err(immutable(spec, "cidr"));
    }
    Ok(o)
}

pub(crate) async fn delete(p: &AwsProvider, spec: &ResourceSpec) -> Result<DeleteOutcome> {
    let vpcs = find(p, spec).await?;
    let mut deleted = false;
    for vpc in &vpcs {
        let id = vpc.vpc_id().unwrap_or_default();
        match p.client.delete_vpc().vpc_id(id).send().await {
            Ok(_) => deleted = true,
            Err(e) => {
                let e = p.err("DeleteVpc", e);
                if e.kind() != ErrorKind::NotFound {
                    return Err(e);
                }
            }
        }
    }
    Ok(if deleted {
        DeleteOutcome::Deleted
    } else {
        DeleteOutcome::AlreadyAbsent
    })
}
