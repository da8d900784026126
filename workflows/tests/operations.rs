//! Shared limits, circuit breaker, operator operations, wake-ups and graceful
//! shutdown, each on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

use common::{Db, Log, WAIT, engine, fast};
use nuage_workflows::{
    BreakerConfig, Engine, Error, LimitConfig, OnFailure, RetryPolicy, StartRequest, Step,
    StepContext, StepError, StepState, WorkflowDefinition, WorkflowFilter, WorkflowState, now_ms,
};
use serde_json::{Value, json};

both!(
    concurrency_limit_holds_across_replicas,
    rate_limit_spaces_attempts,
    circuit_breaker_defers_a_failing_key,
    list_filters_by_state_definition_label_and_time,
    operator_retry_from_the_failed_step,
    operator_retry_without_reset_continues_numbering,
    operator_retry_from_an_earlier_step_runs_it_again,
    operator_compensate_and_resume,
    operator_actions_refused_in_the_wrong_state,
    operator_retry_after_a_deadline_gets_a_new_window,
    shutdown_finishes_the_step_and_hands_the_lease_back,
    idle_workers_wake_on_notification_not_polling,
);

/// One step keyed `cloud:region` that sleeps and tracks how many run at once.
fn limited(running: Arc<AtomicI64>, peak: Arc<AtomicI64>, starts: Log) -> WorkflowDefinition {
    WorkflowDefinition::new("limited", 1).step(
        Step::new("call", move |_: StepContext, _: Value| {
            let (running, peak, starts) = (running.clone(), peak.clone(), starts.clone());
            async move {
                starts.push(now_ms().to_string());
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(120)).await;
                running.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, StepError>(())
            }
        })
        .limit_key(|_: &Value| Some("sim:eu-west".to_string())),
    )
}

