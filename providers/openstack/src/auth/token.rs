//! Keystone v3 token requests and what a token says.

use chrono::{DateTime, Utc};
use nuage_provider::Secret;
use serde::Deserialize;
use serde_json::{Value, json};

use super::catalog::Catalog;
use crate::config::Scope;

/// Resolved credentials: the secrets are read, and only sent in the token request.
#[derive(Clone, Debug)]
pub(crate) enum Identity {
    Password {
        username: String,
        user_domain: String,
        password: Secret,
    },
    ApplicationCredential {
        id: Option<String>,
        name: Option<String>,
        username: Option<String>,
        user_id: Option<String>,
        user_domain: String,
        secret: Secret,
    },
}

impl Identity {
    /// The body of `POST /v3/auth/tokens`. Holds the secret: built right before sending,
    /// never logged.
    pub(crate) fn request_body(&self, scope: Option<&Scope>) -> Value {
        let identity = match self {
            Identity::Password {
                username,
                user_domain,
                password,
            } => json!({
                "methods": ["password"],
                "password": {"user": {
                    "name": username,
                    "domain": {"name": user_domain},
                    "password": password.expose(),
                }}
            }),
            Identity::ApplicationCredential {
                id,
                name,
                username,
                user_id,
                user_domain,
                secret,
            } => {
                let mut credential = json!({"secret": secret.expose()});
                if let Some(id) = id {
                    credential["id"] = json!(id);
                } else {
                    credential["name"] = json!(name);
                    credential["user"] = match user_id {
                        Some(user_id) => json!({"id": user_id}),
                        None => json!({"name": username, "domain": {"name": user_domain}}),
                    };
                }
                json!({
                    "methods": ["application_credential"],
                    "application_credential": credential,
                })
            }
        };
        let mut auth = json!({"identity": identity});
        if let Some(scope) = scope {
            auth["scope"] = match scope {
                Scope::Project { id: Some(id), .. } => json!({"project": {"id": id}}),
                Scope::Project { name, domain, .. } => {
                    json!({"project": {"name": name, "domain": {"name": domain}}})
                }
                Scope::Domain { id: Some(id), .. } => json!({"domain": {"id": id}}),
                Scope::Domain { name, .. } => json!({"domain": {"name": name}}),
            };
        }
        json!({"auth": auth})
    }
}

/// A Keystone token and what came with it.
#[derive(Clone, Debug)]
pub struct Token {
    /// The token itself (`X-Subject-Token`), redacted in Debug.
    pub value: Secret,
    /// When Keystone stops accepting it.
    pub expires_at: DateTime<Utc>,
    /// When Keystone issued it.
    pub issued_at: DateTime<Utc>,
    /// Services it may call.
    pub catalog: Catalog,
    /// Project it is scoped to, if any.
    pub project_id: Option<String>,
    /// Domain it is scoped to, if any.
    pub domain_id: Option<String>,
    /// The user.
    pub user_id: String,
    /// Role names granted.
    pub roles: Vec<String>,
}

#[derive(Deserialize)]
pub(crate) struct TokenBody {
    token: TokenData,
}

#[derive(Deserialize)]
struct TokenData {
    expires_at: DateTime<Utc>,
    issued_at: DateTime<Utc>,
    #[serde(default)]
    catalog: Catalog,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    domain: Option<Named>,
    user: Named,
    #[serde(default)]
    roles: Vec<RoleRef>,
}

#[derive(Deserialize)]
struct Named {
    id: String,
}

#[derive(Deserialize)]
struct RoleRef {
    name: String,
}

impl TokenBody {
    pub(crate) fn into_token(self, value: Secret) -> Token {
        let t = self.token;
        Token {
            value,
            expires_at: t.expires_at,
            issued_at: t.issued_at,
            catalog: t.catalog,
            project_id: t.project.map(|p| p.id),
            domain_id: t.domain.map(|d| d.id),
            user_id: t.user.id,
            roles: t.roles.into_iter().map(|r| r.name).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bodies_follow_keystone_v3() {
        let password = Identity::Password {
            username: "u".into(),
            user_domain: "Default".into(),
            password: Secret::new("pw"),
        };
        let body = password.request_body(Some(&Scope::project("p", "D")));
        assert_eq!(
            body["auth"]["identity"]["password"]["user"]["password"],
            "pw"
        );
        assert_eq!(body["auth"]["scope"]["project"]["domain"]["name"], "D");
        let body = password.request_body(Some(&Scope::Domain {
            id: Some("d1".into()),
            name: None,
        }));
        assert_eq!(body["auth"]["scope"], json!({"domain": {"id": "d1"}}));

        let by_name = Identity::ApplicationCredential {
            id: None,
            name: Some("ci".into()),
            username: Some("u".into()),
            user_id: None,
            user_domain: "Default".into(),
            secret: Secret::new("s"),
        };
        let body = by_name.request_body(None);
        assert_eq!(
            body["auth"]["identity"]["methods"],
            json!(["application_credential"])
        );
        assert_eq!(
            body["auth"]["identity"]["application_credential"]["user"],
            json!({"name": "u", "domain": {"name": "Default"}})
        );
        assert!(body["auth"].get("scope").is_none());
    }

    #[test]
    fn reads_a_token_response() {
        let body: TokenBody = serde_json::from_value(json!({"token": {
            "methods": ["password"],
            "expires_at": "2026-11-29T05:00:00.000000Z",
            "issued_at": "2026-11-29T04:00:00.000000Z",
            "user": {"id": "u1", "name": "nuage", "domain": {"id": "default"}},
            "project": {"id": "p1", "name": "nuage", "domain": {"id": "default"}},
            "roles": [{"id": "r", "name": "member"}],
            "catalog": [{"type": "compute", "endpoints": []}]
        }}))
        .unwrap();
        let token = body.into_token(Secret::new("gAAAA"));
        assert_eq!(token.project_id.as_deref(), Some("p1"));
        assert_eq!(token.roles, vec!["member"]);
        assert_eq!((token.expires_at - token.issued_at).num_seconds(), 3600);
        assert!(!format!("{token:?}").contains("gAAAA"));
    }
}
