//! The adapter against real libvirt: the in-process test driver, and a pool of several
//! unprivileged libvirtd instances reached over unix sockets through the remote protocol.

#![cfg(feature = "libvirt")]

mod common;

use common::{Daemon, IMAGE_VOLUME, STORAGE_POOL, settings};
use nuage_provider::{
    Cidr, CloudId, DeleteOutcome, ErrorKind, ImageRef, NetworkSpec, Observation, Provider,
    ResourceMeta, ResourceSpec, ResourceState, SecurityGroupSpec, ServerSpec, SpecBody, SubnetSpec,
    VolumeSpec,
};
use nuage_provider_libvirt::xml::{DiskSpec, DomainSpec, domain_xml};
use nuage_provider_libvirt::{DomainTag, Driver, Health, LibvirtProvider};

fn meta(request: &str, resource: &str) -> ResourceMeta {
    ResourceMeta::new("min-test", request, resource).unwrap()
}

fn server(request: &str, resource: &str, subnet: Option<CloudId>) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, resource),
        SpecBody::Server(ServerSpec {
            vcpus: 1,
            ram_mib: 1024,
            image: ImageRef::new("debian", "12"),
            flavor: None,
            subnet,
            security_groups: vec![],
            dedicated: true,
            zone: None,
            user_data: None,
        }),
    )
}

fn network(request: &str) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "net"),
        SpecBody::Network(NetworkSpec {
            cidr: "10.40.0.0/16".parse().unwrap(),
        }),
    )
}

fn subnet(request: &str, net: CloudId, cidr: &str) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "sub"),
        SpecBody::Subnet(SubnetSpec {
            network: net,
            cidr: cidr.parse::<Cidr>().unwrap(),
            zone: None,
        }),
    )
}

fn volume(request: &str, gib: u32) -> ResourceSpec {
    ResourceSpec::new(
        meta(request, "data"),
        SpecBody::Volume(VolumeSpec {
            size_gib: gib,
            zone: None,
            volume_type: None,
        }),
    )
}

