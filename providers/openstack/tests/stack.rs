//! The adapter against a real OpenStack stack (Keystone, Placement, Glance, Neutron, Nova with
//! its fake virt driver, Cinder with its fake volume driver; started once for this binary by
//! scripts/openstack/start-stack): the whole lifecycle, real error cases, and faults injected
//! by a proxy in front of the real endpoints.

mod common;

use std::time::Duration;

use nuage_provider::{
    AttachmentSpec, DeleteOutcome, Direction, ErrorKind, ImageRef, NetworkSpec, Observation,
    PortRange, Protocol, Provider, ResourceKind, ResourceSpec, ResourceState, SecurityGroupSpec,
    SecurityRule, ServerSpec, SpecBody, SubnetSpec, VolumeSpec, WaitOptions, wait_until_absent,
    wait_until_ready,
};
use nuage_provider_openstack::{CreateServer, OpenStackProvider};

use common::proxy::{Fault, Proxy, Rule, origin, path};

fn provider(project: &str) -> OpenStackProvider {
    OpenStackProvider::new(common::full().user_config("stack-tests", project)).unwrap()
}

fn wait() -> WaitOptions {
    WaitOptions::fixed(Duration::from_millis(250), Duration::from_secs(120))
}

fn spec(test: &str, resource: &str, body: SpecBody) -> ResourceSpec {
    ResourceSpec::new(common::meta(test, resource), body)
}

fn server_body(subnet: Option<&str>, groups: Vec<String>) -> ServerSpec {
    ServerSpec {
        vcpus: 1,
        ram_mib: 1024,
        image: ImageRef::new("debian", "12"),
        flavor: None,
        subnet: subnet.map(Into::into),
        security_groups: groups.into_iter().map(Into::into).collect(),
        dedicated: false,
        zone: None,
        user_data: Some("#cloud-config\n".into()),
    }
}

/// A network with a subnet, for tests that need a server somewhere.
async fn network_and_subnet(
    p: &OpenStackProvider,
    test: &str,
    cidr: &str,
) -> (ResourceSpec, ResourceSpec, String) {
    let net = spec(
        test,
        "net",
        SpecBody::Network(NetworkSpec {
            cidr: "10.0.0.0/8".parse().unwrap(),
        }),
    );
    let net_id = p.create(&net).await.unwrap().cloud_id;
    let subnet = spec(
        test,
        "subnet",
        SpecBody::Subnet(SubnetSpec {
            network: net_id,
            cidr: cidr.parse().unwrap(),
            zone: None,
        }),
    );
    let subnet_id = p.create(&subnet).await.unwrap().cloud_id.to_string();
    (net, subnet, subnet_id)
}

