//! Everything needed to reach registries and lookasides, resolved once per
//! run and shared by every worker: the HTTP client (one connection pool per
//! registry host), registries.d, credentials sources, certs.d and the
//! optional `--lookaside` override, and registries.conf: each manifest is
//! read from the first of the image's pull sources (mirrors, then the
//! registry's `location`) that has it, with that endpoint's `insecure`
//! setting, and its signatures from the same place, as containers/image does.
//!
//! The caller gathers the environment ([`NetworkConfig`]); nothing here
//! reads it. Opening the HTTP client is deferred to the first request, so a
//! run that only reads local files never builds one (and never opens a
//! socket).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::Url;

use crate::digest::Digest;
use crate::reference::DockerReference;
use crate::registry::auth_file::{AuthEnv, AuthError, AuthSources, Credential, HelperRequest};
use crate::registry::client::{
    redact_url, Auth, FetchedManifest, FetchedSignature, HostTls, Options, Registries, RegistryError,
};
use crate::registry::registries_conf::{ConfError, PullSource, RegistriesConf};
use crate::registry::{certs_d, cred_helper};
use crate::store::lookaside;
use crate::store::registries_d::{BuiltinDefault, RegistriesD};
use crate::Reason;

/// What the caller resolved from flags and the environment.
#[derive(Debug, Clone)]
pub struct NetworkConfig {
    /// registries.d, already loaded.
    pub registries_d: RegistriesD,
    /// registries.conf, already loaded (an error is reported when a registry is reached).
    pub registries_conf: Result<RegistriesConf, ConfError>,
    /// Where signatures go when registries.d names no lookaside.
    pub builtin: BuiltinDefault,
    /// Read signatures from this lookaside instead of the signature API / registries.d.
    pub lookaside: Option<Url>,
    /// Credentials given explicitly (`--creds`); else `auth` is searched.
    pub creds: Option<Auth>,
    /// The environment deciding which auth.json files are read.
    pub auth: AuthEnv,
    /// `--cert-dir`: one directory of TLS material for every registry.
    pub cert_dir: Option<PathBuf>,
    /// `$HOME`, for the per-user certs.d.
    pub home: Option<PathBuf>,
    /// `--tls-verify`: `Some` overrides registries.conf's `insecure` for every registry.
    pub tls_verify: Option<bool>,
    /// Time limit for each registry request and each credential helper run
    /// (taken as at least 1 s).
    pub timeout: Duration,
}

