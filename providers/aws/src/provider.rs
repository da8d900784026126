//! The AWS EC2 provider: client setup, shared helpers, and the contract's dispatch.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_ec2::config::retry::RetryConfig;
use aws_sdk_ec2::config::timeout::TimeoutConfig;
use aws_sdk_ec2::config::{Credentials, Region, SharedHttpClient};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use backon::{BackoffBuilder, ExponentialBuilder};
use nuage_provider::{
    Capabilities, DeleteOutcome, Error, ImageInfo, ImageRef, Observation, Observed, Provider,
    ProviderDescriptor, ProviderKind, ResourceKind, ResourceSpec, Result, SpecBody,
};
use tokio::sync::OnceCell;
use tokio::time::Instant;

use crate::config::{AwsConfig, AwsCredentials};
use crate::{attachment, error, image, network, security_group, server, subnet, volume};

/// An EC2 endpoint (AWS or EC2-compatible) as a Nuage provider.
#[derive(Debug)]
pub struct AwsProvider {
    descriptor: ProviderDescriptor,
    pub(crate) config: AwsConfig,
    pub(crate) client: aws_sdk_ec2::Client,
    pub(crate) images: Mutex<HashMap<ImageRef, (String, Instant)>>,
    zones: OnceCell<Vec<String>>,
}

impl AwsProvider {
    /// Validates the configuration and builds the EC2 client (resolving the standard credential
    /// chain when configured). Makes no call to the cloud.
    pub async fn connect(config: AwsConfig) -> Result<Self> {
        Self::connect_with(config, None).await
    }

    /// Same as [`connect`](Self::connect) with a given HTTP client (a proxy-aware client, or
    /// the test fault layer) instead of the SDK's default HTTPS client.
    pub async fn connect_with(config: AwsConfig, http: Option<SharedHttpClient>) -> Result<Self> {
        config.validate()?;
        let region = Region::new(config.region.clone());
        let mut builder = match &config.credentials {
            AwsCredentials::Chain => {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(region.clone())
                    .load()
                    .await;
                aws_sdk_ec2::config::Builder::from(&shared)
            }
            AwsCredentials::Static {
                access_key_id,
                secret_access_key,
                session_token,
            } => aws_sdk_ec2::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .credentials_provider(Credentials::new(
                    access_key_id.clone(),
                    secret_access_key.expose().to_owned(),
                    session_token.as_ref().map(|t| t.expose().to_owned()),
                    None,
                    "nuage-config",
                )),
        };
        builder = builder
            .region(region)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(config.retry.max_attempts)
                    .with_initial_backoff(config.retry.initial_backoff),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(config.timeouts.connect)
                    .operation_attempt_timeout(config.timeouts.attempt)
                    .operation_timeout(config.timeouts.operation)
                    .build(),
            );
        if let Some(endpoint) = &config.endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        if let Some(http) = http {
            builder = builder.http_client(http);
        }
        Ok(AwsProvider {
            descriptor: ProviderDescriptor {
                kind: ProviderKind::Aws,
                instance: config.name.clone(),
                simulated: false,
            },
            client: aws_sdk_ec2::Client::from_conf(builder.build()),
            config,
            images: Mutex::new(HashMap::new()),
            zones: OnceCell::new(),
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &AwsConfig {
        &self.config
    }

    /// The underlying EC2 client, for operators' tools and tests.
    pub fn client(&self) -> &aws_sdk_ec2::Client {
        &self.client
    }

    /// Converts an SDK failure into a contract error.
    pub(crate) fn err<E>(&self, action: &str, err: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let e = error::from_sdk(action, err, self.config.throttle_retry_after);
        tracing::debug!(provider = %self.descriptor.instance, action, error = %e, "EC2 call failed");
        e
    }

    /// Per-call override that disables SDK retries. Used for every create: an attempt whose
    /// answer is lost may have taken effect, and endpoints that ignore `ClientToken` would
    /// duplicate the resource on an in-process retry. The workflow retries instead, after a
    /// lookup by tags.
    pub(crate) fn no_retry() -> aws_sdk_ec2::config::Builder {
        aws_sdk_ec2::config::Builder::default().retry_config(RetryConfig::disabled())
    }

    /// Availability zones, from the configuration or asked once from the cloud.
    pub(crate) async fn zones(&self) -> Result<&[String]> {
        let zones = self
            .zones
            .get_or_try_init(|| async {
                if !self.config.zones.is_empty() {
                    return Ok(self.config.zones.clone());
                }
                let out = self
                    .client
                    .describe_availability_zones()
                    .send()
                    .await
                    .map_err(|e| self.err("DescribeAvailabilityZones", e))?;
                let mut zones: Vec<String> = out
                    .availability_zones()
                    .iter()
                    .filter(|z| z.state().is_none_or(|s| s.as_str() == "available"))
                    .filter_map(|z| z.zone_name().map(str::to_owned))
                    .collect();
                zones.sort();
                Ok::<_, Error>(zones)
            })
            .await?;
        Ok(zones)
    }

    /// The zone used when a spec names none.
    pub(crate) async fn default_zone(&self) -> Result<String> {
        self.zones().await?.first().cloned().ok_or_else(|| {
            Error::cloud(
                nuage_provider::ErrorKind::Terminal,
                None,
                format!("region {} reports no availability zone", self.config.region),
            )
        })
    }

    /// Polls `check` until it returns `true`, backing off up to the configured wait.
    pub(crate) async fn poll_until<F, Fut>(&self, what: &str, mut check: F) -> Result<()>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<bool>>,
    {
        let wait = &self.config.wait;
        let start = Instant::now();
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(wait.min_delay)
            .with_max_delay(wait.max_delay.max(wait.min_delay))
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            match check().await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) if e.is_retryable() => {
                    tracing::debug!(what, error = %e, "retryable error while waiting");
                }
                Err(e) => return Err(e),
            }
            let waited = start.elapsed();
            if waited >= wait.timeout {
                return Err(Error::Timeout {
                    what: what.to_owned(),
                    waited,
                });
            }
            let next = delays.next().unwrap_or(wait.max_delay);
            tokio::time::sleep(
                next.min(wait.timeout - waited)
                    .max(Duration::from_millis(1)),
            )
            .await;
        }
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn descriptor(&self) -> &ProviderDescriptor {
        &self.descriptor
    }

