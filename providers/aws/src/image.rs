//! OS names and versions to AMIs, by owner and name pattern, newest first.

use std::time::Duration;

use nuage_provider::{Error, ErrorKind, ImageRef, Result};
use tokio::time::Instant;

use crate::provider::AwsProvider;
use crate::tags::filter;

/// How long a resolved AMI is reused before asking again (new images are published often).
const CACHE_TTL: Duration = Duration::from_secs(3600);

/// The AMI id for an image, per the configured rules.
pub(crate) async fn resolve(p: &AwsProvider, image: &ImageRef) -> Result<String> {
    if let Some((ami, at)) = p
        .images
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(image)
        && at.elapsed() < CACHE_TTL
    {
        return Ok(ami.clone());
    }
    let rule = p
        .config
        .images
        .iter()
        .find(|r| r.matches(image))
        .ok_or_else(|| {
            Error::InvalidSpec(format!(
                "image {image} is not offered by {} (no image rule)",
                p.config.name
            ))
        })?;
    let out = p
        .client
        .describe_images()
        .set_owners(Some(rule.owners.clone()))
        .filters(filter("name", [rule.name.as_str()]))
        .filters(filter("state", ["available"]))
        .filters(filter("architecture", [rule.architecture.as_str()]))
        .send()
        .await
        .map_err(|e| p.err("DescribeImages", e))?;
    let newest = out
        .images()
        .iter()
        .filter(|i| i.image_id().is_some())
        .max_by(|a, b| (a.creation_date(), a.image_id()).cmp(&(b.creation_date(), b.image_id())))
        .and_then(|i| i.image_id())
        .ok_or_else(|| {
            Error::cloud(
                ErrorKind::Terminal,
                Some("ImageNotFound".to_owned()),
                format!(
                    "no available AMI named {:?} owned by {} for image {image}",
                    rule.name,
                    rule.owners.join(",")
                ),
            )
        })?
        .to_owned();
    p.images
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(image.clone(), (newest.clone(), Instant::now()));
    Ok(newest)
}
