//! The `/v1` routes the client calls, in one place (see `docs/api.md`).

/// Service requests.
pub(crate) const REQUESTS: &str = "/v1/requests";
/// Workflow runs.
pub(crate) const WORKFLOWS: &str = "/v1/workflows";
/// Placement without submission.
pub(crate) const PLAN: &str = "/v1/plan";
/// The catalogue's offers.
pub(crate) const OFFERS: &str = "/v1/offers";
/// The audit log.
pub(crate) const AUDIT: &str = "/v1/audit";
/// The audit chain's verification.
pub(crate) const AUDIT_VERIFY: &str = "/v1/audit/verify";
/// Tokens.
pub(crate) const TOKENS: &str = "/v1/tokens";
/// The simulated clouds.
pub(crate) const SIM: &str = "/v1/admin/sim";

/// One request.
pub(crate) fn request(id: &str) -> String {
    format!("{REQUESTS}/{}", segment(id))
}

/// One workflow run (its timeline).
pub(crate) fn workflow(id: &str) -> String {
    format!("{WORKFLOWS}/{}", segment(id))
}

/// An operator action on a run (`retry`, `cancel`, `compensate`, `resume`).
pub(crate) fn workflow_action(id: &str, action: &str) -> String {
    format!("{WORKFLOWS}/{}/{action}", segment(id))
}

/// One token.
pub(crate) fn token(id: &str) -> String {
    format!("{TOKENS}/{}", segment(id))
}

/// The faults of a simulated instance.
pub(crate) fn sim_faults(instance: &str) -> String {
    format!("{SIM}/{}/faults", segment(instance))
}

/// What to do when an id is not found.
pub(crate) fn not_found_hint(what: &str, id: &str) -> String {
    format!(
        "no {what} {id} is visible to this token: it may not exist, or belong to another tenant than the token's; list what you can see with `nuage {what}s list`"
    )
}

/// Percent-encodes an id for a path segment (ids are plain, but a typo should not change the
/// route).
fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_change_the_route() {
        assert_eq!(request("0190-ab"), "/v1/requests/0190-ab");
        assert_eq!(workflow("../tokens"), "/v1/workflows/..%2Ftokens");
        assert_eq!(workflow_action("w 1", "retry"), "/v1/workflows/w%201/retry");
    }
}