    async fn capabilities(&self) -> Result<Capabilities> {
        let mut images = Vec::new();
        for rule in &self.config.images {
            let image = ImageRef::new(rule.os.clone(), rule.version.clone());
            match image::resolve(self, &image).await {
                Ok(ami) => images.push(ImageInfo {
                    image,
                    native_id: Some(ami),
                }),
                Err(e) if e.kind() == nuage_provider::ErrorKind::Terminal => {
                    tracing::info!(%image, error = %e, "image rule resolves to no AMI");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Capabilities {
            kinds: ResourceKind::ALL.into_iter().collect(),
            regions: vec![self.config.region.clone()],
            zones: self.zones().await?.to_vec(),
            flavors: self.config.instance_types.clone(),
            images,
            dedicated: self.config.dedicated_hosts,
            simulated: false,
        })
    }

    async fn observe(&self, spec: &ResourceSpec) -> Result<Observation> {
        spec.validate()?;
        match &spec.body {
            SpecBody::Network(n) => network::observe(self, spec, n).await,
            SpecBody::Subnet(s) => subnet::observe(self, spec, s).await,
            SpecBody::SecurityGroup(g) => security_group::observe(self, spec, g).await,
            SpecBody::Server(s) => server::observe(self, spec, s).await,
            SpecBody::Volume(v) => volume::observe(self, spec, v).await,
            SpecBody::Attachment(a) => attachment::observe(self, a).await,
        }
    }

    async fn create(&self, spec: &ResourceSpec) -> Result<Observed> {
        spec.validate()?;
        match &spec.body {
            SpecBody::Network(n) => network::create(self, spec, n).await,
            SpecBody::Subnet(s) => subnet::create(self, spec, s).await,
            SpecBody::SecurityGroup(g) => security_group::create(self, spec, g).await,
            SpecBody::Server(s) => server::create(self, spec, s).await,
            SpecBody::Volume(v) => volume::create(self, spec, v).await,
            SpecBody::Attachment(a) => attachment::create(self, a).await,
        }
    }

    async fn update(&self, spec: &ResourceSpec) -> Result<Observed> {
        spec.validate()?;
        match &spec.body {
            SpecBody::Network(n) => network::update(self, spec, n).await,
            SpecBody::Subnet(s) => subnet::update(self, spec, s).await,
            SpecBody::SecurityGroup(g) => security_group::update(self, spec, g).await,
            SpecBody::Server(s) => server::update(self, spec, s).await,
            SpecBody::Volume(v) => volume::update(self, spec, v).await,
            SpecBody::Attachment(a) => attachment::update(self, a).await,
        }
    }

    async fn delete(&self, spec: &ResourceSpec) -> Result<DeleteOutcome> {
        spec.validate()?;
        match &spec.body {
            SpecBody::Network(_) => network::delete(self, spec).await,
            SpecBody::Subnet(_) => subnet::delete(self, spec).await,
            SpecBody::SecurityGroup(_) => security_group::delete(self, spec).await,
            SpecBody::Server(_) => server::delete(self, spec).await,
            SpecBody::Volume(_) => volume::delete(self, spec).await,
            SpecBody::Attachment(a) => attachment::delete(self, a).await,
        }
    }
}

/// An error for an update that would need to recreate the resource.
pub(crate) fn immutable(spec: &ResourceSpec, field: &str) -> Error {
    Error::cloud(
        nuage_provider::ErrorKind::Terminal,
        None,
        format!(
            "{field} of {} {} cannot change in place; delete and recreate",
            spec.kind(),
            spec.name()
        ),
    )
}

/// The error an update gets when the resource does not exist.
pub(crate) fn absent(spec: &ResourceSpec) -> Error {
    Error::not_found(format!("{} {} does not exist", spec.kind(), spec.name()))
}
