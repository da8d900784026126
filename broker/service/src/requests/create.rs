//! Submitting a request: validate, check the tenant, honour the idempotency key, place with the
//! tenant's remaining quota and budget, store the request with its audit entry in one
//! transaction, then start its provisioning run.

use chrono::Utc;
use nuage_placement::{
    Decision, Money, PlacementContext, ServiceRequest, TenantLimits, place, request_digest,
};
use nuage_workflows::StartRequest;
use serde_json::Value;

use super::store::{self, Held, NewRequest};
use super::{RequestView, RunView};
use crate::audit::{self, NewEntry};
use crate::auth::{Principal, Role};
use crate::config::Quota;
use crate::db::{Tx, is_unique_violation, now_ms};
use crate::error::{Error, Result};
use crate::provision::{PROVISION, ProvisionInput, compile};
use crate::service::Broker;

/// A submission.
#[derive(Debug, Clone)]
pub struct Submission {
    /// The request document (JSON value, already parsed from JSON or YAML).
    pub body: Value,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// `?dryRun=true`: decide, store nothing.
    pub dry_run: bool,
}

/// The outcome of a submission.
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Stored and provisioning.
    Created(Box<RequestView>),
    /// The idempotency key named this earlier request with the same body.
    Replayed(Box<RequestView>),
    /// A dry run: the decision, nothing stored.
    DryRun(Box<Value>),
}

/// The start of a request's provisioning run (idempotent per request).
fn provision_start(input: &ProvisionInput, actor: &str) -> Result<StartRequest> {
    Ok(StartRequest::new(PROVISION, input)?
        .idempotency_key(format!("provision:{}", input.request))
        .label("tenant", &input.tenant)
        .label("request", &input.request)
        .actor(actor))
}

/// Longest accepted idempotency key.
const MAX_KEY: usize = 255;

impl Broker {
    /// Placement only: the decision for a request, with the tenant's remaining quota applied
    /// (a refusal is a valid answer here, not an error).
    pub async fn plan(&self, who: &Principal, body: Value) -> Result<Value> {
        who.require(Role::Requester)?;
        let request = ServiceRequest::from_json_value(body)?;
        self.check_tenant(who, &request)?;
        let quota = self.config().quota(&request.tenant);
        let held = if quota.is_unlimited() {
            Held::default()
        } else {
            store::held(self.db(), &request.tenant).await?
        };
        let decision = self.decide(&request, &quota, &held);
        Ok(serde_json::to_value(&decision)?)
    }

