//! A moto EC2 server per test (or per test process), killed when dropped or when the process
//! exits.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nuage_provider::Secret;

use crate::config::{AwsConfig, AwsCredentials, RetrySettings, Timeouts, WaitSettings};

/// The AMIs the harness loads into moto (instead of moto's own), matching the default image
/// rules. Each tuple: id, owner, name, architecture, creation date.
pub mod images {
    /// Newest Debian 12 amd64 image: what `debian 12` resolves to.
    pub const DEBIAN_12: &str = "ami-0d12a0000000002b";
    /// An older Debian 12 amd64 image, never chosen.
    pub const DEBIAN_12_OLD: &str = "ami-0d12a0000000001a";
    /// A newer Debian 12 image for arm64, never chosen for x86_64 rules.
    pub const DEBIAN_12_ARM: &str = "ami-0d12b0000000003c";
    /// Debian 13 amd64.
    pub const DEBIAN_13: &str = "ami-0d13a0000000001a";
    /// Ubuntu 22.04 amd64.
    pub const UBUNTU_2204: &str = "ami-0u22a0000000001a";
    /// Ubuntu 24.04 amd64.
    pub const UBUNTU_2404: &str = "ami-0u24a0000000001a";
    /// Amazon Linux 2023 x86_64.
    pub const AMAZONLINUX_2023: &str = "ami-0a23a0000000001a";

    pub(super) const ALL: &[(&str, &str, &str, &str, &str)] = &[
        (
            DEBIAN_12_OLD,
            "136693071363",
            "debian-12-amd64-20250110-1990",
            "x86_64",
            "2025-01-10T08:00:00.000Z",
        ),
        (
            DEBIAN_12,
            "136693071363",
            "debian-12-amd64-20250610-2140",
            "x86_64",
            "2025-06-10T08:00:00.000Z",
        ),
        (
            DEBIAN_12_ARM,
            "136693071363",
            "debian-12-arm64-20250701-2160",
            "arm64",
            "2025-07-01T08:00:00.000Z",
        ),
        (
            DEBIAN_13,
            "136693071363",
            "debian-13-amd64-20250901-2200",
            "x86_64",
            "2025-09-01T08:00:00.000Z",
        ),
        (
            UBUNTU_2204,
            "099720109477",
            "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20250515",
            "x86_64",
            "2025-05-15T08:00:00.000Z",
        ),
        (
            UBUNTU_2404,
            "099720109477",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20250610",
            "x86_64",
            "2025-06-10T08:00:00.000Z",
        ),
        (
            AMAZONLINUX_2023,
            "137112412989",
            "al2023-ami-2023.7.20250609.0-kernel-6.1-x86_64",
            "x86_64",
            "2025-06-09T08:00:00.000Z",
        ),
    ];
}

/// How to start moto.
#[derive(Clone, Debug)]
pub struct MotoOptions {
    /// Refuse unknown AMIs and instance types, as EC2 does (default on).
    pub validation: bool,
    /// Enforce IAM authentication: only access keys created in moto's IAM are accepted, so any
    /// other key gets `AuthFailure` (default off).
    pub iam_auth: bool,
}

impl Default for MotoOptions {
    fn default() -> Self {
        MotoOptions {
            validation: true,
            iam_auth: false,
        }
    }
}

/// A running moto server. Dropping it stops the server; a server from [`MotoServer::shared`]
/// stops when the test process exits (its stdin pipe closes).
#[derive(Debug)]
pub struct MotoServer {
    port: u16,
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

fn tools_dir() -> PathBuf {
    match std::env::var_os("NUAGE_TOOLS_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let home =
                std::env::var_os("HOME").map_or_else(|| PathBuf::from("/root"), PathBuf::from);
            home.join(".cache/nuage-tools")
        }
    }
}

fn write_images(port: u16) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "nuage-moto-amis-{}-{port}.json",
        std::process::id()
    ));
    let entries: Vec<String> = images::ALL
        .iter()
        .map(|(id, owner, name, arch, date)| {
            format!(
                r#"{{"ami_id":"{id}","state":"available","public":true,"owner_id":"{owner}","image_location":"{owner}/{name}","sriov":"simple","root_device_type":"ebs","root_device_name":"/dev/xvda","description":"{name}","image_type":"machine","platform":null,"architecture":"{arch}","name":"{name}","virtualization_type":"hvm","hypervisor":"xen","creation_date":"{date}"}}"#
            )
        })
        .collect();
    std::fs::write(&path, format!("[{}]", entries.join(",")))
        .expect("write the moto AMI catalogue");
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// One HTTP/1.0 request to moto; returns the status code.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut head = String::new();
    stream.read_to_string(&mut head)?;
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no HTTP status in {head:.80?}")))
}

