//! `imgsig verify` over many images: registry images (`docker://REF…`, or
//! `--from-file` lines) and bulk mirror verification (`--lookaside DIR
//! --from-file LIST` of `name@digest` lines). Both stream the list in
//! chunks through the library's ordered concurrent helper: every image goes
//! through the same pipeline as a single one, reports come out in input
//! order, memory stays bounded, the exit code is the worst image's.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;

use super::inputs::verify_failure;
use super::output::SCHEMA_VERSION;
use super::verify_render::{check_docs, policy_human, ErrorJson, PolicyDoc};
use super::{Exit, Failure, OutputFormat, Tally};
use imgsig::policy::{Decision, SignatureResult};
use imgsig::reference::DockerReference;
use imgsig::verify::{for_each_ordered, ImageSource, Judgement, Report, Request, SignatureSource, Verifier};

/// Where the images come from.
pub enum Batch<'a> {
    /// `docker://REF` images from the registry: at most this many at once
    /// (one shared connection pool per registry).
    Registry,
    /// Images in the mirror `root` (read as a `file:` lookaside too), named
    /// `name@digest`, or `name:tag` resolved through the mirror's tag records.
    /// `reports`: a whole report per image for people (`verify --offline
    /// docker://…`), else one line per image not accepted (bulk form).
    Mirror { root: &'a Path, reports: bool },
}

/// Registry images verified at the same time.
const REGISTRY_WORKERS: usize = 8;
/// Images verified together before their reports are written.
const REGISTRY_CHUNK: usize = 256;
const MIRROR_CHUNK: usize = 1024;

/// The registry mode's schema: 2 since its output became JSON Lines (one line per
/// image, then a summary) instead of one document (schema 1).
const REGISTRY_SCHEMA_VERSION: u32 = 2;

/// One image's outcome, rendered in the worker (which never writes to the
/// terminal itself: the caller holds stderr while a chunk is emitted).
struct Item {
    /// Warnings for the run's stderr (mirror form: each printed once per run).
    warnings: Vec<String>,
    exit: Exit,
    verified: Option<String>,
    human: String,
    json: Option<String>,
}

