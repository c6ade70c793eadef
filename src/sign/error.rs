//! Why signing could not be done: the request was unusable (input),
//! something outside failed (I/O, network, a signing command, gpg-agent), or
//! what came back must not be used (a signature that does not verify, a
//! registry serving other bytes than asked for).

pub use crate::verify::ErrorClass;
use crate::Reason;

/// Signing failed; nothing more was stored for the manifest it names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct SignError {
    /// Who has to act: exit 2 (input), 3 (outside) or 1 (rejected).
    pub class: ErrorClass,
    /// Why, as a stable code (docs/json-output.md).
    pub code: Reason,
    /// What went wrong, naming the file, key, URL or value.
    pub message: String,
    /// What the user can do about it.
    pub hint: Option<String>,
}

impl SignError {
    /// An unusable request, key or configuration.
    pub fn input(code: Reason, message: impl Into<String>) -> SignError {
        SignError::new(ErrorClass::Input, code, message)
    }

    /// Something outside failed; retrying may help.
    pub fn outside(code: Reason, message: impl Into<String>) -> SignError {
        SignError::new(ErrorClass::Outside, code, message)
    }

    /// What came back must not be used.
    pub fn rejected(code: Reason, message: impl Into<String>) -> SignError {
        SignError::new(ErrorClass::Rejected, code, message)
    }

    fn new(class: ErrorClass, code: Reason, message: impl Into<String>) -> SignError {
        SignError {
            class,
            code,
            message: message.into(),
            hint: None,
        }
    }

    /// The same error with a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> SignError {
        self.hint = Some(hint.into());
        self
    }

    /// The same error, its message prefixed by `what` (`what: message`).
    pub fn context(mut self, what: impl std::fmt::Display) -> SignError {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

/// An error and its sources, `: `-separated (as the command line prints a
/// chain of causes).
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl From<crate::registry::network::NetworkError> for SignError {
    fn from(e: crate::registry::network::NetworkError) -> SignError {
        let class = if e.is_configuration() || e.is_not_found() {
            ErrorClass::Input
        } else if e.rejects_image() {
            ErrorClass::Rejected
        } else {
            ErrorClass::Outside
        };
        SignError {
            class,
            code: e.code(),
            message: e.to_string(),
            hint: e.hint().map(str::to_owned),
        }
    }
}

impl From<crate::store::lookaside::LookasideError> for SignError {
    fn from(e: crate::store::lookaside::LookasideError) -> SignError {
        let class = if e.is_user_error() {
            ErrorClass::Input
        } else {
            ErrorClass::Outside
        };
        SignError::new(class, e.code(), chain(&e))
    }
}

impl From<crate::oci::OciError> for SignError {
    fn from(e: crate::oci::OciError) -> SignError {
        let err = match e.class {
            crate::reason::ErrorClass::Outside => SignError::outside(e.code, e.message),
            crate::reason::ErrorClass::Rejected => SignError::rejected(e.code, e.message),
            crate::reason::ErrorClass::Input => SignError::input(e.code, e.message),
        };
        match e.hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}
