//! The AWS adapter against a real moto EC2 server: every resource kind, idempotency, the
//! crash-between-call-and-checkpoint case, AMI and instance-type validation, dedicated hosts.

mod common;

use std::sync::Arc;

use common::*;
use nuage_provider::{
    DeleteOutcome, ErrorKind, ImageRef, Observation, Provider, ProviderKind, ResourceKind,
    ResourceState, TAG_REQUEST, TAG_RESOURCE, WaitOptions, wait_until_ready,
};
use nuage_provider_aws::AwsProvider;
use nuage_provider_aws::testing::{MotoServer, images};

async fn provider(moto: &MotoServer) -> Arc<AwsProvider> {
    Arc::new(AwsProvider::connect(moto.config("aws-moto")).await.unwrap())
}

/// Instances carrying a request tag and a resource tag, whatever their state but terminated.
async fn count_instances(p: &AwsProvider, request: &str, resource: &str) -> usize {
    let out = p.client().describe_instances().send().await.unwrap();
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| {
            i.state()
                .and_then(|s| s.name())
                .is_some_and(|n| n.as_str() != "terminated")
        })
        .filter(|i| {
            let tag = |k: &str| {
                i.tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
            };
            tag(TAG_REQUEST) == Some(request) && tag(TAG_RESOURCE) == Some(resource)
        })
        .count()
}

#[tokio::test]
async fn every_kind_is_created_observed_and_deleted() {
    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let d = p.descriptor();
    assert_eq!((d.kind, d.simulated), (ProviderKind::Aws, false));
    let req = request("lifecycle");

    let net = network(&req);
    assert!(p.observe(&net).await.unwrap().is_absent());
    let net_o = p.create(&net).await.unwrap();
    assert!(net_o.cloud_id.as_str().starts_with("vpc-"), "{net_o:?}");
    let sub = subnet(&req, &net_o.cloud_id);
    let sub_o = p.create(&sub).await.unwrap();
    assert!(sub_o.cloud_id.as_str().starts_with("subnet-"));
    let zone = sub_o.outputs.zone.clone().unwrap();
    assert_eq!(zone, "eu-west-3a", "default zone is the first one");
    let sg = group(&req, &net_o.cloud_id, vec![ssh_rule()]);
    let sg_o = p.create(&sg).await.unwrap();
    assert!(sg_o.cloud_id.as_str().starts_with("sg-"));
    assert!(sg_o.is_up_to_date(), "{:?}", sg_o.drift);
    let vol = volume(&req, 20, None);
    let vol_o = p.create(&vol).await.unwrap();
    assert!(vol_o.cloud_id.as_str().starts_with("vol-"));
    assert_eq!(vol_o.outputs.zone.as_deref(), Some(zone.as_str()));
    let srv = server(
        &req,
        "web",
        server_spec(Some(&sub_o.cloud_id), &[&sg_o.cloud_id]),
    );
    let srv_o = p.create(&srv).await.unwrap();
    assert!(srv_o.cloud_id.as_str().starts_with("i-"));
    assert_eq!(srv_o.outputs.flavor.as_deref(), Some("t3.medium"));
    assert_eq!(srv_o.outputs.image.as_deref(), Some(images::DEBIAN_12));

    let ready = wait_until_ready(
        p.as_ref(),
        &srv,
        &WaitOptions::fixed(
            std::time::Duration::from_millis(50),
            std::time::Duration::from_secs(20),
        ),
    )
    .await
    .unwrap();
    assert_eq!(ready.native_state, "running");
    assert!(ready.is_up_to_date(), "{:?}", ready.drift);
    let ip = ready.outputs.addresses[0].ip.to_string();
    assert!(ip.starts_with("10.20.1."), "{ip}");

    let att = attachment(&req, &srv_o.cloud_id, &vol_o.cloud_id);
    let att_o = p.create(&att).await.unwrap();
    assert_eq!(att_o.outputs.device.as_deref(), Some("/dev/sdf"));

    // Observe finds each by identity, and creating again returns the same resource.
    for spec in [&net, &sub, &sg, &vol, &srv, &att] {
        let seen = p.observe(spec).await.unwrap().into_present().unwrap();
        let again = p.create(spec).await.unwrap();
        assert_eq!(seen.cloud_id, again.cloud_id, "{}", spec.kind());
        assert!(seen.duplicates.is_empty());
        assert!(!seen.simulated);
        assert_eq!(
            seen.state,
            ResourceState::Ready,
            "{} {:?}",
            spec.kind(),
            seen
        );
    }
    assert_eq!(count_instances(&p, &req, "web").await, 1);

    // Delete in reverse dependency order; deleting again is success.
    for spec in [&att, &srv, &vol, &sg, &sub, &net] {
        let outcome = p.delete(spec).await.unwrap();
        assert_ne!(outcome, DeleteOutcome::AlreadyAbsent, "{}", spec.kind());
        assert_eq!(
            p.observe(spec).await.unwrap(),
            Observation::Absent,
            "{}",
            spec.kind()
        );
        assert_eq!(
            p.delete(spec).await.unwrap(),
            DeleteOutcome::AlreadyAbsent,
            "{}",
            spec.kind()
        );
    }
    assert_eq!(count_instances(&p, &req, "web").await, 0);
}

