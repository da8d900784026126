//! Keystone v3 authentication: a [`Session`] holds one token, renews it before it expires and
//! when a service answers 401, and picks each service's endpoint from the token's catalog.

mod catalog;
mod token;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use nuage_provider::Secret;
use reqwest::Method;
use serde_json::Value;
use tokio::sync::Mutex;

pub use catalog::{Catalog, CatalogEndpoint, CatalogService};
pub use token::Token;
use token::{Identity, TokenBody};

use crate::config::{Credentials, Interface, OpenStackConfig, Scope};
use crate::error::{Error, Result};
use crate::http::{Call, Reply, Transport, join};

/// An authenticated session with one OpenStack cloud. Cheap to share (`Arc`); every service
/// client of this crate calls through it.
pub struct Session {
    transport: Transport,
    auth_url: String,
    identity: Identity,
    scope: Option<Scope>,
    region: Option<String>,
    interface: Interface,
    overrides: BTreeMap<String, String>,
    margin: Duration,
    current: Mutex<Option<Arc<Token>>>,
    issued: AtomicU64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("auth_url", &self.auth_url)
            .field("scope", &self.scope)
            .field("region", &self.region)
            .field("interface", &self.interface)
            .finish_non_exhaustive()
    }
}

/// A request to a service, relative to its catalog endpoint.
#[derive(Debug)]
pub struct Request<'a> {
    /// Service type (`compute`, `network`, `image`, `volumev3`, `identity`).
    pub service: &'static str,
    /// HTTP method.
    pub method: Method,
    /// Path below the endpoint (`servers/detail`), or an absolute URL.
    pub path: &'a str,
    /// Query parameters.
    pub query: &'a [(&'a str, String)],
    /// Extra headers (microversions).
    pub headers: Vec<(&'static str, String)>,
    /// JSON body.
    pub body: Option<&'a Value>,
}

impl<'a> Request<'a> {
    /// A request without query, headers or body.
    pub fn new(service: &'static str, method: Method, path: &'a str) -> Self {
        Request {
            service,
            method,
            path,
            query: &[],
            headers: Vec::new(),
            body: None,
        }
    }
}

impl Session {
    /// A session for this configuration. Resolves secret references now; authenticates on
    /// first use.
    pub fn new(config: &OpenStackConfig) -> Result<Self> {
        config.validate()?;
        let identity = match &config.auth.credentials {
            Credentials::Password {
                username,
                user_domain,
                password,
            } => Identity::Password {
                username: username.clone(),
                user_domain: user_domain.clone(),
                password: password.resolve()?,
            },
            Credentials::ApplicationCredential {
                id,
                name,
                username,
                user_id,
                user_domain,
                secret,
            } => Identity::ApplicationCredential {
                id: id.clone(),
                name: name.clone(),
                username: username.clone(),
                user_id: user_id.clone(),
                user_domain: user_domain.clone(),
                secret: secret.resolve()?,
            },
        };
        Ok(Session {
            transport: Transport::new(config.request_timeout, config.connect_timeout)?,
            auth_url: config.auth.auth_url.trim_end_matches('/').to_owned(),
            identity,
            scope: config.auth.scope.clone(),
            region: config.region.clone(),
            interface: config.interface,
            overrides: config.endpoint_overrides.clone(),
            margin: config.token_refresh_margin,
            current: Mutex::new(None),
            issued: AtomicU64::new(0),
        })
    }

