//! Shared limits per key (e.g. `aws:eu-west-3`), kept in the database so they
//! hold across replicas: a concurrency limit (permits tied to leases), a token
//! bucket rate limit, and a circuit breaker.

use std::time::Duration;

use rand::Rng;

use super::exec::{Tx, args};
use super::run::Lease;
use super::{Store, ms, now_ms};
use crate::error::{Error, Result};

/// Concurrency and rate limits of a key.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LimitConfig {
    /// At most this many steps of the key run at once, across replicas.
    pub max_concurrent: Option<u32>,
    /// At most this many step attempts start per second (token bucket).
    pub rate_per_sec: Option<f64>,
    /// Bucket size (default 1): how many attempts may start back to back.
    pub burst: Option<f64>,
}

/// Circuit breaker of a key: after `failure_threshold` consecutive transient
/// failures, every step of the key is deferred for `open_for`. After that the
/// next attempt is a probe: success closes the circuit, failure reopens it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BreakerConfig {
    /// Consecutive failures that open the circuit.
    pub failure_threshold: u32,
    /// How long it stays open.
    pub open_for: Duration,
}

impl Default for BreakerConfig {
    /// 5 failures, 30 s.
    fn default() -> Self {
        Self {
            failure_threshold: 5,
            open_for: Duration::from_secs(30),
        }
    }
}

/// The live state of a key.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitStatus {
    /// Concurrency limit.
    pub max_concurrent: Option<u32>,
    /// Rate limit.
    pub rate_per_sec: Option<f64>,
    /// Permits held now.
    pub in_flight: u32,
    /// Consecutive transient failures.
    pub consecutive_failures: u32,
    /// The circuit is open until then (epoch ms), if in the future.
    pub open_until: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct LimitRow {
    max_concurrent: Option<i64>,
    rate_per_sec: Option<f64>,
    burst: f64,
    tokens: f64,
    refilled_at: i64,
    consecutive_failures: i64,
    open_until: i64,
}

#[derive(sqlx::FromRow)]
struct CountRow {
    n: i64,
}

#[derive(sqlx::FromRow)]
struct OpenRow {
    open_until: i64,
    consecutive_failures: i64,
    failure_threshold: Option<i64>,
}

/// Why a step must wait.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Deferral {
    pub(crate) until: i64,
    pub(crate) reason: &'static str,
}

const LIMIT_COLUMNS: &str =
    "max_concurrent, rate_per_sec, burst, tokens, refilled_at, consecutive_failures, open_until";

impl Store {
    /// Sets (or replaces) the concurrency and rate limits of `key`.
    pub async fn set_limit(&self, key: &str, cfg: LimitConfig) -> Result<()> {
        let bad = |reason: &str| Error::InvalidLimit {
            key: key.to_string(),
            reason: reason.to_string(),
        };
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        if cfg.max_concurrent == Some(0) {
            return Err(bad("max_concurrent must be at least 1"));
        }
        if cfg
            .rate_per_sec
            .is_some_and(|r| !(r.is_finite() && r > 0.0))
        {
            return Err(bad("rate_per_sec must be a positive number"));
        }
        let burst = cfg.burst.unwrap_or(1.0);
        if !(burst.is_finite() && burst >= 1.0) {
            return Err(bad("burst must be at least 1"));
        }
        self.write(
            "INSERT INTO wf_limits (key, max_concurrent, rate_per_sec, burst, tokens, refilled_at) \
             VALUES ($1, $2, $3, $4, $4, $5) ON CONFLICT (key) DO UPDATE SET max_concurrent = excluded.max_concurrent, \
             rate_per_sec = excluded.rate_per_sec, burst = excluded.burst, tokens = excluded.tokens, \
             refilled_at = excluded.refilled_at",
            args![key, cfg.max_concurrent.map(i64::from), cfg.rate_per_sec, burst, now_ms()],
        )
        .await?;
        Ok(())
    }

    /// Sets the circuit breaker of `key` (`None` disables it).
    pub async fn set_breaker(&self, key: &str, cfg: Option<BreakerConfig>) -> Result<()> {
        if key.is_empty() || cfg.is_some_and(|c| c.failure_threshold == 0) {
            return Err(Error::InvalidLimit {
                key: key.to_string(),
                reason: "empty key or zero threshold".into(),
            });
        }
        self.write(
            "INSERT INTO wf_limits (key, failure_threshold, open_for_ms) VALUES ($1, $2, $3) \
             ON CONFLICT (key) DO UPDATE SET failure_threshold = excluded.failure_threshold, open_for_ms = excluded.open_for_ms",
            args![
                key,
                cfg.map(|c| i64::from(c.failure_threshold)),
                cfg.map(|c| ms(c.open_for)).unwrap_or(30_000)
            ],
        )
        .await?;
        Ok(())
    }

    /// Closes the circuit of `key` (operator reset).
    pub async fn reset_breaker(&self, key: &str) -> Result<()> {
        self.write(
            "UPDATE wf_limits SET consecutive_failures = 0, open_until = 0 WHERE key = $1",
            args![key],
        )
        .await?;
        self.wake_local();
        Ok(())
    }

