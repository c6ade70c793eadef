//! `imgsig fetch docker://REF… --to DIR`: copy images' manifests and
//! signatures into a local mirror in the lookaside layout
//! (`DIR/<repository path>@sha256=<hex>/manifest.json` + `signature-N`), to
//! carry into an air-gapped site. Re-running fetches only what is missing;
//! nothing in DIR is ever overwritten or deleted, except the tag records
//! (`DIR/<repository path>@tags/<tag>.json`, [`imgsig::store::mirror`]):
//! what each tag resolved to, replaced when the tag has moved.
//!
//! The fetching and the mirror's writing rules are the library's
//! ([`imgsig::fetch`], [`imgsig::store::mirror::Mirror`]): this file turns
//! arguments into requests and renders the reports (stderr lines, JSON).

use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::framing::{Framing, Summary};
use super::inputs::{library_failure, read_list, ImageList};
use super::net::{network, print_warnings, RegistryArgs};
use super::output::{error_document, FETCH_SCHEMA_VERSION};
use super::{Exit, Failure, OutputFormat};
use crate::shown::{shown, Lines};
use imgsig::digest::Digest;
use imgsig::fetch::{CarriedManifest, FetchError, Fetcher, Options, Request};
use imgsig::store::mirror::{Mirror, WrittenRecord};
use imgsig::verify::ErrorDocument;
use imgsig::verify::Role;
use imgsig::Reason;

pub const EXAMPLES: &str = "EXAMPLES:
  # Mirror two images' manifests and signatures for an air-gapped site
  imgsig fetch --to /media/usb/sigs docker://registry.example.com/ns/app:1.0 \\
      docker://registry.example.com/ns/db:2.3

  # Many images, one per line (`--from-file -` reads them from stdin)
  imgsig fetch --to mirror/ --from-file images.txt

  # Inside the site: verify from the mirror by tag, no network (the tag is
  # resolved through the record fetch wrote, as of the fetch)
  imgsig verify --offline --policy policy.json --lookaside /media/usb/sigs \\
      docker://registry.example.com/ns/app:1.0";

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The mirror directory (created if missing)
    #[arg(long, value_name = "DIR")]
    pub to: PathBuf,
    #[command(flatten)]
    pub list: ImageList,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Exit 0 even when an image is mirrored without a single signature (the source had none for it); it is still warned about and counted
    #[arg(long = "allow-unsigned")]
    pub allow_unsigned: bool,
    /// Images: docker://REF (also listed with --from-file)
    #[arg(value_name = "docker://REF")]
    pub images: Vec<String>,
}

/// One image's document (docs/json-output.md): the whole output for one
/// image, one JSON Line of several.
#[derive(Debug, Serialize)]
struct ImageJson {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    /// The image's position among the images (from 1).
    index: usize,
    to: String,
    input: String,
    exit_code: u8,
    /// The top-level manifest's digest: what the tag resolved to.
    digest: Option<String>,
    /// The tag record written (a tagged input, fully mirrored), or null.
    tag_record: Option<String>,
    /// The digest the replaced tag record named, when the tag has moved.
    tag_moved_from: Option<String>,
    /// Mirrored without a single signature.
    unsigned: bool,
    manifests: Vec<ManifestJson>,
    error: Option<ErrorDocument>,
}

#[derive(Debug, Serialize)]
struct ManifestJson {
    digest: String,
    /// `image`, `index` or `instance`.
    role: &'static str,
    /// An instance's `os/architecture[/variant]`, else null.
    platform: Option<String>,
    directory: String,
    manifest_written: bool,
    signatures_new: usize,
    signatures_present: usize,
    signatures_skipped: Vec<String>,
    /// The signatures its mirror directory holds afterwards (stored now or earlier).
    signatures_in_mirror: usize,
    /// Where its signatures were looked for.
    looked_in: String,
}

