//! Registry credentials files: containers-auth.json(5), Docker's `config.json` and the legacy
//! `.dockercfg`, read the way containers/image `pkg/docker/config` does (simple-signing.md §10.3).
//!
//! Behaviour established from the reference (c/image `config.go`, `config_test.go`):
//! - Search order ([`AuthSources::standard`]): an explicit file (`--authfile` /
//!   `REGISTRY_AUTH_FILE`) is the **only** file read; otherwise the primary file
//!   `${XDG_RUNTIME_DIR}/containers/auth.json` (fallback `/run/containers/<uid>/auth.json`;
//!   `$HOME/.config/containers/auth.json` off Linux), then
//!   `${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json`, then `$DOCKER_CONFIG/config.json` or
//!   `$HOME/.docker/config.json`, then `$HOME/.dockercfg` (legacy format: the top level is the
//!   `auths` map itself).
//! - Files are read lazily in that order; a missing file is skipped, any other read or JSON error
//!   stops the lookup. The first file that yields credentials wins (file order beats key
//!   specificity).
//! - Within a file: `credHelpers[registry]` first; then the keys `host/ns/repo`, `host/ns`, `host`
//!   (only `host` in legacy files); the first key present decides the file's answer, even when
//!   that answer is empty. Then the keys normalised: `http://` / `https://` stripped, and the path
//!   cut (only if a scheme was stripped, or always in legacy files); `docker.io` and
//!   `registry-1.docker.io` become `index.docker.io` on both sides.
//! - `auth` is base64 (Go `StdEncoding`: padding required, CR/LF ignored) of `user:password`,
//!   split at the first `:`; the password is trimmed of NUL bytes. No `:` (including an empty
//!   `auth`) means no credentials, even if `identitytoken` is set. All-empty means none.
//! - JSON is parsed like Go's `encoding/json`: unknown keys ignored, field names matched
//!   case-insensitively (`Auths` works), repeated `auths` objects merged, `null` tolerated.
//!
//! - Credential helpers: a `credHelpers[registry]` entry is asked through the caller's runner
//!   ([`AuthSources::find_key_with`]; a [`Network`](super::network::Network) runs
//!   `docker-credential-<name> get`, with a time limit); "not found" sends the search on to the next file, an error
//!   stops it.
//!
//! Deviations, on purpose: `credsStore` (Docker's, ignored by c/image) is honoured as Docker's
//! default helper for a registry the file has no `auths` credentials for, after `credHelpers`
//! and `auths` (for Docker Hub it is asked for `https://index.docker.io/v1/`, the key
//! `docker login` stores); files over [`MAX_AUTH_FILE_SIZE`] are refused; decoded credentials that are not
//! UTF-8 are an error (Go would pass the bytes through); among several keys that normalise to
//! the same host, the first in the file wins (Go's map order is random); the root-only
//! `/etc/containers/auth.json` of newer c/image (not in the reference) is not read.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine as _;

use crate::reference::DockerReference;

mod parse;
use parse::{parse_contents, Entry};

/// Largest credentials file read, in bytes.
pub const MAX_AUTH_FILE_SIZE: u64 = 1 << 20;

/// Go's `base64.StdEncoding`: padding required, non-zero trailing bits tolerated.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// What to authenticate with. `Debug` never shows passwords or tokens.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Anonymous access.
    None,
    /// HTTP Basic credentials (also sent on bearer-token requests).
    Basic {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token realm.
    IdentityToken {
        /// The user name of the entry's `auth` (empty from a credential helper).
        username: String,
        /// The refresh token.
        token: String,
    },
    /// A `credHelpers` entry (or `credsStore`) names `docker-credential-<helper>` for `registry`:
    /// what [`AuthSources::find_key`] answers, which runs no helper.
    Helper {
        /// The suffix of `docker-credential-<helper>`.
        helper: String,
        /// What the helper is to be asked for: the registry `host[:port]`.
        registry: String,
    },
}

impl Credential {
    /// What a credential helper's answer means here.
    pub(super) fn from_helper(a: super::cred_helper::HelperAnswer) -> Credential {
        use super::cred_helper::HelperAnswer;
        match a {
            HelperAnswer::NotFound => Credential::None,
            HelperAnswer::Basic { username, password } => Credential::Basic { username, password },
            HelperAnswer::IdentityToken { token } => Credential::IdentityToken {
                username: String::new(),
                token,
            },
        }
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::None => f.write_str("None"),
            Credential::Basic { username, .. } => write!(f, "Basic({username:?}, <redacted>)"),
            Credential::IdentityToken { username, .. } => write!(f, "IdentityToken({username:?}, <redacted>)"),
            Credential::Helper { helper, registry } => write!(f, "Helper({helper:?} for {registry:?})"),
        }
    }
}

