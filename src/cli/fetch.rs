//! `imgsig fetch docker://REF… --to DIR`: copy images' manifests and
//! signatures into a local mirror in the lookaside layout
//! (`DIR/<repository path>@sha256=<hex>/manifest.json` + `signature-N`), to
//! carry into an air-gapped site. Re-running fetches only what is missing;
//! nothing in DIR is ever overwritten or deleted, except the tag records
//! (`DIR/<repository path>@tags/<tag>.json`, [`imgsig::store::mirror`]):
//! what each tag resolved to, replaced when the tag has moved.
//!
//! An image counts as mirrored only when everything the registry has for it
//! is: a signature that cannot be stored (over the size limit) makes the
//! image failed (exit 3, `signature-not-mirrored`) and its tag record is not
//! written, so an offline verify by tag cannot judge a set of signatures
//! that differs from the registry's.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::inputs::read_list;
use super::net::{Net as Network, RegistryArgs};
use super::output::{print_json, SCHEMA_VERSION};
use super::{Exit, Failure, OutputFormat};
use imgsig::platform::list_instances;
use imgsig::reference::DockerReference;
use imgsig::registry::client::FetchedManifest;
use imgsig::shown::{shown, Lines};
use imgsig::store::lookaside::{self, StoreOutcome};
use imgsig::store::mirror::{self, RecordedInstance, TagRecord};

pub const EXAMPLES: &str = "EXAMPLES:
  # Mirror two images' manifests and signatures for an air-gapped site
  imgsig fetch --to /media/usb/sigs docker://registry.example.com/ns/app:1.0 \\
      docker://registry.example.com/ns/db:2.3

  # Many images, one per line
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
    /// Read docker://REF images from FILE, one per line (# comments and blank lines skipped)
    #[arg(long = "from-file", value_name = "FILE")]
    pub from_file: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// Images: docker://REF
    #[arg(value_name = "docker://REF")]
    pub images: Vec<String>,
}

#[derive(Debug, Serialize, Default)]
struct ImageJson {
    input: String,
    /// The top-level manifest's digest: what the tag resolved to.
    digest: Option<String>,
    /// The tag record written (a tagged input, fully mirrored), or null.
    tag_record: Option<String>,
    manifests: Vec<ManifestJson>,
    error: Option<ErrorJson>,
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
}

#[derive(Debug, Serialize)]
struct ErrorJson {
    code: &'static str,
    message: String,
}

#[derive(Debug, Serialize)]
struct FetchDoc {
    schema_version: u32,
    command: &'static str,
    to: String,
    images: Vec<ImageJson>,
    summary: Summary,
}

#[derive(Debug, Serialize, Default)]
struct Summary {
    images: usize,
    failed: usize,
    manifests_written: usize,
    signatures_new: usize,
    signatures_present: usize,
    signatures_skipped: usize,
}

/// One manifest to store: its bytes, role and platform.
struct Wanted {
    manifest: FetchedManifest,
    role: &'static str,
    platform: Option<String>,
}

/// Fetch and store one image; on failure, also what was stored before it.
fn fetch_one(
    net: &Network,
    to: &Path,
    input: &str,
    now: i64,
    done: &mut Vec<ManifestJson>,
) -> Result<Option<PathBuf>, Failure> {
    let text = input.strip_prefix("docker://").unwrap_or(input);
    let r = DockerReference::parse_docker_transport(text)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("{input:?}: {e}")))?;
    let top = net.manifest(&r)?;
    let instances = list_instances(&top.bytes).unwrap_or_default();
    let top_digest = top.digest.clone();
    let mut wanted = vec![Wanted {
        manifest: top,
        role: if instances.is_empty() { "image" } else { "index" },
        platform: None,
    }];
    for i in &instances {
        wanted.push(Wanted {
            manifest: net.manifest_by_digest(&r, &i.digest)?,
            role: "instance",
            platform: Some(i.platform()),
        });
    }
    for w in &wanted {
        done.push(store(net, to, &r, w)?);
    }
    let skipped: Vec<&str> = done
        .iter()
        .flat_map(|m| &m.signatures_skipped)
        .map(String::as_str)
        .collect();
    if !skipped.is_empty() {
        return Err(Failure::outside(
            "signature-not-mirrored",
            anyhow!(
                "{} signature(s) the registry has could not be mirrored ({}); the mirror would judge the image on other signatures than the registry holds",
                skipped.len(),
                skipped.join("; ")
            ),
        ));
    }
    if r.tag().is_none() {
        return Ok(None);
    }
    // Written last: a record never names a manifest that is not in the mirror.
    let record = TagRecord {
        reference: r.clone(),
        digest: top_digest,
        fetched_at: now,
        instances: instances.iter().map(RecordedInstance::from_instance).collect(),
    };
    let path = mirror::write_record(to, &record).map_err(|e| Failure::outside("io-error", anyhow!("{e}")))?;
    Ok(Some(path))
}

