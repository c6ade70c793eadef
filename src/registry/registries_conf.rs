//! containers-registries.conf(5): per-registry `insecure`, `blocked`, and where a manifest is
//! read from (`location`, mirrors), as containers/image `pkg/sysregistriesv2` reads them.
//!
//! - Files ([`ConfPaths::locate`]): an explicit file (`CONTAINERS_REGISTRIES_CONF`, gathered by
//!   the caller) must exist; otherwise `$HOME/.config/containers/registries.conf` if it exists
//!   (then only the per-user drop-in directory is read), else `/etc/containers/registries.conf`
//!   (missing = empty). Drop-ins: every `*.conf` directly in `/etc/containers/registries.conf.d`
//!   then in `$HOME/.config/containers/registries.conf.d`, in name order; a drop-in's
//!   `[[registry]]` replaces the entry with the same prefix. Drop-ins must be in the v2 format.
//! - `[[registry]]`: `prefix` (default: `location`; `*.example.com` matches sub-domains),
//!   `location` (no `http[s]://`; a trailing `/` is dropped), `insecure` (HTTP allowed, TLS not
//!   verified), `blocked`, `mirror-by-digest-only`, and `[[registry.mirror]]` with `location`,
//!   `insecure` and `pull-from-mirror` (`all`, `digest-only`, `tag-only`). The entry with the
//!   longest prefix matching at a `/`, `:` or `@` boundary applies. Two entries for one location
//!   with different `insecure` or `blocked` are an error; of two with the same prefix the first
//!   is kept.
//! - The v1 format (`[registries.insecure] registries = [...]`, `[registries.block]`) is
//!   converted; mixing v1 and v2 in one file is an error.
//! - Unknown keys are ignored (other tools' settings: `unqualified-search-registries`,
//!   `aliases`, …); a known key of the wrong type is an error naming the file.

use std::path::{Path, PathBuf};

use toml_edit::{Item, TableLike, Value};

use crate::reference::DockerReference;

/// Largest registries.conf file read.
pub const MAX_CONF_SIZE: u64 = 1 << 20;
const SYSTEM_FILE: &str = "/etc/containers/registries.conf";
const SYSTEM_DIR: &str = "/etc/containers/registries.conf.d";
const USER_FILE: &str = ".config/containers/registries.conf";
const USER_DIR: &str = ".config/containers/registries.conf.d";

/// Why registries.conf could not be read or used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum ConfError {
    /// A configuration file could not be read or is invalid.
    #[error("registries configuration {}: {message}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The image's registry entry has `blocked = true`.
    #[error("registry {prefix} is blocked in registries.conf ({sources})")]
    Blocked {
        /// The entry's `prefix`.
        prefix: String,
        /// The files the configuration was read from, comma-separated (`no file` if none).
        sources: String,
    },
    /// Rewriting the reference for an endpoint gave an invalid reference.
    #[error("registries.conf entry {prefix:?}: {reference:?} rewritten to {rewritten:?} is not a valid reference: {message}")]
    Rewrite {
        /// The entry's `prefix`.
        prefix: String,
        /// The image reference, fully expanded.
        reference: String,
        /// The reference with the prefix replaced by the endpoint's location.
        rewritten: String,
        /// Why that is not a valid reference.
        message: String,
    },
}

/// The files to read, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfPaths {
    /// The main registries.conf file.
    pub file: PathBuf,
    /// The file was named explicitly: it must exist.
    pub explicit: bool,
    /// Drop-in directories, in order (missing ones are skipped).
    pub dirs: Vec<PathBuf>,
}

impl ConfPaths {
    /// c/image `newConfigWrapperWithHomeDir`: `explicit` is `CONTAINERS_REGISTRIES_CONF`.
    pub fn locate(explicit: Option<&Path>, home: Option<&Path>) -> ConfPaths {
        let user_dir = home.map(|h| h.join(USER_DIR));
        if let Some(file) = explicit.filter(|p| !p.as_os_str().is_empty()) {
            return ConfPaths {
                file: file.to_owned(),
                explicit: true,
                dirs: std::iter::once(PathBuf::from(SYSTEM_DIR)).chain(user_dir).collect(),
            };
        }
        if let Some(user_file) = home.map(|h| h.join(USER_FILE)).filter(|f| f.exists()) {
            return ConfPaths {
                file: user_file,
                explicit: false,
                dirs: user_dir.into_iter().collect(),
            };
        }
        ConfPaths {
            file: PathBuf::from(SYSTEM_FILE),
            explicit: false,
            dirs: std::iter::once(PathBuf::from(SYSTEM_DIR)).chain(user_dir).collect(),
        }
    }
}

