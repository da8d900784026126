//! Token creation, verification (with a short cache), listing, revocation and the bootstrap
//! admin token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use nuage_provider::Secret;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::{Principal, Role, valid_tenant};
use crate::audit::{self, NewEntry};
use crate::db::{Db, args, now_ms};
use crate::error::{Error, Result};

/// Every token starts with this.
pub const TOKEN_PREFIX: &str = "nuage_";
const CACHE_MAX: usize = 10_000;

/// A new random token: `nuage_` + 32 random bytes in base64url (43 characters).
pub fn generate_token() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// The stored form of a token: SHA-256, hex.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// What to create.
#[derive(Debug, Clone)]
pub struct NewToken {
    /// A label for people (`ci-pipeline`, `alice`).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its tenant; `None` for a global operator or admin.
    pub tenant: Option<String>,
}

/// A token as listed (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct TokenInfo {
    /// Token id (`tok_…`), used to revoke it.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Its tenant; absent for a global token.
    pub tenant: Option<String>,
    /// Creation time, epoch ms.
    pub created_at: i64,
    /// Who created it.
    pub created_by: String,
    /// Revocation time, epoch ms.
    pub revoked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: String,
    name: String,
    role: String,
    tenant: Option<String>,
}

/// Tokens in the database, with a cache of verified ones.
#[derive(Debug, Clone)]
pub struct TokenStore {
    db: Db,
    ttl: Duration,
    cache: Arc<Mutex<HashMap<String, (Principal, Instant)>>>,
}

impl TokenStore {
    /// Tokens of this database; verified tokens are trusted for `ttl` without a read.
    pub fn new(db: Db, ttl: Duration) -> TokenStore {
        TokenStore {
            db,
            ttl,
            cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Creates a token; its secret is returned once and stored only hashed.
    pub async fn create(&self, new: &NewToken, actor: &str) -> Result<(TokenInfo, Secret)> {
        let secret = generate_token();
        let info = self.insert(new, &secret, actor).await?;
        Ok((info, secret))
    }

    /// Stores a given token (the bootstrap secret).
    pub async fn insert(&self, new: &NewToken, secret: &Secret, actor: &str) -> Result<TokenInfo> {
        check_new(new)?;
        if !secret.expose().starts_with(TOKEN_PREFIX) || secret.expose().len() < 32 {
            return Err(Error::Config(format!(
                "a token must start with {TOKEN_PREFIX} and be at least 32 characters long"
            )));
        }
        let info = TokenInfo {
            id: format!("tok_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]),
            name: new.name.clone(),
            role: new.role.as_str().to_owned(),
            tenant: new.tenant.clone(),
            created_at: now_ms(),
            created_by: actor.to_owned(),
            revoked_at: None,
        };
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO broker_tokens (id, hash, name, role, tenant, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            args![
                &info.id,
                hash_token(secret.expose()),
                &info.name,
                &info.role,
                info.tenant.as_deref(),
                info.created_at,
                actor
            ],
        )
        .await?;
        audit::append(
            &mut tx,
            &NewEntry::new(
                actor,
                info.tenant.as_deref(),
                "token.create",
                format!("token/{}", info.id),
            )
            .details(serde_json::json!({ "name": info.name, "role": info.role })),
        )
        .await?;
        tx.commit().await?;
        Ok(info)
    }

    /// The principal of a bearer token, or 401.
    pub async fn authenticate(&self, token: &str) -> Result<Principal> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 256 {
            return Err(Error::Unauthorized(
                "the bearer token is not a Nuage token".into(),
            ));
        }
        let hash = hash_token(token);
        if let Some((p, at)) = self.lock().get(&hash)
            && at.elapsed() < self.ttl
        {
            return Ok(p.clone());
        }
        let row: Option<TokenRow> = self
            .db
            .fetch_optional(
                "SELECT id, name, role, tenant FROM broker_tokens WHERE hash = $1 AND revoked_at IS NULL",
                args![&hash],
            )
            .await?;
        let row = row.ok_or_else(|| Error::Unauthorized("unknown or revoked token".into()))?;
        let role = Role::parse(&row.role)
            .ok_or_else(|| Error::Internal(format!("token {} has role {:?}", row.id, row.role)))?;
        let p = Principal {
            token_id: row.id,
            name: row.name,
            role,
            tenant: row.tenant,
        };
        let mut cache = self.lock();
        if cache.len() >= CACHE_MAX {
            cache.clear();
        }
        cache.insert(hash, (p.clone(), Instant::now()));
        Ok(p)
    }

    /// Tokens, newest first; only one tenant's when given.
    pub async fn list(&self, tenant: Option<&str>) -> Result<Vec<TokenInfo>> {
        let cols = "id, name, role, tenant, created_at, created_by, revoked_at";
        match tenant {
            Some(t) => {
                self.db
                    .fetch_all(
                        &format!("SELECT {cols} FROM broker_tokens WHERE tenant = $1 ORDER BY created_at DESC, id"),
                        args![t],
                    )
                    .await
            }
            None => {
                self.db
                    .fetch_all(
                        &format!("SELECT {cols} FROM broker_tokens ORDER BY created_at DESC, id"),
                        vec![],
                    )
                    .await
            }
        }
    }

    /// One token, if visible to a caller of `tenant` (`None`: every tenant).
    pub async fn get(&self, id: &str, tenant: Option<&str>) -> Result<TokenInfo> {
        let found: Option<TokenInfo> = self
            .db
            .fetch_optional(
                "SELECT id, name, role, tenant, created_at, created_by, revoked_at FROM broker_tokens WHERE id = $1",
                args![id],
            )
            .await?;
        match found {
            Some(t) if tenant.is_none() || t.tenant.as_deref() == tenant => Ok(t),
            _ => Err(Error::NotFound(format!("token {id}"))),
        }
    }

    /// Revokes a token (idempotent); this process forgets it at once, other replicas within
    /// the cache TTL.
    pub async fn revoke(&self, id: &str, tenant: Option<&str>, actor: &str) -> Result<TokenInfo> {
        let t = self.get(id, tenant).await?;
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                "UPDATE broker_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                args![now_ms(), id],
            )
            .await?;
        if n > 0 {
            audit::append(
                &mut tx,
                &NewEntry::new(
                    actor,
                    t.tenant.as_deref(),
                    "token.revoke",
                    format!("token/{id}"),
                ),
            )
            .await?;
        }
        tx.commit().await?;
        self.lock().retain(|_, (p, _)| p.token_id != id);
        self.get(id, tenant).await
    }

    /// Whether no token exists at all (first start).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: Option<(i64,)> = self
            .db
            .fetch_optional("SELECT COUNT(*) FROM broker_tokens", vec![])
            .await?;
        Ok(n.is_none_or(|(n,)| n == 0))
    }

