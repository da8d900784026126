//! Nova (compute): microversion negotiation, flavors, servers, volume attachments.

mod types;
mod version;

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tokio::time::Instant;

pub use types::{CreateServer, Fault, Flavor, Server, ServerAddress, VolumeAttachment};
pub use version::{MAX as MAX_MICROVERSION, MIN as MIN_MICROVERSION, Microversion, negotiate};

use crate::auth::{Request, Session};
use crate::error::{Error, Result};
use crate::http::Reply;

const SERVICE: &str = "compute";

/// Nova client. The microversion is negotiated on first use and kept.
#[derive(Debug)]
pub struct Nova {
    session: Arc<Session>,
    version: OnceCell<Microversion>,
}

impl Nova {
    /// A client calling through `session`.
    pub fn new(session: Arc<Session>) -> Self {
        Nova {
            session,
            version: OnceCell::new(),
        }
    }

    /// The microversion used: the highest both Nova (from its version document) and this
    /// adapter speak.
    pub async fn microversion(&self) -> Result<Microversion> {
        self.version
            .get_or_try_init(|| async {
                let reply = self
                    .session
                    .send(Request::new(SERVICE, Method::GET, ""))
                    .await?;
                let chosen = reply.json::<version::VersionDoc>()?.negotiate()?;
                tracing::debug!(microversion = %chosen, "compute microversion negotiated");
                Ok(chosen)
            })
            .await
            .copied()
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Reply> {
        let version = self.microversion().await?;
        let mut request = Request::new(SERVICE, method, path);
        request.query = query;
        request.body = body;
        request.headers = vec![
            ("OpenStack-API-Version", format!("compute {version}")),
            ("X-OpenStack-Nova-API-Version", version.to_string()),
        ];
        self.session.send(request).await
    }

    /// Flavors visible to the project.
    pub async fn flavors(&self) -> Result<Vec<Flavor>> {
        #[derive(Deserialize)]
        struct Flavors {
            flavors: Vec<Flavor>,
        }
        let reply = self.call(Method::GET, "flavors/detail", &[], None).await?;
        Ok(reply.json::<Flavors>()?.flavors)
    }

    /// Servers whose name is exactly `name` (Nova filters by regular expression).
    pub async fn servers_named(&self, name: &str) -> Result<Vec<Server>> {
        #[derive(Deserialize)]
        struct Servers {
            servers: Vec<Server>,
        }
        let pattern = format!("^{}$", regex_escape(name));
        let reply = self
            .call(Method::GET, "servers/detail", &[("name", pattern)], None)
            .await?;
        let mut servers = reply.json::<Servers>()?.servers;
        servers.retain(|s| s.name == name);
        Ok(servers)
    }

    /// One server, `None` if Nova does not know it (any more).
    pub async fn server(&self, id: &str) -> Result<Option<Server>> {
        #[derive(Deserialize)]
        struct One {
            server: Server,
        }
        match self
            .call(Method::GET, &format!("servers/{id}"), &[], None)
            .await
        {
            Ok(reply) => Ok(Some(reply.json::<One>()?.server)),
            Err(e) if e.is_status(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Starts creating a server; returns its id (Nova answers 202 before it is built).
    pub async fn create_server(&self, server: &CreateServer) -> Result<String> {
        #[derive(Deserialize)]
        struct Created {
            server: IdOnly,
        }
        #[derive(Deserialize)]
        struct IdOnly {
            id: String,
        }
        let body = json!({ "server": server });
        let reply = self.call(Method::POST, "servers", &[], Some(&body)).await?;
        Ok(reply.json::<Created>()?.server.id)
    }

    /// Starts deleting a server. `false` if it was already gone.
    pub async fn delete_server(&self, id: &str) -> Result<bool> {
        match self
            .call(Method::DELETE, &format!("servers/{id}"), &[], None)
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_status(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Starts resizing a server to another flavor (it goes `RESIZE`, then `VERIFY_RESIZE`).
    pub async fn resize(&self, id: &str, flavor_ref: &str) -> Result<()> {
        let body = json!({ "resize": { "flavorRef": flavor_ref } });
        self.action(id, &body).await
    }

    /// Confirms a resize in `VERIFY_RESIZE` (the server then returns to `ACTIVE`).
    pub async fn confirm_resize(&self, id: &str) -> Result<()> {
        self.action(id, &json!({ "confirmResize": null })).await
    }

    async fn action(&self, id: &str, body: &Value) -> Result<()> {
        self.call(
            Method::POST,
            &format!("servers/{id}/action"),
            &[],
            Some(body),
        )
        .await
        .map(drop)
    }

    /// Polls a server until it is `ACTIVE` (returned) or `ERROR` ([`Error::Failed`] with
    /// Nova's fault message), at most `timeout`.
    pub async fn wait_active(
        &self,
        id: &str,
        timeout: Duration,
        interval: Duration,
    ) -> Result<Server> {
        let start = Instant::now();
        loop {
            match self.server(id).await? {
                Some(server) if server.status == "ACTIVE" => return Ok(server),
                Some(server) if server.status == "ERROR" => {
                    return Err(Error::Failed {
                        what: format!("server {}", server.name),
                        message: server
                            .fault_message()
                            .unwrap_or_else(|| "no fault given".to_owned()),
                        code: server.fault.as_ref().and_then(|f| f.code),
                    });
                }
                Some(_) => {}
                None => {
                    return Err(Error::NotFound(format!(
                        "server {id} vanished while waiting for it to be ACTIVE"
                    )));
                }
            }
            if start.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("server {id} ACTIVE"),
                    waited: start.elapsed(),
                });
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// Polls until Nova no longer knows the server, at most `timeout`. `true` when gone.
    pub async fn wait_gone(&self, id: &str, timeout: Duration, interval: Duration) -> Result<bool> {
        let start = Instant::now();
        loop {
            if self.server(id).await?.is_none() {
                return Ok(true);
            }
            if start.elapsed() >= timeout {
                return Ok(false);
            }
            tokio::time::sleep(interval).await;
        }
    }

    /// The volumes attached to a server; `None` if the server does not exist.
    pub async fn attachments(&self, server: &str) -> Result<Option<Vec<VolumeAttachment>>> {
        #[derive(Deserialize)]
        struct List {
            #[serde(rename = "volumeAttachments")]
            attachments: Vec<VolumeAttachment>,
        }
        match self
            .call(
                Method::GET,
                &format!("servers/{server}/os-volume_attachments"),
                &[],
                None,
            )
            .await
        {
            Ok(reply) => Ok(Some(reply.json::<List>()?.attachments)),
            Err(e) if e.is_status(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Attaches a volume (Nova asks Cinder); the attachment completes asynchronously.
    pub async fn attach_volume(
        &self,
        server: &str,
        volume: &str,
        device: Option<&str>,
    ) -> Result<VolumeAttachment> {
        #[derive(Deserialize)]
        struct One {
            #[serde(rename = "volumeAttachment")]
            attachment: VolumeAttachment,
        }
        let mut attachment = json!({ "volumeId": volume });
        if let Some(device) = device {
            attachment["device"] = json!(device);
        }
        let body = json!({ "volumeAttachment": attachment });
        let reply = self
            .call(
                Method::POST,
                &format!("servers/{server}/os-volume_attachments"),
                &[],
                Some(&body),
            )
            .await?;
        reply.json::<One>().map(|o| o.attachment)
    }

    /// Starts detaching a volume. `false` if it was not attached (or the server is gone).
    pub async fn detach_volume(&self, server: &str, volume: &str) -> Result<bool> {
        match self
            .call(
                Method::DELETE,
                &format!("servers/{server}/os-volume_attachments/{volume}"),
                &[],
                None,
            )
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.is_status(404) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Names of the availability zones that are up.
    pub async fn availability_zones(&self) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct Zones {
            #[serde(rename = "availabilityZoneInfo")]
            zones: Vec<Zone>,
        }
        #[derive(Deserialize)]
        struct Zone {
            #[serde(rename = "zoneName")]
            name: String,
            #[serde(rename = "zoneState")]
            state: ZoneState,
        }
        #[derive(Deserialize)]
        struct ZoneState {
            available: bool,
        }
        let reply = self
            .call(Method::GET, "os-availability-zone", &[], None)
            .await?;
        Ok(reply
            .json::<Zones>()?
            .zones
            .into_iter()
            .filter(|z| z.state.available)
            .map(|z| z.name)
            .collect())
    }
}

/// Escapes regular-expression metacharacters (Nova's `name` filter is a regex).
fn regex_escape(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_regex_metacharacters() {
        assert_eq!(regex_escape("nuage-0a-web"), "nuage-0a-web");
        assert_eq!(regex_escape("a.b*c"), "a\\.b\\*c");
    }

    #[test]
    fn reads_a_server_in_error() {
        let server: Server = serde_json::from_value(json!({
            "id": "s1", "name": "nuage-x-web", "status": "ERROR",
            "metadata": {"nuage:tenant": "t"},
            "addresses": {"net": [{"addr": "10.0.0.5", "version": 4, "OS-EXT-IPS:type": "fixed"}]},
            "fault": {"code": 500, "message": "No valid host was found. ", "created": "x"},
            "flavor": {"original_name": "m1.small", "vcpus": 1, "ram": 2048},
            "image": {"id": "img"},
            "OS-EXT-AZ:availability_zone": "nova",
            "OS-EXT-STS:task_state": null
        }))
        .unwrap();
        assert_eq!(server.flavor_name().as_deref(), Some("m1.small"));
        assert_eq!(server.image_id().as_deref(), Some("img"));
        assert_eq!(
            server.fault_message().as_deref(),
            Some("No valid host was found. ")
        );
        let volume_backed: Server =
            serde_json::from_value(json!({"id": "s", "name": "n", "status": "BUILD", "image": ""}))
                .unwrap();
        assert_eq!(volume_backed.image_id(), None);
    }
}
