//! How a cloud object is recognised as the one a spec names: its deterministic name, then the
//! `nuage:*` identity carried as Neutron tags (`key=value` strings) or as Nova/Cinder metadata.

use std::collections::BTreeMap;

use nuage_provider::{
    CloudId, Drift, Observed, Outputs, ResourceKind, ResourceMeta, ResourceState,
};

/// How an object with the right name relates to a spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Its identity tags match.
    Ours,
    /// It carries no `nuage:` tag at all: made by us before the tags were set (Neutron tags
    /// come in a second call), adopted.
    Untagged,
    /// It carries another identity: not ours.
    Foreign,
}

/// Neutron tags for an identity: `nuage:tenant=<tenant>`... sorted.
pub(crate) fn neutron_tags(meta: &ResourceMeta) -> Vec<String> {
    meta.tags()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect()
}

/// Whether Neutron tags designate this identity.
pub(crate) fn claim_tags(meta: &ResourceMeta, tags: &[String]) -> Claim {
    let pairs: Vec<(&str, &str)> = tags.iter().filter_map(|t| t.split_once('=')).collect();
    claim(meta, pairs)
}

/// Whether Nova or Cinder metadata designate this identity.
pub(crate) fn claim_metadata(meta: &ResourceMeta, metadata: &BTreeMap<String, String>) -> Claim {
    claim(
        meta,
        metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect(),
    )
}

fn claim(meta: &ResourceMeta, pairs: Vec<(&str, &str)>) -> Claim {
    if meta.matches_tags(pairs.iter().copied()) {
        Claim::Ours
    } else if pairs.iter().any(|(k, _)| k.starts_with("nuage:")) {
        Claim::Foreign
    } else {
        Claim::Untagged
    }
}

/// Splits found objects into the primary one and duplicates: tagged ones first, then (when
/// `adopt_untagged`) untagged ones; foreign ones are dropped.
pub(crate) fn pick<T>(
    found: Vec<T>,
    adopt_untagged: bool,
    claim_of: impl Fn(&T) -> Claim,
) -> Option<(T, Claim, Vec<T>)> {
    let mut ours = Vec::new();
    let mut untagged = Vec::new();
    for item in found {
        match claim_of(&item) {
            Claim::Ours => ours.push(item),
            Claim::Untagged if adopt_untagged => untagged.push(item),
            _ => {}
        }
    }
    let tagged = !ours.is_empty();
    let mut all = ours.into_iter().chain(untagged);
    let first = all.next()?;
    let claim = if tagged { Claim::Ours } else { Claim::Untagged };
    Some((first, claim, all.collect()))
}

/// An observation of a real (not simulated) OpenStack object.
pub(crate) fn observed(
    kind: ResourceKind,
    id: &str,
    state: ResourceState,
    native_state: &str,
) -> Observed {
    Observed {
        kind,
        cloud_id: CloudId::new(id),
        state,
        native_state: native_state.to_owned(),
        drift: Vec::<Drift>::new(),
        outputs: Outputs::default(),
        message: None,
        duplicates: Vec::new(),
        simulated: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_by_tags() {
        let meta = ResourceMeta::new("t1", "r1", "net").unwrap();
        let tags = neutron_tags(&meta);
        assert_eq!(tags[0], "nuage:managed=true");
        assert_eq!(claim_tags(&meta, &tags), Claim::Ours);
        assert_eq!(claim_tags(&meta, &[]), Claim::Untagged);
        assert_eq!(claim_tags(&meta, &["owner=ops".into()]), Claim::Untagged);
        let other = ResourceMeta::new("t2", "r1", "net").unwrap();
        assert_eq!(claim_tags(&meta, &neutron_tags(&other)), Claim::Foreign);
        assert_eq!(claim_metadata(&meta, &meta.tags()), Claim::Ours);
    }

    #[test]
    fn picks_tagged_first_and_reports_duplicates() {
        let meta = ResourceMeta::new("t1", "r1", "net").unwrap();
        let ours = neutron_tags(&meta);
        let foreign = neutron_tags(&ResourceMeta::new("x", "y", "net").unwrap());
        let found = vec![
            ("a", vec![]),
            ("b", ours.clone()),
            ("c", foreign),
            ("d", ours),
        ];
        let (first, claim, dups) =
            pick(found.clone(), true, |(_, t)| claim_tags(&meta, t)).unwrap();
        assert_eq!((first.0, claim), ("b", Claim::Ours));
        assert_eq!(dups.iter().map(|d| d.0).collect::<Vec<_>>(), vec!["d", "a"]);
        let (first, _, dups) = pick(found, false, |(_, t)| claim_tags(&meta, t)).unwrap();
        assert_eq!(first.0, "b");
        assert_eq!(dups.len(), 1);
    }
}
