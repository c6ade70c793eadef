//! `imgsig trust show`: the policy as `podman image trust show` lists it.
//!
//! Same as podman 4.3.1 (`pkg/trust/policy.go: PolicyDescription`): one row
//! per requirement; the `default` list first as transport `all`, name
//! `default`; then transports and their scopes sorted by name (bytewise),
//! `docker` shown as `repository`, the `""` scope with an empty name; types
//! `accept`, `reject`, `signed`, `sigstoreSigned`; ID the user IDs of a
//! `signedBy` requirement's keys, `N/A` for `sigstoreSigned`; columns laid
//! out like Go's tabwriter (minimum width 12, padding 2); `--raw` prints the
//! file; `-n` drops the headings.
//!
//! Different on purpose:
//! - the file must be a valid policy (strict parser); podman shows whatever
//!   Go can decode;
//! - ID: the primary user ID of each certificate, read with sequoia (podman
//!   runs `gpg2 --with-colons` and lists every user ID; with no `gpg2` on
//!   PATH its column is empty). Shown like podman: the address inside `<…>`
//!   when there is one. `--output json` has the whole user IDs and the
//!   fingerprints;
//! - STORE: the lookaside containers/image would read the scope's images
//!   from: the scope, its parent namespaces and `*.domain` wildcards, then
//!   `default-docker`, skipping sections without a `lookaside`/`sigstore`
//!   URL (podman cuts at `/` only, tries no wildcards and stops at the first
//!   section found even without a URL). Shown for the `docker` transport and
//!   the default only: other transports do not read lookasides (podman shows
//!   the registries.d match for any transport's scope);
//! - `--raw` prints the file byte for byte (podman adds a newline).

use std::path::PathBuf;

use anyhow::anyhow;
use sequoia_openpgp::policy::StandardPolicy;
use sequoia_openpgp::Cert;
use serde::Serialize;

use super::super::inputs::load_policy;
use super::super::io::{read_limited, write_stdout};
use super::super::output::{print_json, SCHEMA_VERSION};
use super::super::{Exit, Failure, FileArg, OutputFormat};
use super::{policy_path, ShowArgs, MAX_POLICY_SIZE};
use imgsig::policy::{KeySource, Requirement};
use imgsig::store::registries_d::{Access, RegistriesD};

/// One row: one requirement of one scope.
#[derive(Debug, Serialize)]
struct Entry {
    /// The transport name (`docker`, …), or `all` for the policy's default.
    transport: String,
    /// The scope (`""` for a transport's default), or `default`.
    name: String,
    /// True only for the policy's `default` requirements.
    default: bool,
    /// podman's word: accept, reject, signed, sigstoreSigned, signedBaseLayer.
    #[serde(rename = "type")]
    type_name: &'static str,
    /// `signedIdentity` type of a signedBy requirement.
    signed_identity: Option<&'static str>,
    /// Key files as written in the policy.
    keys: Vec<String>,
    /// Whether the keys are inline (`keyData`).
    key_data: bool,
    /// Primary user ID of each certificate (fingerprint when it has none).
    key_ids: Vec<String>,
    key_fingerprints: Vec<String>,
    /// Key files or data that could not be used.
    key_errors: Vec<String>,
    /// The lookaside URL signatures are read from, if configured.
    store: Option<String>,
}

impl Entry {
    fn new(transport: &str, name: &str, default: bool, req: &Requirement, store: Option<String>) -> Entry {
        let mut e = Entry {
            transport: transport.to_owned(),
            name: name.to_owned(),
            default,
            type_name: match req {
                Requirement::InsecureAcceptAnything => "accept",
                Requirement::Reject => "reject",
                Requirement::SignedBy(_) => "signed",
                Requirement::SigstoreSigned(_) => "sigstoreSigned",
                Requirement::SignedBaseLayer => "signedBaseLayer",
            },
            signed_identity: None,
            keys: Vec::new(),
            key_data: false,
            key_ids: Vec::new(),
            key_fingerprints: Vec::new(),
            key_errors: Vec::new(),
            store,
        };
        if let Requirement::SignedBy(sb) = req {
            e.signed_identity = Some(sb.signed_identity.type_name());
            match &sb.key_source {
                KeySource::Path { written, .. } => e.keys.push(written.clone()),
                KeySource::Paths(ps) => e.keys.extend(ps.iter().map(|(w, _)| w.clone())),
                KeySource::Data => e.key_data = true,
            }
            e.key_ids = sb.keys.keyring.certs().map(user_id).collect();
            e.key_fingerprints = sb.keys.keyring.fingerprints();
            e.key_errors = sb.keys.errors.clone();
        }
        e
    }

