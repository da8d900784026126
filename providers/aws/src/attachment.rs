//! Attachments as EBS volume attachments, found by their (instance, volume) pair.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::VolumeAttachment;
use nuage_provider::{
    AttachmentSpec, CloudId, DeleteOutcome, Drift, Error, ErrorKind, Observation, Observed,
    Outputs, ResourceKind, ResourceState, Result,
};

use crate::provider::AwsProvider;

/// Device names EC2 recommends for EBS data volumes on Linux.
const DEVICES: &[&str] = &[
    "/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sdi", "/dev/sdj", "/dev/sdk", "/dev/sdl", "/dev/sdm",
    "/dev/sdn", "/dev/sdo", "/dev/sdp",
];

/// The live attachment of the volume to the server, if any.
async fn find(p: &AwsProvider, want: &AttachmentSpec) -> Result<Option<VolumeAttachment>> {
    let out = match p
        .client
        .describe_volumes()
        .volume_ids(want.volume.as_str())
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = p.err("DescribeVolumes", e);
            return if e.kind() == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            };
        }
    };
    Ok(out
        .volumes()
        .iter()
        .flat_map(|v| v.attachments())
        .find(|a| {
            a.instance_id() == Some(want.server.as_str())
                && a.state().is_none_or(|s| s.as_str() != "detached")
        })
        .cloned())
}

fn observed(a: &VolumeAttachment, want: &AttachmentSpec) -> Observed {
    let native = a.state().map(|s| s.as_str().to_owned()).unwrap_or_default();
    let state = match native.as_str() {
        "attaching" => ResourceState::Creating,
        "detaching" => ResourceState::Deleting,
        _ => ResourceState::Ready,
    };
    let device = a.device().map(str::to_owned);
    let mut drift = Vec::new();
    if let Some(d) = &want.device
        && Some(d) != device.as_ref()
    {
        drift.push(Drift::new("device", d, device.clone().unwrap_or_default()));
    }
    Observed {
        kind: ResourceKind::Attachment,
        cloud_id: CloudId::new(format!("{}:{}", want.volume, want.server)),
        state,
        native_state: native,
        drift,
        outputs: Outputs {
            device,
            ..Outputs::default()
        },
        message: None,
        duplicates: Vec::new(),
        simulated: false,
    }
}

pub(crate) async fn observe(p: &AwsProvider, want: &AttachmentSpec) -> Result<Observation> {
    Ok(match find(p, want).await? {
        Some(a) => Observation::Present(observed(&a, want)),
        None => Observation::Absent,
    })
}

/// The first recommended device the instance does not use yet.
async fn free_device(p: &AwsProvider, server: &str) -> Result<String> {
    let out = p
        .client
        .describe_instances()
        .instance_ids(server)
        .send()
        .await
        .map_err(|e| p.err("DescribeInstances", e))?;
    let used: BTreeSet<String> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .flat_map(|i| i.block_device_mappings())
        .filter_map(|m| m.device_name().map(|d| d.replace("/dev/xvd", "/dev/sd")))
        .collect();
    DEVICES
        .iter()
        .find(|d| !used.contains(**d))
        .map(|d| (*d).to_owned())
        .ok_or_else(|| {
            Error::cloud(
                ErrorKind::Capacity,
                None,
                format!("instance {server} has no free device name"),
            )
        })
}

pub(crate) async fn create(p: &AwsProvider, want: &AttachmentSpec) -> Result<Observed> {
    if let Some(a) = find(p, want).await? {
        return Ok(observed(&a, want));
    }
    let device = match &want.device {
        Some(d) => d.clone(),
        None => free_device(p, want.server.as_str()).await?,
    };
    let out = p
        .client
        .attach_volume()
        .device(&device)
        .instance_id(want.server.as_str())
        .volume_id(want.volume.as_str())
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("AttachVolume", e))?;
    let attachment = VolumeAttachment::builder()
        .set_device(out.device().map(str::to_owned).or(Some(device)))
        .set_instance_id(out.instance_id().map(str::to_owned))
        .set_volume_id(out.volume_id().map(str::to_owned))
        .set_state(out.state().cloned())
        .build();
    Ok(observed(&attachment, want))
}

pub(crate) async fn update(p: &AwsProvider, want: &AttachmentSpec) -> Result<Observed> {
    let a = find(p, want).await?.ok_or_else(|| {
        Error::not_found(format!(
            "volume {} is not attached to {}",
            want.volume, want.server
        ))
    })?;
    let o = observed(&a, want);
    if !o.is_up_to_date() {
        return Err(Error::cloud(
            ErrorKind::Terminal,
            None,
            "the device of an attachment cannot change in place; detach and attach again",
        ));
    }
    Ok(o)
}

pub(crate) async fn delete(p: &AwsProvider, want: &AttachmentSpec) -> Result<DeleteOutcome> {
    let Some(a) = find(p, want).await? else {
        return Ok(DeleteOutcome::AlreadyAbsent);
    };
    if a.state().is_some_and(|s| s.as_str() == "detaching") {
        return Ok(DeleteOutcome::InProgress);
    }
    // Always name the instance: moto (and some EC2-compatible endpoints) need it.
    let out = match p
        .client
        .detach_volume()
        .instance_id(want.server.as_str())
        .volume_id(want.volume.as_str())
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) => {
            let e = p.err("DetachVolume", e);
            return if e.kind() == ErrorKind::NotFound {
                Ok(DeleteOutcome::AlreadyAbsent)
            } else {
                Err(e)
            };
        }
    };
    Ok(match out.state().map(|s| s.as_str()) {
        Some("detached") => DeleteOutcome::Deleted,
        _ => match find(p, want).await? {
            None => DeleteOutcome::Deleted,
            Some(_) => DeleteOutcome::InProgress,
        },
    })
}
