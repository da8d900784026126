use super::*;
use crate::config::{HostConfig, HostLabels, Overcommit};
use crate::inventory::{DomainFacts, DomainState, DomainTag};
use crate::uri::HostUri;

pub(crate) fn host(name: &str, rack: Option<&str>) -> HostConfig {
    HostConfig {
        name: name.into(),
        uri: HostUri::parse("test:///default").unwrap(),
        labels: HostLabels {
            site: Some("paris-1".into()),
            rack: rack.map(Into::into),
            ..HostLabels::default()
        },
        overcommit: None,
        reserved: None,
        storage_pool: None,
        maintenance: false,
    }
}

fn domain(name: &str, vcpus: u32, memory_mib: u64, group: Option<&str>) -> DomainFacts {
    DomainFacts {
        name: name.into(),
        uuid: String::new(),
        vcpus,
        memory_mib,
        state: DomainState::Running,
        tag: group.map(|g| DomainTag {
            tenant: None,
            request: None,
            resource: None,
            group: Some(g.into()),
        }),
    }
}

fn pool() -> Pool {
    let mut cfg = PoolConfig {
        name: "p".into(),
        defaults: Default::default(),
        hosts: vec![
            host("a", Some("r1")),
            host("b", Some("r1")),
            host("c", None),
        ],
    };
    cfg.defaults.overcommit = Overcommit {
        cpu: 2.0,
        memory: 1.0,
    };
    cfg.defaults.reserved.cpus = 1;
    cfg.defaults.reserved.memory_mib = 1024;
    Pool::new(&cfg).unwrap()
}

#[test]
fn hosts_start_unknown_and_unschedulable() {
    let p = pool();
    assert!(p.hosts().iter().all(|h| *h.health() == Health::Unknown));
    assert!(p.hosts().iter().all(|h| !h.schedulable()));
    assert_eq!(p.capacity().hosts_unknown, 3);
    assert_eq!(p.capacity().vcpus_free, 0);
    assert_eq!(p.rack_count, 2, "a and b share r1, c is its own rack");
}

#[test]
fn facts_set_limits_usage_and_groups() {
    let mut p = pool();
    p.apply_facts(
        "a",
        HostFacts {
            cpus: 16,
            memory_mib: 32768,
            domains: vec![domain("x", 4, 4096, Some("g")), domain("y", 2, 1024, None)],
        },
    )
    .unwrap();
    let a = p.host("a").unwrap();
    assert_eq!(a.vcpu_limit(), 30, "(16 - 1) × 2");
    assert_eq!(a.memory_limit_mib(), 31744, "32768 - 1024");
    assert_eq!((a.used_vcpus(), a.used_memory_mib()), (6, 5120));
    assert_eq!((a.free_vcpus(), a.free_memory_mib()), (24, 26624));
    assert_eq!(p.groups["g"][&0], 1);
    assert_eq!(p.hosts_holding("x"), ["a"]);

    // A new sync replaces everything, groups included.
    p.apply_facts(
        "a",
        HostFacts {
            cpus: 16,
            memory_mib: 32768,
            domains: vec![domain("y", 2, 1024, None)],
        },
    )
    .unwrap();
    assert_eq!(p.host("a").unwrap().used_vcpus(), 2);
    assert!(!p.groups.contains_key("g"));
    assert!(p.hosts_holding("x").is_empty());
}

#[test]
fn record_and_forget_keep_totals_exact() {
    let mut p = pool();
    let facts = HostFacts {
        cpus: 8,
        memory_mib: 8192,
        domains: vec![],
    };
    p.apply_facts("b", facts).unwrap();
    let fp = |g: &str| Footprint {
        vcpus: 2,
        memory_mib: 512,
        group: Some(g.into()),
    };
    p.record_domain("b", "s1", fp("g")).unwrap();
    p.record_domain("b", "s2", fp("g")).unwrap();
    p.record_domain("b", "s2", fp("g")).unwrap(); // same name again: replaced, not added
    assert_eq!(p.host("b").unwrap().used_vcpus(), 4);
    assert_eq!(p.groups["g"][&1], 2);
    p.forget_domain("b", "s1").unwrap();
    p.forget_domain("b", "s1").unwrap(); // already gone: nothing happens
    p.forget_domain("b", "s2").unwrap();
    assert_eq!(p.host("b").unwrap().used_vcpus(), 0);
    assert_eq!(p.host("b").unwrap().used_memory_mib(), 0);
    assert!(p.groups.is_empty());
    assert!(matches!(
        p.record_domain("zz", "s", fp("g")),
        Err(Error::UnknownHost(h)) if h == "zz"
    ));
}

#[test]
fn capacity_counts_only_schedulable_hosts() {
    let mut p = pool();
    for h in ["a", "b", "c"] {
        p.apply_facts(
            h,
            HostFacts {
                cpus: 9,
                memory_mib: 9216,
                domains: vec![domain(&format!("{h}-d"), 4, 2048, None)],
            },
        )
        .unwrap();
    }
    // each host: 16 vCPU limit, 8192 MiB limit, 12 vCPU / 6144 MiB free
    p.mark_unhealthy("b", "connection refused").unwrap();
    p.set_maintenance("c", true).unwrap();
    let c = p.capacity();
    assert_eq!(c.hosts_total, 3);
    assert_eq!(c.hosts_schedulable, 1);
    assert_eq!(c.hosts_unhealthy, 1);
    assert_eq!(c.hosts_maintenance, 1);
    assert_eq!((c.vcpus_limit, c.vcpus_free), (16, 12));
    assert_eq!((c.memory_limit_mib, c.memory_free_mib), (8192, 6144));
    assert_eq!(c.largest_free_vcpus, 12);
    assert_eq!(c.domains, 3);
    assert_eq!(p.slots_for(4, 2048), 3);
    assert_eq!(p.slots_for(4, 4096), 1);
    assert_eq!(p.slots_for(0, 1), 0);

    // The unhealthy host answers again; it is back in the totals.
    p.mark_healthy("b").unwrap();
    p.set_maintenance("c", false).unwrap();
    assert_eq!(p.capacity().hosts_schedulable, 3);
    assert_eq!(p.capacity().vcpus_free, 36);
}