    /// The table's cells.
    fn cells(&self) -> [String; 5] {
        let transport = match (self.default, self.transport.as_str()) {
            (false, "docker") => "repository",
            (_, t) => t,
        };
        let id = match self.type_name {
            "sigstoreSigned" => "N/A".to_owned(),
            _ => self.key_ids.iter().map(|u| short_id(u)).collect::<Vec<_>>().join(", "),
        };
        [
            transport.to_owned(),
            self.name.clone(),
            self.type_name.to_owned(),
            id,
            self.store.clone().unwrap_or_default(),
        ]
    }
}

/// The primary user ID (as of now, under sequoia's standard policy; else
/// the first one), or the fingerprint for a certificate without user IDs.
fn user_id(cert: &Cert) -> String {
    let policy = StandardPolicy::new();
    let primary = cert
        .with_policy(&policy, None)
        .ok()
        .and_then(|vc| vc.primary_userid().ok().map(|u| u.userid().value().to_vec()));
    match primary.or_else(|| cert.userids().next().map(|u| u.userid().value().to_vec())) {
        Some(v) => String::from_utf8_lossy(&v).into_owned(),
        None => cert.fingerprint().to_hex(),
    }
}

/// podman's form of a user ID: the address between `<` and `>` if there is one.
fn short_id(uid: &str) -> &str {
    uid.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(uid, |(addr, _)| addr)
}

/// The read lookaside for a docker scope (`""`: only `default-docker`), in
/// containers/image's lookup order (see the module docs).
fn store_for(config: &RegistriesD, scope: &str) -> Option<String> {
    let mut names = Vec::new();
    if !scope.is_empty() {
        let mut name = scope.to_owned();
        // A scope with a tag or digest: try it, then its repository.
        let cut = name.find('@').or_else(|| {
            name.rfind(':')
                .filter(|&i| name[..i].contains('/') && !name[i..].contains('/'))
        });
        if let Some(i) = cut {
            names.push(name.clone());
            name.truncate(i);
        }
        loop {
            names.push(name.clone());
            match name.rfind('/') {
                Some(i) => name.truncate(i),
                None => break,
            }
        }
        let host = name.split(':').next().unwrap_or_default();
        let mut rest = host.strip_prefix("*.").unwrap_or(host);
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            names.push(format!("*.{rest}"));
        }
    }
    names
        .iter()
        .filter_map(|n| config.docker_section(n))
        .chain(config.default_docker())
        .find_map(|s| s.top_level(Access::Read).map(|(_, url)| url.to_owned()))
}

/// Lay out rows like Go's `tabwriter.NewWriter(w, 12, 2, 2, ' ', 0)`
/// (containers/common `report`): every column but the last padded to
/// max(12, widest cell + 2) characters.
fn table(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 2).max(12);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, Serialize)]
struct ShowDoc {
    schema_version: u32,
    command: &'static str,
    policy: String,
    registries_d: String,
    entries: Vec<Entry>,
}

