//! Behaviour of the sim cloud through the public contract: lifecycle, idempotency, dependencies,
//! readiness, deletion, quotas, capacity, faults, latency and determinism.

use std::sync::Arc;
use std::time::Duration;

use nuage_provider::sim::{
    Capacity, FaultRates, FaultRule, Latency, Quotas, Readiness, SimCloud, SimConfig,
};
use nuage_provider::{
    AttachmentSpec, CloudId, DeleteOutcome, Direction, ErrorKind, ImageRef, NetworkSpec,
    Observation, Operation, PortRange, Protocol, Provider, ProviderKind, ProviderRegistry,
    ResourceKind, ResourceMeta, ResourceSpec, ResourceState, SecurityGroupSpec, SecurityRule,
    ServerSpec, SpecBody, SubnetSpec, VolumeSpec, WaitOptions, wait_until_absent, wait_until_ready,
};
use tokio::time::Instant;

fn meta(tenant: &str, resource: &str) -> ResourceMeta {
    ResourceMeta::new(tenant, "req-1", resource).unwrap()
}

fn network(tenant: &str) -> ResourceSpec {
    ResourceSpec::new(
        meta(tenant, "net"),
        SpecBody::Network(NetworkSpec {
            cidr: "10.0.0.0/16".parse().unwrap(),
        }),
    )
}

fn subnet(tenant: &str, net: &CloudId) -> ResourceSpec {
    ResourceSpec::new(
        meta(tenant, "subnet"),
        SpecBody::Subnet(SubnetSpec {
            network: net.clone(),
            cidr: "10.0.1.0/24".parse().unwrap(),
            zone: None,
        }),
    )
}

fn group(tenant: &str, net: &CloudId) -> ResourceSpec {
    ResourceSpec::new(
        meta(tenant, "sg"),
        SpecBody::SecurityGroup(SecurityGroupSpec {
            network: Some(net.clone()),
            rules: vec![SecurityRule {
                direction: Direction::Ingress,
                protocol: Protocol::Tcp,
                ports: Some(PortRange::single(22)),
                remote: "10.0.0.0/8".parse().unwrap(),
            }],
        }),
    )
}

fn server_spec(subnet: Option<&CloudId>, sgs: &[&CloudId]) -> ServerSpec {
    ServerSpec {
        vcpus: 2,
        ram_mib: 4096,
        image: ImageRef::new("debian", "12"),
        flavor: None,
        subnet: subnet.cloned(),
        security_groups: sgs.iter().map(|s| (*s).clone()).collect(),
        dedicated: false,
        zone: None,
        user_data: None,
    }
}

fn server(tenant: &str, name: &str, spec: ServerSpec) -> ResourceSpec {
    ResourceSpec::new(meta(tenant, name), SpecBody::Server(spec))
}

fn volume(tenant: &str, name: &str, size_gib: u32) -> ResourceSpec {
    ResourceSpec::new(
        meta(tenant, name),
        SpecBody::Volume(VolumeSpec {
            size_gib,
            zone: None,
            volume_type: None,
        }),
    )
}

fn attachment(tenant: &str, server: &CloudId, volume: &CloudId) -> ResourceSpec {
    ResourceSpec::new(
        meta(tenant, "data-att"),
        SpecBody::Attachment(AttachmentSpec {
            server: server.clone(),
            volume: volume.clone(),
            device: None,
        }),
    )
}

fn sim(config: SimConfig) -> Arc<SimCloud> {
    Arc::new(SimCloud::new(config).unwrap())
}