async fn concurrency_limit_holds_across_replicas(db: &Db) {
    let (running, peak, starts) = (
        Arc::new(AtomicI64::new(0)),
        Arc::new(AtomicI64::new(0)),
        Log::default(),
    );
    let a = engine(
        db,
        vec![limited(running.clone(), peak.clone(), starts.clone())],
    )
    .await;
    let b = engine(
        db,
        vec![limited(running.clone(), peak.clone(), starts.clone())],
    )
    .await;
    a.store()
        .set_limit(
            "sim:eu-west",
            LimitConfig {
                max_concurrent: Some(2),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(
            a.start(StartRequest::new("limited", &i).unwrap())
                .await
                .unwrap()
                .id,
        );
    }
    let (ha, hb) = (a.run(), b.run());
    for id in &ids {
        assert_eq!(
            a.store().wait_terminal(*id, WAIT).await.unwrap().state,
            WorkflowState::Succeeded
        );
    }
    assert_eq!(
        peak.load(Ordering::SeqCst),
        2,
        "two replicas x four workers, but at most 2 at once"
    );
    assert_eq!(starts.all().len(), 8);
    let status = a.store().limit_status("sim:eu-west").await.unwrap();
    assert_eq!((status.max_concurrent, status.in_flight), (Some(2), 0));
    let deferred: usize = {
        let mut n = 0;
        for id in &ids {
            n += a
                .store()
                .timeline(*id)
                .await
                .unwrap()
                .events_of("deferred")
                .count();
        }
        n
    };
    assert!(deferred > 0, "some steps had to wait for a slot");
    ha.shutdown(WAIT).await;
    hb.shutdown(WAIT).await;
}

async fn rate_limit_spaces_attempts(db: &Db) {
    let (running, peak, starts) = (
        Arc::new(AtomicI64::new(0)),
        Arc::new(AtomicI64::new(0)),
        Log::default(),
    );
    let e = engine(db, vec![limited(running, peak, starts.clone())]).await;
    e.store()
        .set_limit(
            "sim:eu-west",
            LimitConfig {
                rate_per_sec: Some(5.0),
                burst: Some(1.0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let bad = e
        .store()
        .set_limit(
            "sim:eu-west",
            LimitConfig {
                rate_per_sec: Some(-1.0),
                ..Default::default()
            },
        )
        .await;
    assert!(matches!(bad, Err(Error::InvalidLimit { .. })));
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            e.start(StartRequest::new("limited", &i).unwrap())
                .await
                .unwrap()
                .id,
        );
    }
    let h = e.run();
    for id in &ids {
        e.store().wait_terminal(*id, WAIT).await.unwrap();
    }
    let mut t: Vec<i64> = starts.all().iter().map(|s| s.parse().unwrap()).collect();
    t.sort();
    // 5 per second with a bucket of 1: the 5 attempts span about 4 intervals of 200 ms
    // (the bounds leave room for scheduling delays on a loaded machine)
    assert!(t[4] - t[0] >= 600, "attempts too close: {t:?}");
    for w in t.windows(2) {
        assert!(
            w[1] - w[0] >= 100,
            "two attempts within one token interval: {t:?}"
        );
    }
    h.shutdown(WAIT).await;
}

async fn circuit_breaker_defers_a_failing_key(db: &Db) {
    let calls = Arc::new(AtomicU32::new(0));
    let healthy = Arc::new(AtomicBool::new(false));
    let (c, ok) = (calls.clone(), healthy.clone());
    let def = WorkflowDefinition::new("breaker", 1).step(
        Step::new("call", move |_: StepContext, _: Value| {
            let (c, ok) = (c.clone(), ok.clone());
            async move {
                c.fetch_add(1, Ordering::SeqCst);
                if ok.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(StepError::transient("provider down"))
                }
            }
        })
        .retry(RetryPolicy::new(
            20,
            Duration::from_millis(10),
            Duration::from_millis(20),
        ))
        .limit_key(|_: &Value| Some("aws:eu-west-3".to_string())),
    );
    let e = fast(Engine::builder(db.store().await))
        .default_breaker(Some(BreakerConfig {
            failure_threshold: 3,
            open_for: Duration::from_secs(3),
        }))
        .register(def)
        .build()
        .unwrap();
    let h = e.run();
    let first = e
        .start(StartRequest::new("breaker", &1).unwrap())
        .await
        .unwrap();
    // wait until the circuit opens
    let opened_at = loop {
        let s = e.store().limit_status("aws:eu-west-3").await.unwrap();
        if s.open_until.is_some() {
            break now_ms();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    // another run of the same key is deferred, not attempted, while open
    let second = e
        .start(StartRequest::new("breaker", &2).unwrap())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "no call while the circuit is open"
    );
    let t = e.store().timeline(second.id).await.unwrap();
    assert_eq!(t.step("call").unwrap().attempts, 0);
    assert!(
        t.events_of("deferred")
            .any(|ev| ev.detail.as_ref().unwrap()["reason"] == "circuit_open")
    );
    assert!(
        e.store()
            .timeline(first.id)
            .await
            .unwrap()
            .events_of("circuit_opened")
            .count()
            == 1
    );
    // the provider recovers: after the open period, the probe succeeds and both finish
    healthy.store(true, Ordering::SeqCst);
    for id in [first.id, second.id] {
        assert_eq!(
            e.store().wait_terminal(id, WAIT).await.unwrap().state,
            WorkflowState::Succeeded
        );
    }
    assert!(
        now_ms() - opened_at >= 2_500,
        "nothing ran before the circuit closed"
    );
    let s = e.store().limit_status("aws:eu-west-3").await.unwrap();
    assert_eq!(s.consecutive_failures, 0);
    h.shutdown(WAIT).await;
}

fn noop(name: &str) -> WorkflowDefinition {
    WorkflowDefinition::new(name, 1).step(Step::new("s", |_: StepContext, _: Value| async {
        Ok::<_, StepError>(())
    }))
}

async fn list_filters_by_state_definition_label_and_time(db: &Db) {
    let e = engine(db, vec![noop("alpha"), noop("beta")]).await;
    let t0 = now_ms();
    let a = e
        .start(
            StartRequest::new("alpha", &1)
                .unwrap()
                .label("tenant", "mairie-lyon"),
        )
        .await
        .unwrap();
    let b = e
        .start(
            StartRequest::new("beta", &1)
                .unwrap()
                .label("tenant", "mairie-lyon")
                .label("request", "r-2"),
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t1 = now_ms();
    let c = e
        .start(
            StartRequest::new("beta", &1)
                .unwrap()
                .label("tenant", "dinum"),
        )
        .await
        .unwrap();
    e.store().cancel(c.id, "op").await.unwrap();
    let store = e.store();
    let ids =
        |v: Vec<nuage_workflows::WorkflowRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = store.list(&WorkflowFilter::default()).await.unwrap();
    assert_eq!(ids(all.clone()), vec![c.id, b.id, a.id], "newest first");
    assert_eq!(
        all[1].labels.get("request").map(String::as_str),
        Some("r-2")
    );
    let f = WorkflowFilter {
        definition: Some("beta".into()),
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![c.id, b.id]);
    let f = WorkflowFilter {
        labels: vec![("tenant".into(), "mairie-lyon".into())],
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![b.id, a.id]);
    let f = WorkflowFilter {
        labels: vec![
            ("tenant".into(), "mairie-lyon".into()),
            ("request".into(), "r-2".into()),
        ],
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![b.id]);
    let f = WorkflowFilter {
        states: vec![WorkflowState::Cancelling],
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![c.id]);
    let f = WorkflowFilter {
        created_after: Some(t1),
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![c.id]);
    let f = WorkflowFilter {
        created_after: Some(t0),
        created_before: Some(t1),
        limit: Some(1),
        ..Default::default()
    };
    assert_eq!(ids(store.list(&f).await.unwrap()), vec![b.id]);
}

/// A step failing terminally while `broken` is set; waits for an operator.
fn fragile(broken: Arc<AtomicBool>, log: Log) -> WorkflowDefinition {
    WorkflowDefinition::new("fragile", 1)
        .on_failure(OnFailure::WaitForOperator)
        .step(
            Step::new("first", |_: StepContext, _: Value| async {
                Ok::<_, StepError>(1)
            })
            .compensate({
                let log = log.clone();
                move |_: StepContext, _: Value, _: Option<i32>| {
                    let log = log.clone();
                    async move {
                        log.push("undo:first");
                        Ok(())
                    }
                }
            }),
        )
        .step(
            Step::new("second", move |ctx: StepContext, _: Value| {
                let (broken, log) = (broken.clone(), log.clone());
                async move {
                    log.push(format!("second#{}", ctx.attempt()));
                    if broken.load(Ordering::SeqCst) {
                        Err(StepError::transient("quota exceeded"))
                    } else {
                        Ok(2)
                    }
                }
            })
            .retry(RetryPolicy::new(
                2,
                Duration::from_millis(10),
                Duration::from_millis(20),
            )),
        )
}

async fn operator_retry_from_the_failed_step(db: &Db) {
    let (broken, log) = (Arc::new(AtomicBool::new(true)), Log::default());
    let e = engine(db, vec![fragile(broken.clone(), log.clone())]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("fragile", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(
        (rec.state, rec.error.as_deref()),
        (WorkflowState::Failed, Some("quota exceeded"))
    );
    broken.store(false, Ordering::SeqCst);
    e.store().retry(run.id, "carol", true).await.unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    assert_eq!(rec.error, None);
    assert_eq!(
        log.all(),
        vec!["second#1", "second#2", "second#1"],
        "first step not re-run; attempts reset"
    );
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(t.step("first").unwrap().attempts, 1);
    assert_eq!(t.step("second").unwrap().attempt_log.len(), 3);
    let ev = t.events_of("operator_retry").next().unwrap();
    assert_eq!(ev.actor.as_deref(), Some("carol"));
    assert_eq!(ev.detail.as_ref().unwrap()["reset_attempts"], true);
    h.shutdown(WAIT).await;
}

async fn operator_retry_without_reset_continues_numbering(db: &Db) {
    let (broken, log) = (Arc::new(AtomicBool::new(true)), Log::default());
    let e = engine(db, vec![fragile(broken.clone(), log.clone())]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("fragile", &()).unwrap())
        .await
        .unwrap();
    e.store().wait_terminal(run.id, WAIT).await.unwrap();
    e.store().retry(run.id, "dave", false).await.unwrap();
    // still broken: two more attempts (a fresh budget), numbered 3 and 4
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Failed);
    assert_eq!(
        log.all(),
        vec!["second#1", "second#2", "second#3", "second#4"]
    );
    h.shutdown(WAIT).await;
}

/// Three logged steps; `b` fails terminally while `broken` is set.
fn replayable(broken: Arc<AtomicBool>, log: Log) -> WorkflowDefinition {
    let step = |name: &'static str, broken: Option<Arc<AtomicBool>>, log: Log| {
        Step::new(name, move |ctx: StepContext, _: Value| {
            let (broken, log) = (broken.clone(), log.clone());
            async move {
                log.push(format!("{name}#{}", ctx.attempt()));
                if broken.is_some_and(|b| b.load(Ordering::SeqCst)) {
                    return Err(StepError::terminal("refused"));
                }
                Ok::<_, StepError>(format!("{name} made at attempt {}", ctx.attempt()))
            }
        })
    };
    WorkflowDefinition::new("replayable", 1)
        .on_failure(OnFailure::WaitForOperator)
        .step(step("a", None, log.clone()))
        .step(step("b", Some(broken), log.clone()))
        .step(step("c", None, log))
}

async fn operator_retry_from_an_earlier_step_runs_it_again(db: &Db) {
    let (broken, log) = (Arc::new(AtomicBool::new(true)), Log::default());
    let e = engine(db, vec![replayable(broken.clone(), log.clone())]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("replayable", &()).unwrap())
        .await
        .unwrap();
    let failed = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(failed.state, WorkflowState::Failed);
    assert_eq!(log.all(), vec!["a#1", "b#1"]);

    // a step after the failed one, or no step at all: refused, nothing changes
    for (step, why) in [("c", "comes after"), ("zzz", "no such step")] {
        let err = e
            .store()
            .retry_from(run.id, "frank", false, Some(step))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidStep { step: s, .. } if s == step),
            "{err}"
        );
        assert!(err.to_string().contains(why), "{err}");
        let now = e.store().get(run.id).await.unwrap();
        assert_eq!(
            (now.state, now.lease_epoch),
            (WorkflowState::Failed, failed.lease_epoch)
        );
    }
    assert_eq!(
        e.store()
            .timeline(run.id)
            .await
            .unwrap()
            .events_of("operator_retry")
            .count(),
        0
    );

    // from `a`: it runs again although it had succeeded, then `b` and `c`
    broken.store(false, Ordering::SeqCst);
    e.store()
        .retry_from(run.id, "frank", false, Some("a"))
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    assert_eq!(log.all(), vec!["a#1", "b#1", "a#2", "b#2", "c#1"]);
    let t = e.store().timeline(run.id).await.unwrap();
    let a = t.step("a").unwrap();
    assert_eq!(a.attempts, 2);
    assert_eq!(
        a.output,
        Some(json!("a made at attempt 2")),
        "its output is replaced"
    );
    let ev = t.events_of("operator_retry").next().unwrap();
    assert_eq!(ev.detail.as_ref().unwrap()["from_step"], "a");
    // a run that succeeded cannot be retried from anywhere
    assert!(matches!(
        e.store().retry_from(run.id, "frank", true, Some("a")).await,
        Err(Error::InvalidState { .. })
    ));
    h.shutdown(WAIT).await;
}

async fn operator_compensate_and_resume(db: &Db) {
    let (broken, log) = (Arc::new(AtomicBool::new(true)), Log::default());
    let e = engine(db, vec![fragile(broken.clone(), log.clone())]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("fragile", &()).unwrap())
        .await
        .unwrap();
    e.store().wait_terminal(run.id, WAIT).await.unwrap();
    // resume = go on where it stopped, with a fresh budget
    broken.store(false, Ordering::SeqCst);
    e.store().resume(run.id, "erin").await.unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    assert_eq!(log.all(), vec!["second#1", "second#2", "second#3"]);
    // another run: the operator chooses to undo it
    broken.store(true, Ordering::SeqCst);
    let run2 = e
        .start(StartRequest::new("fragile", &()).unwrap())
        .await
        .unwrap();
    e.store().wait_terminal(run2.id, WAIT).await.unwrap();
    e.store().compensate(run2.id, "frank").await.unwrap();
    let rec = e.store().wait_terminal(run2.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Compensated);
    assert_eq!(log.count("undo:first"), 1);
    let t = e.store().timeline(run2.id).await.unwrap();
    assert_eq!(
        t.events_of("operator_compensate")
            .next()
            .unwrap()
            .actor
            .as_deref(),
        Some("frank")
    );
    assert!(t.steps.iter().all(|s| s.state == StepState::Compensated));
    h.shutdown(WAIT).await;
}

async fn operator_actions_refused_in_the_wrong_state(db: &Db) {
    let e = engine(db, vec![noop("alpha")]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("alpha", &()).unwrap())
        .await
        .unwrap();
    e.store().wait_terminal(run.id, WAIT).await.unwrap();
    let before = e.store().timeline(run.id).await.unwrap();
    for r in [
        e.store().retry(run.id, "x", true).await,
        e.store().compensate(run.id, "x").await,
        e.store().resume(run.id, "x").await,
        e.store().cancel(run.id, "x").await,
    ] {
        assert!(
            matches!(
                r,
                Err(Error::InvalidState {
                    state: WorkflowState::Succeeded,
                    ..
                })
            ),
            "{r:?}"
        );
    }
    assert_eq!(
        e.store().timeline(run.id).await.unwrap(),
        before,
        "a refused action changes nothing"
    );
    let missing = uuid::Uuid::new_v4();
    assert!(
        matches!(e.store().cancel(missing, "x").await, Err(Error::NotFound(id)) if id == missing)
    );
    h.shutdown(WAIT).await;
}

async fn shutdown_finishes_the_step_and_hands_the_lease_back(db: &Db) {
    let log = Log::default();
    let mk = |log: Log| {
        WorkflowDefinition::new("two", 1)
            .step(Step::new("slow", move |_: StepContext, _: Value| {
                let log = log.clone();
                async move {
                    log.push("slow:start");
                    tokio::time::sleep(Duration::from_millis(400)).await;
                    log.push("slow:end");
                    Ok::<_, StepError>(())
                }
            }))
            .step(Step::new("next", |_: StepContext, _: Value| async {
                Ok::<_, StepError>(())
            }))
    };
    // a 10 s lease: a quick takeover below proves the lease was handed back
    let long_lease = |log: Log| async move {
        fast(Engine::builder(db.store().await))
            .lease_ttl(Duration::from_secs(10))
            .register(mk(log))
            .build()
            .unwrap()
    };
    let e = long_lease(log.clone()).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("two", &()).unwrap())
        .await
        .unwrap();
    while log.all().is_empty() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    h.shutdown(WAIT).await;
    assert_eq!(
        log.all(),
        vec!["slow:start", "slow:end"],
        "the running step finished"
    );
    let rec = e.store().get(run.id).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Running);
    assert!(rec.lease_owner.is_none(), "lease handed back");
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(t.step("slow").unwrap().state, StepState::Succeeded);
    assert_eq!(t.step("next").unwrap().attempts, 0);
    // another replica continues at once (no lease expiry to wait for)
    let other = long_lease(log.clone()).await;
    let started = now_ms();
    let h2 = other.run();
    assert_eq!(
        other
            .store()
            .wait_terminal(run.id, WAIT)
            .await
            .unwrap()
            .state,
        WorkflowState::Succeeded
    );
    assert!(
        now_ms() - started < 8_000,
        "did not wait for the 10 s lease to expire"
    );
    assert_eq!(log.count("slow:start"), 1);
    h2.shutdown(WAIT).await;
}

