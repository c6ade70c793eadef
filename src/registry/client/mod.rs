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
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{HeaderMap, ACCEPT, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};

use crate::digest::Digest;
use crate::manifest;
use crate::reference::DockerReference;
use crate::store::lookaside;

/// Largest manifest body accepted (the reference's limit).
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;
/// Largest signature body accepted.
pub const MAX_SIGNATURE_SIZE: usize = 4 * 1024 * 1024;
/// Largest signature-list body from the signature API.
pub const MAX_SIGNATURE_LIST_SIZE: usize = 4 * 1024 * 1024;
/// Most signatures read for one image.
pub const MAX_SIGNATURES: usize = 128;
const MAX_TOKEN_SIZE: usize = 1024 * 1024;
const MAX_REDIRECTS: usize = 5;

/// Media types requested for manifests, in the reference's order.
pub const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
];

/// Registry credentials.
#[derive(Clone, Default)]
pub enum Auth {
    #[default]
    Anonymous,
    Basic {
        username: String,
        password: String,
    },
    IdentityToken {
        username: String,
        token: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Anonymous => f.write_str("Anonymous"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Auth::IdentityToken { username, .. } => write!(f, "IdentityToken({username}, <redacted>)"),
        }
    }
}

/// TLS material for one registry host.
#[derive(Debug, Clone, Default)]
pub struct HostTls {
    /// Extra CA certificates (PEM), added to the system roots.
    pub ca_pems: Vec<Vec<u8>>,
    /// Client certificate and key (PEM), concatenated as reqwest wants them.
    pub client_identity_pem: Option<Vec<u8>>,
}

/// What the caller decides once per run.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--tls-verify=false`: accept plain HTTP and unverified TLS.
    pub tls_verify: bool,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub user_agent: String,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            tls_verify: true,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: format!("imgsig/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

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
}

impl RegistryError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            RegistryError::Transport { .. } => "network-error",
            RegistryError::Status { status: 401 | 403, .. } => "registry-unauthorized",
            RegistryError::Status { status: 404, .. } => "not-found",
            RegistryError::Status { .. } => "registry-error",
            RegistryError::TooLarge { .. } => "response-too-large",
            RegistryError::Protocol { .. } => "registry-protocol-error",
            RegistryError::DigestMismatch { .. } => "manifest-digest-mismatch",
            RegistryError::Lookaside { .. } => "lookaside-error",
        }
    }

    /// What the user can check.
    pub fn hint(&self) -> &'static str {
        match self {
            RegistryError::Transport { .. } => {
                "check the address, the network, and TLS settings (--cert-dir, --tls-verify)"
            }
            RegistryError::Status { status: 401 | 403, .. } => {
                "check the credentials (--creds, --authfile, REGISTRY_AUTH_FILE, auth.json)"
            }
            RegistryError::Status { status: 404, .. } => "check the image name and tag",
            RegistryError::DigestMismatch { .. } => {
                "the registry (or something between) is serving other bytes; do not use this image"
            }
            _ => "check the server",
        }
    }
}

/// A fetched manifest.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub bytes: Vec<u8>,
    /// Digest of the bytes received (for signed schema 1: of the payload).
    pub digest: Digest,
    pub media_type: Option<String>,
    pub url: String,
}

/// One signature and where it came from.
#[derive(Debug, Clone)]
pub struct FetchedSignature {
    pub source: String,
    /// The bytes, or why they were unusable (too large).
    pub blob: Result<Vec<u8>, String>,
}

struct HostState {
    client: Client,
    /// `Options::timeout`, for [`Deadline`]s.
    timeout: Duration,
    base: Url,
    bearer: Option<Challenge>,
    basic: bool,
    supports_signatures: bool,
    tokens: HashMap<String, String>,
}

#[derive(Debug, Clone)]
struct Challenge {
    realm: String,
    service: Option<String>,
}

