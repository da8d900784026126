//! An HTTP layer between the EC2 client and the network that injects faults: error responses
//! with EC2 codes (throttling, capacity, internal errors), bare 5xx, timeouts, connection resets,
//! and answers lost after the request took effect.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_ec2::config::SharedHttpClient;
use aws_smithy_http_client::tls::{Provider as TlsProvider, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

/// A fault to inject.
#[derive(Clone, Debug, PartialEq)]
pub enum HttpFault {
    /// Answer with an EC2 error document, without reaching the endpoint.
    Error {
        /// HTTP status.
        status: u16,
        /// EC2 error code.
        code: String,
        /// Error message.
        message: String,
        /// `Retry-After` header, in whole seconds.
        retry_after: Option<u64>,
    },
    /// Answer with a bare status and a non-EC2 body (a proxy's 502 page).
    Status(u16),
    /// Never answer: the client's attempt timeout fires.
    Timeout,
    /// Fail the connection before sending.
    ConnectionReset,
    /// Send the request to the endpoint (it takes effect), then fail as if the connection broke
    /// before the answer arrived.
    LoseResponse,
    /// Forward after a delay.
    Delay(Duration),
}

impl HttpFault {
    fn ec2(status: u16, code: &str, message: &str) -> Self {
        HttpFault::Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
            retry_after: None,
        }
    }

    /// `503 RequestLimitExceeded`, as EC2 throttles.
    pub fn throttle() -> Self {
        Self::ec2(503, "RequestLimitExceeded", "Request limit exceeded.")
    }

    /// `500 InsufficientInstanceCapacity`.
    pub fn insufficient_capacity() -> Self {
        Self::ec2(
            500,
            "InsufficientInstanceCapacity",
            "We currently do not have sufficient capacity in the Availability Zone you requested.",
        )
    }

    /// `500 InternalError`.
    pub fn internal_error() -> Self {
        Self::ec2(500, "InternalError", "An internal error has occurred.")
    }

    /// `400 InstanceLimitExceeded` (an account quota).
    pub fn instance_limit() -> Self {
        Self::ec2(
            400,
            "InstanceLimitExceeded",
            "You have requested more instances than allowed.",
        )
    }

    /// `401 AuthFailure`.
    pub fn auth_failure() -> Self {
        Self::ec2(
            401,
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
        )
    }
}

/// Where and how often a fault applies.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpFaultRule {
    /// EC2 action matched (`RunInstances`), or every action.
    pub action: Option<String>,
    /// The fault.
    pub fault: HttpFault,
    /// How many matching requests are hit; `None` until cleared.
    pub times: Option<u32>,
}

impl HttpFaultRule {
    /// A rule hitting every request until cleared.
    pub fn new(fault: HttpFault) -> Self {
        HttpFaultRule {
            action: None,
            fault,
            times: None,
        }
    }

    /// Only requests of this EC2 action.
    pub fn on(mut self, action: &str) -> Self {
        self.action = Some(action.to_owned());
        self
    }

    /// Only the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

#[derive(Debug, Default)]
struct State {
    rules: Vec<HttpFaultRule>,
    attempts: Vec<String>,
}

/// The fault layer: give [`FaultLayer::http_client`] to
/// [`AwsProvider::connect_with`](crate::AwsProvider::connect_with), then script faults while
/// the provider runs. Clones share state.
#[derive(Clone, Debug, Default)]
pub struct FaultLayer {
    state: Arc<Mutex<State>>,
}

impl FaultLayer {
    /// A layer that lets everything through until told otherwise.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule (rules are tried in order).
    pub fn push(&self, rule: HttpFaultRule) {
        self.lock().rules.push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// How many HTTP attempts of this action went through the layer (faulted ones included).
    pub fn attempts(&self, action: &str) -> usize {
        self.lock().attempts.iter().filter(|a| *a == action).count()
    }

    /// An HTTP client that applies the rules in front of the SDK's default HTTPS client.
    pub fn http_client(&self) -> SharedHttpClient {
        let inner = aws_smithy_http_client::Builder::new()
            .tls_provider(TlsProvider::Rustls(CryptoMode::AwsLc))
            .build_https();
        SharedHttpClient::new(FaultClient {
            inner,
            layer: self.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, action: &str) -> Option<HttpFault> {
        let mut state = self.lock();
        state.attempts.push(action.to_owned());
        let i = state
            .rules
            .iter()
            .position(|r| r.times != Some(0) && r.action.as_deref().is_none_or(|a| a == action))?;
        let fault = state.rules[i].fault.clone();
        if let Some(n) = state.rules[i].times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                state.rules.remove(i);
            }
        }
        Some(fault)
    }
}

#[derive(Debug)]
struct FaultClient {
    inner: SharedHttpClient,
    layer: FaultLayer,
}

impl HttpClient for FaultClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(FaultConnector {
            inner: self.inner.http_connector(settings, components),
            layer: self.layer.clone(),
        })
    }
}

#[derive(Debug)]
struct FaultConnector {
    inner: SharedHttpConnector,
    layer: FaultLayer,
}

/// The `Action` parameter of an EC2 query request body.
fn action(request: &HttpRequest) -> String {
    let body = request.body().bytes().unwrap_or_default();
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .unwrap_or("")
        .to_owned()
}

fn response(status: u16, body: String) -> HttpResponse {
    let status = StatusCode::try_from(status)
        .unwrap_or_else(|_| StatusCode::try_from(500).expect("500 is a status"));
    HttpResponse::new(status, SdkBody::from(body))
}

fn broken(what: &str) -> ConnectorError {
    ConnectorError::io(Box::new(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        format!("connection reset by the fault layer ({what})"),
    )))
}

impl HttpConnector for FaultConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let action = action(&request);
        match self.layer.take(&action) {
            None => self.inner.call(request),
            Some(HttpFault::Error {
                status,
                code,
                message,
                retry_after,
            }) => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>nuage-fault-layer</RequestID></Response>"
                );
                let mut resp = response(status, body);
                resp.headers_mut()
                    .insert("content-type", "text/xml;charset=UTF-8");
                if let Some(secs) = retry_after {
                    resp.headers_mut().insert("retry-after", secs.to_string());
                }
                HttpConnectorFuture::ready(Ok(resp))
            }
            Some(HttpFault::Status(status)) => HttpConnectorFuture::ready(Ok(response(
                status,
                "<html><body>Bad Gateway</body></html>".to_owned(),
            ))),
            Some(HttpFault::Timeout) => HttpConnectorFuture::new(std::future::pending()),
            Some(HttpFault::ConnectionReset) => {
                HttpConnectorFuture::ready(Err(broken("before sending")))
            }
            Some(HttpFault::LoseResponse) => {
                let forwarded = self.inner.call(request);
                HttpConnectorFuture::new(async move {
                    let _ = forwarded.await;
                    Err(broken("answer lost"))
                })
            }
            Some(HttpFault::Delay(delay)) => {
                let inner = self.inner.clone();
                HttpConnectorFuture::new(async move {
                    tokio::time::sleep(delay).await;
                    inner.call(request).await
                })
            }
        }
    }
}
