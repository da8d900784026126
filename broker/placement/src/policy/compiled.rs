//! A policy level compiled for fast evaluation: rule ids shared, tiers and countries as bit sets,
//! requirements sorted into the placement stage that evaluates them.

use super::{Check, GroupIdx, LevelPolicy, Requirement, RuleIdx, check_ref, unique_tiers};
use crate::country::CountrySet;
use crate::request::FieldError;
use crate::vocabulary::{Sensitivity, Tier, TierSet};
use std::collections::HashMap;
use std::sync::Arc;

/// One requirement, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledReq {
    pub(crate) rule: RuleIdx,
    pub(crate) check: Check,
    pub(crate) group: Option<(GroupIdx, Arc<CountrySet>)>,
    pub(crate) scope: TierSet,
}

impl CompiledReq {
    pub(crate) fn applies_to(&self, tier: Tier) -> bool {
        self.scope.contains(tier)
    }
}

/// One sensitivity level, ready to evaluate.
#[derive(Debug, Clone)]
pub(crate) struct CompiledLevel {
    pub(crate) refused_by: Option<RuleIdx>,
    pub(crate) tiers: TierSet,
    pub(crate) tier_rule: RuleIdx,
    /// SecNumCloud, HDS, DR: evaluated at the qualifications stage.
    pub(crate) qualification: Vec<CompiledReq>,
    /// Location groups and jurisdiction: evaluated at the location stage.
    pub(crate) location: Vec<CompiledReq>,
    /// Checks on the request itself (homologation reference).
    pub(crate) on_request: Vec<CompiledReq>,
    /// Soft requirements, reported as advisories on the chosen offer.
    pub(crate) advises: Vec<CompiledReq>,
}

impl CompiledLevel {
    pub(crate) fn refused(rule: RuleIdx) -> CompiledLevel {
        CompiledLevel {
            refused_by: Some(rule),
            tiers: TierSet::default(),
            tier_rule: rule,
            qualification: Vec::new(),
            location: Vec::new(),
            on_request: Vec::new(),
            advises: Vec::new(),
        }
    }

    pub(crate) fn compile(
        level: Sensitivity,
        lp: &LevelPolicy,
        path: &str,
        rules: &HashMap<String, RuleIdx>,
        groups: &HashMap<&str, (GroupIdx, Arc<CountrySet>)>,
        errors: &mut Vec<FieldError>,
    ) -> CompiledLevel {
        if level == Sensitivity::Classified && lp.refused_by.is_none() {
            errors.push(FieldError::new(
                format!("{path}.refused_by"),
                "classified data (IGI 1300) is outside every cloud: this level must be refused",
            ));
        }
        if let Some(rule) = &lp.refused_by {
            let rule = check_ref(rules, rule, &format!("{path}.refused_by"), errors);
            if !lp.tiers.is_empty() || !lp.requires.is_empty() || lp.tier_rule.is_some() {
                errors.push(FieldError::new(
                    path,
                    "a refused level takes no `tiers`, `tier_rule` or `requires`",
                ));
            }
            return CompiledLevel::refused(rule);
        }
        if lp.tiers.is_empty() {
            errors.push(FieldError::new(
                format!("{path}.tiers"),
                "list the tiers this level may go to, or refuse it with `refused_by`",
            ));
        }
        unique_tiers(&lp.tiers, &format!("{path}.tiers"), errors);
        let tier_rule = match &lp.tier_rule {
            Some(r) => check_ref(rules, r, &format!("{path}.tier_rule"), errors),
            None => {
                errors.push(FieldError::new(
                    format!("{path}.tier_rule"),
                    "missing: name the rule cited when an offer's tier is not allowed",
                ));
                RuleIdx::MISSING
            }
        };
        let mut out = CompiledLevel {
            refused_by: None,
            tiers: lp.tiers.iter().copied().collect(),
            tier_rule,
            qualification: Vec::new(),
            location: Vec::new(),
            on_request: Vec::new(),
            advises: Vec::new(),
        };
        for (i, req) in lp.requires.iter().enumerate() {
            let c = compile_req(req, &format!("{path}.requires[{i}]"), rules, groups, errors);
            match c.check {
                Check::SecnumcloudQualified | Check::HdsCertified | Check::DrCapable => {
                    out.qualification.push(c)
                }
                Check::LocationIn | Check::NoNonEuControl | Check::NoNonEuTechnology => {
                    out.location.push(c)
                }
                Check::HomologationReference => out.on_request.push(c),
            }
        }
        for (i, req) in lp.advises.iter().enumerate() {
            let p = format!("{path}.advises[{i}]");
            if req.check == Check::HomologationReference {
                errors.push(FieldError::new(
                    format!("{p}.check"),
                    "homologation_reference is a hard requirement on the request; put it in `requires`",
                ));
            }
            let c = compile_req(req, &p, rules, groups, errors);
            out.advises.push(c);
        }
        out
    }
}

fn compile_req(
    req: &Requirement,
    path: &str,
    rules: &HashMap<String, RuleIdx>,
    groups: &HashMap<&str, (GroupIdx, Arc<CountrySet>)>,
    errors: &mut Vec<FieldError>,
) -> CompiledReq {
    let rule = check_ref(rules, &req.rule, &format!("{path}.rule"), errors);
    unique_tiers(&req.tiers, &format!("{path}.tiers"), errors);
    let group = match (req.check, &req.group) {
        (Check::LocationIn, Some(name)) => match groups.get(name.as_str()) {
            Some(g) => Some(g.clone()),
            None => {
                errors.push(FieldError::new(
                    format!("{path}.group"),
                    format!("no country group {name:?} is defined in `country_groups`"),
                ));
                None
            }
        },
        (Check::LocationIn, None) => {
            errors.push(FieldError::new(
                format!("{path}.group"),
                "location_in needs the country group to check against",
            ));
            None
        }
        (_, Some(_)) => {
            errors.push(FieldError::new(
                format!("{path}.group"),
                "only a location_in check takes a group",
            ));
            None
        }
        (_, None) => None,
    };
    let scope = if req.tiers.is_empty() {
        Tier::ALL.into_iter().collect()
    } else {
        req.tiers.iter().copied().collect()
    };
    CompiledReq {
        rule,
        check: req.check,
        group,
        scope,
    }
}
