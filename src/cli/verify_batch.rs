//! `imgsig verify` over many images: registry images (`docker://REF…`, or
//! `--from-file` lines) and bulk mirror verification (`--lookaside DIR
//! --from-file LIST` of `name@digest` lines). Both stream the list in
//! chunks through the library's ordered concurrent helper: every image goes
//! through the same pipeline as a single one, reports come out in input
//! order, memory stays bounded, the exit code is the worst image's.

use std::io::Write;
use std::path::Path;

use anyhow::anyhow;

use super::framing::{Framing, Summary};
use super::inputs::verify_failure;
use super::progress::Progress;
use super::verify_render::{decisive_reason, policy_human};
use super::{Exit, Failure, OutputFormat, Tally};
use crate::shown::Lines;
use imgsig::policy::Decision;
use imgsig::reference::DockerReference;
use imgsig::store::registries_d::RegistriesD;
use imgsig::verify::{
    configured_mirror, DocumentTrust, ErrorClass, ImageDocument, ImageSource, Report, Request, SignatureSource,
    Verifier,
};
use imgsig::Reason;
use serde::Serialize;

/// Where the images come from.
pub enum Batch<'a> {
    /// `docker://REF` images from the registry: at most this many at once
    /// (one shared connection pool per registry).
    Registry,
    /// Images in a mirror (read as a `file:` lookaside too), named
    /// `name@digest`, or `name:tag` resolved through the mirror's tag records.
    /// `reports`: a whole report per image for people (`verify --offline
    /// docker://…`), else one line per image not accepted (bulk form).
    Mirror { root: MirrorAt<'a>, reports: bool },
}