#[tokio::test]
async fn a_lost_create_answer_then_a_retry_leaves_exactly_one_instance() {
    use nuage_provider_aws::testing::{FaultLayer, HttpFault, HttpFaultRule};

    let moto = MotoServer::shared();
    let faults = FaultLayer::new();
    let p = AwsProvider::connect_with(moto.config("aws-moto"), Some(faults.http_client()))
        .await
        .unwrap();
    let req = request("crash");
    let srv = server(&req, "web", server_spec(None, &[]));

    // RunInstances reaches moto and takes effect, but the answer never comes back: the step
    // crashed between the EC2 call and its checkpoint, as far as it knows.
    faults.push(
        HttpFaultRule::new(HttpFault::LoseResponse)
            .on("RunInstances")
            .times(1),
    );
    let err = p.create(&srv).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
    assert!(err.is_retryable());
    assert_eq!(
        faults.attempts("RunInstances"),
        1,
        "creates are not retried in-process"
    );
    assert_eq!(
        count_instances(&p, &req, "web").await,
        1,
        "the lost call did create"
    );

    // The retried step looks up by tags first and finds it: no second RunInstances.
    let seen = p.observe(&srv).await.unwrap().into_present().unwrap();
    let retried = p.create(&srv).await.unwrap();
    assert_eq!(seen.cloud_id, retried.cloud_id);
    assert_eq!(faults.attempts("RunInstances"), 1);
    assert_eq!(count_instances(&p, &req, "web").await, 1);

    // What the lookup prevented: moto ignores ClientToken, so a blind retry (as an SDK retry
    // would be) with one token twice makes two instances.
    let image = p
        .client()
        .describe_instances()
        .instance_ids(retried.cloud_id.as_str())
        .send()
        .await
        .unwrap();
    let first = &image.reservations()[0].instances()[0];
    p.client()
        .run_instances()
        .image_id(first.image_id().unwrap())
        .instance_type(first.instance_type().unwrap().clone())
        .min_count(1)
        .max_count(1)
        .client_token("nuage-same-token")
        .send()
        .await
        .unwrap();
    let again = p
        .client()
        .run_instances()
        .image_id(first.image_id().unwrap())
        .instance_type(first.instance_type().unwrap().clone())
        .min_count(1)
        .max_count(1)
        .client_token("nuage-same-token")
        .send()
        .await
        .unwrap();
    assert!(
        again
            .instances()
            .first()
            .and_then(|i| i.instance_id())
            .is_some()
    );
    let all = p.client().describe_instances().send().await.unwrap();
    let same_token = all
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.client_token() == Some("nuage-same-token"))
        .count();
    assert_eq!(same_token, 2, "moto does not honour ClientToken");

    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    assert_eq!(count_instances(&p, &req, "web").await, 0);
}

