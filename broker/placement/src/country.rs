//! ISO 3166-1 alpha-2 country codes.

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// A country as its ISO 3166-1 alpha-2 code (`FR`, `DE`, `GB`), two upper-case letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// Parses two upper-case ASCII letters.
    pub fn parse(s: &str) -> Option<CountryCode> {
        match s.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                Some(CountryCode([*a, *b]))
            }
            _ => None,
        }
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Both bytes are ASCII upper-case letters by construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for CountryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CountryCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CountryCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<CountryCode, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        CountryCode::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{s:?} is not an ISO 3166-1 alpha-2 country code (two upper-case letters)"
            ))
        })
    }
}

impl JsonSchema for CountryCode {
    fn schema_name() -> Cow<'static, str> {
        "CountryCode".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[A-Z]{2}$",
            "description": "ISO 3166-1 alpha-2 country code."
        })
    }
}

/// A set of countries, as one bit per possible code, so membership is one lookup.
#[derive(Clone, PartialEq, Eq)]
pub struct CountrySet([u64; 11]);

impl CountrySet {
    fn index(c: CountryCode) -> usize {
        usize::from(c.0[0] - b'A') * 26 + usize::from(c.0[1] - b'A')
    }

    /// Whether `c` is in the set.
    pub fn contains(&self, c: CountryCode) -> bool {
        let i = CountrySet::index(c);
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
}

impl FromIterator<CountryCode> for CountrySet {
    fn from_iter<I: IntoIterator<Item = CountryCode>>(iter: I) -> Self {
        let mut bits = [0u64; 11];
        for c in iter {
            let i = CountrySet::index(c);
            bits[i / 64] |= 1 << (i % 64);
        }
        CountrySet(bits)
    }
}

impl fmt::Debug for CountrySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_set();
        for a in b'A'..=b'Z' {
            for b in b'A'..=b'Z' {
                let c = CountryCode([a, b]);
                if self.contains(c) {
                    list.entry(&c.as_str().to_string());
                }
            }
        }
        list.finish()
    }
}