/// Why something could not be fetched, or the configuration for it could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The registry (or lookaside server) failed or refused the request.
    #[error("{0}")]
    Registry(#[from] RegistryError),
    /// The auth.json files (or `--creds`) could not be used.
    #[error("credentials for {domain}: {message}")]
    Credentials {
        /// The registry `host[:port]`.
        domain: String,
        /// What is wrong, naming the file.
        message: String,
    },
    /// A credential helper named by an auth file could not be run or failed.
    #[error("credentials for {domain}: {message}")]
    CredentialHelper {
        /// The registry `host[:port]`.
        domain: String,
        /// The helper's failure, naming the file that named it.
        message: String,
    },
    /// The certs.d TLS material (or `--cert-dir`) for the registry is unusable.
    #[error("TLS material for {domain}: {message}")]
    Tls {
        /// The registry `host[:port]`.
        domain: String,
        /// What is wrong, naming the file or directory.
        message: String,
    },
    /// registries.d gives no usable lookaside for the image.
    #[error("lookaside for {reference}: {message}")]
    RegistriesD {
        /// The image reference.
        reference: String,
        /// What is wrong.
        message: String,
    },
    /// registries.conf is unusable for this image, or blocks its registry.
    #[error("{0}")]
    RegistriesConf(#[from] ConfError),
    /// A sigstore signature was to be stored as a registry attachment, but
    /// registries.d does not set `use-sigstore-attachments: true` for the image
    /// (c/image: "writing sigstore attachments is disabled by configuration").
    #[error("writing sigstore attachments for {reference} is disabled by configuration (registries.d use-sigstore-attachments is not true for it)")]
    SigstoreAttachmentsDisabled {
        /// The image reference.
        reference: String,
    },
    /// Every pull source failed: the registry's own error, and the mirrors'.
    #[error("{primary} (mirrors also failed: {mirrors})")]
    Mirrors {
        /// The error from the registry's own location.
        primary: Box<NetworkError>,
        /// Each mirror's error, as `[reference: error]`, comma-separated.
        mirrors: String,
    },
}

impl NetworkError {
    /// Why, as a [`Reason`]: its own, or the carried [`RegistryError`]'s.
    pub fn code(&self) -> Reason {
        // No wildcard: a new variant needs its code here.
        match self {
            NetworkError::Registry(e) => e.code(),
            NetworkError::Mirrors { primary, .. } => primary.code(),
            NetworkError::Credentials { .. } => Reason::InvalidAuthfile,
            NetworkError::CredentialHelper { .. } => Reason::CredentialHelperFailed,
            NetworkError::Tls { .. } => Reason::InvalidCertDir,
            NetworkError::RegistriesD { .. } => Reason::InvalidRegistriesD,
            NetworkError::RegistriesConf(ConfError::Blocked { .. }) => Reason::RegistryBlocked,
            NetworkError::RegistriesConf(_) => Reason::InvalidRegistriesConf,
            NetworkError::SigstoreAttachmentsDisabled { .. } => Reason::SigstoreAttachmentsDisabled,
        }
    }

    /// What the user can check.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            NetworkError::Registry(e) => Some(e.hint()),
            NetworkError::Mirrors { primary, .. } => primary.hint(),
            NetworkError::SigstoreAttachmentsDisabled { .. } => Some(
                "set `use-sigstore-attachments: true` for the registry or namespace in registries.d (readers need it too), or store the signature with --lookaside-dir DIR",
            ),
            _ => None,
        }
    }

    /// A problem with the local configuration (not with the network or a server).
    pub fn is_configuration(&self) -> bool {
        match self {
            NetworkError::Mirrors { primary, .. } => primary.is_configuration(),
            e => !matches!(e, NetworkError::Registry(_) | NetworkError::CredentialHelper { .. }),
        }
    }

    /// The server answered 404: a mistyped name or tag. Retrying cannot help.
    pub fn is_not_found(&self) -> bool {
        match self {
            NetworkError::Mirrors { primary, .. } => primary.is_not_found(),
            e => matches!(e, NetworkError::Registry(RegistryError::Status { status: 404, .. })),
        }
    }

    /// The server sent a manifest that must not be used: other bytes than the digest
    /// asked for, or a manifest with a repeated member. The image must be rejected.
    pub fn rejects_image(&self) -> bool {
        match self {
            NetworkError::Mirrors { primary, .. } => primary.rejects_image(),
            e => matches!(
                e,
                NetworkError::Registry(RegistryError::DigestMismatch { .. } | RegistryError::ManifestRefused { .. })
            ),
        }
    }
}

/// Registries and lookasides, shared by all workers of a run.
pub struct Network {
    config: NetworkConfig,
    auth_sources: AuthSources,
    registries: OnceLock<Result<Registries, RegistryError>>,
    /// certs.d warnings already handed out (each once per run).
    warned: Mutex<HashSet<String>>,
    /// Credential helper answers by (helper, server): each helper is run at most once per
    /// server and run, however many images a batch has (the lock is held while it runs).
    helper_answers: Mutex<HashMap<(String, String), Result<Credential, cred_helper::HelperError>>>,
    /// The pull source each image's manifest came from (by the reference as given), where
    /// its instances and signatures are read too.
    chosen: Mutex<HashMap<String, PullSource>>,
    /// Debug messages already logged (where credentials and TLS material came from).
    logged: Mutex<HashSet<String>>,
}

