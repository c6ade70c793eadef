//! Editing containers-policy.json the way `podman image trust set` does,
//! and reading it as `podman image trust show` lists it (podman 4.3.1 is
//! the reference; `tests/trust.rs` compares the two byte for byte).
//!
//! - [`PolicyFile`]: open the file (or none yet), [`PolicyFile::set`] the
//!   requirements of one [`Target`], [`PolicyFile::write`] it back; or all
//!   three in one [`set_requirements`] call. The rest of the file is kept as
//!   it was, in its order; the result must pass the strict policy parser
//!   ([`crate::policy::parse`]) before it is written, and it replaces the
//!   file atomically.
//! - [`entries`]: one [`Entry`] per requirement, as podman lists them.
//!
//! ```
//! use imgsig::policy::edit::{self, NewRequirement, Target};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! let file = dir.path().join("policy.json");
//! let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cmd/fixtures/public-key.gpg");
//! // Reject everything not named below (this creates the file)…
//! edit::set_requirements(&file, &Target::DEFAULT, &[NewRequirement::reject()])?;
//! // …and require a signature by this key for one registry.
//! let done = edit::set_requirements(
//!     &file,
//!     &Target::parse("registry.example.com")?,
//!     &[NewRequirement::signed_by_key_file(key.as_ref())?],
//! )?;
//! assert_eq!(done.placement.path, r#"transports.docker["registry.example.com"]"#);
//! // The result is a valid policy, ready for `imgsig::verify`.
//! let policy = imgsig::policy::parse(&std::fs::read(&file)?, &Default::default())?;
//! assert_eq!(policy.transports[0].scopes[0].scope, "registry.example.com");
//! # Ok(())
//! # }
//! ```
//!
//! Same as podman 4.3.1 (`pkg/trust/policy.go: AddPolicyEntries`):
//! - accept writes `insecureAcceptAnything`, reject writes `reject`, a key
//!   file writes `{"type":"signedBy","keyType":"GPGKeys","keyPath":FILE}`
//!   (one requirement per key, so every key must have signed: AND);
//! - `default` replaces the `default` list; any other scope replaces the list
//!   of whichever transport already has that scope, else it is added under
//!   `docker`; a scope is refused while the policy has no `default`;
//! - a missing file is created by setting `default` (podman does too) and is
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
//! - the result is checked with the strict parser, and an invalid result is
//!   never written; podman writes anything;
//! - the file is replaced atomically (temporary file in the same directory,
//!   synced, renamed), keeping its permissions and owner; podman truncates and
//!   rewrites in place. A symbolic link is followed: its target is replaced;
//! - a scope present under several transports: podman picks one at random
//!   (Go map order); imgsig picks `docker`, else the first in file order;
//! - scopes are checked ([`Target::parse`]) and key files must be readable
//!   OpenPGP keys, written as absolute paths; podman 4.3.1 writes `-f` as
//!   given and checks neither;
//! - `sigstoreSigned` is not offered.

use std::path::Path;

use serde::Serialize;

use crate::json::{Kind, Value};
use crate::pgp::KeyMaterial;
use crate::reason::ErrorClass;
use crate::reference::{is_valid_domain, DockerReference};
use crate::Reason;

mod document;
mod entries;
mod file;

pub use entries::{entries, Entry};
pub use file::PolicyFile;

use document::{member, string, value};

/// A policy edit that could not be made; the file is left unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct EditError {
    /// Who has to act: the request ([`ErrorClass::Input`]) or nobody it
    /// names (an I/O failure, [`ErrorClass::Outside`]).
    pub class: ErrorClass,
    /// Why, as a stable code (docs/json-output.md).
    pub code: Reason,
    /// What went wrong, naming the file or value (with a `hint:` line where
    /// the user can act).
    pub message: String,
}

impl EditError {
    fn input(code: Reason, message: impl Into<String>) -> EditError {
        EditError {
            class: ErrorClass::Input,
            code,
            message: message.into(),
        }
    }

    fn outside(code: Reason, message: impl Into<String>) -> EditError {
        EditError {
            class: ErrorClass::Outside,
            code,
            message: message.into(),
        }
    }
}

/// What to change: the `default` list, or one docker scope, checked
/// ([`Target::parse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `None` for the default.
    scope: Option<String>,
}

impl Target {
    /// The policy's `default` requirements.
    pub const DEFAULT: Target = Target { scope: None };

    /// `default`, or a docker scope that can match an image:
    /// `HOST[:PORT]`, a repository `HOST[:PORT]/PATH` (optionally `:TAG` or
    /// `@DIGEST`) in the normalised form images are looked up with, or
    /// `*.DOMAIN`. containers/image accepts any string for the docker
    /// transport, but a short name or a non-normalised one never matches
    /// anything, which `imgsig policy check` also reports.
    pub fn parse(s: &str) -> Result<Target, EditError> {
        if s == "default" {
            return Ok(Target::DEFAULT);
        }
        docker_scope(s).map_err(|why| EditError::input(Reason::InvalidScope, format!("invalid scope {s:?}: {why}")))?;
        Ok(Target {
            scope: Some(s.to_owned()),
        })
    }

