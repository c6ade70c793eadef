//! Registry access for the CLI: the shared registry flags, resolving
//! credentials, TLS material and the signature source for an image, and
//! gathering an image's manifest and signatures from the network.

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{ArgAction, Args};
use reqwest::Url;

use super::verify_policy::Gathered;
use super::Failure;
use crate::digest::Digest;
use crate::manifest;
use crate::policy::{ImageRef, SignatureInput};
use crate::reference::DockerReference;
use crate::registry::auth_file::{self, AuthEnv, AuthSources, Credential};
use crate::registry::certs_d;
use crate::registry::client::{
    redact_url, Auth, FetchedManifest, FetchedSignature, HostTls, Options, Registries, RegistryError,
};
use crate::signature::Rejection;
use crate::store::lookaside;
use crate::store::registries_d::{BuiltinDefault, RegistriesD};

/// Flags for reaching registries and lookasides (verify and fetch).
#[derive(Debug, Args, Clone)]
pub struct RegistryArgs {
    /// Directory of registries.d YAML files (default: $HOME/.config/containers/registries.d if it exists, else /etc/containers/registries.d)
    #[arg(long = "registries-d", value_name = "DIR")]
    pub registries_d: Option<PathBuf>,
    /// Read signatures from this lookaside (URL, or a local directory) instead of registries.d
    #[arg(long, value_name = "URL|DIR")]
    pub lookaside: Option<String>,
    /// Registry credentials USER:PASSWORD
    #[arg(long, value_name = "USER:PASS")]
    pub creds: Option<String>,
    /// Credentials file (containers-auth.json); default: $REGISTRY_AUTH_FILE, then the usual auth.json locations
    #[arg(long, value_name = "FILE")]
    pub authfile: Option<PathBuf>,
    /// Directory with *.crt CA files and *.cert/*.key client certificates for the registry
    #[arg(long = "cert-dir", value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
    /// Require HTTPS and verify certificates (--tls-verify=false allows plain HTTP and unverified TLS)
    #[arg(long = "tls-verify", value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1,
          default_value_t = true, default_missing_value = "true", require_equals = false)]
    pub tls_verify: bool,
    /// Network timeout in seconds for each request
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

/// Everything resolved once per run.
pub struct Network {
    pub registries: Registries,
    pub registries_d: RegistriesD,
    pub builtin: BuiltinDefault,
    lookaside: Option<Url>,
    creds: Option<Auth>,
    auth_sources: AuthSources,
    cert_dir: Option<PathBuf>,
    home: Option<PathBuf>,
    /// certs.d warnings already printed (each is shown once per run).
    warned: std::sync::Mutex<std::collections::HashSet<String>>,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `--lookaside URL|DIR` as a base URL.
pub fn lookaside_url(s: &str) -> Result<Url, Failure> {
    if s.contains("://") {
        let u = Url::parse(s).map_err(|e| Failure::input("invalid-lookaside", anyhow!("--lookaside {s:?}: {e}")))?;
        if !matches!(u.scheme(), "file" | "http" | "https") {
            return Err(Failure::input(
                "invalid-lookaside",
                anyhow!("--lookaside {s:?}: use file://, http:// or https://"),
            ));
        }
        return Ok(u);
    }
    let abs =
        std::path::absolute(s).map_err(|e| Failure::input("invalid-lookaside", anyhow!("--lookaside {s:?}: {e}")))?;
    Url::from_directory_path(&abs)
        .map(|mut u| {
            // No trailing slash: the layout appends "/<repo>".
            let p = u.path().trim_end_matches('/').to_owned();
            u.set_path(&p);
            u
        })
        .map_err(|()| {
            Failure::input(
                "invalid-lookaside",
                anyhow!("--lookaside {s:?}: not a usable directory path"),
            )
        })
}

fn outside(e: RegistryError) -> Failure {
    let code = e.code();
    let hint = e.hint();
    let err = anyhow!("{e}\nhint: {hint}");
    if matches!(e, RegistryError::DigestMismatch { .. }) {
        Failure::no(code, err)
    } else {
        Failure::outside(code, err)
    }
}

impl Network {
    pub fn new(args: &RegistryArgs) -> Result<Network, Failure> {
        let home = env_path("HOME");
        let dir = args
            .registries_d
            .clone()
            .unwrap_or_else(|| RegistriesD::default_dir(home.as_deref()));
        let registries_d = RegistriesD::load_dir(&dir).map_err(|e| {
            Failure::input(
                "invalid-registries-d",
                anyhow::Error::new(e).context(format!("registries.d {}", dir.display())),
            )
        })?;
        let lookaside = args.lookaside.as_deref().map(lookaside_url).transpose()?;
        let creds = match &args.creds {
            Some(c) => Some(
                match auth_file::parse_creds(c).map_err(|e| Failure::input("invalid-creds", anyhow!("--creds: {e}")))? {
                    Credential::Basic { username, password } => Auth::Basic { username, password },
                    _ => Auth::Anonymous,
                },
            ),
            None => None,
        };
        let env = AuthEnv {
            authfile: args.authfile.clone().or_else(|| env_path("REGISTRY_AUTH_FILE")),
            xdg_runtime_dir: env_path("XDG_RUNTIME_DIR"),
            xdg_config_home: env_path("XDG_CONFIG_HOME"),
            home: home.clone(),
            docker_config: env_path("DOCKER_CONFIG"),
            uid: current_uid(),
        };
        let registries = Registries::new(Options {
            tls_verify: args.tls_verify,
            timeout: std::time::Duration::from_secs(args.timeout.max(1)),
            ..Options::default()
        })
        .map_err(outside)?;
        Ok(Network {
            registries,
            registries_d,
            builtin: BuiltinDefault {
                is_root: current_uid() == 0,
                home: home.clone(),
            },
            lookaside,
            creds,
            auth_sources: AuthSources::standard(&env),
            cert_dir: args.cert_dir.clone(),
            home,
            warned: Default::default(),
        })
    }

