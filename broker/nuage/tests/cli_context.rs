//! The client commands that need no broker, run as the real binary: contexts in the config file,
//! completions, and what happens when the broker cannot be reached.

#[path = "cli_support/mod.rs"]
mod support;

use support::{free_port, nuage_in};

#[test]
fn contexts_are_created_switched_listed_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("nuage").join("config.toml");
    let token = dir.path().join("dev.token");
    std::fs::write(&token, "nuage_dev-secret-never-printed\n").unwrap();

    nuage_in(&cfg, &["context", "current"], &[], None).expect(3);
    let r = nuage_in(
        &cfg,
        &[
            "context",
            "set",
            "dev",
            "--server",
            "http://127.0.0.1:9/",
            "--token-file",
            token.to_str().unwrap(),
            "-o",
            "json",
        ],
        &[],
        None,
    );
    r.expect(0).plain();
    assert!(r.out.contains("context dev created"), "{}", r.out);
    // the first context becomes the current one
    let r = nuage_in(&cfg, &["context", "current"], &[], None);
    assert_eq!(r.expect(0).out.trim(), "dev");

    let r = nuage_in(
        &cfg,
        &[
            "context",
            "set",
            "prod",
            "--server",
            "https://nuage.example.gouv.fr",
            "--token-stdin",
        ],
        &[],
        Some("nuage_prod-inline-secret\n"),
    );
    r.expect(0);
    assert!(r.err.contains("inline"), "{}", r.err);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.contains("current_context = \"dev\""), "{text}");
    assert!(text.contains("server = \"http://127.0.0.1:9\""), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&cfg).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the config file may hold a token");
    }

    let r = nuage_in(&cfg, &["context", "list"], &[], None);
    r.expect(0).plain();
    let lines: Vec<&str> = r.out.lines().collect();
    assert_eq!(lines.len(), 3, "{}", r.out);
    assert!(lines[1].trim_start().starts_with("* "), "{}", r.out);
    assert!(lines[2].contains("inline (discouraged)"), "{}", r.out);
    assert!(
        !r.out.contains("secret"),
        "no token is ever listed: {}",
        r.out
    );

    nuage_in(&cfg, &["context", "use", "prod"], &[], None).expect(0);
    let r = nuage_in(&cfg, &["context", "list", "-o", "json"], &[], None);
    let v = r.expect(0).json();
    assert_eq!(v["current_context"], "prod");
    assert_eq!(v["contexts"][0]["name"], "dev");
    assert_eq!(v["contexts"][0]["output"], "json");
    assert!(!r.out.contains("nuage_prod"), "{}", r.out);

    // NUAGE_CONTEXT overrides the file's current context
    let r = nuage_in(
        &cfg,
        &["context", "current"],
        &[("NUAGE_CONTEXT", "dev")],
        None,
    );
    assert_eq!(r.expect(0).out.trim(), "dev");

    let r = nuage_in(&cfg, &["context", "use", "staging"], &[], None);
    r.expect(3);
    assert!(r.err.contains("dev, prod"), "{}", r.err);
    nuage_in(&cfg, &["context", "delete", "prod"], &[], None).expect(0);
    nuage_in(&cfg, &["context", "current"], &[], None).expect(3);
}

#[test]
fn an_unreachable_broker_names_the_context_and_exits_9() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    let port = free_port();
    let token = dir.path().join("t");
    std::fs::write(&token, "nuage_x\n").unwrap();
    nuage_in(
        &cfg,
        &[
            "context",
            "set",
            "local",
            "--server",
            &format!("http://127.0.0.1:{port}"),
            "--token-file",
            token.to_str().unwrap(),
        ],
        &[],
        None,
    )
    .expect(0);
    let r = nuage_in(&cfg, &["requests", "list"], &[], None);
    r.expect(9).plain();
    assert!(r.err.contains(&format!("127.0.0.1:{port}")), "{}", r.err);
    assert!(r.err.contains("context \"local\""), "{}", r.err);
    assert!(r.err.contains("token from file"), "{}", r.err);
    assert!(!r.err.contains("nuage_x"), "{}", r.err);

    // a missing token file or variable is a configuration error (3), said before any call
    let r = nuage_in(
        &cfg,
        &["requests", "list", "--token-file", "/nonexistent/token"],
        &[],
        None,
    );
    r.expect(3);
    assert!(r.err.contains("/nonexistent/token"), "{}", r.err);
    let r = nuage_in(&cfg, &["requests", "list", "--context", "nope"], &[], None);
    r.expect(3);
    assert!(r.err.contains("nuage context set nope"), "{}", r.err);
    // a broken config file says where
    std::fs::write(&cfg, "current_context = [").unwrap();
    let r = nuage_in(&cfg, &["requests", "list"], &[], None);
    r.expect(3);
    assert!(r.err.contains(cfg.to_str().unwrap()), "{}", r.err);
}

#[test]
fn offline_plan_ignores_contexts_and_remote_flags_refuse_offline_options() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        "current_context = \"x\"\n[contexts.x]\nserver = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    // offline by default, even with a current context and NUAGE_SERVER set
    let r = nuage_in(
        &cfg,
        &[
            "plan",
            "-f",
            "examples/requests/internal.yaml",
            "--at",
            "2026-11-29",
        ],
        &[("NUAGE_SERVER", "http://127.0.0.1:9")],
        None,
    );
    r.expect(0).plain();
    assert!(r.out.contains("PLACED on"), "{}", r.out);
    let r = nuage_in(
        &cfg,
        &[
            "plan",
            "-f",
            "examples/requests/internal.yaml",
            "--remote",
            "--at",
            "2026-11-29",
        ],
        &[],
        None,
    );
    r.expect(2);
    assert!(r.err.contains("offline only"), "{}", r.err);
    nuage_in(&cfg, &["offers", "list", "--tier", "internal"], &[], None).expect(0);
}

#[test]
fn completions_cover_the_operator_commands() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.toml");
    for shell in ["bash", "zsh", "fish"] {
        let r = nuage_in(&cfg, &["completions", shell], &[], None);
        r.expect(0).plain();
        for word in ["requests", "workflows", "retry", "compensate", "context"] {
            assert!(r.out.contains(word), "{shell} completion lacks {word}");
        }
    }
    nuage_in(&cfg, &["completions", "powershell"], &[], None).expect(2);
}
