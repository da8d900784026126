//! One placement over 10,000 synthetic offers (target: p50 under 1 ms).
//!
//! Run: `cargo bench -p nuage-placement --bench placement`.
#![allow(missing_docs)] // criterion's macros generate undocumented items

mod synthetic;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use nuage_placement::{PlacementContext, Policy, place};
use std::hint::black_box;
use synthetic::{request, synthetic};

fn bench(c: &mut Criterion) {
    let catalogue = synthetic(10_000);
    let policy = Policy::default_policy();
    let ctx = PlacementContext::at(Utc::now());
    let mut group = c.benchmark_group("place_10k_offers");
    for level in ["public", "personal", "sensitive"] {
        let req = request(level);
        group.bench_function(level, |b| {
            b.iter(|| place(black_box(&req), black_box(&catalogue), &policy, &ctx))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
