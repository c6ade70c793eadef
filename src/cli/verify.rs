//! `imgsig verify`: check an image's signatures.
//!
//! Two forms, one pipeline ([`imgsig::verify`]):
//! - policy (default): a containers-policy.json decides, as skopeo, podman
//!   and CRI-O would;
//! - keyring (`--keyring`): accepted when at least one signature is valid,
//!   made by a key in the keyrings, for the manifest's digest and for the
//!   expected identity (equal after normalisation, as
//!   `skopeo standalone-verify` checks).
//!
//! This file only turns arguments into checked requests (every
//! contradiction is refused before any I/O), calls the library and hands
//! the report to `verify_render` / `verify_batch`.

use std::ffi::OsString;
use std::path::PathBuf;

use anyhow::anyhow;

use super::inputs::{load_keyrings, load_policy, read_manifest, resolve_policy, verify_failure};
use super::io::write_stdout;
use super::net::{lookaside_url, network};
use super::output::print_json;
pub use super::verify_args::VerifyArgs;
use super::verify_batch::{self, Batch, MirrorAt};
use super::verify_render::{after_decision_hint, keyring_human, policy_human};
use super::{Exit, Failure, FileArg, OutputFormat};
use imgsig::digest::Digest;
use imgsig::reference::DockerReference;
use imgsig::registry::network::Network;
use imgsig::verify::{
    dir_image_path, DocumentTrust, ImageDocument, ImageSource, Options, Request, SignatureFile, SignatureSource, Trust,
    Verifier,
};
use imgsig::Reason;

pub const EXAMPLES: &str = "EXAMPLES:
  # Decide with a policy file, as podman and CRI-O would
  imgsig verify --policy policy.json --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json signature-1 signature-2

  # A skopeo dir: image (manifest.json + signature-N)
  imgsig verify --policy policy.json dir:/srv/images/app

  # An image a build wrote (OCI layout), judged as the registry image it will be pushed as
  imgsig verify --policy policy.json --identity registry.example.com/ns/app:1.0 \\
      --lookaside /srv/sigstore oci:build/app:1.0

  # Signatures stored as DIR/signature-1, DIR/signature-2, …
  imgsig verify --policy policy.json --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json --signatures sigs/

  # No policy: accept one signature by a key in signer.pub that names this image
  imgsig verify --keyring signer.pub --identity registry.example.com/ns/app:1.0 \\
      --manifest manifest.json signature-1

  # The digest instead of the manifest (as sign takes it), signatures from a directory
  imgsig verify --keyring signer.pub --identity registry.example.com/ns/app:1.0 \\
      --digest sha256:<64 hex> --signatures sigs/

  # JSON for scripts (exit code 0 accepted, 1 rejected): one document for one
  # image; JSON Lines ending with a summary for several
  imgsig verify --output json --policy policy.json --identity example.com/app:1.0 \\
      --manifest m.json sig

  # Air-gapped: by tag, from a mirror written by `imgsig fetch`, no network
  imgsig verify --offline --policy policy.json --lookaside /media/usb/mirror \\
      docker://registry.example.com/ns/app:1.0

  # Pull exactly what was verified
  ref=$(imgsig verify --keyring k.gpg --identity example.com/app:1.0 --manifest m.json sig) \\
      && podman pull \"$ref\"";

/// What the arguments ask for, checked before anything is read.
enum Form {
    /// `--lookaside DIR --from-file LIST`: name@digest images in a mirror.
    Bulk { root: PathBuf, list: PathBuf },
    /// docker:// images (arguments and/or --from-file).
    Registry { images: Vec<String> },
    /// `--offline` docker:// images (arguments and/or --from-file), read from
    /// the mirror `root` (`--lookaside`), else each from its registries.d `file://` lookaside.
    OfflineMirror { root: Option<PathBuf>, images: Vec<String> },
    /// One image from local files.
    Single,
}

fn usage(msg: &str) -> Failure {
    Failure::input(Reason::Usage, anyhow!("{msg}"))
}

