//! Tenants and bearer tokens.
//!
//! A token is `nuage_` followed by 32 random bytes in base64url; it is shown once, when created,
//! and stored as its SHA-256 hash. Each token has a role (`requester` < `operator` < `admin`)
//! and a tenant; `operator` and `admin` tokens may be global (every tenant). Every route checks
//! the role it needs and the tenant of what it touches; another tenant's objects answer 404,
//! exactly as absent ones.

mod tokens;

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use tokens::{NewToken, TOKEN_PREFIX, TokenInfo, TokenStore, generate_token, hash_token};

use crate::error::{Error, Result};

/// What a token may do; each role includes the ones before it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Plans, submits, reads and deletes its tenant's requests; reads its tenant's audit.
    Requester,
    /// Also lists and acts on workflows (retry, cancel, compensate, resume).
    Operator,
    /// Also manages tokens.
    Admin,
}

impl Role {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Requester => "requester",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "requester" => Some(Role::Requester),
            "operator" => Some(Role::Operator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The caller, as its token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Principal {
    /// The token's id (not the secret).
    pub token_id: String,
    /// The token's name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its tenant; absent for a global operator or admin.
    pub tenant: Option<String>,
}

impl Principal {
    /// The actor string written in the audit log and workflow timelines.
    pub fn actor(&self) -> String {
        format!("token:{}", self.token_id)
    }

    /// Refuses (403) unless the role is at least `role`.
    pub fn require(&self, role: Role) -> Result<()> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this needs the {role} role; the token has {}",
                self.role
            )))
        }
    }

    /// Whether the caller may see objects of `tenant`.
    pub fn sees(&self, tenant: &str) -> bool {
        self.tenant.as_deref().is_none_or(|t| t == tenant)
    }

    /// Whether the token covers every tenant.
    pub fn is_global(&self) -> bool {
        self.tenant.is_none()
    }
}

/// Whether a tenant id is valid: 1 to 63 lower-case letters, digits and `-`, starting with a
/// letter and not ending with `-` (the request schema's rule).
pub fn valid_tenant(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_and_tenants_checked() {
        assert!(Role::Admin > Role::Operator && Role::Operator > Role::Requester);
        let p = Principal {
            token_id: "t".into(),
            name: "n".into(),
            role: Role::Operator,
            tenant: Some("dinum".into()),
        };
        assert!(p.require(Role::Requester).is_ok());
        assert!(p.require(Role::Operator).is_ok());
        assert!(matches!(p.require(Role::Admin), Err(Error::Forbidden(_))));
        assert!(p.sees("dinum") && !p.sees("min-culture"));
        assert!(valid_tenant("min-culture") && !valid_tenant("Min") && !valid_tenant("a-"));
    }
}
