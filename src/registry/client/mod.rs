//! HTTP client for registries and lookasides (reqwest, rustls).
//!
//! - Manifests: `GET /v2/<path>/manifests/<ref>` with the reference's Accept
//!   list; by-digest fetches are checked against the digest; by-tag fetches
//!   record the digest of the bytes received.
//! - Auth: anonymous or with credentials; `Bearer` token flow and `Basic`,
//!   from the `WWW-Authenticate` challenge of `GET /v2/`.
//! - Signatures: the registry signature API when the registry advertises
//!   `X-Registry-Supports-Signatures: 1`, else the lookaside (file:// or
//!   http(s)://, `signature-1`… until the first missing one, at most 128).
//! - Limits: bodies are read with a cap; a connect timeout, and a deadline for
//!   each request including its body (a server dripping bytes is cut off);
//!   at most 5 redirects and never from https to http; registry credentials
//!   are never sent to a lookaside, and reqwest drops them on cross-host
//!   redirects. Passwords in lookaside URLs are redacted in messages.
//! - TLS: a registry's extra CAs / client certificate are also used for its
//!   https lookaside, as containers/image reads both with one client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::{StatusCode, Url};

use crate::reference::DockerReference;

mod attachments;
mod auth;
mod error;
mod http;
mod lookaside;
mod manifest;
mod push;
mod signature_api;

pub use attachments::attachment_tag;
pub use auth::Auth;
pub use error::{redact_url, RegistryError};
pub use http::{HostTls, Options};
pub use manifest::FetchedManifest;
#[cfg(any(test, feature = "fuzzing"))]
pub use signature_api::parse_signature_list;

use auth::{parse_challenges, Challenge};
use error::transport_err;
use http::build_client;
use lookaside::{Slots, LOOKASIDE_CONCURRENCY};

/// Most signatures read for one image.
pub use crate::limits::MAX_SIGNATURES;
/// Largest signature body accepted.
pub use crate::limits::MAX_SIGNATURE_SIZE;

/// One signature and where it came from.
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    pub source: String,
    /// The bytes, or why they were unusable (too large).
    pub blob: Result<Vec<u8>, String>,
}

struct HostState {
    client: Client,
    /// `Options::timeout`, for [`Deadline`](http::Deadline)s.
    timeout: Duration,
    base: Url,
    bearer: Option<Challenge>,
    basic: bool,
    supports_signatures: bool,
    /// Bearer tokens by scope. The only mutable state: locked only to read
    /// or insert a token, never across a request, so every worker shares
    /// the host's connection pool at full concurrency.
    tokens: Mutex<HashMap<String, String>>,
}

/// A client for many registries; one connection pool per host.
pub struct Registries {
    opts: Options,
    hosts: Mutex<HashMap<String, std::sync::Arc<HostState>>>,
    lookaside_client: Client,
    /// Lookaside clients with a registry's TLS material, by registry domain.
    lookaside_tls_clients: Mutex<HashMap<String, Client>>,
    /// Images whose lookaside signatures are being read right now.
    lookaside_busy: Slots,
}

impl Registries {
    pub fn new(opts: Options) -> Result<Registries, RegistryError> {
        let lookaside_client = build_client(&opts, &HostTls::default()).map_err(|m| RegistryError::Transport {
            url: "(client)".into(),
            message: m,
        })?;
        Ok(Registries {
            opts,
            hosts: Mutex::new(HashMap::new()),
            lookaside_client,
            lookaside_tls_clients: Mutex::new(HashMap::new()),
            lookaside_busy: Slots::new(LOOKASIDE_CONCURRENCY),
        })
    }

    /// The host actually contacted for a reference's domain.
    pub fn endpoint_host(domain: &str) -> &str {
        if domain == "docker.io" {
            "registry-1.docker.io"
        } else {
            domain
        }
    }

    /// Connect to (ping) the registry of `r` once; later calls reuse it.
    fn host(&self, r: &DockerReference, tls: &HostTls) -> Result<std::sync::Arc<HostState>, RegistryError> {
        let domain = r.domain().to_owned();
        let insecure = !self.opts.tls_verify || tls.insecure;
        // One state per host and security setting (registries.conf can mark one
        // namespace of a host insecure and another not).
        let key = if insecure {
            format!("{domain} (insecure)")
        } else {
            domain.clone()
        };
        if domain.is_empty() {
            return Err(RegistryError::Protocol {
                url: r.to_string(),
                message: "the reference has no registry host".into(),
            });
        }
        if let Some(h) = self.hosts.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(h.clone());
        }
        let client = build_client(&self.opts, tls).map_err(|m| RegistryError::Transport {
            url: domain.clone(),
            message: m,
        })?;
        let host = Registries::endpoint_host(&domain);
        let mut schemes = vec!["https"];
        if insecure {
            schemes.push("http");
        }
        // One deadline for contacting the registry, shared by the HTTPS try and the
        // plain-HTTP one: a registry that hangs costs the --timeout once, not per try.
        let deadline = http::Deadline::after(self.opts.timeout);
        let mut last_err = None;
        for scheme in schemes {
            let url = format!("{scheme}://{host}/v2/");
            let Some(left) = deadline.remaining() else {
                if let Some(RegistryError::Transport { message, .. }) = &mut last_err {
                    message.push_str(&format!(
                        "; {scheme}:// was not tried: the timeout of {} s covers both tries",
                        self.opts.timeout.as_secs()
                    ));
                }
                break;
            };
            match http::send(client.get(&url).timeout(left), "GET", &url) {
                Ok(resp) => {
                    let status = resp.status();
                    if status != StatusCode::OK && status != StatusCode::UNAUTHORIZED {
                        last_err = Some(RegistryError::Status {
                            url,
                            status: status.as_u16(),
                            detail: " (this does not look like a registry v2 API)".into(),
                        });
                        continue;
                    }
                    let (bearer, basic) = parse_challenges(resp.headers());
                    let supports_signatures = resp
                        .headers()
                        .get("X-Registry-Supports-Signatures")
                        .map(|v| v.as_bytes() == b"1")
                        .unwrap_or(false);
                    let base = Url::parse(&format!("{scheme}://{host}/")).map_err(|e| RegistryError::Protocol {
                        url: url.clone(),
                        message: e.to_string(),
                    })?;
                    let state = std::sync::Arc::new(HostState {
                        client,
                        timeout: self.opts.timeout,
                        base,
                        bearer,
                        basic,
                        supports_signatures,
                        tokens: Mutex::new(HashMap::new()),
                    });
                    self.hosts
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key.clone(), state.clone());
                    return Ok(state);
                }
                Err(e) => last_err = Some(transport_err(&url, e)),
            }
        }
        Err(last_err.unwrap_or_else(|| RegistryError::Transport {
            url: host.to_owned(),
            message: "no usable scheme".into(),
        }))
    }
}
