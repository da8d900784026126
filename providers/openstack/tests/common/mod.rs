//! Test harness: starts a real OpenStack stack (scripts/openstack/start-stack) once per test
//! binary, shares it between the binary's tests, and tears it down when the binary exits (the
//! stack's supervisor watches this process). Tests fail, never skip, when the virtualenv is
//! missing.

#![allow(dead_code, unreachable_pub)]

pub mod proxy;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use nuage_provider::{ResourceMeta, Secret};
use nuage_provider_openstack::{AuthConfig, Credentials, OpenStackConfig, Scope};
use serde_json::Value;

/// A running stack and what it holds (stack.json).
pub struct Stack {
    pub info: Value,
    _child: Option<Mutex<Child>>,
}

impl Stack {
    pub fn auth_url(&self) -> String {
        self.info["auth_url"].as_str().unwrap().to_owned()
    }

    pub fn region(&self) -> String {
        self.info["region"].as_str().unwrap().to_owned()
    }

    pub fn str(&self, pointer: &str) -> String {
        self.info
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("stack.json has no {pointer}"))
            .to_owned()
    }

    /// Password credentials of user `nuage`, scoped to project `project`.
    pub fn user_config(&self, instance: &str, project: &str) -> OpenStackConfig {
        let mut config = OpenStackConfig::new(
            instance,
            AuthConfig {
                auth_url: self.auth_url(),
                credentials: Credentials::Password {
                    username: self.str("/user/username"),
                    user_domain: "Default".into(),
                    password: Secret::new(self.str("/user/password")).into(),
                },
                scope: Some(Scope::project(project, "Default")),
            },
        );
        config.region = Some(self.region());
        config.request_timeout = Duration::from_secs(30);
        config
    }

    /// Password credentials of `admin` on project `admin`.
    pub fn admin_config(&self) -> OpenStackConfig {
        let mut config = OpenStackConfig::new(
            "admin",
            AuthConfig {
                auth_url: self.auth_url(),
                credentials: Credentials::Password {
                    username: "admin".into(),
                    user_domain: "Default".into(),
                    password: Secret::new(self.str("/admin/password")).into(),
                },
                scope: Some(Scope::project("admin", "Default")),
            },
        );
        config.region = Some(self.region());
        config
    }
}

static KEYSTONE: OnceLock<Stack> = OnceLock::new();
static FULL: OnceLock<Stack> = OnceLock::new();

/// Token lifetime of the Keystone-only stack: short, so that expiry is testable.
pub const KEYSTONE_TOKEN_SECONDS: u64 = 12;

/// Keystone alone (a few seconds to start).
pub fn keystone() -> &'static Stack {
    KEYSTONE.get_or_init(|| shared("keystone", KEYSTONE_TOKEN_SECONDS))
}

/// Keystone, Placement, Glance, Neutron, Nova and Cinder (about a minute to start).
/// `NUAGE_OPENSTACK_STACK_JSON` may name the stack.json of a full stack already running (a
/// developer's loop); it is then used as is and left running.
pub fn full() -> &'static Stack {
    FULL.get_or_init(|| match std::env::var_os("NUAGE_OPENSTACK_STACK_JSON") {
        Some(path) => Stack {
            info: serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap(),
            _child: None,
        },
        None => shared("full", 3600),
    })
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv the stack runs from; the test fails naming the install script if missing.
pub fn venv() -> PathBuf {
    if let Some(v) = std::env::var_os("NUAGE_OPENSTACK_VENV") {
        return v.into();
    }
    let tools = std::env::var_os("NUAGE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache/nuage-tools")
        });
    tools.join("openstack")
}

/// One stack per test binary under `cargo test`. Under cargo-nextest, which runs each test in a
/// process of its own, one stack per nextest run: the first test process starts it under a file
/// lock, the others find its stack.json, and it lives as long as the nextest process.
fn shared(mode: &str, token_seconds: u64) -> Stack {
    let Some(run) = std::env::var_os("NEXTEST_RUN_ID") else {
        let state = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("openstack-{mode}-{}", std::process::id()));
        return start(mode, token_seconds, state, std::process::id());
    };
    let state = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("openstack-{mode}-run-{}", run.to_string_lossy()));
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let lock = std::fs::File::create(state.with_extension("lock")).unwrap();
    lock.lock().unwrap();
    let json = state.join("stack.json");
    if json.exists() {
        return Stack {
            info: serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap(),
            _child: None,
        };
    }
    start(
        mode,
        token_seconds,
        state,
        std::os::unix::process::parent_id(),
    )
}

fn start(mode: &str, token_seconds: u64, state: PathBuf, watch_pid: u32) -> Stack {
    let venv = venv();
    assert!(
        venv.join("bin/keystone-manage").exists(),
        "no OpenStack virtualenv at {}: run scripts/deps/openstack.sh first",
        venv.display()
    );
    let _ = std::fs::remove_dir_all(&state);
    std::fs::create_dir_all(state.parent().unwrap()).unwrap();
    let log_path = state.with_extension("log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(repo_root().join("scripts/openstack/start-stack"))
        .args(["--mode", mode, "--state-dir"])
        .arg(&state)
        .args(["--watch-pid", &watch_pid.to_string()])
        .args(["--token-expiration", &token_seconds.to_string()])
        .env("NUAGE_OPENSTACK_VENV", &venv)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .expect("start scripts/openstack/start-stack");
    let stdout = child.stdout.take().unwrap();
    let mut ready = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(path) = line.strip_prefix("NUAGE_STACK_READY ") {
            ready = Some(PathBuf::from(path));
            break;
        }
    }
    let Some(path) = ready else {
        let _ = child.wait();
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!(
            "the {mode} OpenStack stack did not start; {}:\n{}",
            log_path.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        );
    };
    let info: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    eprintln!(
        "{mode} OpenStack stack ready in {} s, {} MB RSS in {} processes",
        info["setup_seconds"], info["rss_mb"], info["processes"]
    );
    Stack {
        info,
        _child: Some(Mutex::new(child)),
    }
}

/// A resource identity unique to one test.
pub fn meta(test: &str, resource: &str) -> ResourceMeta {
    ResourceMeta::new(
        "tenant-os-tests",
        format!("{test}-{}", std::process::id()),
        resource,
    )
    .unwrap()
}

/// Logs of the crate under test, captured for assertions.
#[derive(Clone, Default)]
pub struct Captured(pub std::sync::Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Installs a debug subscriber writing into a buffer, for the current thread's scope.
pub fn capture_logs() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}
