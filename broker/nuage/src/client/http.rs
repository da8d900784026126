//! A blocking client for the broker's `/v1` API: bearer token, JSON in and out, problem
//! documents turned into [`Error`]s that name the context and token source in use.

use super::config::{Resolved, TokenSource};
use super::error::{ApiError, Error};
use super::token::Token;
use reqwest::Method;
use reqwest::blocking::{Client as Http, RequestBuilder};
use serde_json::Value;
use std::time::Duration;

/// A connection to one broker.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    http: Http,
    base: String,
    token: Option<Token>,
    context: Option<String>,
    token_source: TokenSource,
    using: String,
}

/// One call: method, path, query, body, extra headers.
#[derive(Debug, Clone)]
pub(crate) struct Call<'a> {
    method: Method,
    path: &'a str,
    query: Vec<(&'static str, String)>,
    body: Option<&'a Value>,
    headers: Vec<(&'static str, String)>,
}

impl<'a> Call<'a> {
    /// `GET path`.
    pub(crate) fn get(path: &'a str) -> Call<'a> {
        Call::new(Method::GET, path)
    }

    /// `POST path`.
    pub(crate) fn post(path: &'a str) -> Call<'a> {
        Call::new(Method::POST, path)
    }

    /// `PUT path`.
    pub(crate) fn put(path: &'a str) -> Call<'a> {
        Call::new(Method::PUT, path)
    }

    /// `DELETE path`.
    pub(crate) fn delete(path: &'a str) -> Call<'a> {
        Call::new(Method::DELETE, path)
    }

    fn new(method: Method, path: &'a str) -> Call<'a> {
        Call {
            method,
            path,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    /// Adds a query parameter when the value is present.
    pub(crate) fn query(mut self, key: &'static str, value: Option<impl ToString>) -> Call<'a> {
        if let Some(v) = value {
            self.query.push((key, v.to_string()));
        }
        self
    }

    /// A JSON body.
    pub(crate) fn json(mut self, body: &'a Value) -> Call<'a> {
        self.body = Some(body);
        self
    }

    /// Adds a header when the value is present.
    pub(crate) fn header(mut self, name: &'static str, value: Option<impl ToString>) -> Call<'a> {
        if let Some(v) = value {
            self.headers.push((name, v.to_string()));
        }
        self
    }
}

impl Client {
    /// A client for the resolved connection.
    pub(crate) fn new(r: &Resolved) -> Result<Client, Error> {
        let http = Http::builder()
            .user_agent(concat!("nuage-cli/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            base: r.server.clone(),
            token: r.token.clone(),
            context: r.context.clone(),
            token_source: r.token_source.clone(),
            using: r.describe(),
        })
    }

    /// Sends a call and reads its JSON answer (`null` for an empty one).
    pub(crate) fn send(&self, call: Call<'_>) -> Result<Value, Error> {
        let url = format!("{}{}", self.base, call.path);
        let mut rb: RequestBuilder = self
            .http
            .request(call.method.clone(), &url)
            .header("Accept", "application/json, application/problem+json");
        if !call.query.is_empty() {
            rb = rb.query(&call.query);
        }
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t.expose());
        }
        for (k, v) in &call.headers {
            rb = rb.header(*k, v);
        }
        if let Some(b) = call.body {
            rb = rb.json(b);
        }
        let resp = rb.send().map_err(|e| self.transport(&url, &e))?;
        let status = resp.status();
        let bytes = resp.bytes().map_err(|e| self.transport(&url, &e))?;
        if status.is_success() {
            if bytes.is_empty() {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                method: call.method.to_string(),
                url,
                message: format!("not JSON: {e}"),
            });
        }
        let mut api = ApiError::from_body(status.as_u16(), &bytes);
        api.hint = self.hint(&api);
        Err(Error::Api(Box::new(api)))
    }

    /// `GET path` with query parameters.
    pub(crate) fn get(&self, path: &str) -> Result<Value, Error> {
        self.send(Call::get(path))
    }

    fn transport(&self, url: &str, e: &reqwest::Error) -> Error {
        let mut reason = e.to_string();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = src {
            reason = s.to_string();
            src = s.source();
        }
        if e.is_timeout() {
            reason = format!("timed out: {reason}");
        }
        Error::Unreachable {
            url: url.to_owned(),
            reason,
            using: self.using.clone(),
        }
    }

    /// What to do next, for the codes where the client knows better than the server.
    fn hint(&self, api: &ApiError) -> Option<String> {
        let ctx = self.context.as_deref().unwrap_or("NAME");
        match (api.code.as_str(), api.status) {
            ("unauthorized", _) | (_, 401) => Some(match self.token_source {
                TokenSource::None => format!(
                    "no token is configured ({}); give one with `nuage context set {ctx} --token-file FILE`, --token-file FILE or NUAGE_TOKEN",
                    self.using
                ),
                _ => format!(
                    "the broker refused the token in use ({}): it may be mistyped, revoked or from another broker; ask an admin for a new one (`nuage tokens create`) and set it with `nuage context set {ctx} --token-file FILE`",
                    self.using
                ),
            }),
            ("forbidden", _) | (_, 403) => Some(format!(
                "the token in use ({}) lacks the role or tenant for this; operators and admins have their own tokens (`nuage tokens list` shows roles)",
                self.using
            )),
            ("unavailable", _) | (_, 503) => Some(
                "the broker is starting or shutting down; try again in a few seconds".to_owned(),
            ),
            _ => None,
        }
    }
}

impl Error {
    /// Replaces the hint of an API error with `code` (`not-found`, `conflict`...).
    pub(crate) fn hint_on(mut self, code: &str, hint: impl Into<String>) -> Error {
        if let Error::Api(a) = &mut self
            && a.code == code
        {
            a.hint = Some(hint.into());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::args::GlobalArgs;
    use crate::client::config::{ConfigFile, Env, resolve};
    use std::net::TcpListener;

    fn client(server: &str) -> Client {
        let flags = GlobalArgs {
            server: Some(server.to_owned()),
            ..GlobalArgs::default()
        };
        Client::new(&resolve(&ConfigFile::default(), &Env::default(), &flags).unwrap()).unwrap()
    }

    #[test]
    fn a_closed_port_is_unreachable_and_names_the_server() {
        // bind then drop: nothing listens on that port any more
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let c = client(&format!("http://127.0.0.1:{port}"));
        let err = c.get("/v1/requests").unwrap_err();
        assert_eq!(err.exit_code(), crate::exit::UNAVAILABLE);
        let text = err.to_string();
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(text.contains("nuage serve"), "{text}");
    }
}
