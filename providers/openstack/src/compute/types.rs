//! Nova's resources as the API returns them (only the fields the adapter reads).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A flavor (`GET /flavors/detail`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Flavor {
    /// Id (`flavorRef`).
    pub id: String,
    /// Name.
    pub name: String,
    /// Virtual CPUs.
    pub vcpus: u32,
    /// Memory in MiB.
    pub ram: u64,
    /// Root disk in GiB.
    #[serde(default)]
    pub disk: u64,
    /// Whether every project may use it.
    #[serde(rename = "os-flavor-access:is_public", default = "yes")]
    pub is_public: bool,
}

fn yes() -> bool {
    true
}

/// A server (`GET /servers/{id}`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Server {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `BUILD`, `ACTIVE`, `ERROR`, `SHUTOFF`, `DELETED`...
    pub status: String,
    /// Key/value metadata (the `nuage:*` identity tags).
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    /// Addresses by network name.
    #[serde(default)]
    pub addresses: BTreeMap<String, Vec<ServerAddress>>,
    /// Why it is in `ERROR`.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// The flavor: `{"id"}` before 2.47, `{"original_name", "vcpus", "ram"...}` since.
    #[serde(default)]
    pub flavor: Value,
    /// The image: `{"id"}`, or `""` for a volume-backed server.
    #[serde(default)]
    pub image: Value,
    /// Availability zone.
    #[serde(rename = "OS-EXT-AZ:availability_zone", default)]
    pub availability_zone: Option<String>,
    /// Task in progress (`spawning`, `deleting`...).
    #[serde(rename = "OS-EXT-STS:task_state", default)]
    pub task_state: Option<String>,
}

impl Server {
    /// The flavor's name (2.47+) or id.
    pub fn flavor_name(&self) -> Option<String> {
        self.flavor
            .get("original_name")
            .or_else(|| self.flavor.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The image id, unless volume-backed.
    pub fn image_id(&self) -> Option<String> {
        self.image
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// The fault message, if any.
    pub fn fault_message(&self) -> Option<String> {
        self.fault.as_ref().map(|f| {
            if f.message.is_empty() {
                format!("fault {}", f.code.unwrap_or_default())
            } else {
                f.message.clone()
            }
        })
    }
}

/// An address of a server.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ServerAddress {
    /// The address.
    pub addr: String,
    /// 4 or 6.
    #[serde(default)]
    pub version: u8,
    /// `fixed` or `floating`.
    #[serde(rename = "OS-EXT-IPS:type", default)]
    pub kind: Option<String>,
}

/// Why a server failed.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct Fault {
    /// HTTP-like code (500, 413 for the conductor's quota recheck).
    #[serde(default)]
    pub code: Option<u16>,
    /// Message.
    #[serde(default)]
    pub message: String,
}

/// The body of `POST /servers`.
#[derive(Clone, Debug, Serialize)]
pub struct CreateServer {
    /// Name.
    pub name: String,
    /// Flavor id (or name: Nova resolves both).
    #[serde(rename = "flavorRef")]
    pub flavor_ref: String,
    /// Image id.
    #[serde(rename = "imageRef")]
    pub image_ref: String,
    /// Networks: `[{"port": id}]` or `[{"uuid": id}]`.
    pub networks: Vec<Value>,
    /// Key/value metadata.
    pub metadata: BTreeMap<String, String>,
    /// Security groups by name or id (only with `uuid` networks; ports carry their own).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_groups: Vec<Value>,
    /// Availability zone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub availability_zone: Option<String>,
    /// Base64 user data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

/// A volume attachment (`GET /servers/{id}/os-volume_attachments`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct VolumeAttachment {
    /// The volume's id (the attachment's id before 2.89).
    #[serde(rename = "volumeId")]
    pub volume_id: String,
    /// The server's id.
    #[serde(rename = "serverId", default)]
    pub server_id: Option<String>,
    /// Device name.
    #[serde(default)]
    pub device: Option<String>,
    /// Cinder attachment id (2.89+).
    #[serde(default)]
    pub attachment_id: Option<String>,
}
