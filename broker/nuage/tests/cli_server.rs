//! The operator CLI against a real broker (`nuage serve` on SQLite), run as the real binary.
//!
//! Faults are injected into the broker's simulated cloud with the CLI itself (`nuage sim fail
//! INSTANCE --fail quota --on create --kind server`): the next request fails at its server step
//! with the cloud's quota error (a terminal error: the run stops for an operator), and
//! `nuage sim clear` makes the cloud behave again before `workflows retry`.

#[path = "cli_support/mod.rs"]
mod support;

use serde_json::Value;
use support::{Run, Server, request_yaml};

/// Fast retries and polls; a failed run waits for an operator.
const FAST: &str = "provisioning: {on_failure: wait_for_operator, max_attempts: 2, base_delay_ms: 20, \
    max_delay_ms: 50, wait_timeout_ms: 5000, poll_min_ms: 10, poll_max_ms: 50}";

/// Contexts `admin` (bootstrap token), `ops` (a global operator) and `dev` (a requester of
/// min-culture), made with the CLI itself; `dev` is current.
fn contexts(s: &Server) {
    let url = s.url.as_str();
    s.nuage(&[
        "context",
        "set",
        "admin",
        "--server",
        url,
        "--token-file",
        s.admin_token.to_str().unwrap(),
    ])
    .expect(0);
    let ops = s.dir.path().join("ops.token");
    let r = s.nuage(&[
        "tokens",
        "create",
        "--context",
        "admin",
        "--name",
        "ops",
        "--role",
        "operator",
        "--secret-file",
        ops.to_str().unwrap(),
    ]);
    r.expect(0).plain();
    assert!(r.out.contains("role operator, every tenant"), "{}", r.out);
    assert!(
        !r.out.contains("nuage_"),
        "the secret went to the file: {}",
        r.out
    );
    // -o json gives the secret once, to a program
    let r = s.nuage(&[
        "tokens",
        "create",
        "--context",
        "admin",
        "--name",
        "dev",
        "--role",
        "requester",
        "--tenant",
        "min-culture",
        "-o",
        "json",
    ]);
    let created = r.expect(0).json();
    let dev_token = created["token"].as_str().expect("the secret").to_owned();
    assert!(dev_token.starts_with("nuage_"));
    assert_eq!(created["tenant"], "min-culture");
    let dev = s.file("dev.token", &dev_token);
    s.nuage(&[
        "context",
        "set",
        "ops",
        "--server",
        url,
        "--token-file",
        ops.to_str().unwrap(),
    ])
    .expect(0);
    s.nuage(&[
        "context",
        "set",
        "dev",
        "--server",
        url,
        "--token-file",
        dev.to_str().unwrap(),
        "--use",
    ])
    .expect(0);
}

/// Submits a request as `dev` and returns its id.
fn submit(s: &Server, name: &str) -> String {
    let f = s.file(&format!("{name}.yaml"), &request_yaml(name));
    let r = s.nuage(&[
        "requests",
        "create",
        "-f",
        f.to_str().unwrap(),
        "-o",
        "json",
    ]);
    let v = r.expect(0).plain().json();
    assert_eq!(v["name"], name);
    v["id"].as_str().unwrap().to_owned()
}

