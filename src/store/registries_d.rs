//! containers-registries.d(5): which lookaside (signature storage) to use for which image,
//! following containers/image `docker/registries_d.go` (simple-signing.md §6).
//!
//! - Every file of the directory whose name ends in `.yaml` is read and the files are merged.
//!   c/image reads them in directory-listing order; we sort the names (bytewise) so that
//!   error messages are deterministic. Order cannot change the result: a `default-docker`
//!   section in two files, or the same `docker:` scope in two files, is an error.
//! - A missing directory is an empty configuration; any other I/O error is fatal.
//! - YAML is decoded like yaml.v3's non-strict `Unmarshal` into c/image's structs: unknown
//!   keys are ignored, duplicate keys within one mapping and type mismatches are errors naming
//!   the file, only the first document of a file is used, a null value means "not set".
//!   Hostile-input bounds that c/image does not have: files over 1 MiB and nesting deeper than
//!   64 levels are refused, as are aliases, merge keys (`<<`) and unusual tags on the values we
//!   read (aliases elsewhere are never expanded, so "billion laughs" costs nothing).
//! - Lookup walks the image's policy identity, then its namespaces (most specific first),
//!   then `default-docker`, skipping sections without a URL for the operation; with nothing
//!   configured the built-in per-user or system directory is used.

use std::collections::{HashMap, HashSet};
use std::io;
use std::path::{Path, PathBuf};

use reqwest::Url;
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use crate::reference::DockerReference;

/// Largest registries.d file we read.
pub const MAX_CONFIG_FILE_SIZE: u64 = 1 << 20;
/// Deepest YAML nesting we accept (the schema itself needs 3 levels).
const MAX_DEPTH: usize = 64;
const SYSTEM_DIR: &str = "/etc/containers/registries.d";
const USER_DIR: &str = ".config/containers/registries.d";
const ROOT_LOOKASIDE: &str = "file:///var/lib/containers/sigstore";
const USER_LOOKASIDE: &str = ".local/share/containers/sigstore";

/// Why registries.d could not be loaded or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistriesDError {
    /// A registries.d directory could not be listed.
    #[error("reading registries.d directory {}", dir.display())]
    ReadDir {
        /// The directory.
        dir: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A configuration file could not be read, or is larger than [`MAX_CONFIG_FILE_SIZE`].
    #[error("reading {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The OS error (or the size limit).
        #[source]
        source: io::Error,
    },
    /// A configuration file is not valid YAML of the registries.d schema.
    #[error("parsing {}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Two files define `default-docker`.
    #[error(
        "Error parsing signature storage configuration: \"default-docker\" defined both in {:?} and {:?} \
         (keep one of them)",
        first.display().to_string(), second.display().to_string()
    )]
    DuplicateDefaultDocker {
        /// The file read first.
        first: PathBuf,
        /// The file that defines it again.
        second: PathBuf,
    },
    /// Two files configure the same `docker:` scope.
    #[error(
        "Error parsing signature storage configuration: \"docker\" namespace {scope:?} defined both in {:?} \
         and {:?} (a scope must be configured in one file only)",
        first.display().to_string(), second.display().to_string()
    )]
    DuplicateScope {
        /// The `docker:` key.
        scope: String,
        /// The file read first.
        first: PathBuf,
        /// The file that defines it again.
        second: PathBuf,
    },
    /// A configured lookaside URL cannot be used.
    #[error(
        "Invalid signature storage URL {url:?} ({reason}); use a URL such as \
         file:///var/lib/containers/sigstore or https://lookaside.example.com/sigstore"
    )]
    InvalidUrl {
        /// The URL, as configured.
        url: String,
        /// Why it is refused.
        reason: String,
    },
    /// Neither registries.d nor a home directory gives a non-root user a lookaside.
    #[error(
        "no home directory to locate the default signature storage \
         ($HOME/.local/share/containers/sigstore); configure a lookaside in registries.d"
    )]
    NoHomeDirectory,
}

/// One configuration section (c/image `registryNamespace`). Empty strings count as unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// For reading, and for writing when no staging location is set.
    pub lookaside: Option<String>,
    /// For writing only.
    pub lookaside_staging: Option<String>,
    /// Legacy name of `lookaside` (lower priority).
    pub sigstore: Option<String>,
    /// Legacy name of `lookaside-staging` (lower priority).
    pub sigstore_staging: Option<String>,
    /// `use-sigstore-attachments`: sigstore signatures are read from and written to
    /// registry attachments.
    pub use_sigstore_attachments: Option<bool>,
}

