//! Security groups as EC2 (VPC) security groups, with rules kept exactly as specified.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup};
use nuage_provider::{
    CloudId, DeleteOutcome, Direction, Drift, ErrorKind, Observation, Observed, Outputs, Protocol,
    ResourceKind, ResourceSpec, ResourceState, Result, SecurityGroupSpec, SecurityRule,
};

use crate::provider::{AwsProvider, absent, immutable};
use crate::tags;

/// One rule in EC2's terms, normalized so that equal rules compare equal.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct RawRule {
    protocol: String,
    from: Option<i32>,
    to: Option<i32>,
    cidr: String,
}

impl RawRule {
    fn normalized(protocol: &str, from: Option<i32>, to: Option<i32>, cidr: &str) -> Self {
        let protocol = match protocol.to_ascii_lowercase().as_str() {
            "6" => "tcp".to_owned(),
            "17" => "udp".to_owned(),
            "1" => "icmp".to_owned(),
            "all" => "-1".to_owned(),
            other => other.to_owned(),
        };
        let (from, to) = match protocol.as_str() {
            "-1" => (None, None),
            "icmp" => (Some(from.unwrap_or(-1)), Some(to.unwrap_or(-1))),
            _ => (from, to),
        };
        RawRule {
            protocol,
            from,
            to,
            cidr: cidr.to_owned(),
        }
    }

    fn from_spec(rule: &SecurityRule) -> Self {
        let (protocol, from, to) = match (rule.protocol, rule.ports) {
            (Protocol::Tcp, Some(p)) => ("tcp", Some(i32::from(p.from)), Some(i32::from(p.to))),
            (Protocol::Tcp, None) => ("tcp", Some(0), Some(65535)),
            (Protocol::Udp, Some(p)) => ("udp", Some(i32::from(p.from)), Some(i32::from(p.to))),
            (Protocol::Udp, None) => ("udp", Some(0), Some(65535)),
            (Protocol::Icmp, _) => ("icmp", Some(-1), Some(-1)),
            (Protocol::Any, _) => ("-1", None, None),
        };
        Self::normalized(protocol, from, to, &rule.remote.to_string())
    }