/// Credentials found, and where: for messages such as "the registry refused the credentials
/// for KEY in FILE".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The credentials.
    pub credential: Credential,
    /// The auth file they came from.
    pub file: PathBuf,
    /// The `auths` key (as written in the file), for a helper the `credHelpers` key, or
    /// `credsStore`.
    pub key: String,
}

/// A credential helper to ask, for [`AuthSources::find_key_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HelperRequest<'a> {
    /// The suffix of `docker-credential-<helper>`.
    pub helper: &'a str,
    /// What the helper is asked for (its stdin): the registry `host[:port]`.
    pub server: &'a str,
    /// The file that named the helper.
    pub file: &'a Path,
    /// Named by `credsStore` (else by `credHelpers`).
    pub creds_store: bool,
}

/// Where and why an auth file's JSON was refused: the JSON reader's message
/// (line and column included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonSyntax(pub(crate) String);

/// Why credentials could not be looked up. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// An auth file exists but could not be read.
    #[error("cannot read credentials file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// An auth file is larger than [`MAX_AUTH_FILE_SIZE`].
    #[error("credentials file {} is larger than {limit} bytes", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// An auth file is not valid JSON of its format.
    #[error("credentials file {} is not valid {format} JSON (fix or remove it)", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// `auth.json` or `legacy .dockercfg`.
        format: &'static str,
        /// Where and why the JSON is refused.
        #[source]
        source: JsonSyntax,
    },
    /// An entry of an auth file cannot be decoded.
    #[error("credentials file {}: entry {key:?}: {reason}", path.display())]
    InvalidEntry {
        /// The file.
        path: PathBuf,
        /// The entry's key, as written.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A lookup key is not a registry, namespace or repository name.
    #[error("invalid credentials key {key:?}: {reason}")]
    InvalidKey {
        /// The key, as given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// [`parse_creds`]: not `USERNAME:PASSWORD`; what is wrong.
    #[error("invalid credentials: {0} (expected USERNAME:PASSWORD)")]
    InvalidCreds(&'static str),
    /// A credential helper could not be run or failed.
    #[error(transparent)]
    Helper(#[from] super::cred_helper::HelperError),
}

/// One credentials file to consult.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFile {
    /// The file; a missing one has no credentials.
    pub path: PathBuf,
    /// `.dockercfg` format: the top-level object is the `auths` map, keys are host names only.
    pub legacy: bool,
}

impl AuthFile {
    fn new(path: PathBuf, legacy: bool) -> Self {
        AuthFile { path, legacy }
    }
}

/// The environment values that decide the search path, gathered by the caller (the library
/// never reads the environment). Empty paths count as unset, as in c/image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEnv {
    /// `--authfile FILE`, else `REGISTRY_AUTH_FILE`.
    pub authfile: Option<PathBuf>,
    /// `$XDG_RUNTIME_DIR`, for `$XDG_RUNTIME_DIR/containers/auth.json` (Linux).
    pub xdg_runtime_dir: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (else `$HOME/.config`), for `containers/auth.json` there.
    pub xdg_config_home: Option<PathBuf>,
    /// `$HOME` (or the passwd home directory when `$HOME` is unset, as c/image's `homedir.Get`).
    pub home: Option<PathBuf>,
    /// `$DOCKER_CONFIG`, for `$DOCKER_CONFIG/config.json` (else `$HOME/.docker/config.json`).
    pub docker_config: Option<PathBuf>,
    /// The real user id, for `/run/containers/<uid>/auth.json`.
    pub uid: u32,
}

/// Credentials files in precedence order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthSources {
    /// The files, first consulted first.
    pub files: Vec<AuthFile>,
}

impl AuthSources {
    /// The files c/image reads for this environment, in order (see the module docs). Paths
    /// relative to an unknown home directory are left out (c/image would make them relative to
    /// the working directory).
    pub fn standard(env: &AuthEnv) -> AuthSources {
        let set = |p: &Option<PathBuf>| p.clone().filter(|p| !p.as_os_str().is_empty());
        if let Some(explicit) = set(&env.authfile) {
            return AuthSources {
                files: vec![AuthFile::new(explicit, false)],
            };
        }
        let home = set(&env.home);
        let mut files = Vec::new();
        let primary = if cfg!(target_os = "linux") {
            Some(match set(&env.xdg_runtime_dir) {
                Some(dir) => dir.join("containers/auth.json"),
                None => PathBuf::from(format!("/run/containers/{}/auth.json", env.uid)),
            })
        } else {
            home.as_ref().map(|h| h.join(".config/containers/auth.json"))
        };
        files.extend(primary.map(|p| AuthFile::new(p, false)));
        let config_home = set(&env.xdg_config_home).or_else(|| home.as_ref().map(|h| h.join(".config")));
        files.extend(config_home.map(|d| AuthFile::new(d.join("containers/auth.json"), false)));
        let docker = match set(&env.docker_config) {
            Some(dir) => Some(dir.join("config.json")),
            None => home.as_ref().map(|h| h.join(".docker/config.json")),
        };
        files.extend(docker.map(|p| AuthFile::new(p, false)));
        files.extend(home.map(|h| AuthFile::new(h.join(".dockercfg"), true)));
        AuthSources { files }
    }