/// Reading or writing signatures: selects the keys consulted in a section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading: `lookaside`, then `sigstore`.
    Read,
    /// Writing: the staging keys first, then those for reading.
    Write,
}

impl Section {
    /// The configured URL string for `access` and the key it came from (c/image
    /// `registryNamespace.signatureTopLevel`).
    pub fn top_level(&self, access: Access) -> Option<(&'static str, &str)> {
        let staging = [
            ("lookaside-staging", &self.lookaside_staging),
            ("sigstore-staging", &self.sigstore_staging),
        ];
        let reading = [("lookaside", &self.lookaside), ("sigstore", &self.sigstore)];
        let staging = if access == Access::Write { &staging[..] } else { &[] };
        staging
            .iter()
            .chain(reading.iter())
            .find_map(|(key, v)| v.as_deref().map(|v| (*key, v)))
    }
}

/// Which part of the configuration matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// A key of the `docker:` mapping.
    Docker(&'a str),
    /// The `default-docker:` section.
    DefaultDocker,
}

/// A configured lookaside location and where it was found (for diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Configured<'a> {
    /// The section that matched.
    pub scope: Scope<'a>,
    /// `lookaside`, `lookaside-staging`, `sigstore` or `sigstore-staging`.
    pub key: &'static str,
    /// The URL string exactly as written.
    pub url: &'a str,
    /// The file the section is in.
    pub file: &'a Path,
}

/// The built-in default location, used when registries.d configures nothing for an image.
/// Passed in because the library never reads the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltinDefault {
    /// Effective UID 0 (c/image uses the rootless-aware EUID).
    pub is_root: bool,
    /// The home directory (`$HOME`), for a non-root user's default; `None` if unknown.
    pub home: Option<PathBuf>,
}

impl BuiltinDefault {
    /// `file:///var/lib/containers/sigstore` for root, else `file://$HOME/.local/share/containers/sigstore`.
    pub fn url(&self) -> Result<Url, RegistriesDError> {
        if self.is_root {
            return parse_url(ROOT_LOOKASIDE);
        }
        let home = self.home.as_deref().ok_or(RegistriesDError::NoHomeDirectory)?;
        // from_file_path refuses relative paths, which would make a meaningless file: URL.
        Url::from_file_path(home.join(USER_LOOKASIDE)).map_err(|()| RegistriesDError::NoHomeDirectory)
    }
}

/// The merged contents of a registries.d directory.
#[derive(Debug, Clone, Default)]
pub struct RegistriesD {
    default_docker: Option<(Section, PathBuf)>,
    docker: HashMap<String, (Section, PathBuf)>,
}

impl RegistriesD {
    /// No configuration at all: everything uses the built-in default.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Load and merge every `*.yaml` file of `dir` (see the module docs); a missing directory
    /// is an empty configuration.
    pub fn load_dir(dir: &Path) -> Result<Self, RegistriesDError> {
        let read_dir_err = |source| RegistriesDError::ReadDir {
            dir: dir.to_owned(),
            source,
        };
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::debug!("registries.d: {} does not exist (nothing configured)", dir.display());
                return Ok(Self::empty());
            }
            Err(e) => return Err(read_dir_err(e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let name = entry.map_err(read_dir_err)?.file_name();
            // Exact byte suffix, like Go's strings.HasSuffix on the raw name.
            if name.as_encoded_bytes().ends_with(b".yaml") {
                names.push(name);
            }
        }
        names.sort();
        tracing::debug!("registries.d: {} ({} *.yaml file(s))", dir.display(), names.len());
        let mut merged = Self::empty();
        for name in names {
            let path = dir.join(name);
            let bytes = match read_config_file(&path) {
                Ok(bytes) => bytes,
                // Removed between listing and reading: c/image ignores that race too.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(source) => return Err(RegistriesDError::ReadFile { path, source }),
            };
            let file = parse_file(&bytes).map_err(|message| RegistriesDError::Parse {
                path: path.clone(),
                message,
            })?;
            merged.merge(file, &path)?;
        }
        Ok(merged)
    }

    /// Parse one file's contents as if it were the only file of a directory (`path` is
    /// used in messages only).
    pub fn from_yaml(bytes: &[u8], path: &Path) -> Result<Self, RegistriesDError> {
        let file = parse_file(bytes).map_err(|message| RegistriesDError::Parse {
            path: path.to_owned(),
            message,
        })?;
        let mut config = Self::empty();
        config.merge(file, path)?;
        Ok(config)
    }