/// How a mirror may be used (`pull-from-mirror`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PullFromMirror {
    /// `all` (the default): for references by tag and by digest.
    #[default]
    All,
    /// `digest-only`: only for references by digest.
    DigestOnly,
    /// `tag-only`: only for references by tag.
    TagOnly,
}

/// A place a registry's images can be read from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Endpoint {
    /// `host[:port][/namespace]`; empty only for a `*.example.com` prefix (the image's own place).
    pub location: String,
    /// `insecure`: plain HTTP and unverified TLS are allowed.
    pub insecure: bool,
    /// When a mirror is used (always [`PullFromMirror::All`] for the registry itself).
    pub pull_from_mirror: PullFromMirror,
}

/// One `[[registry]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Registry {
    /// The references it applies to: `host[:port][/namespace]` or `*.domain`.
    pub prefix: String,
    /// The registry's own place (`location`, `insecure`).
    pub endpoint: Endpoint,
    /// `[[registry.mirror]]` entries, in order.
    pub mirrors: Vec<Endpoint>,
    /// `blocked`: pulling from it is refused.
    pub blocked: bool,
    /// `mirror-by-digest-only`: mirrors are used only for references by digest.
    pub mirror_by_digest_only: bool,
}

/// Where to read an image from: a rewritten reference and whether that endpoint is insecure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullSource {
    /// The image's reference rewritten for this endpoint.
    pub reference: DockerReference,
    /// The endpoint is `insecure`.
    pub insecure: bool,
    /// A mirror (not the registry's own location).
    pub mirror: bool,
}

/// The merged configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    /// Sorted by prefix, one entry per prefix.
    pub registries: Vec<Registry>,
    /// The files read, for messages.
    pub sources: Vec<PathBuf>,
}

impl RegistriesConf {
    /// Read the main file and the drop-ins (c/image `tryUpdatingCache`).
    pub fn load(paths: &ConfPaths) -> Result<RegistriesConf, ConfError> {
        let mut conf = match read(&paths.file)? {
            Some(text) => parse_file(&paths.file, &text, false)?,
            None if paths.explicit => {
                return Err(file_err(
                    &paths.file,
                    "no such file (named by CONTAINERS_REGISTRIES_CONF)",
                ))
            }
            None => RegistriesConf::default(),
        };
        for dir in &paths.dirs {
            let entries = match std::fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(file_err(dir, &format!("cannot read the drop-in directory: {e}"))),
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().map(|t| !t.is_dir()).unwrap_or(false))
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".conf"))
                .collect();
            files.sort();
            for f in files {
                let Some(text) = read(&f)? else { continue };
                let drop_in = parse_file(&f, &text, true)?;
                conf.update_from(drop_in);
            }
        }
        Ok(conf)
    }

    /// Parse one file; `drop_in` files must be in the v2 format.
    pub fn parse(path: &Path, text: &str, drop_in: bool) -> Result<RegistriesConf, ConfError> {
        parse_file(path, text, drop_in)
    }

    fn update_from(&mut self, other: RegistriesConf) {
        for reg in other.registries {
            match self.registries.iter_mut().find(|r| r.prefix == reg.prefix) {
                Some(r) => *r = reg,
                None => self.registries.push(reg),
            }
        }
        self.registries.sort_by(|a, b| a.prefix.cmp(&b.prefix));
        self.sources.extend(other.sources);
    }

    /// The entry with the longest prefix matching `reference` (c/image `FindRegistry`).
    pub fn find(&self, reference: &str) -> Option<&Registry> {
        self.registries
            .iter()
            .filter(|r| matching_prefix_len(reference, &r.prefix).is_some())
            .max_by_key(|r| r.prefix.len())
    }

    fn sources_text(&self) -> String {
        if self.sources.is_empty() {
            "no file".into()
        } else {
            self.sources
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }

    /// The error for a blocked entry matching `reference`, if any.
    pub fn check_blocked(&self, reference: &str) -> Result<Option<&Registry>, ConfError> {
        match self.find(reference) {
            Some(reg) if reg.blocked => Err(ConfError::Blocked {
                prefix: reg.prefix.clone(),
                sources: self.sources_text(),
            }),
            found => Ok(found),
        }
    }

    /// Where to read `r` from, mirrors first and the registry's own location last
    /// (c/image `PullSourcesFromReference`, as `newImageSource` uses it).
    pub fn pull_sources(&self, r: &DockerReference) -> Result<Vec<PullSource>, ConfError> {
        let Some(reg) = self.check_blocked(&r.name())? else {
            return Ok(vec![PullSource {
                reference: r.clone(),
                insecure: false,
                mirror: false,
            }]);
        };
        let digested = r.digest().is_some();
        let mirrors = reg.mirrors.iter().filter(|m| {
            if reg.mirror_by_digest_only {
                return digested;
            }
            match m.pull_from_mirror {
                PullFromMirror::All => true,
                PullFromMirror::DigestOnly => digested,
                PullFromMirror::TagOnly => !digested,
            }
        });
        let full = r.to_string();
        let mut out = Vec::new();
        for (ep, mirror) in mirrors.map(|m| (m, true)).chain([(&reg.endpoint, false)]) {
            let reference = if ep.location.is_empty() {
                r.clone()
            } else {
                let len = matching_prefix_len(&full, &reg.prefix).unwrap_or(0);
                let rewritten = format!("{}{}", ep.location, &full[len..]);
                DockerReference::parse_canonical(&rewritten).map_err(|e| ConfError::Rewrite {
                    prefix: reg.prefix.clone(),
                    reference: full.clone(),
                    rewritten: rewritten.clone(),
                    message: e.to_string(),
                })?
            };
            // A mirror's own blocked entry blocks it too (c/image `newDockerClient`).
            self.check_blocked(&reference.to_string())?;
            out.push(PullSource {
                reference,
                insecure: ep.insecure,
                mirror,
            });
        }
        Ok(out)
    }

    /// Whether pushing to `r` (signatures through the registry API) may use plain HTTP and
    /// unverified TLS; an error if its registry is blocked.
    pub fn push_insecure(&self, r: &DockerReference) -> Result<bool, ConfError> {
        Ok(self
            .check_blocked(&r.to_string())?
            .is_some_and(|reg| reg.endpoint.insecure))
    }
}