fn host_of(o: &nuage_provider::Observed) -> String {
    o.outputs.host.clone().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_test_driver_runs_the_whole_lifecycle() {
    // The in-process driver keeps its state while one connection is open: this one.
    let keeper = virt::connect::Connect::open(Some("test:///default")).unwrap();
    common::seed_image(&keeper);
    let p = LibvirtProvider::connect(settings(
        &[("local", "test:///default".into(), "r1")],
        "soft",
    ))
    .await
    .unwrap();
    assert!(p.descriptor().simulated);
    let caps = p.capabilities().await.unwrap();
    assert!(
        caps.dedicated
            && caps
                .images
                .iter()
                .any(|i| i.image == ImageRef::new("debian", "12"))
    );
    assert_eq!(caps.zones, ["paris-1"]);

    // Network, subnet, volume, server.
    let net = p.create(&network("req-1")).await.unwrap();
    assert_eq!(net.cloud_id.as_str(), network("req-1").name());
    assert_eq!(
        p.create(&network("req-1")).await.unwrap().cloud_id,
        net.cloud_id
    );
    let sub_spec = subnet("req-1", net.cloud_id.clone(), "10.40.1.0/24");
    let sub = p.create(&sub_spec).await.unwrap();
    assert_eq!(
        sub.cloud_id.as_str(),
        format!("{}/10.40.1.0/24", net.cloud_id)
    );
    assert!(p.observe(&sub_spec).await.unwrap().is_ready());
    let vol = p.create(&volume("req-1", 2)).await.unwrap();
    assert_eq!(vol.outputs.size_gib, Some(2));
    assert_eq!(
        vol.cloud_id.as_str(),
        format!("local/{STORAGE_POOL}/{}", volume("req-1", 2).name())
    );

    let web = server("req-1", "web-0", Some(sub.cloud_id.clone()));
    let created = p.create(&web).await.unwrap();
    assert_eq!(created.state, ResourceState::Ready);
    assert_eq!(created.outputs.flavor.as_deref(), Some("t.2c1g"));
    assert_eq!(created.outputs.extra["network"], net.cloud_id.as_str());
    let dom = keeper.lookup_domain_by_name(&web.name()).unwrap();
    assert!(dom.is_active().unwrap());
    let xml = dom.xml_desc(0).unwrap();
    assert!(
        xml.contains(&format!("volume='{}-boot'", web.name())),
        "{xml}"
    );
    assert!(
        xml.contains("request=\"req-1\"") || xml.contains("request='req-1'"),
        "{xml}"
    );

    // Creating what exists returns it; observing finds it.
    let again = p.create(&web).await.unwrap();
    assert_eq!(again.cloud_id, created.cloud_id);
    assert!(again.duplicates.is_empty());
    assert!(p.observe(&web).await.unwrap().is_ready());

    // Bad input is refused and changes nothing.
    let before = keeper.list_all_domains(0).unwrap().len();
    let mut bad = server("req-1", "web-9", None);
    if let SpecBody::Server(s) = &mut bad.body {
        s.image = ImageRef::new("windows", "2022");
    }
    let err = p.create(&bad).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal, "{err}");
    let sg = ResourceSpec::new(
        meta("req-1", "sg"),
        SpecBody::SecurityGroup(SecurityGroupSpec {
            network: None,
            rules: vec![],
        }),
    );
    assert_eq!(p.create(&sg).await.unwrap_err().kind(), ErrorKind::Terminal);
    assert_eq!(keeper.list_all_domains(0).unwrap().len(), before);

    // A subnet with servers cannot go; a network with subnets cannot go.
    assert_eq!(
        p.delete(&sub_spec).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );
    assert_eq!(
        p.delete(&network("req-1")).await.unwrap_err().kind(),
        ErrorKind::Conflict
    );

    // Full cleanup, in reverse order; deleting what is gone is success.
    assert_eq!(p.delete(&web).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(p.delete(&web).await.unwrap(), DeleteOutcome::AlreadyAbsent);
    assert!(p.observe(&web).await.unwrap().is_absent());
    assert_eq!(p.delete(&sub_spec).await.unwrap(), DeleteOutcome::Deleted);
    assert!(p.observe(&sub_spec).await.unwrap().is_absent());
    assert_eq!(
        p.delete(&network("req-1")).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        p.delete(&volume("req-1", 2)).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(
        p.delete(&volume("req-1", 2)).await.unwrap(),
        DeleteOutcome::AlreadyAbsent
    );
    let pool = keeper.lookup_storage_pool_by_name(STORAGE_POOL).unwrap();
    assert_eq!(pool.list_volumes().unwrap(), [IMAGE_VOLUME]);
    assert!(
        keeper
            .lookup_network_by_name(&network("req-1").name())
            .is_err()
    );
    assert!(keeper.lookup_domain_by_name(&web.name()).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servers_spread_across_hosts_then_racks_and_refuse_when_none_fits() {
    let daemons = [
        Daemon::start("a1"),
        Daemon::start("a2"),
        Daemon::start("a3"),
    ];
    let racks = ["r1", "r1", "r2"];
    let hosts: Vec<(&str, String, &str)> = daemons
        .iter()
        .zip(racks)
        .map(|(d, r)| (d.name.as_str(), d.uri(), r))
        .collect();
    let p = LibvirtProvider::connect(settings(&hosts, "hard"))
        .await
        .unwrap();
    assert!(p.capacity().hosts_schedulable == 3, "{:?}", p.capacity());
    assert_eq!(p.capacity().memory_free_mib, 3 * 3072);

    let mut placed = Vec::new();
    for i in 0..3 {
        let o = p
            .create(&server("req-a", &format!("web-{i}"), None))
            .await
            .unwrap();
        assert_eq!(o.state, ResourceState::Ready);
        placed.push((host_of(&o), o.outputs.extra["rack"].clone()));
    }
    // Second server goes to the other rack, then every host holds one.
    assert_ne!(placed[0].1, placed[1].1, "{placed:?}");
    let mut hosts_used: Vec<&str> = placed.iter().map(|(h, _)| h.as_str()).collect();
    hosts_used.sort();
    assert_eq!(hosts_used, ["a1", "a2", "a3"]);
    for d in &daemons {
        assert_eq!(d.nuage_domains().len(), 1, "{}: {:?}", d.name, d.domains());
    }

    // Hard anti-affinity: a fourth server of the request has nowhere to go.
    let err = p.create(&server("req-a", "web-3", None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Capacity, "{err}");
    assert!(err.to_string().contains("anti-affinity"), "{err}");
    assert_eq!(
        daemons
            .iter()
            .map(|d| d.nuage_domains().len())
            .sum::<usize>(),
        3
    );

    // Another request is free to use every host; its two servers land apart.
    let b0 = p.create(&server("req-b", "api-0", None)).await.unwrap();
    let b1 = p.create(&server("req-b", "api-1", None)).await.unwrap();
    assert_ne!(host_of(&b0), host_of(&b1));
    let cap = p.capacity();
    assert_eq!(cap.memory_free_mib, 3 * 3072 - 5 * 1024);
    assert_eq!(cap.domains, 5);
    // the contract's free capacity, for the catalogue, says the same
    let free = p
        .free_capacity()
        .await
        .unwrap()
        .expect("a pool knows its capacity");
    assert_eq!(free.ram_mib, Some(3 * 3072 - 5 * 1024));
    assert_eq!(free.vcpus, Some(cap.vcpus_free));

    // Memory runs out: 3 GiB hosts hold at most 3 servers of 1 GiB.
    let mut refused = None;
    for i in 0..5 {
        match p.create(&server(&format!("req-c{i}"), "big", None)).await {
            Ok(_) => {}
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("the pool fills up");
    assert_eq!(refused.kind(), ErrorKind::Capacity);
    assert!(refused.to_string().contains("short of memory"), "{refused}");
    assert_eq!(p.capacity().memory_free_mib, 0);

    // Clean up everything through the provider.
    for d in &daemons {
        for name in d.nuage_domains() {
            let spec = all_specs().into_iter().find(|s| s.name() == name).unwrap();
            assert_eq!(p.delete(&spec).await.unwrap(), DeleteOutcome::Deleted);
        }
        assert!(d.nuage_domains().is_empty());
        assert_eq!(d.volumes(), [IMAGE_VOLUME]);
    }
    assert_eq!(p.capacity().memory_free_mib, 3 * 3072);
    assert_eq!(
        p.free_capacity().await.unwrap().unwrap().ram_mib,
        Some(3 * 3072)
    );
}

fn all_specs() -> Vec<ResourceSpec> {
    let mut v = Vec::new();
    for i in 0..4 {
        v.push(server("req-a", &format!("web-{i}"), None));
    }
    v.push(server("req-b", "api-0", None));
    v.push(server("req-b", "api-1", None));
    for i in 0..5 {
        v.push(server(&format!("req-c{i}"), "big", None));
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_going_away_mid_request_is_skipped_until_it_answers_again() {
    let mut daemons = [
        Daemon::start("b1"),
        Daemon::start("b2"),
        Daemon::start("b3"),
    ];
    let hosts: Vec<(&str, String, &str)> = daemons
        .iter()
        .zip(["r1", "r2", "r3"])
        .map(|(d, r)| (d.name.as_str(), d.uri(), r))
        .collect();
    let p = LibvirtProvider::connect(settings(&hosts, "soft"))
        .await
        .unwrap();
    let net = p.create(&network("req-h")).await.unwrap();
    let sub = p
        .create(&subnet("req-h", net.cloud_id.clone(), "10.40.2.0/24"))
        .await
        .unwrap();

    // b1 dies after the inventory was read: the first server would go there (all hosts tie),
    // the create finds it gone, marks it unhealthy and places the server elsewhere.
    daemons[0].kill();
    let s0 = p
        .create(&server("req-h", "web-0", Some(sub.cloud_id.clone())))
        .await
        .unwrap();
    assert_ne!(host_of(&s0), "b1");
    assert!(
        p.with_pool(|pool| matches!(pool.host("b1").unwrap().health(), Health::Unhealthy { .. }))
    );
    assert_eq!(p.capacity().hosts_unhealthy, 1);

    // The rest of the request spreads over the hosts still up.
    let s1 = p
        .create(&server("req-h", "web-1", Some(sub.cloud_id.clone())))
        .await
        .unwrap();
    let s2 = p
        .create(&server("req-h", "web-2", Some(sub.cloud_id.clone())))
        .await
        .unwrap();
    assert_ne!(host_of(&s0), host_of(&s1));
    assert_ne!(host_of(&s2), "b1");

    // b1 comes back (empty): it is probed, healthy again, and the next server of the request
    // goes there, the network copied onto it from a peer.
    daemons[0].restart();
    let s3 = p
        .create(&server("req-h", "web-3", Some(sub.cloud_id.clone())))
        .await
        .unwrap();
    assert_eq!(host_of(&s3), "b1");
    assert_eq!(
        p.with_pool(|pool| pool.host("b1").unwrap().health().clone()),
        Health::Healthy
    );
    assert!(
        daemons[0]
            .networks()
            .contains(&net.cloud_id.as_str().to_owned())
    );

    // Full cleanup.
    for i in 0..4 {
        let spec = server("req-h", &format!("web-{i}"), Some(sub.cloud_id.clone()));
        assert_eq!(p.delete(&spec).await.unwrap(), DeleteOutcome::Deleted);
    }
    let sub_spec = subnet("req-h", net.cloud_id.clone(), "10.40.2.0/24");
    assert_eq!(p.delete(&sub_spec).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(
        p.delete(&network("req-h")).await.unwrap(),
        DeleteOutcome::Deleted
    );
    for d in &daemons {
        assert!(d.nuage_domains().is_empty(), "{}", d.name);
        assert_eq!(d.volumes(), [IMAGE_VOLUME]);
        assert!(
            !d.networks().iter().any(|n| n.starts_with("nuage-")),
            "{:?}",
            d.networks()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn re_create_after_a_crash_finds_what_was_made_and_delete_removes_duplicates() {
    let daemons = [Daemon::start("c1"), Daemon::start("c2")];
    let hosts: Vec<(&str, String, &str)> = daemons
        .iter()
        .zip(["r1", "r2"])
        .map(|(d, r)| (d.name.as_str(), d.uri(), r))
        .collect();

    // The broker creates a server, then crashes before recording the result.
    let first = {
        let p1 = LibvirtProvider::connect(settings(&hosts, "soft"))
            .await
            .unwrap();
        p1.create(&server("req-x", "web-0", None)).await.unwrap()
    };
    // A new process re-runs the step: it finds the server, makes no second one.
    let p2 = LibvirtProvider::connect(settings(&hosts, "soft"))
        .await
        .unwrap();
    let again = p2.create(&server("req-x", "web-0", None)).await.unwrap();
    assert_eq!(again.cloud_id, first.cloud_id);
    let total: usize = daemons.iter().map(|d| d.nuage_domains().len()).sum();
    assert_eq!(total, 1);

    // A crash between define and start left web-1 defined but stopped on c2: the re-run
    // finds it there and starts it rather than placing a new one.
    let web1 = server("req-x", "web-1", None);
    let xml = domain_xml(
        &DomainSpec {
            name: web1.name(),
            vcpus: 2,
            memory_mib: 1024,
            disks: vec![DiskSpec {
                pool: STORAGE_POOL.into(),
                volume: format!("{}-boot", web1.name()),
            }],
            interfaces: vec![],
            tag: DomainTag {
                tenant: Some("min-test".into()),
                request: Some("req-x".into()),
                resource: Some("web-1".into()),
                group: Some(web1.meta.request_short()),
            },
        },
        Driver::Test,
    )
    .unwrap();
    daemons[1].conn().define_domain_xml(&xml).unwrap();
    let o = p2.create(&web1).await.unwrap();
    assert_eq!(host_of(&o), "c2");
    assert_eq!(o.state, ResourceState::Ready);
    assert_eq!(
        daemons[0].nuage_domains().len() + daemons[1].nuage_domains().len(),
        2
    );

    // A duplicate (left by a host that came back after its server was re-created elsewhere)
    // is reported, and delete removes every copy.
    let other = if host_of(&again) == "c1" {
        &daemons[1]
    } else {
        &daemons[0]
    };
    let dup_xml = xml.replace(&web1.name(), &server("req-x", "web-0", None).name());
    other.conn().define_domain_xml(&dup_xml).unwrap();
    let seen = p2.observe(&server("req-x", "web-0", None)).await.unwrap();
    let Observation::Present(seen) = seen else {
        panic!("absent")
    };
    assert_eq!(
        seen.cloud_id, first.cloud_id,
        "the running copy comes first"
    );
    assert_eq!(seen.duplicates.len(), 1);
    assert_eq!(
        p2.delete(&server("req-x", "web-0", None)).await.unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(p2.delete(&web1).await.unwrap(), DeleteOutcome::Deleted);
    for d in &daemons {
        assert!(
            d.nuage_domains().is_empty(),
            "{}: {:?}",
            d.name,
            d.domains()
        );
        assert_eq!(d.volumes(), [IMAGE_VOLUME]);
    }
}