fn form(args: &VerifyArgs) -> Result<Form, Failure> {
    super::verify_oci::unsupported(&args.inputs)?;
    let docker: Vec<String> = args
        .inputs
        .iter()
        .map(|i| i.to_string_lossy().into_owned())
        .filter(|i| i.starts_with("docker://"))
        .collect();
    let local_lookaside = args.registry.lookaside.as_deref().filter(|l| !l.contains("://"));
    if let (Some(list), Some(root), true) = (&args.list.from_file, local_lookaside, docker.is_empty()) {
        if !args.inputs.is_empty()
            || args.identity.is_some()
            || args.manifest.is_some()
            || args.digest.is_some()
            || !args.keyring.is_empty()
        {
            return Err(usage(
                "bulk verification (--from-file with --lookaside DIR) takes no image arguments, --identity, --manifest, --digest or --keyring",
            ));
        }
        return Ok(Form::Bulk {
            root: PathBuf::from(root),
            list: list.clone(),
        });
    }
    if !docker.is_empty() || args.list.from_file.is_some() {
        if docker.len() != args.inputs.len() {
            return Err(usage("give either docker://REF images or local files, not both"));
        }
        if !args.keyring.is_empty() {
            return Err(usage(
                "docker:// images are verified with a policy; --keyring does not apply",
            ));
        }
        if args.identity.is_some() || args.manifest.is_some() || args.digest.is_some() || args.signatures.is_some() {
            return Err(usage(
                "docker:// images are fetched from the registry; --identity, --manifest, --digest and --signatures do not apply",
            ));
        }
        if args.offline.offline {
            let root = offline_mirror(args)?;
            return Ok(Form::OfflineMirror { root, images: docker });
        }
        return Ok(Form::Registry { images: docker });
    }
    Ok(Form::Single)
}

/// The mirror an `--offline` verify of docker:// images reads: `--lookaside`
/// as a local directory (a path or `file://`), never a URL that needs the
/// network; `None` without `--lookaside`: each image's registries.d lookaside
/// ([`imgsig::verify::configured_mirror`], `file://` only).
fn offline_mirror(args: &VerifyArgs) -> Result<Option<PathBuf>, Failure> {
    let Some(l) = args.registry.lookaside.as_deref() else {
        return Ok(None);
    };
    let url = lookaside_url(l)?;
    if url.scheme() != "file" {
        return Err(offline_refused(&format!("the lookaside {}", url)));
    }
    url.to_file_path().map(Some).map_err(|()| {
        Failure::input(
            Reason::InvalidLookaside,
            anyhow!("--lookaside {l:?}: not a local directory"),
        )
    })
}

/// `--offline` and a source that needs the network.
fn offline_refused(what: &str) -> Failure {
    Failure::input(
        Reason::OfflineNetworkRequired,
        anyhow!("--offline: {what} needs the network, and --offline opens no socket; use a local mirror or files"),
    )
}

/// Whether `path` names this process's standard input.
fn is_stdin(path: &std::path::Path) -> bool {
    ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]
        .iter()
        .any(|p| path == std::path::Path::new(p))
}

pub fn run(args: VerifyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    // stdin can be read once: by one of these at most.
    // (`-` means stdin for --from-file and --manifest; any path can name it.)
    let dash = |p: Option<&std::path::Path>| p.is_some_and(|p| p == std::path::Path::new("-") || is_stdin(p));
    let readers: Vec<&str> = [
        ("--from-file", dash(args.list.from_file.as_deref())),
        ("--manifest", dash(args.manifest.as_deref().map(std::path::Path::new))),
        ("--policy", args.policy.as_deref().is_some_and(is_stdin)),
    ]
    .into_iter()
    .chain(args.keyring.iter().map(|k| ("--keyring", is_stdin(k))))
    .filter(|(_, reads)| *reads)
    .map(|(flag, _)| flag)
    .collect();
    if let [first, second, ..] = readers.as_slice() {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("stdin can be read only once, but both {first} and {second} name it"),
        ));
    }
    let options = Options {
        all_platforms: args.all_platforms,
        require_signature: args.require_signature,
        ..Options::default()
    };
    match form(&args)? {
        Form::Bulk { root, list } => {
            let root = MirrorAt::Dir(&root);
            let policy_path = resolve_policy(args.policy.as_deref())?;
            let trust = Trust::Policy(load_policy(&policy_path)?);
            let verifier = Verifier::new(&trust, None, options);
            let lines = super::io::list_lines(&list)?.map(|l| l.map(|(n, s)| (Some(n), s)));
            verify_batch::run(
                &verifier,
                &policy_path,
                Batch::Mirror { root, reports: false },
                lines,
                Some(&list),
                format,
            )
        }
        Form::OfflineMirror { root, images } => {
            let policy_path = resolve_policy(args.policy.as_deref())?;
            let trust = Trust::Policy(load_policy(&policy_path)?);
            let numbered = labelled_inputs(&images, args.list.from_file.as_deref())?;
            // No network object at all: nothing below can open a socket. Without
            // --lookaside only registries.d is read from the network configuration.
            let verifier = Verifier::new(&trust, None, options);
            let configured = match &root {
                Some(_) => None,
                None => Some(network(&args.registry)?),
            };
            let root = match (&root, &configured) {
                (Some(dir), _) => MirrorAt::Dir(dir),
                (None, Some(net)) => MirrorAt::RegistriesD(net.registries_d()),
                (None, None) => unreachable!("a network configuration was made for registries.d"),
            };
            let batch = Batch::Mirror { root, reports: true };
            verify_batch::run(
                &verifier,
                &policy_path,
                batch,
                numbered,
                args.list.from_file.as_deref(),
                format,
            )
        }
        Form::Registry { images } => {
            let policy_path = resolve_policy(args.policy.as_deref())?;
            let trust = Trust::Policy(load_policy(&policy_path)?);
            let numbered = labelled_inputs(&images, args.list.from_file.as_deref())?;
            let net = network(&args.registry)?;
            let verifier = Verifier::new(&trust, Some(&net), options);
            verify_batch::run(
                &verifier,
                &policy_path,
                Batch::Registry,
                numbered,
                args.list.from_file.as_deref(),
                format,
            )
        }
        Form::Single if args.keyring.is_empty() => run_policy(args, options, format),
        Form::Single => run_keyring(args, options, format),
    }
}

