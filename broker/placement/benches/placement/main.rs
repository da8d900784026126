//! One placement over 10,000 synthetic offers (target: p50 under 1 ms).
//!
//! Run: `cargo bench -p nuage-placement --bench placement`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

mod cpu;
mod synthetic;

use chrono::Utc;
use criterion::measurement::Measurement;
use criterion::{Criterion, criterion_group, criterion_main};
use nuage_placement::{PlacementContext, Policy, place};
use std::hint::black_box;
use synthetic::{request, synthetic};

/// The same placements, timed by wall clock and by the thread's CPU time.
fn run<M: Measurement>(c: &mut Criterion<M>, name: &str) {
    let catalogue = synthetic(10_000);
    let policy = Policy::default_policy();
    let ctx = PlacementContext::at(Utc::now());
    let mut group = c.benchmark_group(name);
    for level in ["public", "personal", "sensitive"] {
        let req = request(level);
        group.bench_function(level, |b| {
            b.iter(|| place(black_box(&req), black_box(&catalogue), &policy, &ctx))
        });
    }
    group.finish();
}

fn wall(c: &mut Criterion) {
    run(c, "place_10k_offers");
}

fn cpu(c: &mut Criterion<cpu::ThreadCpu>) {
    run(c, "place_10k_offers_cpu");
}

criterion_group!(by_wall_clock, wall);
criterion_group! {
    name = by_cpu_time;
    config = Criterion::default().with_measurement(cpu::ThreadCpu);
    targets = cpu
}
criterion_main!(by_wall_clock, by_cpu_time);