    /// The directory containers tools use: `$HOME/.config/containers/registries.d` if it
    /// exists, else `/etc/containers/registries.d`.
    pub fn default_dir(home: Option<&Path>) -> PathBuf {
        if let Some(home) = home {
            let user = home.join(USER_DIR);
            if std::fs::metadata(&user).is_ok() {
                return user;
            }
        }
        PathBuf::from(SYSTEM_DIR)
    }

    fn merge(&mut self, file: FileConfig, path: &Path) -> Result<(), RegistriesDError> {
        if let Some(section) = file.default_docker {
            if let Some((_, first)) = &self.default_docker {
                return Err(RegistriesDError::DuplicateDefaultDocker {
                    first: first.clone(),
                    second: path.to_owned(),
                });
            }
            self.default_docker = Some((section, path.to_owned()));
        }
        for (scope, section) in file.docker {
            if let Some((_, first)) = self.docker.get(&scope) {
                return Err(RegistriesDError::DuplicateScope {
                    scope,
                    first: first.clone(),
                    second: path.to_owned(),
                });
            }
            self.docker.insert(scope, (section, path.to_owned()));
        }
        Ok(())
    }

    /// The `docker:` section for exactly `scope`, if configured.
    pub fn docker_section(&self, scope: &str) -> Option<&Section> {
        self.docker.get(scope).map(|(s, _)| s)
    }

    /// The `default-docker` section, if configured.
    pub fn default_docker(&self) -> Option<&Section> {
        self.default_docker.as_ref().map(|(s, _)| s)
    }

    /// The sections that apply to `r`, most specific first: policy identity, namespaces,
    /// `default-docker`.
    fn candidates<'a>(&'a self, r: &DockerReference) -> Vec<(Scope<'a>, &'a Section, &'a Path)> {
        let mut names = vec![r.policy_identity()];
        names.extend(r.policy_namespaces());
        let mut out: Vec<_> = names
            .iter()
            .filter_map(|n| self.docker.get_key_value(n.as_str()))
            .map(|(k, (s, p))| (Scope::Docker(k.as_str()), s, p.as_path()))
            .collect();
        if let Some((s, p)) = &self.default_docker {
            out.push((Scope::DefaultDocker, s, p.as_path()));
        }
        out
    }

    /// The configured URL for `r` and where it came from, or `None` when only the built-in
    /// default applies. Sections without a URL for `access` are skipped.
    pub fn configured(&self, r: &DockerReference, access: Access) -> Option<Configured<'_>> {
        self.candidates(r).into_iter().find_map(|(scope, section, file)| {
            section
                .top_level(access)
                .map(|(key, url)| Configured { scope, key, url, file })
        })
    }

    /// The lookaside base URL for reading signatures of `r`: the configured top-level URL
    /// (without the repository path; [`super::lookaside::signature_url`] appends that), or
    /// the built-in default. An unparseable URL is an error here, as in c/image. Scheme-less
    /// values such as `/srv/sigstore` are errors here too (the URL parser has no empty
    /// scheme), where c/image fails only when it actually reads from the lookaside.
    pub fn read_base(&self, r: &DockerReference, defaults: &BuiltinDefault) -> Result<Url, RegistriesDError> {
        self.base(r, Access::Read, defaults)
    }

    /// Like [`read_base`](Self::read_base) for writing: `lookaside-staging`, `sigstore-staging`,
    /// `lookaside`, `sigstore`. The scheme is not checked here (an `https` staging URL is
    /// returned; the writer must refuse it).
    pub fn write_base(&self, r: &DockerReference, defaults: &BuiltinDefault) -> Result<Url, RegistriesDError> {
        self.base(r, Access::Write, defaults)
    }

    fn base(&self, r: &DockerReference, access: Access, defaults: &BuiltinDefault) -> Result<Url, RegistriesDError> {
        match self.configured(r, access) {
            Some(c) => parse_url(c.url),
            None => defaults.url(),
        }
    }

    /// Whether to use sigstore attachments for `r`: the first section (same order as the
    /// lookaside lookup) that sets `use-sigstore-attachments`; default false.
    pub fn use_sigstore_attachments(&self, r: &DockerReference) -> bool {
        self.candidates(r)
            .into_iter()
            .find_map(|(_, s, _)| s.use_sigstore_attachments)
            .unwrap_or(false)
    }
}

fn parse_url(s: &str) -> Result<Url, RegistriesDError> {
    Url::parse(s).map_err(|e| RegistriesDError::InvalidUrl {
        url: s.to_owned(),
        reason: e.to_string(),
    })
}

