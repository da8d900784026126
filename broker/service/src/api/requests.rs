//! `/v1/requests`: submit (with `Idempotency-Key` and `?dryRun=true`), list, read, delete.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::ServiceRequestDocument;
use super::extract::{Caller, Document, Q};
use crate::error::{Error, Problem, Result};
use crate::requests::{
    RequestPage, RequestQuery, RequestState, RequestView, Submission, Submitted,
};
use crate::service::Broker;

/// Query of `POST /v1/requests`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SubmitQuery {
    /// Decide only: answer the decision record and store nothing.
    #[serde(default, rename = "dryRun")]
    #[param(rename = "dryRun")]
    dry_run: Option<bool>,
}

/// The answer to a dry run.
#[derive(Debug, Serialize, ToSchema)]
pub struct DryRun {
    /// Always true.
    pub dry_run: bool,
    /// The decision record the submission would get (nothing was stored).
    #[schema(value_type = Object)]
    pub decision: Value,
}

/// Submit a service request.
///
/// Validates the request, places it with the tenant's remaining quota and budget, stores it
/// with its decision record and an audit entry, starts its provisioning workflow and answers
/// 202 with its id, state and decision. With the same `Idempotency-Key` and body, a second
/// call answers the first request (header `Idempotent-Replayed: true`); with another body, 409.
#[utoipa::path(
    post, path = "/v1/requests", tag = "requests", operation_id = "createRequest",
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 printable ASCII characters; the same key and body give the same request"),
        SubmitQuery,
    ),
    request_body(content = ServiceRequestDocument, description = "A service request (`nuage/v1`), as JSON or YAML (`application/yaml`)", content_type = "application/json"),
    responses(
        (status = 202, description = "Accepted: stored, provisioning started", body = RequestView,
            headers(("Location" = String, description = "The request's URL"))),
        (status = 200, description = "Dry run: the decision, nothing stored", body = DryRun),
        (status = 400, description = "Unreadable body or header", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A live request has this name, or the idempotency key was used with another body", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body neither JSON nor YAML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request (every bad field listed), refused placement or quota exceeded (with the decision record)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(b): State<Broker>,
    Caller(who): Caller,
    Q(q): Q<SubmitQuery>,
    headers: HeaderMap,
    Document(body): Document,
) -> Result<Response> {
    let idempotency_key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| Error::Malformed("the Idempotency-Key header is not ASCII".into()))?
                .to_owned(),
        ),
        None => None,
    };
    let submitted = b
        .submit(
            &who,
            Submission {
                body,
                idempotency_key,
                dry_run: q.dry_run.unwrap_or(false),
            },
        )
        .await?;
    Ok(match submitted {
        Submitted::DryRun(decision) => (
            StatusCode::OK,
            Json(DryRun {
                dry_run: true,
                decision: *decision,
            }),
        )
            .into_response(),
        Submitted::Created(v) => accepted(*v, false),
        Submitted::Replayed(v) => accepted(*v, true),
    })
}

fn accepted(v: RequestView, replayed: bool) -> Response {
    let location = format!("/v1/requests/{}", v.id);
    let mut resp = (StatusCode::ACCEPTED, Json(v)).into_response();
    if let Ok(l) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    if replayed {
        resp.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    resp
}

/// Query of `GET /v1/requests`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this tenant (global tokens; a tenant's token sees only its own).
    tenant: Option<String>,
    /// Only these states, comma-separated (`provisioning,ready`).
    state: Option<String>,
    /// Only requests with this name.
    name: Option<String>,
    /// Only requests placed on this offer.
    offer: Option<String>,
    /// Created at or after (RFC 3339).
    created_after: Option<DateTime<Utc>>,
    /// Created before (RFC 3339).
    created_before: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// Page size, 1 to 500 (default 50).
    limit: Option<u32>,
}

/// List service requests.
///
/// Newest first, a page at a time (`next_cursor`). A tenant's token sees only its tenant's
/// requests; items carry no documents or resources (read one request for those).
#[utoipa::path(
    get, path = "/v1/requests", tag = "requests", operation_id = "listRequests",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of requests", body = RequestPage),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(b): State<Broker>,
    Caller(who): Caller,
    Q(q): Q<ListQuery>,
) -> Result<Json<RequestPage>> {
    let mut states = Vec::new();
    for s in q.state.iter().flat_map(|s| s.split(',')).map(str::trim) {
        if s.is_empty() {
            continue;
        }
        states.push(RequestState::parse(s).ok_or_else(|| {
            Error::Malformed(format!(
                "unknown state {s:?}; expected one of {}",
                RequestState::ALL.map(RequestState::as_str).join(", ")
            ))
        })?);
    }
    if q.limit == Some(0) || q.limit.is_some_and(|l| l > 500) {
        return Err(Error::Malformed("limit must be 1 to 500".into()));
    }
    if q.cursor
        .as_ref()
        .is_some_and(|c| uuid::Uuid::parse_str(c).is_err())
    {
        return Err(Error::Malformed(
            "cursor is not a cursor returned by this API".into(),
        ));
    }
    let page = b
        .list_requests(
            &who,
            &RequestQuery {
                tenant: q.tenant,
                states,
                name: q.name,
                offer: q.offer,
                created_after: q.created_after,
                created_before: q.created_before,
                cursor: q.cursor,
                limit: q.limit,
            },
        )
        .await?;
    Ok(Json(page))
}

/// Read a service request.
///
/// Its state, decision record, resources with cloud ids and addresses, cost estimate and
/// workflow progress. Another tenant's request answers 404, as an absent one.
#[utoipa::path(
    get, path = "/v1/requests/{id}", tag = "requests", operation_id = "getRequest",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The request", body = RequestView)),
    security(("bearer" = []))
)]
pub async fn get(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<RequestView>> {
    Ok(Json(b.get_request(&who, &id).await?))
}

/// Delete a service request.
///
/// Starts removing its resources: a request still provisioning (or failed) has its
/// provisioning cancelled and what was made removed; a ready one gets a deprovisioning
/// workflow. Idempotent. Answers 202 with the request in state `deleting` (or `deleted`).
#[utoipa::path(
    delete, path = "/v1/requests/{id}", tag = "requests", operation_id = "deleteRequest",
    params(("id" = String, Path, description = "Request id")),
    responses((status = 202, description = "Deletion under way", body = RequestView)),
    security(("bearer" = []))
)]
pub async fn delete(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<RequestView>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(b.delete_request(&who, &id).await?),
    ))
}
