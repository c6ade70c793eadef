//! The registry flags shared by verify, fetch and sign, and turning them
//! plus the environment into the library's [`NetworkConfig`] (the library
//! never reads the environment).

use std::path::PathBuf;

use anyhow::anyhow;
use clap::{ArgAction, Args};
use reqwest::Url;

use super::Failure;
use imgsig::registry::auth_file::{self, AuthEnv, Credential};
use imgsig::registry::network::{Network, NetworkConfig, NetworkError};
use imgsig::registry::registries_conf::{ConfPaths, RegistriesConf};
use imgsig::registry::Auth;
use imgsig::store::registries_d::{BuiltinDefault, RegistriesD};
use imgsig::Reason;

// Flags for reaching registries and lookasides (verify, fetch and sign). A
// plain comment, not a doc comment: as a doc comment it would become the
// `about` of every deferred subcommand that flattens it.
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
    /// Require HTTPS and verify certificates (--tls-verify=false allows plain HTTP and unverified TLS); overrides registries.conf `insecure` [default: true, or what registries.conf says]
    #[arg(long = "tls-verify", value_name = "BOOL", action = ArgAction::Set, num_args = 0..=1,
          default_missing_value = "true", require_equals = false)]
    pub tls_verify: Option<bool>,
    /// Network timeout in seconds for each request; contacting a registry (with --tls-verify=false: the HTTPS try, then the HTTP one) takes at most this long in all
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
}

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// `--lookaside URL|DIR` as a base URL.
pub fn lookaside_url(s: &str) -> Result<Url, Failure> {
    if s.contains("://") {
        let u =
            Url::parse(s).map_err(|e| Failure::input(Reason::InvalidLookaside, anyhow!("--lookaside {s:?}: {e}")))?;
        if !matches!(u.scheme(), "file" | "http" | "https") {
            return Err(Failure::input(
                Reason::InvalidLookaside,
                anyhow!("--lookaside {s:?}: use file://, http:// or https://"),
            ));
        }
        return Ok(u);
    }
    let abs = std::path::absolute(s)
        .map_err(|e| Failure::input(Reason::InvalidLookaside, anyhow!("--lookaside {s:?}: {e}")))?;
    Url::from_directory_path(&abs)
        .map(|mut u| {
            // No trailing slash: the layout appends "/<repo>".
            let p = u.path().trim_end_matches('/').to_owned();
            u.set_path(&p);
            u
        })
        .map_err(|()| {
            Failure::input(
                Reason::InvalidLookaside,
                anyhow!("--lookaside {s:?}: not a usable directory path"),
            )
        })
}

/// A library network error as a CLI failure: configuration problems are
/// unusable input (2), a server serving other bytes than asked for, or a
/// manifest with a repeated member, is a rejection of the image (1, in
/// `verify`, `fetch` and `sign` alike), anything else is outside (3).
pub fn network_failure(e: NetworkError) -> Failure {
    let code = e.code();
    // The command line's own hint for the code (with flag names) is printed by the
    // failure report; the library's generic one only where there is none.
    let err = match e.hint().filter(|_| super::output::hint_for(code).is_none()) {
        Some(h) => anyhow!("{e}\nhint: {h}"),
        None => anyhow!("{e}"),
    };
    if e.is_configuration() || e.is_not_found() {
        Failure::input(code, err)
    } else if e.rejects_image() {
        Failure::no(code, err)
    } else {
        Failure::outside(code, err)
    }
}

/// Resolve the flags and the environment once per run.
pub fn network(args: &RegistryArgs) -> Result<Network, Failure> {
    let home = env_path("HOME");
    let dir = args
        .registries_d
        .clone()
        .unwrap_or_else(|| RegistriesD::default_dir(home.as_deref()));
    let registries_d = RegistriesD::load_dir(&dir).map_err(|e| {
        Failure::input(
            Reason::InvalidRegistriesD,
            anyhow::Error::new(e).context(format!("registries.d {}", dir.display())),
        )
    })?;
    let conf_paths = ConfPaths::locate(env_path("CONTAINERS_REGISTRIES_CONF").as_deref(), home.as_deref());
    // An unusable registries.conf matters only to runs that reach a registry.
    let registries_conf = RegistriesConf::load(&conf_paths);
    let lookaside = args.lookaside.as_deref().map(lookaside_url).transpose()?;
    let creds = match &args.creds {
        Some(c) => Some(
            match auth_file::parse_creds(c)
                .map_err(|e| Failure::input(Reason::InvalidCreds, anyhow!("--creds: {e}")))?
            {
                Credential::Basic { username, password } => Auth::Basic { username, password },
                _ => Auth::Anonymous,
            },
        ),
        None => None,
    };
    let auth = AuthEnv {
        authfile: args.authfile.clone().or_else(|| env_path("REGISTRY_AUTH_FILE")),
        xdg_runtime_dir: env_path("XDG_RUNTIME_DIR"),
        xdg_config_home: env_path("XDG_CONFIG_HOME"),
        home: home.clone(),
        docker_config: env_path("DOCKER_CONFIG"),
        uid: current_uid(),
    };
    Ok(Network::new(NetworkConfig {
        registries_d,
        registries_conf,
        builtin: BuiltinDefault {
            is_root: current_uid() == 0,
            home: home.clone(),
        },
        lookaside,
        creds,
        auth,
        cert_dir: args.cert_dir.clone(),
        home,
        tls_verify: args.tls_verify,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
    }))
}

/// Print library warnings (certs.d problems, key files without keys), each once per run.
pub fn print_warnings(warnings: &[String]) {
    static SHOWN: std::sync::Mutex<Option<std::collections::HashSet<String>>> = std::sync::Mutex::new(None);
    let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
    let shown = shown.get_or_insert_with(Default::default);
    for w in warnings {
        if shown.insert(w.clone()) {
            eprintln!("imgsig: warning: {}", crate::shown::shown(w));
        }
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
