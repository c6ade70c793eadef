//! Errors talking to a server ([`RegistryError`], with reason codes and
//! hints), and URL redaction so passwords never reach a message.

use reqwest::Url;

/// A failure talking to a server. Always names the URL.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    #[error("{url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: HTTP {status}{detail}")]
    Status { url: String, status: u16, detail: String },
    #[error("{url}: the response is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: {message}")]
    Protocol { url: String, message: String },
    #[error("{url}: the registry served a manifest whose digest is {actual}, not the requested {expected}")]
    DigestMismatch {
        url: String,
        expected: String,
        actual: String,
    },
    #[error("{url}: {message}")]
    Lookaside { url: String, message: String },
    /// The manifest served can be read two ways (a repeated member): refused, see
    /// [`crate::manifest::check_members`].
    #[error("{url}: {error}")]
    ManifestRefused {
        url: String,
        error: crate::manifest::MemberError,
    },
}

reason_codes! {
    /// The reason codes of [`RegistryError`] (documented in docs/json-output.md).
    pub enum RegistryCode {
        NetworkError => "network-error",
        Unauthorized => "registry-unauthorized",
        NotFound => "not-found",
        RegistryError => "registry-error",
        ResponseTooLarge => "response-too-large",
        ProtocolError => "registry-protocol-error",
        ManifestDigestMismatch => "manifest-digest-mismatch",
        LookasideError => "lookaside-error",
        ManifestDuplicateMember => "manifest-duplicate-member",
        ManifestNotStrictJson => "manifest-not-strict-json",
    }
}

impl RegistryError {
    /// Why, as a type.
    pub fn reason(&self) -> RegistryCode {
        // No wildcard: a new variant needs its code here.
        match self {
            RegistryError::Transport { .. } => RegistryCode::NetworkError,
            RegistryError::Status { status: 401 | 403, .. } => RegistryCode::Unauthorized,
            RegistryError::Status { status: 404, .. } => RegistryCode::NotFound,
            RegistryError::Status { .. } => RegistryCode::RegistryError,
            RegistryError::TooLarge { .. } => RegistryCode::ResponseTooLarge,
            RegistryError::Protocol { .. } => RegistryCode::ProtocolError,
            RegistryError::DigestMismatch { .. } => RegistryCode::ManifestDigestMismatch,
            RegistryError::Lookaside { .. } => RegistryCode::LookasideError,
            RegistryError::ManifestRefused { error, .. } => match error {
                crate::manifest::MemberError::Duplicate { .. } => RegistryCode::ManifestDuplicateMember,
                crate::manifest::MemberError::NotStrict(_) => RegistryCode::ManifestNotStrictJson,
            },
        }
    }

    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        self.reason().as_str()
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