/// Signatures fetched for one manifest, and where they were looked for.
pub struct Fetched {
    /// The signatures found.
    pub signatures: Vec<FetchedSignature>,
    /// e.g. `https://lookaside.example.com/ns/app@sha256=…/signature-N`.
    pub looked_in: String,
    /// Whether these came from the registry signature API (whose entries are
    /// simple-signing content by definition, never classified).
    pub from_api: bool,
    /// Read over the network (HTTP(S) lookaside or signature API), where a body
    /// over the size limit fails the whole read, as in containers/image; a local
    /// file over the limit is one unusable signature.
    pub remote: bool,
}

impl Network {
    /// A network for `config`; no registry is contacted until one is needed.
    pub fn new(config: NetworkConfig) -> Network {
        let auth_sources = AuthSources::standard(&config.auth);
        if let Ok(conf) = &config.registries_conf {
            tracing::debug!(
                "registries.conf: {} ({} registry entries)",
                if conf.sources.is_empty() {
                    "no file".to_owned()
                } else {
                    conf.sources
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                conf.registries.len()
            );
        }
        Network {
            config,
            auth_sources,
            registries: OnceLock::new(),
            warned: Mutex::default(),
            helper_answers: Mutex::default(),
            chosen: Mutex::default(),
            logged: Mutex::default(),
        }
    }

    /// Log `message` at debug level once per run.
    fn debug_once(&self, message: String) {
        if tracing::enabled!(tracing::Level::DEBUG)
            && self
                .logged
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(message.clone())
        {
            tracing::debug!("{message}");
        }
    }

    /// The registries.d configuration in use.
    pub fn registries_d(&self) -> &RegistriesD {
        &self.config.registries_d
    }

    /// The built-in lookaside default, for images registries.d configures nothing for.
    pub fn builtin(&self) -> &BuiltinDefault {
        &self.config.builtin
    }

    /// The `--lookaside` override, if any.
    pub fn lookaside_override(&self) -> Option<&Url> {
        self.config.lookaside.as_ref()
    }

    fn client(&self) -> Result<&Registries, NetworkError> {
        self.registries
            .get_or_init(|| {
                Registries::new(Options {
                    tls_verify: self.config.tls_verify.unwrap_or(true),
                    timeout: self.config.timeout.max(Duration::from_secs(1)),
                    ..Options::default()
                })
            })
            .as_ref()
            .map_err(|e| NetworkError::Registry(e.clone()))
    }

    fn auth_for(&self, r: &DockerReference) -> Result<Auth, NetworkError> {
        if let Some(c) = &self.config.creds {
            self.debug_once(format!("credentials for {}: --creds", r.domain()));
            return Ok(c.clone());
        }
        let cred = |message: String| NetworkError::Credentials {
            domain: r.domain().to_owned(),
            message,
        };
        let mut run = |h: &HelperRequest<'_>| self.run_helper(h);
        let found = match self.auth_sources.find_with(r, &mut run) {
            Ok(Some(found)) => {
                self.debug_once(format!(
                    "credentials for {}: {} (entry {:?})",
                    r.name(),
                    found.file.display(),
                    found.key
                ));
                found
            }
            Ok(None) => {
                let files: Vec<String> = self
                    .auth_sources
                    .files
                    .iter()
                    .map(|f| f.path.display().to_string())
                    .collect();
                self.debug_once(format!(
                    "credentials for {}: none (anonymous); looked in {}",
                    r.name(),
                    if files.is_empty() {
                        "no file".into()
                    } else {
                        files.join(", ")
                    }
                ));
                return Ok(Auth::Anonymous);
            }
            Err(AuthError::Helper(e)) => {
                return Err(NetworkError::CredentialHelper {
                    domain: r.domain().to_owned(),
                    message: e.to_string(),
                })
            }
            Err(e) => return Err(cred(e.to_string())),
        };
        Ok(match found.credential {
            Credential::Basic { username, password } => Auth::Basic { username, password },
            Credential::IdentityToken { username, token } => Auth::IdentityToken { username, token },
            _ => Auth::Anonymous,
        })
    }

    /// The answer of a credential helper, run once per (helper, server) and run.
    fn run_helper(&self, h: &HelperRequest<'_>) -> Result<Credential, AuthError> {
        let mut answers = self.helper_answers.lock().unwrap_or_else(|e| e.into_inner());
        let answer = answers
            .entry((h.helper.to_owned(), h.server.to_owned()))
            .or_insert_with(|| {
                let named_by = if h.creds_store { "credsStore" } else { "credHelpers" };
                tracing::debug!(
                    "running docker-credential-{} get for {} ({named_by} in {})",
                    h.helper,
                    h.server,
                    h.file.display()
                );
                cred_helper::get(h.helper, h.server, self.config.timeout.max(Duration::from_secs(1)))
                    .map(Credential::from_helper)
                    .map_err(|mut e| {
                        e.message = format!("{} (named by {named_by} in {})", e.message, h.file.display());
                        e
                    })
            });
        answer.clone().map_err(AuthError::Helper)
    }

    /// TLS material for `r`'s registry, and certs.d warnings not handed out before.
    fn tls_for(
        &self,
        r: &DockerReference,
        insecure: bool,
        warnings: &mut Vec<String>,
    ) -> Result<HostTls, NetworkError> {
        let tls = |message: String| NetworkError::Tls {
            domain: r.domain().to_owned(),
            message,
        };
        let t =
            certs_d::lookup(r.domain(), self.config.cert_dir.as_deref(), self.config.home.as_deref()).map_err(|e| {
                match std::error::Error::source(&e) {
                    // Name the OS error too ("cannot read …/ca.crt: Permission denied").
                    Some(cause) => tls(format!("{e}: {cause}")),
                    None => tls(e.to_string()),
                }
            })?;
        let insecure = self.config.tls_verify.map_or(insecure, |verify| !verify);
        self.debug_once(format!(
            "TLS for {}: {}{}",
            r.domain(),
            match (&t.dir, &self.config.cert_dir) {
                (Some(d), _) => format!(
                    "certs.d {} ({} CA file(s), {} client certificate(s))",
                    d.display(),
                    t.ca_pems.len(),
                    t.clients.len()
                ),
                (None, Some(d)) => format!("--cert-dir {} (not found)", d.display()),
                (None, None) => "no certs.d directory for this host; system CAs".into(),
            },
            if insecure {
                "; insecure (plain HTTP and unverified TLS allowed)"
            } else {
                ""
            }
        ));
        let mut out = HostTls {
            ca_pems: t.ca_pems.iter().map(|(_, pem)| pem.clone()).collect(),
            client_identity_pem: None,
            insecure,
        };
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        for w in &t.warnings {
            if warned.insert(w.clone()) {
                warnings.push(w.clone());
            }
        }
        drop(warned);
        if let Some(c) = t.client() {
            out.client_identity_pem = Some(c.identity_pem().map_err(|e| tls(format!("client certificate: {e}")))?);
        }
        Ok(out)
    }

    /// Where `r` is read from (registries.conf), mirrors first.
    pub fn pull_sources(&self, r: &DockerReference) -> Result<Vec<PullSource>, NetworkError> {
        Ok(self.registries_conf()?.pull_sources(r)?)
    }

    fn registries_conf(&self) -> Result<&RegistriesConf, NetworkError> {
        self.config
            .registries_conf
            .as_ref()
            .map_err(|e| NetworkError::RegistriesConf(e.clone()))
    }

    /// Whether registries.conf marks `r`'s registry `insecure` (an error if it is blocked).
    fn conf_insecure(&self, r: &DockerReference) -> Result<bool, NetworkError> {
        Ok(self.registries_conf()?.push_insecure(r)?)
    }

    /// Try `f` on each pull source of `r` in order (the one that served `r` before, if any,
    /// alone); the first success wins and is remembered.
    fn try_sources<T>(
        &self,
        r: &DockerReference,
        warnings: &mut Vec<String>,
        f: impl Fn(&Registries, &DockerReference, &Auth, &HostTls) -> Result<T, RegistryError>,
    ) -> Result<T, NetworkError> {
        let key = r.to_string();
        let chosen = self.chosen.lock().unwrap_or_else(|e| e.into_inner()).get(&key).cloned();
        let sources = match chosen {
            Some(s) => vec![s],
            None => self.pull_sources(r)?,
        };
        let mut failed: Vec<(PullSource, NetworkError)> = Vec::new();
        let several = sources.len() > 1;
        for s in sources {
            if several {
                tracing::debug!(
                    "{r}: trying {}{}{} (registries.conf)",
                    s.reference,
                    if s.mirror { ", a mirror" } else { "" },
                    if s.insecure { ", insecure" } else { "" }
                );
            } else if s.reference != *r {
                tracing::debug!("{r}: read from {} (registries.conf)", s.reference);
            }
            let attempt = (|| {
                let auth = self.auth_for(&s.reference)?;
                let tls = self.tls_for(&s.reference, s.insecure, warnings)?;
                Ok(f(self.client()?, &s.reference, &auth, &tls)?)
            })();
            match attempt {
                Ok(v) => {
                    self.chosen.lock().unwrap_or_else(|e| e.into_inner()).insert(key, s);
                    return Ok(v);
                }
                Err(e) => failed.push((s, e)),
            }
        }
        let (_, primary) = failed.pop().expect("at least the registry itself is a pull source");
        if failed.is_empty() {
            return Err(primary);
        }
        let mirrors = failed
            .iter()
            .map(|(s, e)| format!("[{}: {e}]", s.reference))
            .collect::<Vec<_>>()
            .join(", ");
        Err(NetworkError::Mirrors {
            primary: Box::new(primary),
            mirrors,
        })
    }

    /// The pull source `r`'s manifest came from, else the registry's own location.
    fn source_for(&self, r: &DockerReference) -> Result<PullSource, NetworkError> {
        if let Some(s) = self
            .chosen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&r.to_string())
        {
            return Ok(s.clone());
        }
        let mut sources = self.pull_sources(r)?;
        Ok(sources.pop().expect("at least the registry itself is a pull source"))
    }

