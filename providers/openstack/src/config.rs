//! Configuration of one OpenStack provider instance: where Keystone is, who we are, which
//! endpoints to use. Secrets are given inline or by reference and never printed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use nuage_provider::Secret;
use serde::Deserialize;

use crate::error::{Error, Result};

/// One OpenStack provider instance.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenStackConfig {
    /// Instance name (`nubo-paris`), the key of the provider registry.
    pub instance: String,
    /// Keystone and credentials.
    pub auth: AuthConfig,
    /// Region whose endpoints are used; required when the catalog spans several regions.
    #[serde(default)]
    pub region: Option<String>,
    /// Endpoint interface used for every service.
    #[serde(default)]
    pub interface: Interface,
    /// Endpoints to use instead of the catalog's, by service type (`compute`, `network`,
    /// `image`, `volumev3`). `%(project_id)s` is replaced by the token's project.
    #[serde(default)]
    pub endpoint_overrides: BTreeMap<String, String>,
    /// Availability zone given to servers and volumes whose spec names none.
    #[serde(default)]
    pub default_zone: Option<String>,
    /// Network (id) for servers whose spec names no subnet.
    #[serde(default)]
    pub default_network: Option<String>,
    /// Explicit images by `"<os> <version>"` (`"debian 12"`), as a Glance id or name; other
    /// images are found by their `os_distro`/`os_version` properties, then by the name
    /// `<os>-<version>`.
    #[serde(default)]
    pub images: BTreeMap<String, String>,
    /// Timeout of one HTTP request.
    #[serde(default = "default_request_timeout", with = "secs")]
    pub request_timeout: Duration,
    /// Timeout of establishing a connection.
    #[serde(default = "default_connect_timeout", with = "secs")]
    pub connect_timeout: Duration,
    /// Renew the token when it expires within this margin.
    #[serde(default = "default_refresh_margin", with = "secs")]
    pub token_refresh_margin: Duration,
    /// How long `delete` of a server waits for it to go (before deleting its port), and
    /// `update` for a resize to be ready to confirm.
    #[serde(default = "default_server_wait", with = "secs")]
    pub server_wait: Duration,
    /// How long cached flavors and images are reused.
    #[serde(default = "default_catalog_ttl", with = "secs")]
    pub catalog_ttl: Duration,
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(60)
}
fn default_connect_timeout() -> Duration {
    Duration::from_secs(10)
}
fn default_refresh_margin() -> Duration {
    Duration::from_secs(300)
}
fn default_server_wait() -> Duration {
    Duration::from_secs(120)
}
fn default_catalog_ttl() -> Duration {
    Duration::from_secs(300)
}

mod secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(d)?;
        if !(secs.is_finite() && secs >= 0.0) {
            return Err(serde::de::Error::custom(
                "a duration in seconds must be >= 0",
            ));
        }
        Ok(Duration::from_secs_f64(secs))
    }
}

impl OpenStackConfig {
    /// A configuration with defaults for everything but the instance name and credentials.
    pub fn new(instance: impl Into<String>, auth: AuthConfig) -> Self {
        OpenStackConfig {
            instance: instance.into(),
            auth,
            region: None,
            interface: Interface::Public,
            endpoint_overrides: BTreeMap::new(),
            default_zone: None,
            default_network: None,
            images: BTreeMap::new(),
            request_timeout: default_request_timeout(),
            connect_timeout: default_connect_timeout(),
            token_refresh_margin: default_refresh_margin(),
            server_wait: default_server_wait(),
            catalog_ttl: default_catalog_ttl(),
        }
    }