async fn idle_workers_wake_on_notification_not_polling(db: &Db) {
    // workers poll only every 60 s: a quick finish proves the notification path
    let worker = fast(Engine::builder(db.store().await))
        .poll_interval(Duration::from_secs(60))
        .register(noop("alpha"))
        .build()
        .unwrap();
    let h = worker.run();
    tokio::time::sleep(Duration::from_millis(300)).await; // let it go idle
    // on PostgreSQL the start comes from another store (another replica) and
    // reaches the worker through LISTEN/NOTIFY; on SQLite it is in-process
    let starter = if db.is_pg() {
        fast(Engine::builder(db.store().await))
            .workers(0)
            .register(noop("alpha"))
            .build()
            .unwrap()
    } else {
        worker.clone()
    };
    for _ in 0..3 {
        let t = now_ms();
        let run = starter
            .start(StartRequest::new("alpha", &json!({})).unwrap())
            .await
            .unwrap();
        let rec = worker.store().wait_terminal(run.id, WAIT).await.unwrap();
        assert_eq!(rec.state, WorkflowState::Succeeded);
        assert!(
            rec.finished_at.unwrap() - t < 10_000,
            "woken by notification, not by the 60 s poll"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    h.shutdown(WAIT).await;
}

async fn operator_retry_after_a_deadline_gets_a_new_window(db: &Db) {
    let slow = Arc::new(AtomicBool::new(true));
    let s = slow.clone();
    let def = WorkflowDefinition::new("late", 1)
        .on_failure(OnFailure::WaitForOperator)
        .timeout(Duration::from_millis(300))
        .step(Step::new("work", move |_: StepContext, _: Value| {
            let slow = s.clone();
            async move {
                if slow.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_secs(30)).await;
                }
                Ok::<_, StepError>(())
            }
        }));
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("late", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Failed);
    assert!(rec.error.as_deref().unwrap().contains("deadline"));
    tokio::time::sleep(Duration::from_millis(400)).await; // well past the first deadline
    slow.store(false, Ordering::SeqCst);
    e.store().retry(run.id, "gina", true).await.unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded, "{:?}", rec.error);
    assert!(rec.deadline_at.unwrap() > rec.created_at + 600);
    h.shutdown(WAIT).await;
}
