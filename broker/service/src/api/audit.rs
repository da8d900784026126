//! `/v1/audit`: the audit log (an admin sees every entry, anyone else its tenant's), and the
//! chain check (admin).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::extract::{Caller, Q};
use crate::audit::{self, AuditFilter, Entry, Verification};
use crate::auth::Role;
use crate::error::{Error, Problem, Result};
use crate::service::Broker;

/// Query of `GET /v1/audit`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only this tenant's entries (global admins; others always see only their tenant's).
    tenant: Option<String>,
    /// Only this action (`request.create`, `request.delete`, `workflow.retry`...).
    action: Option<String>,
    /// Only entries about this request.
    request: Option<String>,
    /// Only entries made at or after this time (RFC 3339).
    since: Option<DateTime<Utc>>,
    /// Only entries made before this time (RFC 3339).
    until: Option<DateTime<Utc>>,
    /// The `next_cursor` of the previous page.
    cursor: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    limit: Option<u32>,
}

/// A page of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    /// Entries in append order, oldest first.
    pub items: Vec<Entry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<i64>,
}

/// Read the audit log.
///
/// Every mutation, oldest first: who, tenant, action, target, request, decision hash, and the
/// entry's place and hashes in the chain (absent for the few entries not chained yet). A global
/// admin sees every entry; any other token sees its tenant's entries only.
#[utoipa::path(
    get, path = "/v1/audit", tag = "audit", operation_id = "listAudit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "Bad filter", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    State(b): State<Broker>,
    Caller(who): Caller,
    Q(q): Q<AuditQuery>,
) -> Result<Json<AuditPage>> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(Error::Malformed("limit must be 1 to 1000".into()));
    }
    let tenant = match (&who.tenant, q.tenant) {
        (Some(own), Some(asked)) if *own != asked => {
            return Ok(Json(AuditPage {
                items: Vec::new(),
                next_cursor: None,
            }));
        }
        (Some(own), _) => Some(own.clone()),
        // the whole log is an admin's; a global operator reads one tenant's at a time
        (None, None) => {
            who.require(Role::Admin)?;
            None
        }
        (None, Some(asked)) => {
            who.require(Role::Operator)?;
            Some(asked)
        }
    };
    let mut items = audit::list(
        b.db(),
        &AuditFilter {
            tenant,
            action: q.action,
            request_id: q.request,
            after: q.cursor,
            since: q.since.map(|t| t.timestamp_millis()),
            until: q.until.map(|t| t.timestamp_millis()),
            limit: limit + 1,
        },
    )
    .await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    Ok(Json(AuditPage {
        next_cursor: if more {
            items.last().map(|e| e.id)
        } else {
            None
        },
        items,
    }))
}

/// Check the audit chain (admin).
///
/// Walks the chain and reports the first entry altered, removed or reordered, and the head
/// (keep a copy of `head_hash` elsewhere to detect a rewritten tail).
#[utoipa::path(
    get, path = "/v1/audit/verify", tag = "audit", operation_id = "verifyAudit",
    responses((status = 200, description = "The result", body = Verification)),
    security(("bearer" = []))
)]
pub async fn verify(State(b): State<Broker>, Caller(who): Caller) -> Result<Json<Verification>> {
    who.require(Role::Admin)?;
    if !who.is_global() {
        return Err(Error::Forbidden(
            "verifying the whole chain needs a global admin token".into(),
        ));
    }
    b.sealer().seal_pending().await?;
    Ok(Json(audit::verify(b.db()).await?))
}
