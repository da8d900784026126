//! Security groups and their rules on Neutron.
//!
//! Ingress rules are exactly the spec's. Egress rules are managed only when the spec lists
//! some (then they replace Neutron's default allow-all egress rules); otherwise left alone.

use std::collections::BTreeSet;

use nuage_provider::{
    Cidr, DeleteOutcome, Direction, Drift, Observation, Observed, PortRange, Protocol,
    ResourceKind, ResourceSpec, ResourceState, SecurityGroupSpec, SecurityRule,
};
use serde_json::{Value, json};

use super::OpenStackProvider;
use super::identity::{Claim, claim_tags, neutron_tags, observed, pick};
use crate::error::Result;
use crate::network::{Collection, SecurityGroup, SecurityGroupRule};

/// A rule in comparable form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    direction: Direction,
    protocol: Protocol,
    ports: Option<PortRange>,
    remote: String,
}

impl Key {
    fn of_spec(rule: &SecurityRule) -> Self {
        let ports = match rule.protocol {
            Protocol::Tcp | Protocol::Udp => rule.ports.filter(|p| !(p.from == 1 && p.to == 65535)),
            _ => None,
        };
        Key {
            direction: rule.direction,
            protocol: rule.protocol,
            ports,
            remote: rule.remote.to_string(),
        }
    }

    /// `None` for rules the spec language cannot express (peer groups, other protocols):
    /// those are foreign and count as extra.
    fn of_neutron(rule: &SecurityGroupRule) -> Option<Self> {
        if rule.remote_group_id.is_some() {
            return None;
        }
        let direction = match rule.direction.as_str() {
            "ingress" => Direction::Ingress,
            "egress" => Direction::Egress,
            _ => return None,
        };
        let protocol = match rule.protocol.as_deref() {
            None | Some("any") | Some("") => Protocol::Any,
            Some("tcp") | Some("6") => Protocol::Tcp,
            Some("udp") | Some("17") => Protocol::Udp,
            Some("icmp") | Some("1") | Some("ipv6-icmp") | Some("icmpv6") | Some("58") => {
                Protocol::Icmp
            }
            Some(_) => return None,
        };
        let ports = match (protocol, rule.port_range_min, rule.port_range_max) {
            (Protocol::Tcp | Protocol::Udp, Some(from), Some(to))
                if !(from == 1 && to == 65535) =>
            {
                Some(PortRange { from, to })
            }
            _ => None,
        };
        let remote = match &rule.remote_ip_prefix {
            Some(prefix) => prefix.parse::<Cidr>().ok()?.to_string(),
            None if rule.ethertype == "IPv6" => "::/0".to_owned(),
            None => "0.0.0.0/0".to_owned(),
        };
        Some(Key {
            direction,
            protocol,
            ports,
            remote,
        })
    }

    fn describe(&self) -> String {
        let dir = match self.direction {
            Direction::Ingress => "in",
            Direction::Egress => "out",
        };
        let proto = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Icmp => "icmp",
            Protocol::Any => "any",
        };
        match self.ports {
            Some(p) if p.from == p.to => format!("{dir} {proto}/{} {}", p.from, self.remote),
            Some(p) => format!("{dir} {proto}/{}-{} {}", p.from, p.to, self.remote),
            None => format!("{dir} {proto} {}", self.remote),
        }
    }

    fn to_neutron(&self, group: &str) -> Value {
        let ethertype = if self.remote.contains(':') {
            "IPv6"
        } else {
            "IPv4"
        };
        let mut rule = json!({
            "security_group_id": group,
            "direction": match self.direction {
                Direction::Ingress => "ingress",
                Direction::Egress => "egress",
            },
            "ethertype": ethertype,
            "remote_ip_prefix": self.remote,
        });
        match self.protocol {
            Protocol::Tcp => rule["protocol"] = json!("tcp"),
            Protocol::Udp => rule["protocol"] = json!("udp"),
            Protocol::Icmp => {
                rule["protocol"] = json!(if ethertype == "IPv6" {
                    "ipv6-icmp"
                } else {
                    "icmp"
                })
            }
            Protocol::Any => {}
        }
        if let Some(p) = self.ports {
            rule["port_range_min"] = json!(p.from);
            rule["port_range_max"] = json!(p.to);
        }
        rule
    }
}