    /// The scope, `None` for the default.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }
}

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

/// One requirement to write; serialises as the policy member it becomes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NewRequirement {
    /// `insecureAcceptAnything`, `reject` or `signedBy`.
    #[serde(rename = "type")]
    pub type_name: &'static str,
    /// `GPGKeys` for `signedBy`.
    #[serde(rename = "keyType", skip_serializing_if = "Option::is_none")]
    pub key_type: Option<&'static str>,
    /// The key file's absolute path, for `signedBy`.
    #[serde(rename = "keyPath", skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
}

impl NewRequirement {
    /// Any image, signed or not (`insecureAcceptAnything`).
    pub fn accept() -> NewRequirement {
        NewRequirement::plain("insecureAcceptAnything")
    }

    /// No image (`reject`).
    pub fn reject() -> NewRequirement {
        NewRequirement::plain("reject")
    }

    fn plain(type_name: &'static str) -> NewRequirement {
        NewRequirement {
            type_name,
            key_type: None,
            key_path: None,
        }
    }

    /// A signature by a key of this file (`signedBy`, `GPGKeys`). The file
    /// must hold an OpenPGP certificate; its absolute path (not resolving
    /// symbolic links, so `/etc/pki/…` links stay as named) is what the
    /// policy records, so it does not depend on the working directory.
    pub fn signed_by_key_file(f: &Path) -> Result<NewRequirement, EditError> {
        let bytes = file::read_limited("public key file", f, crate::limits::MAX_POLICY_SIZE)?;
        let material = KeyMaterial::parse(&bytes).map_err(|e| {
            EditError::input(
                Reason::InvalidKeyring,
                format!("public key file {} is not an OpenPGP public key: {e}", f.display()),
            )
        })?;
        // One requirement per file (all must be satisfied), so a file of
        // revocations would be a requirement trusting no key: it would
        // reject every image. A revocation belongs beside the key it revokes.
        if material.only_revocations() {
            return Err(EditError::input(
                Reason::InvalidKeyring,
                format!(
                    "public key file {} holds no public key, only {} revocation signature(s); each -f file becomes a \
                     requirement of its own, and one without a key rejects every image\n\
                     hint: append the revocation to the key's file (cat key.asc key.rev > key-revoked.asc), or list both in \
                     one requirement's keyPaths",
                    f.display(),
                    material.revocations.len()
                ),
            ));
        }
        let abs = std::path::absolute(f)
            .map_err(|e| EditError::input(Reason::UnreadableInput, format!("{}: {e}", f.display())))?;
        let key_path = abs.into_os_string().into_string().map_err(|p| {
            EditError::input(
                Reason::UnreadableInput,
                format!("key file path {} is not UTF-8", Path::new(&p).display()),
            )
        })?;
        Ok(NewRequirement {
            type_name: "signedBy",
            key_type: Some("GPGKeys"),
            key_path: Some(key_path),
        })
    }

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

    /// `signedBy GPGKeys keyPath FILE`, or the type.
    pub fn describe(&self) -> String {
        match &self.key_path {
            Some(p) => format!("{} {} keyPath {p}", self.type_name, self.key_type.unwrap_or_default()),
            None => self.type_name.to_owned(),
        }
    }
}

/// Where [`PolicyFile::set`] put the requirements.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Placement {
    /// The transport whose scope was set; `None` for the default.
    pub transport: Option<String>,
    /// Whether an existing list was replaced (else added).
    pub replaced: bool,
    /// The member's path: `default`, or `transports.TRANSPORT.SCOPE` (quoted
    /// where a key is not a plain name).
    pub path: String,
}

/// What [`set_requirements`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Edited {
    /// The file written (the target of a symbolic link that was named).
    pub path: std::path::PathBuf,
    /// Whether the file did not exist before.
    pub created: bool,
    /// Where the requirements went.
    pub placement: Placement,
}

/// Set the requirements of `target` in the policy file `policy` (created
/// when it does not exist and the target is the default): open, set and
/// write in one call.
pub fn set_requirements(policy: &Path, target: &Target, requirements: &[NewRequirement]) -> Result<Edited, EditError> {
    let mut file = PolicyFile::open(policy)?;
    let placement = file.set(target, requirements)?;
    let created = !file.exists();
    let path = file.path().to_path_buf();
    file.write()?;
    Ok(Edited {
        path,
        created,
        placement,
    })
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
        assert_eq!(Target::parse("default"), Ok(Target::DEFAULT));
        assert_eq!(Target::parse("busybox").unwrap_err().code, Reason::InvalidScope);
    }
}
