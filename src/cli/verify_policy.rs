//! `imgsig verify` with a containers-policy.json: load the policy (keys
//! once), gather the image's manifest and signatures, evaluate, report.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::anyhow;
use serde::Serialize;

use super::io::{read_limited, write_stdout};
use super::output::{print_json, SCHEMA_VERSION};
use super::report::{Checked, SignatureJson};
use super::verify::{read_manifest, read_signature_args, read_signature_dir, VerifyArgs};
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::digest::Digest;
use crate::policy::{self, Decision, ImageRef, ParseOptions, Policy, Requirement, SignatureInput, Subject};
use crate::reference::DockerReference;

const MAX_POLICY_SIZE: usize = 16 * 1024 * 1024;

/// Where containers looks for the policy when none is named: the user's
/// file if it exists, else the system file (never merged).
pub fn default_policy_path(home: Option<&Path>) -> Result<PathBuf, Failure> {
    let user = home.map(|h| h.join(".config/containers/policy.json"));
    if let Some(u) = &user {
        if u.exists() {
            return Ok(u.clone());
        }
    }
    let system = PathBuf::from("/etc/containers/policy.json");
    if system.exists() {
        return Ok(system);
    }
    Err(Failure::input(
        "no-policy",
        anyhow!(
            "no policy.json file found at any of the following: {}{:?} (give one with --policy FILE, or use --keyring)",
            user.map(|u| format!("{:?}, ", u.display().to_string()))
                .unwrap_or_default(),
            system.display().to_string()
        ),
    ))
}

/// Read and compile a policy file; every problem is reported with its JSON
/// path and line:column (exit 2).
pub fn load_policy(path: &Path) -> Result<Policy, Failure> {
    let bytes = read_limited("policy", &FileArg::Path(path.to_path_buf()), MAX_POLICY_SIZE)?;
    let opts = ParseOptions {
        source: Some(path.to_path_buf()),
    };
    policy::parse(&bytes, &opts)
        .map_err(|e| Failure::input("invalid-policy", anyhow!("invalid policy {}:\n{e}", path.display())))
}

pub fn resolve_policy(explicit: Option<&Path>) -> Result<PathBuf, Failure> {
    match explicit {
        Some(p) => Ok(p.to_path_buf()),
        None => default_policy_path(std::env::var_os("HOME").map(PathBuf::from).as_deref()),
    }
}

/// The image, its manifest digest, its signatures and where they came from.
pub struct Gathered {
    pub image: ImageRef,
    pub digest: Result<Digest, String>,
    pub signatures: Vec<SignatureInput>,
    pub looked_in: String,
    /// The registry client already checked the reference's digest (or the
    /// manifest is an instance of the list that digest names).
    pub reference_digest_checked: bool,
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure::input("usage", anyhow!("{}", msg.into()))
}

fn docker_image(identity: &str) -> Result<ImageRef, Failure> {
    DockerReference::parse_docker_transport(identity)
        .map(ImageRef::Docker)
        .map_err(|e| Failure::input("invalid-reference", anyhow!("--identity {identity:?}: {e}")))
}

fn gather_dir(dir: &str, identity: Option<&str>) -> Result<Gathered, Failure> {
    let path = std::fs::canonicalize(dir).map_err(|e| Failure::input("unreadable-input", anyhow!("dir:{dir}: {e}")))?;
    if !path.is_dir() {
        return Err(Failure::input(
            "unreadable-input",
            anyhow!("dir:{dir} is not a directory"),
        ));
    }
    let manifest = FileArg::Path(path.join("manifest.json"));
    let (_, digest) = read_manifest(&manifest)?;
    let signatures = read_signature_dir(&path)?;
    let image = match identity {
        Some(id) => docker_image(id)?,
        None => ImageRef::Dir(path.clone()),
    };
    Ok(Gathered {
        image,
        digest,
        signatures,
        looked_in: format!("{}/signature-N", path.display()),
        reference_digest_checked: false,
    })
}

