//! `/v1/admin/sim`: the faults of the simulated clouds (global admin). A simulated instance
//! fails on demand, so a platform team can rehearse failures (a quota refused, a cloud that
//! throttles or times out) end to end: the workflow fails, an operator repairs and retries.
//! Simulated clouds live in each broker process: with several replicas, set the faults on each.

use axum::Json;
use axum::extract::{Path, State};
use nuage_provider::sim::{FaultRates, FaultRule, SimCloud};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::extract::{Caller, Document};
use crate::audit::{self, NewEntry};
use crate::auth::{Principal, Role};
use crate::error::{Error, Problem, Result, field};
use crate::service::Broker;

/// The faults of a simulated instance.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimFaultsView {
    /// The simulated instance (ignored in a request body: the path names it).
    #[serde(default)]
    pub instance: String,
    /// Random faults: `transient`, `throttle`, `lost_response` (probabilities per call, 0 to
    /// 1) and `throttle_retry_after_ms`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub rates: FaultRates,
    /// Scripted faults, tried in order before the rates: `{on: create, kind: server,
    /// resource: web-1, fail: quota, times: 1}` (matchers optional; one effect of `fail`,
    /// `fail_after_effect` or `delay_ms`; `times` absent means every matching call).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub rules: Vec<FaultRule>,
    /// Faults injected since the broker started (ignored in a request body).
    #[serde(default)]
    pub injected: u64,
}

/// Every simulated instance.
#[derive(Debug, Serialize, ToSchema)]
pub struct SimList {
    /// Simulated instances, by name.
    pub items: Vec<SimFaultsView>,
}

fn view(instance: &str, sim: &SimCloud) -> SimFaultsView {
    SimFaultsView {
        instance: instance.to_owned(),
        rates: sim.faults().rates(),
        rules: sim.faults().rules(),
        injected: sim.faults().injected(),
    }
}

fn global_admin(who: &Principal) -> Result<()> {
    who.require(Role::Admin)?;
    if !who.is_global() {
        return Err(Error::Forbidden(
            "the simulated clouds are shared by every tenant: a global admin token is needed"
                .into(),
        ));
    }
    Ok(())
}

fn simulated(b: &Broker, instance: &str) -> Result<Arc<SimCloud>> {
    b.providers()
        .sim(instance)
        .ok_or_else(|| Error::NotFound(format!("simulated instance {instance}")))
}

async fn record(b: &Broker, who: &Principal, action: &str, instance: &str) -> Result<()> {
    let mut tx = b.db().begin().await?;
    audit::append(
        &mut tx,
        &NewEntry::new(who.actor(), None, action, format!("sim/{instance}")),
    )
    .await?;
    tx.commit().await?;
    b.sealer().nudge();
    Ok(())
}

/// List the simulated instances and their faults (global admin).
#[utoipa::path(
    get, path = "/v1/admin/sim", tag = "sim", operation_id = "listSimulated",
    responses((status = 200, description = "Simulated instances", body = SimList)),
    security(("bearer" = []))
)]
pub async fn list(State(b): State<Broker>, Caller(who): Caller) -> Result<Json<SimList>> {
    global_admin(&who)?;
    let providers = b.providers();
    let items = providers
        .list()
        .into_iter()
        .filter_map(|p| providers.sim(&p.instance).map(|s| view(&p.instance, &s)))
        .collect();
    Ok(Json(SimList { items }))
}

/// Replace a simulated instance's faults (global admin).
///
/// The rates and rules given replace those in force; `{}` clears them.
#[utoipa::path(
    put, path = "/v1/admin/sim/{instance}/faults", tag = "sim", operation_id = "setSimFaults",
    params(("instance" = String, Path, description = "A simulated provider instance")),
    request_body(content = SimFaultsView, content_type = "application/json"),
    responses(
        (status = 200, description = "The faults now in force", body = SimFaultsView),
        (status = 404, description = "No simulated instance of this name", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid rates or rules", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn set(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(instance): Path<String>,
    Document(body): Document,
) -> Result<Json<SimFaultsView>> {
    global_admin(&who)?;
    let sim = simulated(&b, &instance)?;
    let asked: SimFaultsView = serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        Error::Invalid(vec![field(
            if path == "." { String::new() } else { path },
            e.into_inner().to_string(),
        )])
    })?;
    let r = &asked.rates;
    let mut bad = Vec::new();
    for (name, p) in [
        ("transient", r.transient),
        ("throttle", r.throttle),
        ("lost_response", r.lost_response),
    ] {
        if !(0.0..=1.0).contains(&p) {
            bad.push(field(format!("rates.{name}"), "a probability, 0 to 1"));
        }
    }
    if r.transient + r.throttle + r.lost_response > 1.0 {
        bad.push(field("rates", "the probabilities add up to more than 1"));
    }
    if !bad.is_empty() {
        return Err(Error::Invalid(bad));
    }
    record(&b, &who, "sim.faults.set", &instance).await?;
    sim.faults().clear();
    sim.faults().set(asked.rates);
    for rule in asked.rules {
        sim.faults().push(rule);
    }
    tracing::info!(instance = %instance, simulated = true, "simulated faults set");
    Ok(Json(view(&instance, &sim)))
}

/// Clear a simulated instance's faults (global admin): it behaves again.
#[utoipa::path(
    delete, path = "/v1/admin/sim/{instance}/faults", tag = "sim", operation_id = "clearSimFaults",
    params(("instance" = String, Path, description = "A simulated provider instance")),
    responses(
        (status = 200, description = "No fault in force", body = SimFaultsView),
        (status = 404, description = "No simulated instance of this name", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn clear(
    State(b): State<Broker>,
    Caller(who): Caller,
    Path(instance): Path<String>,
) -> Result<Json<SimFaultsView>> {
    global_admin(&who)?;
    let sim = simulated(&b, &instance)?;
    record(&b, &who, "sim.faults.clear", &instance).await?;
    sim.faults().clear();
    tracing::info!(instance = %instance, simulated = true, "simulated faults cleared");
    Ok(Json(view(&instance, &sim)))
}
