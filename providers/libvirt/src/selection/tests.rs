use super::*;
use crate::config::{HostConfig, HostLabels, PoolConfig};
use crate::inventory::{DomainFacts, DomainState, DomainTag, HostFacts};
use crate::pool::Footprint;
use crate::uri::HostUri;

/// Hosts given as (name, rack, cpus, memory MiB); overcommit 1:1, nothing reserved.
fn pool(hosts: &[(&str, &str, u32, u64)]) -> Pool {
    let mut cfg = PoolConfig {
        name: "p".into(),
        defaults: Default::default(),
        hosts: hosts
            .iter()
            .map(|(name, rack, _, _)| HostConfig {
                name: (*name).into(),
                uri: HostUri::parse("test:///default").unwrap(),
                labels: HostLabels {
                    rack: Some((*rack).into()),
                    site: Some(
                        if rack.starts_with('x') {
                            "lyon"
                        } else {
                            "paris"
                        }
                        .into(),
                    ),
                    ..Default::default()
                },
                overcommit: None,
                reserved: None,
                storage_pool: None,
                maintenance: false,
            })
            .collect(),
    };
    cfg.defaults.overcommit.cpu = 1.0;
    let mut p = Pool::new(&cfg).unwrap();
    for (name, _, cpus, mem) in hosts {
        p.apply_facts(
            name,
            HostFacts {
                cpus: *cpus,
                memory_mib: *mem,
                domains: vec![],
            },
        )
        .unwrap();
    }
    p
}

fn demand(name: &str, vcpus: u32, memory_mib: u64) -> Demand {
    Demand {
        name: name.into(),
        vcpus,
        memory_mib,
    }
}

fn req(servers: Vec<Demand>, group: Option<&str>, spread: Spread) -> Request {
    Request {
        servers,
        group: group.map(Into::into),
        spread,
        site: None,
    }
}

fn hosts_of(a: &[Assignment]) -> Vec<&str> {
    a.iter().map(|x| x.host.as_str()).collect()
}