fn gather_files(args: &VerifyArgs) -> Result<Gathered, Failure> {
    let identity = args.identity.as_deref().ok_or_else(|| {
        usage("give --identity REF --manifest FILE with signature files or --signatures DIR, or a dir:PATH image")
    })?;
    let manifest = args
        .manifest
        .as_deref()
        .map(FileArg::from)
        .ok_or_else(|| usage("--identity needs --manifest FILE (or give a dir:PATH image)"))?;
    let sources = usize::from(!args.inputs.is_empty())
        + usize::from(args.signatures.is_some())
        + usize::from(args.registry.lookaside.is_some());
    if sources > 1 {
        return Err(usage(
            "give one source of signatures: files, --signatures DIR or --lookaside URL|DIR",
        ));
    }
    let image = docker_image(identity)?;
    let (_, digest) = read_manifest(&manifest)?;
    let (signatures, looked_in) = match &args.signatures {
        None if args.inputs.is_empty() && args.registry.lookaside.is_some() => {
            // Offline from a lookaside (e.g. a mirror written by `imgsig fetch`).
            let ImageRef::Docker(r) = &image else {
                unreachable!("docker image")
            };
            let d = digest
                .as_ref()
                .map_err(|e| Failure::input("invalid-manifest", anyhow!("manifest {manifest}: {e}")))?;
            let base = super::online::lookaside_url(args.registry.lookaside.as_deref().unwrap_or_default())?;
            let client = crate::registry::client::Registries::new(crate::registry::client::Options::default())
                .map_err(|e| Failure::outside(e.code(), anyhow!("{e}")))?;
            let sigs = client
                .lookaside_signatures(&base, r, d)
                .map_err(|e| Failure::outside(e.code(), anyhow!("{e}\nhint: {}", e.hint())))?;
            let looked = crate::store::lookaside::signature_url(&base, r, d, 1)
                .to_string()
                .replace("signature-1", "signature-N");
            let sigs = sigs
                .into_iter()
                .map(|s| SignatureInput {
                    source: s.source,
                    blob: s.blob.map_err(|why| crate::signature::Rejection {
                        code: "signature-too-large",
                        message: why,
                        signer: None,
                    }),
                })
                .collect();
            (sigs, looked)
        }
        Some(dir) => (read_signature_dir(dir)?, format!("{}/signature-N", dir.display())),
        None if args.inputs.is_empty() => (Vec::new(), "no signature files were given".to_owned()),
        None => (
            read_signature_args(&args.inputs, &manifest)?,
            format!("{} signature file(s) given", args.inputs.len()),
        ),
    };
    Ok(Gathered {
        image,
        digest,
        signatures,
        looked_in,
        reference_digest_checked: false,
    })
}

fn gather(args: &VerifyArgs) -> Result<Gathered, Failure> {
    let dir_image = match args.inputs.as_slice() {
        [one] => one.to_str().and_then(|s| s.strip_prefix("dir:")).map(str::to_owned),
        _ => None,
    };
    match dir_image {
        Some(dir) => {
            if args.manifest.is_some() || args.signatures.is_some() {
                return Err(usage(
                    "a dir:PATH image carries its own manifest.json and signatures; drop --manifest/--signatures",
                ));
            }
            gather_dir(&dir, args.identity.as_deref())
        }
        None => {
            if args.inputs.iter().any(|i| i.to_string_lossy().starts_with("dir:")) {
                return Err(usage("give one dir:PATH image per call"));
            }
            gather_files(args)
        }
    }
}

pub fn run(args: VerifyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    // Check the arguments before reading anything.
    let gathered = gather(&args)?;
    let policy_path = resolve_policy(args.policy.as_deref())?;
    let policy = load_policy(&policy_path)?;
    let outcome = decide(&policy_path, &policy, &gathered)?;
    eprint!("{}", outcome.human);
    match format {
        OutputFormat::Json => print_json(&outcome.doc),
        OutputFormat::Human => {
            if let Some(v) = &outcome.verified {
                let _ = write_stdout(format!("{v}\n").as_bytes());
            }
        }
    }
    Ok(if outcome.accepted { Exit::Ok } else { Exit::No })
}

