//! `/v1/tokens` (admin): create (the secret is shown once), list, revoke; `/v1/me`; and
//! `/v1/tenants/{id}` (quota and what the tenant holds).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{Caller, Document};
use crate::auth::{NewToken, Principal, Role, TokenInfo};
use crate::error::{Error, Problem, Result, field};
use crate::service::Broker;

/// Body of `POST /v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// A label for people.
    pub name: String,
    /// `requester`, `operator` or `admin`.
    pub role: Role,
    /// The tenant; omit for a global operator or admin (global admins only).
    #[serde(default)]
    pub tenant: Option<String>,
}

/// A new token: the only time its secret is shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The token.
    #[serde(flatten)]
    pub info: TokenInfo,
    /// The bearer token: store it now, it is not shown again.
    pub token: String,
}

/// Tokens.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenList {
    /// Tokens, newest first (never their secrets).
    pub items: Vec<TokenInfo>,
}

/// Create a token (admin).
///
/// A tenant's admin creates tokens of its tenant only; a global admin any token.
#[utoipa::path(
    post, path = "/v1/tokens", tag = "tokens", operation_id = "createToken",
    request_body(content = CreateToken, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; the secret is in `token`, shown once", body = CreatedToken),
        (status = 400, description = "Unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    State(b): State<Broker>,
    Caller(who): Caller,
    Document(body): Document,
) -> Result<(StatusCode, Json<CreatedToken>)> {
    who.require(Role::Admin)?;
    let req: CreateToken = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        Error::Invalid(vec![field(
            if path == "." { String::new() } else { path },
            e.into_inner().to_string(),
        )])
    })?;
    if let Some(own) = &who.tenant
        && req.tenant.as_deref() != Some(own.as_str())
    {
        return Err(Error::Forbidden(format!(
            "this token belongs to tenant {own}; it creates tokens of that tenant only"
        )));
    }
    let (info, secret) = b
        .tokens()
        .create(
            &NewToken {
                name: req.name,
                role: req.role,
                tenant: req.tenant,
            },
            &who.actor(),
        )
        .await?;
    b.sealer().nudge();
    tracing::info!(token = %info.id, role = %info.role, "token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            info,
            token: secret.expose().to_owned(),
        }),
    ))
}

/// List tokens (admin).
#[utoipa::path(
    get, path = "/v1/tokens", tag = "tokens", operation_id = "listTokens",
    responses((status = 200, description = "Tokens", body = TokenList)),
    security(("bearer" = []))
)]
pub async fn list(State(b): State<Broker>, Caller(who): Caller) -> Result<Json<TokenList>> {
    who.require(Role::Admin)?;
    Ok(Json(TokenList {
        items: b.tokens().list(who.tenant.as_deref()).await?,
    }))
}

/// Revoke a token (admin).
#[utoipa::path(
    delete, path = "/v1/tokens/{id}", tag = "tokens", operation_id = "revokeToken",
    params(("id" = String, Path, description = "Token id (`tok_…`)")),
    responses((status = 200, description = "Revoked", body = TokenInfo)),
    security(("bearer" = []))
)]
pub async fn revoke(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenInfo>> {
    who.require(Role::Admin)?;
    let info = b
        .tokens()
        .revoke(&id, who.tenant.as_deref(), &who.actor())
        .await?;
    b.sealer().nudge();
    Ok(Json(info))
}

/// Who the token is.
#[utoipa::path(
    get, path = "/v1/me", tag = "tokens", operation_id = "whoami",
    responses((status = 200, description = "The caller", body = Principal)),
    security(("bearer" = []))
)]
pub async fn me(Caller(who): Caller) -> Json<Principal> {
    Json(who)
}

/// A tenant's quota and what it holds.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantView {
    /// Tenant id.
    pub id: String,
    /// Its quota (absent fields are unlimited).
    pub quota: QuotaView,
    /// What its live requests hold.
    pub held: HeldView,
}

/// A quota.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuotaView {
    /// vCPUs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vcpus: Option<u64>,
    /// Memory, GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ram_gib: Option<u64>,
    /// Block storage, GiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_gib: Option<u64>,
    /// Monthly budget, euros.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monthly_budget_eur: Option<f64>,
}

/// What is held.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeldView {
    /// vCPUs.
    pub vcpus: i64,
    /// Memory, GiB.
    pub ram_gib: i64,
    /// Block storage, GiB.
    pub storage_gib: i64,
    /// Estimated monthly cost, euros.
    pub monthly_eur: f64,
}

/// Read a tenant's quota and usage.
#[utoipa::path(
    get, path = "/v1/tenants/{id}", tag = "tokens", operation_id = "getTenant",
    params(("id" = String, Path, description = "Tenant id")),
    responses((status = 200, description = "The tenant", body = TenantView)),
    security(("bearer" = []))
)]
pub async fn tenant(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> Result<Json<TenantView>> {
    if !who.sees(&id) || !crate::auth::valid_tenant(&id) {
        return Err(Error::NotFound(format!("tenant {id}")));
    }
    let q = b.config().quota(&id);
    let h = crate::requests::store::held(b.db(), &id).await?;
    Ok(Json(TenantView {
        id,
        quota: QuotaView {
            vcpus: q.vcpus,
            ram_gib: q.ram_gib,
            storage_gib: q.storage_gib,
            monthly_budget_eur: q.monthly_budget_eur.map(|m| m.euros()),
        },
        held: HeldView {
            vcpus: h.vcpus,
            ram_gib: h.ram_gib,
            storage_gib: h.storage_gib,
            monthly_eur: nuage_placement::Money::from_micros(h.monthly_micros).euros(),
        },
    }))
}
