//! Fault injection: random rates and scripted rules, switchable at runtime.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::name::ResourceMeta;
use crate::provider::Operation;
use crate::spec::ResourceKind;

/// Random faults, drawn per call from the seed (deterministic).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultRates {
    /// Probability that a call fails with a transient error before doing anything.
    pub transient: f64,
    /// Probability that a call is throttled before doing anything.
    pub throttle: f64,
    /// Probability that a create, update or delete takes effect but its answer is lost (the
    /// caller sees a transient error): the crash-between-call-and-checkpoint case.
    pub lost_response: f64,
    /// Retry-after carried by throttling errors.
    #[serde(rename = "throttle_retry_after_ms", with = "crate::serde_ms")]
    pub throttle_retry_after: Duration,
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            transient: 0.0,
            throttle: 0.0,
            lost_response: 0.0,
            throttle_retry_after: Duration::from_secs(1),
        }
    }
}

impl FaultRates {
    fn is_zero(&self) -> bool {
        self.transient <= 0.0 && self.throttle <= 0.0 && self.lost_response <= 0.0
    }
}

/// What a scripted fault does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FaultEffect {
    /// Fail with this kind before doing anything.
    Fail(ErrorKind),
    /// Do the work, then fail with this kind (the answer is lost).
    FailAfterEffect(ErrorKind),
    /// Wait this long before answering normally (to trip callers' timeouts).
    Delay(Duration),
}

/// A scripted fault: matching calls get `effect`, `times` times (forever if `None`).
///
/// As data (configuration, the broker's admin API) a rule reads
/// `{on: create, kind: server, resource: web-1, fail: quota, times: 1}`: the matchers `on`
/// (an [`Operation`]), `kind` (a [`ResourceKind`]) and `resource` (a logical name) are
/// optional, and exactly one effect is given: `fail` or `fail_after_effect` (an error kind:
/// `not_found`, `conflict`, `throttled`, `quota`, `capacity`, `auth`, `transient`, `terminal`)
/// or `delay_ms`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RuleDoc", into = "RuleDoc")]
pub struct FaultRule {
    /// Operation matched (every one if `None`).
    pub op: Option<Operation>,
    /// Resource kind matched (every one if `None`).
    pub kind: Option<ResourceKind>,
    /// Logical resource name matched (every one if `None`).
    pub resource: Option<String>,
    /// What happens.
    pub effect: FaultEffect,
    /// How many matching calls are hit; `None` until cleared.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule hitting every call with `effect`, until cleared; narrow it with the builders.
    pub fn new(effect: FaultEffect) -> Self {
        FaultRule {
            op: None,
            kind: None,
            resource: None,
            effect,
            times: None,
        }
    }

    /// Matching calls fail with `kind` before doing anything.
    pub fn fail(kind: ErrorKind) -> Self {
        Self::new(FaultEffect::Fail(kind))
    }

    /// Matching calls take effect, then fail with `kind`.
    pub fn fail_after_effect(kind: ErrorKind) -> Self {
        Self::new(FaultEffect::FailAfterEffect(kind))
    }

    /// Matching calls are delayed.
    pub fn delay(delay: Duration) -> Self {
        Self::new(FaultEffect::Delay(delay))
    }

    /// Only this operation.
    pub fn on(mut self, op: Operation) -> Self {
        self.op = Some(op);
        self
    }

    /// Only this kind of resource.
    pub fn kind(mut self, kind: ResourceKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only the resource with this logical name.
    pub fn resource(mut self, name: impl Into<String>) -> Self {
        self.resource = Some(name.into());
        self
    }

    /// Only the next `n` matching calls.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(
        &self,
        op: Operation,
        kind: Option<ResourceKind>,
        meta: Option<&ResourceMeta>,
    ) -> bool {
        self.op.is_none_or(|o| o == op)
            && self.kind.is_none_or(|k| Some(k) == kind)
            && self
                .resource
                .as_deref()
                .is_none_or(|r| meta.is_some_and(|m| m.resource() == r))
            && self.times != Some(0)
    }
}

/// The data form of a [`FaultRule`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    on: Option<Operation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<ResourceKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    resource: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fail_after_effect: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    delay_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
}

const KINDS: [ErrorKind; 8] = [
    ErrorKind::NotFound,
    ErrorKind::Conflict,
    ErrorKind::Throttled { retry_after: None },
    ErrorKind::Quota,
    ErrorKind::Capacity,
    ErrorKind::Auth,
    ErrorKind::Transient,
    ErrorKind::Terminal,
];

