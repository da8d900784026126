//! What a request left in moto, counted by its `nuage:request` tag straight from the EC2 API.

use nuage_provider_aws::AwsProvider;
use nuage_provider_aws::testing::MotoServer;

/// The `providers:` configuration binding `aws-eu-west-3` to an EC2 endpoint (moto or a proxy
/// in front of it).
pub(crate) fn ec2_provider(endpoint: &str) -> String {
    format!(
        "providers:\n  aws-eu-west-3:\n    adapter: ec2\n    region: eu-west-3\n    endpoint: {endpoint}\n    \
         credentials: {{source: static, access_key_id: AKIANUAGETESTING0001, secret_access_key: nuage-moto-test-secret}}\n    \
         retry: {{max_attempts: 3, initial_backoff_ms: 10}}\n    \
         timeouts: {{connect_ms: 2000, attempt_ms: 10000, operation_ms: 30000}}\n    \
         wait: {{timeout_ms: 30000, min_delay_ms: 20, max_delay_ms: 200}}\n    \
         throttle_retry_after_ms: 200\n"
    )
}

/// Resources of one request in the cloud (instances that are not terminated).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Inventory {
    pub(crate) vpcs: usize,
    pub(crate) subnets: usize,
    pub(crate) security_groups: usize,
    pub(crate) instances: usize,
    pub(crate) volumes: usize,
    pub(crate) attachments: usize,
}

fn tagged<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>, request: &str) -> bool {
    tags.into_iter()
        .any(|(k, v)| k == nuage_provider::TAG_REQUEST && v == request)
}

/// Counts what carries `nuage:request = <request>` in moto.
pub(crate) async fn inventory(moto: &MotoServer, request: &str) -> Inventory {
    let p = AwsProvider::connect(moto.config("inventory"))
        .await
        .expect("an EC2 client for moto");
    let c = p.client();
    let mut inv = Inventory::default();
    let vpcs = c.describe_vpcs().send().await.expect("describe vpcs");
    inv.vpcs = vpcs
        .vpcs()
        .iter()
        .filter(|v| {
            tagged(
                v.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
                request,
            )
        })
        .count();
    let subnets = c.describe_subnets().send().await.expect("describe subnets");
    inv.subnets = subnets
        .subnets()
        .iter()
        .filter(|s| {
            tagged(
                s.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
                request,
            )
        })
        .count();
    let groups = c
        .describe_security_groups()
        .send()
        .await
        .expect("describe security groups");
    inv.security_groups = groups
        .security_groups()
        .iter()
        .filter(|g| {
            tagged(
                g.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
                request,
            )
        })
        .count();
    let reservations = c
        .describe_instances()
        .send()
        .await
        .expect("describe instances");
    inv.instances = reservations
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            i.state()
                .and_then(|s| s.name())
                .is_none_or(|n| n.as_str() != "terminated")
        })
        .filter(|i| {
            tagged(
                i.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
                request,
            )
        })
        .count();
    let volumes = c.describe_volumes().send().await.expect("describe volumes");
    let mine: Vec<_> = volumes
        .volumes()
        .iter()
        .filter(|v| {
            tagged(
                v.tags()
                    .iter()
                    .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or(""))),
                request,
            )
        })
        .collect();
    inv.volumes = mine.len();
    inv.attachments = mine.iter().map(|v| v.attachments().len()).sum();
    inv
}
