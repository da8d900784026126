//! The bearer token: held in a type whose `Debug` and `Display` never show it.

use std::fmt;

/// A bearer token. Only [`Token::expose`] gives the secret, for the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// Wraps a token, trimming surrounding whitespace (token files end with a newline).
    pub(crate) fn new(raw: &str) -> Option<Token> {
        let t = raw.trim();
        (!t.is_empty()).then(|| Token(t.to_owned()))
    }

    /// The secret itself.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_trimmed_and_never_printed() {
        let t = Token::new("  nuage_s3cr3t\n").unwrap();
        assert_eq!(t.expose(), "nuage_s3cr3t");
        assert!(!format!("{t:?} {t}").contains("s3cr3t"));
        assert!(Token::new(" \n").is_none());
    }
}