impl MotoServer {
    /// Where `moto_server` is: `NUAGE_MOTO_SERVER`, or the venv of `scripts/deps/moto.sh`.
    pub fn binary() -> PathBuf {
        match std::env::var_os("NUAGE_MOTO_SERVER") {
            Some(path) => PathBuf::from(path),
            None => tools_dir().join("moto/bin/moto_server"),
        }
    }

    /// Starts a server with the default options (validation on).
    pub fn start() -> Self {
        Self::start_with(MotoOptions::default())
    }

    /// One server for the whole test process, started on first use.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(MotoServer::start)
    }

    /// Starts a server on a free loopback port and waits until it answers.
    ///
    /// # Panics
    /// If `moto_server` is missing (run `scripts/deps/moto.sh`) or does not come up.
    pub fn start_with(options: MotoOptions) -> Self {
        let binary = Self::binary();
        assert!(
            binary.exists(),
            "moto_server not found at {}: run scripts/deps/moto.sh (or set NUAGE_MOTO_SERVER)",
            binary.display()
        );
        let port = free_port();
        let log =
            std::env::temp_dir().join(format!("nuage-moto-{}-{port}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).expect("create the moto log file");
        let mut cmd = Command::new("sh");
        // The shell runs moto in the background and kills it as soon as its stdin closes: when
        // this handle drops, or when the test process exits for any reason.
        cmd.arg("-c")
            .arg(concat!(
                r#""$0" "$@" </dev/null & child=$!; read -r line; kill "$child" 2>/dev/null; "#,
                r#"wait "$child" 2>/dev/null; rm -f "$MOTO_AMIS_PATH" "$NUAGE_MOTO_LOG""#
            ))
            .arg(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_AMIS_PATH", write_images(port))
            .env("NUAGE_MOTO_LOG", &log)
            .stdin(Stdio::piped())
            .stdout(log_file.try_clone().expect("clone the log handle"))
            .stderr(log_file);
        if options.validation {
            cmd.env("MOTO_ENABLE_AMI_VALIDATION", "true")
                .env("MOTO_EC2_ENABLE_INSTANCE_TYPE_VALIDATION", "true");
        }
        if options.iam_auth {
            cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
        }
        let mut child = cmd.spawn().expect("spawn moto_server");
        let stdin = child.stdin.take();
        let server = MotoServer {
            port,
            child,
            stdin,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while http(port, "GET", "/moto-api/").ok() != Some(200) {
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer on port {port} within 30 s; log:\n{}",
                std::fs::read_to_string(&server.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The endpoint URL to give the SDK.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Forgets every resource (moto's `POST /moto-api/reset`).
    pub fn reset(&self) {
        let status = http(self.port, "POST", "/moto-api/reset").expect("reach moto to reset it");
        assert_eq!(status, 200, "moto reset answered {status}");
    }

    /// A provider configuration for this server: region `eu-west-3`, static test credentials,
    /// dedicated hosts on, short backoffs and waits.
    pub fn config(&self, name: &str) -> AwsConfig {
        let mut config = AwsConfig::new(
            name,
            "eu-west-3",
            AwsCredentials::Static {
                access_key_id: "AKIANUAGETESTING0001".to_owned(),
                secret_access_key: Secret::new("nuage-moto-test-secret"),
                session_token: None,
            },
        );
        config.endpoint = Some(self.endpoint());
        config.dedicated_hosts = true;
        config.retry = RetrySettings {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
        };
        config.timeouts = Timeouts {
            connect: Duration::from_secs(2),
            attempt: Duration::from_secs(10),
            operation: Duration::from_secs(30),
        };
        config.wait = WaitSettings {
            timeout: Duration::from_secs(30),
            min_delay: Duration::from_millis(20),
            max_delay: Duration::from_millis(200),
        };
        config.throttle_retry_after = Duration::from_millis(200);
        config
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
