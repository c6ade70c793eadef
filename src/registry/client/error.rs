//! Errors talking to a server ([`RegistryError`], with reason codes and
//! hints), and URL redaction so passwords never reach a message.

use crate::Reason;
use reqwest::Url;

/// A failure talking to a server. Always names the URL.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The request could not be made or its answer not read (DNS, connection, TLS, timeout).
    #[error("{url}: {message}")]
    Transport {
        /// The URL, passwords redacted.
        url: String,
        /// What failed.
        message: String,
    },
    /// The server answered with an unexpected HTTP status.
    #[error("{url}: HTTP {status}{detail}")]
    Status {
        /// The URL, passwords redacted.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Appended to the message as is, e.g. ` from the token service`; often empty.
        detail: String,
    },
    /// The response body is over its size limit.
    #[error("{url}: the response is larger than {limit} bytes")]
    TooLarge {
        /// The URL, passwords redacted.
        url: String,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The server's answer breaks the protocol (or cannot be acted on safely).
    #[error("{url}: {message}")]
    Protocol {
        /// The URL, passwords redacted.
        url: String,
        /// What is wrong with the answer.
        message: String,
    },
    /// A manifest asked for by digest does not hash to that digest.
    #[error("{url}: the registry served a manifest whose digest is {actual}, not the requested {expected}")]
    DigestMismatch {
        /// The URL, passwords redacted.
        url: String,
        /// The digest asked for.
        expected: String,
        /// The digest of the bytes served.
        actual: String,
    },
    /// A lookaside cannot be read: an unsupported scheme, an unreadable file, an HTTP status
    /// other than 200 or 404, or too many signatures.
    #[error("{url}: {message}")]
    Lookaside {
        /// The URL, passwords redacted.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// The manifest served can be read two ways (a repeated member): refused, see
    /// [`crate::manifest::check_members`].
    #[error("{url}: {error}")]
    ManifestRefused {
        /// The URL, passwords redacted.
        url: String,
        /// Which member is repeated, and where.
        error: crate::manifest::MemberError,
    },
}

impl RegistryError {
    /// Why, as a [`Reason`] (documented in docs/json-output.md).
    pub fn code(&self) -> Reason {
        // No wildcard: a new variant needs its code here.
        match self {
            RegistryError::Transport { .. } => Reason::NetworkError,
            RegistryError::Status { status: 401 | 403, .. } => Reason::RegistryUnauthorized,
            RegistryError::Status { status: 404, .. } => Reason::NotFound,
            RegistryError::Status { .. } => Reason::RegistryError,
            RegistryError::TooLarge { .. } => Reason::ResponseTooLarge,
            RegistryError::Protocol { .. } => Reason::RegistryProtocolError,
            RegistryError::DigestMismatch { .. } => Reason::ManifestDigestMismatch,
            RegistryError::Lookaside { .. } => Reason::LookasideError,
            RegistryError::ManifestRefused { error, .. } => match error {
                crate::manifest::MemberError::Duplicate { .. } => Reason::ManifestDuplicateMember,
                crate::manifest::MemberError::NotStrict(_) => Reason::ManifestNotStrictJson,
            },
        }
    }

    /// What the user can check.
    pub fn hint(&self) -> &'static str {
        match self {
            RegistryError::Transport { .. } => {
                "check the address, the network, and the TLS settings (CA certificates, client certificate, plain HTTP)"
            }
            RegistryError::Status { status: 401 | 403, .. } => "check the credentials for this registry (auth.json)",
            RegistryError::Status { status: 404, .. } => "check the image name and tag",
            RegistryError::DigestMismatch { .. } => {
                "the registry (or something between) is serving other bytes; do not use this image"
            }
            RegistryError::ManifestRefused { .. } => {
                "the image's manifest reads differently to different readers; do not use this image"
            }
            _ => "check the server",
        }
    }
}

/// `url` for messages and reports: a password in it is replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    if url.password().is_none() {
        return url.to_string();
    }
    let mut u = url.clone();
    let _ = u.set_password(Some("***"));
    u.to_string()
}

pub(super) fn transport_err(url: &str, e: reqwest::Error) -> RegistryError {
    // reqwest names the URL it was at (after redirects, maybe another one), with any
    // password: show it redacted, and only when it is not `url` itself.
    let at = e.url().map(redact_url).filter(|u| u != url);
    let e = e.without_url();
    let mut msg = e.to_string();
    if let Some(at) = at {
        msg.push_str(&format!(" (at {at})"));
    }
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    if e.is_timeout() {
        msg = format!("timed out ({msg})");
    }
    // rustls reading an HTTP answer where a TLS record was expected.
    if msg.contains("InvalidContentType") && url.starts_with("https://") {
        msg = format!(
            "the server answered in plain HTTP, not TLS: it is an insecure (http://) registry or lookaside ({msg})"
        );
    }
    RegistryError::Transport {
        url: url.to_owned(),
        message: msg,
    }
}