/// What to add and remove so that the group matches the spec.
struct Plan {
    add: Vec<Key>,
    remove: Vec<String>,
    desired: BTreeSet<Key>,
    actual: Vec<String>,
}

fn plan(body: &SecurityGroupSpec, group: &SecurityGroup) -> Plan {
    let manage_egress = body.rules.iter().any(|r| r.direction == Direction::Egress);
    let managed = |d: Direction| d == Direction::Ingress || manage_egress;
    let desired: BTreeSet<Key> = body.rules.iter().map(Key::of_spec).collect();
    let mut present = BTreeSet::new();
    let mut remove = Vec::new();
    let mut actual = Vec::new();
    for rule in &group.security_group_rules {
        match Key::of_neutron(rule) {
            Some(key) if !managed(key.direction) => {}
            Some(key) if desired.contains(&key) && !present.contains(&key) => {
                actual.push(key.describe());
                present.insert(key);
            }
            Some(key) => {
                actual.push(key.describe());
                remove.push(rule.id.clone());
            }
            None => {
                let is_managed = match rule.direction.as_str() {
                    "egress" => manage_egress,
                    _ => true,
                };
                if is_managed {
                    actual.push(format!("{} (foreign rule {})", rule.direction, rule.id));
                    remove.push(rule.id.clone());
                }
            }
        }
    }
    let add = desired
        .iter()
        .filter(|k| !present.contains(k))
        .cloned()
        .collect();
    actual.sort();
    Plan {
        add,
        remove,
        desired,
        actual,
    }
}

impl OpenStackProvider {
    async fn find_groups(
        &self,
        spec: &ResourceSpec,
    ) -> Result<Option<(SecurityGroup, Claim, Vec<SecurityGroup>)>> {
        let found: Vec<SecurityGroup> = self
            .neutron
            .named(Collection::SecurityGroups, &spec.name())
            .await?;
        Ok(pick(found, true, |g| claim_tags(&spec.meta, &g.tags)))
    }

    fn group_observed(body: &SecurityGroupSpec, group: &SecurityGroup) -> Observed {
        let mut o = observed(
            ResourceKind::SecurityGroup,
            &group.id,
            ResourceState::Ready,
            "ACTIVE",
        );
        let plan = plan(body, group);
        if !plan.add.is_empty() || !plan.remove.is_empty() {
            let desired: Vec<String> = plan.desired.iter().map(Key::describe).collect();
            o.drift.push(Drift::new(
                "rules",
                desired.join(", "),
                plan.actual.join(", "),
            ));
        }
        o.outputs
            .extra
            .insert("rules".into(), group.security_group_rules.len().to_string());
        o
    }

    pub(super) async fn observe_security_group(
        &self,
        spec: &ResourceSpec,
        body: &SecurityGroupSpec,
    ) -> Result<Observation> {
        let Some((group, _, duplicates)) = self.find_groups(spec).await? else {
            return Ok(Observation::Absent);
        };
        let mut o = Self::group_observed(body, &group);
        o.duplicates = duplicates.into_iter().map(|g| g.id.into()).collect();
        Ok(Observation::Present(o))
    }

    pub(super) async fn create_security_group(
        &self,
        spec: &ResourceSpec,
        body: &SecurityGroupSpec,
    ) -> Result<Observed> {
        if let Some((group, claim, _)) = self.find_groups(spec).await? {
            if claim == Claim::Untagged {
                self.neutron
                    .set_tags(
                        Collection::SecurityGroups,
                        &group.id,
                        &neutron_tags(&spec.meta),
                    )
                    .await?;
            }
            return self.present(spec).await;
        }
        let group: SecurityGroup = self
            .neutron
            .create(
                Collection::SecurityGroups,
                json!({"name": spec.name(), "description": format!("nuage {}", spec.meta)}),
            )
            .await?;
        self.neutron
            .set_tags(
                Collection::SecurityGroups,
                &group.id,
                &neutron_tags(&spec.meta),
            )
            .await?;
        self.apply_rules(body, &group).await?;
        self.present(spec).await
    }