/// Where a batch's mirror is.
pub enum MirrorAt<'a> {
    /// `--lookaside DIR`: one mirror for every image.
    Dir(&'a Path),
    /// `--offline` without `--lookaside`: each image's `file://` lookaside in registries.d.
    RegistriesD(&'a RegistriesD),
}

/// Registry images verified at the same time.
const REGISTRY_WORKERS: usize = 8;
/// Images verified together before their reports are written.
const REGISTRY_CHUNK: usize = 256;
const MIRROR_CHUNK: usize = 1024;

/// One image's outcome, rendered in the worker (which never writes to the
/// terminal itself: the caller holds stderr while a chunk is emitted).
struct Item {
    /// Warnings for the run's stderr (mirror form: each printed once per run).
    warnings: Vec<String>,
    exit: Exit,
    verified: Option<String>,
    human: String,
    /// The image document (docs/json-output.md) as framed for stdout.
    json: Option<String>,
}

/// One image of the list: its position among the images (from 1), its line
/// in the list (for people), and the text.
struct Input {
    index: usize,
    /// `None` for a command-line argument (only a list's lines are lines).
    line: Option<usize>,
    text: String,
}

/// Run a batch. `inputs` yields (line number in the list, or `None` for an argument; text).
pub fn run(
    verifier: &Verifier<'_>,
    policy_path: &Path,
    batch: Batch<'_>,
    inputs: impl Iterator<Item = Result<(Option<usize>, String), Failure>>,
    list: Option<&Path>,
    format: OutputFormat,
) -> Result<Exit, Failure> {
    // Whether one image or several were named decides the framing: look at two.
    let mut inputs = inputs;
    let first: Vec<_> = inputs.by_ref().take(2).collect();
    if first.is_empty() {
        return Err(match list {
            Some(file) => super::inputs::empty_list(file),
            None => Failure::input(Reason::Usage, anyhow!("no images given")),
        });
    }
    let framing = Framing::new(format, first.len() > 1);
    let mut inputs = first.into_iter().chain(inputs);
    let json = format == OutputFormat::Json;
    let form = DocumentTrust::Policy(policy_path);
    let (workers, chunk_size) = match batch {
        Batch::Registry => (REGISTRY_WORKERS, REGISTRY_CHUNK),
        Batch::Mirror { .. } => (
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            MIRROR_CHUNK,
        ),
    };
    if let Batch::Mirror {
        root: MirrorAt::Dir(root),
        reports: false,
    } = &batch
    {
        eprintln!("imgsig: policy {}; mirror {}", policy_path.display(), root.display());
    }
    // The list is streamed: how many images it holds is not known up front.
    let progress = Progress::new(None, format);
    let mut tally = Tally::default();
    let mut warned = std::collections::HashSet::new();
    let mut index = 0;
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    loop {
        let mut chunk: Vec<Input> = Vec::with_capacity(chunk_size);
        for l in inputs.by_ref() {
            let (line, text) = l?;
            index += 1;
            chunk.push(Input { index, line, text });
            if chunk.len() == chunk_size {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
        let mut err = std::io::BufWriter::new(stderr.lock());
        let item = |input: &Input, outcome| one(&form, policy_path, &batch, input, outcome, framing);
        verifier.verify_each(
            &chunk,
            workers,
            |input| request(&batch, &input.text).map_err(|f| item(input, Err(f))),
            |input, outcome| item(input, outcome.map_err(verify_failure)),
            |it: Item| {
                tally.add(it.exit);
                let mut text = String::new();
                for w in it.warnings {
                    if warned.insert(w.clone()) {
                        text.push_str(&format!("imgsig: warning: {w}\n"));
                    }
                }
                text.push_str(&it.human);
                // The list line and the messages built from it reach the terminal
                // escaped (the safety net for every string in the report).
                let text = Lines(&text).to_string();
                let data = match (it.json, &it.verified) {
                    (Some(j), _) => Some(j),
                    (None, Some(v)) if !json => Some(format!("{v}\n")),
                    (None, _) => None,
                };
                let write = |out: &mut dyn Write, err: &mut dyn Write, flush: bool| {
                    let _ = err.write_all(text.as_bytes());
                    if let Some(d) = &data {
                        let _ = out.write_all(d.as_bytes());
                    }
                    if flush {
                        let _ = out.flush();
                        let _ = err.flush();
                    }
                };
                if progress.is_on() {
                    // At once and with the bar out of the way (stdout may be the terminal too).
                    progress.suspend(|| write(&mut out, &mut err, true));
                } else {
                    write(&mut out, &mut err, false);
                }
                progress.done(&format!(
                    "images: {} accepted, {} rejected, {} could not be verified",
                    tally.accepted, tally.rejected, tally.failed
                ));
            },
        );
        let _ = out.flush();
        let _ = err.flush();
    }
    progress.clear();
    let exit = tally.exit;
    // The closing count on stderr, as sign and fetch end theirs, however many images.
    eprintln!("{}", tally.human());
    framing.summary(&summary(&form, tally));
    Ok(exit)
}

/// verify's own counts in the summary line after the image documents of a
/// multi-image run (the image documents are the library's; the tally is this run's).
#[derive(Debug, Serialize)]
struct VerifyCounts {
    mode: &'static str,
    policy: Option<String>,
    /// `failed` when any image could not be verified, else `rejected` when
    /// any was rejected, else `accepted`: the same precedence as the exit
    /// code (the worst image's).
    verdict: &'static str,
    accepted: usize,
    rejected: usize,
}

fn summary(form: &DocumentTrust<'_>, tally: Tally) -> Summary<VerifyCounts> {
    let counts = VerifyCounts {
        mode: form.mode(),
        policy: form.policy(),
        verdict: tally.exit.verdict(),
        accepted: tally.accepted,
        rejected: tally.rejected,
    };
    Summary::new("verify", tally.exit, tally.images, tally.failed, counts)
}

fn request(batch: &Batch<'_>, input: &str) -> Result<Request, Failure> {
    let invalid = |m: String| Failure::input(Reason::InvalidReference, anyhow!("{m}"));
    if let Some(e) = imgsig::oci::unsupported_transport(input) {
        return Err(super::sign_oci::oci_failure(e));
    }
    if imgsig::oci::is_oci(input) {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("oci: images are verified one per call (imgsig verify … {input}), not in a list"),
        ));
    }
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
            let root = match root {
                MirrorAt::Dir(root) => root.to_path_buf(),
                MirrorAt::RegistriesD(d) => configured_mirror(d, &r).map_err(verify_failure)?.root,
            };
            Ok(Request {
                image: ImageSource::Mirror { root, reference: r },
                signatures: SignatureSource::MirrorImage,
            })
        }
    }
}

