//! Naming and tagging: how any adapter names what it creates and finds it again.
//!
//! Every resource belongs to a tenant and a service request, and has a logical name inside the
//! request (`web-0`, `data`, `net`). From these three an adapter derives:
//! - a deterministic cloud name, `nuage-<10 hex>-<resource>` (at most 57 characters, valid as a
//!   DNS label, an EC2 `Name` tag, an OpenStack name and a libvirt domain name), where the hex is
//!   a stable hash of tenant and request;
//! - tags (`nuage:tenant`, `nuage:request`, `nuage:resource`, `nuage:managed=true`) put on the
//!   resource wherever the cloud has tags or metadata, so a lookup after a crash finds it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Tag holding the tenant id.
pub const TAG_TENANT: &str = "nuage:tenant";
/// Tag holding the service request id.
pub const TAG_REQUEST: &str = "nuage:request";
/// Tag holding the logical resource name within the request.
pub const TAG_RESOURCE: &str = "nuage:resource";
/// Tag marking a resource as created by Nuage; its value is always `true`.
pub const TAG_MANAGED: &str = "nuage:managed";
/// Prefix of every cloud name Nuage gives.
pub const NAME_PREFIX: &str = "nuage-";
/// Longest logical resource name accepted.
pub const MAX_RESOURCE_LEN: usize = 40;
/// Longest tenant or request id accepted.
pub const MAX_ID_LEN: usize = 128;

/// The identity of a resource: tenant, request and logical name. Validated on construction and
/// on deserialization, so every instance yields a valid cloud name and tags.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "RawMeta")]
pub struct ResourceMeta {
    tenant: String,
    request: String,
    resource: String,
}

#[derive(Deserialize)]
struct RawMeta {
    tenant: String,
    request: String,
    resource: String,
}

impl TryFrom<RawMeta> for ResourceMeta {
    type Error = Error;

    fn try_from(raw: RawMeta) -> Result<Self> {
        ResourceMeta::new(raw.tenant, raw.request, raw.resource)
    }
}

impl ResourceMeta {
    /// Builds an identity. `tenant` and `request` are 1 to 128 characters among ASCII letters,
    /// digits and `. _ : @ -`; `resource` is 1 to 40 lowercase letters, digits and `-`, starting
    /// and ending with a letter or digit.
    pub fn new(
        tenant: impl Into<String>,
        request: impl Into<String>,
        resource: impl Into<String>,
    ) -> Result<Self> {
        let (tenant, request, resource) = (tenant.into(), request.into(), resource.into());
        check_id("tenant", &tenant)?;
        check_id("request", &request)?;
        check_resource(&resource)?;
        Ok(ResourceMeta {
            tenant,
            request,
            resource,
        })
    }

    /// The tenant id.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The service request id.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The logical resource name within the request.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// Ten hex characters identifying the (tenant, request) pair, stable across releases.
    pub fn request_short(&self) -> String {
        let hash = stable_hash(&[&self.tenant, &self.request]);
        format!("{:010x}", hash >> 24)
    }

    /// The deterministic cloud name: `nuage-<request_short>-<resource>`.
    pub fn name(&self) -> String {
        format!("{NAME_PREFIX}{}-{}", self.request_short(), self.resource)
    }

    /// The tags every adapter puts on what it creates, sorted by key.
    pub fn tags(&self) -> BTreeMap<String, String> {
        BTreeMap::from([
            (TAG_TENANT.to_owned(), self.tenant.clone()),
            (TAG_REQUEST.to_owned(), self.request.clone()),
            (TAG_RESOURCE.to_owned(), self.resource.clone()),
            (TAG_MANAGED.to_owned(), "true".to_owned()),
        ])
    }

    /// Whether a set of cloud tags designates this resource (the three identity tags match).
    pub fn matches_tags<'a>(&self, tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> bool {
        let (mut t, mut q, mut r) = (false, false, false);
        for (key, value) in tags {
            match key {
                TAG_TENANT => t = value == self.tenant,
                TAG_REQUEST => q = value == self.request,
                TAG_RESOURCE => r = value == self.resource,
                _ => {}
            }
        }
        t && q && r
    }

    /// Rebuilds the identity from cloud tags, if they carry a valid one.
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Option<Self> {
        let (mut t, mut q, mut r) = (None, None, None);
        for (key, value) in tags {
            match key {
                TAG_TENANT => t = Some(value),
                TAG_REQUEST => q = Some(value),
                TAG_RESOURCE => r = Some(value),
                _ => {}
            }
        }
        ResourceMeta::new(t?, q?, r?).ok()
    }

    /// A deterministic idempotency token for this resource (at most 64 ASCII characters, as
    /// EC2's `ClientToken` requires). `salt` separates tokens of different calls or incarnations.
    pub fn idempotency_token(&self, salt: &str) -> String {
        let a = stable_hash(&[&self.tenant, &self.request, &self.resource, salt]);
        let b = stable_hash(&[salt, &self.resource, &self.request, &self.tenant]);
        format!("nuage-{a:016x}{b:016x}")
    }
}