/// c/image `refMatchingPrefix`: the length of `reference` matched by `prefix`.
fn matching_prefix_len(reference: &str, prefix: &str) -> Option<usize> {
    let boundary = |rest: &str| rest.is_empty() || rest.starts_with([':', '/', '@']);
    if let Some(suffix) = prefix.strip_prefix('*') {
        // "*.example.com": within the host part only.
        let i = reference.find(suffix)?;
        if reference[..i].contains('/') {
            return None;
        }
        let end = i + suffix.len();
        return boundary(&reference[end..]).then_some(end);
    }
    let rest = reference.strip_prefix(prefix)?;
    boundary(rest).then_some(prefix.len())
}

fn file_err(path: &Path, message: &str) -> ConfError {
    ConfError::File {
        path: path.to_owned(),
        message: message.to_owned(),
    }
}

fn read(path: &Path) -> Result<Option<String>, ConfError> {
    match crate::files::read_bounded(path, MAX_CONF_SIZE) {
        Ok(None) => Ok(None),
        Ok(Some(Err(limit))) => Err(file_err(path, &format!("larger than {limit} bytes"))),
        Ok(Some(Ok(bytes))) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| file_err(path, "not valid UTF-8")),
        Err(e) => Err(file_err(path, &format!("cannot read: {e}"))),
    }
}

/// c/image `parseLocation`.
fn location(path: &Path, key: &str, s: &str) -> Result<String, ConfError> {
    let trimmed = s.trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err(file_err(
            path,
            &format!("{key} {s:?}: URI schemes are not supported (write host[:port][/namespace])"),
        ));
    }
    Ok(trimmed.to_owned())
}

struct Fields<'a> {
    path: &'a Path,
    what: String,
    table: &'a dyn TableLike,
}

