//! HTTP client construction: the run's [`Options`], a registry's TLS
//! material ([`HostTls`]), the redirect policy, and bounded requests (a
//! [`Deadline`] for each request including its body, bodies read with a cap).

use std::io::Read;
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};

use super::RegistryError;

const MAX_REDIRECTS: usize = 5;

/// TLS material for one registry host.
#[derive(Debug, Clone, Default)]
pub struct HostTls {
    /// Extra CA certificates (PEM), added to the system roots.
    pub ca_pems: Vec<Vec<u8>>,
    /// Client certificate and key (PEM), concatenated as reqwest wants them.
    pub client_identity_pem: Option<Vec<u8>>,
    /// registries.conf `insecure = true` for this endpoint: plain HTTP and unverified TLS
    /// allowed, as with [`Options::tls_verify`] `false`.
    pub insecure: bool,
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

pub(super) fn build_client(opts: &Options, tls: &HostTls) -> Result<Client, String> {
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
    if !opts.tls_verify || tls.insecure {
        b = b.tls_danger_accept_invalid_certs(true);
    }
    b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
}

/// Send a request, logging (at debug level) its method, URL (never with credentials: registry
/// URLs have none, lookaside URLs come redacted), status and time, and where redirects ended.
pub(super) fn send(req: RequestBuilder, method: &str, url: &str) -> reqwest::Result<Response> {
    let start = Instant::now();
    let res = req.send();
    let ms = start.elapsed().as_millis();
    match &res {
        Ok(resp) if resp.url().as_str() != url && resp.url().password().is_none() => {
            tracing::debug!(
                "{method} {url} -> {} ({ms} ms, redirected to {})",
                resp.status().as_u16(),
                resp.url()
            )
        }
        Ok(resp) => tracing::debug!("{method} {url} -> {} ({ms} ms)", resp.status().as_u16()),
        Err(e) => tracing::debug!("{method} {url} -> failed after {ms} ms: {e}"),
    }
    res
}

/// When a request (sent, redirected, and its body read) must be over. reqwest's blocking
/// timeout bounds each read of the body, not the whole body, so a server dripping a byte
/// now and then would otherwise hold the client forever.
#[derive(Debug, Clone, Copy)]
pub(super) struct Deadline {
    at: Instant,
    total: Duration,
}

impl Deadline {
    pub(super) fn after(total: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + total,
            total,
        }
    }
    fn passed(&self) -> bool {
        Instant::now() >= self.at
    }
    /// The time left, or `None` once it has passed.
    pub(super) fn remaining(&self) -> Option<Duration> {
        self.at.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())
    }
    fn error(&self, url: &str) -> RegistryError {
        RegistryError::Transport {
            url: url.to_owned(),
            message: format!(
                "timed out: the response was not complete within {} s (the request timeout)",
                self.total.as_secs()
            ),
        }
    }
}

/// Read a body with a cap, by `deadline`.
pub(super) fn read_body(resp: Response, limit: usize, url: &str, deadline: Deadline) -> Result<Vec<u8>, RegistryError> {
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

impl super::Registries {
    /// `GET url` with `r`'s pull credentials: the response when the registry
    /// answers 200 OK (and the deadline for reading its body), else the status
    /// as an error whose message ends with `detail`.
    pub(super) fn get_ok(
        state: &super::HostState,
        r: &crate::reference::DockerReference,
        url: &str,
        auth: &super::Auth,
        detail: &str,
    ) -> Result<(reqwest::blocking::Response, Deadline), super::RegistryError> {
        let req = super::Registries::authorize(
            state,
            state.client.get(url),
            auth,
            &format!("repository:{}:pull", r.path()),
        )?;
        let deadline = Deadline::after(state.timeout);
        let resp = send(req, "GET", url).map_err(|e| super::error::transport_err(url, e))?;
        if resp.status() != reqwest::StatusCode::OK {
            return Err(super::RegistryError::Status {
                url: url.to_owned(),
                status: resp.status().as_u16(),
                detail: detail.to_owned(),
            });
        }
        Ok((resp, deadline))
    }
}
