//! The HTTP layer every service client goes through: one reqwest client, JSON in and out, errors
//! read from each service's body shape, and one log line per call with its
//! `x-openstack-request-id` (never the token).

pub(crate) mod fault;

use std::time::{Duration, Instant};

use nuage_provider::Secret;
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{ApiError, Error, Result};

/// Header carrying the token.
const AUTH_HEADER: &str = "X-Auth-Token";
/// Header carrying the request id OpenStack gives each call.
const REQUEST_ID: &str = "x-openstack-request-id";
/// Nova's older spelling of the same.
const COMPUTE_REQUEST_ID: &str = "x-compute-request-id";

/// A successful answer.
#[derive(Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Vec<u8>,
    pub(crate) service: &'static str,
}

impl Reply {
    /// The body decoded from JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            service: self.service,
            message: e.to_string(),
        })
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `x-openstack-request-id` of this answer.
    pub fn request_id(&self) -> Option<&str> {
        self.header(REQUEST_ID)
            .or_else(|| self.header(COMPUTE_REQUEST_ID))
    }
}

/// One request to send.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub(crate) service: &'static str,
    pub(crate) method: Method,
    pub(crate) url: String,
    pub(crate) token: Option<&'a Secret>,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<&'a Value>,
}

/// The shared HTTP client.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    client: reqwest::Client,
}

impl Transport {
    /// A client with these timeouts (whole request, and connection).
    pub(crate) fn new(timeout: Duration, connect_timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(connect_timeout)
            .user_agent(concat!(
                "nuage-provider-openstack/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|e| Error::Config(format!("HTTP client: {e}")))?;
        Ok(Transport { client })
    }

    /// Sends a call; statuses of 400 and above become [`Error::Api`].
    pub(crate) async fn send(&self, call: Call<'_>) -> Result<Reply> {
        let path = path_of(&call.url);
        let mut request = self
            .client
            .request(call.method.clone(), &call.url)
            .header(ACCEPT, "application/json");
        if let Some(token) = call.token {
            request = request.header(AUTH_HEADER, token.expose());
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = call.body {
            // Serialized here so that Content-Length is always set (no chunked uploads).
            let bytes = serde_json::to_vec(body).map_err(|e| Error::Decode {
                service: call.service,
                message: e.to_string(),
            })?;
            request = request.header(CONTENT_TYPE, "application/json").body(bytes);
        }
        let started = Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                tracing::warn!(
                    service = call.service,
                    method = %call.method,
                    path = %path,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    timeout = e.is_timeout(),
                    "openstack call failed without an answer"
                );
                return Err(transport_error(&call, &path, &e));
            }
        };
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = match response.bytes().await {
            Ok(bytes) => bytes.to_vec(),
            Err(e) => return Err(transport_error(&call, &path, &e)),
        };
        let reply = Reply {
            status,
            headers,
            body,
            service: call.service,
        };
        let request_id = reply.request_id().map(str::to_owned);
        let elapsed_ms = started.elapsed().as_millis() as u64;
        if status < 400 {
            tracing::debug!(
                service = call.service,
                method = %call.method,
                path = %path,
                status,
                request_id = request_id.as_deref().unwrap_or("-"),
                elapsed_ms,
                "openstack call"
            );
            return Ok(reply);
        }
        let fault = fault::parse(&reply.body);
        let retry_after = reply
            .header(RETRY_AFTER.as_str())
            .and_then(fault::retry_after)
            .or(fault.retry_after);
        tracing::info!(
            service = call.service,
            method = %call.method,
            path = %path,
            status,
            request_id = request_id.as_deref().unwrap_or("-"),
            elapsed_ms,
            code = fault.code.as_deref().unwrap_or("-"),
            message = %fault.message,
            "openstack call refused"
        );
        Err(Error::Api(Box::new(ApiError {
            service: call.service,
            method: call.method.to_string(),
            path,
            status,
            code: fault.code,
            message: fault.message,
            request_id,
            retry_after,
        })))
    }
}

fn transport_error(call: &Call<'_>, path: &str, e: &reqwest::Error) -> Error {
    // reqwest's Display names the URL; ours names the path, and neither carries the token.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    Error::Transport {
        service: call.service,
        method: call.method.to_string(),
        path: path.to_owned(),
        message,
        timeout: e.is_timeout(),
    }
}

/// The path of a URL, without scheme, host or query.
fn path_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => u.path().to_owned(),
        Err(_) => url.split('?').next().unwrap_or(url).to_owned(),
    }
}

/// Joins a base URL and a path with exactly one slash.
pub(crate) fn join(base: &str, path: &str) -> String {
    if path.is_empty() {
        return base.to_owned();
    }
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_and_strips() {
        assert_eq!(join("http://h/v2.1/", "/servers"), "http://h/v2.1/servers");
        assert_eq!(join("http://h", "v2.0/networks"), "http://h/v2.0/networks");
        assert_eq!(
            path_of("http://h:1/v3/auth/tokens?nocatalog"),
            "/v3/auth/tokens"
        );
    }
}