impl Fields<'_> {
    fn err(&self, key: &str, expected: &str) -> ConfError {
        file_err(self.path, &format!("{}: {key:?} must be {expected}", self.what))
    }
    fn string(&self, key: &str) -> Result<String, ConfError> {
        match self.table.get(key) {
            None => Ok(String::new()),
            Some(item) => item
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| self.err(key, "a string")),
        }
    }
    fn bool(&self, key: &str) -> Result<bool, ConfError> {
        match self.table.get(key) {
            None => Ok(false),
            Some(item) => item.as_bool().ok_or_else(|| self.err(key, "true or false")),
        }
    }
    /// An array of tables (`[[key]]` or `key = [{…}]`).
    fn tables(&self, key: &str) -> Result<Vec<&dyn TableLike>, ConfError> {
        match self.table.get(key) {
            None => Ok(Vec::new()),
            Some(Item::ArrayOfTables(a)) => Ok(a.iter().map(|t| t as &dyn TableLike).collect()),
            Some(Item::Value(Value::Array(a))) => a
                .iter()
                .map(|v| {
                    v.as_inline_table()
                        .map(|t| t as &dyn TableLike)
                        .ok_or_else(|| self.err(key, "an array of tables"))
                })
                .collect(),
            Some(_) => Err(self.err(key, "an array of tables")),
        }
    }
}

fn parse_file(path: &Path, text: &str, drop_in: bool) -> Result<RegistriesConf, ConfError> {
    let doc = toml_edit::Document::parse(text).map_err(|e| file_err(path, &format!("not valid TOML: {e}")))?;
    let top = Fields {
        path,
        what: "the top level".into(),
        table: doc.as_table(),
    };
    let v1 = parse_v1(path, doc.as_table())?;
    const V2_KEYS: &[&str] = &[
        "registry",
        "unqualified-search-registries",
        "credential-helpers",
        "short-name-mode",
        "additional-layer-store-auth-helper",
        "aliases",
    ];
    let has_v2 = V2_KEYS.iter().any(|k| doc.as_table().contains_key(k));
    let mut registries = match v1 {
        Some(_) if drop_in => return Err(file_err(path, "a drop-in must be in the v2 format but this is in v1")),
        Some(_) if has_v2 => return Err(file_err(path, "mixing the v1 and v2 formats is not supported")),
        Some(v1) => v1,
        None => {
            let mut out = Vec::new();
            for (i, t) in top.tables("registry")?.into_iter().enumerate() {
                out.push(parse_registry(path, i, t)?);
            }
            out
        }
    };
    check_conflicts(path, &registries)?;
    // One entry per prefix (the first), sorted by prefix.
    let mut seen = std::collections::HashSet::new();
    registries.retain(|r| seen.insert(r.prefix.clone()));
    registries.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    Ok(RegistriesConf {
        registries,
        sources: vec![path.to_owned()],
    })
}

fn parse_registry(path: &Path, i: usize, t: &dyn TableLike) -> Result<Registry, ConfError> {
    let f = Fields {
        path,
        what: format!("[[registry]] #{}", i + 1),
        table: t,
    };
    let loc = location(path, "location", &f.string("location")?)?;
    let mut prefix = f.string("prefix")?;
    if prefix.is_empty() {
        if loc.is_empty() {
            return Err(file_err(
                path,
                &format!("{}: both location and prefix are unset", f.what),
            ));
        }
        prefix = loc.clone();
    } else {
        prefix = location(path, "prefix", &prefix)?;
        if !prefix.starts_with("*.") && loc.is_empty() {
            return Err(file_err(
                path,
                &format!(
                    "{}: location is unset and prefix {prefix:?} is not of the form *.example.com",
                    f.what
                ),
            ));
        }
    }
    if prefix.starts_with("*.") && prefix.contains(['/', '@', ':']) {
        return Err(file_err(
            path,
            &format!(
                "{}: a wildcard prefix must be of the form *.example.com, not {prefix:?}",
                f.what
            ),
        ));
    }
    if t.contains_key("pull-from-mirror") {
        return Err(file_err(
            path,
            &format!(
                "{}: pull-from-mirror must not be set for a non-mirror registry {prefix:?}",
                f.what
            ),
        ));
    }
    let mirror_by_digest_only = f.bool("mirror-by-digest-only")?;
    let mut mirrors = Vec::new();
    for (j, m) in f.tables("mirror")?.into_iter().enumerate() {
        let mf = Fields {
            path,
            what: format!("{} mirror #{}", f.what, j + 1),
            table: m,
        };
        let mloc = location(path, "location", &mf.string("location")?)?;
        if mloc.is_empty() {
            return Err(file_err(path, &format!("{}: the mirror location is unset", mf.what)));
        }
        let pull = match mf.string("pull-from-mirror")?.as_str() {
            "" | "all" => PullFromMirror::All,
            "digest-only" => PullFromMirror::DigestOnly,
            "tag-only" => PullFromMirror::TagOnly,
            other => {
                return Err(file_err(
                    path,
                    &format!(
                        "{}: unsupported pull-from-mirror value {other:?} (all, digest-only or tag-only)",
                        mf.what
                    ),
                ))
            }
        };
        if mirror_by_digest_only && m.contains_key("pull-from-mirror") {
            return Err(file_err(
                path,
                &format!(
                    "{}: mirror-by-digest-only and a mirror's pull-from-mirror cannot both be set",
                    f.what
                ),
            ));
        }
        mirrors.push(Endpoint {
            location: mloc,
            insecure: mf.bool("insecure")?,
            pull_from_mirror: pull,
        });
    }
    Ok(Registry {
        prefix,
        endpoint: Endpoint {
            location: loc,
            insecure: f.bool("insecure")?,
            pull_from_mirror: PullFromMirror::All,
        },
        mirrors,
        blocked: f.bool("blocked")?,
        mirror_by_digest_only,
    })
}

