//! Servers as EC2 instances; dedicated servers on their own Dedicated Host.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{
    AttributeValue, Instance, InstanceType, Placement, ResourceType, Tenancy,
};
use nuage_provider::{
    Address, AddressScope, CloudId, DeleteOutcome, Drift, Error, ErrorKind, Observation, Observed,
    Outputs, ResourceKind, ResourceSpec, ResourceState, Result, ServerSpec, smallest_fitting,
};

use crate::provider::{AwsProvider, absent, immutable};
use crate::{host, image, tags};

/// Every state but `terminated`: a shutting-down instance still exists.
const LIVE_STATES: [&str; 5] = ["pending", "running", "stopping", "stopped", "shutting-down"];

fn state_name(i: &Instance) -> &str {
    i.state().and_then(|s| s.name()).map_or("", |n| n.as_str())
}

/// Live instances carrying this identity, the one to report first: not shutting down, oldest.
async fn find(p: &AwsProvider, spec: &ResourceSpec) -> Result<Vec<Instance>> {
    let mut filters = tags::identity_filters(&spec.meta);
    filters.push(tags::filter("instance-state-name", LIVE_STATES));
    let out = p
        .client
        .describe_instances()
        .set_filters(Some(filters))
        .send()
        .await
        .map_err(|e| p.err("DescribeInstances", e))?;
    let mut instances: Vec<Instance> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| tags::matches(&spec.meta, i.tags()))
        .filter(|i| LIVE_STATES.contains(&state_name(i)))
        .cloned()
        .collect();
    instances.sort_by(|a, b| {
        let key = |i: &Instance| {
            (
                state_name(i) == "shutting-down",
                i.launch_time().cloned(),
                i.instance_id().map(str::to_owned),
            )
        };
        key(a).cmp(&key(b))
    });
    Ok(instances)
}

/// The instance type a spec asks for: its hint, or the smallest configured type that fits.
fn desired_type(p: &AwsProvider, want: &ServerSpec) -> Result<String> {
    if let Some(hint) = &want.flavor {
        return Ok(hint.clone());
    }
    smallest_fitting(&p.config.instance_types, want.vcpus, want.ram_mib)
        .map(|f| f.name.clone())
        .ok_or_else(|| {
            Error::InvalidSpec(format!(
                "no instance type of {} has {} vCPU and {} MiB",
                p.config.name, want.vcpus, want.ram_mib
            ))
        })
}

fn observed(
    i: &Instance,
    want: &ServerSpec,
    desired: Option<&str>,
    duplicates: &[Instance],
) -> Observed {
    let native = state_name(i).to_owned();
    let state = match native.as_str() {
        "pending" => ResourceState::Creating,
        "running" => ResourceState::Ready,
        "stopping" | "stopped" => ResourceState::Stopped,
        "shutting-down" | "terminated" => ResourceState::Deleting,
        _ => ResourceState::Creating,
    };
    let placement = i.placement();
    let zone = placement
        .and_then(|p| p.availability_zone())
        .map(str::to_owned);
    let flavor = i.instance_type().map(|t| t.as_str().to_owned());
    // On a Dedicated Host: tenancy `host`, or a host id (moto reports only the latter).
    let dedicated =
        placement.is_some_and(|p| p.tenancy() == Some(&Tenancy::Host) || p.host_id().is_some());
    let mut drift = Vec::new();
    if let Some(d) = desired
        && Some(d) != flavor.as_deref()
    {
        drift.push(Drift::new("flavor", d, flavor.clone().unwrap_or_default()));
    }
    if let Some(s) = &want.subnet
        && Some(s.as_str()) != i.subnet_id()
    {
        drift.push(Drift::new("subnet", s, i.subnet_id().unwrap_or_default()));
    }
    if !want.security_groups.is_empty() {
        let wanted: BTreeSet<&str> = want.security_groups.iter().map(CloudId::as_str).collect();
        let have: BTreeSet<&str> = i
            .security_groups()
            .iter()
            .filter_map(|g| g.group_id())
            .collect();
        if wanted != have {
            let join = |s: BTreeSet<&str>| s.into_iter().collect::<Vec<_>>().join(",");
            drift.push(Drift::new("security_groups", join(wanted), join(have)));
        }
    }
    if want.dedicated != dedicated {
        drift.push(Drift::new("dedicated", want.dedicated, dedicated));
    }
    if let Some(z) = &want.zone
        && Some(z) != zone.as_ref()
    {
        drift.push(Drift::new("zone", z, zone.clone().unwrap_or_default()));
    }
    let mut addresses = Vec::new();
    for (scope, ip) in [
        (AddressScope::Private, i.private_ip_address()),
        (AddressScope::Public, i.public_ip_address()),
    ] {
        if let Some(ip) = ip.and_then(|ip| ip.parse().ok()) {
            addresses.push(Address { scope, ip });
        }
    }
    let mut outputs = Outputs {
        addresses,
        zone,
        flavor,
        image: i.image_id().map(str::to_owned),
        host: placement.and_then(|p| p.host_id()).map(str::to_owned),
        ..Outputs::default()
    };
    for (key, value) in [("subnet", i.subnet_id()), ("network", i.vpc_id())] {
        if let Some(v) = value {
            outputs.extra.insert(key.to_owned(), v.to_owned());
        }
    }
    Observed {
        kind: ResourceKind::Server,
        cloud_id: CloudId::new(i.instance_id().unwrap_or_default()),
        state,
        native_state: native,
        drift,
        outputs,
        message: i
            .state_reason()
            .and_then(|r| r.message())
            .map(str::to_owned),
        duplicates: duplicates
            .iter()
            .filter_map(|d| d.instance_id().map(CloudId::from))
            .collect(),
        simulated: false,
    }
}