/// At most [`MAX_CONFIG_FILE_SIZE`] bytes of a regular file (a FIFO would block).
fn read_config_file(path: &Path) -> io::Result<Vec<u8>> {
    match crate::files::read_bounded_regular(path, MAX_CONFIG_FILE_SIZE)? {
        Some(Ok(b)) => Ok(b),
        Some(Err(limit)) => Err(io::Error::other(format!("larger than {limit} bytes"))),
        None => Err(io::ErrorKind::NotFound.into()),
    }
}

/// One file's contents (c/image `registryConfiguration` before merging).
#[derive(Debug, Default)]
struct FileConfig {
    default_docker: Option<Section>,
    docker: Vec<(String, Section)>,
}

fn parse_file(bytes: &[u8]) -> Result<FileConfig, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not valid UTF-8: {e}"))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut d = Decoder {
        parser: Parser::new_from_str(text),
    };
    d.expect_stream_start()?;
    let (ev, m) = d.next()?;
    match ev {
        Event::StreamEnd => return Ok(FileConfig::default()), // empty file or only comments
        Event::DocumentStart => {}
        other => return Err(format!("{}: unexpected {}", at(m), describe(&other))),
    }
    let (ev, m) = d.value()?;
    let config = match ev {
        Event::MappingStart(..) => d.top_level()?,
        Event::Scalar(v, style, _, tag) if scalar(&v, style, tag.as_ref(), m)?.is_none() => FileConfig::default(),
        other => return Err(format!("{}: expected a mapping, found {}", at(m), describe(&other))),
    };
    // Like yaml.v3 Unmarshal: the first document must end cleanly; later ones are not read.
    match d.next()? {
        (Event::DocumentEnd, _) => Ok(config),
        (other, m) => Err(format!("{}: unexpected {}", at(m), describe(&other))),
    }
}

fn at(m: Marker) -> String {
    format!("line {} column {}", m.line(), m.col() + 1)
}

fn describe(ev: &Event) -> String {
    match ev {
        Event::Scalar(v, ..) => format!("the scalar {v:?}"),
        Event::MappingStart(..) => "a mapping".into(),
        Event::SequenceStart(..) => "a sequence".into(),
        Event::Alias(_) => "an alias".into(),
        other => format!("{other:?}"),
    }
}

/// A scalar's value under yaml.v3 rules for string fields: `None` for null.
fn scalar(v: &str, style: TScalarStyle, tag: Option<&Tag>, m: Marker) -> Result<Option<String>, String> {
    match tag.map(|t| (t.handle.as_str(), t.suffix.as_str())) {
        None if style == TScalarStyle::Plain && matches!(v, "" | "~" | "null" | "Null" | "NULL") => Ok(None),
        None | Some(("tag:yaml.org,2002:", "str" | "bool")) => Ok(Some(v.to_owned())),
        Some(("tag:yaml.org,2002:", "null")) => Ok(None),
        Some((handle, suffix)) => Err(format!("{}: unsupported YAML tag {handle}{suffix}", at(m))),
    }
}

struct Decoder<'a> {
    parser: Parser<std::str::Chars<'a>>,
}

