//! Volumes on Cinder, and their attachments to servers through Nova.

use nuage_provider::{
    AttachmentSpec, DeleteOutcome, Drift, Observation, Observed, ResourceKind, ResourceSpec,
    ResourceState, VolumeSpec,
};

use super::OpenStackProvider;
use super::identity::{claim_metadata, observed, pick};
use crate::error::{Error, Result};
use crate::volume::{CreateVolume, Volume};

/// Neutral state of a Cinder volume (as a volume, not as an attachment).
pub(super) fn volume_state(status: &str) -> ResourceState {
    match status {
        "available" | "in-use" | "reserved" | "attaching" | "detaching" => ResourceState::Ready,
        "creating" | "downloading" => ResourceState::Creating,
        "extending" | "retyping" | "maintenance" | "backing-up" | "restoring-backup" => {
            ResourceState::Updating
        }
        "deleting" => ResourceState::Deleting,
        _ => ResourceState::Failed, // error, error_deleting, error_extending...
    }
}

fn volume_observed(body: &VolumeSpec, volume: &Volume) -> Observed {
    let state = volume_state(&volume.status);
    let mut o = observed(ResourceKind::Volume, &volume.id, state, &volume.status);
    if state == ResourceState::Failed {
        o.message = Some(format!("volume status {}", volume.status));
    }
    o.outputs.size_gib = Some(volume.size);
    o.outputs.zone = volume.availability_zone.clone();
    if let Some(t) = &volume.volume_type {
        o.outputs.extra.insert("volume_type".into(), t.clone());
    }
    if volume.size != body.size_gib {
        o.drift
            .push(Drift::new("size_gib", body.size_gib, volume.size));
    }
    o
}

impl OpenStackProvider {
    async fn find_volumes(&self, spec: &ResourceSpec) -> Result<Option<(Volume, Vec<Volume>)>> {
        let found = self.cinder.volumes_named(&spec.name()).await?;
        Ok(pick(found, false, |v| claim_metadata(&spec.meta, &v.metadata)).map(|(v, _, d)| (v, d)))
    }