#[tokio::test]
async fn every_kind_is_created_observed_and_deleted_idempotently() {
    let cloud = sim(SimConfig::default());
    let p: Arc<dyn Provider> = cloud.clone();

    let net = network("t");
    assert_eq!(p.observe(&net).await.unwrap(), Observation::Absent);
    let net_id = p.create(&net).await.unwrap().cloud_id;
    let sub = subnet("t", &net_id);
    let sub_id = p.create(&sub).await.unwrap().cloud_id;
    let sg = group("t", &net_id);
    let sg_id = p.create(&sg).await.unwrap().cloud_id;
    let vol = volume("t", "data", 20);
    let vol_id = p.create(&vol).await.unwrap().cloud_id;
    let srv = server("t", "web", server_spec(Some(&sub_id), &[&sg_id]));
    let created = p.create(&srv).await.unwrap();
    let att = attachment("t", &created.cloud_id, &vol_id);
    let attached = p.create(&att).await.unwrap();

    assert!(created.is_ready() && created.is_up_to_date());
    assert_eq!(created.outputs.flavor.as_deref(), Some("sim.medium"));
    assert_eq!(created.outputs.addresses[0].ip.to_string(), "10.0.1.4");
    assert_eq!(created.outputs.zone.as_deref(), Some("sim-1a"));
    assert_eq!(attached.outputs.device.as_deref(), Some("/dev/vdb"));

    // Creating what exists returns it; observing finds it by identity.
    for spec in [&net, &sub, &sg, &vol, &srv, &att] {
        let again = p.create(spec).await.unwrap();
        let seen = p.observe(spec).await.unwrap().into_present().unwrap();
        assert_eq!(again.cloud_id, seen.cloud_id, "{}", spec.kind());
        assert_eq!(again.kind, spec.kind());
        assert!(seen.simulated);
        assert_eq!(seen.outputs.extra["simulated"], "true");
    }
    assert_eq!(cloud.resources().len(), 6);

    // Delete in reverse dependency order; deleting again is success.
    for spec in [&att, &srv, &vol, &sg, &sub, &net] {
        assert_eq!(
            p.delete(spec).await.unwrap(),
            DeleteOutcome::Deleted,
            "{}",
            spec.kind()
        );
        assert_eq!(p.observe(spec).await.unwrap(), Observation::Absent);
        assert_eq!(p.delete(spec).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    }
    assert!(cloud.resources().is_empty());
    assert_eq!(cloud.usage("t"), Default::default());
}

#[tokio::test]
async fn dependencies_are_enforced() {
    let p = sim(SimConfig::default());
    let net_id = p.create(&network("t")).await.unwrap().cloud_id;
    let sub_id = p.create(&subnet("t", &net_id)).await.unwrap().cloud_id;

    // Unknown dependencies are not found; nothing is created.
    let ghost = server(
        "t",
        "ghost",
        server_spec(Some(&"sim-subnet-nope".into()), &[]),
    );
    let err = p.create(&ghost).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(p.observe(&ghost).await.unwrap().is_absent());

    // A subnet outside its network is refused.
    let outside = ResourceSpec::new(
        meta("t", "outside"),
        SpecBody::Subnet(SubnetSpec {
            network: net_id.clone(),
            cidr: "192.168.0.0/24".parse().unwrap(),
            zone: None,
        }),
    );
    assert_eq!(
        p.create(&outside).await.unwrap_err().kind(),
        ErrorKind::Terminal
    );

    let web = p
        .create(&server("t", "web", server_spec(Some(&sub_id), &[])))
        .await
        .unwrap();
    let db = p
        .create(&server("t", "db", server_spec(Some(&sub_id), &[])))
        .await
        .unwrap();
    assert_eq!(db.outputs.addresses[0].ip.to_string(), "10.0.1.5");

    // A subnet with servers, a network with subnets cannot go.
    let err = p.delete(&subnet("t", &net_id)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(err.native_code(), Some("SimDependencyViolation"));
    assert_eq!(
        p.delete(&network("t")).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );

    // A volume attaches to one server only.
    let vol_id = p.create(&volume("t", "data", 10)).await.unwrap().cloud_id;
    p.create(&attachment("t", &web.cloud_id, &vol_id))
        .await
        .unwrap();
    let twice = ResourceSpec::new(
        meta("t", "data-att-db"),
        SpecBody::Attachment(AttachmentSpec {
            server: db.cloud_id.clone(),
            volume: vol_id.clone(),
            device: None,
        }),
    );
    assert_eq!(
        p.create(&twice).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        p.delete(&volume("t", "data", 10)).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );

    // Deleting the server detaches the volume, which can then go.
    p.delete(&server("t", "web", server_spec(Some(&sub_id), &[])))
        .await
        .unwrap();
    assert!(
        p.observe(&attachment("t", &web.cloud_id, &vol_id))
            .await
            .unwrap()
            .is_absent()
    );
    p.delete(&volume("t", "data", 10)).await.unwrap();
}

#[tokio::test]
async fn catalogue_and_spec_errors_are_terminal_and_change_nothing() {
    let cloud = sim(SimConfig {
        dedicated: false,
        ..SimConfig::default()
    });
    let mut bad_image = server_spec(None, &[]);
    bad_image.image = ImageRef::new("windows", "2022");
    let mut too_big = server_spec(None, &[]);
    too_big.vcpus = 64;
    let mut bad_flavor = server_spec(None, &[]);
    bad_flavor.flavor = Some("m5.large".into());
    let mut bad_zone = server_spec(None, &[]);
    bad_zone.zone = Some("eu-west-3a".into());
    let mut zero = server_spec(None, &[]);
    zero.ram_mib = 0;
    for spec in [bad_image, too_big, bad_flavor, bad_zone, zero] {
        let err = cloud.create(&server("t", "web", spec)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    }
    let mut dedicated = server_spec(None, &[]);
    dedicated.dedicated = true;
    let err = cloud
        .create(&server("t", "web", dedicated))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert!(err.to_string().contains("dedicated"), "{err}");
    assert!(cloud.resources().is_empty());
}

#[tokio::test]
async fn dedicated_servers_get_a_host() {
    let p = sim(SimConfig {
        capacity: Capacity {
            dedicated_hosts: Some(1),
            ..Capacity::default()
        },
        ..SimConfig::default()
    });
    let mut spec = server_spec(None, &[]);
    spec.dedicated = true;
    let one = p.create(&server("t", "one", spec.clone())).await.unwrap();
    assert!(
        one.outputs
            .host
            .as_deref()
            .unwrap()
            .starts_with("sim-host-")
    );
    let err = p
        .create(&server("t", "two", spec.clone()))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Capacity);
    p.delete(&server("t", "one", spec.clone())).await.unwrap();
    p.create(&server("t", "two", spec)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn readiness_after_a_delay_and_waits() {
    let p = sim(SimConfig {
        readiness: Readiness::After(Duration::from_secs(30)),
        deletion: Readiness::After(Duration::from_secs(10)),
        ..SimConfig::default()
    });
    let spec = server("t", "web", server_spec(None, &[]));
    let created = p.create(&spec).await.unwrap();
    assert_eq!(created.state, ResourceState::Creating);
    assert_eq!(created.native_state, "building");
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(!p.observe(&spec).await.unwrap().is_ready());

    let start = Instant::now();
    let options = WaitOptions::fixed(Duration::from_secs(2), Duration::from_secs(60));
    let ready = wait_until_ready(p.as_ref(), &spec, &options).await.unwrap();
    assert!(ready.is_ready());
    // One poll (2 s plus at most as much jitter) after the 1 s left.
    assert!(
        start.elapsed() <= Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );

    assert_eq!(p.delete(&spec).await.unwrap(), DeleteOutcome::InProgress);
    let seen = p.observe(&spec).await.unwrap().into_present().unwrap();
    assert_eq!(seen.state, ResourceState::Deleting);
    // Creating again while the old one is being deleted is a (retryable) conflict.
    let err = p.create(&spec).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert!(err.is_retryable());
    assert_eq!(p.delete(&spec).await.unwrap(), DeleteOutcome::InProgress);
    assert_eq!(
        p.usage("t").servers,
        1,
        "quota stays consumed while deleting"
    );
    wait_until_absent(p.as_ref(), &spec, &options)
        .await
        .unwrap();
    assert_eq!(p.usage("t").servers, 0);
    assert!(Instant::now().duration_since(start) >= Duration::from_secs(10));
}

#[tokio::test]
async fn readiness_after_observations_and_wait_timeout() {
    let p = sim(SimConfig {
        readiness: Readiness::AfterObserves(3),
        deletion: Readiness::AfterObserves(2),
        ..SimConfig::default()
    });
    let spec = volume("t", "data", 5);
    assert_eq!(
        p.create(&spec).await.unwrap().state,
        ResourceState::Creating
    );
    assert!(!p.observe(&spec).await.unwrap().is_ready());
    assert!(!p.observe(&spec).await.unwrap().is_ready());
    assert!(p.observe(&spec).await.unwrap().is_ready());
    assert_eq!(p.delete(&spec).await.unwrap(), DeleteOutcome::InProgress);
    assert!(!p.observe(&spec).await.unwrap().is_absent());
    assert!(p.observe(&spec).await.unwrap().is_absent());

    // A wait that runs out gives a transient timeout naming the resource.
    let slow = sim(SimConfig {
        readiness: Readiness::AfterObserves(1000),
        ..SimConfig::default()
    });
    slow.create(&spec).await.unwrap();
    let options = WaitOptions::fixed(Duration::from_millis(5), Duration::from_millis(50));
    let err = wait_until_ready(slow.as_ref(), &spec, &options)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient);
    assert!(err.to_string().contains(&spec.name()), "{err}");
}

#[tokio::test]
async fn quotas_are_per_tenant_and_capacity_is_global() {
    let p = sim(SimConfig {
        quotas: Quotas {
            vcpus: Some(4),
            volume_gib: Some(100),
            ..Quotas::default()
        },
        capacity: Capacity {
            vcpus: Some(6),
            ..Capacity::default()
        },
        ..SimConfig::default()
    });
    p.create(&server("a", "web-0", server_spec(None, &[])))
        .await
        .unwrap();
    p.create(&server("a", "web-1", server_spec(None, &[])))
        .await
        .unwrap();
    let err = p
        .create(&server("a", "web-2", server_spec(None, &[])))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("vcpus"), "{err}");
    assert_eq!(p.usage("a").vcpus, 4);

    // The free capacity, for the catalogue, is what the cloud has left over all tenants.
    let free = p
        .free_capacity()
        .await
        .unwrap()
        .expect("a capacity is configured");
    assert_eq!((free.vcpus, free.ram_mib), (Some(2), None));
    assert_eq!(
        sim(SimConfig::default()).free_capacity().await.unwrap(),
        None
    );

    // Tenant b has its own quota, but the cloud has only 2 vCPUs left.
    p.create(&server("b", "web-0", server_spec(None, &[])))
        .await
        .unwrap();
    let err = p
        .create(&server("b", "web-1", server_spec(None, &[])))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Capacity);
    assert!(err.is_retryable());

    assert_eq!(p.free_capacity().await.unwrap().unwrap().vcpus, Some(0));

    // Freeing capacity lets b proceed.
    p.delete(&server("a", "web-1", server_spec(None, &[])))
        .await
        .unwrap();
    assert_eq!(p.free_capacity().await.unwrap().unwrap().vcpus, Some(2));
    p.create(&server("b", "web-1", server_spec(None, &[])))
        .await
        .unwrap();

    let err = p.create(&volume("a", "big", 101)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Quota);
    assert_eq!(p.count(ResourceKind::Volume), 0);
}

#[tokio::test]
async fn updates_grow_resize_and_refuse_what_cannot_change() {
    let p = sim(SimConfig::default());
    let vol = volume("t", "data", 10);
    p.create(&vol).await.unwrap();
    let bigger = volume("t", "data", 20);
    let seen = p.observe(&bigger).await.unwrap().into_present().unwrap();
    assert!(!seen.is_up_to_date());
    assert_eq!(seen.drift[0].field, "size_gib");
    let grown = p.update(&bigger).await.unwrap();
    assert!(grown.is_up_to_date());
    assert_eq!(grown.outputs.size_gib, Some(20));
    assert_eq!(p.usage("t").volume_gib, 20);
    let err = p.update(&vol).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);

    let srv = server("t", "web", server_spec(None, &[]));
    p.create(&srv).await.unwrap();
    let mut larger = server_spec(None, &[]);
    larger.vcpus = 4;
    let larger = server("t", "web", larger);
    assert_eq!(
        p.observe(&larger).await.unwrap().present().unwrap().drift[0].field,
        "flavor"
    );
    let resized = p.update(&larger).await.unwrap();
    assert_eq!(resized.outputs.flavor.as_deref(), Some("sim.large"));
    assert_eq!(p.usage("t").vcpus, 4);

    let mut other_image = server_spec(None, &[]);
    other_image.image = ImageRef::new("ubuntu", "24.04");
    let err = p
        .update(&server("t", "web", other_image))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);

    let err = p.update(&volume("t", "nothing", 1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[tokio::test]
async fn scripted_faults_fail_then_clear() {
    let cloud = sim(SimConfig::default());
    let spec = server("t", "web", server_spec(None, &[]));
    cloud.faults().push(
        FaultRule::fail(ErrorKind::Throttled { retry_after: None })
            .on(Operation::Create)
            .kind(ResourceKind::Server)
            .times(2),
    );
    for _ in 0..2 {
        let err = cloud.create(&spec).await.unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Throttled {
                retry_after: Some(Duration::from_secs(1))
            }
        );
        assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
        assert_eq!(err.native_code(), Some("SimInjected.throttled"));
    }
    assert!(
        cloud.resources().is_empty(),
        "a fault before the effect changes nothing"
    );
    cloud
        .faults()
        .push(FaultRule::fail(ErrorKind::Auth).times(0));
    cloud.create(&spec).await.unwrap();
    assert_eq!(
        cloud.faults().injected(),
        2,
        "a rule for zero calls hits none"
    );

    // Until-cleared rules hold until cleared, and only for what they match.
    cloud
        .faults()
        .push(FaultRule::fail(ErrorKind::Capacity).resource("db"));
    let db = server("t", "db", server_spec(None, &[]));
    for _ in 0..3 {
        assert_eq!(
            cloud.create(&db).await.unwrap_err().kind(),
            ErrorKind::Capacity
        );
    }
    cloud.observe(&spec).await.unwrap();
    cloud.faults().clear();
    cloud.create(&db).await.unwrap();
}

#[tokio::test]
async fn a_lost_answer_leaves_one_resource_that_the_retry_finds() {
    let cloud = sim(SimConfig::default());
    let spec = server("t", "web", server_spec(None, &[]));
    cloud.faults().push(
        FaultRule::fail_after_effect(ErrorKind::Transient)
            .on(Operation::Create)
            .times(1),
    );
    let err = cloud.create(&spec).await.unwrap_err();
    assert!(err.is_retryable());
    // The step, found pending after the "crash", looks up before creating: one server.
    let found = cloud.observe(&spec).await.unwrap().into_present().unwrap();
    let retried = cloud.create(&spec).await.unwrap();
    assert_eq!(found.cloud_id, retried.cloud_id);
    assert_eq!(cloud.count(ResourceKind::Server), 1);
}

#[tokio::test(start_paused = true)]
async fn latency_and_delay_faults_take_time() {
    let cloud = sim(SimConfig {
        latency: Latency::fixed(Duration::from_millis(150)),
        ..SimConfig::default()
    });
    let spec = volume("t", "data", 5);
    let start = Instant::now();
    cloud.create(&spec).await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_millis(150));

    cloud.faults().push(
        FaultRule::delay(Duration::from_secs(5))
            .on(Operation::Observe)
            .times(1),
    );
    let start = Instant::now();
    let slow = tokio::time::timeout(Duration::from_secs(1), cloud.observe(&spec)).await;
    assert!(
        slow.is_err(),
        "the delayed call outlived the caller's timeout"
    );
    assert!(start.elapsed() >= Duration::from_secs(1));
    let start = Instant::now();
    assert!(cloud.observe(&spec).await.unwrap().is_ready());
    assert_eq!(start.elapsed(), Duration::from_millis(150));

    // Random latency stays in its range.
    let ranged = sim(SimConfig {
        latency: Latency {
            min: Duration::from_millis(10),
            max: Duration::from_millis(50),
        },
        ..SimConfig::default()
    });
    for i in 0..20 {
        let start = Instant::now();
        ranged
            .create(&volume("t", &format!("v{i}"), 1))
            .await
            .unwrap();
        let took = start.elapsed();
        assert!(
            took >= Duration::from_millis(10) && took <= Duration::from_millis(50),
            "{took:?}"
        );
    }
}