    /// Fetch the manifest `r` names (by tag or digest; by digest it is checked), from the
    /// first pull source that has it.
    pub fn manifest(&self, r: &DockerReference, warnings: &mut Vec<String>) -> Result<FetchedManifest, NetworkError> {
        self.try_sources(r, warnings, |c, p, auth, tls| c.manifest(p, auth, tls))
    }

    /// Fetch a manifest of `r`'s repository by digest (a list instance); checked against `d`.
    pub fn manifest_by_digest(
        &self,
        r: &DockerReference,
        d: &Digest,
        warnings: &mut Vec<String>,
    ) -> Result<FetchedManifest, NetworkError> {
        self.try_sources(r, warnings, |c, p, auth, tls| c.manifest_by_digest(p, d, auth, tls))
    }

    /// Signatures from a lookaside `base` (file://, http://, https://). A
    /// `file:` base is read without building the HTTP client.
    pub fn lookaside_signatures(
        &self,
        base: &Url,
        r: &DockerReference,
        d: &Digest,
        warnings: &mut Vec<String>,
    ) -> Result<Fetched, NetworkError> {
        let insecure = if base.scheme() == "file" {
            false
        } else {
            self.conf_insecure(r)?
        };
        self.lookaside_signatures_with(base, r, d, insecure, warnings)
    }