    pub(super) async fn observe_volume(
        &self,
        spec: &ResourceSpec,
        body: &VolumeSpec,
    ) -> Result<Observation> {
        let Some((volume, duplicates)) = self.find_volumes(spec).await? else {
            return Ok(Observation::Absent);
        };
        let mut o = volume_observed(body, &volume);
        o.duplicates = duplicates.into_iter().map(|v| v.id.into()).collect();
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_volume(
        &self,
        spec: &ResourceSpec,
        body: &VolumeSpec,
    ) -> Result<Observed> {
        if let Some((volume, _)) = self.find_volumes(spec).await? {
            return Ok(volume_observed(body, &volume));
        }
        let volume = self
            .cinder
            .create(&CreateVolume {
                name: spec.name(),
                size_gib: body.size_gib,
                metadata: spec.meta.tags(),
                zone: body
                    .zone
                    .clone()
                    .or_else(|| self.config.default_zone.clone()),
                volume_type: body.volume_type.clone(),
            })
            .await?;
        Ok(volume_observed(body, &volume))
    }

    pub(super) async fn update_volume(
        &self,
        spec: &ResourceSpec,
        body: &VolumeSpec,
    ) -> Result<Observed> {
        let Some((volume, _)) = self.find_volumes(spec).await? else {
            return Err(super::absent_error(spec));
        };
        if body.size_gib < volume.size {
            return Err(Error::Invalid(format!(
                "{}: volumes never shrink ({} GiB asked, {} GiB exist)",
                spec.meta, body.size_gib, volume.size
            )));
        }
        if body.size_gib > volume.size {
            self.cinder.extend(&volume.id, body.size_gib).await?;
            return self.present(spec).await;
        }
        Ok(volume_observed(body, &volume))
    }

    pub(super) async fn delete_volume(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        let Some((volume, duplicates)) = self.find_volumes(spec).await? else {
            return Ok(DeleteOutcome::AlreadyAbsent);
        };
        let mut started = false;
        for v in std::iter::once(volume).chain(duplicates) {
            if v.status == "deleting" {
                started = true; // a second delete while Cinder deletes: nothing to do
                continue;
            }
            started |= self.cinder.delete(&v.id).await?;
        }
        Ok(if started {
            DeleteOutcome::InProgress
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }

    pub(super) async fn observe_attachment(&self, body: &AttachmentSpec) -> Result<Observation> {
        let Some(attachments) = self.nova.attachments(body.server.as_str()).await? else {
            return Ok(Observation::Absent);
        };
        let Some(attachment) = attachments
            .into_iter()
            .find(|a| a.volume_id == body.volume.as_str())
        else {
            return Ok(Observation::Absent);
        };
        let volume = self.cinder.volume(body.volume.as_str()).await?;
        let status = volume.as_ref().map_or("missing", |v| v.status.as_str());
        let state = match status {
            "in-use" => ResourceState::Ready,
            "reserved" | "attaching" => ResourceState::Creating,
            // Cinder says `available` a moment before Nova drops its record.
            "detaching" | "available" | "missing" => ResourceState::Deleting,
            _ => ResourceState::Failed,
        };
        let id = attachment
            .attachment_id
            .clone()
            .unwrap_or_else(|| attachment.volume_id.clone());
        let mut o = observed(ResourceKind::Attachment, &id, state, status);
        if state == ResourceState::Failed {
            o.message = Some(format!("volume status {status}"));
        }
        o.outputs.device = attachment.device.clone();
        if let (Some(wanted), Some(actual)) = (&body.device, &attachment.device)
            && wanted != actual
        {
            o.drift.push(Drift::new("device", wanted, actual));
        }
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_attachment(&self, body: &AttachmentSpec) -> Result<Observed> {
        if let Observation::Present(o) = self.observe_attachment(body).await? {
            return Ok(o);
        }
        let result = self
            .nova
            .attach_volume(
                body.server.as_str(),
                body.volume.as_str(),
                body.device.as_deref(),
            )
            .await;
        match result {
            Ok(_) => {}
            // A concurrent attempt may have won: what exists is the answer.
            Err(e) => {
                if let Observation::Present(o) = self.observe_attachment(body).await? {
                    return Ok(o);
                }
                return Err(e);
            }
        }
        match self.observe_attachment(body).await? {
            Observation::Present(o) => Ok(o),
            Observation::Absent => Err(Error::Decode {
                service: "compute",
                message: "the attachment Nova accepted is not listed".into(),
            }),
        }
    }

    pub(super) async fn delete_attachment(&self, body: &AttachmentSpec) -> Result<DeleteOutcome> {
        match self.observe_attachment(body).await? {
            Observation::Absent => Ok(DeleteOutcome::AlreadyAbsent),
            Observation::Present(o) if o.state == ResourceState::Deleting => {
                Ok(DeleteOutcome::InProgress)
            }
            Observation::Present(_) => {
                let started = self
                    .nova
                    .detach_volume(body.server.as_str(), body.volume.as_str())
                    .await?;
                Ok(if started {
                    DeleteOutcome::InProgress
                } else {
                    DeleteOutcome::AlreadyAbsent
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_volume_states() {
        assert_eq!(volume_state("creating"), ResourceState::Creating);
        assert_eq!(volume_state("available"), ResourceState::Ready);
        assert_eq!(volume_state("in-use"), ResourceState::Ready);
        assert_eq!(volume_state("extending"), ResourceState::Updating);
        assert_eq!(volume_state("deleting"), ResourceState::Deleting);
        assert_eq!(volume_state("error"), ResourceState::Failed);
        assert_eq!(volume_state("error_deleting"), ResourceState::Failed);
    }
}