/// Runs a fixed sequence of calls and records every outcome.
async fn script(seed: u64) -> Vec<String> {
    let cloud = sim(SimConfig {
        seed,
        latency: Latency {
            min: Duration::ZERO,
            max: Duration::from_millis(20),
        },
        faults: FaultRates {
            transient: 0.2,
            throttle: 0.1,
            lost_response: 0.1,
            ..FaultRates::default()
        },
        ..SimConfig::default()
    });
    let mut log = Vec::new();
    for i in 0..40 {
        let spec = volume("t", &format!("v{}", i % 7), 1);
        let start = Instant::now();
        let outcome = match i % 3 {
            0 | 1 => cloud.create(&spec).await.map(|o| o.cloud_id.to_string()),
            _ => cloud.delete(&spec).await.map(|d| format!("{d:?}")),
        };
        let took = start.elapsed().as_millis();
        log.push(match outcome {
            Ok(v) => format!("{i} ok {v} {took}ms"),
            Err(e) => format!("{i} {} {took}ms", e.kind()),
        });
    }
    log.push(format!("injected {}", cloud.faults().injected()));
    log
}

#[tokio::test(start_paused = true)]
async fn same_seed_same_results() {
    let a = script(42).await;
    let b = script(42).await;
    assert_eq!(a, b);
    let c = script(43).await;
    assert_ne!(a, c);
    let faulted = a.iter().filter(|l| !l.contains(" ok ")).count();
    assert!(
        faulted > 3 && faulted < 30,
        "{faulted} faulted calls in {a:#?}"
    );
}