impl Decoder<'_> {
    fn next(&mut self) -> Result<(Event, Marker), String> {
        self.parser.next_token().map_err(|e| e.to_string())
    }

    fn expect_stream_start(&mut self) -> Result<(), String> {
        match self.next()? {
            (Event::StreamStart, _) => Ok(()),
            (other, m) => Err(format!("{}: unexpected {}", at(m), describe(&other))),
        }
    }

    /// The first event of a value we are going to use; aliases are refused.
    fn value(&mut self) -> Result<(Event, Marker), String> {
        match self.next()? {
            (Event::Alias(_), m) => Err(format!("{}: YAML aliases are not supported here", at(m))),
            ev => Ok(ev),
        }
    }

    /// Consume the rest of a value whose first event was `first`, at nesting `depth`.
    fn skip(&mut self, first: &Event, depth: usize) -> Result<(), String> {
        if !matches!(first, Event::MappingStart(..) | Event::SequenceStart(..)) {
            return Ok(());
        }
        let mut open = 1;
        while open > 0 {
            match self.next()? {
                (Event::MappingStart(..) | Event::SequenceStart(..), m) => {
                    open += 1;
                    if depth + open > MAX_DEPTH {
                        return Err(format!("{}: nesting deeper than {MAX_DEPTH} levels", at(m)));
                    }
                }
                (Event::MappingEnd | Event::SequenceEnd, _) => open -= 1,
                (Event::StreamEnd, m) => return Err(format!("{}: unexpected end of input", at(m))),
                _ => {}
            }
        }
        Ok(())
    }

    /// Walk a mapping whose start event was consumed: `f` gets each key and must consume
    /// exactly one value. Duplicate keys are errors, as in yaml.v3.
    fn mapping(&mut self, mut f: impl FnMut(&mut Self, String, Marker) -> Result<(), String>) -> Result<(), String> {
        let mut seen = HashSet::new();
        loop {
            let (ev, m) = self.value()?;
            let key = match ev {
                Event::MappingEnd => return Ok(()),
                Event::Scalar(v, style, _, tag) => {
                    if style == TScalarStyle::Plain && tag.is_none() && v == "<<" {
                        return Err(format!("{}: YAML merge keys (<<) are not supported", at(m)));
                    }
                    if !seen.insert(v.clone()) {
                        return Err(format!("{}: mapping key {v:?} already defined", at(m)));
                    }
                    scalar(&v, style, tag.as_ref(), m)?.unwrap_or_default()
                }
                other => return Err(format!("{}: unsupported mapping key: {}", at(m), describe(&other))),
            };
            f(self, key, m)?;
        }
    }

    fn top_level(&mut self) -> Result<FileConfig, String> {
        let mut config = FileConfig::default();
        self.mapping(|d, key, _| {
            match key.as_str() {
                "default-docker" => config.default_docker = d.section("default-docker")?,
                "docker" => match d.value()? {
                    (Event::MappingStart(..), _) => d.mapping(|d, scope, _| {
                        let section = d.section(&scope)?.unwrap_or_default();
                        config.docker.push((scope, section));
                        Ok(())
                    })?,
                    (Event::Scalar(v, style, _, tag), m) if scalar(&v, style, tag.as_ref(), m)?.is_none() => {}
                    (other, m) => {
                        return Err(format!(
                            "{}: \"docker\" must be a mapping, found {}",
                            at(m),
                            describe(&other)
                        ))
                    }
                },
                _ => {
                    let (ev, _) = d.next()?;
                    d.skip(&ev, 1)?;
                }
            }
            Ok(())
        })?;
        Ok(config)
    }

    /// A configuration section; `None` for a null value.
    fn section(&mut self, what: &str) -> Result<Option<Section>, String> {
        let depth = if what == "default-docker" { 2 } else { 3 };
        match self.value()? {
            (Event::MappingStart(..), _) => {}
            (Event::Scalar(v, style, _, tag), m) if scalar(&v, style, tag.as_ref(), m)?.is_none() => return Ok(None),
            (other, m) => {
                return Err(format!(
                    "{}: {what:?} must be a mapping, found {}",
                    at(m),
                    describe(&other)
                ))
            }
        }
        let mut s = Section::default();
        self.mapping(|d, key, _| {
            let slot = match key.as_str() {
                "lookaside" => &mut s.lookaside,
                "lookaside-staging" => &mut s.lookaside_staging,
                "sigstore" => &mut s.sigstore,
                "sigstore-staging" => &mut s.sigstore_staging,
                "use-sigstore-attachments" => {
                    s.use_sigstore_attachments = d.boolean(&key)?;
                    return Ok(());
                }
                _ => {
                    let (ev, _) = d.next()?;
                    return d.skip(&ev, depth);
                }
            };
            *slot = d.string(&key)?.filter(|v| !v.is_empty());
            Ok(())
        })?;
        Ok(Some(s))
    }

    fn string(&mut self, key: &str) -> Result<Option<String>, String> {
        match self.value()? {
            (Event::Scalar(v, style, _, tag), m) => scalar(&v, style, tag.as_ref(), m),
            (other, m) => Err(format!(
                "{}: {key:?} must be a string, found {}",
                at(m),
                describe(&other)
            )),
        }
    }

    /// yaml.v3 decoding into a bool: YAML 1.2 booleans, plus the YAML 1.1 words it accepts
    /// when the target is a bool.
    fn boolean(&mut self, key: &str) -> Result<Option<bool>, String> {
        let (ev, m) = self.value()?;
        let Event::Scalar(v, style, _, tag) = ev else {
            return Err(format!(
                "{}: {key:?} must be true or false, found {}",
                at(m),
                describe(&ev)
            ));
        };
        let plain = style == TScalarStyle::Plain && tag.is_none();
        let Some(v) = scalar(&v, style, tag.as_ref(), m)? else {
            return Ok(None);
        };
        match v.as_str() {
            "true" | "True" | "TRUE" if plain => Ok(Some(true)),
            "false" | "False" | "FALSE" if plain => Ok(Some(false)),
            "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(Some(true)),
            "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(Some(false)),
            _ => Err(format!("{}: {key:?} must be true or false, found {v:?}", at(m))),
        }
    }
}
