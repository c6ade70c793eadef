//! `imgsig verify docker://REF…`: online verification without pulling
//! blobs. The manifest comes from the registry, the signatures from their
//! configured source, the decision from the policy. Many images run
//! concurrently; each gets its own report, then a summary; the exit code is
//! the worst result.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::anyhow;
use serde::Serialize;

use super::online::{host_platform, list_instances, Network};
use super::verify::VerifyArgs;
use super::verify_policy::{decide, load_policy, resolve_policy, PolicyDoc};
use super::{io::write_stdout, Exit, Failure, OutputFormat, Tally};
use crate::policy::Policy;
use crate::reference::DockerReference;

/// Most images verified at the same time.
const WORKERS: usize = 8;

/// The result for one image argument.
struct ImageResult {
    input: String,
    exit: Exit,
    human: String,
    verified: Vec<String>,
    docs: Vec<PolicyDoc>,
    error: Option<(&'static str, String)>,
}

/// One JSON line per image.
#[derive(Debug, Serialize)]
struct ImageLine<'a> {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    /// Position among the images (arguments first, then --from-file lines), from 1.
    index: usize,
    input: &'a str,
    verdict: &'static str,
    exit_code: u8,
    verified_reference: Option<&'a str>,
    /// One decision per manifest checked (several for --all-platforms).
    decisions: &'a [PolicyDoc],
    error: Option<ErrorJson<'a>>,
}

#[derive(Debug, Serialize)]
struct ErrorJson<'a> {
    code: &'static str,
    message: &'a str,
}

/// The last JSON line.
#[derive(Debug, Serialize)]
struct SummaryLine {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    summary: bool,
    verdict: &'static str,
    policy: String,
    #[serde(flatten)]
    tally: Tally,
}

fn verify_one(net: &Network, policy_path: &Path, policy: &Policy, input: &str, all_platforms: bool) -> ImageResult {
    let mut res = ImageResult {
        input: input.to_owned(),
        exit: Exit::Ok,
        human: String::new(),
        verified: Vec::new(),
        docs: Vec::new(),
        error: None,
    };
    if let Err(f) = verify_into(net, policy_path, policy, input, all_platforms, &mut res) {
        res.exit = f.exit;
        let msg = format!("{:#}", f.error);
        res.human.push_str(&format!("imgsig: {input}: {msg}\n"));
        res.error = Some((f.code, msg));
    }
    res
}

fn verify_into(
    net: &Network,
    policy_path: &Path,
    policy: &Policy,
    input: &str,
    all_platforms: bool,
    res: &mut ImageResult,
) -> Result<(), Failure> {
    let text = input.strip_prefix("docker://").unwrap_or(input);
    let r = DockerReference::parse_docker_transport(text)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("{input:?}: {e}")))?;
    let top = net.manifest(&r)?;
    let manifests = match list_instances(&top.bytes) {
        None => vec![top],
        Some(instances) => {
            let (os, arch) = host_platform();
            let available: Vec<String> = instances.iter().map(|i| i.platform()).collect();
            let chosen: Vec<_> = if all_platforms {
                instances
            } else {
                instances
                    .into_iter()
                    .filter(|i| i.os == os && i.architecture == arch)
                    .take(1)
                    .collect()
            };
            if chosen.is_empty() {
                return Err(Failure::no(
                    "no-matching-platform",
                    anyhow!(
                        "{r} is a multi-platform image with no {os}/{arch} instance (it has {}); use --all-platforms to verify every instance",
                        available.join(", ")
                    ),
                ));
            }
            // --all-platforms checks the index's own signatures too (the
            // issue's rule; stricter than `skopeo copy --all`, which checks
            // the instances only). A single-platform check, like a pull,
            // uses the instance's signatures only.
            let mut ms = if all_platforms { vec![top] } else { Vec::new() };
            for i in chosen {
                ms.push(net.manifest_by_digest(&r, &i.digest)?);
            }
            ms
        }
    };
    let mut accepted = true;
    for m in &manifests {
        let g = net.gather(&r, m)?;
        let outcome = decide(policy_path, policy, &g)?;
        res.human.push_str(&outcome.human);
        accepted &= outcome.accepted;
        if let Some(v) = outcome.verified {
            res.verified.push(v);
        }
        res.docs.push(outcome.doc);
    }
    if !accepted {
        res.verified.clear();
        res.exit = Exit::No;
    }
    Ok(())
}

