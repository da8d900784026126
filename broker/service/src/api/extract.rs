//! Extractors that answer in problem+json: the caller's token, a JSON or YAML body, query
//! strings.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::auth::Principal;
use crate::error::Error;
use crate::service::Broker;

/// The caller, from `Authorization: Bearer <token>` (401 otherwise).
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl FromRequestParts<Broker> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, b: &Broker) -> Result<Self, Error> {
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            Error::Unauthorized("an Authorization: Bearer token is required".into())
        })?;
        let text = header
            .to_str()
            .map_err(|_| Error::Unauthorized("the Authorization header is not text".into()))?;
        let token = text
            .strip_prefix("Bearer ")
            .or_else(|| text.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                Error::Unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        let p = b.tokens().authenticate(token).await?;
        tracing::Span::current().record("token", p.token_id.as_str());
        Ok(Caller(p))
    }
}

/// A request body: JSON (`application/json`, or no content type) or YAML
/// (`application/yaml`), read whole within the configured size limit.
#[derive(Debug, Clone)]
pub struct Document(pub Value);

impl FromRequest<Broker> for Document {
    type Rejection = Error;

    async fn from_request(req: Request, b: &Broker) -> Result<Self, Error> {
        let ctype = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase()
            });
        let yaml = match ctype.as_deref() {
            None | Some("application/json") => false,
            Some(t) if t.ends_with("+json") => false,
            Some("application/yaml" | "application/x-yaml" | "text/yaml") => true,
            Some(other) => {
                return Err(Error::UnsupportedMediaType(format!(
                    "the body must be application/json or application/yaml, not {other}"
                )));
            }
        };
        let limit = b.config().max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| Error::PayloadTooLarge)?;
        parse_body(&bytes, yaml).map(Document)
    }
}

fn parse_body(bytes: &Bytes, yaml: bool) -> Result<Value, Error> {
    if bytes.is_empty() {
        return Err(Error::Malformed("the request body is empty".into()));
    }
    if yaml {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::Malformed("the body is not UTF-8 text".into()))?;
        let mut options = serde_saphyr::Options::default();
        options.strict_booleans = true;
        serde_saphyr::from_str_with_options::<Value>(text, options)
            .map_err(|e| Error::Malformed(format!("the body is not well-formed YAML: {e}")))
    } else {
        serde_json::from_slice(bytes)
            .map_err(|e| Error::Malformed(format!("the body is not well-formed JSON: {e}")))
    }
}

/// A query string, refused with `malformed-request` when it does not parse.
#[derive(Debug, Clone)]
pub struct Q<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<Broker> for Q<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, b: &Broker) -> Result<Self, Error> {
        Query::<T>::from_request_parts(parts, b)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| Error::Malformed(format!("bad query string: {}", e.body_text())))
    }
}
