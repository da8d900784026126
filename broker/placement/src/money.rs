//! Money in euros, held as whole micro-euros so sums and products are exact.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// Hours in a billing month, as the doctrine's cost estimates count them.
pub const HOURS_PER_MONTH: i64 = 730;

const MICROS: f64 = 1_000_000.0;

/// An amount in euros (excluding VAT), exact to the micro-euro.
///
/// Written in files and JSON as a plain number of euros (`0.0512`); the largest accepted amount
/// is one thousand billion euros.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

impl Money {
    /// Zero euros.
    pub const ZERO: Money = Money(0);
    /// The largest amount a file may state.
    pub const MAX: Money = Money(1_000_000_000_000 * 1_000_000);

    /// An amount from whole micro-euros.
    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// The amount in micro-euros.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// An amount from a number of euros, rounded to the micro-euro; `None` when negative, not
    /// finite, or above [`Money::MAX`].
    pub fn from_euros(euros: f64) -> Option<Money> {
        if !euros.is_finite() || euros < 0.0 {
            return None;
        }
        let micros = (euros * MICROS).round();
        (micros <= Money::MAX.0 as f64).then_some(Money(micros as i64))
    }

    /// The amount in euros, for display and JSON.
    pub fn euros(self) -> f64 {
        self.0 as f64 / MICROS
    }

    /// The amount times a whole quantity, saturating rather than overflowing.
    pub fn times(self, quantity: i64) -> Money {
        Money(self.0.saturating_mul(quantity))
    }
}

impl Add for Money {
    type Output = Money;
    fn add(self, rhs: Money) -> Money {
        Money(self.0.saturating_add(rhs.0))
    }
}

impl AddAssign for Money {
    fn add_assign(&mut self, rhs: Money) {
        *self = *self + rhs;
    }
}

impl Sub for Money {
    type Output = Money;
    fn sub(self, rhs: Money) -> Money {
        Money(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for Money {
    /// Euros with two decimals (cents), e.g. `37.38 EUR`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = (self.0 + self.0.signum() * 5_000) / 10_000;
        let sign = if cents < 0 { "-" } else { "" };
        write!(
            f,
            "{sign}{}.{:02} EUR",
            cents.abs() / 100,
            cents.abs() % 100
        )
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.euros())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let euros = f64::deserialize(d)?;
        Money::from_euros(euros).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{euros} is not an amount of euros between 0 and {}",
                Money::MAX.euros()
            ))
        })
    }
}

impl JsonSchema for Money {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "number",
            "minimum": 0,
            "maximum": Money::MAX.euros(),
            "description": "An amount in euros, excluding VAT."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_exact() {
        let hourly = Money::from_euros(0.0512).unwrap();
        assert_eq!(
            hourly.times(HOURS_PER_MONTH),
            Money::from_euros(37.376).unwrap()
        );
        assert_eq!(hourly.times(HOURS_PER_MONTH).to_string(), "37.38 EUR");
    }

    #[test]
    fn refuses_negative_and_absurd_amounts() {
        assert_eq!(Money::from_euros(-0.01), None);
        assert_eq!(Money::from_euros(f64::NAN), None);
        assert_eq!(Money::from_euros(2e12), None);
        assert!(serde_json::from_str::<Money>("-1").is_err());
    }
}