/// A client for many registries; one connection pool per host.
pub struct Registries {
    opts: Options,
    hosts: Mutex<HashMap<String, std::sync::Arc<Mutex<HostState>>>>,
    lookaside_client: Client,
    /// Lookaside clients with a registry's TLS material, by registry domain.
    lookaside_tls_clients: Mutex<HashMap<String, Client>>,
    /// Images whose lookaside signatures are being read right now.
    lookaside_busy: Slots,
}

/// Most images whose signatures are read from HTTP lookasides at the same time. Lookasides
/// are often plain web servers that close the connection after each response and have a
/// short listen queue (Python's `http.server` queues 5); more parallel connection attempts
/// than that get dropped by the kernel and retried a second later, which costs far more
/// than the parallelism gains.
const LOOKASIDE_CONCURRENCY: usize = 4;

/// A counting semaphore (std has none).
#[derive(Debug)]
struct Slots {
    free: Mutex<usize>,
    freed: std::sync::Condvar,
}

struct SlotGuard<'a>(&'a Slots);

impl Slots {
    fn new(n: usize) -> Slots {
        Slots {
            free: Mutex::new(n),
            freed: std::sync::Condvar::new(),
        }
    }

    fn acquire(&self) -> SlotGuard<'_> {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        while *free == 0 {
            free = self.freed.wait(free).unwrap_or_else(|e| e.into_inner());
        }
        *free -= 1;
        SlotGuard(self)
    }
}

impl Drop for SlotGuard<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let from_https = attempt
            .previous()
            .last()
            .map(|u| u.scheme() == "https")
            .unwrap_or(false);
        if from_https && attempt.url().scheme() != "https" {
            return attempt.error("refusing a redirect from https to http");
        }
        attempt.follow()
    })
}

fn build_client(opts: &Options, tls: &HostTls) -> Result<Client, String> {
    let mut b = Client::builder()
        .connect_timeout(opts.connect_timeout)
        .timeout(opts.timeout)
        .user_agent(opts.user_agent.clone())
        .redirect(redirect_policy())
        .pool_max_idle_per_host(16);
    let mut certs = Vec::new();
    for pem in &tls.ca_pems {
        certs.extend(reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("invalid CA certificate: {e}"))?);
    }
    if !certs.is_empty() {
        b = b.tls_certs_merge(certs);
    }
    if let Some(id) = &tls.client_identity_pem {
        b = b.identity(reqwest::Identity::from_pem(id).map_err(|e| format!("invalid client certificate: {e}"))?);
    }
    if !opts.tls_verify {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
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

fn transport_err(url: &str, e: reqwest::Error) -> RegistryError {
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
    RegistryError::Transport {
        url: url.to_owned(),
        message: msg,
    }
}

/// When a request (sent, redirected, and its body read) must be over. reqwest's blocking
/// timeout bounds each read of the body, not the whole body, so a server dripping a byte
/// now and then would otherwise hold the client forever.
#[derive(Debug, Clone, Copy)]
struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    fn after(total: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + total,
            total,
        }
    }
    fn passed(&self) -> bool {
        Instant::now() >= self.at
    }
    fn error(&self, url: &str) -> RegistryError {
        RegistryError::Transport {
            url: url.to_owned(),
            message: format!(
                "timed out: the response was not complete within {} s (--timeout)",
                self.total.as_secs()
            ),
        }
    }
}

