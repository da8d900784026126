//! Volumes: libvirt storage volumes in a host's storage pool.
//!
//! A volume lives on one host (the pools are host-local): the host is chosen by rendezvous
//! hashing of the volume's name over the schedulable hosts (of the zone's site, when given), so
//! a re-create after a crash goes to the same host while it is up.

use nuage_provider::{
    DeleteOutcome, Drift, Error as ContractError, ErrorKind, Observation, Observed, Outputs,
    ResourceKind, ResourceState, VolumeSpec as ContractVolume,
};

use super::LibvirtProvider;
use crate::error::Error;
use crate::ids::volume_id;
use crate::link::ops;
use crate::xml::{VolumeDescription, VolumeFormat, VolumeSpec, volume_xml};

/// How many hosts a create tries when hosts fail under it.
const HOST_ATTEMPTS: usize = 3;

fn rendezvous(volume: &str, host: &str) -> u64 {
    nuage_provider::stable_hash(&[volume, host])
}

impl LibvirtProvider {
    async fn volume_copies(&self, name: &str) -> crate::Result<Vec<(usize, VolumeDescription)>> {
        let mut out = Vec::new();
        // Storage pools differ per host: one lookup per host, run in parallel.
        let mut set = tokio::task::JoinSet::new();
        for i in self.healthy() {
            let (pool, owned) = (self.hosts[i].storage_pool.clone(), name.to_owned());
            let link = std::sync::Arc::clone(&self.links[i]);
            set.spawn(async move {
                (
                    i,
                    link.call("lookup volume", move |c| ops::find_volume(c, &pool, &owned))
                        .await,
                )
            });
        }
        while let Some(joined) = set.join_next().await {
            let (i, result) = joined.map_err(|e| Error::Worker(e.to_string()))?;
            match result {
                Ok(Some(v)) => out.push((i, v)),
                Ok(None) => {}
                Err(e @ (Error::HostUnavailable { .. } | Error::Timeout { .. })) => {
                    let _ = self
                        .pool()
                        .mark_unhealthy(&self.hosts[i].name, e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        out.sort_by_key(|(i, _)| *i);
        Ok(out)
    }

    fn volume_observed(
        &self,
        copies: &[(usize, VolumeDescription)],
        want_gib: Option<u32>,
    ) -> Observed {
        let (i, v) = &copies[0];
        let host = &self.hosts[*i];
        let gib = u32::try_from(v.capacity_bytes >> 30).unwrap_or(u32::MAX);
        let mut drift = Vec::new();
        if let Some(want) = want_gib
            && want != gib
        {
            drift.push(Drift::new("size_gib", want, gib));
        }
        let mut outputs = Outputs {
            host: Some(host.name.clone()),
            zone: host.labels.site.clone(),
            size_gib: Some(gib),
            ..Outputs::default()
        };
        if let Some(path) = &v.path {
            outputs.extra.insert("path".into(), path.clone());
        }
        Observed {
            kind: ResourceKind::Volume,
            cloud_id: volume_id(&host.name, &host.storage_pool, &v.name),
            state: ResourceState::Ready,
            native_state: "available".into(),
            drift,
            outputs,
            message: None,
            duplicates: copies[1..]
                .iter()
                .map(|(j, d)| {
                    volume_id(&self.hosts[*j].name, &self.hosts[*j].storage_pool, &d.name)
                })
                .collect(),
            simulated: self.simulated(*i),
        }
    }

    pub(super) async fn observe_volume(
        &self,
        v: &ContractVolume,
        name: &str,
    ) -> nuage_provider::Result<Observation> {
        let copies = self.volume_copies(name).await?;
        Ok(if copies.is_empty() {
            Observation::Absent
        } else {
            Observation::Present(self.volume_observed(&copies, Some(v.size_gib)))
        })
    }

    pub(super) async fn create_volume(
        &self,
        v: &ContractVolume,
        name: &str,
    ) -> nuage_provider::Result<Observed> {
        let copies = self.volume_copies(name).await?;
        if !copies.is_empty() {
            return Ok(self.volume_observed(&copies, Some(v.size_gib)));
        }
        let xml = volume_xml(&VolumeSpec {
            name: name.to_owned(),
            capacity_bytes: u64::from(v.size_gib) << 30,
            format: VolumeFormat::Qcow2,
            backing_path: None,
        })?;
        let mut candidates: Vec<usize> = {
            let pool = self.pool();
            pool.hosts()
                .iter()
                .enumerate()
                .filter(|(_, h)| h.schedulable())
                .filter(|(_, h)| {
                    v.zone.is_none() || h.config().labels.site.as_ref() == v.zone.as_ref()
                })
                .map(|(i, _)| i)
                .collect()
        };
        candidates.sort_by_key(|&i| std::cmp::Reverse(rendezvous(name, &self.hosts[i].name)));
        let mut last = None;
        for i in candidates.into_iter().take(HOST_ATTEMPTS) {
            let (pool, owned, xml) = (
                self.hosts[i].storage_pool.clone(),
                name.to_owned(),
                xml.clone(),
            );
            match self
                .on_host(i, "create volume", move |c| {
                    ops::create_volume(c, &pool, &owned, &xml)
                })
                .await
            {
                Ok(desc) => return Ok(self.volume_observed(&[(i, desc)], Some(v.size_gib))),
                Err(e @ (Error::HostUnavailable { .. } | Error::Timeout { .. })) => last = Some(e),
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || {
                ContractError::cloud(
                    ErrorKind::Capacity,
                    None,
                    "no schedulable libvirt host for the volume",
                )
            },
            Into::into,
        ))
    }

    pub(super) async fn delete_volume(&self, name: &str) -> nuage_provider::Result<DeleteOutcome> {
        let copies = self.volume_copies(name).await?;
        for (i, _) in &copies {
            let (pool, owned) = (self.hosts[*i].storage_pool.clone(), name.to_owned());
            self.on_host(*i, "delete volume", move |c| {
                ops::delete_volume(c, &pool, &owned)
            })
            .await?;
        }
        Ok(if copies.is_empty() {
            DeleteOutcome::AlreadyAbsent
        } else {
            DeleteOutcome::Deleted
        })
    }
}