    fn lookaside_signatures_with(
        &self,
        base: &Url,
        r: &DockerReference,
        d: &Digest,
        insecure: bool,
        warnings: &mut Vec<String>,
    ) -> Result<Fetched, NetworkError> {
        if base.scheme() == "file" {
            return file_lookaside_signatures(base, r, d, warnings).map_err(|e| {
                NetworkError::Registry(RegistryError::Lookaside {
                    url: redact_url(base),
                    message: e.to_string(),
                })
            });
        }
        let tls = self.tls_for(r, insecure, warnings)?;
        let signatures = self.client()?.registry_lookaside_signatures(base, r, d, &tls)?;
        Ok(Fetched {
            signatures,
            looked_in: looked_in(base, r, d),
            from_api: false,
            remote: true,
        })
    }

    /// The lookaside registries.d configures for reading `r`'s signatures, if it names one
    /// (the built-in default directory is not counted).
    pub fn configured_lookaside(&self, r: &DockerReference) -> Result<Option<Url>, NetworkError> {
        use crate::store::registries_d::Access;
        if self.config.registries_d.configured(r, Access::Read).is_none() {
            return Ok(None);
        }
        self.read_base(r).map(Some)
    }

    fn read_base(&self, r: &DockerReference) -> Result<Url, NetworkError> {
        use crate::store::registries_d::{Access, Scope};
        match self.config.registries_d.configured(r, Access::Read) {
            Some(c) => tracing::debug!(
                "lookaside for {r}: {} ({} of {} in registries.d file {})",
                c.url,
                c.key,
                match c.scope {
                    Scope::Docker(s) => format!("docker: {s}"),
                    Scope::DefaultDocker => "default-docker".into(),
                },
                c.file.display()
            ),
            None => tracing::debug!("lookaside for {r}: none in registries.d; the built-in default"),
        }
        self.config
            .registries_d
            .read_base(r, &self.config.builtin)
            .map_err(|e| NetworkError::RegistriesD {
                reference: r.to_string(),
                message: e.to_string(),
            })
    }