    async fn apply_rules(&self, body: &SecurityGroupSpec, group: &SecurityGroup) -> Result<()> {
        let plan = plan(body, group);
        for id in &plan.remove {
            self.neutron.delete_rule(id).await?;
        }
        for key in &plan.add {
            self.neutron.create_rule(key.to_neutron(&group.id)).await?;
        }
        Ok(())
    }

    pub(super) async fn update_security_group(
        &self,
        spec: &ResourceSpec,
        body: &SecurityGroupSpec,
    ) -> Result<Observed> {
        let Some((group, _, _)) = self.find_groups(spec).await? else {
            return Err(super::absent_error(spec));
        };
        self.apply_rules(body, &group).await?;
        self.present(spec).await
    }

    pub(super) async fn delete_security_group(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        let Some((group, _, duplicates)) = self.find_groups(spec).await? else {
            return Ok(DeleteOutcome::AlreadyAbsent);
        };
        let mut deleted = false;
        for g in std::iter::once(group).chain(duplicates) {
            deleted |= self
                .neutron
                .delete(Collection::SecurityGroups, &g.id)
                .await?;
        }
        Ok(if deleted {
            DeleteOutcome::Deleted
        } else {
            DeleteOutcome::AlreadyAbsent
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(rules: Value) -> SecurityGroup {
        serde_json::from_value(json!({"id": "g", "name": "n", "security_group_rules": rules}))
            .unwrap()
    }

    fn default_egress() -> Value {
        json!([
            {"id": "e4", "direction": "egress", "ethertype": "IPv4", "protocol": null,
             "port_range_min": null, "port_range_max": null, "remote_ip_prefix": null},
            {"id": "e6", "direction": "egress", "ethertype": "IPv6", "protocol": null,
             "port_range_min": null, "port_range_max": null, "remote_ip_prefix": null}
        ])
    }

    fn ssh() -> SecurityRule {
        SecurityRule {
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            ports: Some(PortRange::single(22)),
            remote: "10.0.0.0/8".parse().unwrap(),
        }
    }

    #[test]
    fn ingress_only_specs_leave_default_egress_alone() {
        let body = SecurityGroupSpec {
            network: None,
            rules: vec![ssh()],
        };
        let p = plan(&body, &group(default_egress()));
        assert_eq!(p.add.len(), 1);
        assert!(p.remove.is_empty());
        assert_eq!(p.add[0].describe(), "in tcp/22 10.0.0.0/8");
        let rule = p.add[0].to_neutron("g");
        assert_eq!(rule["port_range_min"], 22);
        assert_eq!(rule["ethertype"], "IPv4");
    }

    #[test]
    fn listed_egress_replaces_the_default_and_extras_go() {
        let https_out = SecurityRule {
            direction: Direction::Egress,
            protocol: Protocol::Tcp,
            ports: Some(PortRange::single(443)),
            remote: "0.0.0.0/0".parse().unwrap(),
        };
        let body = SecurityGroupSpec {
            network: None,
            rules: vec![ssh(), https_out],
        };
        let mut rules = default_egress();
        rules
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "x", "direction": "ingress",
            "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 22,
            "port_range_max": 22, "remote_ip_prefix": "10.0.0.0/8"}));
        rules
            .as_array_mut()
            .unwrap()
            .push(json!({"id": "y", "direction": "ingress",
            "ethertype": "IPv4", "protocol": "udp", "port_range_min": 53,
            "port_range_max": 53, "remote_ip_prefix": "0.0.0.0/0"}));
        let p = plan(&body, &group(rules));
        let mut removed = p.remove.clone();
        removed.sort();
        assert_eq!(removed, vec!["e4", "e6", "y"]);
        assert_eq!(p.add.len(), 1);
        assert_eq!(p.add[0].describe(), "out tcp/443 0.0.0.0/0");
    }

    #[test]
    fn full_port_ranges_mean_every_port() {
        let mut all = ssh();
        all.ports = Some(PortRange { from: 1, to: 65535 });
        let body = SecurityGroupSpec {
            network: None,
            rules: vec![all],
        };
        let existing = group(
            json!([{"id": "a", "direction": "ingress", "ethertype": "IPv4",
            "protocol": "tcp", "port_range_min": null, "port_range_max": null,
            "remote_ip_prefix": "10.0.0.0/8"}]),
        );
        let p = plan(&body, &existing);
        assert!(p.add.is_empty() && p.remove.is_empty());
    }
}
