//! Per-registry TLS material: containers-certs.d(5), read the way containers/image does
//! (`docker/docker_client.go: dockerCertDir`, `pkg/tlsclientconfig: SetupCertificates`;
//! simple-signing.md §10.4).
//!
//! Behaviour established from the reference:
//! - An explicit `--cert-dir DIR` is used **as is** (not `DIR/<host>`) and exclusively.
//! - Otherwise the directory is `<parent>/<host[:port]>` for the parents
//!   `$HOME/.config/containers/certs.d`, `/etc/containers/certs.d`, `/etc/docker/certs.d`: the
//!   **first that exists wins**, nothing is merged. Parents that cannot be examined for lack of
//!   permission are skipped. The host is the reference's domain as written (`docker.io`, not
//!   `registry-1.docker.io`).
//! - In that directory, in name order: `*.crt` are CA certificates added to the system roots;
//!   `NAME.cert` is a client certificate that needs `NAME.key` and vice versa, else an error. A
//!   missing directory means no extra TLS material; an unreadable one (permission) is skipped.
//!
//! Deviations, on purpose: the host must be a valid `host[:port]` (no path traversal through a
//! crafted reference); files are limited to [`MAX_PEM_FILE_SIZE`]; the things c/image only logs
//! (an unusable `.crt`, a skipped directory) are returned as [`HostTls::warnings`] for the caller to
//! print; the client key is not checked against the certificate here (rustls does that when the
//! client is built). A directory named with `--cert-dir` is held to what it holds: a `.crt`
//! without a certificate, an unreadable or dangling one, or an unreadable directory is an error
//! ([`CertsError`]), not a warning, so that it is reported as unusable input rather than
//! surfacing later as a TLS failure against the registry.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::reference::is_valid_domain;

/// Largest certificate or key file read, in bytes (CA bundles can be a few hundred KiB).
pub const MAX_PEM_FILE_SIZE: u64 = 4 << 20;

/// `$HOME`-relative per-host parent directory.
pub const HOME_CERTS_D: &str = ".config/containers/certs.d";
/// System per-host parent directories, after [`HOME_CERTS_D`].
pub const SYSTEM_CERTS_D: [&str; 2] = ["/etc/containers/certs.d", "/etc/docker/certs.d"];

/// A client certificate and its key. `Debug` does not show the key.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCert {
    /// The `NAME.cert` file.
    pub cert_path: PathBuf,
    /// The `NAME.key` file beside it.
    pub key_path: PathBuf,
    /// The `.cert` file's bytes (PEM).
    pub cert_pem: Vec<u8>,
    /// The `.key` file's bytes (PEM; secret).
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCert")
            .field("cert_path", &self.cert_path)
            .field("key_path", &self.key_path)
            .finish_non_exhaustive()
    }
}

impl ClientCert {
    /// The pair as one PEM buffer for `reqwest::Identity::from_pem`: every `CERTIFICATE` block of
    /// the `.cert` file, then the first `… PRIVATE KEY` block of the `.key` file; other blocks (such
    /// as the `EC PARAMETERS` that `openssl ecparam -genkey` writes, which reqwest rejects) are
    /// skipped, as Go's `tls.X509KeyPair` skips them. Validated by [`load_dir`].
    pub fn identity_pem(&self) -> Result<Vec<u8>, CertsError> {
        let invalid = |path: &Path, reason: &str| CertsError::InvalidClientPair {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        let mut pem = Vec::new();
        for (label, block) in pem_blocks(&self.cert_pem) {
            if label == "CERTIFICATE" {
                pem.extend_from_slice(block);
                pem.push(b'\n');
            }
        }
        if pem.is_empty() {
            return Err(invalid(&self.cert_path, "no PEM CERTIFICATE block found"));
        }
        let (_, key) = pem_blocks(&self.key_pem)
            .find(|(label, _)| *label == "PRIVATE KEY" || label.ends_with(" PRIVATE KEY"))
            .ok_or_else(|| invalid(&self.key_path, "no PEM PRIVATE KEY block found"))?;
        pem.extend_from_slice(key);
        pem.push(b'\n');
        Ok(pem)
    }

    /// The pair as a reqwest identity (see [`identity_pem`](Self::identity_pem)).
    pub fn identity(&self) -> Result<reqwest::Identity, CertsError> {
        reqwest::Identity::from_pem(&self.identity_pem()?).map_err(|e| CertsError::InvalidClientPair {
            path: self.cert_path.clone(),
            reason: format!("{e} (key {})", self.key_path.display()),
        })
    }
}

/// TLS material for one registry host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTls {
    /// The directory the material came from; `None` when no directory exists.
    pub dir: Option<PathBuf>,
    /// `*.crt` files holding at least one PEM certificate, in name order.
    pub ca_pems: Vec<(PathBuf, Vec<u8>)>,
    /// `*.cert` + `*.key` pairs, in name order. Go offers all of them and uses the first the
    /// server accepts; a reqwest client takes one, normally [`HostTls::client`].
    pub clients: Vec<ClientCert>,
    /// What c/image would only log: skipped files and directories.
    pub warnings: Vec<String>,
}