    fn permission(&self) -> IpPermission {
        let mut b = IpPermission::builder()
            .ip_protocol(&self.protocol)
            .set_from_port(self.from)
            .set_to_port(self.to);
        b = if self.cidr.contains(':') {
            b.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(&self.cidr).build())
        } else {
            b.ip_ranges(IpRange::builder().cidr_ip(&self.cidr).build())
        };
        b.build()
    }

    fn describe(set: &BTreeSet<RawRule>) -> String {
        set.iter()
            .map(|r| match (r.from, r.to) {
                (Some(f), Some(t)) => format!("{}:{f}-{t}<{}", r.protocol, r.cidr),
                _ => format!("{}<{}", r.protocol, r.cidr),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn raw_rules(perms: &[IpPermission]) -> BTreeSet<RawRule> {
    let mut out = BTreeSet::new();
    for p in perms {
        let proto = p.ip_protocol().unwrap_or("-1");
        for r in p.ip_ranges() {
            if let Some(c) = r.cidr_ip() {
                out.insert(RawRule::normalized(proto, p.from_port(), p.to_port(), c));
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(c) = r.cidr_ipv6() {
                out.insert(RawRule::normalized(proto, p.from_port(), p.to_port(), c));
            }
        }
    }
    out
}

fn desired(want: &SecurityGroupSpec, direction: Direction) -> BTreeSet<RawRule> {
    want.rules
        .iter()
        .filter(|r| r.direction == direction)
        .map(RawRule::from_spec)
        .collect()
}

async fn find(p: &AwsProvider, spec: &ResourceSpec) -> Result<Vec<SecurityGroup>> {
    let out = p
        .client
        .describe_security_groups()
        .set_filters(Some(tags::identity_filters(&spec.meta)))
        .send()
        .await
        .map_err(|e| p.err("DescribeSecurityGroups", e))?;
    let mut groups: Vec<SecurityGroup> = out
        .security_groups()
        .iter()
        .filter(|g| tags::matches(&spec.meta, g.tags()))
        .cloned()
        .collect();
    groups.sort_by(|a, b| a.group_id().cmp(&b.group_id()));
    Ok(groups)
}

async fn by_id(p: &AwsProvider, id: &str) -> Result<Option<SecurityGroup>> {
    match p
        .client
        .describe_security_groups()
        .group_ids(id)
        .send()
        .await
    {
        Ok(out) => Ok(out.security_groups().first().cloned()),
        Err(e) => {
            let e = p.err("DescribeSecurityGroups", e);
            if e.kind() == ErrorKind::NotFound {
                Ok(None)
            } else {
                Err(e)
            }
        }
    }
}

fn observed(g: &SecurityGroup, want: &SecurityGroupSpec, duplicates: &[SecurityGroup]) -> Observed {
    let mut drift = Vec::new();
    let vpc = g.vpc_id().unwrap_or_default();
    if let Some(net) = &want.network
        && net.as_str() != vpc
    {
        drift.push(Drift::new("network", net, vpc));
    }
    let ingress = desired(want, Direction::Ingress);
    let have = raw_rules(g.ip_permissions());
    if ingress != have {
        drift.push(Drift::new(
            "ingress_rules",
            RawRule::describe(&ingress),
            RawRule::describe(&have),
        ));
    }
    let egress = desired(want, Direction::Egress);
    let have = raw_rules(g.ip_permissions_egress());
    if !egress.is_empty() && egress != have {
        drift.push(Drift::new(
            "egress_rules",
            RawRule::describe(&egress),
            RawRule::describe(&have),
        ));
    }
    let mut outputs = Outputs::default();
    outputs.extra.insert("network".to_owned(), vpc.to_owned());
    if let Some(name) = g.group_name() {
        outputs
            .extra
            .insert("group_name".to_owned(), name.to_owned());
    }
    Observed {
        kind: ResourceKind::SecurityGroup,
        cloud_id: CloudId::new(g.group_id().unwrap_or_default()),
        state: ResourceState::Ready,
        native_state: "available".to_owned(),
        drift,
        outputs,
        message: None,
        duplicates: duplicates
            .iter()
            .filter_map(|g| g.group_id().map(CloudId::from))
            .collect(),
        simulated: false,
    }
}

pub(crate) async fn observe(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SecurityGroupSpec,
) -> Result<Observation> {
    let groups = find(p, spec).await?;
    Ok(match groups.split_first() {
        Some((g, rest)) => Observation::Present(observed(g, want, rest)),
        None => Observation::Absent,
    })
}

/// Makes the group's rules exactly those of the spec (egress only when the spec lists some).
async fn sync_rules(p: &AwsProvider, g: &SecurityGroup, want: &SecurityGroupSpec) -> Result<()> {
    let id = g.group_id().unwrap_or_default();
    let (want_in, have_in) = (
        desired(want, Direction::Ingress),
        raw_rules(g.ip_permissions()),
    );
    let add: Vec<IpPermission> = want_in
        .difference(&have_in)
        .map(RawRule::permission)
        .collect();
    let remove: Vec<IpPermission> = have_in
        .difference(&want_in)
        .map(RawRule::permission)
        .collect();
    if !remove.is_empty() {
        p.client
            .revoke_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(remove))
            .send()
            .await
            .map_err(|e| p.err("RevokeSecurityGroupIngress", e))?;
    }
    if !add.is_empty() {
        p.client
            .authorize_security_group_ingress()
            .group_id(id)
            .set_ip_permissions(Some(add))
            .send()
            .await
            .map_err(|e| p.err("AuthorizeSecurityGroupIngress", e))?;
    }
    let want_out = desired(want, Direction::Egress);
    if want_out.is_empty() {
        return Ok(());
    }
    let have_out = raw_rules(g.ip_permissions_egress());
    let add: Vec<IpPermission> = want_out
        .difference(&have_out)
        .map(RawRule::permission)
        .collect();
    let remove: Vec<IpPermission> = have_out
        .difference(&want_out)
        .map(RawRule::permission)
        .collect();
    if !add.is_empty() {
        p.client
            .authorize_security_group_egress()
            .group_id(id)
            .set_ip_permissions(Some(add))
            .send()
            .await
            .map_err(|e| p.err("AuthorizeSecurityGroupEgress", e))?;
    }
    if !remove.is_empty() {
        p.client
            .revoke_security_group_egress()
            .group_id(id)
            .set_ip_permissions(Some(remove))
            .send()
            .await
            .map_err(|e| p.err("RevokeSecurityGroupEgress", e))?;
    }
    Ok(())
}

pub(crate) async fn create(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SecurityGroupSpec,
) -> Result<Observed> {
    if let Observation::Present(o) = observe(p, spec, want).await? {
        return Ok(o);
    }
    let m = &spec.meta;
    let out = p
        .client
        .create_security_group()
        .group_name(spec.name())
        .description(format!(
            "Nuage {}/{}/{}",
            m.tenant(),
            m.request(),
            m.resource()
        ))
        .set_vpc_id(want.network.as_ref().map(|n| n.as_str().to_owned()))
        .tag_specifications(tags::tag_spec(ResourceType::SecurityGroup, m))
        .customize()
        .config_override(AwsProvider::no_retry())
        .send()
        .await
        .map_err(|e| p.err("CreateSecurityGroup", e))?;
    let id = out.group_id().unwrap_or_default().to_owned();
    // The rules are set after creation. A crash in between leaves a group that observes with
    // drift, which `update` repairs.
    let group = by_id(p, &id).await?.ok_or_else(|| {
        nuage_provider::Error::transient(format!("security group {id} not visible yet"))
    })?;
    sync_rules(p, &group, want).await?;
    let group = by_id(p, &id).await?.unwrap_or(group);
    Ok(observed(&group, want, &[]))
}

pub(crate) async fn update(
    p: &AwsProvider,
    spec: &ResourceSpec,
    want: &SecurityGroupSpec,
) -> Result<Observed> {
    let groups = find(p, spec).await?;
    let (group, rest) = groups.split_first().ok_or_else(|| absent(spec))?;
    let o = observed(group, want, rest);
    if o.drift.iter().any(|d| d.field == "network") {
        return Err(immutable(spec, "network"));
    }
    if o.is_up_to_date() {
        return Ok(o);
    }
    sync_rules(p, group, want).await?;
    let id = group.group_id().unwrap_or_default();
    let group = by_id(p, id).await?.ok_or_else(|| absent(spec))?;
    Ok(observed(&group, want, rest))
}

pub(crate) async fn delete(p: &AwsProvider, spec: &ResourceSpec) -> Result<DeleteOutcome> {
    let groups = find(p, spec).await?;
    let mut deleted = false;
    for g in &groups {
        let id = g.group_id().unwrap_or_default();
        match p.client.delete_security_group().group_id(id).send().await {
            Ok(_) => deleted = true,
            Err(e) => {
                let e = p.err("DeleteSecurityGroup", e);
                if e.kind() != ErrorKind::NotFound {
                    return Err(e);
                }
            }
        }
    }
    Ok(if deleted {
        DeleteOutcome::Deleted
    } else {
        DeleteOutcome::AlreadyAbsent
    })
}
