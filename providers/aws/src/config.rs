//! Configuration of one AWS or EC2-compatible provider instance.

use std::time::Duration;

use nuage_provider::{Error, Flavor, ImageRef, Result, Secret};
use serde::Deserialize;

/// One EC2 endpoint: AWS in a region, or an EC2-compatible cloud by endpoint override.
/// Deserializes from the broker's configuration (durations in milliseconds).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    /// Instance name (registry key), e.g. `aws-paris` or `outscale-secnum`.
    pub name: String,
    /// Region, e.g. `eu-west-3`.
    pub region: String,
    /// Endpoint URL overriding AWS's, for EC2-compatible clouds
    /// (`https://fcu.eu-west-2.outscale.com`) or a local test server.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// Where credentials come from.
    #[serde(default)]
    pub credentials: AwsCredentials,
    /// Instance types to choose from by size (see `nuage_provider::smallest_fitting`).
    #[serde(default = "default_instance_types")]
    pub instance_types: Vec<Flavor>,
    /// How OS names and versions map to AMIs.
    #[serde(default = "default_images")]
    pub images: Vec<ImageRule>,
    /// Availability zones to use, first is the default; empty asks the cloud.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Whether servers asking for dedicated hardware get an EC2 Dedicated Host each. When off,
    /// such servers are refused as unsupported.
    #[serde(default)]
    pub dedicated_hosts: bool,
    /// SDK-level retries of reads and deletes (creates are never retried in-process).
    #[serde(default)]
    pub retry: RetrySettings,
    /// Timeouts of each call.
    #[serde(default)]
    pub timeouts: Timeouts,
    /// Bounded waits inside an operation (instance stopped before a resize, terminated before
    /// its host is released).
    #[serde(default)]
    pub wait: WaitSettings,
    /// Retry-after given to throttling errors when the cloud suggests none.
    #[serde(
        default = "default_throttle_ms",
        rename = "throttle_retry_after_ms",
        with = "ms"
    )]
    pub throttle_retry_after: Duration,
}

/// Where the adapter gets credentials.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum AwsCredentials {
    /// The standard AWS chain: environment, profile files, web identity, ECS, instance metadata.
    #[default]
    Chain,
    /// A static access key, from a config file or a secret reference the broker resolved.
    Static {
        /// Access key id (not secret by itself).
        access_key_id: String,
        /// Secret access key; never logged.
        secret_access_key: Secret,
        /// Session token for temporary credentials; never logged.
        #[serde(default)]
        session_token: Option<Secret>,
    },
}

/// How one OS name and version maps to an AMI: the newest available image owned by one of
/// `owners` whose name matches `name` (`*` and `?` wildcards, as EC2 filters take them).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRule {
    /// OS name, as in a server spec (`debian`).
    pub os: String,
    /// OS version (`12`).
    pub version: String,
    /// Owner account ids or aliases (`136693071363`, `amazon`, `self`).
    pub owners: Vec<String>,
    /// Image name pattern (`debian-12-amd64-*`).
    pub name: String,
    /// CPU architecture.
    #[serde(default = "default_arch")]
    pub architecture: String,
}

impl ImageRule {
    /// A rule for x86_64 images.
    pub fn new(os: &str, version: &str, owner: &str, name: &str) -> Self {
        ImageRule {
            os: os.to_owned(),
            version: version.to_owned(),
            owners: vec![owner.to_owned()],
            name: name.to_owned(),
            architecture: default_arch(),
        }
    }

    /// Whether the rule maps this image reference.
    pub fn matches(&self, image: &ImageRef) -> bool {
        self.os == image.os && self.version == image.version
    }
}

/// SDK retry settings for reads and deletes.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetrySettings {
    /// Attempts per call, first included (1 disables retries).
    pub max_attempts: u32,
    /// First backoff; it grows exponentially with jitter.
    #[serde(rename = "initial_backoff_ms", with = "ms")]
    pub initial_backoff: Duration,
}

impl Default for RetrySettings {
    fn default() -> Self {
        RetrySettings {
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
        }
    }
}

/// Timeouts of each SDK call.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Timeouts {
    /// TCP and TLS connection.
    #[serde(rename = "connect_ms", with = "ms")]
    pub connect: Duration,
    /// One attempt (request sent to response read).
    #[serde(rename = "attempt_ms", with = "ms")]
    pub attempt: Duration,
    /// A whole call, retries included.
    #[serde(rename = "operation_ms", with = "ms")]
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            attempt: Duration::from_secs(30),
            operation: Duration::from_secs(120),
        }
    }
}

/// Bounded waits inside one operation.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WaitSettings {
    /// Give up after this long (transient timeout error).
    #[serde(rename = "timeout_ms", with = "ms")]
    pub timeout: Duration,
    /// First delay between polls.
    #[serde(rename = "min_delay_ms", with = "ms")]
    pub min_delay: Duration,
    /// Longest delay between polls.
    #[serde(rename = "max_delay_ms", with = "ms")]
    pub max_delay: Duration,
}

impl Default for WaitSettings {
    fn default() -> Self {
        WaitSettings {
            timeout: Duration::from_secs(600),
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(15),
        }
    }
}

fn default_throttle_ms() -> Duration {
    Duration::from_secs(2)
}

fn default_arch() -> String {
    "x86_64".to_owned()
}