#[tokio::test]
async fn duplicates_are_reported_and_deleted_together() {
    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let req = request("dups");
    let srv = server(&req, "web", server_spec(None, &[]));
    let first = p.create(&srv).await.unwrap();
    // Another instance with the same identity, as a cloud ignoring ClientToken would leave.
    let tags = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
        .set_tags(Some(
            srv.meta
                .tags()
                .into_iter()
                .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build();
    p.client()
        .run_instances()
        .image_id(images::DEBIAN_12)
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Medium)
        .min_count(1)
        .max_count(1)
        .tag_specifications(tags)
        .send()
        .await
        .unwrap();
    let seen = p.observe(&srv).await.unwrap().into_present().unwrap();
    assert_eq!(seen.duplicates.len(), 1);
    let both = [seen.cloud_id.clone(), seen.duplicates[0].clone()];
    assert!(both.contains(&first.cloud_id));
    let again = p.observe(&srv).await.unwrap().into_present().unwrap();
    assert_eq!(
        again.cloud_id, seen.cloud_id,
        "the same one is reported every time"
    );
    assert_eq!(count_instances(&p, &req, "web").await, 2);
    p.delete(&srv).await.unwrap();
    assert_eq!(count_instances(&p, &req, "web").await, 0);
}

#[tokio::test]
async fn images_sizes_and_validation() {
    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let caps = p.capabilities().await.unwrap();
    assert!(!caps.simulated && caps.dedicated);
    assert_eq!(caps.regions, vec!["eu-west-3".to_owned()]);
    assert_eq!(caps.zones.first().map(String::as_str), Some("eu-west-3a"));
    assert!(caps.supports(ResourceKind::Attachment));
    let native = |os: &str, v: &str| {
        caps.images
            .iter()
            .find(|i| i.image == ImageRef::new(os, v))
            .and_then(|i| i.native_id.clone())
    };
    // The newest x86_64 image of the owner wins: not the older one, not the arm64 one.
    assert_eq!(native("debian", "12").as_deref(), Some(images::DEBIAN_12));
    assert_eq!(
        native("ubuntu", "24.04").as_deref(),
        Some(images::UBUNTU_2404)
    );
    assert_eq!(
        native("amazonlinux", "2023").as_deref(),
        Some(images::AMAZONLINUX_2023)
    );

    let req = request("validation");
    // Sizes map to the smallest fitting type.
    let mut big = server_spec(None, &[]);
    big.vcpus = 3;
    big.ram_mib = 20_000;
    big.image = ImageRef::new("ubuntu", "24.04");
    let o = p.create(&server(&req, "big", big.clone())).await.unwrap();
    assert_eq!(o.outputs.flavor.as_deref(), Some("r5.xlarge"));
    assert_eq!(o.outputs.image.as_deref(), Some(images::UBUNTU_2404));
    p.delete(&server(&req, "big", big)).await.unwrap();

    // An OS with no rule, an instance type EC2 does not know, a size nothing fits: terminal,
    // and nothing is created.
    let mut unknown_os = server_spec(None, &[]);
    unknown_os.image = ImageRef::new("windows", "2022");
    let mut bad_type = server_spec(None, &[]);
    bad_type.flavor = Some("t9.gigantic".to_owned());
    let mut too_big = server_spec(None, &[]);
    too_big.vcpus = 512;
    for (name, spec) in [("os", unknown_os), ("type", bad_type), ("size", too_big)] {
        let err = p.create(&server(&req, name, spec)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Terminal, "{name}: {err}");
        assert_eq!(count_instances(&p, &req, name).await, 0);
    }

    // A rule whose pattern matches no AMI.
    let mut config = moto.config("aws-moto");
    config.images = vec![nuage_provider_aws::ImageRule::new(
        "debian",
        "12",
        "136693071363",
        "debian-12-riscv-*",
    )];
    let strict = AwsProvider::connect(config).await.unwrap();
    let err = strict
        .create(&server(&req, "noami", server_spec(None, &[])))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Terminal, Some("ImageNotFound"))
    );

    // AMI validation is on in the harness: EC2 refuses an AMI it does not have.
    let err = p
        .client()
        .run_instances()
        .image_id("ami-00000000deadbeef")
        .instance_type(aws_sdk_ec2::types::InstanceType::T3Micro)
        .min_count(1)
        .max_count(1)
        .send()
        .await
        .unwrap_err();
    let code = aws_sdk_ec2::error::ProvideErrorMetadata::code(&err).map(str::to_owned);
    assert_eq!(code.as_deref(), Some("InvalidAMIID.NotFound"));
    let kind = nuage_provider_aws::classify(code.as_deref(), Some(400), std::time::Duration::ZERO);
    assert!(!kind.is_retryable());

    // A spec that fails validation makes no call at all.
    let mut zero = server_spec(None, &[]);
    zero.vcpus = 0;
    let err = p.create(&server(&req, "zero", zero)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert_eq!(count_instances(&p, &req, "zero").await, 0);
}