    /// Credentials for pulling or pushing `r` (c/image `GetCredentialsForRef`).
    pub fn lookup(&self, r: &DockerReference) -> Result<Credential, AuthError> {
        Ok(self.find(r)?.map_or(Credential::None, |f| f.credential))
    }

    /// Like [`lookup`](Self::lookup), also saying which file and key matched.
    pub fn find(&self, r: &DockerReference) -> Result<Option<Found>, AuthError> {
        self.find_key(&r.name())
    }

    /// Credentials for a key: a registry (`host[:port]`), a namespace or a repository
    /// (c/image `GetCredentials`).
    pub fn lookup_key(&self, key: &str) -> Result<Credential, AuthError> {
        Ok(self.find_key(key)?.map_or(Credential::None, |f| f.credential))
    }

    /// Like [`lookup_key`](Self::lookup_key), also saying which file and key matched. A helper
    /// is not run: its entry is the answer ([`Credential::Helper`]).
    pub fn find_key(&self, key: &str) -> Result<Option<Found>, AuthError> {
        self.find_key_with(key, &mut |h| {
            Ok(Credential::Helper {
                helper: h.helper.to_owned(),
                registry: h.server.to_owned(),
            })
        })
    }

    /// Like [`find`](Self::find), asking `run` where a file names a credential helper.
    pub fn find_with(&self, r: &DockerReference, run: &mut HelperRunner<'_>) -> Result<Option<Found>, AuthError> {
        self.find_key_with(&r.name(), run)
    }

    /// Like [`find_key`](Self::find_key), asking `run` where a file names a credential helper:
    /// its [`Credential::None`] ("not found") sends the search on to the next file, its error
    /// stops it (c/image `findCredentialsInFile`).
    pub fn find_key_with(&self, key: &str, run: &mut HelperRunner<'_>) -> Result<Option<Found>, AuthError> {
        validate_key(key)?;
        let registry = key.split_once('/').map_or(key, |(host, _)| host);
        for file in &self.files {
            if let Some(found) = find_in_file(file, key, registry, run)? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }
}

/// Asks a credential helper (see [`AuthSources::find_key_with`]).
pub type HelperRunner<'a> = dyn FnMut(&HelperRequest<'_>) -> Result<Credential, AuthError> + 'a;

