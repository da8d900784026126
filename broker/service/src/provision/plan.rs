//! Compiling a placed request into the steps of its provisioning run.
//!
//! Order: for each network its `network:`, `subnet:` and `secgroup:` steps, then `volume:`
//! steps (standalone volumes, then each server instance's own), `server:` steps (one per
//! instance, `NAME-1`, `NAME-2`...), `attach:` steps, and a `wait:` step per server. Each step
//! names its dependencies by step name; the step resolves them to cloud ids from the outputs of
//! those earlier steps when it runs.

use nuage_placement::ServiceRequest;
use nuage_placement::placement::decision::Placement;
use nuage_provider::{
    Cidr, Direction, ImageRef, MAX_RESOURCE_LEN, Protocol, SecurityRule, stable_hash,
};
use serde::{Deserialize, Serialize};

use crate::error::field;
use nuage_placement::FieldError;

/// The input of a provisioning run: every resource step, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvisionInput {
    /// The service request id.
    pub request: String,
    /// Its tenant.
    pub tenant: String,
    /// The provider instance (the chosen offer's binding).
    pub instance: String,
    /// The steps, in order.
    pub steps: Vec<PlannedStep>,
}

/// One step of a provisioning run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// Unique step name (`server:web-1`).
    pub name: String,
    /// What it does.
    pub params: ResourceParams,
}

/// The parameters of a resource step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceParams {
    /// Provider instance.
    pub instance: String,
    /// Tenant (for the resource's identity).
    pub tenant: String,
    /// Request id (for the resource's identity).
    pub request: String,
    /// Logical resource name within the request (`srv-web-1`).
    pub resource: String,
    /// The resource, with dependencies named by step.
    pub body: PlannedBody,
}

/// A resource whose dependencies are earlier steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PlannedBody {
    /// A network.
    Network {
        /// Its range.
        cidr: Cidr,
    },
    /// A subnet of the network made by step `network`.
    Subnet {
        /// The network's step.
        network: String,
        /// Its range.
        cidr: Cidr,
    },
    /// A security group of the network made by step `network`.
    SecurityGroup {
        /// The network's step.
        network: String,
        /// Its rules.
        rules: Vec<SecurityRule>,
    },
    /// A volume.
    Volume {
        /// Size, GiB.
        size_gib: u32,
    },
    /// A server.
    Server {
        /// vCPUs.
        vcpus: u32,
        /// Memory, MiB.
        ram_mib: u64,
        /// Image.
        image: ImageRef,
        /// The subnet's step.
        subnet: Option<String>,
        /// The security groups' steps.
        security_groups: Vec<String>,
        /// On hardware dedicated to the tenant.
        dedicated: bool,
    },
    /// A volume attached to a server.
    Attachment {
        /// The server's step.
        server: String,
        /// The volume's step.
        volume: String,
    },
    /// Wait until the server made by step `server` is ready.
    Wait {
        /// The server's step.
        server: String,
    },
}

impl PlannedBody {
    /// The step kind that runs it.
    pub fn kind(&self) -> &'static str {
        match self {
            PlannedBody::Network { .. } => "network",
            PlannedBody::Subnet { .. } => "subnet",
            PlannedBody::SecurityGroup { .. } => "security_group",
            PlannedBody::Volume { .. } => "volume",
            PlannedBody::Server { .. } => "server",
            PlannedBody::Attachment { .. } => "attachment",
            PlannedBody::Wait { .. } => "wait",
        }
    }
}

/// A logical resource name: `prefix-part-part`, shortened with a stable hash when longer than
/// the contract allows.
fn logical(prefix: &str, parts: &[&str]) -> String {
    let mut full = prefix.to_owned();
    for p in parts {
        full.push('-');
        full.push_str(p);
    }
    if full.len() <= MAX_RESOURCE_LEN {
        return full;
    }
    let hash = format!("{:08x}", stable_hash(&[&full]) as u32);
    let keep = MAX_RESOURCE_LEN - 9;
    let head = full[..keep].trim_end_matches('-');
    format!("{head}-{hash}")
}