#[tokio::test]
async fn network_security_group_and_server_with_volume_from_creation_to_deletion() {
    let p = provider("nuage");
    let test = "lifecycle";

    // Network and subnet; creating again returns the same ones.
    let net = spec(
        test,
        "net",
        SpecBody::Network(NetworkSpec {
            cidr: "10.20.0.0/16".parse().unwrap(),
        }),
    );
    assert!(p.observe(&net).await.unwrap().is_absent());
    let network = p.create(&net).await.unwrap();
    assert_eq!(network.state, ResourceState::Ready);
    assert_eq!(p.create(&net).await.unwrap().cloud_id, network.cloud_id);
    let subnet = spec(
        test,
        "subnet",
        SpecBody::Subnet(SubnetSpec {
            network: network.cloud_id.clone(),
            cidr: "10.20.1.0/24".parse().unwrap(),
            zone: None,
        }),
    );
    let sub = p.create(&subnet).await.unwrap();
    assert_eq!(p.create(&subnet).await.unwrap().cloud_id, sub.cloud_id);
    assert!(
        p.observe(&subnet)
            .await
            .unwrap()
            .present()
            .unwrap()
            .is_up_to_date()
    );

    // A security group with SSH in and HTTPS out; the rules read back without drift.
    let rules = vec![
        SecurityRule {
            direction: Direction::Ingress,
            protocol: Protocol::Tcp,
            ports: Some(PortRange::single(22)),
            remote: "10.0.0.0/8".parse().unwrap(),
        },
        SecurityRule {
            direction: Direction::Egress,
            protocol: Protocol::Tcp,
            ports: Some(PortRange::single(443)),
            remote: "0.0.0.0/0".parse().unwrap(),
        },
    ];
    let sg = spec(
        test,
        "sg",
        SpecBody::SecurityGroup(SecurityGroupSpec {
            network: None,
            rules: rules.clone(),
        }),
    );
    let group = p.create(&sg).await.unwrap();
    assert!(group.is_up_to_date(), "{:?}", group.drift);
    assert_eq!(
        group.outputs.extra["rules"], "2",
        "the default egress rules were replaced"
    );
    // Rules changed in the spec: observe reports drift, update converges.
    let mut more = rules.clone();
    more.push(SecurityRule {
        direction: Direction::Ingress,
        protocol: Protocol::Icmp,
        ports: None,
        remote: "0.0.0.0/0".parse().unwrap(),
    });
    let sg2 = ResourceSpec::new(
        sg.meta.clone(),
        SpecBody::SecurityGroup(SecurityGroupSpec {
            network: None,
            rules: more,
        }),
    );
    let drift = p.observe(&sg2).await.unwrap().into_present().unwrap().drift;
    assert_eq!(drift[0].field, "rules");
    assert!(p.update(&sg2).await.unwrap().is_up_to_date());

    // A volume, then a server on the subnet with the group.
    let vol = spec(
        test,
        "data",
        SpecBody::Volume(VolumeSpec {
            size_gib: 1,
            zone: None,
            volume_type: None,
        }),
    );
    p.create(&vol).await.unwrap();
    let volume = wait_until_ready(&p, &vol, &wait()).await.unwrap();
    assert_eq!(volume.outputs.size_gib, Some(1));
    let srv = spec(
        test,
        "web",
        SpecBody::Server(server_body(
            Some(sub.cloud_id.as_str()),
            vec![group.cloud_id.to_string()],
        )),
    );
    let created = p.create(&srv).await.unwrap();
    assert!(matches!(
        created.state,
        ResourceState::Creating | ResourceState::Ready
    ));
    let server = wait_until_ready(&p, &srv, &wait()).await.unwrap();
    assert_eq!(server.native_state, "ACTIVE");
    assert_eq!(server.cloud_id, created.cloud_id);
    assert_eq!(
        server.outputs.flavor.as_deref(),
        Some("m1.small"),
        "smallest flavor with 1 vCPU and 1 GiB"
    );
    let ip = server.outputs.addresses[0].ip;
    assert!(ip.to_string().starts_with("10.20.1."), "{ip}");
    // Creating it again returns it, no second server.
    assert_eq!(p.create(&srv).await.unwrap().cloud_id, server.cloud_id);
    assert_eq!(p.nova().servers_named(&srv.name()).await.unwrap().len(), 1);
    // Nova carries the identity as metadata, the port the security group.
    let nova_server = p
        .nova()
        .server(server.cloud_id.as_str())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(nova_server.metadata, srv.meta.tags());
    let ports: Vec<nuage_provider_openstack::Port> = p
        .neutron()
        .named(nuage_provider_openstack::Collection::Ports, &srv.name())
        .await
        .unwrap();
    assert_eq!(ports[0].security_groups, vec![group.cloud_id.to_string()]);

    // Attach the volume through Nova.
    let att = spec(
        test,
        "data-on-web",
        SpecBody::Attachment(AttachmentSpec {
            server: server.cloud_id.clone(),
            volume: volume.cloud_id.clone(),
            device: None,
        }),
    );
    p.create(&att).await.unwrap();
    let attached = wait_until_ready(&p, &att, &wait()).await.unwrap();
    assert_eq!(attached.native_state, "in-use");
    assert!(
        attached
            .outputs
            .device
            .as_deref()
            .is_some_and(|d| d.starts_with("/dev/"))
    );
    assert_eq!(p.create(&att).await.unwrap().cloud_id, attached.cloud_id);
    // Deleting the attached volume is a conflict, and changes nothing.
    let err = p.delete(&vol).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(p.observe(&att).await.unwrap().is_ready());

    // Tear down in reverse order, observing each gone; deleting twice succeeds.
    assert_eq!(p.delete(&att).await.unwrap(), DeleteOutcome::InProgress);
    wait_until_absent(&p, &att, &wait()).await.unwrap();
    assert_eq!(p.delete(&att).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    assert!(p.observe(&srv).await.unwrap().is_absent());
    assert!(
        p.neutron()
            .named::<serde_json::Value>(nuage_provider_openstack::Collection::Ports, &srv.name())
            .await
            .unwrap()
            .is_empty(),
        "the port went with the server"
    );
    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    assert_eq!(p.delete(&vol).await.unwrap(), DeleteOutcome::InProgress);
    wait_until_absent(&p, &vol, &wait()).await.unwrap();
    assert_eq!(p.delete(&vol).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    for r in [&sg, &subnet, &net] {
        assert_eq!(
            p.delete(r).await.unwrap(),
            DeleteOutcome::Deleted,
            "{}",
            r.kind()
        );
        assert!(p.observe(r).await.unwrap().is_absent());
        assert_eq!(p.delete(r).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    }
}

#[tokio::test]
async fn capabilities_list_flavors_images_and_zones() {
    let p = provider("nuage");
    let caps = p.capabilities().await.unwrap();
    assert_eq!(caps.kinds.len(), ResourceKind::ALL.len());
    assert!(
        caps.flavors
            .iter()
            .any(|f| f.name == "m1.tiny" && f.vcpus == 1 && f.ram_mib == 512)
    );
    assert!(caps.has_image(&ImageRef::new("debian", "12")));
    assert!(caps.has_image(&ImageRef::new("ubuntu", "24.04")));
    assert_eq!(caps.zones, vec!["nova".to_owned()]);
    assert_eq!(caps.flavor_for(2, 3000).unwrap().name, "m1.medium");
    assert!(!caps.simulated);
}

#[tokio::test]
async fn real_errors_bad_flavor_unknown_image_and_missing_subnet() {
    let p = provider("nuage");
    let test = "errors";
    let (net, subnet, subnet_id) = network_and_subnet(&p, test, "10.30.0.0/24").await;

    // A flavor Nova does not know: Nova's 400 and message, terminal.
    let mut body = server_body(Some(&subnet_id), vec![]);
    body.flavor = Some("m1.nonexistent".into());
    let bad_flavor = spec(test, "bad-flavor", SpecBody::Server(body));
    let err = p.create(&bad_flavor).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    assert!(
        err.to_string()
            .contains("Flavor m1.nonexistent could not be found"),
        "{err}"
    );
    assert_eq!(err.native_code(), Some("badRequest (HTTP 400)"));
    assert!(
        p.observe(&bad_flavor).await.unwrap().is_absent(),
        "nothing was created"
    );

    // An OS version Glance has no image for: terminal, before Nova is asked.
    let mut body = server_body(Some(&subnet_id), vec![]);
    body.image = ImageRef::new("debian", "99");
    let err = p
        .create(&spec(test, "no-image", SpecBody::Server(body)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    assert!(
        err.to_string().contains("no active image for debian 99"),
        "{err}"
    );

    // An image id configured by hand that Glance does not know: Nova's own 400.
    let mut config = common::full().user_config("stack-tests", "nuage");
    config.images.insert(
        "debian 12".into(),
        "6b4f3c5e-0000-4000-8000-000000000000".into(),
    );
    let mapped = OpenStackProvider::new(config).unwrap();
    let err = mapped
        .create(&spec(
            test,
            "bad-image",
            SpecBody::Server(server_body(Some(&subnet_id), vec![])),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    assert!(err.to_string().contains("image"), "{err}");

    // The REST layer alone: Nova's 400 for a malformed image reference.
    let nova_err = p
        .nova()
        .create_server(&CreateServer {
            name: "nuage-raw-bad-image".into(),
            flavor_ref: common::full().str("/flavors/m1.tiny"),
            image_ref: "not-a-uuid".into(),
            networks: vec![serde_json::json!({"uuid": "00000000-0000-4000-8000-000000000000"})],
            metadata: Default::default(),
            security_groups: vec![],
            availability_zone: None,
            user_data: None,
        })
        .await
        .unwrap_err();
    assert_eq!(nova_err.status(), Some(400), "{nova_err}");
    assert!(
        nova_err
            .request_id()
            .is_some_and(|id| id.starts_with("req-"))
    );

    // A subnet that does not exist.
    let err = p
        .create(&spec(
            test,
            "no-subnet",
            SpecBody::Server(server_body(
                Some("00000000-0000-4000-8000-000000000001"),
                vec![],
            )),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");

    for r in [&subnet, &net] {
        p.delete(r).await.unwrap();
    }
}

#[tokio::test]
async fn quotas_exceeded_in_nova_neutron_and_cinder_are_quota_errors() {
    // Project nuage-quota: 1 instance, 1 vCPU, 1 network, 1 GiB of volumes.
    let p = provider("nuage-quota");
    let test = "quota";
    let (net, subnet, subnet_id) = network_and_subnet(&p, test, "10.40.0.0/24").await;

    // Nova: 2 vCPU > 1 → 403 "Quota exceeded".
    let mut body = server_body(Some(&subnet_id), vec![]);
    body.vcpus = 2;
    let big = spec(test, "big", SpecBody::Server(body));
    let err = p.create(&big).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota, "{err}");
    assert!(err.to_string().contains("Quota exceeded"), "{err}");
    assert!(!err.is_retryable());
    assert!(p.observe(&big).await.unwrap().is_absent());

    // Neutron: a second network → 409 OverQuota, which is quota, not conflict.
    let second = spec(
        test,
        "net2",
        SpecBody::Network(NetworkSpec {
            cidr: "10.41.0.0/16".parse().unwrap(),
        }),
    );
    let err = p.create(&second).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota, "{err}");
    assert!(err.native_code().unwrap().contains("OverQuota"), "{err:?}");

    // Cinder: 2 GiB > 1 GiB → 413 overLimit, which is quota, not throttling.
    let vol = spec(
        test,
        "vol",
        SpecBody::Volume(VolumeSpec {
            size_gib: 2,
            zone: None,
            volume_type: None,
        }),
    );
    let err = p.create(&vol).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota, "{err}");
    assert!(p.observe(&vol).await.unwrap().is_absent());

    for r in [&subnet, &net] {
        p.delete(r).await.unwrap();
    }
}

#[tokio::test]
async fn deleting_twice_and_deleting_what_never_existed_succeed() {
    let p = provider("nuage");
    let test = "twice";
    let (net, subnet, subnet_id) = network_and_subnet(&p, test, "10.50.0.0/24").await;
    let srv = spec(
        test,
        "vm",
        SpecBody::Server(server_body(Some(&subnet_id), vec![])),
    );
    let created = p.create(&srv).await.unwrap();
    wait_until_ready(&p, &srv, &wait()).await.unwrap();

    // Deleting the subnet under a running server is a conflict (Neutron's SubnetInUse) and
    // changes nothing.
    let err = p.delete(&subnet).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");
    assert!(
        err.native_code().unwrap().contains("SubnetInUse"),
        "{err:?}"
    );
    assert!(p.observe(&subnet).await.unwrap().is_ready());

    // Nova itself: DELETE twice in a row is accepted, then 404 once gone.
    assert!(
        p.nova()
            .delete_server(created.cloud_id.as_str())
            .await
            .unwrap()
    );
    let _ = p
        .nova()
        .delete_server(created.cloud_id.as_str())
        .await
        .unwrap();
    assert!(
        p.nova()
            .wait_gone(
                created.cloud_id.as_str(),
                Duration::from_secs(60),
                Duration::from_millis(200)
            )
            .await
            .unwrap()
    );
    assert!(
        !p.nova()
            .delete_server(created.cloud_id.as_str())
            .await
            .unwrap(),
        "404 → false"
    );

    // The adapter: the server is gone but its port is not; delete cleans it, then nothing is left.
    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    let never = spec(
        test,
        "never",
        SpecBody::Volume(VolumeSpec {
            size_gib: 1,
            zone: None,
            volume_type: None,
        }),
    );
    assert_eq!(
        p.delete(&never).await.unwrap(),
        DeleteOutcome::AlreadyAbsent
    );

    for r in [&subnet, &net] {
        assert_eq!(p.delete(r).await.unwrap(), DeleteOutcome::Deleted);
        assert_eq!(p.delete(r).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    }
}

/// A provider whose Nova calls go through a fault-injecting proxy.
async fn proxied(test_timeout: Duration) -> (OpenStackProvider, Proxy) {
    let compute = common::full().str("/endpoints/compute");
    let proxy = Proxy::start(&origin(&compute)).await;
    let mut config = common::full().user_config("stack-tests-proxied", "nuage");
    config
        .endpoint_overrides
        .insert("compute".into(), format!("{}{}", proxy.url, path(&compute)));
    config.request_timeout = test_timeout;
    (OpenStackProvider::new(config).unwrap(), proxy)
}

#[tokio::test]
async fn injected_throttling_errors_and_slowness_map_to_neutral_kinds() {
    let (p, proxy) = proxied(Duration::from_secs(2)).await;
    let probe = spec(
        "faults",
        "probe",
        SpecBody::Server(server_body(None, vec![])),
    );
    assert!(
        p.observe(&probe).await.unwrap().is_absent(),
        "the proxy forwards"
    );

    // 429 with Retry-After: throttled, with the delay.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Status {
            status: 429,
            retry_after: Some("7".into()),
            body: r#"{"message": "Rate limit exceeded"}"#.into(),
        },
        times: 1,
    });
    let err = p.observe(&probe).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Throttled {
            retry_after: Some(Duration::from_secs(7))
        },
        "{err}"
    );
    assert!(err.to_string().contains("req-injected-by-proxy"), "{err}");

    // 413 overLimit with the delay in the body (Nova's rate-limit shape): throttled.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Status {
            status: 413,
            retry_after: None,
            body:
                r#"{"overLimit": {"code": 413, "message": "Too many requests", "retryAfter": "2"}}"#
                    .into(),
        },
        times: 1,
    });
    let err = p.observe(&probe).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)), "{err}");

    // 503 and 500: transient.
    for status in [503, 500] {
        proxy.inject(Rule {
            method: None,
            path_contains: "/servers".into(),
            fault: Fault::Status { status, retry_after: None, body: r#"{"computeFault": {"code": 500, "message": "The server has either erred or is incapable"}}"#.into() },
            times: 1,
        });
        let err = p.observe(&probe).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
        assert!(err.is_retryable());
    }

    // A slow answer beyond the request timeout: transient.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Delay(Duration::from_secs(4)),
        times: 1,
    });
    let err = p.observe(&probe).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.to_string().contains("servers"), "{err}");
    // A slow answer within it is just slow.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Delay(Duration::from_millis(500)),
        times: 1,
    });
    assert!(p.observe(&probe).await.unwrap().is_absent());

    // A 401 from Nova: the session renews its token once and the call succeeds.
    let before = p.session().tokens_issued();
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Status { status: 401, retry_after: None, body: r#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#.into() },
        times: 1,
    });
    assert!(p.observe(&probe).await.unwrap().is_absent());
    assert_eq!(p.session().tokens_issued(), before + 1);
    // Two 401s in a row: the renewed token is refused too, which is an auth error.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::Status {
            status: 401,
            retry_after: None,
            body: "{}".into(),
        },
        times: 2,
    });
    assert_eq!(p.observe(&probe).await.unwrap_err().kind(), ErrorKind::Auth);
    assert_eq!(proxy.injected(), 9);
}