/// The default size table: burstable, general purpose, compute and memory families available
/// in every commercial region. Sizes map to the smallest fitting type.
pub fn default_instance_types() -> Vec<Flavor> {
    const GIB: u64 = 1024;
    [
        ("t3.micro", 2, GIB),
        ("t3.small", 2, 2 * GIB),
        ("t3.medium", 2, 4 * GIB),
        ("t3.large", 2, 8 * GIB),
        ("t3.xlarge", 4, 16 * GIB),
        ("t3.2xlarge", 8, 32 * GIB),
        ("c5.large", 2, 4 * GIB),
        ("c5.xlarge", 4, 8 * GIB),
        ("c5.2xlarge", 8, 16 * GIB),
        ("c5.4xlarge", 16, 32 * GIB),
        ("m5.large", 2, 8 * GIB),
        ("m5.xlarge", 4, 16 * GIB),
        ("m5.2xlarge", 8, 32 * GIB),
        ("m5.4xlarge", 16, 64 * GIB),
        ("m5.8xlarge", 32, 128 * GIB),
        ("m5.12xlarge", 48, 192 * GIB),
        ("m5.16xlarge", 64, 256 * GIB),
        ("m5.24xlarge", 96, 384 * GIB),
        ("r5.large", 2, 16 * GIB),
        ("r5.xlarge", 4, 32 * GIB),
        ("r5.2xlarge", 8, 64 * GIB),
        ("r5.4xlarge", 16, 128 * GIB),
    ]
    .into_iter()
    .map(|(name, vcpus, ram)| Flavor::new(name, vcpus, ram))
    .collect()
}

/// The default image rules: official Debian, Ubuntu and Amazon Linux images on AWS.
/// EC2-compatible clouds publish other names and owners: configure theirs.
pub fn default_images() -> Vec<ImageRule> {
    vec![
        ImageRule::new("debian", "12", "136693071363", "debian-12-amd64-*"),
        ImageRule::new("debian", "13", "136693071363", "debian-13-amd64-*"),
        ImageRule::new(
            "ubuntu",
            "22.04",
            "099720109477",
            "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*",
        ),
        ImageRule::new(
            "ubuntu",
            "24.04",
            "099720109477",
            "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
        ),
        ImageRule::new(
            "amazonlinux",
            "2023",
            "137112412989",
            "al2023-ami-2023.*-x86_64",
        ),
    ]
}

impl AwsConfig {
    /// A configuration with defaults for everything but name, region and credentials.
    pub fn new(
        name: impl Into<String>,
        region: impl Into<String>,
        credentials: AwsCredentials,
    ) -> Self {
        AwsConfig {
            name: name.into(),
            region: region.into(),
            endpoint: None,
            credentials,
            instance_types: default_instance_types(),
            images: default_images(),
            zones: Vec::new(),
            dedicated_hosts: false,
            retry: RetrySettings::default(),
            timeouts: Timeouts::default(),
            wait: WaitSettings::default(),
            throttle_retry_after: default_throttle_ms(),
        }
    }

    /// Checks the configuration once, before any call.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(format!("AWS provider {:?}: {m}", self.name)));
        if self.name.is_empty() {
            return bad("name is empty".into());
        }
        let region_ok = !self.region.is_empty()
            && self
                .region
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !region_ok {
            return bad(format!("region {:?} is not a region name", self.region));
        }
        if let Some(endpoint) = &self.endpoint {
            let rest = endpoint
                .strip_prefix("https://")
                .or_else(|| endpoint.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return bad(format!("endpoint {endpoint:?} is not an http(s) URL"));
            }
        }
        if let AwsCredentials::Static {
            access_key_id,
            secret_access_key,
            ..
        } = &self.credentials
            && (access_key_id.is_empty() || secret_access_key.is_empty())
        {
            return bad("static credentials need an access key id and a secret".into());
        }
        if self.instance_types.is_empty() {
            return bad("no instance type configured".into());
        }
        for rule in &self.images {
            if rule.owners.is_empty() || rule.name.is_empty() {
                return bad(format!(
                    "image rule {} {} needs owners and a name pattern",
                    rule.os, rule.version
                ));
            }
        }
        if self.retry.max_attempts == 0 {
            return bad("retry.max_attempts must be at least 1".into());
        }
        Ok(())
    }
}

mod ms {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer};

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_config_file_and_never_shows_the_secret() {
        let config: AwsConfig = serde_json::from_str(
            r#"{
                "name": "outscale-secnum",
                "region": "eu-west-2",
                "endpoint": "https://fcu.eu-west-2.outscale.com",
                "credentials": {"source": "static", "access_key_id": "AKIAEXAMPLE",
                                "secret_access_key": "wJalrXUtnFEMI/K7MDENG"},
                "dedicated_hosts": true,
                "retry": {"max_attempts": 5},
                "throttle_retry_after_ms": 3000
            }"#,
        )
        .unwrap();
        config.validate().unwrap();
        assert!(!format!("{config:?}").contains("wJalr"));
        assert_eq!(config.retry.max_attempts, 5);
        assert_eq!(config.throttle_retry_after, Duration::from_secs(3));
        assert!(!config.instance_types.is_empty());
        let chain: AwsConfig =
            serde_json::from_str(r#"{"name": "aws", "region": "eu-west-3"}"#).unwrap();
        assert!(matches!(chain.credentials, AwsCredentials::Chain));
    }

    #[test]
    fn bad_configs_are_refused() {
        let ok = AwsConfig::new("aws", "eu-west-3", AwsCredentials::Chain);
        ok.validate().unwrap();
        let mut c = ok.clone();
        c.region = "EU West".into();
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.endpoint = Some("fcu.outscale.com".into());
        assert!(c.validate().is_err());
        let mut c = ok.clone();
        c.credentials = AwsCredentials::Static {
            access_key_id: "AKIA".into(),
            secret_access_key: Secret::new(""),
            session_token: None,
        };
        assert!(c.validate().is_err());
        let mut c = ok;
        c.instance_types.clear();
        assert!(c.validate().is_err());
        assert!(
            serde_json::from_str::<AwsConfig>(r#"{"name":"a","region":"r","regoin":1}"#).is_err()
        );
    }
}
