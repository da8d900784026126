//! Test harness: several unprivileged libvirtd instances, each serving libvirt's test driver on
//! its own unix socket, playing a multi-host pool through the remote protocol.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nuage_provider_libvirt::LibvirtSettings;
use virt::connect::Connect;
use virt::storage_vol::StorageVol;

/// The image every host carries in its storage pool.
pub(crate) const IMAGE_VOLUME: &str = "debian-12.qcow2";
/// The test driver's storage pool.
pub(crate) const STORAGE_POOL: &str = "default-pool";

/// Where libvirtd is: `NUAGE_LIBVIRTD`, else what scripts/deps/libvirt.sh recorded, else
/// /usr/sbin/libvirtd.
fn libvirtd() -> PathBuf {
    if let Some(p) = std::env::var_os("NUAGE_LIBVIRTD") {
        return p.into();
    }
    let tools = std::env::var_os("NUAGE_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/nuage-tools")
        });
    if let Ok(p) = std::fs::read_to_string(tools.join("libvirt/libvirtd.path")) {
        return PathBuf::from(p.trim());
    }
    let fallback = PathBuf::from("/usr/sbin/libvirtd");
    assert!(
        fallback.exists(),
        "libvirtd not found: run scripts/deps/libvirt.sh (or set NUAGE_LIBVIRTD)"
    );
    fallback
}

fn is_root() -> bool {
    // The owner of /proc/self is the effective uid.
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// One libvirtd instance on its own config, runtime dirs and socket. Run as `nobody` when the
/// tests run as root, so it is unprivileged either way.
pub(crate) struct Daemon {
    pub(crate) name: String,
    dir: tempfile::TempDir,
    child: Option<Child>,
    keeper: Option<Connect>,
}

impl Daemon {
    pub(crate) fn start(name: &str) -> Daemon {
        let dir = tempfile::Builder::new()
            .prefix(&format!("nuage-libvirtd-{name}-"))
            .tempdir()
            .unwrap();
        let mut d = Daemon {
            name: name.to_owned(),
            dir,
            child: None,
            keeper: None,
        };
        d.launch();
        d
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub(crate) fn socket(&self) -> PathBuf {
        self.path("run/libvirt-sock")
    }

    pub(crate) fn uri(&self) -> String {
        format!("test+unix:///default?socket={}", self.socket().display())
    }

    fn launch(&mut self) {
        let root = self.dir.path().to_owned();
        for sub in ["cfg", "run", "cache", "data", "home"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        let _ = std::fs::remove_file(self.socket());
        std::fs::write(
            root.join("libvirtd.conf"),
            format!(
                "unix_sock_dir = \"{}\"\nunix_sock_rw_perms = \"0777\"\n\
                 auth_unix_rw = \"none\"\nauth_unix_ro = \"none\"\n",
                root.join("run").display()
            ),
        )
        .unwrap();
        let privileged = is_root();
        if privileged {
            chown_tree(&root, 65534, 65534);
        }
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = std::fs::File::create(root.join("libvirtd.log")).unwrap();
        let mut cmd = if privileged {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(libvirtd());
            c
        } else {
            Command::new(libvirtd())
        };
        cmd.arg("-f")
            .arg(root.join("libvirtd.conf"))
            .arg("-p")
            .arg(root.join("run/libvirtd.pid"))
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", root.join("home"))
            .env("XDG_CONFIG_HOME", root.join("cfg"))
            .env("XDG_RUNTIME_DIR", root.join("run"))
            .env("XDG_CACHE_HOME", root.join("cache"))
            .env("XDG_DATA_HOME", root.join("data"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(cmd.spawn().expect("spawn libvirtd"));
        let deadline = Instant::now() + Duration::from_secs(20);
        let keeper = loop {
            if self.socket().exists()
                && let Ok(c) = Connect::open(Some(&self.uri()))
            {
                break c;
            }
            assert!(
                Instant::now() < deadline,
                "libvirtd {} did not come up; log:\n{}",
                self.name,
                std::fs::read_to_string(root.join("libvirtd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        seed_image(&keeper);
        // The test driver keeps its state while one connection stays open: this one plays the
        // host's disks, surviving the provider's crashes and reconnections.
        self.keeper = Some(keeper);
    }

    /// Kills the daemon at once (the host goes away).
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(k) = self.keeper.take() {
            drop(k);
        }
    }

    /// Starts the daemon again on the same socket (the host comes back, empty).
    pub(crate) fn restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// A connection to look at the host's state from outside the provider.
    pub(crate) fn conn(&self) -> &Connect {
        self.keeper.as_ref().expect("daemon running")
    }

    /// Names of every domain on the host.
    pub(crate) fn domains(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .conn()
            .list_all_domains(0)
            .unwrap()
            .iter()
            .map(|d| d.name().unwrap())
            .collect();
        v.sort();
        v
    }

    /// Names of the Nuage domains on the host.
    pub(crate) fn nuage_domains(&self) -> Vec<String> {
        self.domains()
            .into_iter()
            .filter(|d| d.starts_with("nuage-"))
            .collect()
    }

    /// Names of every volume in the storage pool.
    pub(crate) fn volumes(&self) -> Vec<String> {
        let pool = self
            .conn()
            .lookup_storage_pool_by_name(STORAGE_POOL)
            .unwrap();
        let mut v = pool.list_volumes().unwrap();
        v.sort();
        v
    }

    /// Names of every network.
    pub(crate) fn networks(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .conn()
            .list_all_networks(0)
            .unwrap()
            .iter()
            .map(|n| n.name().unwrap())
            .collect();
        v.sort();
        v
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Prepares a fresh test-driver host: removes the driver's sample domain (its 8 GiB would fill
/// the 3 GiB host) and puts the base image in the storage pool.
pub(crate) fn seed_image(conn: &Connect) {
    virt::error::clear_error_callback();
    if let Ok(sample) = conn.lookup_domain_by_name("test") {
        let _ = sample.destroy();
        let _ = sample.undefine();
    }
    let pool = conn.lookup_storage_pool_by_name(STORAGE_POOL).unwrap();
    if pool.lookup_storage_vol_by_name(IMAGE_VOLUME).is_ok() {
        return;
    }
    let xml = format!(
        "<volume><name>{IMAGE_VOLUME}</name><capacity unit='GiB'>2</capacity>\
         <target><format type='qcow2'/></target></volume>"
    );
    StorageVol::create_xml(&pool, &xml, 0).unwrap();
}

/// Settings for a pool of the given hosts: (name, uri, rack).
pub(crate) fn settings(hosts: &[(&str, String, &str)], spread: &str) -> LibvirtSettings {
    let hosts_json: Vec<serde_json::Value> = hosts
        .iter()
        .map(|(name, uri, rack)| {
            serde_json::json!({
                "name": name, "uri": uri,
                "labels": { "site": "paris-1", "rack": rack }
            })
        })
        .collect();
    serde_json::from_value(serde_json::json!({
        "instance": "dedicated-test",
        "pool": {
            "name": "test-pool",
            "defaults": { "storage_pool": STORAGE_POOL, "overcommit": { "cpu": 1.0, "memory": 1.0 } },
            "hosts": hosts_json
        },
        "images": { "debian-12": IMAGE_VOLUME },
        "flavors": [
            { "name": "t.1c512m", "vcpus": 1, "ram_mib": 512 },
            { "name": "t.2c1g", "vcpus": 2, "ram_mib": 1024 }
        ],
        "spread": spread,
        "boot_disk_gib": 4,
        "timing": { "call_timeout_ms": 10000, "reprobe_ms": 0, "resync_ms": 3600000 }
    }))
    .unwrap()
}
