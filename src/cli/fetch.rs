//! `imgsig fetch docker://REF… --to DIR`: copy images' manifests and
//! signatures into a local mirror in the lookaside layout
//! (`DIR/<repository path>@sha256=<hex>/manifest.json` + `signature-N`), to
//! carry into an air-gapped site. Re-running fetches only what is missing;
//! nothing in DIR is ever overwritten or deleted.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::inputs::read_list;
use super::net::{Net as Network, RegistryArgs};
use super::output::{print_json, SCHEMA_VERSION};
use super::{Exit, Failure, OutputFormat};
use imgsig::platform::list_instances;
use imgsig::reference::DockerReference;
use imgsig::shown::{shown, Lines};
use imgsig::store::lookaside::{self, StoreOutcome};

pub const EXAMPLES: &str = "EXAMPLES:
  # Mirror two images' manifests and signatures for an air-gapped site
  imgsig fetch --to /media/usb/sigs docker://registry.example.com/ns/app:1.0 \\
      docker://registry.example.com/ns/db:2.3

  # Many images, one per line
  imgsig fetch --to mirror/ --from-file images.txt

  # Inside the site: verify from the mirror, no network
  imgsig verify --policy policy.json --lookaside /media/usb/sigs \\
      --identity registry.example.com/ns/app:1.0 \\
      --manifest /media/usb/sigs/ns/app@sha256=<hex>/manifest.json";

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
    manifests: Vec<ManifestJson>,
    error: Option<ErrorJson>,
}

#[derive(Debug, Serialize)]
struct ManifestJson {
    digest: String,
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
}

fn fetch_one(net: &Network, to: &std::path::Path, input: &str) -> Result<Vec<ManifestJson>, Failure> {
    let text = input.strip_prefix("docker://").unwrap_or(input);
    let r = DockerReference::parse_docker_transport(text)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("{input:?}: {e}")))?;
    let top = net.manifest(&r)?;
    let mut manifests = Vec::new();
    if let Some(instances) = list_instances(&top.bytes) {
        for i in instances {
            manifests.push(net.manifest_by_digest(&r, &i.digest)?);
        }
    }
    manifests.insert(0, top);
    let mut out = Vec::new();
    for m in &manifests {
        let io = super::io::lookaside_failure;
        let dir = lookaside::ImageLocation::new(to, &r, &m.digest).create().map_err(io)?;
        let manifest_written = dir.write_new_file("manifest.json", &m.bytes).map_err(io)?;
        let sigs = net.signatures(&r, &m.digest)?.signatures;
        let mut j = ManifestJson {
            digest: m.digest.to_string(),
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
        out.push(j);
    }
    Ok(out)
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
    let progress = std::io::stderr().is_terminal();
    let mut doc = FetchDoc {
        schema_version: SCHEMA_VERSION,
        command: "fetch",
        to: args.to.display().to_string(),
        images: Vec::new(),
        summary: Summary::default(),
    };
    let mut exit = Exit::Ok;
    let n = inputs.len();
    for (i, input) in inputs.iter().enumerate() {
        if progress {
            eprint!("\r\x1b[2K[{}/{n}] {input}", i + 1);
        }
        let mut img = ImageJson {
            input: input.clone(),
            ..ImageJson::default()
        };
        match fetch_one(&net, &args.to, input) {
            Ok(ms) => {
                for m in &ms {
                    doc.summary.manifests_written += usize::from(m.manifest_written);
                    doc.summary.signatures_new += m.signatures_new;
                    doc.summary.signatures_present += m.signatures_present;
                    for s in &m.signatures_skipped {
                        eprintln!("imgsig: {}: skipped {}", shown(input), shown(s));
                    }
                }
                let sigs: usize = ms.iter().map(|m| m.signatures_new + m.signatures_present).sum();
                // The digest the tag resolved to, so that the air-gapped side can
                // name the image by digest without trusting an unverified claim.
                let digest = ms.first().map(|m| m.digest.as_str()).unwrap_or("?");
                if progress {
                    eprintln!();
                }
                eprintln!(
                    "imgsig: {input} -> {digest}: {} manifest(s), {sigs} signature(s)",
                    ms.len()
                );
                img.manifests = ms;
            }
            Err(f) => {
                if progress {
                    eprintln!();
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
        doc.images.push(img);
    }
    doc.summary.images = n;
    if progress {
        eprintln!();
    }
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