/// Read a body with a cap, by `deadline`.
fn read_body(resp: Response, limit: usize, url: &str, deadline: Deadline) -> Result<Vec<u8>, RegistryError> {
    if let Some(len) = resp.content_length() {
        if len > limit as u64 {
            return Err(RegistryError::TooLarge {
                url: url.to_owned(),
                limit,
            });
        }
    }
    let mut buf = Vec::new();
    let mut body = resp.take(limit as u64 + 1);
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        if deadline.passed() {
            return Err(deadline.error(url));
        }
        match body.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) if deadline.passed() => return Err(deadline.error(url)),
            Err(e) => {
                let timed_out = if e.kind() == std::io::ErrorKind::TimedOut {
                    "timed out "
                } else {
                    ""
                };
                return Err(RegistryError::Transport {
                    url: url.to_owned(),
                    message: format!("{timed_out}reading the response: {e}"),
                });
            }
        }
    }
    if buf.len() > limit {
        return Err(RegistryError::TooLarge {
            url: url.to_owned(),
            limit,
        });
    }
    Ok(buf)
}

/// Parse `Bearer realm="…",service="…",scope="…"`.
fn parse_challenges(headers: &HeaderMap) -> (Option<Challenge>, bool) {
    let mut bearer = None;
    let mut basic = false;
    for v in headers.get_all(WWW_AUTHENTICATE) {
        let Ok(v) = v.to_str() else { continue };
        let (scheme, rest) = v.trim().split_once(' ').unwrap_or((v.trim(), ""));
        match scheme.to_ascii_lowercase().as_str() {
            "bearer" => {
                let params = parse_params(rest);
                if let Some(realm) = params.get("realm") {
                    bearer = Some(Challenge {
                        realm: realm.clone(),
                        service: params.get("service").cloned().filter(|s| !s.is_empty()),
                    });
                }
            }
            "basic" => basic = true,
            _ => {}
        }
    }
    (bearer, basic)
}

