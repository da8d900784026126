//! `nuage plan` and `nuage validate`.

use super::{load_sources, read_input};
use crate::args::{Format, PlanArgs, ValidateArgs};
use crate::exit::{Exit, REFUSED, from_placement};
use crate::output;
use chrono::{DateTime, NaiveDate, Utc};
use nuage_placement::{PlacementContext, ServiceRequest, place};
use std::process::ExitCode;

pub(crate) fn plan(args: PlanArgs) -> anyhow::Result<ExitCode> {
    let at = match &args.at {
        Some(s) => parse_date(s)?,
        None => Utc::now(),
    };
    let text = read_input(&args.file)?;
    let request = ServiceRequest::from_yaml(&text).map_err(|e| from_placement("the request", e))?;
    let (catalogue, policy) = load_sources(&args.sources)?;
    let decision = place(&request, &catalogue, &policy, &PlacementContext::at(at));
    match args.output {
        Format::Table => print!("{}", output::decision_table(&decision, &policy)),
        f => output::print_structured(&decision, f)?,
    }
    Ok(if decision.is_placed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(REFUSED)
    })
}

pub(crate) fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let (catalogue, policy) = load_sources(&args.sources)?;
    if let Some(file) = &args.file {
        let text = read_input(file)?;
        let request =
            ServiceRequest::from_yaml(&text).map_err(|e| from_placement("the request", e))?;
        println!(
            "request {} of tenant {} is valid ({} data)",
            request.name, request.tenant, request.sensitivity.level
        );
    }
    if args.sources.catalogue.is_some() {
        println!(
            "catalogue is valid: {} offers, {}",
            catalogue.offers().len(),
            catalogue.digest()
        );
    }
    if args.sources.policy.is_some() {
        println!("policy {} {} is valid", policy.id(), policy.version());
    }
    Ok(ExitCode::SUCCESS)
}

/// `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
fn parse_date(s: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    DateTime::parse_from_rfc3339(s)
        .map(|d| d.with_timezone(&Utc))
        .map_err(|_| {
            Exit {
                code: crate::exit::INVALID_INPUT,
                message: format!("--at {s:?}: expected YYYY-MM-DD or an RFC 3339 timestamp"),
            }
            .into()
        })
}
