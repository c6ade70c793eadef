//! Why an image could not be fetched (in full): unusable input, a failure
//! outside, or a manifest the registry sent that must not be used.

use std::error::Error;

use crate::registry::network::NetworkError;
use crate::store::lookaside::LookasideError;
use crate::store::mirror::RecordError;
pub use crate::verify::ErrorClass;
use crate::Reason;

/// An image that could not be fetched, or not completely (see
/// [`Report::error`](super::Report::error)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct FetchError {
    /// Who has to act: [`ErrorClass::Input`] (exit 2), [`ErrorClass::Outside`]
    /// (exit 3) or [`ErrorClass::Rejected`] (exit 1: the registry sent a
    /// manifest that must not be used, so it is not mirrored).
    pub class: ErrorClass,
    /// Why, as a stable code (docs/json-output.md), e.g.
    /// `invalid-reference`, `signature-not-mirrored`, or the network's or the
    /// lookaside's code.
    pub code: Reason,
    /// What went wrong, naming the file, URL or value.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl FetchError {
    pub(crate) fn input(code: Reason, message: impl Into<String>) -> FetchError {
        FetchError {
            class: ErrorClass::Input,
            code,
            message: message.into(),
            hint: None,
        }
    }
}

impl From<NetworkError> for FetchError {
    fn from(e: NetworkError) -> FetchError {
        let class = if e.is_configuration() || e.is_not_found() {
            ErrorClass::Input
        } else if e.rejects_image() {
            ErrorClass::Rejected
        } else {
            ErrorClass::Outside
        };
        FetchError {
            class,
            code: e.code(),
            message: e.to_string(),
            hint: e.hint().map(str::to_owned),
        }
    }
}

impl From<LookasideError> for FetchError {
    fn from(e: LookasideError) -> FetchError {
        // The error and its causes, as `a: b: c`.
        let mut message = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            message.push_str(&format!(": {c}"));
            cause = c.source();
        }
        FetchError {
            class: if e.is_user_error() {
                ErrorClass::Input
            } else {
                ErrorClass::Outside
            },
            code: e.code(),
            message,
            hint: None,
        }
    }
}

impl From<RecordError> for FetchError {
    /// Writing a record fails outside (its image directories were written
    /// already), or the image was not mirrored in full.
    fn from(e: RecordError) -> FetchError {
        FetchError {
            class: ErrorClass::Outside,
            code: match e {
                RecordError::Incomplete { .. } => e.code(),
                _ => Reason::IoError,
            },
            message: e.to_string(),
            hint: None,
        }
    }
}