fn parse_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((k, v)) = rest.split_once('=') else { break };
        let key = k.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let v = v.trim_start();
        let (value, tail) = if let Some(stripped) = v.strip_prefix('"') {
            match stripped.find('"') {
                Some(end) => (&stripped[..end], &stripped[end + 1..]),
                None => (stripped, ""),
            }
        } else {
            match v.find(',') {
                Some(end) => (&v[..end], &v[end..]),
                None => (v, ""),
            }
        };
        out.insert(key, value.to_owned());
        rest = tail.trim_start_matches(',').trim();
    }
    out
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
    fn host(&self, r: &DockerReference, tls: &HostTls) -> Result<std::sync::Arc<Mutex<HostState>>, RegistryError> {
        let domain = r.domain().to_owned();
        if domain.is_empty() {
            return Err(RegistryError::Protocol {
                url: r.to_string(),
                message: "the reference has no registry host".into(),
            });
        }
        if let Some(h) = self.hosts.lock().unwrap_or_else(|e| e.into_inner()).get(&domain) {
            return Ok(h.clone());
        }
        let client = build_client(&self.opts, tls).map_err(|m| RegistryError::Transport {
            url: domain.clone(),
            message: m,
        })?;
        let host = Registries::endpoint_host(&domain);
        let mut schemes = vec!["https"];
        if !self.opts.tls_verify {
            schemes.push("http");
        }
        let mut last_err = None;
        for scheme in schemes {
            let url = format!("{scheme}://{host}/v2/");
            match client.get(&url).send() {
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
                    let state = std::sync::Arc::new(Mutex::new(HostState {
                        client,
                        timeout: self.opts.timeout,
                        base,
                        bearer,
                        basic,
                        supports_signatures,
                        tokens: HashMap::new(),
                    }));
                    self.hosts
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(domain.clone(), state.clone());
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

    /// A bearer token for `scope`, fetched once per host and scope.
    fn token(state: &mut HostState, auth: &Auth, scope: &str) -> Result<Option<String>, RegistryError> {
        let Some(ch) = state.bearer.clone() else {
            return Ok(None);
        };
        if let Some(t) = state.tokens.get(scope) {
            return Ok(Some(t.clone()));
        }
        let mut url = Url::parse(&ch.realm).map_err(|e| RegistryError::Protocol {
            url: ch.realm.clone(),
            message: format!("invalid token realm: {e}"),
        })?;
        if state.base.scheme() == "https" && url.scheme() != "https" {
            return Err(RegistryError::Protocol {
                url: ch.realm.clone(),
                message: "refusing to send credentials to a plain-http token realm of an https registry".into(),
            });
        }
        let deadline = Deadline::after(state.timeout);
        let resp = match auth {
            Auth::IdentityToken { token, .. } => {
                let mut form = vec![
                    ("grant_type", "refresh_token".to_owned()),
                    ("refresh_token", token.clone()),
                    ("client_id", "containers/image".to_owned()),
                    ("scope", scope.to_owned()),
                ];
                if let Some(s) = &ch.service {
                    form.push(("service", s.clone()));
                }
                // application/x-www-form-urlencoded, built with the URL serializer.
                let mut enc = Url::parse("http://form.invalid/").map_err(|e| RegistryError::Protocol {
                    url: ch.realm.clone(),
                    message: e.to_string(),
                })?;
                enc.query_pairs_mut()
                    .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())));
                state
                    .client
                    .post(url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(enc.query().unwrap_or("").to_owned())
                    .send()
            }
            _ => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Auth::Basic { username, .. } = auth {
                        q.append_pair("account", username);
                    }
                    if let Some(s) = &ch.service {
                        q.append_pair("service", s);
                    }
                    q.append_pair("scope", scope);
                }
                let mut req = state.client.get(url.clone());
                if let Auth::Basic { username, password } = auth {
                    req = req.basic_auth(username, Some(password));
                }
                req.send()
            }
        };
        let u = url.to_string();
        let resp = resp.map_err(|e| transport_err(&u, e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Status {
                url: u,
                status: resp.status().as_u16(),
                detail: " from the token service".into(),
            });
        }
        let body = read_body(resp, MAX_TOKEN_SIZE, &u, deadline)?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
            url: u.clone(),
            message: format!("token response is not JSON: {e}"),
        })?;
        let token = v
            .get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::Protocol {
                url: u.clone(),
                message: "token response has no token".into(),
            })?
            .to_owned();
        state.tokens.insert(scope.to_owned(), token.clone());
        Ok(Some(token))
    }

    fn authorize(
        state: &mut HostState,
        req: RequestBuilder,
        auth: &Auth,
        scope: &str,
    ) -> Result<RequestBuilder, RegistryError> {
        if let Some(t) = Registries::token(state, auth, scope)? {
            return Ok(req.header(AUTHORIZATION, format!("Bearer {t}")));
        }
        if state.basic {
            if let Auth::Basic { username, password } = auth {
                return Ok(req.basic_auth(username, Some(password)));
            }
        }
        Ok(req)
    }

    /// Fetch the manifest of `r` (by digest if it has one, else by tag).
    pub fn manifest(&self, r: &DockerReference, auth: &Auth, tls: &HostTls) -> Result<FetchedManifest, RegistryError> {
        let host = self.host(r, tls)?;
        let mut state = host.lock().unwrap_or_else(|e| e.into_inner());
        let reference = match (r.digest(), r.tag()) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.to_owned(),
            (None, None) => "latest".to_owned(),
        };
        self.manifest_by(&mut state, r, &reference, auth)
    }

    /// Fetch a manifest by digest from the same repository (list instances).
    pub fn manifest_by_digest(
        &self,
        r: &DockerReference,
        d: &Digest,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<FetchedManifest, RegistryError> {
        let host = self.host(r, tls)?;
        let mut state = host.lock().unwrap_or_else(|e| e.into_inner());
        self.manifest_by(&mut state, r, &d.to_string(), auth)
    }

    fn manifest_by(
        &self,
        state: &mut HostState,
        r: &DockerReference,
        reference: &str,
        auth: &Auth,
    ) -> Result<FetchedManifest, RegistryError> {
        let url = format!("{}v2/{}/manifests/{reference}", state.base, r.path());
        let mut req = state.client.get(&url);
        for a in MANIFEST_ACCEPT {
            req = req.header(ACCEPT, *a);
        }
        let req = Registries::authorize(state, req, auth, &format!("repository:{}:pull", r.path()))?;
        let deadline = Deadline::after(state.timeout);
        let resp = req.send().map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::OK {
            return Err(RegistryError::Status {
                url,
                status: resp.status().as_u16(),
                detail: String::new(),
            });
        }
        let media_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").trim().to_owned());
        let bytes = read_body(resp, MAX_MANIFEST_SIZE, &url, deadline)?;
        let digest = manifest::manifest_digest(&bytes).map_err(|e| RegistryError::Protocol {
            url: url.clone(),
            message: format!("cannot compute the manifest digest: {e}"),
        })?;
        if let Ok(expected) = Digest::parse(reference) {
            if expected != digest {
                return Err(RegistryError::DigestMismatch {
                    url,
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        Ok(FetchedManifest {
            bytes,
            digest,
            media_type,
            url,
        })
    }

    /// Does the registry of `r` serve the signature API? (pings it)
    pub fn supports_signature_api(&self, r: &DockerReference, tls: &HostTls) -> Result<bool, RegistryError> {
        let host = self.host(r, tls)?;
        let state = host.lock().unwrap_or_else(|e| e.into_inner());
        Ok(state.supports_signatures)
    }

    /// Signatures from the registry signature API.
    pub fn api_signatures(
        &self,
        r: &DockerReference,
        d: &Digest,
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        let host = self.host(r, tls)?;
        let mut state = host.lock().unwrap_or_else(|e| e.into_inner());
        let url = format!("{}extensions/v2/{}/signatures/{d}", state.base, r.path());
        let req = state.client.get(&url);
        let req = Registries::authorize(&mut state, req, auth, &format!("repository:{}:pull", r.path()))?;
        let deadline = Deadline::after(state.timeout);
        let resp = req.send().map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::OK {
            return Err(RegistryError::Status {
                url,
                status: resp.status().as_u16(),
                detail: " from the signature API".into(),
            });
        }
        let body = read_body(resp, MAX_SIGNATURE_LIST_SIZE, &url, deadline)?;
        parse_signature_list(&body, &url)
    }

    /// Store a signature through the registry signature API: skipped when
    /// a byte-identical one is already there (returns `false`), else
    /// `PUT /extensions/v2/<path>/signatures/<digest>` with a fresh unique
    /// name `<digest>@<32 hex>`, expecting 201 Created. Nothing is deleted.
    pub fn api_put_signature(
        &self,
        r: &DockerReference,
        d: &Digest,
        blob: &[u8],
        auth: &Auth,
        tls: &HostTls,
    ) -> Result<bool, RegistryError> {
        let existing = self.api_signatures(r, d, auth, tls)?;
        if existing.iter().any(|s| s.blob.as_deref().ok() == Some(blob)) {
            return Ok(false);
        }
        let host = self.host(r, tls)?;
        let mut state = host.lock().unwrap_or_else(|e| e.into_inner());
        let url = format!("{}extensions/v2/{}/signatures/{d}", state.base, r.path());
        let mut rnd = [0u8; 16];
        sequoia_openpgp::crypto::random(&mut rnd[..]).map_err(|e| RegistryError::Protocol {
            url: url.clone(),
            message: format!("no randomness for the signature name: {e}"),
        })?;
        let name = format!("{d}@{}", crate::digest::to_hex(&rnd));
        let body = serde_json::json!({
            "schemaVersion": 2,
            "name": name,
            "type": "atomic",
            "content": base64::engine::general_purpose::STANDARD.encode(blob),
        })
        .to_string();
        let req = state
            .client
            .put(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        let req = Registries::authorize(&mut state, req, auth, &format!("repository:{}:pull,push", r.path()))?;
        let resp = req.send().map_err(|e| transport_err(&url, e))?;
        if resp.status() != StatusCode::CREATED {
            return Err(RegistryError::Status {
                url,
                status: resp.status().as_u16(),
                detail: " from the signature API (expected 201 Created)".into(),
            });
        }
        Ok(true)
    }

    /// Signatures from a lookaside base URL (file://, http://, https://), over HTTPS
    /// verified with the system roots only.
    pub fn lookaside_signatures(
        &self,
        base: &Url,
        r: &DockerReference,
        d: &Digest,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        self.lookaside_with(&self.lookaside_client, base, r, d)
    }

    /// Signatures of an image of `r`'s registry from a lookaside, over HTTPS with that
    /// registry's TLS material (`tls`: extra CAs, client certificate), as containers/image
    /// does (it reads the lookaside with the registry's HTTP client). Registry credentials
    /// are still never sent.
    pub fn registry_lookaside_signatures(
        &self,
        base: &Url,
        r: &DockerReference,
        d: &Digest,
        tls: &HostTls,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        if tls.ca_pems.is_empty() && tls.client_identity_pem.is_none() {
            return self.lookaside_signatures(base, r, d);
        }
        let domain = r.domain().to_owned();
        let cached = self
            .lookaside_tls_clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&domain)
            .cloned();
        let client = match cached {
            Some(c) => c,
            None => {
                let c = build_client(&self.opts, tls).map_err(|m| RegistryError::Transport {
                    url: redact_url(base),
                    message: m,
                })?;
                self.lookaside_tls_clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(domain, c.clone());
                c
            }
        };
        self.lookaside_with(&client, base, r, d)
    }

    fn lookaside_with(
        &self,
        client: &Client,
        base: &Url,
        r: &DockerReference,
        d: &Digest,
    ) -> Result<Vec<FetchedSignature>, RegistryError> {
        let _slot = (base.scheme() != "file").then(|| self.lookaside_busy.acquire());
        let mut out = Vec::new();
        for n in 1..=MAX_SIGNATURES {
            let url = lookaside::signature_url(base, r, d, n);
            let got = match url.scheme() {
                "file" => read_file_signature(&url)?,
                "http" | "https" => self.http_signature(client, &url)?,
                other => {
                    return Err(RegistryError::Lookaside {
                        url: redact_url(&url),
                        message: format!("unsupported lookaside scheme {other:?} (use file://, http:// or https://)"),
                    })
                }
            };
            let Some(blob) = got else { break };
            // As containers/image: a signature-128 means an unreasonable server.
            if n == MAX_SIGNATURES {
                return Err(RegistryError::Lookaside {
                    url: redact_url(&url),
                    message: format!(
                        "the server provides {MAX_SIGNATURES} signatures or more; assuming that is unreasonable"
                    ),
                });
            }
            out.push(FetchedSignature {
                source: redact_url(&url),
                blob,
            });
        }
        Ok(out)
    }

    /// One lookaside signature over HTTP: `None` on 404. Never sends registry credentials.
    fn http_signature(&self, client: &Client, url: &Url) -> Result<Option<Result<Vec<u8>, String>>, RegistryError> {
        let u = redact_url(url);
        let deadline = Deadline::after(self.opts.timeout);
        let resp = client.get(url.clone()).send().map_err(|e| transport_err(&u, e))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            s => {
                // A lookaside never gets registry credentials, so a 401/403
                // here is about the web server, not the registry login.
                return Err(RegistryError::Lookaside {
                    url: u,
                    message: format!(
                        "the lookaside answered HTTP {} (expected 200, or 404 after the last signature)",
                        s.as_u16()
                    ),
                });
            }
        }
        match read_body(resp, MAX_SIGNATURE_SIZE, &u, deadline) {
            Ok(b) => Ok(Some(Ok(b))),
            Err(RegistryError::TooLarge { limit, .. }) => {
                Ok(Some(Err(format!("signature is larger than {limit} bytes"))))
            }
            Err(e) => Err(e),
        }
    }
}

fn read_file_signature(url: &Url) -> Result<Option<Result<Vec<u8>, String>>, RegistryError> {
    let path: PathBuf = url.to_file_path().map_err(|()| RegistryError::Lookaside {
        url: url.to_string(),
        message: "not a local file path".into(),
    })?;
    read_local(&path).map_err(|message| RegistryError::Lookaside {
        url: url.to_string(),
        message,
    })
}

/// Read a local signature file: `None` when missing.
pub fn read_local(path: &Path) -> Result<Option<Result<Vec<u8>, String>>, String> {
    read_local_limited(path, MAX_SIGNATURE_SIZE)
}

/// Read a regular local file of at most `limit` bytes: `None` when missing,
/// `Some(Err(_))` when larger.
fn read_local_limited(path: &Path, limit: usize) -> Result<Option<Result<Vec<u8>, String>>, String> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => return Err("not a regular file".into()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut buf = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() > limit {
        return Ok(Some(Err(format!("larger than {limit} bytes"))));
    }
    Ok(Some(Ok(buf)))
}

/// `{"signatures":[{"schemaVersion":2,"type":"atomic","content":"<base64>"}, …]}`;
/// entries of other versions or types are ignored, as in the reference.
pub fn parse_signature_list(body: &[u8], url: &str) -> Result<Vec<FetchedSignature>, RegistryError> {
    let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| RegistryError::Protocol {
        url: url.to_owned(),
        message: format!("signature list is not JSON: {e}"),
    })?;
    let list = v
        .get("signatures")
        .and_then(|s| s.as_array())
        .ok_or_else(|| RegistryError::Protocol {
            url: url.to_owned(),
            message: "signature list has no \"signatures\" array".into(),
        })?;
    let mut out = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if s.get("schemaVersion").and_then(|v| v.as_i64()) != Some(2)
            || s.get("type").and_then(|t| t.as_str()) != Some("atomic")
        {
            continue;
        }
        if out.len() >= MAX_SIGNATURES {
            return Err(RegistryError::Protocol {
                url: url.to_owned(),
                message: format!("more than {MAX_SIGNATURES} signatures; assuming that is unreasonable"),
            });
        }
        let blob = s
            .get("content")
            .and_then(|c| c.as_str())
            .ok_or_else(|| "signature entry has no content".to_owned())
            .and_then(|c| {
                base64::engine::general_purpose::STANDARD
                    .decode(c)
                    .map_err(|e| format!("content is not base64: {e}"))
            });
        out.push(FetchedSignature {
            source: format!("{url}#{}", i + 1),
            blob,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenges() {
        let mut h = HeaderMap::new();
        h.append(
            WWW_AUTHENTICATE,
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="x""#
                .parse()
                .unwrap(),
        );
        let (b, basic) = parse_challenges(&h);
        let b = b.unwrap();
        assert_eq!(b.realm, "https://auth.example.com/token");
        assert_eq!(b.service.as_deref(), Some("registry.example.com"));
        assert!(!basic);
        let mut h = HeaderMap::new();
        h.append(WWW_AUTHENTICATE, r#"Basic realm="Registry Realm""#.parse().unwrap());
        assert!(parse_challenges(&h).1);
    }

    #[test]
    fn signature_list_keeps_only_atomic_v2() {
        let body = br#"{"signatures":[
            {"schemaVersion":2,"type":"atomic","name":"a","content":"AQID"},
            {"schemaVersion":1,"type":"atomic","content":"AQID"},
            {"schemaVersion":2,"type":"other","content":"AQID"},
            {"schemaVersion":2,"type":"atomic","content":"!!"}]}"#;
        let l = parse_signature_list(body, "u").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].blob.as_deref().unwrap(), &[1, 2, 3]);
        assert!(l[1].blob.is_err());
        assert!(parse_signature_list(b"[]", "u").is_err());
    }
}
