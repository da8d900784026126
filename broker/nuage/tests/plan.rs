//! The planning commands, run as the real binary: outputs, exit codes, bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn nuage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nuage"))
        .args(args)
        .current_dir(repo())
        .env_remove("NUAGE_CATALOGUE")
        .env_remove("NUAGE_POLICY")
        .output()
        .expect("nuage runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn plan_prints_the_choice_and_why_the_others_lost() {
    let o = nuage(&[
        "plan",
        "-f",
        "examples/requests/sensitive.yaml",
        "--at",
        "2026-11-29",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PLACED on nubo-dgfip"), "{out}");
    assert!(out.contains("R-TIER-SENSITIVE"), "{out}");
    assert!(out.contains("R-SNC-QUALIFIED"), "{out}");
    assert!(!out.contains('\u{1b}'), "no escape codes when piped");
}

#[test]
fn plan_json_is_the_full_record() {
    let o = nuage(&[
        "plan",
        "-f",
        "examples/requests/health.yaml",
        "--at",
        "2026-11-29",
        "-o",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["outcome"], "placed");
    assert_eq!(v["placement"]["offer"], "cloud-temple-iaas");
    assert_eq!(v["candidates"].as_array().unwrap().len(), 12);
    let yaml = nuage(&[
        "plan",
        "-f",
        "examples/requests/health.yaml",
        "--at",
        "2026-11-29",
        "-o",
        "yaml",
    ]);
    assert!(stdout(&yaml).contains("outcome: placed"));
}

#[test]
fn refused_and_invalid_have_their_own_exit_codes() {
    let refused = nuage(&["plan", "-f", "examples/requests/classified.yaml"]);
    assert_eq!(refused.status.code(), Some(4));
    assert!(stdout(&refused).contains("REFUSED"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "api_version: nuage/v1\nname: x\ntenant: t\nsensitivity: {level: personal}\nresources: {servers: [{name: s, vcpus: 0, ram_gib: 1, image: {os: debian, version: '12'}}]}\n").unwrap();
    let o = nuage(&["plan", "-f", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));
    let err = stderr(&o);
    for path in [
        "resources.servers[0].vcpus",
        "sensitivity.justification",
        "sensitivity.declared_by",
    ] {
        assert!(err.contains(path), "{err}");
    }
    let o = nuage(&["validate", "-f", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3));

    let o = nuage(&[
        "plan",
        "-f",
        "examples/requests/public.yaml",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("--at"));

    let o = nuage(&[
        "plan",
        "-f",
        "examples/requests/public.yaml",
        "--catalogue",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(3),
        "a directory without offers is an invalid catalogue"
    );

    let o = nuage(&["plan"]);
    assert_eq!(o.status.code(), Some(2), "usage errors are clap's 2");
}

#[test]
fn a_custom_policy_and_catalogue_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let policy = std::fs::read_to_string(repo().join("examples/policy/default.yaml"))
        .unwrap()
        .replace(
            "  public:\n    tiers: [internal, dedicated, external]",
            "  public:\n    tiers: [internal]",
        );
    let path = dir.path().join("policy.yaml");
    std::fs::write(&path, policy).unwrap();
    let o = nuage(&[
        "plan",
        "-f",
        "examples/requests/public.yaml",
        "--policy",
        path.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["placement"]["tier"], "internal");

    let o = nuage(&[
        "validate",
        "--catalogue",
        "examples/catalogue",
        "--policy",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("12 offers"));
}

#[test]
fn offers_list_filters_by_tier() {
    let o = nuage(&["offers", "list", "--tier", "internal", "-o", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let ids: Vec<_> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["nubo-dgfip", "pi-interieur"]);
    let table = stdout(&nuage(&["offers", "list"]));
    assert!(
        table.contains("aws-eu-west-3") && table.contains("(estimate)"),
        "{table}"
    );
}

#[test]
fn plan_reads_standard_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_nuage"))
        .args(["plan", "-f", "-", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read(repo().join("examples/requests/public.yaml")).unwrap();
    child.stdin.take().unwrap().write_all(&text).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
}
