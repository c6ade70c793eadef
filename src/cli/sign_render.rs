//! `imgsig sign`'s reports for people (stderr) and `--output json`.

use anyhow::anyhow;
use serde::Serialize;

use super::framing::{Framing, Summary};
use super::io::{write_atomic, write_stdout};
use super::output::{error_document, print_json, SIGN_SCHEMA_VERSION};
use super::progress::Progress;
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::shown::{shown, Lines};
use imgsig::sign::{DestinationSource, Entry, ErrorClass, Format, Outcome, Report, Role, SignError};
use imgsig::signature::Signer as SignedBy;
use imgsig::verify::ErrorDocument;
use imgsig::Reason;

/// A library error as a CLI failure; the library's hint is added to the
/// message where the command line has none of its own for the code.
pub fn failure(e: SignError) -> Failure {
    let err = match e.hint.as_ref().filter(|_| super::output::hint_for(e.code).is_none()) {
        Some(h) => anyhow!("{}\nhint: {h}", e.message),
        None => anyhow!("{}", e.message),
    };
    match e.class {
        ErrorClass::Input => Failure::input(e.code, err),
        ErrorClass::Rejected => Failure::no(e.code, err),
        _ => Failure::outside(e.code, err),
    }
}

/// A digest or manifest signed: the signature written to `out` (a file,
/// stdout) unless it went to a lookaside directory, the line for people, and
/// the JSON document.
pub fn single(report: &Report, out: &FileArg, force: bool, format: OutputFormat) -> Result<Exit, Failure> {
    let (Some(entry), None) = (report.entries.first(), report.error.clone()) else {
        return Err(failure(
            report.error.clone().expect("a report without an entry has an error"),
        ));
    };
    let blob = entry.signature.as_deref().unwrap_or_default();
    let output = match (&entry.outcome, out) {
        (Outcome::Returned, FileArg::Path(p)) => {
            write_atomic(p, blob, force)?;
            out.to_string()
        }
        (Outcome::Returned, FileArg::Std) => {
            write_stdout(blob)
                .map_err(|e| Failure::outside(Reason::IoError, anyhow!("writing the signature to stdout: {e}")))?;
            out.to_string()
        }
        (stored, _) => stored.at().unwrap_or_default().to_owned(),
    };
    eprintln!(
        "imgsig: signed {} as {} with {} -> {output}",
        entry.manifest_digest,
        entry.identity,
        signer_text(report.format, &entry.by)
    );
    if format == OutputFormat::Json {
        print_json(&SignDoc::new(report, entry, output));
    }
    Ok(Exit::Ok)
}

/// What to do about signatures in the built-in default store; `registries_d`
/// is the directory `--registries-d` named, if it did.
fn default_store_hint(registries_d: Option<&std::path::Path>) -> String {
    let place = match registries_d {
        Some(dir) => format!("in {} (the --registries-d directory)", shown(&dir.display().to_string())),
        None => "in ~/.config/containers/registries.d or /etc/containers/registries.d (--registries-d DIR reads another directory)".to_owned(),
    };
    format!("hint: choose where signatures go: --lookaside-dir DIR, or a registries.d entry for the image (`lookaside-staging:` or `lookaside:`, a file:// URL) {place}; see `imgsig sign --help`")
}

/// The report's `destination_source` for JSON (`null`-free: a report
/// with entries has a destination).
fn source(report: &Report) -> &'static str {
    report.destination.as_ref().map_or("caller", |d| d.source.as_str())
}

/// How a signer is named in messages.
pub fn signer_text(format: Format, by: &SignedBy) -> String {
    if format == Format::Sigstore {
        format!("sigstore key {}", by.primary_fingerprint)
    } else if by.primary_fingerprint == by.signing_fingerprint {
        format!("key {}", by.primary_fingerprint)
    } else {
        format!(
            "key {} (signing key {})",
            by.primary_fingerprint, by.signing_fingerprint
        )
    }
}

/// `--output json` of a digest or manifest signed.
#[derive(Debug, Serialize)]
struct SignDoc {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    /// Always 0: a digest or manifest that could not be signed gives an error document.
    exit_code: u8,
    format: &'static str,
    output: String,
    destination_source: &'static str,
    identity: String,
    manifest_digest: String,
    signer: SignedBy,
    creator: String,
    timestamp: i64,
    signature_size: usize,
}

impl SignDoc {
    fn new(report: &Report, entry: &Entry, output: String) -> SignDoc {
        SignDoc {
            schema_version: SIGN_SCHEMA_VERSION,
            command: "sign",
            summary: false,
            exit_code: 0,
            format: report.format.as_str(),
            output,
            destination_source: source(report),
            identity: entry.identity.to_string(),
            manifest_digest: entry.manifest_digest.to_string(),
            signer: entry.by.clone(),
            creator: imgsig::sign::creator(),
            timestamp: entry.timestamp,
            signature_size: entry.signature.as_ref().map_or(0, Vec::len),
        }
    }
}

/// `--output json` of one registry image signed (docs/json-output.md):
/// the whole output for one image, one JSON Line of several.
#[derive(Debug, Serialize)]
struct ImageDoc {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    /// The image's position among the images (from 1).
    index: usize,
    /// The argument or list line, e.g. `docker://registry.example.com/app:1.0`.
    input: String,
    exit_code: u8,
    /// Why the image (or some of its manifests) could not be signed, or null.
    error: Option<ErrorDocument>,
    signatures: Vec<SignatureJson>,
}

