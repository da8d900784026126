//! Secrets in the configuration: by reference (an environment variable or a file, such as a
//! mounted Kubernetes Secret) or, discouraged, by value. Never printed.

use std::path::PathBuf;

use nuage_provider::Secret;
use serde::Deserialize;

use crate::error::{Error, Result};

/// A secret given by reference or by value.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum SecretRef {
    /// `{env: VAR}`: the value of an environment variable.
    Env {
        /// Variable name.
        env: String,
    },
    /// `{file: PATH}`: the content of a file, trailing newline dropped.
    File {
        /// File path.
        file: PathBuf,
    },
    /// The value itself (redacted in every output).
    Value(Secret),
}

impl SecretRef {
    /// Reads the secret. Errors name the reference, never the value.
    pub fn resolve(&self) -> Result<Secret> {
        let secret = match self {
            SecretRef::Value(s) => s.clone(),
            SecretRef::Env { env } => std::env::var(env)
                .map(Secret::new)
                .map_err(|_| Error::Config(format!("secret variable {env} is not set")))?,
            SecretRef::File { file } => std::fs::read_to_string(file)
                .map(|s| Secret::new(s.trim_end_matches(['\n', '\r'])))
                .map_err(|e| {
                    Error::Config(format!("secret file {}: {}", file.display(), e.kind()))
                })?,
        };
        if secret.is_empty() {
            return Err(Error::Config(format!(
                "the secret {} is empty",
                self.describe()
            )));
        }
        Ok(secret)
    }

    /// Where the secret comes from, for messages (never the value).
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Env { env } => format!("from variable {env}"),
            SecretRef::File { file } => format!("from file {}", file.display()),
            SecretRef::Value(_) => "given inline".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_read_and_values_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "nuage_abc\n").unwrap();
        let r: SecretRef = serde_json::from_value(serde_json::json!({ "file": path })).unwrap();
        assert_eq!(r.resolve().unwrap().expose(), "nuage_abc");
        let v: SecretRef = serde_json::from_value(serde_json::json!("hunter2")).unwrap();
        assert!(!format!("{v:?}").contains("hunter2"));
        let missing: SecretRef =
            serde_json::from_value(serde_json::json!({ "env": "NUAGE_TEST_SURELY_UNSET_42" }))
                .unwrap();
        let err = missing.resolve().unwrap_err().to_string();
        assert!(err.contains("NUAGE_TEST_SURELY_UNSET_42"), "{err}");
    }
}