impl HostTls {
    /// The client certificate to present: the first pair in name order.
    pub fn client(&self) -> Option<&ClientCert> {
        self.clients.first()
    }
}

/// Why the TLS material for a host could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertsError {
    /// The host is not a valid `host[:port]`; the host.
    #[error("invalid registry host {0:?} for a certs.d lookup (expected host[:port])")]
    InvalidHost(String),
    /// A file or directory could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A file is larger than [`MAX_PEM_FILE_SIZE`].
    #[error("{} is larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// A `NAME.cert` without its `NAME.key`.
    #[error("missing key {key} for client certificate {cert} in {}. Note that CA certificates should use the extension .crt", dir.display())]
    MissingKey {
        /// The directory.
        dir: PathBuf,
        /// The certificate's file name.
        cert: String,
        /// The key's expected file name.
        key: String,
    },
    /// A `NAME.key` without its `NAME.cert`.
    #[error("missing client certificate {cert} for key {key} in {}", dir.display())]
    MissingCert {
        /// The directory.
        dir: PathBuf,
        /// The certificate's expected file name.
        cert: String,
        /// The key's file name.
        key: String,
    },
    /// A client certificate or key cannot be used.
    #[error("invalid client certificate or key {}: {reason}", path.display())]
    InvalidClientPair {
        /// The `.cert` or `.key` file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
    /// A `.crt` file in a `--cert-dir` holds no usable certificate.
    #[error("invalid CA certificate file {}: {reason}", path.display())]
    InvalidCa {
        /// The file.
        path: PathBuf,
        /// Why it cannot be used.
        reason: String,
    },
}

/// The per-host parent directories searched when no `--cert-dir` is given, in order.
pub fn search_dirs(home: Option<&Path>) -> Vec<PathBuf> {
    home.map(|h| h.join(HOME_CERTS_D))
        .into_iter()
        .chain(SYSTEM_CERTS_D.iter().map(PathBuf::from))
        .collect()
}

/// TLS material for `host` (`host` or `host:port`, as in the image reference): from `cert_dir`
/// alone if given, else from the first existing `<parent>/<host>` of [`search_dirs`].
pub fn lookup(host: &str, cert_dir: Option<&Path>, home: Option<&Path>) -> Result<HostTls, CertsError> {
    check_host(host)?;
    match cert_dir {
        Some(dir) => load_dir_as(dir, Strictness::Named),
        None => lookup_in(host, &search_dirs(home)),
    }
}

/// Like [`lookup`] without `--cert-dir`, with explicit parent directories.
pub fn lookup_in(host: &str, parents: &[PathBuf]) -> Result<HostTls, CertsError> {
    check_host(host)?;
    let mut warnings = Vec::new();
    for parent in parents {
        let dir = parent.join(host);
        match fs::metadata(&dir) {
            Ok(_) => {
                let mut tls = load_dir(&dir)?;
                warnings.append(&mut tls.warnings);
                tls.warnings = warnings;
                return Ok(tls);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                warnings.push(format!("skipping {}: {e}", dir.display()));
            }
            Err(source) => return Err(CertsError::Io { path: dir, source }),
        }
    }
    Ok(HostTls {
        warnings,
        ..HostTls::default()
    })
}

/// How a directory's unusable contents are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Found by the search (c/image): an unreadable directory is skipped and a `.crt`
    /// without a certificate is ignored, each with a warning.
    Searched,
    /// Named with `--cert-dir`: both are errors. The user pointed at these files; ignoring
    /// one would only turn into a TLS failure against the registry later, which looks like
    /// the network failing (exit 3) rather than the input (exit 2).
    Named,
}

/// c/image `SetupCertificates` for one directory.
pub fn load_dir(dir: &Path) -> Result<HostTls, CertsError> {
    load_dir_as(dir, Strictness::Searched)
}

