//! Cinder (block storage): volumes. Attachments go through Nova ([`crate::Nova`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Request, Session};
use crate::error::Result;
use crate::http::Reply;

const SERVICE: &str = "volumev3";
/// The block-storage microversion used: 3.42 extends attached volumes (Cinder 12+).
pub const VOLUME_MICROVERSION: &str = "3.42";

/// A volume.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Volume {
    /// Id.
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// `creating`, `available`, `reserved`, `attaching`, `in-use`, `detaching`, `extending`,
    /// `deleting`, `error`, `error_deleting`...
    pub status: String,
    /// Size in GiB.
    pub size: u32,
    /// Key/value metadata (the `nuage:*` identity tags).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Availability zone.
    #[serde(default)]
    pub availability_zone: Option<String>,
    /// Volume type.
    #[serde(default)]
    pub volume_type: Option<String>,
    /// Attachments (server ids and devices).
    #[serde(default)]
    pub attachments: Vec<VolumeAttachmentRef>,
}

/// An attachment as Cinder lists it on the volume.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct VolumeAttachmentRef {
    /// Server id.
    #[serde(default)]
    pub server_id: Option<String>,
    /// Device.
    #[serde(default)]
    pub device: Option<String>,
}

/// What to create.
#[derive(Clone, Debug)]
pub struct CreateVolume {
    /// Name.
    pub name: String,
    /// Size in GiB.
    pub size_gib: u32,
    /// Metadata.
    pub metadata: BTreeMap<String, String>,
    /// Availability zone.
    pub zone: Option<String>,
    /// Volume type.
    pub volume_type: Option<String>,
}

/// Cinder client.
#[derive(Debug)]
pub struct Cinder {
    session: Arc<Session>,
}

impl Cinder {
    /// A client calling through `session`.
    pub fn new(session: Arc<Session>) -> Self {
        Cinder { session }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply> {
        let mut request = Request::new(SERVICE, method, path);
        request.query = query;
        request.body = body;
        request.headers = vec![(
            "OpenStack-API-Version",
            format!("volume {VOLUME_MICROVERSION}"),
        )];
        self.session.send(request).await
    }

    /// Volumes with exactly this name.
    pub async fn volumes_named(&self, name: &str) -> Result<Vec<Volume>> {
        #[derive(Deserialize)]
        struct List {
            volumes: Vec<Volume>,
        }
        let reply = self
            .call(
                Method::GET,
                "volumes/detail",
                &[("name", name.to_owned())],
                None,
            )
            .await?;
        let mut volumes = reply.json::<List>()?.volumes;
        volumes.retain(|v| v.name.as_deref() == Some(name));
        Ok(volumes)
    }

    /// One volume, `None` if Cinder does not know it.
    pub async fn volume(&self, id: &str) -> Result<Option<Volume>> {
        #[derive(Deserialize)]
        struct One {
            volume: Volume,
        }
        match self
            .call(Method::GET, &format!("volumes/{id}"), &[], None)
            .await
        {
            Ok(reply) => Ok(Some(reply.json::<One>()?.volume)),
            Err(e) if e.is_status(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts creating a volume.
    pub async fn create(&self, volume: &CreateVolume) -> Result<Volume> {
        #[derive(Deserialize)]
        struct One {
            volume: Volume,
        }
        let mut body = json!({
            "name": volume.name,
            "size": volume.size_gib,
            "metadata": volume.metadata,
        });
        if let Some(zone) = &volume.zone {
            body["availability_zone"] = json!(zone);
        }
        if let Some(volume_type) = &volume.volume_type {
            body["volume_type"] = json!(volume_type);
        }
        let body = json!({ "volume": body });
        let reply = self.call(Method::POST, "volumes", &[], Some(&body)).await?;
        Ok(reply.json::<One>()?.volume)
    }

    /// Starts deleting a volume. `false` if it was already gone.
    pub async fn delete(&self, id: &str) -> Result<bool> {
        match self
            .call(Method::DELETE, &format!("volumes/{id}"), &[], None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_status(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Grows a volume (attached ones too).
    pub async fn extend(&self, id: &str, new_size_gib: u32) -> Result<()> {
        let body = json!({ "os-extend": { "new_size": new_size_gib } });
        self.call(
            Method::POST,
            &format!("volumes/{id}/action"),
            &[],
            Some(&body),
        )
        .await
        .map(drop)
    }
}