    /// The live state of `key`.
    pub async fn limit_status(&self, key: &str) -> Result<LimitStatus> {
        let now = now_ms();
        let row: Option<LimitRow> = self
            .read_optional(
                &format!("SELECT {LIMIT_COLUMNS} FROM wf_limits WHERE key = $1"),
                args![key],
            )
            .await?;
        let n: CountRow = self
            .read_optional(
                "SELECT COUNT(*) AS n FROM wf_permits WHERE key = $1 AND expires_at > $2",
                args![key, now],
            )
            .await?
            .unwrap_or(CountRow { n: 0 });
        Ok(LimitStatus {
            max_concurrent: row
                .as_ref()
                .and_then(|r| r.max_concurrent)
                .map(|v| v as u32),
            rate_per_sec: row.as_ref().and_then(|r| r.rate_per_sec),
            in_flight: n.n as u32,
            consecutive_failures: row
                .as_ref()
                .map(|r| r.consecutive_failures as u32)
                .unwrap_or(0),
            open_until: row.map(|r| r.open_until).filter(|t| *t > now),
        })
    }
}

/// Inside a fenced transaction: takes a slot of `key` for the run, or says
/// until when to wait.
pub(crate) async fn acquire(
    tx: &mut Tx,
    key: &str,
    lease: &Lease,
    now: i64,
) -> Result<Option<Deferral>> {
    let lock = if tx.is_pg() { " FOR UPDATE" } else { "" };
    let row: Option<LimitRow> = tx
        .fetch_optional(
            &format!("SELECT {LIMIT_COLUMNS} FROM wf_limits WHERE key = $1{lock}"),
            args![key],
        )
        .await?;
    let Some(row) = row else { return Ok(None) };
    if row.open_until > now {
        return Ok(Some(Deferral {
            until: row.open_until,
            reason: "circuit_open",
        }));
    }
    if let Some(max) = row.max_concurrent {
        tx.execute(
            "DELETE FROM wf_permits WHERE key = $1 AND expires_at <= $2",
            args![key, now],
        )
        .await?;
        let n: Option<CountRow> = tx
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM wf_permits WHERE key = $1 AND workflow_id <> $2",
                args![key, lease.id],
            )
            .await?;
        if n.map(|c| c.n).unwrap_or(0) >= max {
            let wait = rand::rng().random_range(100..=400);
            return Ok(Some(Deferral {
                until: now + wait,
                reason: "concurrency_limit",
            }));
        }
    }
    if let Some(rate) = row.rate_per_sec {
        let elapsed = (now - row.refilled_at).max(0) as f64 / 1000.0;
        let tokens = (row.tokens + elapsed * rate).min(row.burst);
        if tokens < 1.0 {
            let wait = (((1.0 - tokens) / rate) * 1000.0).ceil() as i64;
            return Ok(Some(Deferral {
                until: now + wait.max(1),
                reason: "rate_limit",
            }));
        }
        tx.execute(
            "UPDATE wf_limits SET tokens = $2, refilled_at = $3 WHERE key = $1",
            args![key, tokens - 1.0, now],
        )
        .await?;
    }
    if row.max_concurrent.is_some() {
        tx.execute(
            "INSERT INTO wf_permits (key, workflow_id, owner, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (key, workflow_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at",
            args![key, lease.id, &lease.owner, now + lease.ttl_ms],
        )
        .await?;
    }
    Ok(None)
}

/// Resets the breaker's failure count after a success of `key`.
pub(crate) fn success_stmt(key: &str) -> super::run::sql::Stmt {
    (
        "UPDATE wf_limits SET consecutive_failures = 0 WHERE key = $1 AND consecutive_failures <> 0",
        args![key],
    )
}

/// Inside a fenced transaction: counts a transient failure of `key` for its
/// breaker. Returns the time the circuit is open until, when it is open.
pub(crate) async fn record_failure(
    tx: &mut Tx,
    key: &str,
    default_breaker: Option<BreakerConfig>,
    now: i64,
) -> Result<Option<i64>> {
    if let Some(b) = default_breaker {
        tx.execute(
            "INSERT INTO wf_limits (key, failure_threshold, open_for_ms) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING",
            args![key, i64::from(b.failure_threshold), ms(b.open_for)],
        )
        .await?;
    }
    let row: Option<OpenRow> = tx
        .fetch_optional(
            "UPDATE wf_limits SET consecutive_failures = consecutive_failures + 1, \
             open_until = CASE WHEN failure_threshold IS NOT NULL AND consecutive_failures + 1 >= failure_threshold \
               THEN $2 + open_for_ms ELSE open_until END \
             WHERE key = $1 RETURNING open_until, consecutive_failures, failure_threshold",
            args![key, now],
        )
        .await?;
    Ok(row.and_then(|r| {
        let opened = r
            .failure_threshold
            .is_some_and(|t| r.consecutive_failures >= t)
            && r.open_until > now;
        opened.then_some(r.open_until)
    }))
}
