//! `imgsig trust set`: what `podman image trust set` writes, without its
//! hazards.
//!
//! Same as podman 4.3.1 (`pkg/trust/policy.go: AddPolicyEntries`):
//! - `--type accept` writes `insecureAcceptAnything`, `reject` writes
//!   `reject`, `signedBy` writes one `{"type":"signedBy","keyType":"GPGKeys",
//!   "keyPath":FILE}` per `-f` (so every key must have signed: AND);
//! - `default` replaces the `default` list; any other scope replaces the list
//!   of whichever transport already has that scope, else it is added under
//!   `docker`; a scope is refused while the policy has no `default`;
//! - a missing file is created by `set … default` (podman does too) and is
//!   an error for any other scope (`default trust policy must be set`);
//! - the output is Go's `json.MarshalIndent(…, "", "    ")`: 4-space
//!   indentation, Go's string escaping (`<` as `\u003c`), no final newline.
//!
//! Different on purpose:
//! - the file's order and every member are kept: podman re-encodes from Go
//!   maps, so it sorts transports and scopes and silently drops members it
//!   does not know (and a file with duplicate keys loses all but one). Here a
//!   new scope goes at the end of `docker`, a new `docker` at the end of
//!   `transports`; a file with a duplicate key is refused (re-encoding would
//!   drop one of them), and unknown members make the result invalid, so
//!   they are never lost silently;
//! - the result is checked with the strict parser (`policy::parse`), and an
//!   invalid result is never written; podman writes anything;
//! - the file is replaced atomically (temporary file in the same directory,
//!   synced, renamed), keeping its permissions and owner; podman truncates and
//!   rewrites in place. A symbolic link is followed: its target is replaced;
//! - a scope present under several transports: podman picks one at random
//!   (Go map order); imgsig picks `docker`, else the first in file order;
//! - scopes are checked (`docker_scope`) and key files must be readable
//!   OpenPGP keys, written as absolute paths; podman 4.3.1 writes `-f` as
//!   given and checks neither;
//! - `--type sigstoreSigned` is not offered (imgsig does not verify sigstore
//!   signatures).

use std::io;
use std::path::{Path, PathBuf};

use anyhow::anyhow;
use serde::Serialize;

use super::super::io::read_limited;
use super::super::output::{print_json, SCHEMA_VERSION};
use super::super::{Exit, Failure, FileArg, OutputFormat};
use super::edit::{apply, first_duplicate, marshal_indent, member, string, value, EditError, Target};
use super::{policy_path, SetArgs, TrustType, MAX_POLICY_SIZE};
use imgsig::json::{self, Kind, Value};
use imgsig::pgp::KeyMaterial;
use imgsig::policy::{self, ParseOptions};
use imgsig::reference::{is_valid_domain, DockerReference};

/// One requirement to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct NewRequirement {
    #[serde(rename = "type")]
    type_name: &'static str,
    #[serde(rename = "keyType", skip_serializing_if = "Option::is_none")]
    key_type: Option<&'static str>,
    #[serde(rename = "keyPath", skip_serializing_if = "Option::is_none")]
    key_path: Option<String>,
}

impl NewRequirement {
    /// As a JSON object, members in podman's order (type, keyType, keyPath).
    fn to_value(&self) -> Value {
        let mut members = vec![member("type", string(self.type_name))];
        if let Some(t) = self.key_type {
            members.push(member("keyType", string(t)));
        }
        if let Some(p) = &self.key_path {
            members.push(member("keyPath", string(p)));
        }
        value(Kind::Object(members))
    }

    fn describe(&self) -> String {
        match &self.key_path {
            Some(p) => format!("{} {} keyPath {p}", self.type_name, self.key_type.unwrap_or_default()),
            None => self.type_name.to_owned(),
        }
    }
}

/// The checked request: nothing has been read yet.
struct Request {
    target: Target,
    requirements: Vec<NewRequirement>,
    policy: PathBuf,
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::input("usage", anyhow!("{}", msg.into()))
}

/// Check the arguments (no I/O except reading the key files).
fn request(args: SetArgs) -> Result<Request, Failure> {
    let target = if args.scope == "default" {
        Target::Default
    } else {
        docker_scope(&args.scope)
            .map_err(|why| Failure::input("invalid-scope", anyhow!("invalid scope {:?}: {why}", args.scope)))?;
        Target::Scope(args.scope.clone())
    };
    let requirements = match args.trust_type {
        TrustType::Accept | TrustType::Reject if !args.pubkeysfile.is_empty() => {
            return Err(usage(format!(
                "{} public keys unexpectedly provided for trust type {} (--pubkeysfile is only for --type signedBy)",
                args.pubkeysfile.len(),
                args.trust_type.flag_name()
            )))
        }
        TrustType::Accept => vec![plain("insecureAcceptAnything")],
        TrustType::Reject => vec![plain("reject")],
        TrustType::SignedBy if args.pubkeysfile.is_empty() => {
            return Err(usage(
                "at least one public key must be defined for type 'signedBy' (give the key file with -f FILE)",
            ))
        }
        TrustType::SignedBy => {
            let mut reqs = Vec::new();
            for f in &args.pubkeysfile {
                reqs.push(NewRequirement {
                    type_name: "signedBy",
                    key_type: Some("GPGKeys"),
                    key_path: Some(checked_key_file(f)?),
                });
            }
            reqs
        }
    };
    Ok(Request {
        target,
        requirements,
        policy: policy_path(args.policy.as_deref()),
    })
}

