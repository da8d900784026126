//! Names and tags on EC2 resources: how the adapter finds what it created.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use nuage_provider::{ResourceMeta, TAG_REQUEST, TAG_RESOURCE, TAG_TENANT};

/// The `Name` tag EC2 consoles show.
pub(crate) const NAME_TAG: &str = "Name";

/// Tags put on a resource at creation: `Name` and the `nuage:*` identity tags.
pub(crate) fn tags(meta: &ResourceMeta) -> Vec<Tag> {
    std::iter::once((NAME_TAG.to_owned(), meta.name()))
        .chain(meta.tags())
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tag specification of a create call.
pub(crate) fn tag_spec(resource_type: ResourceType, meta: &ResourceMeta) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(tags(meta)))
        .build()
}

/// Server-side filters selecting a resource by identity. Results are still checked with
/// [`matches`], for endpoints that ignore some filters.
pub(crate) fn identity_filters(meta: &ResourceMeta) -> Vec<Filter> {
    [
        (TAG_TENANT, meta.tenant()),
        (TAG_REQUEST, meta.request()),
        (TAG_RESOURCE, meta.resource()),
    ]
    .into_iter()
    .map(|(k, v)| filter(&format!("tag:{k}"), [v]))
    .collect()
}

/// A describe filter.
pub(crate) fn filter<'a>(name: &str, values: impl IntoIterator<Item = &'a str>) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.into_iter().map(str::to_owned).collect()))
        .build()
}

/// Whether EC2 tags carry this identity.
pub(crate) fn matches(meta: &ResourceMeta, tags: &[Tag]) -> bool {
    meta.matches_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value()?))))
}
