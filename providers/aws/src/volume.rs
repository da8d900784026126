//! Volumes as EBS volumes.

use aws_sdk_ec2::types::{ResourceType, Volume, VolumeType};
use nuage_provider::{
    CloudId, DeleteOutcome, Drift, Error, ErrorKind, Observation, Observed, Outputs, ResourceKind,
    ResourceSpec, ResourceState, Result, VolumeSpec,
};

use crate::provider::{AwsProvider, absent, immutable};
use crate::tags;

async fn find(p: &AwsProvider, spec: &ResourceSpec) -> Result<Vec<Volume>> {
    let out = p
        .client
        .describe_volumes()
        .set_filters(Some(tags::identity_filters(&spec.meta)))
        .send()
        .await
        .map_err(|e| p.err("DescribeVolumes", e))?;
    let mut volumes: Vec<Volume> = out
        .volumes()
        .iter()
        .filter(|v| tags::matches(&spec.meta, v.tags()))
        .filter(|v| v.state().is_none_or(|s| s.as_str() != "deleted"))
        .cloned()
        .collect();
    volumes.sort_by(|a, b| (a.create_time(), a.volume_id()).cmp(&(b.create_time(), b.volume_id())));
    Ok(volumes)
}

fn observed(v: &Volume, want: &VolumeSpec, duplicates: &[Volume]) -> Observed {
    let native = v.state().map(|s| s.as_str().to_owned()).unwrap_or_default();
    let state = match native.as_str() {
        "creating" => ResourceState::Creating,
        "deleting" => ResourceState::Deleting,
        "error" => ResourceState::Failed,
        _ => ResourceState::Ready,
    };
    let size = v.size().and_then(|s| u32::try_from(s).ok()).unwrap_or(0);
    let zone = v.availability_zone().map(str::to_owned);
    let kind = v.volume_type().map(|t| t.as_str().to_owned());
    let mut drift = Vec::new();
    if size != want.size_gib {
        drift.push(Drift::new("size_gib", want.size_gib, size));
    }
    if let Some(t) = &want.volume_type
        && Some(t) != kind.as_ref()
    {
        drift.push(Drift::new(
            "volume_type",
            t,
            kind.clone().unwrap_or_default(),
        ));
    }
    if let Some(z) = &want.zone
        && Some(z) != zone.as_ref()
    {
        drift.push(Drift::new("zone", z, zone.clone().unwrap_or_default()));
    }
    let mut outputs = Outputs {
        zone,
        size_gib: Some(size),
        ..Outputs::default()
    };
    if let Some(kind) = kind {
        outputs.extra.insert("volume_type".to_owned(), kind);
    }
    Observed {
        kind: ResourceKind::Volume,
        cloud_id: CloudId::new(v.volume_id().unwrap_or_default()),
        state,
        native_state: native,
        drift,
        outputs,
        message: (state == ResourceState::Failed)
            .then(|| "EBS reports the volume in error".to_owned()),
        duplicates: duplicates
            .iter()
            .filter_map(|v| v.volume_id().map(CloudId::from))
            .collect(),
        simulated: false,
    }
}

pub(crate) async fn observe(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &VolumeSpec,
) -> Result<Observation> {
    let volumes = find(p, spec).await?;
    Ok(match volumes.split_first() {
        Some((v, rest)) => Observation::Present(observed(v, want, rest)),
        None => Observation::Absent,
    })
}

pub(crate) async fn create(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &VolumeSpec,
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
        .create_volume()
        .availability_zone(zone)
        .size(i32::try_from(want.size_gib).unwrap_or(i32::MAX))
        .set_volume_type(want.volume_type.as_deref().map(VolumeType::from))
        .client_token(spec.meta.idempotency_token("create-volume"))
        .tag_specifications(tags::tag_spec(ResourceType::Volume, &spec.meta))
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("CreateVolume", e))?;
    let id = out.volume_id().unwrap_or_default();
    let mut o = observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| Error::transient(format!("volume {id} not visible yet")))?;
    // Report what was just created even if an older duplicate sorts first.
    if o.cloud_id.as_str() != id && !id.is_empty() {
        o.duplicates.retain(|d| d.as_str() != id);
    }
    Ok(o)
}

pub(crate) async fn update(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &VolumeSpec,
) -> Result<Observed> {
    let o = observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| absent(spec))?;
    for d in &o.drift {
        match d.field.as_str() {
            "size_gib" => {
                let have = o.outputs.size_gib.unwrap_or(0);
                if want.size_gib < have {
                    return Err(Error::cloud(
                        ErrorKind::Terminal,
                        None,
                        format!("volume {} cannot shrink from {have} GiB", spec.name()),
                    ));
                }
            }
            "zone" => return Err(immutable(spec, "zone")),
            _ => {}
        }
    }
    if o.is_up_to_date() {
        return Ok(o);
    }
    p.client
        .modify_volume()
        .volume_id(o.cloud_id.as_str())
        .size(i32::try_from(want.size_gib).unwrap_or(i32::MAX))
        .set_volume_type(want.volume_type.as_deref().map(VolumeType::from))
        .send()
        .await
        .map_err(|e| p.err("ModifyVolume", e))?;
    observe(p, spec, want)
        .await?
        .into_present()
        .ok_or_else(|| absent(spec))
}

pub(crate) async fn delete(p: &AwsProvider, spec: &ResourceSpec) -> Result<DeleteOutcome> {
    let volumes = find(p, spec).await?;
    let mut deleted = false;
    for v in &volumes {
        if v.state().is_some_and(|s| s.as_str() == "deleting") {
            continue;
        }
        match p
            .client
            .delete_volume()
            .volume_id(v.volume_id().unwrap_or_default())
            .send()
            .await
        {
            Ok(_) => deleted = true,
            Err(e) => {
                let e = p.err("DeleteVolume", e);
                if e.kind() != ErrorKind::NotFound {
                    return Err(e);
                }
            }
        }
    }
    let still_deleting = volumes
        .iter()
        .any(|v| v.state().is_some_and(|s| s.as_str() == "deleting"));
    Ok(if still_deleting {
        DeleteOutcome::InProgress
    } else if deleted {
        DeleteOutcome::Deleted
    } else {
        DeleteOutcome::AlreadyAbsent
    })
}
