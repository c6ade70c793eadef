//! Why an image could not be verified: distinct from a rejection (the
//! policy ran and said no, which is a [`Report`](super::Report)).

/// Who has to act (defined beside the reason codes, below every pipeline
/// and the policy editor that use it).
pub use crate::reason::ErrorClass;
use crate::Reason;

/// An image that could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct VerifyError {
    /// Who has to act: exit 2 (input) or 3 (outside).
    pub class: ErrorClass,
    /// Why, as a stable code (docs/json-output.md, "Error codes").
    pub code: Reason,
    /// What went wrong, naming the file, URL or value.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl VerifyError {
    /// The request is unusable (exit 2): retrying cannot help.
    pub fn input(code: Reason, message: impl Into<String>) -> VerifyError {
        VerifyError {
            class: ErrorClass::Input,
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// Something outside failed (exit 3): retrying may help.
    pub fn outside(code: Reason, message: impl Into<String>) -> VerifyError {
        VerifyError {
            class: ErrorClass::Outside,
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error, with what the user can do about it.
    pub fn with_hint(mut self, hint: impl Into<String>) -> VerifyError {
        self.hint = Some(hint.into());
        self
    }
}

impl From<crate::registry::network::NetworkError> for VerifyError {
    fn from(e: crate::registry::network::NetworkError) -> VerifyError {
        let class = if e.is_configuration() || e.is_not_found() {
            ErrorClass::Input
        } else {
            ErrorClass::Outside
        };
        VerifyError {
            class,
            code: e.code(),
            message: e.to_string(),
            hint: e.hint().map(str::to_owned),
        }
    }
}

/// For a verification, a rejected layout is a report, not an error: the
/// pipeline turns [`crate::reason::ErrorClass::Rejected`] into the image's rejection first.
impl From<crate::oci::OciError> for VerifyError {
    fn from(e: crate::oci::OciError) -> VerifyError {
        let err = match e.class {
            crate::reason::ErrorClass::Outside => VerifyError::outside(e.code, e.message),
            _ => VerifyError::input(e.code, e.message),
        };
        match e.hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}