/// The result of evaluating one image.
pub struct Outcome {
    pub accepted: bool,
    /// `name@digest` to pull, when accepted.
    pub verified: Option<String>,
    pub doc: PolicyDoc,
    /// The report for people (printed by the caller, in one piece).
    pub human: String,
}

/// Evaluate `policy` for one gathered image and print the human report
/// (stderr). A reference by digest must name this manifest, as
/// containers/image checks before any policy processing.
pub fn decide(policy_path: &Path, policy: &Policy, gathered: &Gathered) -> Result<Outcome, Failure> {
    if let (ImageRef::Docker(r), Ok(d), false) = (&gathered.image, &gathered.digest, gathered.reference_digest_checked)
    {
        if let Some(want) = r.digest() {
            if want != d {
                return Err(Failure::no(
                    "manifest-digest-mismatch",
                    anyhow!("the manifest's digest is {d}, but the image reference names {want}"),
                ));
            }
        }
    }
    let subject = Subject {
        image: &gathered.image,
        manifest_digest: gathered.digest.as_ref().map_err(String::as_str),
        signatures: &gathered.signatures,
        looked_in: &gathered.looked_in,
        now: SystemTime::now(),
    };
    let decision = policy::evaluate(policy, &subject);
    let verified = match (&gathered.image, &gathered.digest) {
        (ImageRef::Docker(r), Ok(d)) if decision.accepted => Some(format!("{}@{d}", r.name())),
        _ => None,
    };
    let human = render_human(policy_path, gathered, &decision, verified.as_deref());
    let doc = decision_json(policy_path, gathered, &decision, verified.clone());
    Ok(Outcome {
        accepted: decision.accepted,
        verified,
        doc,
        human,
    })
}