fn load_dir_as(dir: &Path, strictness: Strictness) -> Result<HostTls, CertsError> {
    let named = strictness == Strictness::Named;
    let io_err = |path: &Path, source| CertsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tls = HostTls::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(tls),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied && !named => {
            tls.warnings.push(format!("skipping {}: {e}", dir.display()));
            return Ok(tls);
        }
        Err(e) => return Err(io_err(dir, e)),
    };
    let mut names = Vec::new();
    for entry in entries {
        names.push(entry.map_err(|e| io_err(dir, e))?.file_name());
    }
    names.sort(); // os.ReadDir order: by name, bytewise on Unix
    tls.dir = Some(dir.to_owned());
    let entry = |name: &[u8]| names.iter().find(|n| n.as_encoded_bytes() == name);
    let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    for name in &names {
        let bytes = name.as_encoded_bytes();
        let path = dir.join(name);
        if bytes.ends_with(b".crt") {
            let Some(pem) = read_optional(&path)? else {
                if named {
                    return Err(io_err(&path, io::ErrorKind::NotFound.into()));
                }
                tls.warnings.push(format!(
                    "skipping {}: it does not exist (dangling link?)",
                    path.display()
                ));
                continue;
            };
            match reqwest::Certificate::from_pem_bundle(&pem) {
                Ok(certs) if !certs.is_empty() => tls.ca_pems.push((path, pem)),
                Ok(_) if named => {
                    return Err(CertsError::InvalidCa {
                        path,
                        reason: "no PEM certificate in it (DER needs converting: openssl x509 -inform der)".into(),
                    })
                }
                Err(e) if named => {
                    return Err(CertsError::InvalidCa {
                        path,
                        reason: e.to_string(),
                    })
                }
                Ok(_) => tls.warnings.push(format!(
                    "ignoring {}: no PEM certificate in it (DER needs converting: openssl x509 -inform der)",
                    path.display()
                )),
                Err(e) => tls.warnings.push(format!("ignoring {}: {e}", path.display())),
            }
        } else if let Some(stem) = bytes.strip_suffix(b".cert") {
            let key = [stem, b".key"].concat();
            let Some(key_name) = entry(&key) else {
                return Err(CertsError::MissingKey {
                    dir: dir.to_owned(),
                    cert: lossy(bytes),
                    key: lossy(&key),
                });
            };
            let key_path = dir.join(key_name);
            let pair = ClientCert {
                cert_pem: read_required(&path)?,
                key_pem: read_required(&key_path)?,
                cert_path: path,
                key_path,
            };
            pair.identity()?;
            tls.clients.push(pair);
        } else if let Some(stem) = bytes.strip_suffix(b".key") {
            let cert = [stem, b".cert"].concat();
            if entry(&cert).is_none() {
                return Err(CertsError::MissingCert {
                    dir: dir.to_owned(),
                    cert: lossy(&cert),
                    key: lossy(bytes),
                });
            }
        }
    }
    Ok(tls)
}

fn check_host(host: &str) -> Result<(), CertsError> {
    if is_valid_domain(host) {
        Ok(())
    } else {
        Err(CertsError::InvalidHost(host.to_owned()))
    }
}

fn read_required(path: &Path) -> Result<Vec<u8>, CertsError> {
    read_optional(path)?.ok_or_else(|| CertsError::Io {
        path: path.to_owned(),
        source: io::ErrorKind::NotFound.into(),
    })
}

/// The file's bytes, `None` if it does not exist (e.g. a dangling symbolic link).
fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, CertsError> {
    match crate::files::read_bounded_regular(path, MAX_PEM_FILE_SIZE) {
        Ok(Some(Ok(b))) => Ok(Some(b)),
        Ok(Some(Err(limit))) => Err(CertsError::TooLarge {
            path: path.to_owned(),
            limit,
        }),
        Ok(None) => Ok(None),
        Err(source) => Err(CertsError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// PEM blocks as (label, text from `-----BEGIN` to the end of `-----END …-----`), skipping
/// anything between blocks.
fn pem_blocks(data: &[u8]) -> impl Iterator<Item = (&str, &[u8])> {
    const BEGIN: &[u8] = b"-----BEGIN ";
    let mut rest = data;
    std::iter::from_fn(move || loop {
        let start = find(rest, BEGIN)?;
        let after = &rest[start + BEGIN.len()..];
        let Some(label_end) = find(after, b"-----") else {
            rest = &[];
            return None;
        };
        let label = std::str::from_utf8(&after[..label_end]).ok();
        let end_marker = [b"-----END ".as_slice(), &after[..label_end], b"-----"].concat();
        match (label, find(after, &end_marker)) {
            (Some(label), Some(end)) => {
                let block_end = start + BEGIN.len() + end + end_marker.len();
                let block = &rest[start..block_end];
                rest = &rest[block_end..];
                return Some((label, block));
            }
            _ => rest = after,
        }
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod dir_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_block_scanner() {
        let data = b"junk\n-----BEGIN EC PARAMETERS-----\nBggq\n-----END EC PARAMETERS-----\n\
                     -----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----\n\
                     -----BEGIN X-----\nunterminated\n";
        let blocks: Vec<_> = pem_blocks(data).collect();
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].0, "EC PARAMETERS");
        assert_eq!(blocks[1].0, "EC PRIVATE KEY");
        assert!(blocks[1].1.starts_with(b"-----BEGIN EC PRIVATE KEY-----"));
        assert!(blocks[1].1.ends_with(b"-----END EC PRIVATE KEY-----"));
    }

    #[test]
    fn hosts_are_checked() {
        for bad in ["", "..", "../etc", "a/b", "host:port", "host:5000/x", "a..b", "-a"] {
            assert!(matches!(check_host(bad), Err(CertsError::InvalidHost(_))), "{bad}");
        }
        for good in ["docker.io", "localhost", "localhost:5000", "10.10.30.45:5000"] {
            check_host(good).unwrap();
        }
    }
}