fn plain(type_name: &'static str) -> NewRequirement {
    NewRequirement {
        type_name,
        key_type: None,
        key_path: None,
    }
}

/// A key file must hold an OpenPGP certificate; its absolute path (not
/// resolving symbolic links, so `/etc/pki/…` links stay as named) is what
/// the policy records, so it does not depend on the working directory.
fn checked_key_file(f: &Path) -> Result<String, Failure> {
    let bytes = read_limited("public key file", &FileArg::Path(f.to_path_buf()), MAX_POLICY_SIZE)?;
    let material = KeyMaterial::parse(&bytes).map_err(|e| {
        Failure::input(
            "invalid-keyring",
            anyhow!("public key file {} is not an OpenPGP public key: {e}", f.display()),
        )
    })?;
    // podman writes one requirement per file (all must be satisfied), so a
    // file of revocations would be a requirement trusting no key: it would
    // reject every image. A revocation belongs beside the key it revokes.
    if material.only_revocations() {
        return Err(Failure::input(
            "invalid-keyring",
            anyhow!(
                "public key file {} holds no public key, only {} revocation signature(s); each -f file becomes a \
                 requirement of its own, and one without a key rejects every image\n\
                 hint: append the revocation to the key's file (cat key.asc key.rev > key-revoked.asc), or list both in \
                 one requirement's keyPaths",
                f.display(),
                material.revocations.len()
            ),
        ));
    }
    let abs =
        std::path::absolute(f).map_err(|e| Failure::input("unreadable-input", anyhow!("{}: {e}", f.display())))?;
    abs.into_os_string().into_string().map_err(|p| {
        Failure::input(
            "unreadable-input",
            anyhow!("key file path {} is not UTF-8", Path::new(&p).display()),
        )
    })
}

/// A docker scope that can match an image: `HOST[:PORT]`, a repository
/// `HOST[:PORT]/PATH` (optionally `:TAG` or `@DIGEST`) in the normalised form
/// images are looked up with, or `*.DOMAIN`. c/image accepts any string for
/// the docker transport, but a short name or a non-normalised one never
/// matches anything, which `imgsig policy check` also reports.
fn docker_scope(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty; use `default` for the default requirements".to_owned());
    }
    if let Some(domain) = s.strip_prefix("*.") {
        return if is_valid_domain(domain) && !domain.contains(':') {
            Ok(())
        } else {
            Err("a wildcard scope is `*.` followed by a domain without port, e.g. *.example.com".to_owned())
        };
    }
    if !s.contains('/') {
        if !is_valid_domain(s) {
            return Err("expected HOST[:PORT], HOST[:PORT]/REPOSITORY or *.DOMAIN".to_owned());
        }
        if !(s.contains(['.', ':']) || s == "localhost") {
            return Err(format!(
                "a short name matches only a registry host called {s:?}, never docker.io/library/{s}; \
                 write the registry (e.g. registry.example.com) or the full repository (e.g. docker.io/library/{s})"
            ));
        }
        return Ok(());
    }
    let r = DockerReference::parse_normalized(s).map_err(|e| e.to_string())?;
    if r.tag().is_some() && r.digest().is_some() {
        return Err("a scope cannot have both a tag and a digest".to_owned());
    }
    if r.to_string() != s {
        return Err(format!(
            "not in the normalised form images are looked up with, so it would never match; write \"{r}\""
        ));
    }
    Ok(())
}

fn invalid_policy(path: &Path, msg: impl std::fmt::Display) -> Failure {
    Failure::input(
        "invalid-policy",
        anyhow!("{} was left unchanged: {msg}", path.display()),
    )
}

/// The existing file: `None` if it does not exist; its metadata (to keep
/// mode and owner) and bytes.
fn read_existing(path: &Path) -> Result<Option<(std::fs::Metadata, Vec<u8>)>, Failure> {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if path.symlink_metadata().is_ok() {
                return Err(Failure::input(
                    "unwritable-output",
                    anyhow!("{} is a symbolic link to a missing file", path.display()),
                ));
            }
            Ok(None)
        }
        Err(e) => Err(super::super::io::read_failure(
            "policy",
            &FileArg::Path(path.to_path_buf()),
            e,
        )),
        Ok(meta) => {
            let bytes = read_limited("policy", &FileArg::Path(path.to_path_buf()), MAX_POLICY_SIZE)?;
            Ok(Some((meta, bytes)))
        }
    }
}

