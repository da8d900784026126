//! Background tasks of a running engine: the dispatcher (claims runs into free
//! slots), the heartbeat (renews leases, detects lost ones), the cancel
//! watcher, and the PostgreSQL LISTEN task.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{LocalLease, Shared, runner};
use crate::store::now_ms;
use crate::store::run::Lease;

const MAX_BATCH: usize = 32;

fn db_retry() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(20))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(5)
        .with_jitter()
}

/// Claims runnable runs into free slots and spawns a runner for each; sleeps
/// until notified, until the next known due time, or the safety-net poll.
pub(crate) async fn dispatch(shared: Arc<Shared>) {
    let poll_ms = crate::store::ms(shared.config.poll_interval).max(10);
    loop {
        let first = tokio::select! {
            p = shared.slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = shared.shutdown.cancelled() => return,
        };
        let mut permits = vec![first];
        while permits.len() < MAX_BATCH {
            match shared.slots.clone().try_acquire_owned() {
                Ok(p) => permits.push(p),
                Err(_) => break,
            }
        }
        let notified = shared.store.wakeup().notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if shared.shutdown.is_cancelled() {
            return;
        }
        let want = permits.len();
        let now = now_ms();
        let claimed = (|| {
            shared
                .store
                .claim(&shared.owner, now, shared.ttl_ms(), want, &shared.def_keys)
        })
        .retry(db_retry())
        .await;
        let claimed = match claimed {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "claim failed");
                drop(permits);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(poll_ms.min(1000) as u64)) => {}
                    _ = shared.shutdown.cancelled() => return,
                }
                continue;
            }
        };
        let got = claimed.len();
        for c in claimed {
            let Ok(id) = Uuid::parse_str(&c.id) else {
                continue;
            };
            let permit = permits.pop().expect("claimed no more than permits");
            let lost = CancellationToken::new();
            let cancel = lost.child_token();
            {
                let mut leases = shared.leases.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(old) = leases.insert(
                    id,
                    LocalLease {
                        epoch: c.lease_epoch,
                        since: Instant::now(),
                        lost: lost.clone(),
                        cancel: cancel.clone(),
                    },
                ) {
                    old.lost.cancel();
                }
            }
            let lease = Lease {
                id,
                epoch: c.lease_epoch,
                owner: shared.owner.clone(),
                ttl_ms: shared.ttl_ms(),
            };
            let s = shared.clone();
            tokio::spawn(async move {
                runner::run_lease(s.clone(), lease.clone(), lost, cancel).await;
                let mut leases = s.leases.lock().unwrap_or_else(|p| p.into_inner());
                if leases
                    .get(&lease.id)
                    .is_some_and(|l| l.epoch == lease.epoch)
                {
                    leases.remove(&lease.id);
                }
                drop(leases);
                drop(permit);
            });
        }
        drop(permits);
        if got > 0 {
            continue;
        }
        let next = shared
            .store
            .next_wakeup(&shared.owner, &shared.def_keys)
            .await
            .ok()
            .flatten();
        let sleep_ms = next
            .map(|t| (t - now_ms()).clamp(20, poll_ms))
            .unwrap_or(poll_ms);
        tokio::select! {
            _ = notified => {}
            _ = tokio::time::sleep(Duration::from_millis(sleep_ms as u64)) => {}
            _ = shared.shutdown.cancelled() => return,
        }
    }
}

/// Renews this process's leases every third of the lease duration; a lease
/// found taken over is marked lost (its attempt is dropped, its writes would
/// be rejected anyway) and counted as a rejected stale write.
pub(crate) async fn heartbeat(shared: Arc<Shared>, stop: CancellationToken) {
    let period = shared.config.lease_ttl / 3;
    let mut suspects: HashSet<(Uuid, i64)> = HashSet::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = stop.cancelled() => return,
        }
        let started = Instant::now();
        let held = match shared
            .store
            .heartbeat(&shared.owner, now_ms(), shared.ttl_ms())
            .await
        {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "lease heartbeat failed");
                continue;
            }
        };
        let held: HashMap<Uuid, (i64, bool)> = held
            .into_iter()
            .filter_map(|h| {
                Uuid::parse_str(&h.id)
                    .ok()
                    .map(|id| (id, (h.lease_epoch, h.cancel_requested != 0)))
            })
            .collect();
        let mut lost = Vec::new();
        let mut orphans = HashSet::new();
        {
            let leases = shared.leases.lock().unwrap_or_else(|p| p.into_inner());
            for (id, l) in leases.iter() {
                if l.since > started || l.lost.is_cancelled() {
                    continue;
                }
                match held.get(id) {
                    Some((epoch, cancel)) if *epoch == l.epoch => {
                        if *cancel {
                            l.cancel.cancel();
                        }
                    }
                    _ => {
                        l.lost.cancel();
                        lost.push(Lease {
                            id: *id,
                            epoch: l.epoch,
                            owner: shared.owner.clone(),
                            ttl_ms: 0,
                        });
                    }
                }
            }
            for (id, (epoch, _)) in &held {
                if !leases.contains_key(id) {
                    orphans.insert((*id, *epoch));
                }
            }
        }
        for l in lost {
            shared.store.reject_stale(&l, now_ms()).await;
        }
        // A lease held in the database but by no local runner two beats in a
        // row (a runner that died on a database error): hand it back.
        for (id, epoch) in orphans.intersection(&suspects) {
            let l = Lease {
                id: *id,
                epoch: *epoch,
                owner: shared.owner.clone(),
                ttl_ms: 0,
            };
            let _ = shared.store.release(&l, now_ms()).await;
        }
        suspects = orphans;
    }
}

/// On every wake-up, looks for cancel requests on runs this process holds, so
/// an operator's cancel reaches the running handler without waiting for the
/// next heartbeat.
pub(crate) async fn watch_cancels(shared: Arc<Shared>) {
    loop {
        let notified = shared.store.wakeup().notified();
        tokio::select! {
            _ = notified => {}
            _ = shared.shutdown.cancelled() => return,
        }
        let any = !shared
            .leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if !any {
            continue;
        }
        if let Ok(rows) = shared.store.cancel_requests(&shared.owner).await {
            let leases = shared.leases.lock().unwrap_or_else(|p| p.into_inner());
            for r in rows {
                if let Some(l) = Uuid::parse_str(&r.id).ok().and_then(|id| leases.get(&id))
                    && l.epoch == r.lease_epoch
                {
                    l.cancel.cancel();
                }
            }
        }
    }
}

/// PostgreSQL: LISTEN on `wf_wakeup` and wake local workers on each NOTIFY.
pub(crate) async fn listen(shared: Arc<Shared>, pool: PgPool) {
    loop {
        if shared.shutdown.is_cancelled() {
            return;
        }
        match PgListener::connect_with(&pool).await {
            Ok(mut l) => {
                if l.listen("wf_wakeup").await.is_ok() {
                    // a notification may have been missed while (re)connecting
                    shared.store.wake_local();
                    loop {
                        tokio::select! {
                            r = l.recv() => match r {
                                Ok(_) => shared.store.wake_local(),
                                Err(e) => { tracing::warn!(error = %e, "listen connection lost"); break }
                            },
                            _ = shared.shutdown.cancelled() => return,
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot LISTEN"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shared.shutdown.cancelled() => return,
        }
    }
}
