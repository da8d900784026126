//! The engine's rules, each tested on SQLite and on PostgreSQL.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::{Db, Log, WAIT, engine};
use nuage_workflows::{
    Error, OnFailure, Phase, RetryPolicy, StartRequest, Step, StepContext, StepError, StepInstance,
    StepState, WorkflowDefinition, WorkflowFilter, WorkflowState,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

fn quick(n: u32) -> RetryPolicy {
    RetryPolicy::new(n, Duration::from_millis(50), Duration::from_millis(200))
}

both!(
    static_steps_pass_outputs_and_succeed,
    planned_steps_come_from_the_input,
    bad_input_is_refused_and_stores_nothing,
    idempotent_start_returns_the_same_run,
    retries_wait_their_stored_backoff,
    throttling_waits_at_least_retry_after,
    terminal_error_fails_without_retry,
    exhausted_step_compensates_in_reverse_order,
    cancellation_interrupts_then_compensates,
    cancel_before_any_worker_ends_cancelled,
    step_timeout_counts_as_transient,
    workflow_deadline_fails_the_run,
    handler_panic_is_terminal_and_worker_survives,
    checkpoint_is_visible_to_the_next_attempt,
    stale_epoch_writes_are_rejected,
    runs_keep_their_definition_version,
    retry_survives_a_restart,
);

async fn static_steps_pass_outputs_and_succeed(db: &Db) {
    let def = WorkflowDefinition::new("chain", 1)
        .step(Step::new(
            "a",
            |ctx: StepContext, input: Value| async move {
                assert_eq!(ctx.attempt(), 1);
                assert_eq!(ctx.step_name(), "a");
                assert_eq!(ctx.phase(), Phase::Forward);
                assert_eq!(
                    ctx.idempotency_key(),
                    format!("wf-{}-a", ctx.workflow_id().simple())
                );
                Ok::<_, StepError>(input["n"].as_i64().unwrap() + 1)
            },
        ))
        .step(Step::new("b", |ctx: StepContext, _: Value| async move {
            let a: i64 = ctx.output("a")?.expect("a ran first");
            let n: i64 = ctx.input::<Value>()?["n"].as_i64().unwrap();
            Ok::<_, StepError>(json!({ "a": a, "sum": a + n }))
        }));
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("chain", &json!({ "n": 41 })).unwrap())
        .await
        .unwrap();
    assert!(run.created);
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(t.step("a").unwrap().output, Some(json!(42)));
    assert_eq!(
        t.step("b").unwrap().output,
        Some(json!({ "a": 42, "sum": 83 }))
    );
    for s in &t.steps {
        assert_eq!(s.state, StepState::Succeeded);
        assert_eq!(s.attempt_log.len(), 1);
        assert_eq!(s.attempt_log[0].outcome.as_deref(), Some("succeeded"));
        assert!(s.attempt_log[0].duration_ms.is_some());
    }
    assert_eq!(t.events.first().unwrap().kind, "started");
    assert_eq!(t.events.last().unwrap().kind, "succeeded");
    assert!(rec.finished_at.is_some() && rec.next_run_at.is_none() && rec.lease_owner.is_none());
    h.shutdown(WAIT).await;
}

