use super::*;

fn spec() -> DomainSpec {
    DomainSpec {
        name: "nuage-t1-req7-web-0".into(),
        vcpus: 2,
        memory_mib: 2048,
        disks: vec![
            DiskSpec {
                pool: "default".into(),
                volume: "nuage-t1-req7-web-0-boot".into(),
            },
            DiskSpec {
                pool: "default".into(),
                volume: "nuage-t1-req7-data".into(),
            },
        ],
        interfaces: vec![InterfaceSpec {
            network: "nuage-t1-req7-net".into(),
            mac: None,
        }],
        tag: DomainTag {
            tenant: Some("t1 & <co>".into()),
            request: Some("req-7".into()),
            resource: Some("web-0".into()),
            group: Some("req7".into()),
        },
    }
}

#[test]
fn generated_xml_reads_back_to_the_spec() {
    for driver in [Driver::Qemu, Driver::Test] {
        let xml = domain_xml(&spec(), driver).unwrap();
        let d = parse_domain(&xml).unwrap();
        assert_eq!(d.name, "nuage-t1-req7-web-0");
        assert_eq!(d.vcpus, 2);
        assert_eq!(d.memory_mib, 2048);
        assert_eq!(d.disks, spec().disks);
        assert_eq!(d.interfaces.len(), 1);
        assert_eq!(d.interfaces[0].network, "nuage-t1-req7-net");
        assert_eq!(
            d.interfaces[0].mac.as_deref(),
            Some(mac_for("nuage-t1-req7-web-0", 0).as_str())
        );
        assert_eq!(d.tag, Some(spec().tag));
        let doc = roxmltree::Document::parse(&xml).unwrap();
        assert_eq!(
            doc.root_element().attribute("type"),
            Some(driver.domain_type())
        );
        let targets: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("target"))
            .filter_map(|n| n.attribute("dev"))
            .collect();
        assert_eq!(targets, ["vda", "vdb"]);
    }
}

#[test]
fn macs_are_stable_distinct_and_unicast() {
    let a = mac_for("web-0", 0);
    assert_eq!(a, mac_for("web-0", 0));
    assert_ne!(a, mac_for("web-0", 1));
    assert_ne!(a, mac_for("web-1", 0));
    assert!(a.starts_with("52:54:00:"));
    check_mac(&a).unwrap();
}

#[test]
fn refuses_what_libvirt_would_refuse() {
    let cases: Vec<(DomainSpec, &str)> = vec![
        (DomainSpec { vcpus: 0, ..spec() }, "vCPUs"),
        (
            DomainSpec {
                memory_mib: 0,
                ..spec()
            },
            "memory",
        ),
        (
            DomainSpec {
                name: "a/b".into(),
                ..spec()
            },
            "domain name",
        ),
        (
            DomainSpec {
                name: String::new(),
                ..spec()
            },
            "domain name",
        ),
        (
            DomainSpec {
                disks: vec![
                    DiskSpec {
                        pool: "p".into(),
                        volume: "v".into()
                    };
                    27
                ],
                ..spec()
            },
            "at most 26 disks",
        ),
        (
            DomainSpec {
                interfaces: vec![InterfaceSpec {
                    network: "n".into(),
                    mac: Some("01:00:5e:00:00:01".into()),
                }],
                ..spec()
            },
            "unicast",
        ),
    ];
    for (s, needle) in cases {
        let err = domain_xml(&s, Driver::Qemu).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn reads_libvirt_output_with_units_and_foreign_metadata() {
    let xml = r#"<domain type='kvm' id='3'>
      <name>legacy</name>
      <uuid>866cfcb8-e222-4ce2-875c-a37fbddcac39</uuid>
      <metadata><other:x xmlns:other="urn:other" group="nope"/></metadata>
      <memory unit='KiB'>4194304</memory>
      <vcpu placement='static'>4</vcpu>
      <devices>
        <disk type='file' device='disk'><source file='/var/lib/x.img'/></disk>
        <interface type='bridge'><source bridge='br0'/></interface>
      </devices>
    </domain>"#;
    let d = parse_domain(xml).unwrap();
    assert_eq!(d.memory_mib, 4096);
    assert_eq!(d.vcpus, 4);
    assert_eq!(d.uuid, "866cfcb8-e222-4ce2-875c-a37fbddcac39");
    assert!(d.disks.is_empty() && d.interfaces.is_empty());
    assert_eq!(d.tag, None);
}

#[test]
fn bad_domain_xml_is_an_error() {
    for xml in [
        "<domain>",
        "<network/>",
        "<domain><name>x</name><memory>1</memory></domain>",
        "<domain><name>x</name><vcpu>two</vcpu><memory>1</memory></domain>",
        "<domain><name>x</name><vcpu>2</vcpu><memory unit='parsec'>1</memory></domain>",
    ] {
        assert!(matches!(parse_domain(xml), Err(Error::Xml(_))), "{xml}");
    }
}
