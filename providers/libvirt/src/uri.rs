//! Libvirt connection URIs of pool hosts, validated when the pool config is loaded.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// The hypervisor driver named by a URI's scheme (`qemu+ssh` → [`Driver::Qemu`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Driver {
    /// KVM through QEMU: production hosts (`qemu:///system`, `qemu+ssh://…`, `qemu+tls://…`).
    Qemu,
    /// Libvirt's built-in test driver (`test:///default`, `test+unix:///default?socket=…`):
    /// a simulated host with real libvirt semantics, for trials and tests.
    Test,
}

impl Driver {
    /// The `type` attribute a domain needs on this driver (`kvm` or `test`).
    pub fn domain_type(self) -> &'static str {
        match self {
            Driver::Qemu => "kvm",
            Driver::Test => "test",
        }
    }
}

/// How the connection reaches the host, from the `+transport` part of the scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// No transport: the local daemon (or, for `test`, in-process).
    Local,
    /// A unix socket (`+unix`), optionally at a given `socket=` path.
    Unix,
    /// SSH tunnel (`+ssh`, `+libssh`, `+libssh2`).
    Ssh,
    /// TLS with x509 certificates (`+tls`).
    Tls,
}

/// A validated libvirt connection URI.
///
/// Credentials never travel in the URI (SSH keys, TLS certificates or SASL configuration do that
/// job), so a URI carrying a password is refused, and the URI can be logged as it is.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct HostUri {
    raw: String,
    driver: Driver,
    transport: Transport,
}

impl HostUri {
    /// Parses and validates a URI such as `qemu+ssh://ops@kvm-01.example/system`,
    /// `qemu+tls://kvm-02.example/system`, `test:///default` or
    /// `test+unix:///default?socket=/run/h1/libvirt-sock`.
    pub fn parse(raw: &str) -> Result<Self> {
        let bad = |reason: &str| Error::InvalidUri {
            uri: redact(raw),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| bad("expected scheme://…"))?;
        let (driver, transport) = match scheme.split_once('+') {
            Some((d, t)) => (d, Some(t)),
            None => (scheme, None),
        };
        let driver = match driver {
            "qemu" => Driver::Qemu,
            "test" => Driver::Test,
            other => return Err(bad(&format!("unsupported driver `{other}` (qemu or test)"))),
        };
        let transport = match transport {
            None => Transport::Local,
            Some("unix") => Transport::Unix,
            Some("ssh" | "libssh" | "libssh2") => Transport::Ssh,
            Some("tls") => Transport::Tls,
            Some(other) => {
                return Err(bad(&format!(
                    "unsupported transport `{other}` (unix, ssh, libssh, libssh2 or tls)"
                )));
            }
        };
        let (authority_path, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match authority_path.find('/') {
            Some(i) => authority_path.split_at(i),
            None => (authority_path, ""),
        };
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                return Err(bad(
                    "a password does not belong in a libvirt URI (use SSH keys or TLS certificates)",
                ));
            }
            if userinfo.is_empty() {
                return Err(bad("empty user name before `@`"));
            }
        }
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        match transport {
            Transport::Ssh | Transport::Tls if host.is_empty() => {
                return Err(bad("a remote transport needs a host name"));
            }
            Transport::Local | Transport::Unix if !host.is_empty() => {
                return Err(bad("a local or unix-socket URI takes no host name"));
            }
            _ => {}
        }
        if path.is_empty() || path == "/" {
            return Err(bad(match driver {
                Driver::Qemu => "missing path (`/system`)",
                Driver::Test => "missing path (`/default`)",
            }));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("whitespace or control character"));
        }
        if let Some(q) = query {
            for pair in q.split('&').filter(|p| !p.is_empty()) {
                let key = pair.split_once('=').map_or(pair, |(k, _)| k);
                if key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("passwd") {
                    return Err(bad("a password does not belong in a libvirt URI"));
                }
            }
        }
        Ok(HostUri {
            raw: raw.to_owned(),
            driver,
            transport,
        })
    }

    /// The URI as given, for libvirt's `virConnectOpen`.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The hypervisor driver.
    pub fn driver(&self) -> Driver {
        self.driver
    }

    /// The transport.
    pub fn transport(&self) -> Transport {
        self.transport
    }
}

/// What may be shown of a URI that failed validation: everything but a userinfo password or a
/// password query value.
fn redact(raw: &str) -> String {
    let mut out = raw.to_owned();
    if let Some((scheme, rest)) = raw.split_once("://") {
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..end];
        if let Some((userinfo, host)) = authority.rsplit_once('@')
            && let Some((user, _)) = userinfo.split_once(':')
        {
            out = format!("{scheme}://{user}:***@{host}{}", &rest[end..]);
        }
    }
    if let Some((base, query)) = out.clone().split_once('?') {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _))
                    if k.eq_ignore_ascii_case("password") || k.eq_ignore_ascii_case("passwd") =>
                {
                    format!("{k}=***")
                }
                _ => pair.to_owned(),
            })
            .collect();
        out = format!("{base}?{}", pairs.join("&"));
    }
    out
}

impl fmt::Debug for HostUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HostUri({})", self.raw)
    }
}

impl fmt::Display for HostUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl Serialize for HostUri {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.raw)
    }
}

impl<'de> Deserialize<'de> for HostUri {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        HostUri::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_uris_a_pool_uses() {
        for (raw, driver, transport) in [
            (
                "qemu+ssh://ops@kvm-01.example/system",
                Driver::Qemu,
                Transport::Ssh,
            ),
            (
                "qemu+tls://kvm-02.example:16514/system",
                Driver::Qemu,
                Transport::Tls,
            ),
            ("qemu:///system", Driver::Qemu, Transport::Local),
            ("test:///default", Driver::Test, Transport::Local),
            (
                "test+unix:///default?socket=/tmp/h1/libvirt-sock",
                Driver::Test,
                Transport::Unix,
            ),
        ] {
            let uri = HostUri::parse(raw).unwrap();
            assert_eq!(uri.as_str(), raw);
            assert_eq!(uri.driver(), driver, "{raw}");
            assert_eq!(uri.transport(), transport, "{raw}");
        }
    }

    #[test]
    fn refuses_bad_uris_with_a_reason() {
        for (raw, needle) in [
            ("kvm-01", "scheme"),
            ("xen+ssh://h/system", "driver `xen`"),
            ("qemu+http://h/system", "transport `http`"),
            ("qemu+ssh:///system", "host name"),
            ("test+unix://h/default", "no host name"),
            ("qemu+ssh://h", "missing path"),
            ("test:///", "missing path"),
            ("qemu+ssh://ops:hunter2@h/system", "password"),
            ("qemu+tls://h/system?password=hunter2", "password"),
            ("qemu+ssh://h/sys tem", "whitespace"),
        ] {
            let err = HostUri::parse(raw).unwrap_err().to_string();
            assert!(err.contains(needle), "{raw}: {err}");
            assert!(!err.contains("hunter2"), "secret leaked: {err}");
        }
    }

    #[test]
    fn deserializes_through_validation() {
        let ok: HostUri = serde_json::from_str("\"test:///default\"").unwrap();
        assert_eq!(ok.driver().domain_type(), "test");
        let err = serde_json::from_str::<HostUri>("\"qemu+ssh://a:b@h/system\"").unwrap_err();
        assert!(!err.to_string().contains(":b@"), "{err}");
    }
}