#[derive(Serialize, Deserialize)]
struct Req {
    servers: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ServerParams {
    host: String,
}

fn planned(log: Log) -> WorkflowDefinition {
    let l1 = log.clone();
    let l2 = log.clone();
    WorkflowDefinition::new("provision", 1)
        .kind(Step::new("network", move |ctx: StepContext, _: Value| {
            let log = l1.clone();
            async move {
                log.push(ctx.step_name().to_string());
                Ok::<_, StepError>("net-1".to_string())
            }
        }))
        .kind(Step::new(
            "server",
            move |ctx: StepContext, p: ServerParams| {
                let log = l2.clone();
                async move {
                    let net: String = ctx.output("network:app")?.unwrap();
                    log.push(format!("{}@{net}", p.host));
                    Ok::<_, StepError>(p.host)
                }
            },
        ))
        .plan(|req: &Req| {
            let mut steps = vec![
                StepInstance::new("network:app", "network", &json!({}))
                    .map_err(|e| e.to_string())?,
            ];
            for s in &req.servers {
                steps.push(
                    StepInstance::new(
                        format!("server:{s}"),
                        "server",
                        &ServerParams { host: s.clone() },
                    )
                    .map_err(|e| e.to_string())?,
                );
            }
            Ok(steps)
        })
}

async fn planned_steps_come_from_the_input(db: &Db) {
    let log = Log::default();
    let e = engine(db, vec![planned(log.clone())]).await;
    let h = e.run();
    let run = e
        .start(
            StartRequest::new(
                "provision",
                &Req {
                    servers: vec!["web-1".into(), "web-2".into()],
                },
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    assert_eq!(log.all(), vec!["network:app", "web-1@net-1", "web-2@net-1"]);
    let t = e.store().timeline(run.id).await.unwrap();
    let names: Vec<_> = t.steps.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, vec!["network:app", "server:web-1", "server:web-2"]);
    assert_eq!(
        t.step("server:web-2").unwrap().params,
        json!({ "host": "web-2" })
    );
    h.shutdown(WAIT).await;
}

async fn bad_input_is_refused_and_stores_nothing(db: &Db) {
    let dup = WorkflowDefinition::new("dup", 1)
        .kind(Step::new("k", |_: StepContext, _: Value| async {
            Ok::<_, StepError>(())
        }))
        .plan(|_: &Value| {
            Ok(vec![
                StepInstance::new("x", "k", &1).unwrap(),
                StepInstance::new("x", "k", &2).unwrap(),
            ])
        });
    let unknown = WorkflowDefinition::new("unknown", 1)
        .kind(Step::new("k", |_: StepContext, _: Value| async {
            Ok::<_, StepError>(())
        }))
        .plan(|_: &Value| Ok(vec![StepInstance::new("x", "nope", &1).unwrap()]));
    let e = engine(db, vec![planned(Log::default()), dup, unknown]).await;
    let err = e
        .start(StartRequest::new("provision", &json!({ "servers": 3 })).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err}");
    let err = e
        .start(StartRequest::new("dup", &json!(null)).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not unique"), "{err}");
    let err = e
        .start(StartRequest::new("unknown", &json!(null)).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown kind"), "{err}");
    let err = e
        .start(StartRequest::new("nope", &json!(null)).unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnknownDefinition { .. }));
    // a static step whose typed parameters do not match the input
    let typed = WorkflowDefinition::new("typed", 1).step(Step::new(
        "s",
        |_: StepContext, p: ServerParams| async move { Ok::<_, StepError>(p.host) },
    ));
    let e2 = engine(db, vec![typed]).await;
    let err = e2
        .start(StartRequest::new("typed", &json!({ "hots": "x" })).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("do not match"), "{err}");
    assert!(
        e.store()
            .list(&WorkflowFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    // a definition with neither steps nor plan is refused at registration
    let err = common::fast(nuage_workflows::Engine::builder(db.store().await))
        .register(WorkflowDefinition::new("empty", 1))
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::InvalidDefinition { .. }));
}

async fn idempotent_start_returns_the_same_run(db: &Db) {
    let noop = |name: &str| {
        WorkflowDefinition::new(name, 1).step(Step::new("s", |_: StepContext, _: Value| async {
            Ok::<_, StepError>(())
        }))
    };
    let e = engine(db, vec![noop("one"), noop("two")]).await;
    let a = e
        .start(
            StartRequest::new("one", &1)
                .unwrap()
                .idempotency_key("req-7"),
        )
        .await
        .unwrap();
    let b = e
        .start(
            StartRequest::new("one", &2)
                .unwrap()
                .idempotency_key("req-7"),
        )
        .await
        .unwrap();
    assert!(a.created && !b.created);
    assert_eq!(a.id, b.id);
    assert_eq!(e.store().get(a.id).await.unwrap().input, json!(1));
    let err = e
        .start(
            StartRequest::new("two", &1)
                .unwrap()
                .idempotency_key("req-7"),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IdempotencyConflict { existing, .. } if existing == a.id));
    // concurrent starts with one key still make one run
    let mut handles = Vec::new();
    for i in 0..8 {
        let e = e.clone();
        handles.push(tokio::spawn(async move {
            e.start(
                StartRequest::new("one", &i)
                    .unwrap()
                    .idempotency_key("race"),
            )
            .await
            .unwrap()
            .id
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.dedup();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        e.store()
            .list(&WorkflowFilter::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Fails `fails` times with `err`, then succeeds.
fn flaky(name: &str, fails: u32, err: StepError, policy: RetryPolicy) -> WorkflowDefinition {
    let n = Arc::new(AtomicU32::new(0));
    WorkflowDefinition::new(name, 1)
        .on_failure(OnFailure::WaitForOperator)
        .step(
            Step::new("flaky", move |ctx: StepContext, _: Value| {
                let n = n.clone();
                let err = err.clone();
                async move {
                    if n.fetch_add(1, Ordering::SeqCst) < fails {
                        Err(err)
                    } else {
                        Ok(ctx.attempt())
                    }
                }
            })
            .retry(policy),
        )
}

async fn retries_wait_their_stored_backoff(db: &Db) {
    let policy = RetryPolicy::new(5, Duration::from_millis(200), Duration::from_millis(300));
    let e = engine(
        db,
        vec![flaky("flaky", 3, StepError::transient("boom"), policy)],
    )
    .await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("flaky", &()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    let t = e.store().timeline(run.id).await.unwrap();
    let s = t.step("flaky").unwrap();
    assert_eq!(s.attempts, 4);
    assert_eq!(s.output, Some(json!(4)));
    let retries: Vec<_> = t.events_of("retry_scheduled").collect();
    assert_eq!(retries.len(), 3);
    for (i, ev) in retries.iter().enumerate() {
        let d = ev.detail.as_ref().unwrap();
        let delay = d["delay_ms"].as_i64().unwrap();
        let ceiling = policy.ceiling(i as u32 + 1).as_millis() as i64;
        assert!(
            (0..=ceiling).contains(&delay),
            "delay {delay} above ceiling {ceiling}"
        );
        assert_eq!(d["error"], "boom");
        let failed = &s.attempt_log[i];
        let next = &s.attempt_log[i + 1];
        assert_eq!(failed.outcome.as_deref(), Some("failed"));
        assert_eq!(failed.error_kind.as_deref(), Some("transient"));
        assert!(
            next.started_at >= failed.finished_at.unwrap() + delay,
            "attempt {} started before its stored retry time",
            i + 2
        );
    }
    h.shutdown(WAIT).await;
}

async fn throttling_waits_at_least_retry_after(db: &Db) {
    let err = StepError::throttled(Duration::from_millis(400), "slow down");
    let e = engine(db, vec![flaky("thr", 1, err, quick(3))]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("thr", &()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    let t = e.store().timeline(run.id).await.unwrap();
    let log = &t.step("flaky").unwrap().attempt_log;
    assert_eq!(log[0].error_kind.as_deref(), Some("throttled"));
    assert!(log[1].started_at - log[0].finished_at.unwrap() >= 400);
    h.shutdown(WAIT).await;
}

async fn terminal_error_fails_without_retry(db: &Db) {
    let e = engine(
        db,
        vec![flaky(
            "term",
            10,
            StepError::terminal("bad request"),
            quick(5),
        )],
    )
    .await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("term", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Failed);
    assert_eq!(rec.error.as_deref(), Some("bad request"));
    let t = e.store().timeline(run.id).await.unwrap();
    let s = t.step("flaky").unwrap();
    assert_eq!((s.state, s.attempts), (StepState::Failed, 1));
    assert_eq!(s.attempt_log[0].error_kind.as_deref(), Some("terminal"));
    assert_eq!(t.events_of("retry_scheduled").count(), 0);
    assert!(rec.lease_owner.is_none() && rec.next_run_at.is_none());
    h.shutdown(WAIT).await;
}

/// Three steps logging forward and compensation; `c` fails transiently always.
fn undoable(name: &str, log: Log, fail_c: bool) -> WorkflowDefinition {
    let mk = |step: &'static str, log: Log| {
        let l2 = log.clone();
        Step::new(step, move |_: StepContext, _: Value| {
            let log = log.clone();
            async move {
                log.push(format!("do:{step}"));
                if step == "c" && fail_c {
                    return Err(StepError::transient("c is down"));
                }
                Ok(format!("out-{step}"))
            }
        })
        .compensate(move |ctx: StepContext, _: Value, out: Option<String>| {
            let log = l2.clone();
            async move {
                assert_eq!(ctx.phase(), Phase::Compensate);
                log.push(format!("undo:{step}:{}", out.unwrap_or_else(|| "-".into())));
                Ok(())
            }
        })
        .retry(quick(2))
    };
    WorkflowDefinition::new(name, 1)
        .step(mk("a", log.clone()))
        .step(mk("b", log.clone()))
        .step(mk("c", log))
}

async fn exhausted_step_compensates_in_reverse_order(db: &Db) {
    let log = Log::default();
    let e = engine(db, vec![undoable("undo", log.clone(), true)]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("undo", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Compensated);
    assert_eq!(rec.error.as_deref(), Some("c is down"));
    assert_eq!(
        log.all(),
        vec![
            "do:a",
            "do:b",
            "do:c",
            "do:c",
            "undo:c:-",
            "undo:b:out-b",
            "undo:a:out-a"
        ]
    );
    let t = e.store().timeline(run.id).await.unwrap();
    assert!(t.steps.iter().all(|s| s.state == StepState::Compensated));
    assert_eq!(t.events_of("step_compensated").count(), 3);
    h.shutdown(WAIT).await;
}

async fn cancellation_interrupts_then_compensates(db: &Db) {
    let log = Log::default();
    let l = log.clone();
    let def = WorkflowDefinition::new("cancel", 1)
        .step(
            Step::new("a", |_: StepContext, _: Value| async {
                Ok::<_, StepError>(1)
            })
            .compensate({
                let log = log.clone();
                move |_: StepContext, _: Value, _: Option<i32>| {
                    let log = log.clone();
                    async move {
                        log.push("undo:a");
                        Ok(())
                    }
                }
            }),
        )
        .step(
            Step::new("wait", move |ctx: StepContext, _: Value| {
                let log = l.clone();
                async move {
                    log.push("waiting");
                    ctx.cancelled().await;
                    log.push("noticed cancel");
                    Err::<(), _>(StepError::transient("cancelled"))
                }
            })
            .compensate({
                let log = log.clone();
                move |_: StepContext, _: Value, out: Option<()>| {
                    let log = log.clone();
                    async move {
                        assert!(out.is_none());
                        log.push("undo:wait");
                        Ok(())
                    }
                }
            }),
        )
        .step(Step::new("never", |_: StepContext, _: Value| async {
            Ok::<_, StepError>(())
        }));
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("cancel", &()).unwrap())
        .await
        .unwrap();
    while log.count("waiting") == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    e.store().cancel(run.id, "alice").await.unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Cancelled);
    assert_eq!(
        log.all(),
        vec!["waiting", "noticed cancel", "undo:wait", "undo:a"]
    );
    let t = e.store().timeline(run.id).await.unwrap();
    let ev = t.events_of("operator_cancel").next().unwrap();
    assert_eq!(ev.actor.as_deref(), Some("alice"));
    assert_eq!(t.step("never").unwrap().attempts, 0);
    // a finished run cannot be cancelled
    let err = e.store().cancel(run.id, "alice").await.unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidState {
            state: WorkflowState::Cancelled,
            ..
        }
    ));
    h.shutdown(WAIT).await;
}

async fn cancel_before_any_worker_ends_cancelled(db: &Db) {
    let log = Log::default();
    let e = engine(db, vec![undoable("undo", log.clone(), false)]).await;
    let run = e
        .start(StartRequest::new("undo", &()).unwrap())
        .await
        .unwrap();
    e.store().cancel(run.id, "bob").await.unwrap();
    assert_eq!(
        e.store().get(run.id).await.unwrap().state,
        WorkflowState::Cancelling
    );
    let h = e.run();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Cancelled);
    assert!(
        log.all().is_empty(),
        "nothing ran, nothing to undo: {:?}",
        log.all()
    );
    h.shutdown(WAIT).await;
}

async fn step_timeout_counts_as_transient(db: &Db) {
    let def = WorkflowDefinition::new("slow", 1)
        .on_failure(OnFailure::WaitForOperator)
        .step(
            Step::new("slow", |_: StepContext, _: Value| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                Ok::<_, StepError>(())
            })
            .timeout(Duration::from_millis(100))
            .retry(quick(2)),
        );
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("slow", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Failed);
    let t = e.store().timeline(run.id).await.unwrap();
    let s = t.step("slow").unwrap();
    assert_eq!(s.attempts, 2);
    for a in &s.attempt_log {
        assert_eq!(a.outcome.as_deref(), Some("timed_out"));
        assert_eq!(a.error_kind.as_deref(), Some("transient"));
        assert!(a.duration_ms.unwrap() >= 100);
    }
    h.shutdown(WAIT).await;
}

async fn workflow_deadline_fails_the_run(db: &Db) {
    let log = Log::default();
    let l = log.clone();
    let def = WorkflowDefinition::new("deadline", 1)
        .timeout(Duration::from_millis(400))
        .step(
            Step::new("forever", |_: StepContext, _: Value| async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok::<_, StepError>(())
            })
            .compensate(move |_: StepContext, _: Value, _: Option<()>| {
                let l = l.clone();
                async move {
                    l.push("undo");
                    Ok(())
                }
            }),
        );
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("deadline", &()).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Compensated);
    assert!(rec.error.unwrap().contains("deadline"));
    assert!(rec.finished_at.unwrap() - rec.created_at < 5_000);
    assert_eq!(log.all(), vec!["undo"]);
    h.shutdown(WAIT).await;
}

async fn handler_panic_is_terminal_and_worker_survives(db: &Db) {
    let def = WorkflowDefinition::new("panic", 1)
        .on_failure(OnFailure::WaitForOperator)
        .step(
            Step::new("p", |_: StepContext, boom: bool| async move {
                if boom {
                    panic!("kaboom");
                }
                Ok::<_, StepError>(())
            })
            .retry(quick(5)),
        );
    let e = common::fast(nuage_workflows::Engine::builder(db.store().await))
        .workers(1)
        .register(def)
        .build()
        .unwrap();
    let h = e.run();
    let bad = e
        .start(StartRequest::new("panic", &true).unwrap())
        .await
        .unwrap();
    let rec = e.store().wait_terminal(bad.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Failed);
    let t = e.store().timeline(bad.id).await.unwrap();
    let s = t.step("p").unwrap();
    assert_eq!(s.attempts, 1);
    assert!(
        s.attempt_log[0]
            .error
            .as_deref()
            .unwrap()
            .contains("kaboom")
    );
    assert_eq!(s.attempt_log[0].error_kind.as_deref(), Some("terminal"));
    let good = e
        .start(StartRequest::new("panic", &false).unwrap())
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(good.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    h.shutdown(WAIT).await;
}

async fn checkpoint_is_visible_to_the_next_attempt(db: &Db) {
    let log = Log::default();
    let l = log.clone();
    let def = WorkflowDefinition::new("ckpt", 1).step(
        Step::new("create", move |ctx: StepContext, _: Value| {
            let log = l.clone();
            async move {
                let seen: Option<String> = ctx.checkpointed()?;
                log.push(format!("attempt {} saw {seen:?}", ctx.attempt()));
                if ctx.attempt() == 1 {
                    ctx.checkpoint(&format!("pending:{}", ctx.idempotency_key()))
                        .await?;
                    return Err(StepError::transient("crashed after create"));
                }
                Ok(seen.unwrap())
            }
        })
        .retry(quick(3)),
    );
    let e = engine(db, vec![def]).await;
    let h = e.run();
    let run = e
        .start(StartRequest::new("ckpt", &()).unwrap())
        .await
        .unwrap();
    assert_eq!(
        e.store().wait_terminal(run.id, WAIT).await.unwrap().state,
        WorkflowState::Succeeded
    );
    let key = format!("pending:wf-{}-create", run.id.simple());
    assert_eq!(
        log.all(),
        vec![
            "attempt 1 saw None".to_string(),
            format!("attempt 2 saw Some({key:?})")
        ]
    );
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(t.step("create").unwrap().checkpoint, Some(json!(key)));
    h.shutdown(WAIT).await;
}

/// Plays a zombie: while a worker runs a step, another worker takes the run
/// over (expired lease, epoch + 1). The first worker's checkpoint and
/// completion are rejected and counted; the step's effect is not recorded
/// from it.
async fn stale_epoch_writes_are_rejected(db: &Db) {
    let log = Log::default();
    let l = log.clone();
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let def = WorkflowDefinition::new("zombie", 1).step(Step::new(
        "s",
        move |ctx: StepContext, _: Value| {
            let log = l.clone();
            let gate = g.clone();
            async move {
                log.push(format!("epoch {}", ctx.epoch()));
                if ctx.attempt() == 1 {
                    gate.notified().await;
                    let r = ctx.checkpoint(&"late").await;
                    log.push(format!(
                        "checkpoint {}",
                        if r.is_err() { "rejected" } else { "accepted" }
                    ));
                }
                Ok::<_, StepError>(ctx.epoch())
            }
        },
    ));
    let e = common::fast(nuage_workflows::Engine::builder(db.store().await))
        .lease_ttl(Duration::from_secs(60))
        .register(def)
        .build()
        .unwrap();
    let h = e.run();
    let run = e
        .start(StartRequest::new("zombie", &()).unwrap())
        .await
        .unwrap();
    while log.all().is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // another replica takes over: epoch bumped, lease owned by someone else
    let n = db
        .exec(&format!(
            "UPDATE wf_workflows SET lease_epoch = lease_epoch + 1, lease_owner = 'other' WHERE id = '{}'",
            run.id
        ))
        .await;
    assert_eq!(n, 1);
    gate.notify_one();
    let t0 = std::time::Instant::now();
    loop {
        let recorded = e
            .store()
            .timeline(run.id)
            .await
            .unwrap()
            .events_of("stale_write_rejected")
            .count();
        if (e.stale_writes_rejected() >= 2 && recorded >= 2) || t0.elapsed() > WAIT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        e.stale_writes_rejected() >= 2,
        "checkpoint and completion both rejected"
    );
    let t = e.store().timeline(run.id).await.unwrap();
    assert_eq!(
        t.step("s").unwrap().output,
        None,
        "the zombie's completion was not recorded"
    );
    assert_eq!(t.step("s").unwrap().checkpoint, None);
    assert!(t.events_of("stale_write_rejected").count() >= 2);
    assert_eq!(log.all()[1], "checkpoint rejected");
    // the lease of the other worker expires: the run is taken again and finishes
    db.exec(&format!(
        "UPDATE wf_workflows SET lease_expires_at = 0 WHERE id = '{}'",
        run.id
    ))
    .await;
    let rec = e.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    let t = e.store().timeline(run.id).await.unwrap();
    let s = t.step("s").unwrap();
    assert_eq!(s.attempts, 2);
    assert_eq!(s.attempt_log[0].outcome.as_deref(), Some("abandoned"));
    assert_eq!(s.output, Some(json!(s.attempt_log[1].epoch)));
    assert!(s.attempt_log[1].epoch > s.attempt_log[0].epoch + 1);
    h.shutdown(WAIT).await;
}

async fn runs_keep_their_definition_version(db: &Db) {
    let v = |version: u32| {
        WorkflowDefinition::new("versioned", version)
            .step(Step::new("s", move |_: StepContext, _: Value| async move {
                Ok::<_, StepError>(version)
            }))
    };
    let old = engine(db, vec![v(1)]).await;
    let r1 = old
        .start(StartRequest::new("versioned", &()).unwrap())
        .await
        .unwrap();
    // a newer binary knows both versions: the old run keeps v1, a new one gets v2
    let new = engine(db, vec![v(1), v(2)]).await;
    let r2 = new
        .start(StartRequest::new("versioned", &()).unwrap())
        .await
        .unwrap();
    let h = new.run();
    for (id, want) in [(r1.id, 1), (r2.id, 2)] {
        new.store().wait_terminal(id, WAIT).await.unwrap();
        let t = new.store().timeline(id).await.unwrap();
        assert_eq!(t.workflow.version, want);
        assert_eq!(t.step("s").unwrap().output, Some(json!(want)));
    }
    h.shutdown(WAIT).await;
    // a worker that only knows v2 never claims a v1 run
    let only2 = engine(db, vec![v(2)]).await;
    let r3 = old
        .start(StartRequest::new("versioned", &()).unwrap())
        .await
        .unwrap();
    let h = only2.run();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        only2.store().get(r3.id).await.unwrap().state,
        WorkflowState::Pending
    );
    h.shutdown(WAIT).await;
}

async fn retry_survives_a_restart(db: &Db) {
    let policy = RetryPolicy::new(3, Duration::from_millis(800), Duration::from_millis(800));
    let first = engine(
        db,
        vec![flaky("restart", 1, StepError::transient("once"), policy)],
    )
    .await;
    let h = first.run();
    let run = first
        .start(StartRequest::new("restart", &()).unwrap())
        .await
        .unwrap();
    loop {
        let t = first.store().timeline(run.id).await.unwrap();
        if t.events_of("retry_scheduled").count() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    h.shutdown(WAIT).await;
    let parked = first.store().get(run.id).await.unwrap();
    assert_eq!(parked.state, WorkflowState::Running);
    assert!(parked.next_run_at.is_some() && parked.lease_owner.is_none());
    // a new process (new store, new engine) picks the stored retry up
    let second = engine(
        db,
        vec![flaky("restart", 0, StepError::transient("never"), policy)],
    )
    .await;
    let h = second.run();
    let rec = second.store().wait_terminal(run.id, WAIT).await.unwrap();
    assert_eq!(rec.state, WorkflowState::Succeeded);
    let t = second.store().timeline(run.id).await.unwrap();
    let s = t.step("flaky").unwrap();
    assert_eq!(s.attempts, 2);
    assert!(s.attempt_log[1].started_at >= parked.next_run_at.unwrap());
    assert_ne!(s.attempt_log[0].worker, s.attempt_log[1].worker);
    h.shutdown(WAIT).await;
}