/// Compiles a validated, placed request. Errors list the fields the provider contract cannot
/// express (nothing is stored then).
pub fn compile(
    request_id: &str,
    request: &ServiceRequest,
    placement: &Placement,
) -> Result<ProvisionInput, Vec<FieldError>> {
    let tenant = &request.tenant;
    let instance = &placement.binding.instance;
    let dedicated = placement.tier == nuage_placement::Tier::Dedicated;
    let mut errors = Vec::new();
    let mut steps = Vec::new();
    let mut push = |name: String, resource: String, body: PlannedBody| {
        steps.push(PlannedStep {
            name,
            params: ResourceParams {
                instance: instance.clone(),
                tenant: tenant.clone(),
                request: request_id.to_owned(),
                resource,
                body,
            },
        });
    };

    // Networks: the declared ones, or `default` when servers need one.
    let res = &request.resources;
    let mut networks: Vec<(String, Cidr)> = Vec::new();
    for (i, n) in res.networks.iter().enumerate() {
        let text = n.cidr.clone().unwrap_or_else(|| format!("10.{i}.0.0/16"));
        match text.parse::<Cidr>() {
            Ok(c) => networks.push((n.name.clone(), c)),
            Err(e) => errors.push(field(
                format!("resources.networks[{i}].cidr"),
                e.to_string(),
            )),
        }
    }
    if networks.is_empty() && !res.servers.is_empty() {
        networks.push((
            "default".into(),
            "10.0.0.0/16".parse().expect("a valid CIDR"),
        ));
    }
    for (name, cidr) in &networks {
        push(
            format!("network:{name}"),
            logical("net", &[name]),
            PlannedBody::Network { cidr: *cidr },
        );
        push(
            format!("subnet:{name}"),
            logical("sub", &[name]),
            PlannedBody::Subnet {
                network: format!("network:{name}"),
                cidr: *cidr,
            },
        );
        push(
            format!("secgroup:{name}"),
            logical("sg", &[name]),
            PlannedBody::SecurityGroup {
                network: format!("network:{name}"),
                rules: vec![SecurityRule {
                    direction: Direction::Ingress,
                    protocol: Protocol::Any,
                    ports: None,
                    remote: *cidr,
                }],
            },
        );
    }

    // Volumes: standalone, then one per server instance and declared server volume.
    for v in &res.volumes {
        push(
            format!("volume:{}", v.name),
            logical("vol", &[&v.name]),
            PlannedBody::Volume {
                size_gib: v.size_gib,
            },
        );
    }
    let mut instances: Vec<(String, &nuage_placement::request::ServerRequest)> = Vec::new();
    for s in &res.servers {
        for i in 1..=s.count {
            instances.push((format!("{}-{i}", s.name), s));
        }
    }
    for (inst, s) in &instances {
        for v in &s.volumes {
            push(
                format!("volume:{inst}/{}", v.name),
                logical("svol", &[inst, &v.name]),
                PlannedBody::Volume {
                    size_gib: v.size_gib,
                },
            );
        }
    }

    // Servers, on their first network (the contract gives a server one subnet).
    for (idx, (inst, s)) in instances.iter().enumerate() {
        let net = s
            .networks
            .first()
            .cloned()
            .or_else(|| networks.first().map(|(n, _)| n.clone()));
        if s.networks.len() > 1 && idx == 0 {
            tracing::debug!(server = %s.name, "servers join their first network only");
        }
        push(
            format!("server:{inst}"),
            logical("srv", &[inst]),
            PlannedBody::Server {
                vcpus: s.vcpus,
                ram_mib: u64::from(s.ram_gib) * 1024,
                image: ImageRef::new(&s.image.os, &s.image.version),
                subnet: net.as_ref().map(|n| format!("subnet:{n}")),
                security_groups: net.iter().map(|n| format!("secgroup:{n}")).collect(),
                dedicated,
            },
        );
    }

    // Attachments: each instance's own volumes, and standalone volumes given `attach_to`.
    for (inst, s) in &instances {
        for v in &s.volumes {
            push(
                format!("attach:{inst}/{}", v.name),
                logical("att", &[&logical("svol", &[inst, &v.name])]),
                PlannedBody::Attachment {
                    server: format!("server:{inst}"),
                    volume: format!("volume:{inst}/{}", v.name),
                },
            );
        }
    }
    for (i, v) in res.volumes.iter().enumerate() {
        if let Some(target) = &v.attach_to {
            let inst = format!("{target}-1");
            if !instances.iter().any(|(n, _)| *n == inst) {
                errors.push(field(
                    format!("resources.volumes[{i}].attach_to"),
                    format!("no server named {target:?}"),
                ));
                continue;
            }
            push(
                format!("attach:{}", v.name),
                logical("att", &[&logical("vol", &[&v.name])]),
                PlannedBody::Attachment {
                    server: format!("server:{inst}"),
                    volume: format!("volume:{}", v.name),
                },
            );
        }
    }

    for (inst, _) in &instances {
        push(
            format!("wait:{inst}"),
            logical("srv", &[inst]),
            PlannedBody::Wait {
                server: format!("server:{inst}"),
            },
        );
    }

    if steps.is_empty() {
        errors.push(field("resources", "the request asks for no resource"));
    }
    if errors.is_empty() {
        Ok(ProvisionInput {
            request: request_id.to_owned(),
            tenant: tenant.clone(),
            instance: instance.clone(),
            steps,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nuage_placement::{Catalogue, PlacementContext, Policy, place};

    fn compile_yaml(yaml: &str) -> ProvisionInput {
        let req = ServiceRequest::from_yaml(yaml).unwrap();
        let d = place(
            &req,
            &Catalogue::example(),
            &Policy::default_policy(),
            &PlacementContext::at("2026-11-29T00:00:00Z".parse().unwrap()),
        );
        compile("r1", &req, d.placement.as_ref().unwrap()).unwrap()
    }

    #[test]
    fn steps_come_in_dependency_order() {
        let input = compile_yaml(
            "api_version: nuage/v1\nname: wiki\ntenant: dinum\nsensitivity: {level: public}\n\
             resources:\n  servers:\n    - {name: web, vcpus: 2, ram_gib: 4, count: 2, image: {os: debian, version: '12'},\n       volumes: [{name: data, size_gib: 10}]}\n    - {name: db, vcpus: 2, ram_gib: 8, image: {os: debian, version: '12'}}\n  volumes:\n    - {name: logs, size_gib: 5, attach_to: db}\n",
        );
        let names: Vec<&str> = input.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "network:default",
                "subnet:default",
                "secgroup:default",
                "volume:logs",
                "volume:web-1/data",
                "volume:web-2/data",
                "server:web-1",
                "server:web-2",
                "server:db-1",
                "attach:web-1/data",
                "attach:web-2/data",
                "attach:logs",
                "wait:web-1",
                "wait:web-2",
                "wait:db-1",
            ]
        );
        let PlannedBody::Server {
            ram_mib, subnet, ..
        } = &input.steps[6].params.body
        else {
            panic!("not a server")
        };
        assert_eq!(*ram_mib, 4096);
        assert_eq!(subnet.as_deref(), Some("subnet:default"));
        let PlannedBody::Attachment { server, volume } = &input.steps[11].params.body else {
            panic!("not an attachment")
        };
        assert_eq!(
            (server.as_str(), volume.as_str()),
            ("server:db-1", "volume:logs")
        );
        let resources: std::collections::BTreeSet<&str> = input
            .steps
            .iter()
            .filter(|s| !s.name.starts_with("wait:"))
            .map(|s| s.params.resource.as_str())
            .collect();
        assert_eq!(
            resources.len(),
            input.steps.len() - 3,
            "logical names are unique"
        );
        assert!(
            input
                .steps
                .iter()
                .all(|s| s.params.resource.len() <= MAX_RESOURCE_LEN)
        );
    }

    #[test]
    fn long_names_are_shortened_stably() {
        let long = "a".repeat(36);
        let n = logical("vol", &[&format!("{long}-1000"), "datadatadatadatadata"]);
        assert!(n.len() <= MAX_RESOURCE_LEN, "{n}");
        assert_eq!(
            n,
            logical("vol", &[&format!("{long}-1000"), "datadatadatadatadata"])
        );
        assert_ne!(
            n,
            logical("vol", &[&format!("{long}-1001"), "datadatadatadatadata"])
        );
        assert!(nuage_provider::ResourceMeta::new("t", "r", &n).is_ok());
    }
}
