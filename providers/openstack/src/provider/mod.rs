//! The provider contract on OpenStack: [`OpenStackProvider`].

mod identity;
mod network;
mod security_group;
mod server;
mod volume;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use nuage_provider::{
    Capabilities, DeleteOutcome, ImageInfo, ImageRef, Observation, Observed, ProviderDescriptor,
    ProviderKind, ResourceKind, ResourceSpec, SpecBody,
};
use tokio::sync::Mutex;

use crate::compute::{Flavor, Nova};
use crate::config::OpenStackConfig;
use crate::error::{Error, Result};
use crate::image::Glance;
use crate::network::Neutron;
use crate::volume::Cinder;
use crate::{Session, auth};

/// An OpenStack cloud behind the provider contract. Share it as `Arc<dyn Provider>`.
#[derive(Debug)]
pub struct OpenStackProvider {
    descriptor: ProviderDescriptor,
    config: OpenStackConfig,
    session: Arc<Session>,
    nova: Nova,
    neutron: Neutron,
    glance: Glance,
    cinder: Cinder,
    flavors: Mutex<Option<(Instant, Arc<Vec<Flavor>>)>>,
}

impl OpenStackProvider {
    /// An adapter for this configuration. Resolves secret references now; calls nothing
    /// until first used.
    pub fn new(config: OpenStackConfig) -> Result<Self> {
        let session = Arc::new(auth::Session::new(&config)?);
        Ok(OpenStackProvider {
            descriptor: ProviderDescriptor {
                kind: ProviderKind::Openstack,
                instance: config.instance.clone(),
                simulated: false,
            },
            nova: Nova::new(session.clone()),
            neutron: Neutron::new(session.clone()),
            glance: Glance::new(session.clone()),
            cinder: Cinder::new(session.clone()),
            session,
            config,
            flavors: Mutex::new(None),
        })
    }

    /// The Keystone session.
    pub fn session(&self) -> &Arc<Session> {
        &self.session
    }

    /// The Nova client.
    pub fn nova(&self) -> &Nova {
        &self.nova
    }

    /// The Neutron client.
    pub fn neutron(&self) -> &Neutron {
        &self.neutron
    }

    /// The Glance client.
    pub fn glance(&self) -> &Glance {
        &self.glance
    }

    /// The Cinder client.
    pub fn cinder(&self) -> &Cinder {
        &self.cinder
    }

    /// Nova's flavors, cached for `catalog_ttl`.
    async fn flavors(&self) -> Result<Arc<Vec<Flavor>>> {
        let mut cached = self.flavors.lock().await;
        if let Some((at, flavors)) = cached.as_ref()
            && at.elapsed() < self.config.catalog_ttl
        {
            return Ok(flavors.clone());
        }
        let flavors = Arc::new(self.nova.flavors().await?);
        *cached = Some((Instant::now(), flavors.clone()));
        Ok(flavors)
    }

    async fn observe_inner(&self, spec: &ResourceSpec) -> Result<Observation> {
        match &spec.body {
            SpecBody::Network(_) => self.observe_network(spec).await,
            SpecBody::Subnet(b) => self.observe_subnet(spec, b).await,
            SpecBody::SecurityGroup(b) => self.observe_security_group(spec, b).await,
            SpecBody::Server(b) => self.observe_server(spec, b).await,
            SpecBody::Volume(b) => self.observe_volume(spec, b).await,
            SpecBody::Attachment(b) => self.observe_attachment(b).await,
        }
    }

    /// Observes a resource that must exist (right after creating or changing it).
    async fn present(&self, spec: &ResourceSpec) -> Result<Observed> {
        self.observe_inner(spec)
            .await?
            .into_present()
            .ok_or_else(|| absent_error(spec))
    }

    fn check(&self, spec: &ResourceSpec) -> nuage_provider::Result<()> {
        spec.validate()?;
        if let SpecBody::Server(s) = &spec.body
            && s.dedicated
        {
            return Err(nuage_provider::Error::Unsupported(
                "dedicated hardware (use the libvirt provider)".into(),
            ));
        }
        Ok(())
    }

