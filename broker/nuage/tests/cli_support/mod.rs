//! What the CLI tests share: a real broker (`nuage serve`) on a temporary SQLite file and a free
//! port, with its bootstrap admin token, and a way to run the real `nuage` binary against it
//! with a config file of its own (`NUAGE_CONFIG`), never the user's.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A command's outcome, as text.
#[derive(Debug)]
pub(crate) struct Run {
    /// Exit code.
    pub(crate) code: Option<i32>,
    /// Standard output.
    pub(crate) out: String,
    /// Standard error.
    pub(crate) err: String,
}

impl Run {
    fn of(o: Output) -> Run {
        Run {
            code: o.status.code(),
            out: String::from_utf8_lossy(&o.stdout).into_owned(),
            err: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Standard output as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.out)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.out, self.err))
    }

    /// Asserts the exit code, showing both outputs otherwise.
    #[track_caller]
    pub(crate) fn expect(&self, code: i32) -> &Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.out,
            self.err
        );
        self
    }

    /// Asserts neither output holds an escape code (piped output is plain).
    #[track_caller]
    pub(crate) fn plain(&self) -> &Run {
        assert!(
            !self.out.contains('\u{1b}') && !self.err.contains('\u{1b}'),
            "escape codes in piped output:\n{:?}\n{:?}",
            self.out,
            self.err
        );
        self
    }
}

/// A free TCP port on the loopback interface.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A running broker, killed when dropped.
pub(crate) struct Server {
    /// Its temporary directory (database, config, tokens, the client's config file).
    pub(crate) dir: tempfile::TempDir,
    /// Its base URL.
    pub(crate) url: String,
    /// The bootstrap admin token's file.
    pub(crate) admin_token: PathBuf,
    child: Child,
}

/// The admin token installed at first start.
pub(crate) const ADMIN_TOKEN: &str = "nuage_cli-tests-admin-token-0123456789abcdefghijkl";

impl Server {
    /// Starts `nuage serve` with a configuration whose extra YAML (`sim:`, `provisioning:`...)
    /// is appended, and waits until it is ready.
    pub(crate) fn start(extra_yaml: &str) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let admin_token = dir.path().join("admin.token");
        std::fs::write(&admin_token, format!("{ADMIN_TOKEN}\n")).unwrap();
        let db = dir.path().join("nuage.db");
        let config = dir.path().join("broker.yaml");
        std::fs::write(
            &config,
            format!(
                "listen: 127.0.0.1:{port}\n\
                 database: {{url: \"sqlite:{}\"}}\n\
                 auth: {{bootstrap_token: {{file: \"{}\"}}, cache_ttl_ms: 100}}\n\
                 engine: {{workers: 4, lease_ttl_ms: 3000, poll_interval_ms: 100}}\n\
                 reconcile_interval_ms: 200\n\
                 shutdown_grace_ms: 1000\n\
                 log: {{level: warn}}\n\
                 {extra_yaml}\n",
                db.display(),
                admin_token.display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_nuage"))
            .args(["serve", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("nuage serve starts");
        let mut s = Server {
            dir,
            url: format!("http://127.0.0.1:{port}"),
            admin_token,
            child,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let http = reqwest::blocking::Client::new();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("nuage serve exited ({status}):\n{}", self.log());
            }
            if let Ok(r) = http.get(format!("{}/readyz", self.url)).send()
                && r.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the broker is not ready after 60s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The server's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// The client's config file (inside the temporary directory).
    pub(crate) fn client_config(&self) -> PathBuf {
        self.dir.path().join("client").join("config.toml")
    }

    /// Runs `nuage ARGS` with this server's client config file and a clean environment.
    pub(crate) fn nuage(&self, args: &[&str]) -> Run {
        self.nuage_with(args, &[], None)
    }

    /// Runs `nuage ARGS` with extra environment variables and standard input.
    pub(crate) fn nuage_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        stdin: Option<&str>,
    ) -> Run {
        nuage_in(&self.client_config(), args, env, stdin)
    }

    /// Writes a file in the temporary directory.
    pub(crate) fn file(&self, name: &str, content: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the binary with `NUAGE_CONFIG` set, nothing else of the caller's environment but PATH.
pub(crate) fn nuage_in(
    config: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nuage"));
    cmd.args(args)
        .current_dir(repo())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("NUAGE_CONFIG", config)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("nuage runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    Run::of(child.wait_with_output().expect("nuage ends"))
}

/// A request document of tenant `min-culture` with one server (`NAME-1`) and one volume.
pub(crate) fn request_yaml(name: &str) -> String {
    format!(
        "api_version: nuage/v1\n\
         name: {name}\n\
         tenant: min-culture\n\
         sensitivity: {{level: internal}}\n\
         resources:\n\
         \x20 servers:\n\
         \x20   - {{name: app, vcpus: 2, ram_gib: 4, image: {{os: debian, version: \"12\"}}}}\n\
         \x20 volumes:\n\
         \x20   - {{name: data, size_gib: 20, attach_to: app}}\n"
    )
}