/// The registry mode's schema: 2 since its output became JSON Lines (one line per
/// image, then a summary) instead of one document (schema 1).
const REGISTRY_SCHEMA_VERSION: u32 = 2;

/// Images verified together before their reports are written: memory stays
/// bounded however long the list is, and reports come out in input order.
const CHUNK: usize = 256;

pub fn run(args: VerifyArgs, images: Vec<String>, format: OutputFormat) -> Result<Exit, Failure> {
    if args.identity.is_some() || args.manifest.is_some() || args.signatures.is_some() {
        return Err(Failure::input(
            "usage",
            anyhow!(
                "docker:// images are fetched from the registry; --identity, --manifest and --signatures do not apply"
            ),
        ));
    }
    let policy_path = resolve_policy(args.policy.as_deref())?;
    let policy = load_policy(&policy_path)?;
    let mut inputs = super::io::image_inputs(&images, args.from_file.as_deref())?.peekable();
    if inputs.peek().is_none() {
        return Err(Failure::input("usage", anyhow!("--from-file lists no images")));
    }
    let net = Network::new(&args.registry)?;
    let json = format == OutputFormat::Json;

    let mut summary = SummaryLine {
        schema_version: REGISTRY_SCHEMA_VERSION,
        command: "verify",
        mode: "registry",
        summary: true,
        verdict: "accepted",
        policy: policy_path.display().to_string(),
        tally: Tally::default(),
    };
    loop {
        let mut chunk: Vec<String> = Vec::with_capacity(CHUNK);
        for input in inputs.by_ref() {
            chunk.push(input?);
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let next = AtomicUsize::new(0);
        let slots: Vec<std::sync::Mutex<Option<ImageResult>>> =
            (0..chunk.len()).map(|_| std::sync::Mutex::new(None)).collect();
        std::thread::scope(|s| {
            for _ in 0..WORKERS.min(chunk.len()) {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = chunk.get(i) else { break };
                    let r = verify_one(&net, &policy_path, &policy, input, args.all_platforms);
                    // One image's report in one piece.
                    eprint!("{}", r.human);
                    *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                });
            }
        });
        let mut out = String::new();
        for r in slots
            .into_iter()
            .filter_map(|slot| slot.into_inner().unwrap_or_else(|e| e.into_inner()))
        {
            summary.tally.add(r.exit);
            if json {
                let line = ImageLine {
                    schema_version: REGISTRY_SCHEMA_VERSION,
                    command: "verify",
                    mode: "registry",
                    index: summary.tally.images,
                    input: &r.input,
                    verdict: r.exit.verdict(),
                    exit_code: r.exit as u8,
                    verified_reference: r.verified.first().map(String::as_str),
                    decisions: &r.docs,
                    error: r.error.as_ref().map(|(code, message)| ErrorJson { code, message }),
                };
                out.push_str(&serde_json::to_string(&line).unwrap_or_default());
                out.push('\n');
            } else if r.exit == Exit::Ok {
                for v in &r.verified {
                    out.push_str(v);
                    out.push('\n');
                }
            }
        }
        let _ = write_stdout(out.as_bytes());
    }
    let exit = summary.tally.exit;
    if summary.tally.images > 1 {
        eprintln!("{}", summary.tally.human());
    }
    if json {
        summary.verdict = if exit == Exit::Ok { "accepted" } else { "rejected" };
        let _ = write_stdout(format!("{}\n", serde_json::to_string(&summary).unwrap_or_default()).as_bytes());
    }
    Ok(exit)
}