    /// On first start (no token at all), installs the admin token: the one given, or a new one
    /// returned so the caller prints it once. `None` when tokens already exist.
    pub async fn bootstrap(
        &self,
        given: Option<Secret>,
    ) -> Result<Option<(TokenInfo, Option<Secret>)>> {
        if !self.is_empty().await? {
            return Ok(None);
        }
        let new = NewToken {
            name: "bootstrap-admin".into(),
            role: Role::Admin,
            tenant: None,
        };
        match given {
            Some(secret) => Ok(Some((
                self.insert(&new, &secret, "system:bootstrap").await?,
                None,
            ))),
            None => {
                let (info, secret) = self.create(&new, "system:bootstrap").await?;
                Ok(Some((info, Some(secret))))
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Principal, Instant)>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn check_new(new: &NewToken) -> Result<()> {
    let mut errors = Vec::new();
    if new.name.is_empty() || new.name.len() > 100 || new.name.chars().any(char::is_control) {
        errors.push(crate::error::field(
            "name",
            "a token name is 1 to 100 printable characters",
        ));
    }
    match &new.tenant {
        Some(t) if !valid_tenant(t) => errors.push(crate::error::field(
            "tenant",
            "a tenant id is 1 to 63 lower-case letters, digits and '-', starting with a letter",
        )),
        None if new.role == Role::Requester => errors.push(crate::error::field(
            "tenant",
            "a requester token must belong to a tenant",
        )),
        _ => {}
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_hashed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("nuage_"));
        assert_eq!(a.expose().len(), 6 + 43);
        let h = hash_token(a.expose());
        assert_eq!(h.len(), 64);
        assert!(!h.contains(a.expose()));
        assert_eq!(format!("{a:?}"), "Secret(***)");
    }
}