    /// The signatures of `r`'s manifest `d`, from where containers/image
    /// would read them: the `--lookaside` override if given (for `r` as
    /// given), else — for the pull source the manifest came from — the
    /// registry signature API if that registry has one, else the registries.d
    /// lookaside (or the built-in default).
    pub fn signatures(
        &self,
        r: &DockerReference,
        d: &Digest,
        warnings: &mut Vec<String>,
    ) -> Result<Fetched, NetworkError> {
        if let Some(base) = &self.config.lookaside {
            tracing::debug!("signatures of {r}: --lookaside {}", redact_url(base));
            return self.lookaside_signatures(base, r, d, warnings);
        }
        let source = self.source_for(r)?;
        let (p, insecure) = (&source.reference, source.insecure);
        let tls = self.tls_for(p, insecure, warnings)?;
        let simple = if self.client()?.supports_signature_api(p, &tls)? {
            let auth = self.auth_for(p)?;
            tracing::debug!("signatures of {r}: the registry signature API of {}", p.domain());
            let signatures = self.client()?.api_signatures(p, d, &auth, &tls)?;
            Fetched {
                signatures,
                looked_in: format!("the registry signature API of {}", p.domain()),
                from_api: true,
                remote: true,
            }
        } else {
            let base = self.read_base(p)?;
            self.lookaside_signatures_with(&base, p, d, insecure, warnings)?
        };
        if !self.config.registries_d.use_sigstore_attachments(p) {
            return Ok(simple);
        }
        // containers/image appends the sigstore attachments after the simple-signing signatures.
        let auth = self.auth_for(p)?;
        let tag = crate::registry::client::attachment_tag(d);
        tracing::debug!("signatures of {r}: sigstore attachments at {}:{tag}", p.name());
        let attachments = self.client()?.sigstore_attachments(p, d, &auth, &tls)?;
        Ok(with_attachments(simple, attachments, p, &tag))
    }

    /// Does the registry of `r` take signatures through its signature API (for pushing:
    /// `r` itself, not a mirror)?
    pub fn signature_api(&self, r: &DockerReference, warnings: &mut Vec<String>) -> Result<bool, NetworkError> {
        let tls = self.tls_for(r, self.conf_insecure(r)?, warnings)?;
        Ok(self.client()?.supports_signature_api(r, &tls)?)
    }