pub(crate) async fn observe(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &ServerSpec,
) -> Result<Observation> {
    let instances = find(p, spec).await?;
    let desired = desired_type(p, want).ok();
    Ok(match instances.split_first() {
        Some((i, rest)) => Observation::Present(observed(i, want, desired.as_deref(), rest)),
        None => Observation::Absent,
    })
}

/// The zone a new server lands in: the spec's, its subnet's, or the default one.
async fn zone_of(p: &AwsProvider, want: &ServerSpec) -> Result<String> {
    if let Some(z) = &want.zone {
        return Ok(z.clone());
    }
    if let Some(subnet) = &want.subnet {
        let out = p
            .client
            .describe_subnets()
            .subnet_ids(subnet.as_str())
            .send()
            .await
            .map_err(|e| p.err("DescribeSubnets", e))?;
        if let Some(z) = out.subnets().first().and_then(|s| s.availability_zone()) {
            return Ok(z.to_owned());
        }
    }
    p.default_zone().await
}

pub(crate) async fn create(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &ServerSpec,
) -> Result<Observed> {
    // House rule 4: look up by tags before creating. Endpoints that ignore `ClientToken`
    // (moto, some EC2-compatible clouds) would otherwise duplicate after a lost answer.
    if let Observation::Present(o) = observe(p, spec, want).await? {
        return Ok(o);
    }
    let instance_type = desired_type(p, want)?;
    let ami = image::resolve(p, &want.image).await?;
    let placement = if want.dedicated {
        if !p.config.dedicated_hosts {
            return Err(Error::Unsupported(format!(
                "dedicated hosts are not enabled on {}",
                p.config.name
            )));
        }
        let zone = zone_of(p, want).await?;
        let host = host::ensure(p, &spec.meta, &instance_type, &zone).await?;
        Some(
            Placement::builder()
                .availability_zone(zone)
                .tenancy(Tenancy::Host)
                .host_id(host)
                .build(),
        )
    } else {
        want.zone
            .as_ref()
            .map(|z| Placement::builder().availability_zone(z).build())
    };
    let mut salt = "run-instances".to_owned();
    for _ in 0..3 {
        let out = p
            .client
            .run_instances()
            .image_id(&ami)
            .instance_type(InstanceType::from(instance_type.as_str()))
            .min_count(1)
            .max_count(1)
            .client_token(spec.meta.idempotency_token(&salt))
            .set_subnet_id(want.subnet.as_ref().map(|s| s.as_str().to_owned()))
            .set_security_group_ids((!want.security_groups.is_empty()).then(|| {
                want.security_groups
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect()
            }))
            .set_placement(placement.clone())
            .set_user_data(
                want.user_data
                    .as_ref()
                    .map(aws_smithy_types::base64::encode),
            )
            .tag_specifications(tags::tag_spec(ResourceType::Instance, &spec.meta))
            .customize()
            .config_override(AwsProvider::no_retry())
            .send()
            .await
            .map_err(|e| p.err("RunInstances", e))?;
        let Some(instance) = out.instances().first() else {
            return Err(Error::transient("RunInstances returned no instance"));
        };
        if matches!(state_name(instance), "shutting-down" | "terminated") {
            // The token belongs to a previous, deleted incarnation of this server (EC2 keeps
            // answering with it): derive the next token from that instance, deterministically.
            salt = format!(
                "run-instances-after-{}",
                instance.instance_id().unwrap_or_default()
            );
            continue;
        }
        return Ok(observed(instance, want, Some(&instance_type), &[]));
    }
    Err(Error::conflict(format!(
        "RunInstances for {} keeps returning terminated instances",
        spec.name()
    )))
}