    /// Submits a request (see the module documentation).
    pub async fn submit(&self, who: &Principal, s: Submission) -> Result<Submitted> {
        who.require(Role::Requester)?;
        if let Some(k) = &s.idempotency_key
            && (k.is_empty() || k.len() > MAX_KEY || !k.chars().all(|c| c.is_ascii_graphic()))
        {
            return Err(Error::Malformed(format!(
                "the Idempotency-Key header must be 1 to {MAX_KEY} printable ASCII characters"
            )));
        }
        let request = ServiceRequest::from_json_value(s.body)?;
        self.check_tenant(who, &request)?;
        let digest = request_digest(&request);
        if let Some(key) = &s.idempotency_key
            && !s.dry_run
            && let Some(done) = self.replay(&request.tenant, key, &digest).await?
        {
            return Ok(done);
        }
        let quota = self.config().quota(&request.tenant);
        let id = uuid::Uuid::now_v7().to_string();

        if s.dry_run {
            let held = if quota.is_unlimited() {
                Held::default()
            } else {
                store::held(self.db(), &request.tenant).await?
            };
            let decision = self.decide(&request, &quota, &held);
            self.accept_or_refuse(&request, &quota, &held, &decision)?;
            compile(&id, &request, placement(&decision)?).map_err(Error::Invalid)?;
            return Ok(Submitted::DryRun(Box::new(serde_json::to_value(
                &decision,
            )?)));
        }

        // A tenant with a quota is serialized: usage is read and the request added under one lock.
        let (mut tx, decision) = if quota.is_unlimited() {
            let decision = self.decide(&request, &quota, &Held::default());
            self.accept_or_refuse(&request, &quota, &Held::default(), &decision)?;
            (self.db().begin().await?, decision)
        } else {
            let mut tx = self.db().begin().await?;
            crate::db::lock(&mut tx, &format!("tenant:{}", request.tenant)).await?;
            let held = store::held_in(&mut tx, &request.tenant).await?;
            let decision = self.decide(&request, &quota, &held);
            self.accept_or_refuse(&request, &quota, &held, &decision)?;
            (tx, decision)
        };
        let p = placement(&decision)?;
        let input = compile(&id, &request, p).map_err(Error::Invalid)?;
        let decision_json = serde_json::to_value(&decision)?;
        let request_json = serde_json::to_value(&request)?;
        let decision_digest = decision.digest();
        let simulated = self.providers().is_simulated(&p.binding.instance);
        let totals = request.totals();
        let row = NewRequest {
            id: id.clone(),
            tenant: request.tenant.clone(),
            name: request.name.clone(),
            idempotency_key: s.idempotency_key.clone(),
            body_digest: digest.clone(),
            request: request_json.to_string(),
            decision: decision_json.to_string(),
            decision_digest: decision_digest.clone(),
            plan: serde_json::to_string(&input)?,
            offer: p.offer.clone(),
            adapter: p.binding.adapter.as_str().to_owned(),
            instance: p.binding.instance.clone(),
            simulated,
            region: p.region.clone(),
            tier: p.tier.to_string(),
            monthly_micros: p.cost.monthly_total.micros(),
            vcpus: totals.vcpus as i64,
            ram_gib: totals.ram_gib as i64,
            storage_gib: totals.storage_gib as i64,
            created_at: now_ms(),
            created_by: who.actor(),
        };
        if let Err(e) = self.store_new(&mut tx, &row, who).await {
            drop(tx);
            return Err(self
                .explain_insert_failure(e, &request, s.idempotency_key.as_deref(), &digest)
                .await);
        }
        // The request, its audit entry and its provisioning run: one transaction.
        let run = self
            .engine()
            .start_in(&mut tx, provision_start(&input, &who.actor())?)
            .await?;
        tx.commit().await?;
        self.sealer().nudge();
        tracing::info!(
            request = %id, tenant = %row.tenant, offer = %row.offer, instance = %row.instance,
            simulated, "request accepted"
        );
        let view = RequestView {
            decision: Some(decision_json),
            request: Some(request_json),
            state: super::RequestState::Provisioning,
            provisioning: Some(RunView::started(run.id, input.steps.len())),
            ..store_row_view(&row)
        };
        Ok(Submitted::Created(Box::new(view)))
    }

    async fn store_new(&self, tx: &mut Tx, row: &NewRequest, who: &Principal) -> Result<()> {
        store::insert(tx, row).await?;
        audit::append(
            tx,
            &NewEntry::new(
                who.actor(),
                Some(&row.tenant),
                "request.create",
                format!("request/{}", row.id),
            )
            .request(&row.id)
            .decision(&row.decision_digest)
            .details(serde_json::json!({
                "name": row.name,
                "offer": row.offer,
                "instance": row.instance,
                "simulated": row.simulated,
                "monthly_eur": Money::from_micros(row.monthly_micros).euros(),
            })),
        )
        .await
    }

    /// Starts (or finds) the provisioning run of a request.
    pub(crate) async fn start_provisioning(
        &self,
        input: &ProvisionInput,
        actor: &str,
    ) -> Result<uuid::Uuid> {
        let started = self.engine().start(provision_start(input, actor)?).await?;
        Ok(started.id)
    }

    fn check_tenant(&self, who: &Principal, request: &ServiceRequest) -> Result<()> {
        match &who.tenant {
            Some(t) if *t != request.tenant => Err(Error::Forbidden(format!(
                "this token belongs to tenant {t}; it cannot submit requests for tenant {}",
                request.tenant
            ))),
            _ => Ok(()),
        }
    }

    fn decide(&self, request: &ServiceRequest, quota: &Quota, held: &Held) -> Decision {
        let tenant = (!quota.is_unlimited()).then(|| remaining(quota, held));
        place(
            request,
            &self.catalogue(),
            self.policy(),
            &PlacementContext {
                at: Utc::now(),
                tenant,
            },
        )
    }

    /// A refused placement is `quota-exceeded` when the same request would place without the
    /// tenant's limits, `refused` otherwise; both carry the decision record.
    fn accept_or_refuse(
        &self,
        request: &ServiceRequest,
        quota: &Quota,
        held: &Held,
        decision: &Decision,
    ) -> Result<()> {
        if decision.is_placed() {
            return Ok(());
        }
        let record = Box::new(serde_json::to_value(decision)?);
        if !quota.is_unlimited() {
            let free = place(
                request,
                &self.catalogue(),
                self.policy(),
                &PlacementContext::at(decision.decided_at),
            );
            if free.is_placed() {
                return Err(Error::QuotaExceeded {
                    detail: quota_detail(request, quota, held),
                    decision: Some(record),
                });
            }
        }
        Err(Error::Refused {
            summary: decision.refusal.as_ref().map_or_else(
                || "no offer may take this request".to_owned(),
                |r| r.summary.clone(),
            ),
            decision: record,
        })
    }