#[derive(Debug, Serialize)]
struct SignatureJson {
    format: &'static str,
    identity: String,
    manifest_digest: String,
    /// For a multi-platform image: `index`, or `instance` with its platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    platform: Option<String>,
    output: String,
    destination_source: &'static str,
    written: bool,
    signer: SignedBy,
    timestamp: i64,
}

/// sign's own counts in the summary line of several images.
#[derive(Debug, Serialize)]
struct SignCounts {
    signatures: usize,
    signatures_written: usize,
}

/// Registry images signed, one after the other: the lines for people, each
/// image's document, and the summary.
pub struct Images {
    framing: Framing,
    images: usize,
    failed: usize,
    signatures: usize,
    written: usize,
    exit: Exit,
    /// The hint on configuring a destination was printed (once per run).
    default_hinted: bool,
    /// The directory `--registries-d` named, for that hint.
    registries_d: Option<std::path::PathBuf>,
}

impl Images {
    pub fn new(format: OutputFormat, images: usize) -> Images {
        Images {
            framing: Framing::new(format, images > 1),
            images,
            failed: 0,
            signatures: 0,
            written: 0,
            exit: Exit::Ok,
            default_hinted: false,
            registries_d: None,
        }
    }

    /// The registries.d directory `--registries-d` named (for the hint on
    /// configuring a destination).
    pub fn registries_d(mut self, dir: Option<&std::path::Path>) -> Images {
        self.registries_d = dir.map(ToOwned::to_owned);
        self
    }

    /// Report what signing image `index` (`input`) came to: one line per
    /// manifest signed, then why it stopped (if it did), and its document.
    pub fn image(&mut self, index: usize, input: &str, outcome: Result<Report, Failure>, progress: &Progress) {
        let mut signatures = Vec::new();
        let failure = match outcome {
            Ok(report) => {
                signatures = self.lines(input, &report, progress);
                report.error.map(failure)
            }
            Err(f) => Some(f),
        };
        let (error, exit) = match failure {
            Some(f) => {
                let error = error_document(&f);
                // A message that already names the image (an oci: layout's errors do) is not prefixed twice.
                let line = if error.message.starts_with(input) {
                    format!("imgsig: {}", Lines(&error.message))
                } else {
                    format!("imgsig: {}: {}", shown(input), Lines(&error.message))
                };
                progress.println(&line);
                self.failed += 1;
                (Some(error), f.exit)
            }
            None => (None, Exit::Ok),
        };
        self.exit = self.exit.worst(exit);
        self.signatures += signatures.len();
        self.written += signatures.iter().filter(|s| s.written).count();
        let doc = ImageDoc {
            schema_version: SIGN_SCHEMA_VERSION,
            command: "sign",
            summary: false,
            index,
            input: input.to_owned(),
            exit_code: exit as u8,
            error,
            signatures,
        };
        progress.suspend(|| self.framing.image(&doc));
    }

    fn lines(&mut self, input: &str, report: &Report, progress: &Progress) -> Vec<SignatureJson> {
        super::net::print_warnings(&report.warnings);
        let mut out = Vec::with_capacity(report.entries.len());
        for e in &report.entries {
            let d = &e.manifest_digest;
            let (label, role, platform) = match &e.role {
                Role::Index => (" (index)".to_owned(), Some("index"), None),
                Role::Instance(p) => (format!(" (instance {p})"), Some("instance"), Some(p.to_string())),
                _ => (String::new(), None, None),
            };
            let who = signer_text(report.format, &e.by);
            let at = e.outcome.at().unwrap_or_default();
            progress.println(&match &e.outcome {
                Outcome::AlreadySigned { .. } => format!(
                    "imgsig: {d}{label} is already signed as {} by {who} ({at}); nothing added",
                    e.identity
                ),
                Outcome::Identical { .. } => format!(
                    "imgsig: signed {d}{label} as {} with {who} -> {at} (identical signature already there)",
                    e.identity
                ),
                _ => format!("imgsig: signed {d}{label} as {} with {who} -> {at}", e.identity),
            });
            out.push(SignatureJson {
                format: report.format.as_str(),
                identity: e.identity.to_string(),
                manifest_digest: d.to_string(),
                role,
                platform,
                output: at.to_owned(),
                destination_source: source(report),
                written: e.outcome.written(),
                signer: e.by.clone(),
                timestamp: e.timestamp,
            });
        }
        if let Some(d) = report
            .destination
            .as_ref()
            .filter(|d| d.source == DestinationSource::BuiltinDefault)
        {
            let root = d.root.as_ref().map_or("?".into(), |r| r.display().to_string());
            progress.println(&format!(
                "imgsig: warning: {}: no signature destination is configured for this image; the signatures went to the built-in default store {}, which only containers tools on this machine read",
                shown(input),
                shown(&root)
            ));
            if !std::mem::replace(&mut self.default_hinted, true) {
                progress.println(&default_store_hint(self.registries_d.as_deref()));
            }
        }
        out
    }

    /// The summary line for people, and with several images the summary
    /// document; the run's exit code (the worst image's).
    pub fn finish(self) -> Exit {
        eprintln!(
            "imgsig: {} signature(s) for {} image(s), {} failed",
            self.signatures, self.images, self.failed
        );
        let counts = SignCounts {
            signatures: self.signatures,
            signatures_written: self.written,
        };
        self.framing
            .summary(&Summary::new("sign", self.exit, self.images, self.failed, counts));
        self.exit
    }
}
