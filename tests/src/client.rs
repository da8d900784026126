//! A small client of the `/v1` API for tests.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// An API client with a token.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    /// A client of the broker at `base` (`http://127.0.0.1:port`) with `token`.
    pub fn new(base: &str, token: &str) -> Api {
        Api {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("an HTTP client"),
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// The same broker with another token.
    pub fn with_token(&self, token: &str) -> Api {
        Api {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    /// One call; the status and the JSON body (`Null` when none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.expect("the broker answers");
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a token (admin client) and returns its secret.
    pub async fn token(&self, role: &str, tenant: Option<&str>) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/v1/tokens",
                Some(&serde_json::json!({"name": format!("e2e-{role}"), "role": role, "tenant": tenant})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().expect("a secret").to_owned()
    }

    /// Submits a request; its id.
    pub async fn submit(&self, request: &Value) -> String {
        let (status, body) = self.call(Method::POST, "/v1/requests", Some(request)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        body["id"].as_str().expect("an id").to_owned()
    }

    /// Reads a request.
    pub async fn get(&self, id: &str) -> Value {
        let (status, body) = self
            .call(Method::GET, &format!("/v1/requests/{id}"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Polls until the request's state is one of `states`.
    ///
    /// # Panics
    /// After `timeout`, or when the broker stops answering.
    pub async fn wait(&self, id: &str, states: &[&str], timeout: Duration) -> Value {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let v = self.get(id).await;
            let state = v["state"].as_str().unwrap_or_default();
            if states.contains(&state) {
                return v;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "request {id} is {state} after {timeout:?}, not one of {states:?}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
