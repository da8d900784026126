//! The `nuage` binary: built once per test process with the cargo that builds the tests, into
//! the same target directory, in the same profile (`--release` for benches).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The target directory's profile directory this test binary runs from (`target/debug`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test>-<hash>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("a test binary under target/<profile>/deps")
        .to_path_buf()
}

/// Builds `nuage` (if needed) and returns its path. `NUAGE_BIN` skips the build.
///
/// # Panics
/// If the build fails.
pub fn nuage() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        if let Some(p) = std::env::var_os("NUAGE_BIN") {
            return PathBuf::from(p);
        }
        let dir = profile_dir();
        let release = dir.file_name().is_some_and(|n| n == "release");
        let target = dir.parent().expect("a target directory").to_path_buf();
        let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let mut cmd = Command::new(env!("CARGO"));
        // The variables cargo sets for a running test (CARGO_MANIFEST_DIR, CARGO_PKG_*...) must
        // not reach this build: some build scripts track them, and would rebuild for nothing.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy().into_owned();
            if name.starts_with("CARGO_") && name != "CARGO_HOME" {
                cmd.env_remove(&name);
            }
        }
        cmd.args([
            "build",
            "--quiet",
            "-p",
            "nuage",
            "--bin",
            "nuage",
            "--manifest-path",
        ])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target);
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("run cargo build");
        assert!(status.success(), "building the nuage binary failed");
        let bin = dir.join("nuage");
        assert!(bin.exists(), "no binary at {}", bin.display());
        bin
    })
    .clone()
}