impl fmt::Display for ResourceMeta {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.tenant, self.request, self.resource)
    }
}

/// A stable 64-bit hash (FNV-1a) of a sequence of strings, each followed by a zero byte so that
/// `["ab", "c"]` and `["a", "bc"]` differ. Its output never changes between releases: names and
/// tokens derived from it stay valid.
pub fn stable_hash(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

fn check_id(what: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > MAX_ID_LEN {
        return Err(Error::InvalidSpec(format!(
            "{what} id must be 1 to {MAX_ID_LEN} characters, got {}",
            value.len()
        )));
    }
    if let Some(c) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-')))
    {
        return Err(Error::InvalidSpec(format!(
            "{what} id {value:?} contains {c:?}; allowed: ASCII letters, digits and . _ : @ -"
        )));
    }
    Ok(())
}

fn check_resource(value: &str) -> Result<()> {
    let valid_chars = value
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let valid_ends = value.starts_with(|c: char| c.is_ascii_alphanumeric())
        && value.ends_with(|c: char| c.is_ascii_alphanumeric());
    if value.is_empty() || value.len() > MAX_RESOURCE_LEN || !valid_chars || !valid_ends {
        return Err(Error::InvalidSpec(format!(
            "resource name {value:?} must be 1 to {MAX_RESOURCE_LEN} lowercase letters, digits \
             and '-', starting and ending with a letter or digit"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> ResourceMeta {
        ResourceMeta::new(
            "min-interieur",
            "0196a1f2-7c3e-7aa0-9d41-3f1e2b4c5d6e",
            "web-0",
        )
        .unwrap()
    }

    #[test]
    fn name_is_deterministic_and_bounded() {
        let m = meta();
        assert_eq!(m.name(), meta().name());
        assert!(m.name().starts_with("nuage-"));
        assert!(m.name().ends_with("-web-0"));
        assert_eq!(m.request_short().len(), 10);
        let long = ResourceMeta::new("t", "r", "a".repeat(MAX_RESOURCE_LEN)).unwrap();
        assert_eq!(long.name().len(), 57);
    }

    #[test]
    fn different_requests_give_different_names() {
        let a = ResourceMeta::new("t", "req-1", "web").unwrap();
        let b = ResourceMeta::new("t", "req-2", "web").unwrap();
        let c = ResourceMeta::new("u", "req-1", "web").unwrap();
        assert_ne!(a.name(), b.name());
        assert_ne!(a.name(), c.name());
    }

    #[test]
    fn stable_hash_is_pinned() {
        // Names already given in clouds depend on this value: it must never change.
        assert_eq!(stable_hash(&[]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(meta().request_short(), meta().request_short());
        assert_ne!(stable_hash(&["ab", "c"]), stable_hash(&["a", "bc"]));
        let pinned = ResourceMeta::new("t", "r", "x").unwrap();
        assert_eq!(
            pinned.request_short(),
            format!("{:010x}", stable_hash(&["t", "r"]) >> 24)
        );
    }

    #[test]
    fn tags_round_trip() {
        let m = meta();
        let tags = m.tags();
        assert_eq!(tags[TAG_MANAGED], "true");
        let pairs = tags.iter().map(|(k, v)| (k.as_str(), v.as_str()));
        assert!(m.matches_tags(pairs.clone()));
        assert_eq!(ResourceMeta::from_tags(pairs), Some(m.clone()));
        let other = ResourceMeta::new("min-interieur", m.request(), "web-1").unwrap();
        assert!(!other.matches_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
    }

    #[test]
    fn bad_names_are_refused() {
        for bad in ["", "Web", "-web", "web-", "web_0", "w b"] {
            assert!(
                ResourceMeta::new("t", "r", bad).is_err(),
                "{bad:?} accepted"
            );
        }
        assert!(ResourceMeta::new("t", "r", "a".repeat(MAX_RESOURCE_LEN + 1)).is_err());
        assert!(ResourceMeta::new("", "r", "web").is_err());
        assert!(ResourceMeta::new("t t", "r", "web").is_err());
        assert!(ResourceMeta::new("t", "r/1", "web").is_err());
        let err = ResourceMeta::new("t", "r", "Web").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Terminal);
    }

    #[test]
    fn deserialization_validates() {
        let ok: ResourceMeta =
            serde_json::from_str(r#"{"tenant":"t","request":"r","resource":"web"}"#).unwrap();
        assert_eq!(ok.resource(), "web");
        let bad = serde_json::from_str::<ResourceMeta>(
            r#"{"tenant":"t","request":"r","resource":"WEB"}"#,
        );
        assert!(bad.is_err());
    }

    #[test]
    fn tokens_are_short_deterministic_and_salted() {
        let m = meta();
        let t = m.idempotency_token("run-instances");
        assert!(t.len() <= 64);
        assert_eq!(t, m.idempotency_token("run-instances"));
        assert_ne!(t, m.idempotency_token("create-volume"));
    }
}