#[tokio::test]
async fn dedicated_servers_get_their_own_host_released_on_delete() {
    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let req = request("dedicated");
    let mut spec = server_spec(None, &[]);
    spec.dedicated = true;
    spec.vcpus = 2;
    spec.ram_mib = 8192;
    spec.flavor = Some("m5.large".to_owned());
    let srv = server(&req, "db", spec.clone());
    let o = p.create(&srv).await.unwrap();
    let host = o.outputs.host.clone().expect("placed on a host");
    assert!(host.starts_with("h-"), "{host}");
    assert!(o.is_up_to_date(), "{:?}", o.drift);

    let hosts = p
        .client()
        .describe_hosts()
        .host_ids(&host)
        .send()
        .await
        .unwrap();
    let h = &hosts.hosts()[0];
    assert_eq!(h.state().map(|s| s.as_str()), Some("available"));
    assert!(
        h.tags()
            .iter()
            .any(|t| t.key() == Some(TAG_REQUEST) && t.value() == Some(req.as_str()))
    );
    // Creating again reuses instance and host.
    let again = p.create(&srv).await.unwrap();
    assert_eq!(
        (again.cloud_id, again.outputs.host),
        (o.cloud_id.clone(), Some(host.clone()))
    );

    assert_eq!(p.delete(&srv).await.unwrap(), DeleteOutcome::Deleted);
    let hosts = p
        .client()
        .describe_hosts()
        .host_ids(&host)
        .send()
        .await
        .unwrap();
    assert_eq!(
        hosts.hosts()[0].state().map(|s| s.as_str()),
        Some("released")
    );
    assert!(p.observe(&srv).await.unwrap().is_absent());

    // An offer without dedicated hosts refuses such servers.
    let mut config = moto.config("aws-shared");
    config.dedicated_hosts = false;
    let shared = AwsProvider::connect(config).await.unwrap();
    let err = shared.create(&server(&req, "db2", spec)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);
    assert!(err.to_string().contains("dedicated"), "{err}");
}