impl ManifestJson {
    fn new(m: &CarriedManifest) -> ManifestJson {
        let (role, platform) = match &m.role {
            Role::Image => ("image", None),
            Role::Index => ("index", None),
            Role::Instance(p) => ("instance", Some(p.to_string())),
        };
        let s = &m.stored;
        ManifestJson {
            digest: s.digest.to_string(),
            role,
            platform,
            directory: s.directory.display().to_string(),
            manifest_written: s.manifest_written,
            signatures_new: s.signatures_new,
            signatures_present: s.signatures_present,
            signatures_skipped: s.signatures_skipped.iter().map(ToString::to_string).collect(),
            signatures_in_mirror: s.signatures_in_mirror,
            looked_in: m.looked_in.clone(),
        }
    }
}

/// fetch's own counts in the summary line of several images.
#[derive(Debug, Serialize, Default)]
struct FetchCounts {
    to: String,
    manifests_written: usize,
    signatures_new: usize,
    signatures_present: usize,
    signatures_skipped: usize,
    unsigned: usize,
}

/// The lines for people about one image: what each manifest resolved to,
/// and the tag record (with the digest it named before, when the tag moved).
fn human(input: &str, ms: &[ManifestJson], record: Option<&WrittenRecord>, moved_from: Option<&Digest>) -> String {
    let mut out = String::new();
    // The signatures the source has, and those the mirror holds when an
    // earlier fetch or `sign` put more there.
    let count = |fetched: usize, held: usize| match held > fetched {
        true => format!("{fetched} signature(s), {held} in the mirror"),
        false => format!("{fetched} signature(s)"),
    };
    let sigs: usize = ms.iter().map(|m| m.signatures_new + m.signatures_present).sum();
    let held: usize = ms.iter().map(|m| m.signatures_in_mirror).sum();
    if let Some(top) = ms.first() {
        // The digest the tag resolved to, so that the air-gapped side can
        // name the image by digest without trusting an unverified claim.
        out.push_str(&format!(
            "imgsig: {} -> {}: {} manifest(s), {}\n",
            shown(input),
            top.digest,
            ms.len(),
            count(sigs, held)
        ));
    }
    for m in ms.iter().skip(1) {
        out.push_str(&format!(
            "imgsig:   instance {} -> {}: {}\n",
            m.platform.as_deref().unwrap_or("?"),
            m.digest,
            count(m.signatures_new + m.signatures_present, m.signatures_in_mirror)
        ));
    }
    match (record, moved_from, ms.first()) {
        (Some(r), Some(before), Some(top)) => out.push_str(&format!(
            "imgsig:   tag moved: the record named {before}, now {}; replaced {}\n",
            top.digest,
            shown(&r.path.display().to_string())
        )),
        (Some(r), _, _) => out.push_str(&format!(
            "imgsig:   tag recorded in {}\n",
            shown(&r.path.display().to_string())
        )),
        _ => {}
    }
    out
}

/// The warning about an image mirrored without a single signature: where
/// the signatures were looked for.
/// `builtin` is the built-in default lookaside (where signatures are looked
/// for when registries.d names none for the image), said as such.
fn unsigned_warning(input: &str, ms: &[ManifestJson], builtin: Option<&str>) -> String {
    let looked = ms.first().map_or("", |m| m.looked_in.as_str());
    let default = match builtin {
        Some(b) if looked.starts_with(b) => {
            ": the built-in default, as no registries.d entry names a lookaside for the image"
        }
        _ => "",
    };
    let instances = match ms.len() {
        0 | 1 => String::new(),
        n => format!(" nor for its {} instance(s)", n - 1),
    };
    format!(
        "imgsig: warning: {}: mirrored without a signature: the source has none for it{instances} (looked in {}{default}); a verify from the mirror will find nothing to check",
        shown(input),
        shown(looked)
    )
}

