//! Bulk offline verification of a mirror:
//! `imgsig verify --policy P --lookaside DIR --from-file LIST`, where LIST
//! holds one image reference per line pinned by digest
//! (`host/repo@sha256:…`) and DIR is a mirror in the layout `imgsig fetch`
//! writes (`DIR/<repo>@sha256=<hex>/manifest.json` + `signature-N`).
//!
//! The policy and its keys are loaded once; LIST is streamed in chunks, each
//! chunk verified on all cores and reported in input order, so memory stays
//! bounded however long LIST is.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use serde::Serialize;

use super::output::SCHEMA_VERSION;
use super::{Exit, Failure, OutputFormat, Tally};
use crate::manifest;
use crate::policy::{self, ImageRef, Policy, SignatureInput, Subject};
use crate::reference::DockerReference;
use crate::signature::Rejection;
use crate::store::lookaside;

/// Lines verified together before their reports are written.
const CHUNK: usize = 1024;

struct Item {
    line: usize,
    input: String,
    exit: Exit,
    verified: Option<String>,
    /// Short reason for people, when not accepted.
    why: String,
    json: Option<String>,
}

#[derive(Serialize)]
struct LineDoc<'a> {
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
    error: Option<ErrLine<'a>>,
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
struct ErrLine<'a> {
    code: &'static str,
    message: &'a str,
}

#[derive(Serialize)]
struct SummaryDoc {
    schema_version: u32,
    command: &'static str,
    summary: bool,
    #[serde(flatten)]
    tally: Tally,
}

fn fail(line: usize, input: &str, exit: Exit, code: &'static str, message: String, json: bool) -> Item {
    let doc = json.then(|| {
        serde_json::to_string(&LineDoc {
            schema_version: SCHEMA_VERSION,
            command: "verify",
            line,
            input,
            verdict: exit.verdict(),
            exit_code: exit as u8,
            verified_reference: None,
            manifest_digest: None,
            scope: None,
            requirements: Vec::new(),
            error: Some(ErrLine {
                code,
                message: &message,
            }),
        })
        .unwrap_or_default()
    });
    Item {
        line,
        input: input.to_owned(),
        exit,
        verified: None,
        why: format!("[{code}] {message}"),
        json: doc,
    }
}