    async fn capabilities_inner(&self) -> Result<Capabilities> {
        let flavors = self.flavors().await?;
        let zones = self.nova.availability_zones().await?;
        let images = self.glance.list(&[("status", "active".to_owned())]).await?;
        let mut seen = BTreeSet::new();
        let images = images
            .into_iter()
            .filter_map(|i| {
                let image = ImageRef::new(i.os_distro?.to_ascii_lowercase(), i.os_version?);
                seen.insert(image.clone()).then_some(ImageInfo {
                    image,
                    native_id: Some(i.id),
                })
            })
            .collect();
        let region = match &self.config.region {
            Some(region) => vec![region.clone()],
            None => Vec::new(),
        };
        let mut flavor_list: Vec<nuage_provider::Flavor> = flavors
            .iter()
            .filter(|f| f.is_public)
            .map(|f| nuage_provider::Flavor::new(&f.name, f.vcpus, f.ram))
            .collect();
        flavor_list.sort_by_key(|f| (f.vcpus, f.ram_mib));
        let mut zones = zones;
        if let Some(default) = &self.config.default_zone
            && let Some(pos) = zones.iter().position(|z| z == default)
        {
            let z = zones.remove(pos);
            zones.insert(0, z);
        }
        Ok(Capabilities {
            kinds: ResourceKind::ALL.into_iter().collect(),
            regions: region,
            zones,
            flavors: flavor_list,
            images,
            dedicated: false,
            simulated: false,
        })
    }
}

/// The error of `update` on a resource that does not exist.
fn absent_error(spec: &ResourceSpec) -> Error {
    Error::NotFound(format!("{} {} does not exist", spec.kind(), spec.meta))
}

#[async_trait]
impl nuage_provider::Provider for OpenStackProvider {
    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    async fn capabilities(&self) -> nuage_provider::Result<Capabilities> {
        Ok(self.capabilities_inner().await?)
    }

    async fn observe(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observation> {
        self.check(spec)?;
        Ok(self.observe_inner(spec).await?)
    }

    async fn create(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observed> {
        self.check(spec)?;
        let observed = match &spec.body {
            SpecBody::Network(b) => self.create_network(spec, b).await,
            SpecBody::Subnet(b) => self.create_subnet(spec, b).await,
            SpecBody::SecurityGroup(b) => self.create_security_group(spec, b).await,
            SpecBody::Server(b) => self.create_server(spec, b).await,
            SpecBody::Volume(b) => self.create_volume(spec, b).await,
            SpecBody::Attachment(b) => self.create_attachment(b).await,
        }?;
        Ok(observed)
    }

    async fn update(&self, spec: &ResourceSpec) -> nuage_provider::Result<Observed> {
        self.check(spec)?;
        let observed = match &spec.body {
            SpecBody::SecurityGroup(b) => self.update_security_group(spec, b).await,
            SpecBody::Server(b) => self.update_server(spec, b).await,
            SpecBody::Volume(b) => self.update_volume(spec, b).await,
            SpecBody::Subnet(_) => {
                let current = self.present(spec).await?;
                if let Some(d) = current.drift.first() {
                    return Err(nuage_provider::Error::InvalidSpec(format!(
                        "{}: a subnet's {} cannot change in place",
                        spec.meta, d.field
                    )));
                }
                Ok(current)
            }
            SpecBody::Network(_) | SpecBody::Attachment(_) => self.present(spec).await,
        }?;
        Ok(observed)
    }

    async fn delete(&self, spec: &ResourceSpec) -> nuage_provider::Result<DeleteOutcome> {
        self.check(spec)?;
        let outcome = match &spec.body {
            SpecBody::Network(_) => self.delete_network(spec).await,
            SpecBody::Subnet(_) => self.delete_subnet(spec).await,
            SpecBody::SecurityGroup(_) => self.delete_security_group(spec).await,
            SpecBody::Server(_) => self.delete_server(spec).await,
            SpecBody::Volume(_) => self.delete_volume(spec).await,
            SpecBody::Attachment(b) => self.delete_attachment(b).await,
        }?;
        Ok(outcome)
    }
}