    fn auth_for(&self, r: &DockerReference) -> Result<Auth, Failure> {
        if let Some(c) = &self.creds {
            return Ok(c.clone());
        }
        let found = self
            .auth_sources
            .find(r)
            .map_err(|e| Failure::input("invalid-authfile", anyhow!("credentials for {}: {e}", r.domain())))?;
        let Some(found) = found else { return Ok(Auth::Anonymous) };
        Ok(match found.credential {
            Credential::Helper { helper, registry } => {
                return Err(Failure::input(
                    "invalid-authfile",
                    anyhow!(
                        "{}: credHelpers entry {helper:?} for {registry} is not supported (imgsig runs no credential helpers); use --creds or --authfile",
                        found.file.display()
                    ),
                ))
            }
            Credential::Basic { username, password } => Auth::Basic { username, password },
            Credential::IdentityToken { username, token } => Auth::IdentityToken { username, token },
            _ => Auth::Anonymous,
        })
    }

    fn tls_for(&self, r: &DockerReference) -> Result<HostTls, Failure> {
        let t = certs_d::lookup(r.domain(), self.cert_dir.as_deref(), self.home.as_deref())
            .map_err(|e| Failure::input("invalid-cert-dir", anyhow!("TLS material for {}: {e}", r.domain())))?;
        let mut out = HostTls {
            ca_pems: t.ca_pems.iter().map(|(_, pem)| pem.clone()).collect(),
            client_identity_pem: None,
        };
        let mut warned = self.warned.lock().unwrap_or_else(|e| e.into_inner());
        for w in &t.warnings {
            if warned.insert(w.clone()) {
                eprintln!("imgsig: warning: {w}");
            }
        }
        drop(warned);
        if let Some(c) = t.client() {
            out.client_identity_pem = Some(c.identity_pem().map_err(|e| {
                Failure::input(
                    "invalid-cert-dir",
                    anyhow!("client certificate for {}: {e}", r.domain()),
                )
            })?);
        }
        Ok(out)
    }

    /// Fetch the manifest of `r`.
    pub fn manifest(&self, r: &DockerReference) -> Result<FetchedManifest, Failure> {
        let auth = self.auth_for(r)?;
        let tls = self.tls_for(r)?;
        self.registries.manifest(r, &auth, &tls).map_err(outside)
    }

    /// Fetch a manifest of the same repository by digest (a list instance).
    pub fn manifest_by_digest(&self, r: &DockerReference, d: &Digest) -> Result<FetchedManifest, Failure> {
        let auth = self.auth_for(r)?;
        let tls = self.tls_for(r)?;
        self.registries.manifest_by_digest(r, d, &auth, &tls).map_err(outside)
    }