/// The provisioning run of a request.
fn run_of(s: &Server, id: &str) -> String {
    let v = s
        .nuage(&["requests", "get", id, "-o", "json"])
        .expect(0)
        .json();
    v["provisioning"]["workflow_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn request_state(s: &Server, id: &str) -> String {
    let v = s
        .nuage(&["requests", "get", id, "-o", "json"])
        .expect(0)
        .json();
    v["state"].as_str().unwrap().to_owned()
}

/// Watches a request to its end (piped: plain lines).
fn watch(s: &Server, id: &str, context: &str) -> Run {
    let r = s.nuage(&[
        "requests",
        "watch",
        id,
        "--context",
        context,
        "--timeout",
        "60",
    ]);
    r.plain();
    r
}

/// The simulated instance a request was placed on.
fn instance_of(s: &Server, id: &str) -> String {
    let v = s
        .nuage(&["requests", "get", id, "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(v["placement"]["simulated"], true, "{v}");
    v["placement"]["instance"].as_str().unwrap().to_owned()
}

/// Makes every server creation on `instance` fail with the cloud's quota error.
fn inject_quota_fault(s: &Server, instance: &str) {
    let r = s.nuage(&[
        "sim",
        "fail",
        instance,
        "--fail",
        "quota",
        "--on",
        "create",
        "--kind",
        "server",
        "--context",
        "admin",
        "-o",
        "json",
    ]);
    let v = r.expect(0).json();
    assert_eq!(v["instance"], instance);
    assert_eq!(
        v["rules"],
        serde_json::json!([{"on": "create", "kind": "server", "fail": "quota"}])
    );
}

#[test]
fn a_failed_request_is_listed_retried_and_watched_to_ready() {
    let s = Server::start(FAST);
    contexts(&s);

    // a first request goes through
    let a = s.file("a.yaml", &request_yaml("wiki-a"));
    let r = s.nuage(&[
        "requests",
        "create",
        "-f",
        a.to_str().unwrap(),
        "--wait",
        "--timeout",
        "60",
    ]);
    r.expect(0).plain();
    let last = r.out.lines().last().unwrap();
    assert!(
        last.contains("wiki-a") && last.contains("ready") && last.contains("(simulated cloud)"),
        "{}",
        r.out
    );
    let r = s.nuage(&["requests", "list"]);
    r.expect(0).plain();
    assert!(r.out.contains("(simulated)"), "{}", r.out);
    let a_id = s
        .nuage(&["requests", "list", "--name", "wiki-a", "-o", "json"])
        .expect(0)
        .json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // the cloud it went to starts refusing servers; a requester cannot do that
    let instance = instance_of(&s, &a_id);
    let r = s.nuage(&["sim", "fail", &instance, "--fail", "quota"]);
    r.expect(7).plain();
    inject_quota_fault(&s, &instance);
    let r = s.nuage(&["sim", "list", "--context", "admin"]);
    r.expect(0).plain();
    assert!(
        r.out.contains(&instance) && r.out.contains("create server → fail quota"),
        "{}",
        r.out
    );
    let r = s.nuage(&[
        "sim",
        "fail",
        "no-such-cloud",
        "--fail",
        "quota",
        "--context",
        "admin",
    ]);
    r.expect(6).plain();
    assert!(r.err.contains("nuage sim list"), "{}", r.err);
    let r = s.nuage(&[
        "sim",
        "fail",
        &instance,
        "--fail",
        "explode",
        "--context",
        "admin",
    ]);
    r.expect(3).plain();
    assert!(r.err.contains("unknown error kind"), "{}", r.err);

    // the second request fails at its server step: watch says which step and why, exit 5
    let b = submit(&s, "wiki-b");
    assert_eq!(instance_of(&s, &b), instance, "same shape, same placement");
    let r = watch(&s, &b, "ops");
    r.expect(5);
    assert!(
        r.err.contains("wiki-b") && r.err.contains("failed"),
        "{}",
        r.err
    );
    assert!(r.err.contains("step server:app-1 failed"), "{}", r.err);
    assert!(
        r.err.contains("quota fault injected"),
        "the cloud's error is shown: {}",
        r.err
    );
    assert!(
        r.out.contains("step server:app-1 failed"),
        "one line per event: {}",
        r.out
    );
    assert!(
        r.out.contains("step network:default succeeded"),
        "{}",
        r.out
    );

    // the operator sees it among the failed runs, as JSON and as a table
    let run = run_of(&s, &b);
    let r = s.nuage(&[
        "workflows",
        "list",
        "--state",
        "failed",
        "--since",
        "1h",
        "--context",
        "ops",
        "-o",
        "json",
    ]);
    let failed = r.expect(0).json();
    let ids: Vec<&str> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![run.as_str()], "{}", r.out);
    assert_eq!(failed[0]["labels"]["request"], b.as_str());
    // --since is applied by the broker: a window in the future holds nothing
    let r = s.nuage(&[
        "workflows",
        "list",
        "--since",
        "2999-01-01T00:00:00Z",
        "--context",
        "ops",
        "-o",
        "json",
    ]);
    assert_eq!(r.expect(0).json(), serde_json::json!([]), "{}", r.out);
    let r = s.nuage(&["workflows", "list", "--state", "failed", "--context", "ops"]);
    r.expect(0).plain();
    assert!(
        r.out.contains(&run) && r.out.contains("failed") && r.out.contains(&b),
        "{}",
        r.out
    );
    // a requester may not list runs: 403, exit 7, and the hint names the token in use
    let r = s.nuage(&["workflows", "list"]);
    r.expect(7).plain();
    assert!(
        r.err.contains("forbidden") && r.err.contains("context \"dev\""),
        "{}",
        r.err
    );

    // the timeline shows the failed step, its attempts, the error and the lease
    let r = s.nuage(&["workflows", "show", &run, "--context", "ops"]);
    r.expect(0).plain();
    assert!(r.out.contains("server:app-1"), "{}", r.out);
    assert!(r.out.contains("attempt #1"), "{}", r.out);
    assert!(r.out.contains("quota"), "{}", r.out);
    assert!(r.out.contains("wait_for_operator"), "{}", r.out);
    assert!(
        r.out
            .lines()
            .any(|l| l.starts_with("Lease") && l.contains("none (epoch")),
        "a failed run is held by no worker: {}",
        r.out
    );
    let t = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(t["workflow"]["state"], "failed");
    assert!(t["workflow"]["lease"]["owner"].is_null(), "{t}");
    assert!(
        t["workflow"]["lease"]["epoch"].as_i64().unwrap() >= 1,
        "{t}"
    );
    let steps = t["steps"].as_array().unwrap();
    let failed_at = steps
        .iter()
        .position(|st| st["state"] == "failed")
        .expect("a failed step");
    assert_eq!(steps[failed_at]["name"], "server:app-1");
    assert_eq!(steps[failed_at]["position"], failed_at);
    assert!(steps[0]["finished_at"].is_string(), "{t}");
    let attempt = &steps[failed_at]["attempt_log"][0];
    assert_eq!(attempt["outcome"], "failed", "{t}");
    assert!(attempt["finished_at"].is_string(), "{t}");

    // --from-step: no such step (usage, exit 2); a step after the failed one (409, exit 8)
    let r = s.nuage(&[
        "workflows",
        "retry",
        &run,
        "--from-step",
        "99",
        "--context",
        "ops",
    ]);
    r.expect(2).plain();
    assert!(r.err.contains("no such step"), "{}", r.err);
    let after = steps.last().unwrap()["name"].as_str().unwrap().to_owned();
    let r = s.nuage(&[
        "workflows",
        "retry",
        &run,
        "--from-step",
        &after,
        "--context",
        "ops",
    ]);
    r.expect(8).plain();
    assert!(
        r.err.contains("comes after") && r.err.contains("server:app-1"),
        "{}",
        r.err
    );
    let t2 = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(
        t2["workflow"]["state"], "failed",
        "a refused retry changes nothing"
    );

    // clear the fault, then retry from the first step: every step runs again, the ones
    // that had succeeded find what they made (no duplicate), and the request gets ready
    let r = s.nuage(&[
        "sim",
        "clear",
        &instance,
        "--context",
        "admin",
        "-o",
        "json",
    ]);
    assert_eq!(r.expect(0).json()["rules"], serde_json::json!([]));
    let r = s.nuage(&[
        "workflows",
        "retry",
        &run,
        "--from-step",
        "0",
        "--context",
        "ops",
    ]);
    r.expect(0).plain();
    assert!(r.out.contains("retry accepted"), "{}", r.out);
    let r = watch(&s, &b, "ops");
    r.expect(0);
    assert!(r.out.lines().last().unwrap().contains("ready"), "{}", r.out);
    let v = s
        .nuage(&["requests", "get", &b, "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(v["state"], "ready");
    assert!(
        v["resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "ready"),
        "{v}"
    );
    let t = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    let first = &t["steps"][0];
    assert_eq!(first["state"], "succeeded");
    assert_eq!(first["attempts"], 2, "the first step ran again: {first}");
    assert_eq!(
        first["output"], steps[0]["output"],
        "and found the network it had made"
    );
    assert!(
        t["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "operator_retry" && e["detail"]["from_step"] == steps[0]["name"]),
        "{t}"
    );
    // the retry and the fault changes are in the audit log, by their tokens
    let audit = s
        .nuage(&[
            "audit",
            "list",
            "--context",
            "admin",
            "--action",
            "workflow.retry",
            "-o",
            "json",
        ])
        .expect(0)
        .json();
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!(audit[0]["details"]["from_step"], steps[0]["name"]);
    for action in ["sim.faults.set", "sim.faults.clear"] {
        let audit = s
            .nuage(&[
                "audit",
                "list",
                "--context",
                "admin",
                "--action",
                action,
                "--since",
                "1h",
                "-o",
                "json",
            ])
            .expect(0)
            .json();
        assert_eq!(audit.as_array().unwrap().len(), 1, "{action}: {audit}");
    }
    // a run that succeeded cannot be retried: 409, exit 8
    let r = s.nuage(&["workflows", "retry", &run, "--context", "ops"]);
    r.expect(8).plain();
    assert!(
        r.err.contains("conflict") && r.err.contains("workflows show"),
        "{}",
        r.err
    );
}

#[test]
fn failed_runs_are_cancelled_compensated_and_resumed() {
    let s = Server::start(FAST);
    contexts(&s);
    let first = submit(&s, "first");
    watch(&s, &first, "dev").expect(0);
    let instance = instance_of(&s, &first);
    inject_quota_fault(&s, &instance);
    let c = submit(&s, "to-cancel");
    let d = submit(&s, "to-compensate");
    let e = submit(&s, "to-resume");
    for id in [&c, &d, &e] {
        // with a requester token the watch shows resources, not the timeline
        let r = watch(&s, id, "dev");
        r.expect(5);
        assert!(r.err.contains("server:app-1"), "{}", r.err);
    }

    // cancel: what was made is removed, the request ends cancelled (watch exits 5: not ready)
    let run = run_of(&s, &c);
    let r = s.nuage(&["workflows", "cancel", &run, "--context", "ops"]);
    r.expect(0).plain();
    assert!(r.out.contains("cancel accepted"), "{}", r.out);
    let r = watch(&s, &c, "ops");
    r.expect(5);
    assert!(r.err.contains("cancelled"), "{}", r.err);
    let t = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(t["workflow"]["state"], "cancelled");
    assert!(
        t["steps"]
            .as_array()
            .unwrap()
            .iter()
            .all(|st| st["state"] != "succeeded"),
        "every finished step was undone: {t}"
    );

    // compensate: the same undoing, the request ends rolled back
    let run = run_of(&s, &d);
    let r = s.nuage(&[
        "workflows",
        "compensate",
        &run,
        "--context",
        "ops",
        "-o",
        "json",
    ]);
    let v = r.expect(0).json();
    assert_eq!(v["id"], run.as_str());
    let r = watch(&s, &d, "ops");
    r.expect(5);
    assert!(r.err.contains("rolled_back"), "{}", r.err);
    let t = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(t["workflow"]["state"], "compensated");
    // compensating again is refused: exit 8
    s.nuage(&["workflows", "compensate", &run, "--context", "ops"])
        .expect(8);

    // resume: once the cloud behaves again the run goes on from its failed step
    s.nuage(&["sim", "clear", &instance, "--context", "admin"])
        .expect(0);
    let run = run_of(&s, &e);
    s.nuage(&["workflows", "resume", &run, "--context", "ops"])
        .expect(0);
    let r = watch(&s, &e, "ops");
    r.expect(0);
    assert_eq!(request_state(&s, &e), "ready");
}

#[test]
fn errors_say_what_to_do_and_have_their_exit_codes() {
    let s = Server::start("");
    contexts(&s);

    // a refused token names the context and the token's source, never the token
    let bad = s.file(
        "bad.token",
        "nuage_not-a-real-token-0123456789abcdefghijklmn\n",
    );
    s.nuage(&[
        "context",
        "set",
        "stale",
        "--server",
        &s.url,
        "--token-file",
        bad.to_str().unwrap(),
    ])
    .expect(0);
    let r = s.nuage(&["requests", "list", "--context", "stale"]);
    r.expect(7).plain();
    assert!(r.err.contains("unauthorized, HTTP 401"), "{}", r.err);
    assert!(r.err.contains("context \"stale\""), "{}", r.err);
    assert!(r.err.contains(bad.to_str().unwrap()), "{}", r.err);
    assert!(!r.err.contains("nuage_not-a-real"), "{}", r.err);
    // no token at all
    let empty = s.dir.path().join("no-contexts.toml");
    let r = support::nuage_in(&empty, &["requests", "list", "--server", &s.url], &[], None);
    r.expect(7);
    assert!(r.err.contains("no token is configured"), "{}", r.err);
    // NUAGE_TOKEN is a token; the flag beats the context
    let dev = std::fs::read_to_string(s.dir.path().join("dev.token")).unwrap();
    s.nuage_with(
        &["requests", "list", "--context", "stale"],
        &[("NUAGE_TOKEN", &dev)],
        None,
    )
    .expect(0);

    // not found: exit 6 with a hint
    let r = s.nuage(&["requests", "get", "0190aaaa-0000-7000-8000-000000000000"]);
    r.expect(6).plain();
    assert!(r.err.contains("nuage requests list"), "{}", r.err);
    s.nuage(&["workflows", "show", "nope", "--context", "ops"])
        .expect(6);

    // an invalid request: every bad field from the broker, exit 3, nothing stored
    let f = s.file(
        "bad.yaml",
        "api_version: nuage/v1\nname: Bad Name\ntenant: min-culture\nsensitivity: {level: internal}\n\
         resources: {servers: [{name: a, vcpus: 0, ram_gib: 4, image: {os: debian, version: \"12\"}}]}\n",
    );
    let r = s.nuage(&["requests", "create", "-f", f.to_str().unwrap()]);
    r.expect(3).plain();
    assert!(r.err.contains("invalid-request, HTTP 422"), "{}", r.err);
    assert!(r.err.contains("resources.servers[0].vcpus"), "{}", r.err);
    assert!(r.err.contains("name"), "{}", r.err);
    let listed = s
        .nuage(&["requests", "list", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(listed.as_array().unwrap().len(), 0);
    // not even YAML: refused before calling
    let f = s.file("broken.yaml", "api_version: [\n");
    s.nuage(&["requests", "create", "-f", f.to_str().unwrap()])
        .expect(3);

    // classified data is refused: exit 4, each tier's reason shown
    let classified = support::repo().join("examples/requests/classified.yaml");
    let r = s.nuage(&[
        "requests",
        "create",
        "-f",
        classified.to_str().unwrap(),
        "--context",
        "admin",
    ]);
    r.expect(4).plain();
    assert!(r.err.contains("R-CLASSIFIED"), "{}", r.err);

    // plan and offers against the broker
    let internal = support::repo().join("examples/requests/internal.yaml");
    let r = s.nuage(&[
        "plan",
        "-f",
        internal.to_str().unwrap(),
        "--context",
        "admin",
        "-o",
        "json",
    ]);
    let d = r.expect(0).json();
    assert_eq!(d["outcome"], "placed");
    let r = s.nuage(&[
        "plan",
        "-f",
        internal.to_str().unwrap(),
        "--context",
        "admin",
    ]);
    r.expect(0).plain();
    assert!(
        r.out.contains("PLACED on") && r.out.contains("chosen"),
        "{}",
        r.out
    );
    let r = s.nuage(&[
        "plan",
        "-f",
        classified.to_str().unwrap(),
        "--remote",
        "--context",
        "admin",
    ]);
    r.expect(4);
    assert!(r.out.contains("REFUSED"), "{}", r.out);
    let offers = s
        .nuage(&[
            "offers", "list", "--remote", "--tier", "internal", "-o", "json",
        ])
        .expect(0)
        .json();
    let offers = offers.as_array().unwrap();
    assert!(!offers.is_empty());
    assert!(
        offers
            .iter()
            .all(|o| o["tier"] == "internal" && o["simulated"] == true)
    );
    let r = s.nuage(&["offers", "list", "--server", &s.url, "--tier", "internal"]);
    r.expect(0).plain();
    assert!(r.out.contains("(simulated)"), "{}", r.out);

    // tokens: listed without secrets, revoked ones stop working
    let r = s.nuage(&["tokens", "list", "--context", "admin", "-o", "json"]);
    let tokens = r.expect(0).json();
    assert!(
        !r.out.contains("nuage_"),
        "no secret in a listing: {}",
        r.out
    );
    let dev_id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "dev")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.nuage(&["tokens", "revoke", &dev_id, "--context", "admin"])
        .expect(0)
        .plain();
    let r = s.nuage(&["tokens", "list", "--context", "admin", "--all"]);
    assert!(r.expect(0).out.contains("revoked"), "{}", r.out);
    std::thread::sleep(std::time::Duration::from_millis(300)); // the broker's token cache
    s.nuage(&["requests", "list"]).expect(7);

    // the audit chain holds
    let r = s.nuage(&["audit", "verify", "--context", "admin"]);
    r.expect(0).plain();
    assert!(r.out.contains("intact"), "{}", r.out);
    let v = s.nuage(&["audit", "verify", "--context", "admin", "-o", "yaml"]);
    v.expect(0);
    assert!(v.out.contains("head_hash"), "{}", v.out);
    let r = s.nuage(&["audit", "list", "--context", "admin", "--since", "1h"]);
    r.expect(0).plain();
    assert!(
        r.out.contains("token.create") || r.out.contains("token"),
        "{}",
        r.out
    );

    // --color always colours tables; piped output never does otherwise
    let r = s.nuage(&[
        "tokens",
        "list",
        "--context",
        "admin",
        "--all",
        "--color",
        "always",
    ]);
    assert!(r.expect(0).out.contains('\u{1b}'), "{}", r.out);
    let r = s.nuage_with(
        &[
            "tokens",
            "list",
            "--context",
            "admin",
            "--all",
            "--color",
            "auto",
        ],
        &[("NO_COLOR", "1")],
        None,
    );
    r.expect(0).plain();
    let _: Value = s
        .nuage(&["requests", "list", "--context", "admin", "-o", "json"])
        .expect(0)
        .json();
}

#[test]
fn waiting_times_out_and_a_running_run_is_cancelled() {
    // every cloud call takes 1.5 s: provisioning outlasts a 1 s wait
    let s = Server::start("sim: {latency: {min_ms: 1500, max_ms: 1500}}");
    contexts(&s);
    let f = s.file("slow.yaml", &request_yaml("slow"));
    // --wait -o json: nothing but the final document on stdout, and the exit code says how it ended
    let r = s.nuage(&[
        "requests",
        "create",
        "-f",
        f.to_str().unwrap(),
        "--wait",
        "--timeout",
        "1",
        "-o",
        "json",
    ]);
    r.expect(10).plain();
    let v = r.json();
    assert_eq!(v["state"], "provisioning", "{v}");
    assert!(
        r.err.contains("still provisioning") && r.err.contains("requests watch"),
        "{}",
        r.err
    );
    let id = v["id"].as_str().unwrap().to_owned();
    let r = s.nuage(&[
        "requests",
        "watch",
        &id,
        "--timeout",
        "1",
        "--context",
        "ops",
    ]);
    r.expect(10).plain();
    assert!(r.out.contains("running (attempt 1)"), "{}", r.out);

    // cancelling a running run: the step is asked to stop, what was made is removed
    let run = run_of(&s, &id);
    let r = s.nuage(&["workflows", "cancel", &run, "--context", "ops"]);
    r.expect(0).plain();
    let r = watch(&s, &id, "ops");
    r.expect(5);
    assert!(r.err.contains("cancelled"), "{}", r.err);
    let t = s
        .nuage(&["workflows", "show", &run, "--context", "ops", "-o", "json"])
        .expect(0)
        .json();
    assert_eq!(t["workflow"]["state"], "cancelled");
    assert_eq!(t["workflow"]["cancel_requested"], true);
}
