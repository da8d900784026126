//! EC2 Dedicated Hosts: one per dedicated server, allocated before it and released after it.

use aws_sdk_ec2::types::{AutoPlacement, Host, ResourceType};
use nuage_provider::{ErrorKind, ResourceMeta, Result, TAG_REQUEST};

use crate::provider::AwsProvider;
use crate::tags;

/// Hosts carrying this identity that are not released. Filtered on the request tag's key
/// server-side (moto ignores `tag:` filters on hosts) and on the full identity here.
pub(crate) async fn find(p: &AwsProvider, meta: &ResourceMeta) -> Result<Vec<Host>> {
    let out = p
        .client
        .describe_hosts()
        .filter(tags::filter("tag-key", [TAG_REQUEST]))
        .send()
        .await
        .map_err(|e| p.err("DescribeHosts", e))?;
    let mut hosts: Vec<Host> = out
        .hosts()
        .iter()
        .filter(|h| tags::matches(meta, h.tags()))
        .filter(|h| {
            h.state()
                .is_none_or(|s| !matches!(s.as_str(), "released" | "released-permanent-failure"))
        })
        .cloned()
        .collect();
    hosts.sort_by(|a, b| {
        (a.allocation_time(), a.host_id()).cmp(&(b.allocation_time(), b.host_id()))
    });
    Ok(hosts)
}

/// The host of this server identity, allocated if none exists yet.
pub(crate) async fn ensure(
    p: &AwsProvider,
    meta: &ResourceMeta,
    instance_type: &str,
    zone: &str,
) -> Result<String> {
    if let Some(id) = find(p, meta).await?.iter().find_map(|h| h.host_id()) {
        return Ok(id.to_owned());
    }
    let out = p
        .client
        .allocate_hosts()
        .availability_zone(zone)
        .instance_type(instance_type)
        .quantity(1)
        .auto_placement(AutoPlacement::Off)
        .client_token(meta.idempotency_token("allocate-hosts"))
        .tag_specifications(tags::tag_spec(ResourceType::DedicatedHost, meta))
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("AllocateHosts", e))?;
    out.host_ids().first().cloned().ok_or_else(|| {
        nuage_provider::Error::cloud(
            ErrorKind::Capacity,
            None,
            format!("AllocateHosts gave no {instance_type} host in {zone}"),
        )
    })
}

/// Releases every host of this identity; returns how many were released.
pub(crate) async fn release(p: &AwsProvider, meta: &ResourceMeta) -> Result<usize> {
    let ids: Vec<String> = find(p, meta)
        .await?
        .iter()
        .filter_map(|h| h.host_id().map(str::to_owned))
        .collect();
    if ids.is_empty() {
        return Ok(0);
    }
    let out = p
        .client
        .release_hosts()
        .set_host_ids(Some(ids.clone()))
        .send()
        .await
        .map_err(|e| p.err("ReleaseHosts", e))?;
    if let Some(failed) = out.unsuccessful().first() {
        let code = failed.error().and_then(|e| e.code()).map(str::to_owned);
        let message = failed
            .error()
            .and_then(|e| e.message())
            .unwrap_or("release refused");
        let kind = crate::error::classify(code.as_deref(), None, p.config.throttle_retry_after);
        return Err(nuage_provider::Error::cloud(
            kind,
            code,
            format!(
                "ReleaseHosts {}: {message}",
                failed.resource_id().unwrap_or("?")
            ),
        ));
    }
    Ok(ids.len())
}