/// Store one manifest and its signatures (never overwriting anything).
fn store(net: &Network, to: &Path, r: &DockerReference, w: &Wanted) -> Result<ManifestJson, Failure> {
    let m = &w.manifest;
    let io = super::io::lookaside_failure;
    // Everything is read before the image's directory is made: a lookaside that is down
    // leaves nothing behind in the mirror, not even an empty directory.
    let sigs = net.signatures(r, &m.digest)?.signatures;
    let dir = lookaside::ImageLocation::new(to, r, &m.digest).create().map_err(io)?;
    let manifest_written = dir.write_new_file("manifest.json", &m.bytes).map_err(io)?;
    let mut j = ManifestJson {
        digest: m.digest.to_string(),
        role: w.role,
        platform: w.platform.clone(),
        directory: dir.path().display().to_string(),
        manifest_written,
        signatures_new: 0,
        signatures_present: 0,
        signatures_skipped: Vec::new(),
    };
    for s in sigs {
        match s.blob {
            Ok(b) => match dir.store_signature(&b).map_err(io)? {
                StoreOutcome::Written(_) => j.signatures_new += 1,
                StoreOutcome::AlreadyPresent(_) => j.signatures_present += 1,
            },
            Err(why) => j.signatures_skipped.push(format!("{}: {why}", s.source)),
        }
    }
    Ok(j)
}

/// The lines for people about one image: what each manifest resolved to.
fn human(input: &str, ms: &[ManifestJson], record: Option<&Path>) -> String {
    let mut out = String::new();
    let sigs: usize = ms.iter().map(|m| m.signatures_new + m.signatures_present).sum();
    if let Some(top) = ms.first() {
        // The digest the tag resolved to, so that the air-gapped side can
        // name the image by digest without trusting an unverified claim.
        out.push_str(&format!(
            "imgsig: {} -> {}: {} manifest(s), {sigs} signature(s)\n",
            shown(input),
            top.digest,
            ms.len()
        ));
    }
    for m in ms.iter().skip(1) {
        let n = m.signatures_new + m.signatures_present;
        out.push_str(&format!(
            "imgsig:   instance {} -> {}: {n} signature(s)\n",
            m.platform.as_deref().unwrap_or("?"),
            m.digest
        ));
    }
    if let Some(p) = record {
        out.push_str(&format!(
            "imgsig:   tag recorded in {}\n",
            shown(&p.display().to_string())
        ));
    }
    out
}

pub fn run(args: FetchArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let inputs = read_list(&args.images, args.from_file.as_deref())?;
    if inputs.is_empty() {
        return Err(Failure::input(
            "usage",
            anyhow!("give docker://REF images or --from-file FILE"),
        ));
    }
    if let Some(bad) = inputs.iter().find(|i| !i.starts_with("docker://")) {
        return Err(Failure::input(
            "usage",
            anyhow!("{bad:?}: fetch takes docker://REF images"),
        ));
    }
    std::fs::create_dir_all(&args.to)
        .map_err(|e| Failure::input("unwritable-output", anyhow!("--to {}: {e}", args.to.display())))?;
    let net = Network::new(&args.registry)?;
    let progress = super::progress::Progress::new(Some(inputs.len()), format);
    let mut doc = FetchDoc {
        schema_version: SCHEMA_VERSION,
        command: "fetch",
        to: args.to.display().to_string(),
        images: Vec::new(),
        summary: Summary::default(),
    };
    let mut exit = Exit::Ok;
    let n = inputs.len();
    let now = imgsig::time::unix_seconds(std::time::SystemTime::now());
    for (i, input) in inputs.iter().enumerate() {
        progress.start(i + 1, input);
        let mut img = ImageJson {
            input: input.clone(),
            ..ImageJson::default()
        };
        let mut done = Vec::new();
        let result = fetch_one(&net, &args.to, input, now, &mut done);
        progress.clear();
        for m in &done {
            doc.summary.manifests_written += usize::from(m.manifest_written);
            doc.summary.signatures_new += m.signatures_new;
            doc.summary.signatures_present += m.signatures_present;
            doc.summary.signatures_skipped += m.signatures_skipped.len();
        }
        img.digest = done.first().map(|m| m.digest.clone());
        match result {
            Ok(record) => {
                eprint!("{}", human(input, &done, record.as_deref()));
                img.tag_record = record.map(|p| p.display().to_string());
            }
            Err(f) => {
                if !done.is_empty() {
                    eprint!("{}", human(input, &done, None));
                }
                eprintln!("imgsig: {}: {}", shown(input), Lines(&format!("{:#}", f.error)));
                doc.summary.failed += 1;
                exit = exit.worst(f.exit);
                img.error = Some(ErrorJson {
                    code: f.code,
                    message: format!("{:#}", f.error),
                });
            }
        }
        img.manifests = done;
        doc.images.push(img);
    }
    doc.summary.images = n;
    progress.clear();
    eprintln!(
        "imgsig: fetched {} image(s) into {}: {} new signature(s), {} already there, {} manifest(s) written, {} failed",
        n - doc.summary.failed,
        args.to.display(),
        doc.summary.signatures_new,
        doc.summary.signatures_present,
        doc.summary.manifests_written,
        doc.summary.failed
    );
    if format == OutputFormat::Json {
        print_json(&doc);
    }
    Ok(exit)
}