fn error_kind(name: &str) -> Result<ErrorKind, String> {
    KINDS
        .into_iter()
        .find(|k| k.as_str() == name)
        .ok_or_else(|| {
            let names: Vec<_> = KINDS.iter().map(|k| k.as_str()).collect();
            format!(
                "unknown error kind {name:?} (expected one of {})",
                names.join(", ")
            )
        })
}

impl TryFrom<RuleDoc> for FaultRule {
    type Error = String;

    fn try_from(d: RuleDoc) -> Result<Self, String> {
        let effect = match (d.fail, d.fail_after_effect, d.delay_ms) {
            (Some(k), None, None) => FaultEffect::Fail(error_kind(&k)?),
            (None, Some(k), None) => FaultEffect::FailAfterEffect(error_kind(&k)?),
            (None, None, Some(ms)) => FaultEffect::Delay(Duration::from_millis(ms)),
            _ => {
                return Err(
                    "a fault rule needs exactly one of `fail`, `fail_after_effect`, `delay_ms`"
                        .into(),
                );
            }
        };
        if d.times == Some(0) {
            return Err("`times` must be at least 1 (leave it out for every matching call)".into());
        }
        Ok(FaultRule {
            op: d.on,
            kind: d.kind,
            resource: d.resource,
            effect,
            times: d.times,
        })
    }
}

impl From<FaultRule> for RuleDoc {
    fn from(r: FaultRule) -> Self {
        let mut d = RuleDoc {
            on: r.op,
            kind: r.kind,
            resource: r.resource,
            times: r.times,
            ..RuleDoc::default()
        };
        match r.effect {
            FaultEffect::Fail(k) => d.fail = Some(k.as_str().to_owned()),
            FaultEffect::FailAfterEffect(k) => d.fail_after_effect = Some(k.as_str().to_owned()),
            FaultEffect::Delay(t) => d.delay_ms = Some(t.as_millis() as u64),
        }
        d
    }
}

#[derive(Debug, Default)]
struct FaultState {
    rates: FaultRates,
    rules: Vec<FaultRule>,
}

/// Handle on a sim cloud's faults; cheap to clone, shared with the cloud.
#[derive(Clone, Debug, Default)]
pub struct SimFaults {
    inner: Arc<FaultsInner>,
}

#[derive(Debug, Default)]
struct FaultsInner {
    active: AtomicBool,
    injected: AtomicU64,
    state: Mutex<FaultState>,
}

impl SimFaults {
    pub(super) fn with(rates: FaultRates, rules: &[FaultRule]) -> Self {
        let faults = SimFaults::default();
        faults.set(rates);
        for r in rules {
            faults.push(r.clone());
        }
        faults
    }

    /// Replaces the random fault rates.
    pub fn set(&self, rates: FaultRates) {
        let mut state = self.lock();
        state.rates = rates;
        self.refresh(&state);
    }

    /// The current random fault rates.
    pub fn rates(&self) -> FaultRates {
        self.lock().rates
    }

    /// Adds a scripted rule (rules are tried in order, before the random rates).
    pub fn push(&self, rule: FaultRule) {
        let mut state = self.lock();
        state.rules.push(rule);
        self.refresh(&state);
    }

    /// The scripted rules in force (a rule with `times` shows the calls it has left).
    pub fn rules(&self) -> Vec<FaultRule> {
        self.lock().rules.clone()
    }

