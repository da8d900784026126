//! The `nuage` binary: runs the broker, plans placements and drives a running broker.

fn main() {}
