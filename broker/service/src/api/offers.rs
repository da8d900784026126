//! `/v1/offers` (the catalogue, with what each offer provisions through) and `/v1/plan`
//! (placement only).

use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::ServiceRequestDocument;
use super::extract::{Caller, Document, Q};
use crate::auth::Role;
use crate::error::{Error, Problem, Result};
use crate::providers::ProviderInfo;
use crate::service::Broker;

/// An offer of the catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferView {
    /// Offer id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its operator.
    pub operator: String,
    /// `internal`, `dedicated` or `external`.
    pub tier: String,
    /// The provider instance it provisions through, and whether that instance is simulated.
    pub provider: ProviderInfo,
    /// True when requests placed on it create nothing real.
    pub simulated: bool,
    /// The whole offer as the catalogue states it (qualifications, jurisdiction, regions,
    /// prices).
    #[schema(value_type = Object)]
    pub offer: Value,
}

/// The offers.
#[derive(Debug, Serialize, ToSchema)]
pub struct OfferList {
    /// Offers, by id.
    pub items: Vec<OfferView>,
    /// `sha256:` of the catalogue.
    pub catalogue_digest: String,
}

/// Query of `GET /v1/offers`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct OfferQuery {
    /// Only this tier (`internal`, `dedicated`, `external`).
    tier: Option<String>,
}

fn view(b: &Broker, o: &nuage_placement::Offer) -> Result<OfferView> {
    let instance = &o.binding.instance;
    let provider = b
        .providers()
        .list()
        .into_iter()
        .find(|p| p.instance == *instance)
        .unwrap_or(ProviderInfo {
            instance: instance.clone(),
            adapter: o.binding.adapter.as_str().to_owned(),
            simulated: true,
            reason: Some("no provider instance".into()),
        });
    Ok(OfferView {
        id: o.id.clone(),
        name: o.name.clone(),
        operator: o.operator.clone(),
        tier: o.tier.to_string(),
        simulated: provider.simulated,
        provider,
        offer: serde_json::to_value(o)?,
    })
}

/// List the offers.
///
/// Every offer of the catalogue, with the provider instance it provisions through; offers
/// bound to an unconfigured instance say `simulated: true`.
#[utoipa::path(
    get, path = "/v1/offers", tag = "offers", operation_id = "listOffers",
    params(OfferQuery),
    responses((status = 200, description = "The offers", body = OfferList)),
    security(("bearer" = []))
)]
pub async fn list(
    State(b): State<Broker>,
    Caller(_who): Caller,
    Q(q): Q<OfferQuery>,
) -> Result<Json<OfferList>> {
    if let Some(t) = &q.tier
        && !matches!(t.as_str(), "internal" | "dedicated" | "external")
    {
        return Err(Error::Malformed(format!(
            "unknown tier {t:?}; expected internal, dedicated or external"
        )));
    }
    let catalogue = b.catalogue();
    let items = catalogue
        .offers()
        .iter()
        .filter(|o| q.tier.as_deref().is_none_or(|t| o.tier.to_string() == t))
        .map(|o| view(&b, o))
        .collect::<Result<_>>()?;
    Ok(Json(OfferList {
        items,
        catalogue_digest: catalogue.digest().to_owned(),
    }))
}

/// Read an offer.
#[utoipa::path(
    get, path = "/v1/offers/{id}", tag = "offers", operation_id = "getOffer",
    params(("id" = String, Path, description = "Offer id")),
    responses((status = 200, description = "The offer", body = OfferView)),
    security(("bearer" = []))
)]
pub async fn get(
    State(b): State<Broker>,
    Caller(_who): Caller,
    Path(id): Path<String>,
) -> Result<Json<OfferView>> {
    let catalogue = b.catalogue();
    let o = catalogue
        .get(&id)
        .ok_or_else(|| Error::NotFound(format!("offer {id}")))?;
    Ok(Json(view(&b, o)?))
}

/// Place a request without submitting it.
///
/// The decision record: the chosen offer and its cost, and for every other offer the rule that
/// eliminated it. The tenant's remaining quota and budget apply. A refusal is a decision
/// (200, `outcome: refused`); only an invalid request is an error.
#[utoipa::path(
    post, path = "/v1/plan", tag = "offers", operation_id = "plan",
    request_body(content = ServiceRequestDocument, description = "A service request (`nuage/v1`), as JSON or YAML", content_type = "application/json"),
    responses(
        (status = 200, description = "The decision record", body = Object),
        (status = 400, description = "Unreadable body", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid request, every bad field listed", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn plan(
    State(b): State<Broker>,
    Caller(who): Caller,
    Document(body): Document,
) -> Result<Json<Value>> {
    who.require(Role::Requester)?;
    Ok(Json(b.plan(&who, body).await?))
}