pub(super) fn run(args: ShowArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if args.raw && format == OutputFormat::Json {
        return Err(Failure::input(
            "conflicting-flags",
            anyhow!("--raw prints the policy file itself; it cannot be combined with --output json"),
        ));
    }
    let path = policy_path(args.policy.as_deref());
    if args.raw {
        let bytes = read_limited("policy", &FileArg::Path(path.clone()), MAX_POLICY_SIZE)?;
        let _ = write_stdout(&bytes);
        return Ok(Exit::Ok);
    }
    let policy = load_policy(&path)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = args
        .registries_d
        .clone()
        .unwrap_or_else(|| RegistriesD::default_dir(home.as_deref()));
    let config = RegistriesD::load_dir(&dir).map_err(|e| {
        Failure::input(
            "invalid-registries-d",
            anyhow::Error::new(e).context(format!("registries.d {}", dir.display())),
        )
    })?;

    let mut entries = Vec::new();
    let default_store = store_for(&config, "");
    for req in &policy.default {
        entries.push(Entry::new("all", "default", true, req, default_store.clone()));
    }
    let mut transports: Vec<_> = policy.transports.iter().collect();
    transports.sort_by(|a, b| a.name.cmp(&b.name));
    for t in transports {
        let mut scopes: Vec<_> = t.scopes.iter().collect();
        scopes.sort_by(|a, b| a.scope.cmp(&b.scope));
        for s in scopes {
            let store = if t.name == "docker" {
                store_for(&config, &s.scope)
            } else {
                None
            };
            for req in &s.requirements {
                entries.push(Entry::new(&t.name, &s.scope, false, req, store.clone()));
            }
        }
    }

    for e in &entries {
        for err in &e.key_errors {
            eprintln!("imgsig: warning: {} {:?}: {err}", e.transport, e.name);
        }
    }
    match format {
        OutputFormat::Json => print_json(&ShowDoc {
            schema_version: SCHEMA_VERSION,
            command: "trust show",
            policy: path.display().to_string(),
            registries_d: dir.display().to_string(),
            entries,
        }),
        OutputFormat::Human => {
            let mut rows = Vec::new();
            if !args.noheading {
                rows.push(["TRANSPORT", "NAME", "TYPE", "ID", "STORE"].map(String::from));
            }
            rows.extend(entries.iter().map(Entry::cells));
            let _ = write_stdout(table(&rows).as_bytes());
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn short_ids_like_podman() {
        assert_eq!(short_id("Alice <alice@example.com>"), "alice@example.com");
        assert_eq!(short_id("just a name"), "just a name");
        assert_eq!(short_id("odd <no end"), "odd <no end");
    }

    #[test]
    fn store_lookup_order() {
        let yaml = br#"
default-docker:
  lookaside: https://default
docker:
  reg.example.com:5000:
    lookaside: https://host
  reg.example.com:5000/ns/app:
    use-sigstore-attachments: true
  '*.example.com':
    sigstore: https://wild
  other.io/a:1:
    lookaside: https://tagged
"#;
        let c = RegistriesD::from_yaml(yaml, Path::new("t.yaml")).unwrap();
        assert_eq!(store_for(&c, "").as_deref(), Some("https://default"));
        assert_eq!(
            store_for(&c, "reg.example.com:5000/ns/app").as_deref(),
            Some("https://host")
        );
        assert_eq!(store_for(&c, "reg.example.com:5000").as_deref(), Some("https://host"));
        assert_eq!(store_for(&c, "x.example.com/a").as_deref(), Some("https://wild"));
        assert_eq!(store_for(&c, "*.example.com").as_deref(), Some("https://wild"));
        assert_eq!(store_for(&c, "other.io/a:1").as_deref(), Some("https://tagged"));
        assert_eq!(store_for(&c, "other.io/a").as_deref(), Some("https://default"));
        let digest = format!("other.io/a@sha256:{}", "0".repeat(64));
        assert_eq!(store_for(&c, &digest).as_deref(), Some("https://default"));
        assert_eq!(store_for(&RegistriesD::empty(), "a.io"), None);
    }

    #[test]
    fn table_like_tabwriter() {
        let rows = [
            ["TRANSPORT", "NAME", "TYPE", "ID", "STORE"].map(String::from),
            ["all", "default", "reject", "", ""].map(String::from),
        ];
        assert_eq!(
            table(&rows),
            "TRANSPORT   NAME        TYPE        ID          STORE\nall         default     reject                  \n"
        );
    }
}