/// What one list line or image came to, rendered (on a worker thread).
fn one(
    form: &DocumentTrust<'_>,
    policy_path: &Path,
    batch: &Batch<'_>,
    input: &Input,
    outcome: Result<Report, Failure>,
    framing: Framing,
) -> Item {
    let Input { index, line, text } = input;
    let (index, line, input) = (*index, *line, text.as_str());
    match outcome {
        Ok(report) => {
            let exit = if report.accepted { Exit::Ok } else { Exit::No };
            let human = match (batch, &report.rejection) {
                // Rejected as a whole before any decision (no instance for this
                // platform, a registry serving other bytes): the reason, and what to do.
                (Batch::Registry | Batch::Mirror { reports: true, .. }, Some(r)) if report.checks.is_empty() => {
                    let hint = super::output::hint_for(r.code)
                        .map(|h| format!("hint: {h}\n"))
                        .unwrap_or_default();
                    format!("{}{hint}", policy_human(policy_path, &report))
                }
                (Batch::Registry | Batch::Mirror { reports: true, .. }, _) => {
                    let hint = super::verify_render::after_decision_hint(&report)
                        .map(|h| format!("hint: {h}\n"))
                        .unwrap_or_default();
                    format!("{}{hint}", policy_human(policy_path, &report))
                }
                (Batch::Mirror { .. }, _) => mirror_human(line, input, &report),
            };
            let human = format!("{}{human}", mirror_note(batch, &report));
            let json = framing.image_text(&report.to_json_document(form, index, input));
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
                Batch::Mirror { .. } => format!("imgsig: {}: NOT VERIFIED: [{}] {message}\n", at(line, input), f.code),
            };
            let class = match f.exit {
                Exit::Outside => ErrorClass::Outside,
                Exit::No => ErrorClass::Rejected,
                Exit::Input | Exit::Ok => ErrorClass::Input,
            };
            let json = framing.image_text(&ImageDocument::failed(
                form,
                index,
                input,
                class,
                super::output::error_document(&f),
            ));
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

/// Which mirror an image was read from when registries.d chose it (the
/// image document's `manifests[].looked_in` names its directory too).
fn mirror_note(batch: &Batch<'_>, report: &Report) -> String {
    let Batch::Mirror {
        root: MirrorAt::RegistriesD(d),
        ..
    } = batch
    else {
        return String::new();
    };
    match report.image.docker_reference().map(|r| (r, configured_mirror(d, r))) {
        Some((r, Ok(m))) => format!(
            "imgsig: {r}: read from the mirror {}, the registries.d lookaside {} ({})\n",
            m.root.display(),
            m.url,
            m.configured_in
        ),
        _ => String::new(),
    }
}

fn decisions(report: &Report) -> impl Iterator<Item = (Option<String>, &Decision)> {
    let multi = report.checks.len() > 1 || report.checks.iter().any(|c| c.role != imgsig::verify::Role::Image);
    report
        .checks
        .iter()
        .filter_map(move |c| Some((multi.then(|| c.role.describe()), c.judgement.policy()?)))
}

/// A mirror image's report for people: nothing when accepted (the summary
/// counts it), one line naming every failed requirement otherwise.
fn mirror_human(line: Option<usize>, input: &str, report: &Report) -> String {
    if report.accepted {
        return String::new();
    }
    let mut why = Vec::new();
    let mut decisive = Vec::new();
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
                // What decided first (as every form says it), then the requirement's detail.
                if let Some(d) = decisive_reason(q) {
                    decisive.push(format!("{d}{of}"));
                }
                why.push(format!("requirement {}{of} [{}]: {}", q.index, e.code, e.message));
            }
        }
    }
    decisive.dedup();
    decisive.extend(why);
    format!("imgsig: {}: REJECTED: {}\n", at(line, input), decisive.join("; "))
}

/// `line N: INPUT` for a list's line, `INPUT` for an argument.
fn at(line: Option<usize>, input: &str) -> String {
    match line {
        Some(n) => format!("line {n}: {input}"),
        None => input.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_verdict_precedence_failed_rejected_accepted() {
        let form = DocumentTrust::Policy(Path::new("p.json"));
        let v = |exits: &[Exit]| {
            let mut t = Tally::default();
            for e in exits {
                t.add(*e);
            }
            summary(&form, t).counts.verdict
        };
        assert_eq!(v(&[Exit::Ok, Exit::Ok]), "accepted");
        assert_eq!(v(&[Exit::Ok, Exit::No]), "rejected");
        // An outage is not a rejection: nothing said no.
        assert_eq!(v(&[Exit::Outside]), "failed");
        assert_eq!(v(&[Exit::No, Exit::Input, Exit::Ok]), "failed");
        assert_eq!(v(&[Exit::No, Exit::Outside]), "failed");
    }
}
