//! `nuage serve` as a real process: a configuration file, a free port, its log, and a way to
//! kill it (SIGKILL) and start it again on the same database.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The bootstrap admin token every test server installs.
pub const ADMIN_TOKEN: &str = "nuage_e2e-admin-token-0123456789abcdefghijklmnopq";

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `nuage serve`.
#[derive(Debug)]
pub struct Serve {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// The directory holding its configuration, log and token.
    pub dir: tempfile::TempDir,
    config: PathBuf,
    child: Option<Child>,
    starts: u32,
}

impl Serve {
    /// Starts `nuage serve` on `database_url` with this extra YAML configuration, and waits
    /// until `/readyz` answers.
    pub fn start(database_url: &str, extra_yaml: &str) -> Serve {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let token = dir.path().join("admin.token");
        std::fs::write(&token, format!("{ADMIN_TOKEN}\n")).expect("write the token");
        let config = dir.path().join("broker.yaml");
        std::fs::write(
            &config,
            format!(
                "listen: 127.0.0.1:{port}\n\
                 database: {{url: \"{database_url}\"}}\n\
                 auth: {{bootstrap_token: {{file: \"{}\"}}, cache_ttl_ms: 100}}\n\
                 log: {{level: \"info,sqlx=warn\"}}\n\
                 {extra_yaml}\n",
                token.display()
            ),
        )
        .expect("write the configuration");
        let mut s = Serve {
            url: format!("http://127.0.0.1:{port}"),
            dir,
            config,
            child: None,
            starts: 0,
        };
        s.restart();
        s
    }

    /// Starts the process (again) and waits until it is ready.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        self.starts += 1;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("the log file");
        let child = Command::new(crate::binary::nuage())
            .args(["serve", "--config"])
            .arg(&self.config)
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log"))
            .stderr(log)
            .spawn()
            .expect("nuage serve starts");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let addr = self.url.trim_start_matches("http://").to_owned();
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("nuage serve exited ({status}):\n{}", self.log());
            }
            if ready(&addr) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "nuage serve is not ready after 120 s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no lease handed back.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Its process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its log so far (standard output and error of every start).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// How many times it was started.
    pub fn starts(&self) -> u32 {
        self.starts
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Whether `GET /readyz` answers 200 (plain HTTP/1.1 over a socket, no client needed).
fn ready(addr: &str) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(
        format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