#[tokio::test]
async fn a_server_gone_to_error_surfaces_its_fault() {
    let (p, proxy) = proxied(Duration::from_secs(30)).await;
    let plain = provider("nuage");
    let test = "fault";
    let (net, subnet, subnet_id) = network_and_subnet(&plain, test, "10.60.0.0/24").await;
    let srv = spec(
        test,
        "doomed",
        SpecBody::Server(server_body(Some(&subnet_id), vec![])),
    );

    // Every server Nova shows through the proxy turns ERROR with a fault.
    proxy.inject(Rule {
        method: Some("GET"),
        path_contains: "/servers".into(),
        fault: Fault::ServerError {
            code: 500,
            message: "No valid host was found. There are not enough hosts available.".into(),
        },
        times: usize::MAX,
    });
    let created = p.create(&srv).await.unwrap();
    assert_eq!(created.state, ResourceState::Failed);
    let observed = p.observe(&srv).await.unwrap().into_present().unwrap();
    assert_eq!(observed.state, ResourceState::Failed);
    assert_eq!(observed.native_state, "ERROR");
    assert!(
        observed
            .message
            .as_deref()
            .unwrap()
            .starts_with("No valid host was found")
    );
    let err = wait_until_ready(&p, &srv, &wait()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert!(err.to_string().contains("No valid host was found"), "{err}");
    // The REST layer's own wait reports the fault too, as a capacity problem.
    let err = p
        .nova()
        .wait_active(
            created.cloud_id.as_str(),
            Duration::from_secs(10),
            Duration::from_millis(200),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Capacity, "{err}");
    assert!(err.to_string().contains("No valid host"), "{err}");

    // Without the proxy the real server is ACTIVE; clean up.
    proxy.clear();
    wait_until_ready(&plain, &srv, &wait()).await.unwrap();
    plain.delete(&srv).await.unwrap();
    wait_until_absent(&plain, &srv, &wait()).await.unwrap();
    for r in [&subnet, &net] {
        plain.delete(r).await.unwrap();
    }
}

#[tokio::test]
async fn observe_of_a_missing_dependency_is_absent_and_bad_specs_change_nothing() {
    let p = provider("nuage");
    let att = spec(
        "deps",
        "att",
        SpecBody::Attachment(AttachmentSpec {
            server: "00000000-0000-4000-8000-000000000002".into(),
            volume: "00000000-0000-4000-8000-000000000003".into(),
            device: None,
        }),
    );
    assert_eq!(p.observe(&att).await.unwrap(), Observation::Absent);
    assert_eq!(p.delete(&att).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    let err = p.create(&att).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");

    // Updating what does not exist: not found.
    let missing = spec(
        "deps",
        "missing",
        SpecBody::Volume(VolumeSpec {
            size_gib: 1,
            zone: None,
            volume_type: None,
        }),
    );
    assert_eq!(
        p.update(&missing).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );

    // Invalid specs are refused before any call.
    let bad = spec(
        "deps",
        "zero",
        SpecBody::Volume(VolumeSpec {
            size_gib: 0,
            zone: None,
            volume_type: None,
        }),
    );
    let err = p.create(&bad).await.unwrap_err();
    assert!(
        matches!(err, nuage_provider::Error::InvalidSpec(_)),
        "{err}"
    );
    let mut dedicated = server_body(None, vec![]);
    dedicated.dedicated = true;
    let err = p
        .create(&spec("deps", "dedicated", SpecBody::Server(dedicated)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, nuage_provider::Error::Unsupported(_)),
        "{err}"
    );
}

#[tokio::test]
async fn an_untagged_network_with_our_name_is_adopted_and_a_foreign_one_is_not() {
    use nuage_provider_openstack::{Collection, Network};
    let p = provider("nuage");
    let test = "adopt";
    // As if a crash came between Neutron's create and the tagging call.
    let net = spec(
        test,
        "net",
        SpecBody::Network(NetworkSpec {
            cidr: "10.70.0.0/16".parse().unwrap(),
        }),
    );
    let untagged: Network = p
        .neutron()
        .create(
            Collection::Networks,
            serde_json::json!({"name": net.name()}),
        )
        .await
        .unwrap();
    assert_eq!(
        p.observe(&net)
            .await
            .unwrap()
            .present()
            .unwrap()
            .cloud_id
            .as_str(),
        untagged.id
    );
    let adopted = p.create(&net).await.unwrap();
    assert_eq!(adopted.cloud_id.as_str(), untagged.id, "no second network");
    let tagged: Network = p
        .neutron()
        .get(Collection::Networks, &untagged.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        tagged
            .tags
            .contains(&format!("nuage:resource={}", net.meta.resource())),
        "{:?}",
        tagged.tags
    );

    // A network with our name but another identity is someone else's: ours is created beside it.
    let other_meta =
        nuage_provider::ResourceMeta::new("another-tenant", net.meta.request(), "net").unwrap();
    let foreign: Network = p
        .neutron()
        .create(
            Collection::Networks,
            serde_json::json!({"name": net.name()}),
        )
        .await
        .unwrap();
    let foreign_tags: Vec<String> = other_meta
        .tags()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    p.neutron()
        .set_tags(Collection::Networks, &foreign.id, &foreign_tags)
        .await
        .unwrap();
    assert_eq!(
        p.observe(&net)
            .await
            .unwrap()
            .present()
            .unwrap()
            .cloud_id
            .as_str(),
        untagged.id
    );
    assert_eq!(p.delete(&net).await.unwrap(), DeleteOutcome::Deleted);
    assert!(
        p.observe(&net).await.unwrap().is_absent(),
        "the foreign one is not ours"
    );
    assert!(
        p.neutron()
            .get::<Network>(Collection::Networks, &foreign.id)
            .await
            .unwrap()
            .is_some(),
        "and it was left alone"
    );
    assert!(
        p.neutron()
            .delete(Collection::Networks, &foreign.id)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn volumes_grow_in_place_and_never_shrink() {
    let p = provider("nuage");
    let vol = spec(
        "grow",
        "data",
        SpecBody::Volume(VolumeSpec {
            size_gib: 1,
            zone: None,
            volume_type: None,
        }),
    );
    p.create(&vol).await.unwrap();
    wait_until_ready(&p, &vol, &wait()).await.unwrap();
    let bigger = ResourceSpec::new(
        vol.meta.clone(),
        SpecBody::Volume(VolumeSpec {
            size_gib: 2,
            zone: None,
            volume_type: None,
        }),
    );
    let drift = p
        .observe(&bigger)
        .await
        .unwrap()
        .into_present()
        .unwrap()
        .drift;
    assert_eq!(drift[0].field, "size_gib");
    p.update(&bigger).await.unwrap();
    let grown = wait_until_ready(&p, &bigger, &wait()).await.unwrap();
    assert_eq!(grown.outputs.size_gib, Some(2));
    let err = p.update(&vol).await.unwrap_err();
    assert!(
        matches!(err, nuage_provider::Error::InvalidSpec(_)),
        "{err}"
    );
    assert_eq!(
        p.observe(&vol)
            .await
            .unwrap()
            .present()
            .unwrap()
            .outputs
            .size_gib,
        Some(2),
        "unchanged"
    );
    assert_eq!(p.delete(&vol).await.unwrap(), DeleteOutcome::InProgress);
    wait_until_absent(&p, &vol, &wait()).await.unwrap();
}

#[tokio::test]
async fn a_server_that_must_grow_is_resized_in_place() {
    let p = provider("nuage");
    let test = "resize";
    let (net, subnet, subnet_id) = network_and_subnet(&p, test, "10.80.0.0/24").await;
    let srv = spec(
        test,
        "app",
        SpecBody::Server(server_body(Some(&subnet_id), vec![])),
    );
    p.create(&srv).await.unwrap();
    let before = wait_until_ready(&p, &srv, &wait()).await.unwrap();
    assert_eq!(before.outputs.flavor.as_deref(), Some("m1.small"));

    let mut body = server_body(Some(&subnet_id), vec![]);
    body.vcpus = 2;
    body.ram_mib = 4096;
    let bigger = ResourceSpec::new(srv.meta.clone(), SpecBody::Server(body));
    let drift = p
        .observe(&bigger)
        .await
        .unwrap()
        .into_present()
        .unwrap()
        .drift;
    assert_eq!(drift[0].field, "size");
    p.update(&bigger).await.unwrap();
    let after = wait_until_ready(&p, &bigger, &wait()).await.unwrap();
    assert_eq!(after.cloud_id, before.cloud_id, "the same server");
    assert_eq!(after.outputs.flavor.as_deref(), Some("m1.medium"));
    assert!(after.is_up_to_date(), "{:?}", after.drift);
    // Nothing left to do: update is a no-op.
    assert_eq!(
        p.update(&bigger).await.unwrap().outputs.flavor.as_deref(),
        Some("m1.medium")
    );

    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    for r in [&subnet, &net] {
        p.delete(r).await.unwrap();
    }
}

#[tokio::test]
async fn images_are_found_by_os_by_configured_name_and_by_id() {
    let stack = common::full();
    let p = provider("nuage");
    let by_os = p.glance().find_os("debian", "13").await.unwrap().unwrap();
    assert_eq!(by_os.id, stack.str("/images/debian-13"));
    assert_eq!(by_os.os_version.as_deref(), Some("13"));
    assert!(p.glance().find_os("debian", "99").await.unwrap().is_none());
    let by_name = p.glance().find_ref("ubuntu-24.04").await.unwrap().unwrap();
    assert_eq!(by_name.id, stack.str("/images/ubuntu-24.04"));
    let by_id = p
        .glance()
        .find_ref(&stack.str("/images/debian-12"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.name.as_deref(), Some("debian-12"));
    assert!(
        p.glance()
            .find_ref("6b4f3c5e-0000-4000-8000-000000000000")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_finds_the_server_instead_of_making_another() {
    let (p, proxy) = proxied(Duration::from_secs(30)).await;
    let plain = provider("nuage");
    let test = "lost";
    let (net, subnet, subnet_id) = network_and_subnet(&plain, test, "10.90.0.0/24").await;
    let srv = spec(
        test,
        "once",
        SpecBody::Server(server_body(Some(&subnet_id), vec![])),
    );

    // Nova creates the server, but the answer never reaches the adapter.
    proxy.inject(Rule {
        method: Some("POST"),
        path_contains: "/servers".into(),
        fault: Fault::LoseAnswer(502),
        times: 1,
    });
    let err = p.create(&srv).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert_eq!(proxy.injected(), 1);

    // The retried step looks the server up by name and metadata: the same one, no second.
    let again = p.create(&srv).await.unwrap();
    let servers = p.nova().servers_named(&srv.name()).await.unwrap();
    assert_eq!(servers.len(), 1, "no duplicate");
    assert_eq!(again.cloud_id.as_str(), servers[0].id);
    wait_until_ready(&p, &srv, &wait()).await.unwrap();

    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    for r in [&subnet, &net] {
        plain.delete(r).await.unwrap();
    }
}
