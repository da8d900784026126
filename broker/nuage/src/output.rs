//! Rendering: kubectl-like tables for people, JSON and YAML for programs.

use crate::args::Format;
use comfy_table::{Table, presets};
use nuage_placement::placement::decision::{Candidate, Verdict};
use nuage_placement::{Decision, Offer, Policy};
use serde::Serialize;
use std::fmt::Write;

/// Prints a value as JSON or YAML.
pub(crate) fn print_structured<T: Serialize>(value: &T, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(value)?),
        Format::Yaml | Format::Table => print!("{}", serde_saphyr::to_string(value)?),
    }
    Ok(())
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(header.iter().copied());
    t
}

fn short(digest: &str) -> &str {
    &digest[..digest.len().min(19)]
}

/// The decision for a person: the outcome, its cost, then every offer's fate.
pub(crate) fn decision_table(d: &Decision, policy: &Policy) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Request    {} (tenant {}), {} data",
        d.request.name, d.request.tenant, d.request.sensitivity
    );
    let _ = writeln!(
        s,
        "Policy     {} {} ({}…)   Catalogue {} offers ({}…)   Decided at {}",
        d.policy.id,
        d.policy.version,
        short(&d.policy.digest),
        d.catalogue.offers,
        short(&d.catalogue.digest),
        d.decided_at.format("%Y-%m-%dT%H:%M:%SZ")
    );
    s.push('\n');
    if let Some(p) = &d.placement {
        let _ = writeln!(
            s,
            "PLACED on {} ({}, {}): tier {}, region {} ({}), through {}/{}",
            p.offer,
            p.offer_name,
            p.operator,
            p.tier,
            p.region,
            p.country,
            p.binding.adapter.as_str(),
            p.binding.instance
        );
        let _ = writeln!(
            s,
            "Estimated cost {}/month{}",
            p.cost.monthly_total,
            if p.cost.estimate {
                " (prices are estimates)"
            } else {
                ""
            }
        );
        let mut t = table(&["  ITEM", "BASIS", "QUANTITY", "UNIT PRICE", "MONTHLY"]);
        for l in &p.cost.lines {
            t.add_row(vec![
                format!("  {}", l.item),
                l.basis.clone(),
                l.quantity.to_string(),
                format!("{:.4} EUR/{}", l.unit_price.euros(), l.unit),
                l.monthly.to_string(),
            ]);
        }
        let _ = writeln!(s, "{t}");
    }
    if let Some(r) = &d.refusal {
        let _ = writeln!(s, "REFUSED: {}", r.summary);
        for tf in &r.tiers {
            let _ = writeln!(s, "  {} ({} offers):", tf.tier, tf.offers);
            for reason in &tf.reasons {
                let title = policy.rule(&reason.rule).map_or("", |r| r.title.as_str());
                let _ = writeln!(
                    s,
                    "    {} {} ({} offers, {} stage), e.g. {}",
                    reason.rule, title, reason.offers, reason.stage, reason.example
                );
            }
        }
    }
    if !d.advisories.is_empty() {
        s.push_str("\nAdvisories\n");
        for a in &d.advisories {
            match &a.rule {
                Some(r) => {
                    let _ = writeln!(s, "  - {r}: {}", a.message);
                }
                None => {
                    let _ = writeln!(s, "  - {}", a.message);
                }
            }
        }
    }
    s.push('\n');
    let mut t = table(&["OFFER", "TIER", "VERDICT", "MONTHLY", "WHY"]);
    for c in d.candidates.iter() {
        t.add_row(candidate_row(&c));
    }
    let _ = writeln!(s, "{t}");
    s
}

fn candidate_row(c: &Candidate<'_>) -> Vec<String> {
    match c.verdict {
        Verdict::Ranked {
            rank,
            monthly,
            delta,
        } => vec![
            c.offer.id.clone(),
            c.offer.tier.to_string(),
            if *rank == 1 {
                "chosen".into()
            } else {
                format!("eligible #{rank}")
            },
            monthly.to_string(),
            if *rank == 1 {
                "cheapest allowed offer".into()
            } else {
                format!("+{delta}")
            },
        ],
        Verdict::Eliminated(e) => vec![
            c.offer.id.clone(),
            c.offer.tier.to_string(),
            "eliminated".into(),
            String::new(),
            format!(
                "{} ({}): {}",
                c.rule().unwrap_or_default(),
                e.stage,
                c.explain().map(|x| x.reason).unwrap_or_default()
            ),
        ],
    }
}

/// The offers for a person.
pub(crate) fn offers_table(offers: &[&Offer]) -> String {
    let mut t = table(&[
        "ID",
        "TIER",
        "OPERATOR",
        "REGIONS",
        "SECNUMCLOUD",
        "HDS",
        "BINDING",
        "PRICE",
    ]);
    for o in offers {
        let price = match (&o.pricing.vcpu_hour, o.pricing.flavors.first()) {
            (Some(v), _) => format!("{:.4} EUR/vCPU-h", v.euros()),
            (None, Some(f)) => format!("from {:.4} EUR/h ({})", f.hour.euros(), f.name),
            (None, None) => String::new(),
        };
        t.add_row(vec![
            o.id.clone(),
            o.tier.to_string(),
            o.operator.clone(),
            o.regions
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(","),
            serde_json::to_value(o.secnumcloud.status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            if o.hds.certified {
                "yes".into()
            } else {
                "no".into()
            },
            format!("{}/{}", o.binding.adapter.as_str(), o.binding.instance),
            format!(
                "{price}{}",
                if o.pricing.estimate {
                    " (estimate)"
                } else {
                    ""
                }
            ),
        ]);
    }
    format!("{t}\n")
}