    /// Removes every rule and zeroes every rate: the cloud behaves again.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.rules.clear();
        state.rates = FaultRates {
            throttle_retry_after: state.rates.throttle_retry_after,
            ..FaultRates::default()
        };
        self.refresh(&state);
    }

    /// How many faults were injected so far.
    pub fn injected(&self) -> u64 {
        self.inner.injected.load(Ordering::Relaxed)
    }

    /// Whether any rule or non-zero rate is set (one atomic load).
    pub(super) fn is_active(&self) -> bool {
        self.inner.active.load(Ordering::Acquire)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh(&self, state: &FaultState) {
        let active = !state.rules.is_empty() || !state.rates.is_zero();
        self.inner.active.store(active, Ordering::Release);
    }

    /// Decides the fault of one call; `roll` is the call's deterministic draw in `[0, 1)`.
    pub(super) fn decide(
        &self,
        op: Operation,
        kind: Option<ResourceKind>,
        meta: Option<&ResourceMeta>,
        roll: f64,
    ) -> Option<Injected> {
        if !self.inner.active.load(Ordering::Acquire) {
            return None;
        }
        let mut state = self.lock();
        let hit = if let Some(i) = state.rules.iter().position(|r| r.matches(op, kind, meta)) {
            let rule = &mut state.rules[i];
            let effect = rule.effect;
            if let Some(n) = rule.times.as_mut() {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    state.rules.remove(i);
                }
            }
            Some(match effect {
                FaultEffect::Fail(k) => Injected::Before(self.error(k, &state.rates)),
                FaultEffect::FailAfterEffect(k) => Injected::After(self.error(k, &state.rates)),
                FaultEffect::Delay(d) => Injected::Delay(d),
            })
        } else {
            let r = state.rates;
            let mutates = matches!(
                op,
                Operation::Create | Operation::Update | Operation::Delete
            );
            if roll < r.transient {
                Some(Injected::Before(self.error(ErrorKind::Transient, &r)))
            } else if roll < r.transient + r.throttle {
                let kind = ErrorKind::Throttled { retry_after: None };
                Some(Injected::Before(self.error(kind, &r)))
            } else if mutates && roll < r.transient + r.throttle + r.lost_response {
                Some(Injected::After(self.error(ErrorKind::Transient, &r)))
            } else {
                None
            }
        };
        self.refresh(&state);
        if hit.is_some() {
            self.inner.injected.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    fn error(&self, kind: ErrorKind, rates: &FaultRates) -> Error {
        let kind = match kind {
            ErrorKind::Throttled { retry_after: None } => ErrorKind::Throttled {
                retry_after: Some(rates.throttle_retry_after),
            },
            other => other,
        };
        Error::cloud(
            kind,
            Some(format!("SimInjected.{}", kind.as_str())),
            format!("{kind} fault injected by the simulated cloud"),
        )
    }
}

/// A fault decided for one call.
#[derive(Debug)]
pub(super) enum Injected {
    /// Fail before any effect.
    Before(Error),
    /// Fail after the effect.
    After(Error),
    /// Answer late.
    Delay(Duration),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_read_and_write_as_data() {
        let r: FaultRule = serde_json::from_value(serde_json::json!(
            {"on": "create", "kind": "server", "resource": "web-1", "fail": "quota", "times": 2}
        ))
        .unwrap();
        assert_eq!(
            r,
            FaultRule::fail(ErrorKind::Quota)
                .on(Operation::Create)
                .kind(ResourceKind::Server)
                .resource("web-1")
                .times(2)
        );
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(back["fail"], "quota");
        assert_eq!(back["on"], "create");
        let delay: FaultRule =
            serde_json::from_value(serde_json::json!({"delay_ms": 1500})).unwrap();
        assert_eq!(delay, FaultRule::delay(Duration::from_millis(1500)));
        let throttled: FaultRule =
            serde_json::from_value(serde_json::json!({"fail_after_effect": "throttled"})).unwrap();
        assert_eq!(
            throttled,
            FaultRule::fail_after_effect(ErrorKind::Throttled { retry_after: None })
        );
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        for (doc, needle) in [
            (serde_json::json!({"on": "create"}), "exactly one of"),
            (
                serde_json::json!({"fail": "quota", "delay_ms": 5}),
                "exactly one of",
            ),
            (
                serde_json::json!({"fail": "oops"}),
                "unknown error kind \"oops\"",
            ),
            (
                serde_json::json!({"fail": "quota", "times": 0}),
                "at least 1",
            ),
            (
                serde_json::json!({"fail": "quota", "typo": 1}),
                "unknown field",
            ),
            (
                serde_json::json!({"fail": "quota", "on": "explode"}),
                "unknown variant",
            ),
        ] {
            let e = serde_json::from_value::<FaultRule>(doc.clone()).unwrap_err();
            assert!(e.to_string().contains(needle), "{doc}: {e}");
        }
    }

    #[test]
    fn a_configuration_starts_with_its_rules() {
        let cfg: crate::sim::SimConfig = serde_json::from_value(serde_json::json!({
            "faults": {"transient": 0.5},
            "fault_rules": [{"on": "delete", "fail": "conflict", "times": 1}]
        }))
        .unwrap();
        let f = SimFaults::with(cfg.faults, &cfg.fault_rules);
        assert_eq!(f.rates().transient, 0.5);
        assert_eq!(
            f.rules(),
            vec![
                FaultRule::fail(ErrorKind::Conflict)
                    .on(Operation::Delete)
                    .times(1)
            ]
        );
    }

    #[test]
    fn rules_in_force_are_listed_and_cleared() {
        let f = SimFaults::default();
        f.push(FaultRule::fail(ErrorKind::Transient).times(1));
        assert_eq!(f.rules().len(), 1);
        assert!(f.is_active());
        f.clear();
        assert!(f.rules().is_empty());
        assert!(!f.is_active());
    }
}