    /// A valid token: the cached one unless it expires within the refresh margin (at most half
    /// its lifetime), else a new one. Concurrent callers share one renewal.
    pub async fn token(&self) -> Result<Arc<Token>> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && self.is_fresh(token)
        {
            return Ok(token.clone());
        }
        let token = Arc::new(self.authenticate().await?);
        *current = Some(token.clone());
        Ok(token)
    }

    fn is_fresh(&self, token: &Token) -> bool {
        let lifetime = (token.expires_at - token.issued_at)
            .to_std()
            .unwrap_or_default();
        let margin = self.margin.min(lifetime / 2);
        let margin = chrono::Duration::from_std(margin).unwrap_or_default();
        Utc::now() + margin < token.expires_at
    }

    /// Forgets `token` if it is still the cached one (it was refused).
    pub async fn invalidate(&self, token: &Arc<Token>) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|t| Arc::ptr_eq(t, token)) {
            *current = None;
        }
    }

    /// How many tokens this session obtained from Keystone.
    pub fn tokens_issued(&self) -> u64 {
        self.issued.load(Ordering::Relaxed)
    }

    /// Asks Keystone for a new token (`POST /v3/auth/tokens`).
    async fn authenticate(&self) -> Result<Token> {
        let body = self.identity.request_body(self.scope.as_ref());
        let call = Call {
            service: "identity",
            method: Method::POST,
            url: join(&self.auth_url, "auth/tokens"),
            token: None,
            headers: Vec::new(),
            body: Some(&body),
        };
        let reply = match self.transport.send(call).await {
            Ok(reply) => reply,
            // Keystone answers 404 for an unknown application credential: a refusal too.
            Err(Error::Api(e)) if matches!(e.status, 401 | 404) => {
                return Err(Error::Auth {
                    message: e.message,
                    request_id: e.request_id,
                });
            }
            Err(e) => return Err(e),
        };
        let value = reply
            .header("x-subject-token")
            .map(Secret::new)
            .ok_or_else(|| Error::Decode {
                service: "identity",
                message: "no X-Subject-Token in Keystone's answer".into(),
            })?;
        let token = reply.json::<TokenBody>()?.into_token(value);
        self.issued.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            user = %token.user_id,
            project = token.project_id.as_deref().unwrap_or("-"),
            domain = token.domain_id.as_deref().unwrap_or("-"),
            expires_at = %token.expires_at,
            request_id = reply.request_id().unwrap_or("-"),
            "keystone token issued"
        );
        Ok(token)
    }

    /// The base URL of a service: the configured override, else the catalog's endpoint for the
    /// configured interface and region.
    pub async fn endpoint(&self, service_type: &str) -> Result<String> {
        let token = self.token().await?;
        self.endpoint_in(&token, service_type)
    }

    fn endpoint_in(&self, token: &Token, service_type: &str) -> Result<String> {
        if let Some(url) = self.overrides.get(service_type) {
            let project = token.project_id.as_deref().unwrap_or_default();
            return Ok(url
                .replace("%(project_id)s", project)
                .replace("$(project_id)s", project));
        }
        if service_type == "identity" && token.catalog.services.is_empty() {
            return Ok(self.auth_url.clone());
        }
        token
            .catalog
            .endpoint(service_type, self.interface, self.region.as_deref())
            .map(str::to_owned)
    }

    /// Sends a request with the current token; on 401 renews the token once and retries.
    pub async fn send(&self, request: Request<'_>) -> Result<Reply> {
        let token = self.token().await?;
        match self.send_with(&token, &request).await {
            Err(e) if e.is_status(401) => {
                tracing::info!(
                    service = request.service,
                    request_id = e.request_id().unwrap_or("-"),
                    "token refused, renewing it"
                );
                self.invalidate(&token).await;
                let token = self.token().await?;
                self.send_with(&token, &request).await
            }
            other => other,
        }
    }

    async fn send_with(&self, token: &Token, request: &Request<'_>) -> Result<Reply> {
        let mut url = if request.path.starts_with("http://") || request.path.starts_with("https://")
        {
            request.path.to_owned()
        } else {
            join(&self.endpoint_in(token, request.service)?, request.path)
        };
        if !request.query.is_empty() {
            let mut parsed = reqwest::Url::parse(&url).map_err(|e| Error::Decode {
                service: request.service,
                message: format!("endpoint URL: {e}"),
            })?;
            parsed
                .query_pairs_mut()
                .extend_pairs(request.query.iter().map(|(k, v)| (*k, v.as_str())));
            url = parsed.into();
        }
        self.transport
            .send(Call {
                service: request.service,
                method: request.method.clone(),
                url,
                token: Some(&token.value),
                headers: request.headers.clone(),
                body: request.body,
            })
            .await
    }
}
