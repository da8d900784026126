//! Bounded waits built on [`Provider::observe`]: until ready, until absent.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use tokio::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::observation::{Observation, Observed, ResourceState};
use crate::provider::Provider;
use crate::spec::ResourceSpec;

/// How long and how often to poll.
#[derive(Clone, Debug, PartialEq)]
pub struct WaitOptions {
    /// Give up after this long, with [`Error::Timeout`] (transient: the step may retry).
    pub timeout: Duration,
    /// First delay between polls.
    pub min_delay: Duration,
    /// Longest delay between polls (delays double from `min_delay`, with jitter).
    pub max_delay: Duration,
    /// How many consecutive `Absent` observations [`wait_until_ready`] tolerates before
    /// concluding the resource vanished (clouds whose listings lag behind creation).
    pub absent_tolerance: u32,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            timeout: Duration::from_secs(600),
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(15),
            absent_tolerance: 3,
        }
    }
}

impl WaitOptions {
    /// Options for tests and the sim: poll every `delay`, give up after `timeout`.
    pub fn fixed(delay: Duration, timeout: Duration) -> Self {
        WaitOptions {
            timeout,
            min_delay: delay,
            max_delay: delay,
            absent_tolerance: 3,
        }
    }

    fn delays(&self) -> impl Iterator<Item = Duration> {
        ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay.max(self.min_delay))
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build()
    }
}

/// Polls `observe` until the resource is ready. Retryable observe errors are waited out
/// (honouring a throttle's retry-after); other errors are returned. A resource that turns
/// [`Failed`](ResourceState::Failed) gives a terminal error with its message.
pub async fn wait_until_ready(
    provider: &dyn Provider,
    spec: &ResourceSpec,
    options: &WaitOptions,
) -> Result<Observed> {
    let start = Instant::now();
    let what = format!("{} {} ready", spec.kind(), spec.name());
    let mut delays = options.delays();
    let mut absent = 0;
    loop {
        let mut pause = None;
        match provider.observe(spec).await {
            Ok(Observation::Present(o)) if o.is_ready() => return Ok(o),
            Ok(Observation::Present(o)) if o.state == ResourceState::Failed => {
                return Err(Error::cloud(
                    ErrorKind::Terminal,
                    Some(o.native_state.clone()),
                    format!(
                        "{} {} failed: {}",
                        spec.kind(),
                        spec.name(),
                        o.message.as_deref().unwrap_or("no reason given")
                    ),
                ));
            }
            Ok(Observation::Present(_)) => absent = 0,
            Ok(Observation::Absent) => {
                absent += 1;
                if absent > options.absent_tolerance {
                    return Err(Error::not_found(format!(
                        "{} {} vanished while waiting for it to be ready",
                        spec.kind(),
                        spec.name()
                    )));
                }
            }
            Err(e) if e.is_retryable() => pause = e.retry_after(),
            Err(e) => return Err(e),
        }
        sleep_or_timeout(start, options, &mut delays, pause, &what).await?;
    }
}

/// Polls `observe` until the resource is absent. Retryable observe errors are waited out.
pub async fn wait_until_absent(
    provider: &dyn Provider,
    spec: &ResourceSpec,
    options: &WaitOptions,
) -> Result<()> {
    let start = Instant::now();
    let what = format!("{} {} deleted", spec.kind(), spec.name());
    let mut delays = options.delays();
    loop {
        let mut pause = None;
        match provider.observe(spec).await {
            Ok(Observation::Absent) => return Ok(()),
            Ok(Observation::Present(_)) => {}
            Err(e) if e.is_retryable() => pause = e.retry_after(),
            Err(e) => return Err(e),
        }
        sleep_or_timeout(start, options, &mut delays, pause, &what).await?;
    }
}

async fn sleep_or_timeout(
    start: Instant,
    options: &WaitOptions,
    delays: &mut impl Iterator<Item = Duration>,
    at_least: Option<Duration>,
    what: &str,
) -> Result<()> {
    let waited = start.elapsed();
    if waited >= options.timeout {
        return Err(Error::Timeout {
            what: what.to_owned(),
            waited,
        });
    }
    let next = delays.next().unwrap_or(options.max_delay);
    let next = next.max(at_least.unwrap_or_default());
    tokio::time::sleep(next.min(options.timeout - waited)).await;
    Ok(())
}
