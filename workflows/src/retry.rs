//! Retry policies: exponential backoff with full jitter, capped.

use std::time::Duration;

use rand::Rng;

use crate::failure::ErrorKind;

/// How often and how patiently a step is retried.
///
/// The delay before attempt `n + 1` (after `n` failed attempts) is drawn
/// uniformly in `[0, min(max_delay, base_delay * 2^(n-1))]` ("full jitter"),
/// and never less than a throttling error's `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts allowed, the first one included (at least 1).
    pub max_attempts: u32,
    /// Backoff base.
    pub base_delay: Duration,
    /// Backoff cap.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 1 s base, 60 s cap.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy with `max_attempts` and the given base and cap.
    pub fn new(max_attempts: u32, base_delay: Duration, max_delay: Duration) -> Self {
        Self {
            max_attempts: max_attempts.max(1),
            base_delay,
            max_delay,
        }
    }

    /// A single attempt, no retry.
    pub fn never() -> Self {
        Self::new(1, Duration::ZERO, Duration::ZERO)
    }

    /// The upper bound of the jittered delay after `failed_attempts` failures.
    pub fn ceiling(&self, failed_attempts: u32) -> Duration {
        let exp = failed_attempts.saturating_sub(1).min(31);
        let grown = self.base_delay.saturating_mul(1u32 << exp);
        grown.min(self.max_delay)
    }

    /// Draws the delay before the next attempt, after `failed_attempts`
    /// failures ending with an error of `kind`.
    pub fn delay(&self, failed_attempts: u32, kind: ErrorKind, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(failed_attempts).as_millis() as u64;
        let jittered = Duration::from_millis(if ceiling == 0 {
            0
        } else {
            rng.random_range(0..=ceiling)
        });
        match kind {
            ErrorKind::Throttled { retry_after } => jittered.max(retry_after),
            _ => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn full_jitter_stays_under_the_capped_exponential() {
        let p = RetryPolicy::new(10, Duration::from_millis(100), Duration::from_millis(1_000));
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(2), Duration::from_millis(200));
        assert_eq!(p.ceiling(4), Duration::from_millis(800));
        assert_eq!(p.ceiling(5), Duration::from_millis(1_000));
        assert_eq!(p.ceiling(40), Duration::from_millis(1_000));
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let draws: Vec<_> = (0..200)
            .map(|_| p.delay(3, ErrorKind::Transient, &mut rng))
            .collect();
        assert!(draws.iter().all(|d| *d <= Duration::from_millis(400)));
        // full jitter: spread over the whole range, not clustered at the top
        assert!(draws.iter().any(|d| *d < Duration::from_millis(100)));
        assert!(draws.iter().any(|d| *d > Duration::from_millis(300)));
    }

    #[test]
    fn throttling_is_never_retried_sooner_than_asked() {
        let p = RetryPolicy::new(3, Duration::from_millis(10), Duration::from_millis(20));
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for _ in 0..50 {
            let d = p.delay(
                1,
                ErrorKind::Throttled {
                    retry_after: Duration::from_millis(500),
                },
                &mut rng,
            );
            assert_eq!(d, Duration::from_millis(500));
        }
    }
}