pub fn run(args: FetchArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let inputs = read_list(&args.images, args.list.from_file.as_deref())?;
    if inputs.is_empty() {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("give docker://REF images or --from-file FILE"),
        ));
    }
    if let Some(bad) = inputs.iter().find(|i| !i.starts_with("docker://")) {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("{bad:?}: fetch takes docker://REF images"),
        ));
    }
    let mirror = Mirror::create(&args.to)
        .map_err(|e| Failure::input(Reason::UnwritableOutput, anyhow!("--to {}: {e}", args.to.display())))?;
    let net = network(&args.registry)?;
    let fetcher = Fetcher::new(&net, &mirror, Options::default());
    let builtin = net.builtin().url().ok().map(|u| u.to_string());
    let progress = super::progress::Progress::new(Some(inputs.len()), format);
    let framing = Framing::new(format, inputs.len() > 1);
    let to = args.to.display().to_string();
    let mut counts = FetchCounts {
        to: to.clone(),
        ..FetchCounts::default()
    };
    let mut failed = 0;
    let mut exit = Exit::Ok;
    for (i, input) in inputs.iter().enumerate() {
        progress.start(i + 1, input);
        let report = Request::parse(input).map(|req| fetcher.fetch(&req));
        progress.clear();
        let (manifests, record, error, unsigned, moved_from) = match report {
            Ok(r) => {
                print_warnings(&r.warnings);
                let (unsigned, moved_from) = (r.unsigned(), r.tag_moved().map(|(before, _)| before.clone()));
                (r.manifests, r.tag_record, r.error, unsigned, moved_from)
            }
            Err(e) => (Vec::new(), None, Some(e), false, None),
        };
        let done: Vec<ManifestJson> = manifests.iter().map(ManifestJson::new).collect();
        for m in &done {
            counts.manifests_written += usize::from(m.manifest_written);
            counts.signatures_new += m.signatures_new;
            counts.signatures_present += m.signatures_present;
            counts.signatures_skipped += m.signatures_skipped.len();
        }
        eprint!("{}", human(input, &done, record.as_ref(), moved_from.as_ref()));
        let mut image_exit = Exit::Ok;
        if unsigned {
            eprintln!("{}", unsigned_warning(input, &done, builtin.as_deref()));
            counts.unsigned += 1;
            if !args.allow_unsigned {
                image_exit = Exit::No;
            }
        }
        let (error, image_exit) = match error {
            Some(e) => {
                let (error, worst) = failure(input, e);
                failed += 1;
                (Some(error), image_exit.worst(worst))
            }
            None => (None, image_exit),
        };
        exit = exit.worst(image_exit);
        framing.image(&ImageJson {
            schema_version: FETCH_SCHEMA_VERSION,
            command: "fetch",
            summary: false,
            index: i + 1,
            to: to.clone(),
            input: input.clone(),
            exit_code: image_exit as u8,
            digest: done.first().map(|m| m.digest.clone()),
            tag_record: record.map(|r| r.path.display().to_string()),
            tag_moved_from: moved_from.map(|d| d.to_string()),
            unsigned,
            manifests: done,
            error,
        });
    }
    let n = inputs.len();
    progress.clear();
    eprintln!(
        "imgsig: fetched {} image(s) into {}: {} new signature(s), {} already there, {} manifest(s) written, {} failed, {} unsigned",
        n - failed,
        args.to.display(),
        counts.signatures_new,
        counts.signatures_present,
        counts.manifests_written,
        failed,
        counts.unsigned
    );
    if counts.unsigned > 0 && !args.allow_unsigned {
        eprintln!("hint: an unsigned image fails fetch (exit 1): configure where its signatures are (a registries.d `lookaside:` entry, --registries-d DIR, --lookaside URL), or pass --allow-unsigned to mirror it anyway");
    }
    framing.summary(&Summary::new("fetch", exit, n, failed, counts));
    Ok(exit)
}

/// Print why `input` failed; its error document and exit code.
fn failure(input: &str, e: FetchError) -> (ErrorDocument, Exit) {
    let f = library_failure(e.class, e.code, &e.message, e.hint.as_deref());
    let doc = error_document(&f);
    eprintln!("imgsig: {}: {}", shown(input), Lines(&doc.message));
    (doc, f.exit)
}