/// Check the edited document with the strict parser. When it fails and the
/// original file fails too, report the original's problems: their line and
/// column point into the file the user can open.
fn validate(path: &Path, result: &[u8], original: Option<&[u8]>) -> Result<(), Failure> {
    let opts = ParseOptions {
        source: Some(path.to_path_buf()),
    };
    let Err(e) = policy::parse(result, &opts) else {
        return Ok(());
    };
    if let Some(Err(orig)) = original.map(|b| policy::parse(b, &opts)) {
        return Err(invalid_policy(
            path,
            format_args!("it is not a valid policy, and this change does not fix it:\n{orig}"),
        ));
    }
    Err(invalid_policy(
        path,
        format_args!("the policy would not be valid after this change (positions refer to the new text):\n{e}"),
    ))
}

/// Replace `path` with `data` atomically: a temporary file in the same
/// directory with the old file's mode and owner (0644 for a new file),
/// synced, then renamed over it; the directory is synced too.
fn replace_file(path: &Path, data: &[u8], old: Option<&std::fs::Metadata>) -> Result<(), Failure> {
    let fail = |e: io::Error| {
        let e = e.raw_os_error().map(io::Error::from_raw_os_error).unwrap_or(e);
        let err = anyhow!("cannot write {}: {e}", path.display());
        match e.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
                Failure::input("unwritable-output", err)
            }
            _ => Failure::outside("io-error", err),
        }
    };
    crate::files::write_atomic_as(path, data, true, old).map_err(fail)?;
    Ok(())
}

#[derive(Debug, Serialize)]
struct SetDoc {
    schema_version: u32,
    command: &'static str,
    policy: String,
    created: bool,
    scope: Option<String>,
    transport: Option<String>,
    action: &'static str,
    requirements: Vec<NewRequirement>,
}

pub(super) fn run(args: SetArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let req = request(args)?;
    // Edit the file a symbolic link points to, not the link.
    let path = match req.policy.symlink_metadata() {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(&req.policy).unwrap_or(req.policy.clone()),
        _ => req.policy.clone(),
    };
    let existing = read_existing(&path)?;
    let doc = match &existing {
        None => None,
        Some((_, bytes)) => {
            let doc = json::parse(bytes).map_err(|e| {
                invalid_policy(
                    &path,
                    format_args!("{} (line {}, column {})", e.message(), e.line, e.column),
                )
            })?;
            if let Some((at, pos)) = first_duplicate(&doc, "") {
                return Err(invalid_policy(
                    &path,
                    format_args!(
                        "duplicate key at {at} (line {}, column {}); rewriting the file would keep only one, \
                         so remove the other first",
                        pos.line, pos.column
                    ),
                ));
            }
            Some(doc)
        }
    };
    let reqs = value(Kind::Array(
        req.requirements.iter().map(NewRequirement::to_value).collect(),
    ));
    let (doc, placed) = apply(doc, &req.target, reqs).map_err(|e| match e {
        EditError::NoDefault => Failure::input(
            "no-default-policy",
            anyhow!(
                "default trust policy must be set: {} {}\nhint: first run `imgsig trust set --policy {} --type reject default` \
                 (or --type accept)",
                path.display(),
                if existing.is_some() { "has no \"default\" requirements" } else { "does not exist" },
                path.display()
            ),
        ),
        EditError::Shape(why) => invalid_policy(&path, format_args!("cannot edit it: {why}")),
    })?;
    let text = marshal_indent(&doc);
    validate(&path, text.as_bytes(), existing.as_ref().map(|(_, b)| b.as_slice()))?;
    replace_file(&path, text.as_bytes(), existing.as_ref().map(|(m, _)| m))?;

    let at = placed.path(&req.target);
    let verb = if placed.replaced { "replaced" } else { "added" };
    if existing.is_none() {
        eprintln!("imgsig: created {}", path.display());
    }
    let described: Vec<String> = req.requirements.iter().map(NewRequirement::describe).collect();
    eprintln!("imgsig: {}: {verb} {at}: {}", path.display(), described.join("; "));
    if req.requirements.len() > 1 {
        eprintln!(
            "imgsig: all {} requirements must hold: an image needs a valid signature by each of the keys",
            req.requirements.len()
        );
    }
    if format == OutputFormat::Json {
        print_json(&SetDoc {
            schema_version: SCHEMA_VERSION,
            command: "trust set",
            policy: path.display().to_string(),
            created: existing.is_none(),
            scope: match &req.target {
                Target::Default => None,
                Target::Scope(s) => Some(s.clone()),
            },
            transport: placed.transport.clone(),
            action: verb,
            requirements: req.requirements,
        });
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        for ok in [
            "example.com",
            "example.com:5000",
            "localhost",
            "127.0.0.1:5000/ns/app",
            "docker.io/library/busybox",
            "docker.io/library/busybox:1.36",
            "*.example.com",
            "quay.io/ns/app@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert_eq!(docker_scope(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "busybox",
            "library/busybox",
            "docker.io/busybox",
            "Example.com/App",
            "*.example.com:5000",
            "*.",
            "/abs/path",
            "example.com/app:1@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ] {
            assert!(docker_scope(bad).is_err(), "{bad}");
        }
    }
}