/// Run a batch. `inputs` yields (line number, text).
pub fn run(
    verifier: &Verifier<'_>,
    policy_path: &Path,
    batch: Batch<'_>,
    inputs: impl Iterator<Item = Result<(usize, String), Failure>>,
    format: OutputFormat,
) -> Result<Exit, Failure> {
    let mut inputs = inputs.peekable();
    if inputs.peek().is_none() {
        return Err(Failure::input("usage", anyhow!("--from-file lists no images")));
    }
    let json = format == OutputFormat::Json;
    let (workers, chunk_size) = match batch {
        Batch::Registry => (REGISTRY_WORKERS, REGISTRY_CHUNK),
        Batch::Mirror { .. } => (
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            MIRROR_CHUNK,
        ),
    };
    if let Batch::Mirror { root, reports: false } = &batch {
        eprintln!("imgsig: policy {}; mirror {}", policy_path.display(), root.display());
    }
    let mut tally = Tally::default();
    let mut warned = std::collections::HashSet::new();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let mut chunk: Vec<(usize, String)> = Vec::with_capacity(chunk_size);
        for l in inputs.by_ref() {
            chunk.push(l?);
            if chunk.len() == chunk_size {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        let mut err = std::io::BufWriter::new(stderr.lock());
        for_each_ordered(
            &chunk,
            workers,
            |(n, input)| one(verifier, policy_path, &batch, *n, input, json),
            |it: Item| {
                tally.add(it.exit);
                for w in it.warnings {
                    if warned.insert(w.clone()) {
                        let _ = writeln!(err, "imgsig: warning: {w}");
                    }
                }
                let _ = err.write_all(it.human.as_bytes());
                if let Some(j) = &it.json {
                    let _ = writeln!(out, "{j}");
                } else if let Some(v) = &it.verified {
                    let _ = writeln!(out, "{v}");
                }
            },
        );
        let _ = out.flush();
        let _ = err.flush();
    }
    let exit = tally.exit;
    if matches!(batch, Batch::Mirror { .. }) || tally.images > 1 {
        eprintln!("{}", tally.human());
    }
    if json {
        let summary = match batch {
            Batch::Registry => serde_json::to_string(&RegistrySummary {
                schema_version: REGISTRY_SCHEMA_VERSION,
                command: "verify",
                mode: "registry",
                summary: true,
                verdict: if exit == Exit::Ok { "accepted" } else { "rejected" },
                policy: policy_path.display().to_string(),
                tally,
            }),
            Batch::Mirror { .. } => serde_json::to_string(&MirrorSummary {
                schema_version: SCHEMA_VERSION,
                command: "verify",
                summary: true,
                tally,
            }),
        };
        let _ = writeln!(stdout.lock(), "{}", summary.unwrap_or_default());
    }
    Ok(exit)
}

fn request(batch: &Batch<'_>, input: &str) -> Result<Request, Failure> {
    let invalid = |m: String| Failure::input("invalid-reference", anyhow!("{m}"));
    match batch {
        Batch::Registry => {
            let text = input.strip_prefix("docker://").unwrap_or(input);
            let r = DockerReference::parse_docker_transport(text).map_err(|e| invalid(format!("{input:?}: {e}")))?;
            Ok(Request {
                image: ImageSource::Registry(r),
                signatures: SignatureSource::Configured,
            })
        }
        Batch::Mirror { root, .. } => {
            let r = match input.strip_prefix("docker://") {
                Some(text) => DockerReference::parse_docker_transport(text),
                None => DockerReference::parse_normalized(input),
            }
            .map_err(|e| invalid(e.to_string()))?;
            if r.digest().is_none() && r.tag().is_none() {
                return Err(invalid(
                    "name the image by digest (name@sha256:…) or by a tag the mirror recorded (name:tag)".into(),
                ));
            }
            if r.tag().is_some() && r.digest().is_some() {
                return Err(invalid("give name@digest or name:tag, not both".into()));
            }
            Ok(Request {
                image: ImageSource::Mirror {
                    root: root.to_path_buf(),
                    reference: r,
                },
                signatures: SignatureSource::MirrorImage,
            })
        }
    }
}

fn one(verifier: &Verifier<'_>, policy_path: &Path, batch: &Batch<'_>, line: usize, input: &str, json: bool) -> Item {
    let outcome = request(batch, input).and_then(|req| verifier.verify(&req).map_err(verify_failure));
    // An image rejected as a whole before any decision (no instance for this
    // platform, a registry serving other bytes) is reported like an error, exit 1.
    let outcome = match outcome {
        Ok(r) if r.checks.is_empty() => match &r.rejection {
            Some(rej) => Err(Failure::no(rej.code, anyhow!("{}", rej.message))),
            None => Ok(r),
        },
        other => other,
    };
    match outcome {
        Ok(report) => {
            let exit = if report.accepted { Exit::Ok } else { Exit::No };
            let human = match batch {
                Batch::Registry => policy_human(policy_path, &report),
                Batch::Mirror { reports: true, .. } => policy_human(policy_path, &report),
                Batch::Mirror { .. } => mirror_human(line, input, &report),
            };
            let json = json.then(|| match batch {
                Batch::Registry => {
                    let docs = check_docs(policy_path, &report);
                    registry_line(line, input, exit, report.verified_reference.as_deref(), &docs, None)
                }
                Batch::Mirror { .. } => mirror_line(line, input, exit, Ok(&report)),
            });
            Item {
                warnings: match batch {
                    Batch::Mirror { reports: false, .. } => report.warnings.clone(),
                    Batch::Mirror { reports: true, .. } => Vec::new(),
                    // The registry form's report for people already names them.
                    Batch::Registry => Vec::new(),
                },
                exit,
                verified: report.verified_reference.clone(),
                human,
                json,
            }
        }
        Err(f) => {
            let message = format!("{:#}", f.error);
            let hint = super::output::hint_for(f.code)
                .map(|h| format!("hint: {h}\n"))
                .unwrap_or_default();
            let human = match batch {
                Batch::Registry => format!("imgsig: {input}: {message}\n{hint}"),
                Batch::Mirror { .. } => format!(
                    "imgsig: line {line}: {input}: {}: [{}] {message}\n",
                    label(f.exit),
                    f.code
                ),
            };
            let error = ErrorJson { code: f.code, message };
            let json = json.then(|| match batch {
                Batch::Registry => registry_line(line, input, f.exit, None, &[], Some(&error)),
                Batch::Mirror { .. } => mirror_line(line, input, f.exit, Err(&error)),
            });
            Item {
                warnings: Vec::new(),
                exit: f.exit,
                verified: None,
                human,
                json,
            }
        }
    }
}

fn label(exit: Exit) -> &'static str {
    if exit == Exit::No {
        "REJECTED"
    } else {
        "NOT VERIFIED"
    }
}

/// One registry JSON line per image.
#[derive(Serialize)]
struct RegistryLine<'a> {
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
    error: Option<&'a ErrorJson>,
}

#[derive(Serialize)]
struct RegistrySummary {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    summary: bool,
    verdict: &'static str,
    policy: String,
    #[serde(flatten)]
    tally: Tally,
}

fn registry_line(
    index: usize,
    input: &str,
    exit: Exit,
    verified: Option<&str>,
    decisions: &[PolicyDoc],
    error: Option<&ErrorJson>,
) -> String {
    serde_json::to_string(&RegistryLine {
        schema_version: REGISTRY_SCHEMA_VERSION,
        command: "verify",
        mode: "registry",
        index,
        input,
        verdict: exit.verdict(),
        exit_code: exit as u8,
        verified_reference: verified,
        decisions,
        error,
    })
    .unwrap_or_default()
}