/// The image arguments (no line number: they are not lines), then the
/// `--from-file` list's entries with their line numbers.
fn labelled_inputs<'a>(
    images: &'a [String],
    list: Option<&'a std::path::Path>,
) -> Result<impl Iterator<Item = Result<(Option<usize>, String), Failure>> + 'a, Failure> {
    let listed = list.map(super::io::list_lines).transpose()?.into_iter().flatten();
    Ok(images
        .iter()
        .cloned()
        .map(|s| Ok((None, s)))
        .chain(listed.map(|l| l.map(|(n, s)| (Some(n), s)))))
}

/// `--identity` for the keyring form: normalised, compared exactly.
pub fn parse_identity(s: &str) -> Result<DockerReference, Failure> {
    DockerReference::parse_normalized(s)
        .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("--identity {s:?}: {e}")))
}

/// `--identity` for the policy form: a docker transport reference.
fn docker_identity(identity: &str) -> Result<DockerReference, Failure> {
    DockerReference::parse_docker_transport(identity)
        .map_err(|e| Failure::input(Reason::InvalidReference, anyhow!("--identity {identity:?}: {e}")))
}

/// Signature files named on the command line (`-` is stdin, read here).
fn signature_files(inputs: &[OsString], manifest: Option<&FileArg>) -> Result<Vec<SignatureFile>, Failure> {
    let mut out = Vec::with_capacity(inputs.len());
    for s in inputs {
        out.push(match FileArg::from(s.as_os_str()) {
            FileArg::Std => {
                if manifest == Some(&FileArg::Std) {
                    return Err(Failure::input(
                        Reason::ConflictingFlags,
                        anyhow!("stdin cannot be both the manifest and a signature"),
                    ));
                }
                SignatureFile::Bytes {
                    name: "-".into(),
                    bytes: super::io::read_limited("signature", &FileArg::Std, crate::limits::MAX_SIGNATURE_SIZE)?,
                }
            }
            FileArg::Path(p) => SignatureFile::Path(p),
        });
    }
    Ok(out)
}