async fn wait_for_state(p: &AwsProvider, id: &str, wanted: &str) -> Result<()> {
    p.poll_until(&format!("instance {id} {wanted}"), || async {
        let out = p
            .client
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .map_err(|e| p.err("DescribeInstances", e))?;
        let state = out
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
            .map(state_name)
            .next()
            .unwrap_or("")
            .to_owned();
        Ok(state == wanted)
    })
    .await
}

pub(crate) async fn update(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &ServerSpec,
) -> Result<Observed> {
    let instances = find(p, spec).await?;
    let (instance, rest) = instances.split_first().ok_or_else(|| absent(spec))?;
    let desired = desired_type(p, want)?;
    let o = observed(instance, want, Some(&desired), rest);
    for field in ["subnet", "dedicated", "zone"] {
        if o.drift.iter().any(|d| d.field == field) {
            return Err(immutable(spec, field));
        }
    }
    if o.is_up_to_date() {
        return Ok(o);
    }
    if !matches!(o.state, ResourceState::Ready | ResourceState::Stopped) {
        return Err(Error::cloud(
            ErrorKind::Conflict,
            Some(o.native_state.clone()),
            format!(
                "server {} is {}; update it once settled",
                spec.name(),
                o.native_state
            ),
        ));
    }
    let id = o.cloud_id.as_str();
    if o.drift.iter().any(|d| d.field == "security_groups") {
        p.client
            .modify_instance_attribute()
            .instance_id(id)
            .set_groups(Some(
                want.security_groups
                    .iter()
                    .map(|g| g.as_str().to_owned())
                    .collect(),
            ))
            .send()
            .await
            .map_err(|e| p.err("ModifyInstanceAttribute", e))?;
    }
    if o.drift.iter().any(|d| d.field == "flavor") {
        if want.dedicated {
            return Err(immutable(spec, "instance type on a dedicated host"));
        }
        let was_running = o.state == ResourceState::Ready;
        if was_running {
            p.client
                .stop_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(|e| p.err("StopInstances", e))?;
            wait_for_state(p, id, "stopped").await?;
        }
        p.client
            .modify_instance_attribute()
            .instance_id(id)
            .instance_type(AttributeValue::builder().value(&desired).build())
            .send()
            .await
            .map_err(|e| p.err("ModifyInstanceAttribute", e))?;
        if was_running {
            p.client
                .start_instances()
                .instance_ids(id)
                .send()
                .await
                .map_err(|e| p.err("StartInstances", e))?;
        }
    }
    observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| absent(spec))
}

pub(crate) async fn delete(p: &AwsProvider, spec: &ResourceSpec) -> Result<DeleteOutcome> {
    let instances = find(p, spec).await?;
    let ids: Vec<String> = instances
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    if !ids.is_empty() {
        p.client
            .terminate_instances()
            .set_instance_ids(Some(ids.clone()))
            .send()
            .await
            .map_err(|e| p.err("TerminateInstances", e))?;
        // A host can be released only once its instance is gone; dependents (subnet, security
        // groups) can be deleted only then too.
        p.poll_until(&format!("server {} terminated", spec.name()), || async {
            Ok(find(p, spec).await?.is_empty())
        })
        .await?;
    }
    let dedicated = matches!(&spec.body, nuage_provider::SpecBody::Server(s) if s.dedicated);
    let released = if dedicated || p.config.dedicated_hosts {
        host::release(p, &spec.meta).await?
    } else {
        0
    };
    Ok(if ids.is_empty() && released == 0 {
        DeleteOutcome::AlreadyAbsent
    } else {
        DeleteOutcome::Deleted
    })
}