/// One mirror JSON line per list line.
#[derive(Serialize)]
struct MirrorLine<'a> {
    schema_version: u32,
    command: &'static str,
    line: usize,
    input: &'a str,
    verdict: &'static str,
    exit_code: u8,
    verified_reference: Option<&'a str>,
    manifest_digest: Option<String>,
    scope: Option<String>,
    requirements: Vec<ReqLine>,
    error: Option<&'a ErrorJson>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct ReqLine {
    index: usize,
    #[serde(rename = "type")]
    type_name: &'static str,
    verdict: &'static str,
    reason: Option<&'static str>,
    message: Option<String>,
    signatures: Vec<SigLine>,
    /// For a multi-platform image: which manifest this requirement judged.
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<String>,
}

#[derive(Serialize)]
struct SigLine {
    index: usize,
    source: String,
    verdict: &'static str,
    reason: Option<&'static str>,
    /// Why it was rejected (names the key), when it was.
    message: Option<String>,
    signer: Option<String>,
}

#[derive(Serialize)]
struct MirrorSummary {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    #[serde(flatten)]
    tally: Tally,
}

fn sig_line(s: &SignatureResult) -> SigLine {
    SigLine {
        index: s.index,
        source: s.source.clone(),
        verdict: if s.result.is_ok() { "accepted" } else { "rejected" },
        reason: s.result.as_ref().err().map(|e| e.code),
        message: s.result.as_ref().err().map(|e| e.message.clone()),
        signer: s
            .opened
            .as_ref()
            .map(|o| o.signer.primary_fingerprint.clone())
            .or_else(|| {
                s.result
                    .as_ref()
                    .err()
                    .and_then(|e| e.signer.as_ref())
                    .map(|g| g.primary_fingerprint.clone())
            }),
    }
}

fn decisions(report: &Report) -> impl Iterator<Item = (Option<String>, &Decision)> {
    let multi = report.checks.len() > 1 || report.checks.iter().any(|c| c.role != imgsig::verify::Role::Image);
    report.checks.iter().filter_map(move |c| match &c.judgement {
        Judgement::Policy(d) => Some((multi.then(|| c.role.describe()), d)),
        Judgement::Keyring(_) => None,
    })
}

/// One mirror JSON line: the image's report, or the error that stopped it.
fn mirror_line(line: usize, input: &str, exit: Exit, outcome: Result<&Report, &ErrorJson>) -> String {
    let mut requirements = Vec::new();
    let mut scope = None;
    let report = outcome.ok();
    for (manifest, d) in report.into_iter().flat_map(decisions) {
        scope.get_or_insert_with(|| d.scope.describe());
        if let Some(e) = &d.image_error {
            requirements.push(ReqLine {
                index: 0,
                type_name: "image",
                verdict: "rejected",
                reason: Some(e.code),
                message: Some(e.message.clone()),
                signatures: Vec::new(),
                manifest: manifest.clone(),
            });
        }
        for q in &d.requirements {
            requirements.push(ReqLine {
                index: q.index,
                type_name: q.requirement.type_name(),
                verdict: if q.result.is_ok() { "accepted" } else { "rejected" },
                reason: q.result.as_ref().err().map(|e| e.code),
                message: q.result.as_ref().err().map(|e| e.message.clone()),
                signatures: q.signatures.iter().map(sig_line).collect(),
                manifest: manifest.clone(),
            });
        }
    }
    serde_json::to_string(&MirrorLine {
        schema_version: SCHEMA_VERSION,
        command: "verify",
        line,
        input,
        verdict: exit.verdict(),
        exit_code: exit as u8,
        verified_reference: report.and_then(|r| r.verified_reference.as_deref()),
        manifest_digest: report
            .and_then(|r| r.manifest_digest.as_ref().ok())
            .map(|d| d.to_string()),
        scope,
        requirements,
        error: outcome.err(),
        warnings: report.map(|r| r.warnings.clone()).unwrap_or_default(),
    })
    .unwrap_or_default()
}

/// A mirror image's report for people: nothing when accepted (the summary
/// counts it), one line naming every failed requirement otherwise.
fn mirror_human(line: usize, input: &str, report: &Report) -> String {
    if report.accepted {
        return String::new();
    }
    let mut why = Vec::new();
    if let Some(r) = &report.rejection {
        why.push(format!("[{}] {}", r.code, r.message));
    }
    for (manifest, d) in decisions(report) {
        let of = manifest.map(|m| format!(" ({m})")).unwrap_or_default();
        if let Some(e) = &d.image_error {
            why.push(format!("[{}]{of}: {}", e.code, e.message));
        }
        for q in &d.requirements {
            if let Err(e) = &q.result {
                why.push(format!("requirement {}{of} [{}]: {}", q.index, e.code, e.message));
            }
        }
    }
    format!("imgsig: line {line}: {input}: REJECTED: {}\n", why.join("; "))
}
