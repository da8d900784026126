//! `nuage plan` and `nuage offers list` against a running broker (when `--remote`, `--server` or
//! `--context` is given), and what the remote commands share: reading a request document.

use super::read_input;
use crate::args::{Format, PlanArgs, Sources, TierArg};
use crate::client::session::print_value;
use crate::client::table::{self, Col, at, s};
use crate::client::{GlobalArgs, Session, routes};
use crate::exit::{Exit, REFUSED};
use serde_json::Value;
use std::fmt::Write;
use std::path::Path;
use std::process::ExitCode;

/// Reads a request document (YAML or JSON; `-` is standard input) as JSON, refusing one that is
/// not well formed before anything is sent.
pub(crate) fn read_document(path: &Path) -> anyhow::Result<Value> {
    let text = read_input(path)?;
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    let value: Value = serde_saphyr::from_str_with_options(&text, options).map_err(|e| {
        Exit::invalid(format!(
            "{} is not well-formed YAML or JSON: {e}",
            path.display()
        ))
    })?;
    if !value.is_object() {
        return Err(Exit::invalid(format!(
            "{}: a request is a mapping (api_version, name, tenant, sensitivity, resources...)",
            path.display()
        ))
        .into());
    }
    Ok(value)
}

/// Refuses the offline-only flags in a remote command: the broker has its own catalogue,
/// policy and clock.
fn offline_only(sources: &Sources, at: Option<&str>) -> anyhow::Result<()> {
    if sources.catalogue.is_some() || sources.policy.is_some() || at.is_some() {
        return Err(Exit {
            code: crate::exit::USAGE,
            message: "--catalogue, --policy and --at apply offline only: the broker decides with its own catalogue, policy and clock (drop --remote/--server/--context to decide here)".into(),
        }
        .into());
    }
    Ok(())
}

/// `nuage plan -f FILE --remote`: the broker's decision, with the tenant's remaining quota.
pub(crate) fn plan(args: &PlanArgs, flags: &GlobalArgs) -> anyhow::Result<ExitCode> {
    offline_only(&args.sources, args.at.as_deref())?;
    let output = args.output;
    let body = read_document(&args.file)?;
    let session = Session::open(flags)?;
    let decision = session
        .client
        .send(crate::client::http::Call::post(routes::PLAN).json(&body))?;
    // the broker may wrap the record ({"decision": {...}})
    let decision = match decision.get("decision") {
        Some(d) if d.is_object() => d.clone(),
        _ => decision,
    };
    match output {
        Format::Table => print!("{}", decision_table(&decision)),
        f => print_value(&decision, f)?,
    }
    let placed = s(&decision, "outcome") == "placed"
        || decision.get("placement").is_some_and(Value::is_object);
    Ok(if placed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REFUSED)
    })
}