#[tokio::test]
async fn updates_bring_resources_in_line() {
    use nuage_provider::{Direction, PortRange, Protocol, SecurityRule};

    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let req = request("update");
    let net = p.create(&network(&req)).await.unwrap().cloud_id;

    // Rules: add HTTPS, drop SSH, restrict egress.
    p.create(&group(&req, &net, vec![ssh_rule()]))
        .await
        .unwrap();
    let https = SecurityRule {
        direction: Direction::Ingress,
        protocol: Protocol::Tcp,
        ports: Some(PortRange::single(443)),
        remote: "0.0.0.0/0".parse().unwrap(),
    };
    let dns = SecurityRule {
        direction: Direction::Egress,
        protocol: Protocol::Udp,
        ports: Some(PortRange::single(53)),
        remote: "10.0.0.2/32".parse().unwrap(),
    };
    let wanted = group(&req, &net, vec![https, dns]);
    let seen = p.observe(&wanted).await.unwrap().into_present().unwrap();
    let fields: Vec<&str> = seen.drift.iter().map(|d| d.field.as_str()).collect();
    assert_eq!(fields, ["ingress_rules", "egress_rules"]);
    let updated = p.update(&wanted).await.unwrap();
    assert!(updated.is_up_to_date(), "{:?}", updated.drift);
    let sg = p
        .client()
        .describe_security_groups()
        .group_ids(updated.cloud_id.as_str())
        .send()
        .await
        .unwrap();
    let g = &sg.security_groups()[0];
    assert_eq!(g.ip_permissions().len(), 1);
    assert_eq!(g.ip_permissions()[0].from_port(), Some(443));
    assert_eq!(g.ip_permissions_egress().len(), 1);
    assert_eq!(g.ip_permissions_egress()[0].ip_protocol(), Some("udp"));
    assert!(
        p.observe(&wanted)
            .await
            .unwrap()
            .present()
            .unwrap()
            .is_up_to_date()
    );

    // Volumes grow, never shrink.
    p.create(&volume(&req, 10, None)).await.unwrap();
    let grown = p.update(&volume(&req, 30, None)).await.unwrap();
    assert_eq!(grown.outputs.size_gib, Some(30));
    let err = p.update(&volume(&req, 5, None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Terminal);

    // Servers resize (stop, change type, start).
    let srv = server(&req, "app", server_spec(None, &[]));
    p.create(&srv).await.unwrap();
    let mut bigger = server_spec(None, &[]);
    bigger.vcpus = 4;
    bigger.ram_mib = 16384;
    let bigger = server(&req, "app", bigger);
    let drift = p
        .observe(&bigger)
        .await
        .unwrap()
        .into_present()
        .unwrap()
        .drift;
    assert_eq!(drift[0].field, "flavor");
    let resized = p.update(&bigger).await.unwrap();
    assert_eq!(resized.outputs.flavor.as_deref(), Some("t3.xlarge"));
    assert!(resized.is_up_to_date());

    // A subnet's range cannot change in place; updating what is absent is not found.
    let sub_id = p.create(&subnet(&req, &net)).await.unwrap().cloud_id;
    let mut moved = subnet(&req, &net);
    if let nuage_provider::SpecBody::Subnet(s) = &mut moved.body {
        s.cidr = "10.20.9.0/24".parse().unwrap();
    }
    assert_eq!(
        p.update(&moved).await.unwrap_err().kind(),
        ErrorKind::Terminal
    );
    let err = p
        .update(&volume(&request("nothing"), 10, None))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);

    p.delete(&bigger).await.unwrap();
    p.delete(&volume(&req, 30, None)).await.unwrap();
    p.delete(&wanted).await.unwrap();
    p.delete(&subnet(&req, &net)).await.unwrap();
    assert!(
        p.client()
            .describe_subnets()
            .subnet_ids(sub_id.as_str())
            .send()
            .await
            .is_err()
    );
    p.delete(&network(&req)).await.unwrap();
}

#[tokio::test]
async fn deleting_what_others_use_is_a_conflict() {
    let moto = MotoServer::shared();
    let p = provider(moto).await;
    let req = request("inuse");
    let net = p.create(&network(&req)).await.unwrap().cloud_id;
    let sub = p.create(&subnet(&req, &net)).await.unwrap().cloud_id;
    let err = p.delete(&network(&req)).await.unwrap_err();
    assert_eq!(
        (err.kind(), err.native_code()),
        (ErrorKind::Conflict, Some("DependencyViolation"))
    );
    assert!(err.is_retryable());
    assert!(p.observe(&network(&req)).await.unwrap().is_ready());

    let vol = p.create(&volume(&req, 8, None)).await.unwrap().cloud_id;
    let srv = p
        .create(&server(&req, "web", server_spec(Some(&sub), &[])))
        .await
        .unwrap()
        .cloud_id;
    p.create(&attachment(&req, &srv, &vol)).await.unwrap();
    let err = p.delete(&volume(&req, 8, None)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");

    p.delete(&attachment(&req, &srv, &vol)).await.unwrap();
    p.delete(&server(&req, "web", server_spec(Some(&sub), &[])))
        .await
        .unwrap();
    p.delete(&volume(&req, 8, None)).await.unwrap();
    p.delete(&subnet(&req, &net)).await.unwrap();
    assert_eq!(
        p.delete(&network(&req)).await.unwrap(),
        DeleteOutcome::Deleted
    );
}
