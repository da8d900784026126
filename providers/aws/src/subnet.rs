//! Subnets as EC2 subnets.

use aws_sdk_ec2::types::{ResourceType, Subnet};
use nuage_provider::{
    CloudId, DeleteOutcome, Drift, ErrorKind, Observation, Observed, Outputs, ResourceKind,
    ResourceSpec, ResourceState, Result, SubnetSpec,
};

use crate::provider::{AwsProvider, absent, immutable};
use crate::tags;

async fn find(p: &AwsProvider, spec: &ResourceSpec) -> Result<Vec<Subnet>> {
    let out = p
        .client
        .describe_subnets()
        .set_filters(Some(tags::identity_filters(&spec.meta)))
        .send()
        .await
        .map_err(|e| p.err("DescribeSubnets", e))?;
    let mut subnets: Vec<Subnet> = out
        .subnets()
        .iter()
        .filter(|s| tags::matches(&spec.meta, s.tags()))
        .cloned()
        .collect();
    subnets.sort_by(|a, b| a.subnet_id().cmp(&b.subnet_id()));
    Ok(subnets)
}

fn observed(s: &Subnet, want: &SubnetSpec, duplicates: &[Subnet]) -> Observed {
    let native = s.state().map(|s| s.as_str().to_owned()).unwrap_or_default();
    let state = match native.as_str() {
        "pending" => ResourceState::Creating,
        _ => ResourceState::Ready,
    };
    let cidr = s.cidr_block().unwrap_or_default();
    let vpc = s.vpc_id().unwrap_or_default();
    let zone = s.availability_zone().map(str::to_owned);
    let mut drift = Vec::new();
    if vpc != want.network.as_str() {
        drift.push(Drift::new("network", &want.network, vpc));
    }
    if cidr != want.cidr.to_string() {
        drift.push(Drift::new("cidr", want.cidr, cidr));
    }
    if let Some(z) = &want.zone
        && Some(z) != zone.as_ref()
    {
        drift.push(Drift::new("zone", z, zone.clone().unwrap_or_default()));
    }
    let mut outputs = Outputs {
        zone,
        ..Outputs::default()
    };
    outputs.extra.insert("cidr".to_owned(), cidr.to_owned());
    outputs.extra.insert("network".to_owned(), vpc.to_owned());
    Observed {
        kind: ResourceKind::Subnet,
        cloud_id: CloudId::new(s.subnet_id().unwrap_or_default()),
        state,
        native_state: native,
        drift,
        outputs,
        message: None,
        duplicates: duplicates
            .iter()
            .filter_map(|s| s.subnet_id().map(CloudId::from))
            .collect(),
        simulated: false,
    }
}

pub(crate) async fn observe(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SubnetSpec,
) -> Result<Observation> {
    let subnets = find(p, spec).await?;
    Ok(match subnets.split_first() {
        Some((s, rest)) => Observation::Present(observed(s, want, rest)),
        None => Observation::Absent,
    })
}

pub(crate) async fn create(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SubnetSpec,
) -> Result<Observed> {
    if let Observation::Present(o) = observe(p, spec, want).await? {
        return Ok(o);
    }
    let zone = match &want.zone {
        Some(z) => z.clone(),
        None => p.default_zone().await?,
    };
    let out = p
        .client
        .create_subnet()
        .vpc_id(want.network.as_str())
        .cidr_block(want.cidr.to_string())
        .availability_zone(zone)
        .tag_specifications(tags::tag_spec(ResourceType::Subnet, &spec.meta))
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("CreateSubnet", e))?;
    match out.subnet() {
        Some(s) => Ok(observed(s, want, &[])),
        None => observe(p, spec, want)
            .await?
            .into_present()
            .ok_or_else(|| nuage_provider::Error::transient("CreateSubnet returned no subnet")),
    }
}

pub(crate) async fn update(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SubnetSpec,
) -> Result<Observed> {
    let o = observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| absent(spec))?;
    if let Some(d) = o.drift.first() {
        return Err(immutable(spec, &d.field));
    }
    Ok(o)
}

pub(crate) async fn delete(p: &AwsProvider, spec: &ResourceSpec) -> Result<DeleteOutcome> {
    let subnets = find(p, spec).await?;
    let mut deleted = false;
    for s in &subnets {
        match p
            .client
            .delete_subnet()
            .subnet_id(s.subnet_id().unwrap_or_default())
            .send()
            .await
        {
            Ok(_) => deleted = true,
            Err(e) => {
                let e = p.err("DeleteSubnet", e);
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