/// One line describing a requirement, e.g.
/// `signedBy GPGKeys keyPath=/k.gpg, signedIdentity matchRepoDigestOrExact`.
pub fn describe_requirement(req: &Requirement) -> String {
    match req {
        Requirement::SignedBy(sb) => {
            let keys = match &sb.key_source {
                policy::KeySource::Path { resolved, .. } => format!("keyPath {}", resolved.display()),
                policy::KeySource::Paths(ps) => format!(
                    "keyPaths [{}]",
                    ps.iter()
                        .map(|(_, p)| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                policy::KeySource::Data => "keyData".to_owned(),
            };
            format!(
                "signedBy {} {keys} ({} key(s): {}), signedIdentity {}",
                sb.key_type.as_str(),
                sb.keys.keyring.len(),
                sb.keys.keyring.fingerprints().join(", "),
                sb.signed_identity.type_name()
            )
        }
        other => other.type_name().to_owned(),
    }
}

fn render_human(policy_path: &Path, g: &Gathered, d: &Decision, verified: Option<&str>) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let digest = match &g.digest {
        Ok(d) => d.to_string(),
        Err(e) => format!("(unusable: {e})"),
    };
    let _ = writeln!(out, "imgsig: policy {}", policy_path.display());
    let _ = writeln!(
        out,
        "imgsig: image {} (manifest {digest}), {} signature(s)",
        g.image,
        g.signatures.len()
    );
    let _ = writeln!(
        out,
        "imgsig: scope {} (tried: {})",
        d.scope.describe(),
        d.scope.tried_quoted()
    );
    let n = d.requirements.len();
    for r in &d.requirements {
        let desc = describe_requirement(&r.requirement);
        match &r.result {
            Ok(()) => drop(writeln!(out, "imgsig: requirement {}/{n} {desc}: accepted", r.index)),
            Err(e) => drop(writeln!(
                out,
                "imgsig: requirement {}/{n} {desc}: rejected [{}]: {}",
                r.index, e.code, e.message
            )),
        }
        let total = r.signatures.len();
        for s in &r.signatures {
            let c = Checked {
                index: s.index,
                source: &s.source,
                opened: s.opened.as_ref(),
                result: &s.result,
            };
            let _ = writeln!(out, "imgsig:   {}", c.human(total));
        }
    }
    if d.accepted {
        match verified {
            Some(v) => drop(writeln!(
                out,
                "imgsig: ACCEPTED: {} by {}; pull {v}",
                g.image,
                d.scope.describe()
            )),
            None => drop(writeln!(out, "imgsig: ACCEPTED: {} by {}", g.image, d.scope.describe())),
        }
    } else {
        let failed: Vec<String> = d
            .requirements
            .iter()
            .filter(|r| r.result.is_err())
            .map(|r| format!("requirement {} ({})", r.index, r.requirement.type_name()))
            .collect();
        let _ = writeln!(
            out,
            "imgsig: REJECTED: {} by {}: {} not satisfied",
            g.image,
            d.scope.describe(),
            failed.join(", ")
        );
    }
    out
}

#[derive(Debug, Serialize)]
pub struct PolicyDoc {
    schema_version: u32,
    command: &'static str,
    mode: &'static str,
    verdict: &'static str,
    policy: String,
    image: String,
    transport: &'static str,
    identity: Option<String>,
    manifest_digest: Option<String>,
    manifest_error: Option<String>,
    verified_reference: Option<String>,
    scope: ScopeJson,
    requirements: Vec<RequirementJson>,
    signatures: Vec<SourceJson>,
}

#[derive(Debug, Serialize)]
struct ScopeJson {
    matched: String,
    transport: Option<String>,
    scope: Option<String>,
    tried: Vec<String>,
}

#[derive(Debug, Serialize)]
struct RequirementJson {
    index: usize,
    #[serde(rename = "type")]
    type_name: &'static str,
    description: String,
    verdict: &'static str,
    reason: Option<&'static str>,
    message: Option<String>,
    signatures: Vec<SignatureJson>,
}

#[derive(Debug, Serialize)]
struct SourceJson {
    index: usize,
    source: String,
}

fn decision_json(policy_path: &Path, g: &Gathered, d: &Decision, verified: Option<String>) -> PolicyDoc {
    PolicyDoc {
        schema_version: SCHEMA_VERSION,
        command: "verify",
        mode: "policy",
        verdict: if d.accepted { "accepted" } else { "rejected" },
        policy: policy_path.display().to_string(),
        image: g.image.to_string(),
        transport: g.image.transport(),
        identity: g.image.docker_reference().map(|r| r.to_string()),
        manifest_digest: g.digest.as_ref().ok().map(|d| d.to_string()),
        manifest_error: g.digest.as_ref().err().cloned(),
        verified_reference: verified,
        scope: ScopeJson {
            matched: d.scope.describe(),
            transport: d.scope.entry.as_ref().map(|(t, _)| t.clone()),
            scope: d.scope.entry.as_ref().map(|(_, s)| s.clone()),
            tried: d.scope.tried.clone(),
        },
        requirements: d
            .requirements
            .iter()
            .map(|r| RequirementJson {
                index: r.index,
                type_name: r.requirement.type_name(),
                description: describe_requirement(&r.requirement),
                verdict: if r.result.is_ok() { "accepted" } else { "rejected" },
                reason: r.result.as_ref().err().map(|e| e.code),
                message: r.result.as_ref().err().map(|e| e.message.clone()),
                signatures: r
                    .signatures
                    .iter()
                    .map(|s| {
                        Checked {
                            index: s.index,
                            source: &s.source,
                            opened: s.opened.as_ref(),
                            result: &s.result,
                        }
                        .to_json("accepted by this requirement")
                    })
                    .collect(),
            })
            .collect(),
        signatures: g
            .signatures
            .iter()
            .enumerate()
            .map(|(i, s)| SourceJson {
                index: i + 1,
                source: s.source.clone(),
            })
            .collect(),
    }
}