#[tokio::test]
async fn simulated_is_said_everywhere_and_registry_holds_it() {
    let cloud = sim(SimConfig {
        instance: "sim-paris".into(),
        ..SimConfig::default()
    });
    let d = cloud.descriptor();
    assert_eq!(
        (d.kind, d.simulated, d.instance.as_str()),
        (ProviderKind::Sim, true, "sim-paris")
    );
    let caps = cloud.capabilities().await.unwrap();
    assert!(caps.simulated);
    assert!(caps.supports(ResourceKind::Attachment));
    assert!(caps.has_image(&ImageRef::new("debian", "12")));

    let mut registry = ProviderRegistry::new();
    registry.register(cloud.clone()).unwrap();
    assert!(registry.register(cloud.clone()).is_err());
    let p = registry.require("sim-paris").unwrap();
    assert!(p.descriptor().simulated);
    assert!(registry.require("aws-paris").is_err());
    assert_eq!(cloud.calls(Operation::Capabilities), 1);
}

#[test]
fn config_reads_from_a_file_and_bad_config_is_refused() {
    let config: SimConfig = serde_json::from_str(
        r#"{
            "instance": "chaos",
            "seed": 7,
            "latency": {"min_ms": 5, "max_ms": 20},
            "readiness": {"after_ms": 1500},
            "deletion": {"after_observes": 2},
            "quotas": {"vcpus": 64},
            "faults": {"transient": 0.05, "throttle_retry_after_ms": 250}
        }"#,
    )
    .unwrap();
    assert_eq!(
        config.readiness,
        Readiness::After(Duration::from_millis(1500))
    );
    assert_eq!(config.deletion, Readiness::AfterObserves(2));
    assert_eq!(config.latency.max, Duration::from_millis(20));
    assert_eq!(
        config.faults.throttle_retry_after,
        Duration::from_millis(250)
    );
    assert_eq!(config.quotas.vcpus, Some(64));
    SimCloud::new(config).unwrap();

    assert!(serde_json::from_str::<SimConfig>(r#"{"sed": 1}"#).is_err());
    for bad in [
        SimConfig {
            zones: vec![],
            ..SimConfig::default()
        },
        SimConfig {
            latency: Latency {
                min: Duration::from_millis(5),
                max: Duration::from_millis(1),
            },
            ..SimConfig::default()
        },
        SimConfig {
            faults: FaultRates {
                transient: 0.8,
                throttle: 0.5,
                ..FaultRates::default()
            },
            ..SimConfig::default()
        },
    ] {
        assert_eq!(SimCloud::new(bad).unwrap_err().kind(), ErrorKind::Terminal);
    }
}