/// The v1 `[registries.insecure]` / `[registries.block]` lists as v2 entries (c/image
/// `ConvertToV2`), or `None` if the file has none of the v1 lists.
fn parse_v1(path: &Path, top: &toml_edit::Table) -> Result<Option<Vec<Registry>>, ConfError> {
    let Some(section) = top.get("registries") else {
        return Ok(None);
    };
    let section = section
        .as_table_like()
        .ok_or_else(|| file_err(path, "\"registries\" must be a table (the v1 format)"))?;
    let mut any = false;
    let mut out: Vec<Registry> = Vec::new();
    for (list, insecure) in [("block", false), ("insecure", true), ("search", false)] {
        let Some(t) = section.get(list) else { continue };
        let t = t
            .as_table_like()
            .ok_or_else(|| file_err(path, &format!("registries.{list} must be a table")))?;
        let Some(regs) = t.get("registries") else { continue };
        any = true;
        let arr = regs.as_array().ok_or_else(|| {
            file_err(
                path,
                &format!("registries.{list}.registries must be an array of strings"),
            )
        })?;
        if list == "search" {
            continue;
        }
        for v in arr {
            let s = v.as_str().ok_or_else(|| {
                file_err(
                    path,
                    &format!("registries.{list}.registries must be an array of strings"),
                )
            })?;
            let loc = location(path, &format!("registries.{list}"), s)?;
            let i = match out.iter().position(|r| r.prefix == loc) {
                Some(i) => i,
                None => {
                    out.push(Registry {
                        prefix: loc.clone(),
                        endpoint: Endpoint {
                            location: loc,
                            ..Endpoint::default()
                        },
                        ..Registry::default()
                    });
                    out.len() - 1
                }
            };
            if insecure {
                out[i].endpoint.insecure = true;
            } else {
                out[i].blocked = true;
            }
        }
    }
    Ok(any.then_some(out))
}

/// c/image `postProcessRegistries`: one location, one `insecure` and `blocked` setting.
fn check_conflicts(path: &Path, registries: &[Registry]) -> Result<(), ConfError> {
    for (i, a) in registries.iter().enumerate() {
        let key = |r: &Registry| {
            if r.endpoint.location.is_empty() {
                r.prefix.clone()
            } else {
                r.endpoint.location.clone()
            }
        };
        for b in &registries[i + 1..] {
            if key(a) != key(b) {
                continue;
            }
            for (what, differ) in [
                ("insecure", a.endpoint.insecure != b.endpoint.insecure),
                ("blocked", a.blocked != b.blocked),
            ] {
                if differ {
                    return Err(file_err(
                        path,
                        &format!(
                            "registry {:?} is defined more than once with conflicting {what:?} settings",
                            key(a)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_at_boundaries() {
        assert_eq!(matching_prefix_len("example.com/foo:1", "example.com/foo"), Some(15));
        assert_eq!(matching_prefix_len("example.com/foobar", "example.com/foo"), None);
        assert_eq!(matching_prefix_len("example.com", "example.com"), Some(11));
        assert_eq!(matching_prefix_len("a.example.com/x", "*.example.com"), Some(13));
        assert_eq!(matching_prefix_len("example.com/x", "*.example.com"), None);
        assert_eq!(matching_prefix_len("h/a.example.com/x", "*.example.com"), None);
        assert_eq!(matching_prefix_len("a.example.company/x", "*.example.com"), None);
    }
}
