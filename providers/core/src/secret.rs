//! A string that never shows itself in logs, errors or debug output.

use std::fmt;

use serde::{Deserialize, Deserializer};

/// A credential (secret key, password, token). `Debug` and `Display` print `***`; the value is
/// read only through [`Secret::expose`]. It deserializes from a plain string (config files,
/// resolved secret references) and deliberately does not serialize.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_itself() {
        let s = Secret::new("wJalrXUtnFEMI/K7MDENG");
        assert_eq!(format!("{s}"), "***");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        #[derive(Debug, Deserialize)]
        #[allow(dead_code)]
        struct Creds {
            key: Secret,
        }
        let c: Creds = serde_json::from_str(r#"{"key":"wJalrXUtnFEMI/K7MDENG"}"#).unwrap();
        assert!(!format!("{c:?}").contains("wJalr"));
        assert_eq!(c.key.expose(), "wJalrXUtnFEMI/K7MDENG");
    }
}
