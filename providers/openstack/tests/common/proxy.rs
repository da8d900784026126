//! A fault-injecting HTTP proxy in front of a real OpenStack endpoint, for what real services
//! do not produce on demand: 429 with Retry-After, 5xx, 401, slow answers, and a server that
//! turns ERROR with a fault.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

/// What to do with a matching request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer this status without forwarding, with an optional `Retry-After` and a body.
    Status {
        status: u16,
        retry_after: Option<String>,
        body: String,
    },
    /// Forward after sleeping this long.
    Delay(Duration),
    /// Forward, then rewrite every server in the answer to `ERROR` with this fault.
    ServerError { code: u16, message: String },
    /// Forward (the cloud acts), then lose the answer: the client gets this status instead,
    /// as when a connection drops after the request went through.
    LoseAnswer(u16),
}

/// One rule: matches a method and a path fragment, `times` times (`usize::MAX`: always).
#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Option<&'static str>,
    pub path_contains: String,
    pub fault: Fault,
    pub times: usize,
}

#[derive(Default)]
struct Shared {
    rules: Vec<Rule>,
    injected: usize,
    forwarded: usize,
}

/// A running proxy.
#[derive(Clone)]
pub struct Proxy {
    pub url: String,
    upstream: String,
    shared: Arc<Mutex<Shared>>,
}

impl Proxy {
    /// Starts a proxy to `upstream` (scheme, host and port) on a free loopback port.
    pub async fn start(upstream: &str) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let proxy = Proxy {
            url,
            upstream: upstream.trim_end_matches('/').to_owned(),
            shared: Arc::new(Mutex::new(Shared::default())),
        };
        let app = Router::new().fallback(handle).with_state(proxy.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        proxy
    }

    /// Adds a rule.
    pub fn inject(&self, rule: Rule) {
        self.shared.lock().unwrap().rules.push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.shared.lock().unwrap().rules.clear();
    }

    /// How many requests got a fault.
    pub fn injected(&self) -> usize {
        self.shared.lock().unwrap().injected
    }

    /// How many requests reached the upstream.
    pub fn forwarded(&self) -> usize {
        self.shared.lock().unwrap().forwarded
    }

    fn take_fault(&self, method: &str, path: &str) -> Option<Fault> {
        let mut shared = self.shared.lock().unwrap();
        let index = shared.rules.iter().position(|r| {
            r.times > 0 && r.method.is_none_or(|m| m == method) && path.contains(&r.path_contains)
        })?;
        let rule = &mut shared.rules[index];
        if rule.times != usize::MAX {
            rule.times -= 1;
        }
        let fault = rule.fault.clone();
        shared.injected += 1;
        Some(fault)
    }
}

async fn handle(State(proxy): State<Proxy>, request: Request) -> Response {
    let method = request.method().as_str().to_owned();
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let fault = proxy.take_fault(&method, request.uri().path());
    let mut rewrite = None;
    let mut lose = None;
    match fault {
        Some(Fault::Status {
            status,
            retry_after,
            body,
        }) => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap();
            let headers = response.headers_mut();
            headers.insert("content-type", HeaderValue::from_static("application/json"));
            headers.insert(
                "x-openstack-request-id",
                HeaderValue::from_static("req-injected-by-proxy"),
            );
            if let Some(after) = retry_after {
                headers.insert("retry-after", HeaderValue::from_str(&after).unwrap());
            }
            return response;
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::ServerError { code, message }) => rewrite = Some((code, message)),
        Some(Fault::LoseAnswer(status)) => lose = Some(status),
        None => {}
    }
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 64 << 20).await.unwrap();
    let client = reqwest::Client::new();
    let mut upstream = client.request(
        reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap(),
        format!("{}{}", proxy.upstream, path_and_query),
    );
    for (name, value) in &parts.headers {
        if name != "host" && name != "content-length" {
            upstream = upstream.header(name.as_str(), value.as_bytes());
        }
    }
    let answer = upstream.body(body.to_vec()).send().await.unwrap();
    proxy.shared.lock().unwrap().forwarded += 1;
    if let Some(status) = lose {
        let mut response = Response::new(Body::from("upstream connection lost"));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        return response;
    }
    let status = answer.status().as_u16();
    let mut headers = HeaderMap::new();
    for (name, value) in answer.headers() {
        let name = name.as_str();
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            headers.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_bytes(value.as_bytes()).unwrap(),
            );
        }
    }
    let mut bytes = answer.bytes().await.unwrap().to_vec();
    if let Some((code, message)) = rewrite
        && let Ok(mut doc) = serde_json::from_slice::<Value>(&bytes)
    {
        let fault = json!({"code": code, "message": message, "created": "2026-01-01T00:00:00Z"});
        if let Some(server) = doc.get_mut("server") {
            server["status"] = json!("ERROR");
            server["fault"] = fault.clone();
        }
        if let Some(Value::Array(servers)) = doc.get_mut("servers") {
            for server in servers {
                server["status"] = json!("ERROR");
                server["fault"] = fault.clone();
            }
        }
        bytes = serde_json::to_vec(&doc).unwrap();
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = StatusCode::from_u16(status).unwrap();
    *response.headers_mut() = headers;
    response
}

/// Scheme, host and port of a URL (`http://127.0.0.1:8774/v2.1` → `http://127.0.0.1:8774`).
pub fn origin(url: &str) -> String {
    let parsed = reqwest::Url::parse(url).unwrap();
    format!(
        "{}://{}:{}",
        parsed.scheme(),
        parsed.host_str().unwrap(),
        parsed.port_or_known_default().unwrap()
    )
}

/// The path of a URL (`http://h:1/v2.1` → `/v2.1`).
pub fn path(url: &str) -> String {
    reqwest::Url::parse(url).unwrap().path().to_owned()
}
