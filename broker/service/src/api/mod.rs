//! The HTTP API: `/v1` (JSON, bearer tokens, problem+json errors), `/healthz`, `/readyz` and
//! `/openapi.json`. [`router`] is the test seam: it needs no socket.
//!
//! One file per resource group: [`requests`], [`offers`] (and `/v1/plan`), [`workflows`],
//! [`audit`], [`tokens`] (and `/v1/me`, `/v1/tenants/{id}`), [`sim`] (faults of the simulated
//! clouds). The OpenAPI document is generated
//! from the handlers' annotations ([`openapi`]) and checked in as `docs/openapi.json`.

pub mod audit;
mod extract;
pub mod offers;
pub mod requests;
pub mod sim;
pub mod tokens;
pub mod workflows;

use std::sync::OnceLock;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use extract::{Caller, Document};

use crate::error::{Code, Error, Problem};
use crate::service::Broker;

/// A service request document (`nuage/v1`); its JSON Schema is `docs/schema/request.v1.json`.
#[derive(Debug, ToSchema)]
#[schema(as = ServiceRequest)]
pub struct ServiceRequestDocument {
    /// Replaced by the request's JSON Schema in the published document.
    pub api_version: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Nuage broker API",
        description = "Provision cloud resources through the Nuage broker: submit a service request, \
            follow it to `ready`, delete it. Every response about a request placed on a simulated \
            cloud carries `simulated: true`. Errors are `application/problem+json` with a stable \
            `code` (see docs/errors/).",
        license(name = "EUPL-1.2"),
    ),
    modifiers(&Bearer),
    components(schemas(Problem, Code)),
    tags(
        (name = "requests", description = "Service requests: submit, follow, delete"),
        (name = "offers", description = "The catalogue, and placement without submission"),
        (name = "workflows", description = "Provisioning runs and operator actions"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "tokens", description = "Tokens and tenants"),
        (name = "sim", description = "Faults of the simulated clouds"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A Nuage token: `nuage_` followed by 43 base64url characters",
                    ))
                    .build(),
            ),
        );
    }
}

fn api() -> OpenApiRouter<Broker> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(requests::create, requests::list))
        .routes(routes!(requests::get, requests::delete))
        .routes(routes!(offers::list))
        .routes(routes!(offers::get))
        .routes(routes!(offers::plan))
        .routes(routes!(workflows::list))
        .routes(routes!(workflows::get))
        .routes(routes!(workflows::retry))
        .routes(routes!(workflows::cancel))
        .routes(routes!(workflows::compensate))
        .routes(routes!(workflows::resume))
        .routes(routes!(audit::list))
        .routes(routes!(audit::verify))
        .routes(routes!(tokens::create, tokens::list))
        .routes(routes!(tokens::revoke))
        .routes(routes!(tokens::me))
        .routes(routes!(tokens::tenant))
        .routes(routes!(sim::list))
        .routes(routes!(sim::set, sim::clear))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// The OpenAPI document of the API, as served at `/openapi.json` and checked in as
/// `docs/openapi.json`.
pub fn openapi() -> Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let doc = api().into_openapi();
        finish(serde_json::to_value(doc).expect("the OpenAPI document serializes"))
    })
    .clone()
}

/// The router over a broker: every route, request ids (`x-request-id`), a tracing span per
/// request, the body size limit, and problem+json for unknown paths and methods.
pub fn router(broker: Broker) -> Router {
    let limit = broker.config().max_body_bytes;
    let (routes, _) = api().split_for_parts();
    let request_id = HeaderName::from_static("x-request-id");
    routes
        .route(
            "/openapi.json",
            axum::routing::get(|| async { Json(openapi()) }),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default();
                tracing::info_span!(
                    "http",
                    method = %req.method(),
                    path = %req.uri().path(),
                    request_id = %id,
                    token = tracing::field::Empty,
                )
            }),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .with_state(broker)
}

async fn not_found() -> Response {
    Problem::new(Code::NotFound, "no such path in this API").into_response()
}

async fn method_not_allowed() -> Response {
    Problem::new(
        Code::MethodNotAllowed,
        "this path does not take this method",
    )
    .into_response()
}

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "health", operation_id = "healthz",
    responses((status = 200, description = "Alive", body = Object))
)]
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the broker runs and its database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "health", operation_id = "readyz",
    responses(
        (status = 200, description = "Ready", body = Object),
        (status = 503, description = "Starting, shutting down, or the database does not answer", body = Problem, content_type = "application/problem+json"),
    )
)]
async fn readyz(State(b): State<Broker>) -> Response {
    if !b.is_ready() {
        return Error::Unavailable("the broker is starting or shutting down".into())
            .into_response();
    }
    match tokio::time::timeout(Duration::from_secs(2), b.db().ping()).await {
        Ok(true) => (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response(),
        _ => Error::Unavailable("the database does not answer".into()).into_response(),
    }
}

/// Publishes the request JSON Schema as `ServiceRequest` (its `$defs` become components) and
/// adds the error answers every operation shares.
fn finish(mut doc: Value) -> Value {
    let mut schema = nuage_placement::request::request_schema();
    let defs = schema
        .as_object_mut()
        .and_then(|o| {
            o.remove("$schema");
            o.remove("$defs")
        })
        .unwrap_or(Value::Object(Map::new()));
    let prefix = "ServiceRequest.";
    rewrite_refs(&mut schema, prefix);
    let schemas = &mut doc["components"]["schemas"];
    schemas["ServiceRequest"] = schema;
    if let Value::Object(defs) = defs {
        for (name, mut def) in defs {
            rewrite_refs(&mut def, prefix);
            schemas[format!("{prefix}{name}")] = def;
        }
    }
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        })
    };
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        for (path, item) in paths.iter_mut() {
            let Value::Object(ops) = item else { continue };
            for op in ops.values_mut() {
                let secured = op.get("security").is_some();
                let Some(Value::Object(responses)) = op.get_mut("responses") else {
                    continue;
                };
                let mut add = |code: &str, description: &str| {
                    responses
                        .entry(code.to_owned())
                        .or_insert_with(|| problem(description));
                };
                if secured {
                    add("401", "No valid bearer token (`unauthorized`)");
                    add(
                        "403",
                        "The token's role or tenant does not allow it (`forbidden`)",
                    );
                }
                if path.contains('{') {
                    add(
                        "404",
                        "Nothing visible to this token has this id (`not-found`)",
                    );
                }
                add(
                    "500",
                    "Internal failure (`internal`; the error id names it in the server log)",
                );
            }
        }
    }
    doc
}

fn rewrite_refs(v: &mut Value, prefix: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{prefix}{name}");
            }
            for x in m.values_mut() {
                rewrite_refs(x, prefix);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, prefix)),
        _ => {}
    }
}