    /// Store a signature through the registry signature API; `false` when
    /// an identical one was already there.
    pub fn put_signature(
        &self,
        r: &DockerReference,
        d: &Digest,
        blob: &[u8],
        warnings: &mut Vec<String>,
    ) -> Result<bool, NetworkError> {
        let auth = self.auth_for(r)?;
        let tls = self.tls_for(r, self.conf_insecure(r)?, warnings)?;
        Ok(self.client()?.api_put_signature(r, d, blob, &auth, &tls)?)
    }
}

impl Network {
    /// Store a sigstore signature as a registry attachment of manifest `d` of
    /// `r` (the image itself, not a mirror), when registries.d sets
    /// `use-sigstore-attachments: true` for it; `false` when an identical
    /// attachment was already there.
    pub fn put_sigstore_attachment(
        &self,
        r: &DockerReference,
        d: &Digest,
        sig: &crate::sigstore::SigstoreSignature,
        warnings: &mut Vec<String>,
    ) -> Result<bool, NetworkError> {
        if !self.config.registries_d.use_sigstore_attachments(r) {
            return Err(NetworkError::SigstoreAttachmentsDisabled {
                reference: r.to_string(),
            });
        }
        let auth = self.auth_for(r)?;
        let tls = self.tls_for(r, self.conf_insecure(r)?, warnings)?;
        Ok(self.client()?.put_sigstore_attachment(r, d, sig, &auth, &tls)?)
    }

    /// Whether sigstore signatures of `r` go to registry attachments (registries.d).
    pub fn uses_sigstore_attachments(&self, r: &DockerReference) -> bool {
        self.config.registries_d.use_sigstore_attachments(r)
    }
}

/// `simple` followed by the sigstore attachments: signatures from the signature
/// API (simple-signing content by definition, not classified) are wrapped in
/// the typed `\0simple-signing\n` format, so that the whole set can be
/// classified blob by blob.
fn with_attachments(
    mut simple: Fetched,
    attachments: Vec<crate::registry::client::FetchedSignature>,
    r: &DockerReference,
    tag: &str,
) -> Fetched {
    if simple.from_api {
        for s in &mut simple.signatures {
            if let Ok(b) = &mut s.blob {
                let mut typed = b"\0simple-signing\n".to_vec();
                typed.extend_from_slice(b);
                *b = typed;
            }
        }
        simple.from_api = false;
    }
    simple.looked_in = format!(
        "{} and the sigstore attachments at {}:{tag}",
        simple.looked_in,
        r.name()
    );
    simple.signatures.extend(attachments);
    simple
}

fn looked_in(base: &Url, r: &DockerReference, d: &Digest) -> String {
    redact_url(&lookaside::signature_url(base, r, d, 1)).replace("signature-1", "signature-N")
}

/// The signatures of manifest `d` of `r` under a `file:` lookaside `base`, read locally
/// (no HTTP client, no socket), shaped as the HTTP client returns them: one over the size
/// limit is kept as a message, so the caller can name it. `signature-N` files past the
/// first missing one are not read (as containers/image reads them); a warning saying so
/// goes to `warnings`.
pub fn file_lookaside_signatures(
    base: &Url,
    r: &DockerReference,
    d: &Digest,
    warnings: &mut Vec<String>,
) -> Result<Fetched, lookaside::LookasideError> {
    let dir = lookaside::file_image_dir(base, r, d)?;
    let signatures: Vec<FetchedSignature> = lookaside::read_dir_signatures(&dir)?
        .into_iter()
        .map(|s| FetchedSignature {
            source: s.path.display().to_string(),
            blob: s.contents.map_err(|e| e.to_string()),
        })
        .collect();
    if let Ok(opened) = lookaside::ImageDir::open(&dir) {
        warnings.extend(opened.unread_signatures_warning("", signatures.len()));
    }
    Ok(Fetched {
        signatures,
        looked_in: looked_in(base, r, d),
        from_api: false,
        remote: false,
    })
}