    /// Checks what can be checked without a call.
    pub fn validate(&self) -> Result<()> {
        if self.instance.is_empty() {
            return Err(Error::Config("instance name is empty".into()));
        }
        let url = reqwest::Url::parse(&self.auth.auth_url)
            .map_err(|e| Error::Config(format!("auth_url {:?}: {e}", self.auth.auth_url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "auth_url must be http or https, got {}",
                url.scheme()
            )));
        }
        match (&self.auth.credentials, &self.auth.scope) {
            (Credentials::ApplicationCredential { .. }, Some(_)) => {
                return Err(Error::Config(
                    "an application credential carries its own scope: remove `scope`".into(),
                ));
            }
            (
                Credentials::ApplicationCredential {
                    id: None,
                    name: None,
                    ..
                },
                _,
            ) => {
                return Err(Error::Config(
                    "an application credential needs an `id`, or a `name` with `username`".into(),
                ));
            }
            (
                Credentials::ApplicationCredential {
                    id: None,
                    username: None,
                    user_id: None,
                    ..
                },
                _,
            ) => {
                return Err(Error::Config(
                    "an application credential given by name needs `username` or `user_id`".into(),
                ));
            }
            _ => {}
        }
        if let Some(scope) = &self.auth.scope {
            scope.validate()?;
        }
        Ok(())
    }
}

/// Where Keystone is and how to authenticate.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Keystone v3 URL (`https://keystone.example:5000/v3`).
    pub auth_url: String,
    /// How to prove who we are.
    pub credentials: Credentials,
    /// Project or domain to scope the token to (not with application credentials).
    #[serde(default)]
    pub scope: Option<Scope>,
}

/// Keystone credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum Credentials {
    /// A user name and password.
    Password {
        /// User name.
        username: String,
        /// Domain of the user (by name).
        #[serde(default = "default_domain")]
        user_domain: String,
        /// The password.
        password: SecretRef,
    },
    /// An application credential (pre-scoped to its project).
    ApplicationCredential {
        /// Its id; or give `name` and the user.
        #[serde(default)]
        id: Option<String>,
        /// Its name (with `username` + `user_domain`, or `user_id`).
        #[serde(default)]
        name: Option<String>,
        /// Owner's name, when given by name.
        #[serde(default)]
        username: Option<String>,
        /// Owner's id, when given by name.
        #[serde(default)]
        user_id: Option<String>,
        /// Owner's domain (by name).
        #[serde(default = "default_domain")]
        user_domain: String,
        /// The secret.
        secret: SecretRef,
    },
}

fn default_domain() -> String {
    "Default".to_owned()
}

/// What a token is scoped to.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Scope {
    /// A project, by id or by name within a domain.
    Project {
        /// Project id.
        #[serde(default)]
        id: Option<String>,
        /// Project name (with `domain`).
        #[serde(default)]
        name: Option<String>,
        /// Domain of the project, by name.
        #[serde(default = "default_domain")]
        domain: String,
    },
    /// A domain, by id or name.
    Domain {
        /// Domain id.
        #[serde(default)]
        id: Option<String>,
        /// Domain name.
        #[serde(default)]
        name: Option<String>,
    },
}

impl Scope {
    /// A project by name in a domain (by name).
    pub fn project(name: impl Into<String>, domain: impl Into<String>) -> Self {
        Scope::Project {
            id: None,
            name: Some(name.into()),
            domain: domain.into(),
        }
    }

    /// A domain by name.
    pub fn domain(name: impl Into<String>) -> Self {
        Scope::Domain {
            id: None,
            name: Some(name.into()),
        }
    }

    fn validate(&self) -> Result<()> {
        match self {
            Scope::Project {
                id: None,
                name: None,
                ..
            } => Err(Error::Config(
                "project scope needs an `id` or a `name`".into(),
            )),
            Scope::Domain {
                id: None,
                name: None,
            } => Err(Error::Config(
                "domain scope needs an `id` or a `name`".into(),
            )),
            _ => Ok(()),
        }
    }
}

/// Endpoint interface of the service catalog.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Interface {
    /// Public endpoints.
    #[default]
    Public,
    /// Internal endpoints.
    Internal,
    /// Admin endpoints.
    Admin,
}

impl Interface {
    /// The catalog's word for it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Interface::Public => "public",
            Interface::Internal => "internal",
            Interface::Admin => "admin",
        }
    }
}