    /// The signatures of `r`'s manifest `d`, and a description of where they came from.
    pub fn signatures(&self, r: &DockerReference, d: &Digest) -> Result<(Vec<FetchedSignature>, String), Failure> {
        let tls = self.tls_for(r)?;
        if let Some(base) = &self.lookaside {
            let sigs = self
                .registries
                .registry_lookaside_signatures(base, r, d, &tls)
                .map_err(outside)?;
            return Ok((
                sigs,
                redact_url(&lookaside::signature_url(base, r, d, 1)).replace("signature-1", "signature-N"),
            ));
        }
        if self.registries.supports_signature_api(r, &tls).map_err(outside)? {
            let auth = self.auth_for(r)?;
            let sigs = self.registries.api_signatures(r, d, &auth, &tls).map_err(outside)?;
            return Ok((sigs, format!("the registry signature API of {}", r.domain())));
        }
        let base = self.registries_d.read_base(r, &self.builtin).map_err(|e| {
            Failure::input(
                "invalid-registries-d",
                anyhow::Error::new(e).context(format!("lookaside for {r}")),
            )
        })?;
        let sigs = self
            .registries
            .registry_lookaside_signatures(&base, r, d, &tls)
            .map_err(outside)?;
        Ok((
            sigs,
            redact_url(&lookaside::signature_url(&base, r, d, 1)).replace("signature-1", "signature-N"),
        ))
    }

    /// Does the registry of `r` take signatures through its signature API?
    pub fn signature_api(&self, r: &DockerReference) -> Result<bool, Failure> {
        let tls = self.tls_for(r)?;
        self.registries.supports_signature_api(r, &tls).map_err(outside)
    }

    /// Store a signature through the registry signature API; `false` when
    /// an identical one was already there.
    pub fn put_signature(&self, r: &DockerReference, d: &Digest, blob: &[u8]) -> Result<bool, Failure> {
        let auth = self.auth_for(r)?;
        let tls = self.tls_for(r)?;
        self.registries
            .api_put_signature(r, d, blob, &auth, &tls)
            .map_err(outside)
    }

    /// Gather one image for policy evaluation: `r` is the identity; the
    /// manifest is `m` (the image's, or a list instance's).
    pub fn gather(&self, r: &DockerReference, m: &FetchedManifest) -> Result<Gathered, Failure> {
        let (sigs, looked_in) = self.signatures(r, &m.digest)?;
        Ok(Gathered {
            image: ImageRef::Docker(r.clone()),
            digest: Ok(m.digest.clone()),
            signatures: sigs
                .into_iter()
                .map(|s| SignatureInput {
                    source: s.source,
                    blob: s.blob.map_err(|why| Rejection {
                        code: "signature-too-large",
                        message: why,
                        signer: None,
                    }),
                })
                .collect(),
            looked_in,
            reference_digest_checked: true,
        })
    }
}

#[cfg(unix)]
fn current_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of /proc/self is this process's uid; no unsafe needed.
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX)
}

#[cfg(not(unix))]
fn current_uid() -> u32 {
    u32::MAX
}

/// The platform used to pick a list instance: this machine's, as Go names it.
pub fn host_platform() -> (&'static str, &'static str) {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    ("linux", arch)
}

/// One instance of a manifest list / OCI index.
#[derive(Debug, Clone)]
pub struct Instance {
    pub digest: Digest,
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Instance {
    /// `os/architecture[/variant]`
    pub fn platform(&self) -> String {
        match &self.variant {
            Some(v) => format!("{}/{}/{v}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// Instances of a manifest list / OCI index; `None` for other manifests.
pub fn list_instances(bytes: &[u8]) -> Option<Vec<Instance>> {
    let mt = manifest::guess_media_type(bytes)?;
    if mt != manifest::DOCKER_V2_LIST && mt != manifest::OCI_INDEX {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let mut out = Vec::new();
    for m in v.get("manifests")?.as_array()? {
        let Some(d) = m
            .get("digest")
            .and_then(|d| d.as_str())
            .and_then(|d| Digest::parse(d).ok())
        else {
            continue;
        };
        let p = m.get("platform");
        let get = |k: &str| p.and_then(|p| p.get(k)).and_then(|v| v.as_str()).map(str::to_owned);
        out.push(Instance {
            digest: d,
            os: get("os").unwrap_or_default(),
            architecture: get("architecture").unwrap_or_default(),
            variant: get("variant"),
        });
    }
    Some(out)
}
