//! Reading signatures from a lookaside (file://, http://, https://):
//! `signature-1`, `signature-2`… until the first missing one, never with
//! registry credentials, with at most a few images read from HTTP
//! lookasides at once; and reading local signature files with a cap.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use reqwest::blocking::Client;
use reqwest::{StatusCode, Url};

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::store::lookaside;

use super::error::{redact_url, transport_err};
use super::http::{build_client, read_body, send, Deadline};
use super::{FetchedSignature, HostTls, Registries, RegistryError, MAX_SIGNATURES, MAX_SIGNATURE_SIZE};

/// Most images whose signatures are read from HTTP lookasides at the same time. Lookasides
/// are often plain web servers that close the connection after each response and have a
/// short listen queue (Python's `http.server` queues 5); more parallel connection attempts
/// than that get dropped by the kernel and retried a second later, which costs far more
/// than the parallelism gains.
pub(super) const LOOKASIDE_CONCURRENCY: usize = 4;

/// A counting semaphore (std has none).
#[derive(Debug)]
pub(super) struct Slots {
    free: Mutex<usize>,
    freed: std::sync::Condvar,
}

struct SlotGuard<'a>(&'a Slots);

impl Slots {
    pub(super) fn new(n: usize) -> Slots {
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

impl Registries {
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
        if tls.ca_pems.is_empty() && tls.client_identity_pem.is_none() && !tls.insecure {
            return self.lookaside_signatures(base, r, d);
        }
        let domain = format!("{}{}", r.domain(), if tls.insecure { " (insecure)" } else { "" });
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
        let resp = send(client.get(url.clone()), "GET", &u).map_err(|e| transport_err(&u, e))?;
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
    match crate::files::read_bounded_regular(path, limit as u64) {
        Ok(Some(Ok(b))) => Ok(Some(Ok(b))),
        Ok(Some(Err(limit))) => Ok(Some(Err(format!("larger than {limit} bytes")))),
        Ok(None) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