/// A secret given inline, or a reference to where it lives: an environment variable or a file
/// (a mounted Kubernetes Secret). Resolved once when the provider is built.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// `{ env = "OS_PASSWORD" }`
    Env {
        /// Variable name.
        env: String,
    },
    /// `{ file = "/run/secrets/openstack" }` (trailing newline dropped).
    File {
        /// File path.
        file: PathBuf,
    },
    /// The value itself.
    Value(Secret),
}

impl SecretRef {
    /// Reads the secret. Errors name the reference, never the value.
    pub fn resolve(&self) -> Result<Secret> {
        let secret = match self {
            SecretRef::Value(secret) => secret.clone(),
            SecretRef::Env { env } => std::env::var(env)
                .map(Secret::new)
                .map_err(|_| Error::Config(format!("secret variable {env} is not set")))?,
            SecretRef::File { file } => std::fs::read_to_string(file)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r'])))
                .map_err(|e| {
                    Error::Config(format!("secret file {}: {}", file.display(), e.kind()))
                })?,
        };
        if secret.is_empty() {
            return Err(Error::Config("a secret is empty".into()));
        }
        Ok(secret)
    }
}

impl From<Secret> for SecretRef {
    fn from(secret: Secret) -> Self {
        SecretRef::Value(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_password_and_app_credential_configs() {
        let cfg: OpenStackConfig = serde_json::from_value(serde_json::json!({
            "instance": "nubo",
            "region": "RegionOne",
            "auth": {
                "auth_url": "https://keystone.example/v3",
                "credentials": {"method": "password", "username": "u", "password": "hunter2"},
                "scope": {"project": {"name": "p"}}
            },
            "request_timeout": 5
        }))
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.request_timeout, Duration::from_secs(5));
        assert_eq!(cfg.auth.scope, Some(Scope::project("p", "Default")));
        assert!(!format!("{cfg:?}").contains("hunter2"));

        let cfg: OpenStackConfig = serde_json::from_value(serde_json::json!({
            "instance": "nubo",
            "auth": {
                "auth_url": "http://127.0.0.1:5000/v3",
                "credentials": {"method": "application_credential", "id": "abc",
                                "secret": {"env": "NUAGE_TEST_UNSET_VARIABLE"}}
            }
        }))
        .unwrap();
        cfg.validate().unwrap();
        let Credentials::ApplicationCredential { secret, .. } = &cfg.auth.credentials else {
            panic!("wrong method")
        };
        let err = secret.resolve().unwrap_err().to_string();
        assert!(err.contains("NUAGE_TEST_UNSET_VARIABLE"), "{err}");
    }

    #[test]
    fn refuses_inconsistent_configs() {
        let mut cfg = OpenStackConfig::new(
            "x",
            AuthConfig {
                auth_url: "ftp://k".into(),
                credentials: Credentials::Password {
                    username: "u".into(),
                    user_domain: "Default".into(),
                    password: Secret::new("p").into(),
                },
                scope: None,
            },
        );
        assert!(cfg.validate().is_err());
        cfg.auth.auth_url = "http://k/v3".into();
        cfg.validate().unwrap();
        cfg.auth.credentials = Credentials::ApplicationCredential {
            id: Some("i".into()),
            name: None,
            username: None,
            user_id: None,
            user_domain: "Default".into(),
            secret: Secret::new("s").into(),
        };
        cfg.auth.scope = Some(Scope::project("p", "Default"));
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("own scope")
        );
        let unknown = serde_json::from_value::<OpenStackConfig>(serde_json::json!({
            "instance": "x", "auth": {"auth_url": "http://k/v3",
            "credentials": {"method": "password", "username": "u", "password": "p"}},
            "regoin": "typo"
        }));
        assert!(unknown.is_err());
    }

    #[test]
    fn secret_files_drop_the_trailing_newline() {
        let dir = std::env::temp_dir().join(format!("nuage-os-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let secret = SecretRef::File { file: dir.clone() }.resolve().unwrap();
        assert_eq!(secret.expose(), "s3cret");
        std::fs::remove_file(&dir).unwrap();
        let err = SecretRef::File { file: dir }
            .resolve()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("NotFound") || err.contains("not found"),
            "{err}"
        );
    }
}
