//! `imgsig policy check` and `imgsig policy explain`.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::anyhow;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::inputs::load_policy;
use super::output::{print_json, SCHEMA_VERSION};
use super::{Exit, Failure, OutputFormat};
use crate::shown::shown;
use imgsig::policy::identity::describe;
use imgsig::policy::{lint::lint, ImageRef, Requirement};
use imgsig::reference::DockerReference;
use imgsig::Reason;

pub const EXAMPLES: &str = "EXAMPLES:
  # Validate and lint a policy (exit 0 clean, 1 findings, 2 invalid)
  imgsig policy check /etc/containers/policy.json

  # Which scope and requirements apply to an image, and why
  imgsig policy explain --policy /etc/containers/policy.json registry.example.com/ns/app:1.0
  imgsig policy explain --policy policy.json dir:/srv/images/app";

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one run (or for
// help, completions and man pages): building them all cost a one-shot verify
// about 7 % of its instructions (docs/performance.md).
#[command(defer = true)]
pub enum PolicyCommand {
    /// Validate a policy file and report likely mistakes
    #[command(after_help = EXAMPLES)]
    Check(CheckArgs),
    /// Show which scope and requirements apply to an image, and why
    #[command(after_help = EXAMPLES)]
    Explain(ExplainArgs),
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The policy file (containers-policy.json)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The policy file. Default: $HOME/.config/containers/policy.json, then /etc/containers/policy.json
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// The image: a docker reference (optionally docker://…), dir:PATH, oci:PATH[:TAG] or oci-archive:FILE[:TAG]
    #[arg(value_name = "REF")]
    pub image: String,
}

pub fn run(args: PolicyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    match args.command {
        PolicyCommand::Check(a) => check(a, format),
        PolicyCommand::Explain(a) => explain(a, format),
    }
}

#[derive(Debug, Serialize)]
struct FindingJson {
    code: Reason,
    path: String,
    message: String,
    hint: String,
}

#[derive(Debug, Serialize)]
struct CheckDoc {
    schema_version: u32,
    command: &'static str,
    policy: String,
    valid: bool,
    findings: Vec<FindingJson>,
}

fn check(args: CheckArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let policy = load_policy(&args.file)?;
    let findings = lint(&policy, SystemTime::now());
    for f in &findings {
        eprintln!(
            "imgsig: {}: {} [{}]\n  hint: {}",
            shown(&f.path),
            shown(&f.message),
            f.code,
            f.hint
        );
    }
    if findings.is_empty() {
        eprintln!("imgsig: {} is valid; no findings", shown(&args.file));
    } else {
        eprintln!(
            "imgsig: {} is valid, with {} finding(s)",
            shown(&args.file),
            findings.len()
        );
    }
    if format == OutputFormat::Json {
        print_json(&CheckDoc {
            schema_version: SCHEMA_VERSION,
            command: "policy check",
            policy: args.file.display().to_string(),
            valid: true,
            findings: findings
                .iter()
                .map(|f| FindingJson {
                    code: f.code,
                    path: f.path.clone(),
                    message: f.message.clone(),
                    hint: f.hint.clone(),
                })
                .collect(),
        });
    }
    Ok(if findings.is_empty() { Exit::Ok } else { Exit::No })
}

/// Parse an image argument: `dir:PATH`, `oci:PATH[:TAG]`, `oci-archive:FILE[:TAG]`,
/// `docker://REF` or a bare reference.
pub fn parse_image(s: &str) -> Result<ImageRef, Failure> {
    if imgsig::oci::is_oci(s) {
        let r = imgsig::oci::OciReference::parse(s).map_err(super::sign_oci::oci_failure)?;
        return Ok(ImageRef::Oci {
            transport: r.transport,
            path: r.resolved,
        });
    }
    if let Some(e) = imgsig::oci::unsupported_transport(s) {
        return Err(super::sign_oci::oci_failure(e));
    }
    if let Some(p) = s.strip_prefix("dir:") {
        let abs = std::path::absolute(p).map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("{s}: {e}")))?;
        return Ok(ImageRef::Dir(abs));
    }
    let r = s.strip_prefix("docker://").unwrap_or(s);
    DockerReference::parse_docker_transport(r)
        .map(ImageRef::Docker)
        .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("{s:?}: {e}")))
}

#[derive(Debug, Serialize)]
struct ExplainDoc {
    schema_version: u32,
    command: &'static str,
    policy: String,
    image: String,
    transport: &'static str,
    scopes_tried: Vec<String>,
    matched: String,
    requirements: Vec<ExplainRequirement>,
}

#[derive(Debug, Serialize)]
struct ExplainRequirement {
    index: usize,
    #[serde(rename = "type")]
    type_name: &'static str,
    description: String,
    needs: String,
}

fn needs(req: &Requirement, image: &ImageRef) -> String {
    match req {
        Requirement::InsecureAcceptAnything => "nothing: any image is accepted, signed or not".into(),
        Requirement::Reject => "impossible: the image is always rejected".into(),
        Requirement::SignedBaseLayer => "impossible: signedBaseLayer is not implemented".into(),
        Requirement::SigstoreSigned(ss) => format!("a sigstore signature {}", ss.describe_trust()),
        Requirement::SignedBy(sb) => {
            let keys = sb.keys.keyring.fingerprints();
            let keys = if !sb.keys.errors.is_empty() {
                format!("(keys unusable: {})", sb.keys.errors.join("; "))
            } else if keys.is_empty() {
                "(no keys)".to_owned()
            } else {
                keys.join(" or ")
            };
            format!(
                "one signature by {keys} for the manifest's digest, where {}",
                describe(&sb.signed_identity, image.docker_reference())
            )
        }
    }
}

fn explain(args: ExplainArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let image = parse_image(&args.image)?;
    let path = match args.policy {
        Some(p) => p,
        None => super::inputs::resolve_policy(None)?,
    };
    let policy = load_policy(&path)?;
    let (scope, reqs) = policy.requirements_for(&image);
    // The explanation is the command's output: stdout, for a script or a pager.
    // With --output json the document is, and the text goes to stderr for people.
    let mut text = String::new();
    {
        use std::fmt::Write as _;
        let t = &mut text;
        let _ = writeln!(t, "policy {}", shown(&path));
        let _ = writeln!(t, "image {image} (transport {})", image.transport());
        let _ = writeln!(t, "scopes tried, most specific first: {}", scope.tried_quoted());
        let _ = writeln!(
            t,
            "matched {}; scopes are never merged, so only these apply:",
            scope.describe()
        );
        for (i, r) in reqs.iter().enumerate() {
            let _ = writeln!(t, "  {}. {}", i + 1, r.describe());
            let _ = writeln!(t, "     needs {}", needs(r, &image));
        }
        let _ = writeln!(t, "all {} requirement(s) must hold", reqs.len());
    }
    if format == OutputFormat::Json {
        for line in text.lines() {
            eprintln!("imgsig: {line}");
        }
    } else {
        let _ = super::io::write_stdout(text.as_bytes());
    }
    if format == OutputFormat::Json {
        print_json(&ExplainDoc {
            schema_version: SCHEMA_VERSION,
            command: "policy explain",
            policy: path.display().to_string(),
            image: image.to_string(),
            transport: image.transport(),
            scopes_tried: scope.tried.clone(),
            matched: scope.describe(),
            requirements: reqs
                .iter()
                .enumerate()
                .map(|(i, r)| ExplainRequirement {
                    index: i + 1,
                    type_name: r.type_name(),
                    description: r.describe(),
                    needs: needs(r, &image),
                })
                .collect(),
        });
    }
    Ok(Exit::Ok)
}
