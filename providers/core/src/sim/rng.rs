//! Deterministic draws: every random choice is a pure function of the seed and of what is being
//! decided, so concurrent calls on different resources do not disturb each other's outcomes.

/// SplitMix64 finalizer: a well-mixed 64-bit value from any input.
pub(super) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A value for the given seed and inputs.
pub(super) fn draw(seed: u64, inputs: &[u64]) -> u64 {
    inputs.iter().fold(mix(seed), |acc, &x| mix(acc ^ x))
}

/// A uniform float in `[0, 1)` from a draw.
pub(super) fn unit(value: u64) -> f64 {
    // 53 significant bits, exactly representable.
    (value >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_pure_and_spread() {
        assert_eq!(draw(7, &[1, 2]), draw(7, &[1, 2]));
        assert_ne!(draw(7, &[1, 2]), draw(8, &[1, 2]));
        assert_ne!(draw(7, &[1, 2]), draw(7, &[2, 1]));
        let below_half = (0..10_000).filter(|i| unit(draw(1, &[*i])) < 0.5).count();
        assert!((4_700..5_300).contains(&below_half), "{below_half}");
    }
}