fn verify_line(policy: &Policy, root: &Path, line: usize, input: &str, now: SystemTime, json: bool) -> Item {
    let r = match DockerReference::parse_normalized(input) {
        Ok(r) => r,
        Err(e) => return fail(line, input, Exit::Input, "invalid-reference", e.to_string(), json),
    };
    let Some(want) = r.digest().cloned() else {
        return fail(
            line,
            input,
            Exit::Input,
            "invalid-reference",
            "the reference is not pinned by digest (name@sha256:…)".into(),
            json,
        );
    };
    if r.tag().is_some() {
        return fail(
            line,
            input,
            Exit::Input,
            "invalid-reference",
            "give name@digest without a tag".into(),
            json,
        );
    }
    let dir = lookaside::image_dir(root, &r, &want);
    let mpath = dir.join("manifest.json");
    let image_dir = match lookaside::ImageDir::open(&dir) {
        Ok(d) => d,
        Err(e) => {
            let m = format!(
                "{} is missing from the mirror: cannot open {}: {e}",
                mpath.display(),
                dir.display()
            );
            return fail(line, input, Exit::Input, "missing-manifest", m, json);
        }
    };
    let bytes = match lookaside_read_manifest(&image_dir, &mpath) {
        Ok(b) => b,
        Err(m) => return fail(line, input, Exit::Input, "missing-manifest", m, json),
    };
    let digest = manifest::manifest_digest(&bytes).map_err(|e| e.to_string());
    if let Ok(d) = &digest {
        if *d != want {
            return fail(
                line,
                input,
                Exit::No,
                "manifest-digest-mismatch",
                format!("{} hashes to {d}, not {want}", mpath.display()),
                json,
            );
        }
    }
    let sigs = match image_dir.signatures() {
        Ok(s) => s,
        Err(e) => return fail(line, input, Exit::Outside, "lookaside-error", e.to_string(), json),
    };
    let signatures: Vec<SignatureInput> = sigs
        .into_iter()
        .map(|s| SignatureInput {
            source: s.path.display().to_string(),
            blob: s.contents.map_err(|e| Rejection {
                code: "signature-too-large",
                message: e.to_string(),
                signer: None,
            }),
        })
        .collect();
    let image = ImageRef::Docker(r);
    let looked_in = format!("{}/signature-N", dir.display());
    let subject = Subject {
        image: &image,
        manifest_digest: digest.as_ref().map_err(String::as_str),
        signatures: &signatures,
        looked_in: &looked_in,
        now,
    };
    let decision = policy::evaluate(policy, &subject);
    let verified = match (&image, &digest) {
        (ImageRef::Docker(r), Ok(d)) if decision.accepted => Some(format!("{}@{d}", r.name())),
        _ => None,
    };
    let why = decision
        .requirements
        .iter()
        .filter_map(|q| {
            q.result
                .as_ref()
                .err()
                .map(|e| format!("requirement {} [{}]: {}", q.index, e.code, e.message))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let exit = if decision.accepted { Exit::Ok } else { Exit::No };
    let doc = json.then(|| {
        serde_json::to_string(&LineDoc {
            schema_version: SCHEMA_VERSION,
            command: "verify",
            line,
            input,
            verdict: if decision.accepted { "accepted" } else { "rejected" },
            exit_code: exit as u8,
            verified_reference: verified.as_deref(),
            manifest_digest: digest.as_ref().ok().map(|d| d.to_string()),
            scope: Some(decision.scope.describe()),
            requirements: decision
                .requirements
                .iter()
                .map(|q| ReqLine {
                    index: q.index,
                    type_name: q.requirement.type_name(),
                    verdict: if q.result.is_ok() { "accepted" } else { "rejected" },
                    reason: q.result.as_ref().err().map(|e| e.code),
                    message: q.result.as_ref().err().map(|e| e.message.clone()),
                    signatures: q
                        .signatures
                        .iter()
                        .map(|s| SigLine {
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
                        })
                        .collect(),
                })
                .collect(),
            error: None,
        })
        .unwrap_or_default()
    });
    Item {
        line,
        input: input.to_owned(),
        exit,
        verified,
        why,
        json: doc,
    }
}

fn lookaside_read_manifest(dir: &lookaside::ImageDir, path: &Path) -> Result<Vec<u8>, String> {
    let limit = super::sign::MAX_MANIFEST_SIZE;
    match dir.read("manifest.json", limit as u64) {
        Ok(Some(Ok(bytes))) => Ok(bytes),
        Ok(Some(Err(_))) => Err(format!("{} is larger than the {limit}-byte limit", path.display())),
        Ok(None) => Err(format!("{} is missing from the mirror", path.display())),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Run the bulk form. `root` is the mirror directory.
pub fn run(
    policy_path: &Path,
    policy: &Policy,
    root: PathBuf,
    list: &Path,
    format: OutputFormat,
) -> Result<Exit, Failure> {
    let mut lines = super::io::list_lines(list)?.peekable();
    if lines.peek().is_none() {
        return Err(Failure::input("usage", anyhow!("--from-file lists no images")));
    }
    let json = format == OutputFormat::Json;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .max(1);
    let now = SystemTime::now();
    let mut summary = SummaryDoc {
        schema_version: SCHEMA_VERSION,
        command: "verify",
        summary: true,
        tally: Tally::default(),
    };
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    eprintln!("imgsig: policy {}; mirror {}", policy_path.display(), root.display());
    loop {
        let mut chunk: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
        for l in lines.by_ref() {
            chunk.push(l?);
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let per = chunk.len().div_ceil(workers);
        let results: Vec<Item> = std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .chunks(per)
                .map(|part| {
                    let root = &root;
                    s.spawn(move || {
                        part.iter()
                            .map(|(n, input)| verify_line(policy, root, *n, input, now, json))
                            .collect::<Vec<Item>>()
                    })
                })
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
        });
        // One write per chunk, not per line.
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        let mut err = std::io::BufWriter::new(stderr.lock());
        for it in &results {
            summary.tally.add(it.exit);
            if let Some(j) = &it.json {
                let _ = writeln!(out, "{j}");
            } else if let Some(v) = &it.verified {
                let _ = writeln!(out, "{v}");
            }
            if it.exit != Exit::Ok {
                let label = if it.exit == Exit::No {
                    "REJECTED"
                } else {
                    "NOT VERIFIED"
                };
                let _ = writeln!(err, "imgsig: line {}: {}: {label}: {}", it.line, it.input, it.why);
            }
        }
    }
    eprintln!("{}", summary.tally.human());
    if json {
        let _ = writeln!(stdout.lock(), "{}", serde_json::to_string(&summary).unwrap_or_default());
    }
    Ok(summary.tally.exit)
}