/// A request for one image from local files, and the network it needs (if any).
fn single_request(args: &VerifyArgs) -> Result<(Request, Option<Network>), Failure> {
    if let Some(oci) = super::verify_oci::image_arg(&args.inputs)? {
        return super::verify_oci::request(args, oci);
    }
    let dir_image = match args.inputs.as_slice() {
        [one] => one.to_str().and_then(|s| s.strip_prefix("dir:")).map(str::to_owned),
        _ => None,
    };
    if let Some(dir) = dir_image {
        if args.manifest.is_some() || args.digest.is_some() || args.signatures.is_some() {
            return Err(usage(
                "a dir:PATH image carries its own manifest.json and signatures; drop --manifest/--digest/--signatures",
            ));
        }
        let identity = args.identity.as_deref().map(docker_identity).transpose()?;
        let path = dir_image_path(&dir).map_err(verify_failure)?;
        return Ok((
            Request {
                image: ImageSource::Dir { path, identity },
                signatures: SignatureSource::DirImage,
            },
            None,
        ));
    }
    if args.inputs.iter().any(|i| i.to_string_lossy().starts_with("dir:")) {
        return Err(usage("give one dir:PATH image per call"));
    }
    let identity = args.identity.as_deref().ok_or_else(|| {
        usage("give --identity REF --manifest FILE with signature files or --signatures DIR, or a dir:PATH image")
    })?;
    // Checked before any I/O: a digest given instead of a manifest file.
    let digest = args
        .digest
        .as_deref()
        .map(|d| Digest::parse(d).map_err(|e| Failure::input(Reason::InvalidDigest, anyhow!("--digest: {e}"))))
        .transpose()?;
    let manifest = match (&args.manifest, &digest) {
        (Some(m), _) => Some(FileArg::from(m.as_os_str())),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(usage(
                "--identity needs --manifest FILE or --digest ALGO:HEX (or give a dir:PATH image)",
            ))
        }
    };
    let sources = usize::from(!args.inputs.is_empty())
        + usize::from(args.signatures.is_some())
        + usize::from(args.registry.lookaside.is_some());
    if sources > 1 {
        return Err(usage(
            "give one source of signatures: files, --signatures DIR or --lookaside URL|DIR",
        ));
    }
    let identity = if args.keyring.is_empty() {
        docker_identity(identity)?
    } else {
        parse_identity(identity)?
    };
    let files = signature_files(&args.inputs, manifest.as_ref())?;
    let (signatures, net) = match (&args.signatures, &args.registry.lookaside) {
        (Some(dir), _) => (SignatureSource::Directory(dir.clone()), None),
        (None, Some(l)) => {
            let url = lookaside_url(l)?;
            if url.scheme() != "file" && args.offline.offline {
                return Err(offline_refused(&format!("the lookaside {}", url)));
            }
            let net = (url.scheme() != "file").then(|| network(&args.registry)).transpose()?;
            (SignatureSource::Lookaside(url), net)
        }
        // Offline, registries.d's lookaside is usable only when it is local.
        (None, None) if files.is_empty() && args.offline.offline => {
            let net = network(&args.registry)?;
            let url = net
                .configured_lookaside(&identity)
                .map_err(super::net::network_failure)?
                .ok_or_else(|| verify_failure(imgsig::verify::no_signature_source(&identity)))?;
            if url.scheme() != "file" {
                return Err(offline_refused(&format!(
                    "the registries.d lookaside {} of {identity}",
                    url
                )));
            }
            // The network configuration is dropped unused: the verifier gets none.
            (SignatureSource::Lookaside(url), None)
        }
        // No files, directory or lookaside: where registries.d says (else a usage error).
        (None, None) if files.is_empty() => (SignatureSource::Configured, Some(network(&args.registry)?)),
        (None, None) => (SignatureSource::Files(files), None),
    };
    let image = match (manifest, digest) {
        (Some(manifest), _) => ImageSource::Manifest {
            bytes: read_manifest(&manifest)?,
            identity,
            origin: manifest.to_string(),
        },
        (None, Some(digest)) => ImageSource::Digest { digest, identity },
        (None, None) => unreachable!("checked above"),
    };
    Ok((Request { image, signatures }, net))
}

fn run_policy(args: VerifyArgs, options: Options, format: OutputFormat) -> Result<Exit, Failure> {
    let (request, net) = single_request(&args)?;
    let policy_path = resolve_policy(args.policy.as_deref())?;
    let trust = Trust::Policy(load_policy(&policy_path)?);
    let verifier = Verifier::new(&trust, net.as_ref(), options);
    let report = verifier.verify(&request).map_err(|e| single_failure(&args, e))?;
    let form = DocumentTrust::Policy(&policy_path);
    if let (Some(r), true) = (&report.rejection, report.checks.is_empty()) {
        // Rejected as a whole before any decision: the reason, and what to do.
        eprintln!("imgsig: {}", r.message);
        if let Some(hint) = super::output::hint_for(r.code) {
            eprintln!("hint: {hint}");
        }
    } else {
        // The report carries the warnings.
        eprint!("{}", policy_human(&policy_path, &report));
        if let Some(hint) = after_decision_hint(&report) {
            eprintln!("hint: {hint}");
        }
    }
    if dir_without_identity_failed(&report) {
        eprintln!(
            "hint: a dir: image has no docker reference of its own; give --identity REF to judge it as that image"
        );
    }
    render(format, &report, || {
        report.to_json_document(&form, 1, &single_input(&args))
    });
    Ok(if report.accepted { Exit::Ok } else { Exit::No })
}