/// skopeo's `--creds USERNAME[:PASSWORD]`. skopeo takes a value without `:` as a username
/// with an empty password (podman prompts instead); imgsig never prompts and refuses it, because
/// a forgotten password would otherwise be sent as an empty one. `USER:` gives an empty password.
pub fn parse_creds(s: &str) -> Result<Credential, AuthError> {
    if s.is_empty() {
        return Err(AuthError::InvalidCreds("credentials can't be empty"));
    }
    let Some((username, password)) = s.split_once(':') else {
        return Err(AuthError::InvalidCreds(
            "no password given (imgsig does not prompt; write USERNAME: for an empty password)",
        ));
    };
    if username.is_empty() {
        return Err(AuthError::InvalidCreds("username can't be empty"));
    }
    Ok(Credential::Basic {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// c/image `validateKey`.
fn validate_key(key: &str) -> Result<(), AuthError> {
    let invalid = |reason| {
        Err(AuthError::InvalidKey {
            key: key.to_owned(),
            reason,
        })
    };
    if key.starts_with("http://") || key.starts_with("https://") {
        return invalid("contains an http[s]:// prefix");
    }
    if key.contains('@') {
        return invalid("contains a '@' character");
    }
    if key.split_once('/').is_some_and(|(_, rest)| rest.contains(':')) {
        return invalid("contains a ':' character after host[:port]");
    }
    Ok(())
}

/// The answer of one file: `None` sends the search on to the next file.
fn find_in_file(
    file: &AuthFile,
    key: &str,
    registry: &str,
    run: &mut HelperRunner<'_>,
) -> Result<Option<Found>, AuthError> {
    let Some(bytes) = read_bounded(&file.path)? else {
        return Ok(None);
    };
    let contents = parse_contents(&file.path, file.legacy, &bytes)?;
    let found = |credential, key: &str| Found {
        credential,
        file: file.path.clone(),
        key: key.to_owned(),
    };
    let mut ask = |helper: &str, server: &str, creds_store: bool, key: &str| -> Result<Option<Found>, AuthError> {
        let request = HelperRequest {
            helper,
            server,
            file: &file.path,
            creds_store,
        };
        Ok(match run(&request)? {
            Credential::None => None,
            credential => Some(found(credential, key)),
        })
    };
    if let Some(helper) = contents.cred_helpers.get(registry) {
        return ask(helper, registry, false, registry);
    }
    let keys = if file.legacy {
        vec![registry]
    } else {
        auth_keys_for_key(key)
    };
    let matched = keys
        .into_iter()
        .find_map(|k| contents.get(k).map(|e| (k, e)))
        .or_else(|| {
            let wanted = normalize_registry(registry);
            contents
                .auths
                .iter()
                .find(|(k, _)| normalize_auth_file_key(k, file.legacy) == wanted)
                .map(|(k, e)| (k.as_str(), e))
        });
    if let Some((k, entry)) = matched {
        match decode_entry(&file.path, k, entry)? {
            Credential::None => {}
            credential => return Ok(Some(found(credential, k))),
        }
    }
    match contents.creds_store.as_deref().filter(|h| !h.is_empty()) {
        Some(store) => {
            let server = if normalize_registry(registry) == "index.docker.io" {
                "https://index.docker.io/v1/"
            } else {
                registry
            };
            ask(store, server, true, "credsStore")
        }
        None => Ok(None),
    }
}

/// `host/a/b` → `host/a/b`, `host/a`, `host` (c/image `authKeysForKey`).
fn auth_keys_for_key(key: &str) -> Vec<&str> {
    let mut res = vec![key];
    let mut k = key;
    while let Some(i) = k.rfind('/') {
        k = &k[..i];
        res.push(k);
    }
    res
}

/// c/image `normalizeAuthFileKey`.
fn normalize_auth_file_key(key: &str, legacy: bool) -> &str {
    let stripped = key.strip_prefix("http://").unwrap_or(key);
    let stripped = stripped.strip_prefix("https://").unwrap_or(stripped);
    let host = if legacy || stripped.len() != key.len() {
        stripped.split_once('/').map_or(stripped, |(host, _)| host)
    } else {
        stripped
    };
    normalize_registry(host)
}

/// c/image `normalizeRegistry`: the docker.io aliases become `index.docker.io`.
fn normalize_registry(registry: &str) -> &str {
    match registry {
        "registry-1.docker.io" | "docker.io" => "index.docker.io",
        other => other,
    }
}

/// c/image `decodeDockerAuth` followed by its "all fields empty means not found" check.
fn decode_entry(path: &Path, key: &str, entry: &Entry) -> Result<Credential, AuthError> {
    let invalid = |reason| AuthError::InvalidEntry {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let cleaned: Vec<u8> = entry.auth.bytes().filter(|b| !matches!(b, b'\r' | b'\n')).collect();
    let decoded = GO_STD_BASE64
        .decode(cleaned)
        .map_err(|_| invalid("\"auth\" is not valid base64 (expected base64 of USERNAME:PASSWORD)"))?;
    let Some(colon) = decoded.iter().position(|&b| b == b':') else {
        return Ok(Credential::None);
    };
    let (user, pass) = (&decoded[..colon], &decoded[colon + 1..]);
    let start = pass.iter().position(|&b| b != 0).unwrap_or(pass.len());
    let end = pass.iter().rposition(|&b| b != 0).map_or(start, |i| i + 1);
    let text =
        |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| invalid("the decoded \"auth\" value is not valid UTF-8"));
    let (username, password) = (text(user)?, text(&pass[start..end])?);
    Ok(if !entry.identity_token.is_empty() {
        Credential::IdentityToken {
            username,
            token: entry.identity_token.clone(),
        }
    } else if username.is_empty() && password.is_empty() {
        Credential::None
    } else {
        Credential::Basic { username, password }
    })
}

/// The file's bytes, `None` if it does not exist.
fn read_bounded(path: &Path) -> Result<Option<Vec<u8>>, AuthError> {
    match crate::files::read_bounded(path, MAX_AUTH_FILE_SIZE) {
        Ok(Some(Ok(b))) => Ok(Some(b)),
        Ok(Some(Err(limit))) => Err(AuthError::TooLarge {
            path: path.to_owned(),
            limit,
        }),
        Ok(None) => Ok(None),
        Err(source) => Err(AuthError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}
