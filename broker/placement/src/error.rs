//! The errors of placement's inputs. Refusals are not errors: they are decisions.

use crate::request::FieldError;
use std::fmt;
use std::path::PathBuf;

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why an input (request, catalogue, policy) could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not well-formed YAML/JSON.
    #[error("{what} is not well-formed YAML or JSON: {message}")]
    Syntax {
        /// What was being read (`request`, a file name...).
        what: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// The request breaks the schema or its rules; every bad field is listed.
    #[error("the request is invalid: {}", Listed(.0))]
    InvalidRequest(Vec<FieldError>),
    /// The catalogue has bad offers; every problem is listed with its file and offer.
    #[error("the catalogue is invalid: {}", Listed(.0))]
    InvalidCatalogue(Vec<SourcedError>),
    /// The policy file is invalid; every problem is listed.
    #[error("the policy is invalid: {}", Listed(.0))]
    InvalidPolicy(Vec<SourcedError>),
    /// A file or directory could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
}

impl Error {
    /// The field errors to show a user, whatever the kind of input.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Error::InvalidRequest(v) => v.clone(),
            Error::InvalidCatalogue(v) | Error::InvalidPolicy(v) => {
                v.iter().map(SourcedError::to_field_error).collect()
            }
            Error::Syntax { message, .. } => vec![FieldError::new("", message.clone())],
            Error::Io { .. } => vec![FieldError::new("", self.to_string())],
        }
    }
}

/// A problem in a file of a multi-file input (catalogue, policy): which file, which offer, which
/// field.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourcedError {
    /// The file.
    pub file: String,
    /// The offer id (or the offer's index when it has no readable id), if the problem is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer: Option<String>,
    /// The field's path within the offer (or the file) and the problem.
    pub error: FieldError,
}

impl SourcedError {
    fn to_field_error(&self) -> FieldError {
        FieldError::new(
            match &self.offer {
                Some(o) => format!("{}: offer {o}: {}", self.file, self.error.path),
                None => format!("{}: {}", self.file, self.error.path),
            },
            self.error.message.clone(),
        )
    }
}

impl fmt::Display for SourcedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(o) = &self.offer {
            write!(f, ": offer {o}")?;
        }
        write!(f, ": {}", self.error)
    }
}

struct Listed<'a, T>(&'a [T]);

impl<T: fmt::Display> fmt::Display for Listed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}