/// A library error about the one image of `args`: for an `oci:`/`oci-archive:` image whose
/// instances' signatures cannot be in `--signatures DIR`, the hint says what works for a layout.
fn single_failure(args: &VerifyArgs, e: imgsig::verify::VerifyError) -> Failure {
    let f = verify_failure(e);
    let oci = args.inputs.iter().any(|i| imgsig::oci::is_oci(&i.to_string_lossy()));
    if oci && f.code == Reason::InstanceSignaturesUnavailable {
        f.with_hint(super::output::OCI_INSTANCE_SIGNATURES_HINT)
    } else {
        f
    }
}

/// The image as given, for the document's `input`: the `dir:PATH` argument,
/// the `--manifest` file, or the `--digest`.
fn single_input(args: &VerifyArgs) -> String {
    match (args.inputs.as_slice(), &args.manifest, &args.digest) {
        ([one], _, _) if one.to_string_lossy().starts_with("dir:") || imgsig::oci::is_oci(&one.to_string_lossy()) => {
            one.to_string_lossy().into_owned()
        }
        (_, Some(m), _) => m.to_string_lossy().into_owned(),
        (_, None, Some(d)) => d.clone(),
        _ => String::new(),
    }
}

/// The single image's document with `--output json`; else the verified
/// `name@digest` on stdout, for scripts (a closed pipe does not change the verdict).
fn render(format: OutputFormat, report: &imgsig::verify::Report, doc: impl FnOnce() -> ImageDocument) {
    match format {
        OutputFormat::Json => print_json(&doc()),
        OutputFormat::Human => {
            if let Some(v) = &report.verified_reference {
                let _ = write_stdout(format!("{v}\n").as_bytes());
            }
        }
    }
}

fn run_keyring(args: VerifyArgs, options: Options, format: OutputFormat) -> Result<Exit, Failure> {
    if args.identity.is_none() {
        return Err(usage(
            "--keyring needs --identity REF, --manifest FILE (or --digest) and signature files (or --signatures DIR)",
        ));
    }
    if args.manifest.is_none() && args.digest.is_none() {
        return Err(usage("--keyring needs --manifest FILE or --digest ALGO:HEX"));
    }
    if args.inputs.is_empty() && args.signatures.is_none() {
        return Err(usage(
            "--keyring needs at least one SIGNATURE_FILE (or --signatures DIR)",
        ));
    }
    if let Some(d) = args.inputs.iter().find(|i| i.to_string_lossy().starts_with("dir:")) {
        return Err(usage(&format!(
            "{} is a dir: image; use it with --policy (or name its signature files directly)",
            d.to_string_lossy()
        )));
    }
    let (request, _) = single_request(&args)?;
    let keyring = load_keyrings(&args.keyring)?;
    let form = DocumentTrust::keyring(&args.keyring, &keyring);
    let trust = Trust::Keyring(keyring);
    let verifier = Verifier::new(&trust, None, options);
    let report = verifier.verify(&request).map_err(|e| single_failure(&args, e))?;
    let Trust::Keyring(keyring) = &trust else {
        unreachable!("the keyring form")
    };
    eprint!("{}", keyring_human(&report, &keyring.describe()));
    render(format, &report, || {
        report.to_json_document(&form, 1, &single_input(&args))
    });
    Ok(if report.accepted { Exit::Ok } else { Exit::No })
}

/// A `dir:` image judged without `--identity` whose signatures failed only
/// because an identity rule needed the image's docker reference.
fn dir_without_identity_failed(report: &imgsig::verify::Report) -> bool {
    if report.accepted || !matches!(report.image, imgsig::policy::ImageRef::Dir(_)) {
        return false;
    }
    report.checks.iter().filter_map(|c| c.judgement.policy()).any(|d| {
        d.requirements
            .iter()
            .flat_map(|r| &r.signatures)
            .any(|s| s.result.as_ref().is_err_and(|e| e.code == Reason::IdentityMismatch))
    })
}