/// A decision record (as JSON) for a person.
pub(crate) fn decision_table(d: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Request    {} (tenant {}), {} data",
        s(d, "request.name"),
        s(d, "request.tenant"),
        s(d, "request.sensitivity")
    );
    let _ = writeln!(
        out,
        "Policy     {} {}   Catalogue {} offers   Decided at {}\n",
        s(d, "policy.id"),
        s(d, "policy.version"),
        s(d, "catalogue.offers"),
        s(d, "decided_at")
    );
    if let Some(p) = d.get("placement").filter(|p| p.is_object()) {
        let _ = writeln!(
            out,
            "PLACED on {} ({}, {}): tier {}, region {} ({}), through {}/{}",
            s(p, "offer"),
            s(p, "offer_name"),
            s(p, "operator"),
            s(p, "tier"),
            s(p, "region"),
            s(p, "country"),
            s(p, "binding.adapter"),
            s(p, "binding.instance")
        );
        let _ = writeln!(
            out,
            "Estimated cost {} EUR/month",
            s(p, "cost.monthly_total")
        );
    }
    if let Some(r) = d.get("refusal").filter(|r| r.is_object()) {
        let _ = writeln!(out, "REFUSED: {}", s(r, "summary"));
        for t in r
            .get("tiers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let _ = writeln!(out, "  {} ({} offers):", s(t, "tier"), s(t, "offers"));
            for reason in t
                .get("reasons")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let _ = writeln!(
                    out,
                    "    {} ({} offers), e.g. {}",
                    s(reason, "rule"),
                    s(reason, "offers"),
                    s(reason, "example")
                );
            }
        }
    }
    for a in d
        .get("advisories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let _ = writeln!(out, "  - {}", s(a, "message"));
    }
    let candidates = d.get("candidates").and_then(Value::as_array);
    if let Some(c) = candidates {
        out.push('\n');
        let rows = c
            .iter()
            .map(|c| {
                let verdict = match s(c, "verdict").as_str() {
                    "eligible" => format!("eligible #{}", s(c, "rank")),
                    v => v.to_owned(),
                };
                let why = match s(c, "verdict").as_str() {
                    "chosen" => "cheapest allowed offer".to_owned(),
                    "eligible" => format!("+{} EUR", s(c, "delta_eur")),
                    _ => format!("{} ({}): {}", s(c, "rule"), s(c, "stage"), s(c, "reason")),
                };
                vec![
                    Col::plain(s(c, "offer")),
                    Col::plain(s(c, "tier")),
                    Col::plain(verdict),
                    Col::plain(s(c, "monthly_eur")),
                    Col::plain(why),
                ]
            })
            .collect();
        out.push_str(&table::render(
            &["OFFER", "TIER", "VERDICT", "MONTHLY", "WHY"],
            rows,
        ));
    }
    out
}

/// `nuage offers list --remote`: the broker's catalogue.
pub(crate) fn offers(
    sources: &Sources,
    tier: Option<TierArg>,
    output: Format,
    flags: &GlobalArgs,
) -> anyhow::Result<ExitCode> {
    offline_only(sources, None)?;
    let tier = tier.map(|t| nuage_placement::Tier::from(t).to_string());
    let tier = tier.as_deref();
    let session = Session::open(flags)?;
    let v = session
        .client
        .send(crate::client::http::Call::get(routes::OFFERS).query("tier", tier))?;
    let items: Vec<Value> = match &v {
        Value::Array(a) => a.clone(),
        other => other
            .get("items")
            .or_else(|| other.get("offers"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    };
    let items: Vec<Value> = items
        .into_iter()
        .filter(|o| tier.is_none_or(|t| s(o, "tier") == t))
        .collect();
    match output {
        Format::Table => {
            let rows = items
                .iter()
                .map(|o| {
                    vec![
                        Col::plain(s(o, "id")),
                        Col::plain(s(o, "tier")),
                        Col::plain(s(o, "operator")),
                        Col::plain(
                            at(o, "offer.regions")
                                .as_array()
                                .map(|r| {
                                    r.iter()
                                        .map(|x| {
                                            if x.is_object() {
                                                s(x, "id")
                                            } else {
                                                table::text(x)
                                            }
                                        })
                                        .collect::<Vec<_>>()
                                        .join(",")
                                })
                                .unwrap_or_default(),
                        ),
                        Col::plain(s(o, "offer.secnumcloud.status")),
                        Col::plain(format!(
                            "{}/{}{}",
                            s(o, "provider.adapter"),
                            s(o, "provider.instance"),
                            if at(o, "simulated").as_bool() == Some(true) {
                                " (simulated)"
                            } else {
                                ""
                            }
                        )),
                    ]
                })
                .collect();
            print!(
                "{}",
                table::render(
                    &[
                        "ID",
                        "TIER",
                        "OPERATOR",
                        "REGIONS",
                        "SECNUMCLOUD",
                        "BINDING"
                    ],
                    rows
                )
            );
        }
        f => print_value(&Value::Array(items), f)?,
    }
    Ok(ExitCode::SUCCESS)
}