    async fn replay(&self, tenant: &str, key: &str, digest: &str) -> Result<Option<Submitted>> {
        let Some(row) = store::by_idempotency_key(self.db(), tenant, key).await? else {
            return Ok(None);
        };
        if row.body_digest != digest {
            return Err(Error::IdempotencyMismatch);
        }
        Ok(Some(Submitted::Replayed(Box::new(
            self.full_view(&row).await?,
        ))))
    }

    async fn explain_insert_failure(
        &self,
        e: Error,
        request: &ServiceRequest,
        key: Option<&str>,
        digest: &str,
    ) -> Error {
        if !is_unique_violation(&e) {
            return e;
        }
        if let Some(key) = key {
            match self.replay(&request.tenant, key, digest).await {
                Ok(Some(_)) => {
                    return Error::Conflict(
                        "a request with this Idempotency-Key was accepted at the same moment; retry to get it"
                            .to_owned(),
                    );
                }
                Err(e @ Error::IdempotencyMismatch) => return e,
                _ => {}
            }
        }
        Error::Conflict(format!(
            "tenant {} already has a live request named {}; delete it or choose another name",
            request.tenant, request.name
        ))
    }
}

fn placement(d: &Decision) -> Result<&nuage_placement::placement::decision::Placement> {
    d.placement
        .as_ref()
        .ok_or_else(|| Error::Internal("a placed decision has no placement".into()))
}

fn remaining(q: &Quota, held: &Held) -> TenantLimits {
    let left = |limit: Option<u64>, used: i64| limit.map(|l| l.saturating_sub(used.max(0) as u64));
    TenantLimits {
        vcpus: left(q.vcpus, held.vcpus),
        ram_gib: left(q.ram_gib, held.ram_gib),
        storage_gib: left(q.storage_gib, held.storage_gib),
        monthly_budget: q
            .monthly_budget_eur
            .map(|b| Money::from_micros((b.micros() - held.monthly_micros).max(0))),
    }
}

fn quota_detail(request: &ServiceRequest, q: &Quota, held: &Held) -> String {
    let t = request.totals();
    let left = remaining(q, held);
    let mut over = Vec::new();
    let mut check = |what: &str, asked: u64, left: Option<u64>, limit: Option<u64>| {
        if let (Some(left), Some(limit)) = (left, limit)
            && asked > left
        {
            over.push(format!("{what}: asks {asked}, {left} left of {limit}"));
        }
    };
    check("vcpus", t.vcpus, left.vcpus, q.vcpus);
    check("ram_gib", t.ram_gib, left.ram_gib, q.ram_gib);
    check(
        "storage_gib",
        t.storage_gib,
        left.storage_gib,
        q.storage_gib,
    );
    if over.is_empty()
        && let (Some(left), Some(limit)) = (left.monthly_budget, q.monthly_budget_eur)
    {
        over.push(format!(
            "monthly budget: {left} left of {limit}, below the cost of every allowed offer"
        ));
    }
    format!(
        "the tenant {}'s quota leaves no room for this request ({})",
        request.tenant,
        over.join("; ")
    )
}

fn store_row_view(r: &NewRequest) -> RequestView {
    use super::{CostView, PlacementView, RequestState, TotalsView, time};
    RequestView {
        id: r.id.clone(),
        name: r.name.clone(),
        tenant: r.tenant.clone(),
        state: RequestState::Accepted,
        simulated: r.simulated,
        created_at: time(r.created_at),
        created_by: r.created_by.clone(),
        delete_requested_at: None,
        placement: PlacementView {
            offer: r.offer.clone(),
            tier: r.tier.clone(),
            region: r.region.clone(),
            adapter: r.adapter.clone(),
            instance: r.instance.clone(),
            simulated: r.simulated,
        },
        cost: CostView {
            monthly_eur: Money::from_micros(r.monthly_micros).euros(),
            currency: "EUR".into(),
        },
        totals: TotalsView {
            vcpus: r.vcpus,
            ram_gib: r.ram_gib,
            storage_gib: r.storage_gib,
        },
        decision_digest: r.decision_digest.clone(),
        decision: None,
        request: None,
        resources: Vec::new(),
        provisioning: None,
        deprovisioning: None,
    }
}