#[test]
fn best_fit_picks_the_host_left_fullest() {
    let p = pool(&[
        ("big", "r1", 32, 65536),
        ("snug", "r2", 4, 8192),
        ("mid", "r3", 8, 16384),
    ]);
    let a = p
        .select(&req(vec![demand("s", 4, 8192)], None, Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["snug"]);
    let a = p
        .select(&req(vec![demand("s", 6, 8192)], None, Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["mid"]);
}

#[test]
fn servers_of_one_request_see_each_other() {
    // Without a group, best fit packs: two 4-vCPU servers fill the 8-vCPU host first.
    let p = pool(&[("a", "r1", 8, 16384), ("b", "r2", 16, 32768)]);
    let a = p
        .select(&req(
            vec![
                demand("s0", 4, 4096),
                demand("s1", 4, 4096),
                demand("s2", 4, 4096),
            ],
            None,
            Spread::Hard,
        ))
        .unwrap();
    assert_eq!(hosts_of(&a), ["a", "a", "b"]);
}

#[test]
fn anti_affinity_spreads_across_hosts_then_racks() {
    // r1 holds the two best-fitting hosts; spreading must still prefer a new rack.
    let p = pool(&[
        ("r1-a", "r1", 4, 8192),
        ("r1-b", "r1", 4, 8192),
        ("r2-a", "r2", 32, 65536),
        ("r3-a", "r3", 32, 65536),
    ]);
    let servers = vec![
        demand("s0", 2, 2048),
        demand("s1", 2, 2048),
        demand("s2", 2, 2048),
    ];
    let a = p
        .select(&req(servers.clone(), Some("g"), Spread::Hard))
        .unwrap();
    let hosts = hosts_of(&a);
    let mut racks: Vec<&str> = hosts.iter().map(|h| &h[..2]).collect();
    racks.sort();
    racks.dedup();
    assert_eq!(racks.len(), 3, "three racks used: {hosts:?}");
    assert!(hosts.contains(&"r1-a") || hosts.contains(&"r1-b"));

    // Four servers on three racks: every host distinct, r1 takes two.
    let mut four = servers.clone();
    four.push(demand("s3", 2, 2048));
    let a = p.select(&req(four, Some("g"), Spread::Hard)).unwrap();
    let mut hosts = hosts_of(&a);
    hosts.sort();
    assert_eq!(hosts, ["r1-a", "r1-b", "r2-a", "r3-a"]);

    // Without a group the same servers pack onto the fullest-fitting r1 hosts.
    let a = p.select(&req(servers, None, Spread::Hard)).unwrap();
    assert!(hosts_of(&a).iter().all(|h| h.starts_with("r1")), "{a:?}");
}

#[test]
fn hard_anti_affinity_refuses_rather_than_share_and_soft_shares() {
    let p = pool(&[("a", "r1", 32, 65536), ("b", "r2", 32, 65536)]);
    let three = vec![
        demand("s0", 1, 512),
        demand("s1", 1, 512),
        demand("s2", 1, 512),
    ];
    let err = p
        .select(&req(three.clone(), Some("g"), Spread::Hard))
        .unwrap_err();
    match err {
        Error::NoCapacity(s) => {
            assert_eq!(s.anti_affinity, 2);
            assert!(!s.may_clear());
        }
        other => panic!("{other}"),
    }
    let a = p.select(&req(three, Some("g"), Spread::Soft)).unwrap();
    let mut hosts = hosts_of(&a);
    hosts.sort();
    assert_eq!(hosts, ["a", "a", "b"]);
}

#[test]
fn anti_affinity_counts_group_members_already_placed() {
    let mut p = pool(&[
        ("a", "r1", 8, 16384),
        ("b", "r2", 8, 16384),
        ("c", "r3", 64, 131072),
    ]);
    // An earlier call put s0 on the best fit "a" and recorded it.
    let a = p
        .select(&req(vec![demand("s0", 2, 2048)], Some("g"), Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["a"]);
    p.record_domain(
        "a",
        "s0",
        Footprint {
            vcpus: 2,
            memory_mib: 2048,
            group: Some("g".into()),
        },
    )
    .unwrap();
    // The next call, for s1 alone, avoids "a" although "a" fits best.
    let a = p
        .select(&req(vec![demand("s1", 2, 2048)], Some("g"), Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["b"]);
    // Another group is not affected.
    let a = p
        .select(&req(
            vec![demand("t0", 2, 2048)],
            Some("other"),
            Spread::Hard,
        ))
        .unwrap();
    assert_eq!(hosts_of(&a), ["a"]);
    // Synced facts carry the group too.
    p.apply_facts(
        "b",
        HostFacts {
            cpus: 8,
            memory_mib: 16384,
            domains: vec![DomainFacts {
                name: "s1".into(),
                uuid: String::new(),
                vcpus: 2,
                memory_mib: 2048,
                state: DomainState::Shutoff,
                tag: Some(DomainTag {
                    group: Some("g".into()),
                    ..DomainTag::default()
                }),
            }],
        },
    )
    .unwrap();
    let a = p
        .select(&req(vec![demand("s2", 2, 2048)], Some("g"), Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["c"]);
}

#[test]
fn unhealthy_and_maintenance_hosts_are_skipped_until_back() {
    let mut p = pool(&[("a", "r1", 4, 8192), ("b", "r2", 64, 131072)]);
    p.mark_unhealthy("a", "socket closed").unwrap();
    let a = p
        .select(&req(vec![demand("s", 2, 2048)], None, Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["b"]);
    p.set_maintenance("b", true).unwrap();
    let Error::NoCapacity(s) = p
        .select(&req(vec![demand("s", 2, 2048)], None, Spread::Hard))
        .unwrap_err()
    else {
        panic!("expected NoCapacity");
    };
    assert_eq!((s.unhealthy, s.maintenance), (1, 1));
    assert!(s.may_clear());
    p.mark_healthy("a").unwrap();
    let a = p
        .select(&req(vec![demand("s", 2, 2048)], None, Spread::Hard))
        .unwrap();
    assert_eq!(hosts_of(&a), ["a"]);
}

#[test]
fn refuses_cleanly_when_nothing_fits() {
    let p = pool(&[("a", "r1", 4, 8192), ("b", "r2", 8, 4096)]);
    let err = p
        .select(&req(vec![demand("huge", 6, 6144)], None, Spread::Hard))
        .unwrap_err();
    let Error::NoCapacity(s) = &err else {
        panic!("{err}")
    };
    assert_eq!((s.too_few_vcpus, s.too_little_memory), (1, 1));
    assert_eq!((s.largest_free_vcpus, s.largest_free_memory_mib), (8, 8192));
    let msg = err.to_string();
    assert!(
        msg.contains("`huge`") && msg.contains("1 short of vCPUs"),
        "{msg}"
    );
    // The request's second server not fitting refuses the whole request.
    let err = p
        .select(&req(
            vec![
                demand("s0", 4, 4096),
                demand("s1", 4, 4096),
                demand("s2", 4, 4096),
            ],
            None,
            Spread::Hard,
        ))
        .unwrap_err();
    assert!(matches!(err, Error::NoCapacity(_)));
    let err = p
        .select(&req(vec![demand("zero", 0, 1)], None, Spread::Hard))
        .unwrap_err();
    assert!(matches!(err, Error::InvalidSpec(_)));
}

#[test]
fn overcommit_limits_are_respected() {
    let mut cfg_pool = pool(&[("a", "r1", 4, 8192)]);
    // 1:1 overcommit: 4 vCPUs only.
    let four = (0..4)
        .map(|i| demand(&format!("s{i}"), 1, 128))
        .collect::<Vec<_>>();
    cfg_pool
        .select(&req(four.clone(), None, Spread::Hard))
        .unwrap();
    let mut five = four;
    five.push(demand("s4", 1, 128));
    assert!(
        cfg_pool
            .select(&req(five.clone(), None, Spread::Hard))
            .is_err()
    );
    // Raising the ratio through config lets five fit.
    let mut cfg = PoolConfig {
        name: "p".into(),
        defaults: Default::default(),
        hosts: vec![cfg_pool.hosts[0].config.clone()]
            .into_iter()
            .map(|h| HostConfig {
                name: h.name,
                uri: h.uri,
                labels: h.labels,
                overcommit: None,
                reserved: None,
                storage_pool: None,
                maintenance: false,
            })
            .collect(),
    };
    cfg.defaults.overcommit.cpu = 2.0;
    cfg_pool = Pool::new(&cfg).unwrap();
    cfg_pool
        .apply_facts(
            "a",
            HostFacts {
                cpus: 4,
                memory_mib: 8192,
                domains: vec![],
            },
        )
        .unwrap();
    cfg_pool.select(&req(five, None, Spread::Hard)).unwrap();
}

#[test]
fn answers_are_deterministic_and_in_request_order() {
    let p = pool(&[
        ("a", "r1", 16, 32768),
        ("b", "r1", 16, 32768),
        ("c", "r2", 16, 32768),
    ]);
    let servers = vec![
        demand("small", 1, 512),
        demand("large", 8, 16384),
        demand("mid", 4, 4096),
    ];
    let first = p
        .select(&req(servers.clone(), Some("g"), Spread::Hard))
        .unwrap();
    for _ in 0..10 {
        assert_eq!(
            p.select(&req(servers.clone(), Some("g"), Spread::Hard))
                .unwrap(),
            first
        );
    }
    let names: Vec<_> = first.iter().map(|a| a.server.as_str()).collect();
    assert_eq!(names, ["small", "large", "mid"]);
}

#[test]
fn a_site_restricts_the_hosts() {
    let p = pool(&[("a", "r1", 4, 8192), ("b", "x1", 64, 131072)]);
    let mut r = req(vec![demand("s", 2, 2048)], None, Spread::Hard);
    assert_eq!(hosts_of(&p.select(&r).unwrap()), ["a"]);
    r.site = Some("lyon".into());
    assert_eq!(hosts_of(&p.select(&r).unwrap()), ["b"]);
    r.site = Some("marseille".into());
    let Error::NoCapacity(s) = p.select(&r).unwrap_err() else {
        panic!()
    };
    assert_eq!(s.other_site, 2);
}
