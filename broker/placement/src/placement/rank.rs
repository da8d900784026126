//! Ranking the offers that passed every filter: by estimated monthly cost, then tier (internal
//! first), then providers without non-EU control, then offer index (the catalogue is sorted by
//! id, so the index stands for the id). Keys are packed into integers so the sort reads nothing
//! else; a 64-bit key serves while costs and indexes fit in it, a 128-bit one otherwise.

use crate::catalogue::facts::Facts;
use crate::money::Money;

/// An offer that passed every filter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Survivor {
    pub(crate) cost: Money,
    pub(crate) index: usize,
}

const COST_BITS: u32 = 40;
const INDEX_BITS: u32 = 21;

fn tie(f: &Facts) -> u64 {
    ((f.tier as u64) << 1) | u64::from(f.non_eu_control)
}

/// The survivors in rank order, as (cost, offer index).
pub(crate) fn rank(survivors: &[Survivor], facts: &[Facts]) -> Vec<(Money, usize)> {
    let max_cost = survivors.iter().map(|s| s.cost.micros()).max().unwrap_or(0);
    if max_cost < 1 << COST_BITS && facts.len() < 1 << INDEX_BITS {
        let mut keys: Vec<u64> = survivors
            .iter()
            .map(|s| {
                ((s.cost.micros() as u64) << (64 - COST_BITS))
                    | (tie(&facts[s.index]) << INDEX_BITS)
                    | s.index as u64
            })
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|k| {
                let cost = Money::from_micros((k >> (64 - COST_BITS)) as i64);
                (cost, (k & ((1 << INDEX_BITS) - 1)) as usize)
            })
            .collect()
    } else {
        let mut keys: Vec<u128> = survivors
            .iter()
            .map(|s| {
                (u128::from(s.cost.micros().unsigned_abs()) << 64)
                    | (u128::from(tie(&facts[s.index])) << 61)
                    | s.index as u128
            })
            .collect();
        keys.sort_unstable();
        keys.into_iter()
            .map(|k| {
                let cost = Money::from_micros((k >> 64) as i64);
                (cost, (k as u64 & ((1 << 61) - 1)) as usize)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both key widths give the same order.
    #[test]
    fn wide_and_narrow_keys_agree() {
        let catalogue = crate::Catalogue::example();
        let facts = catalogue.facts();
        let survivors: Vec<Survivor> = (0..facts.len())
            .map(|i| Survivor {
                cost: Money::from_micros(((i * 7919) % 5) as i64 * 1000),
                index: i,
            })
            .collect();
        let narrow = rank(&survivors, facts);
        let mut big = survivors.clone();
        big.push(Survivor {
            cost: Money::from_micros(1 << 45),
            index: 0,
        });
        let wide = rank(&big, facts);
        assert_eq!(&wide[..narrow.len()], &narrow[..]);
        assert_eq!(wide.last().unwrap().0, Money::from_micros(1 << 45));
        // Equal costs: internal before dedicated before external, then by index.
        let tiers: Vec<_> = narrow
            .iter()
            .filter(|(c, _)| *c == Money::ZERO)
            .map(|(_, i)| (facts[*i].tier, *i))
            .collect();
        let mut sorted = tiers.clone();
        sorted.sort();
        assert_eq!(tiers, sorted);
    }
}
