//! `nuage offers`.

use super::load_sources;
use crate::args::{Format, OffersCommand};
use crate::output;
use nuage_placement::Tier;
use std::process::ExitCode;

pub(crate) fn run(cmd: OffersCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OffersCommand::List {
            sources,
            tier,
            output: format,
            ..
        } => {
            let (catalogue, _) = load_sources(&sources)?;
            let tier: Option<Tier> = tier.map(Into::into);
            let offers: Vec<_> = catalogue
                .offers()
                .iter()
                .filter(|o| tier.is_none_or(|t| o.tier == t))
                .map(|o| o.as_ref())
                .collect();
            match format {
                Format::Table => print!("{}", output::offers_table(&offers)),
                f => output::print_structured(&offers, f)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
