//! JSON documents written with `--output json`, and the rendering of
//! failures. The schema is documented in docs/json-output.md; bump
//! [`SCHEMA_VERSION`] on any incompatible change.

use serde::Serialize;

use super::{Failure, OutputFormat};
use imgsig::verify::ErrorDocument;
use imgsig::Reason;

/// Version of the JSON output schema of the commands not named below.
pub const SCHEMA_VERSION: u32 = 1;
/// Version of `sign`'s documents: 2 since registry images are framed one
/// document per image (docs/json-output.md, "Framing").
pub const SIGN_SCHEMA_VERSION: u32 = 2;
/// Version of `fetch`'s documents: 2 since images are framed one document per
/// image (docs/json-output.md, "Framing").
pub const FETCH_SCHEMA_VERSION: u32 = 2;

/// A command's current schema version: every document it writes (its error
/// documents too) carries it.
pub fn schema_version(command: &str) -> u32 {
    match command {
        "verify" => imgsig::verify::JSON_SCHEMA_VERSION,
        "sign" => SIGN_SCHEMA_VERSION,
        "fetch" => FETCH_SCHEMA_VERSION,
        _ => SCHEMA_VERSION,
    }
}

#[derive(Debug, Serialize)]
struct ErrorDoc<'a> {
    schema_version: u32,
    command: &'a str,
    /// Always false, as on an image's document (docs/json-output.md, "Framing").
    summary: bool,
    exit_code: u8,
    error: ErrorDocument,
}

/// Print a JSON document to stdout. A closed pipe is ignored: the exit code
/// still reflects the decision.
pub fn print_json<T: Serialize>(doc: &T) {
    let mut text = serde_json::to_string_pretty(doc).unwrap_or_else(|e| {
        serde_json::json!({
            "schema_version": SCHEMA_VERSION,
            "error": {"code": Reason::Internal.as_str(), "message": e.to_string()}
        })
        .to_string()
    });
    text.push('\n');
    let _ = super::io::write_stdout(text.as_bytes());
}

/// A failure as the `{code, message}` object of every document (the
/// message is the whole error chain).
pub fn error_document(failure: &Failure) -> ErrorDocument {
    ErrorDocument::new(failure.code, format!("{:#}", failure.error))
}

/// Report a failure: `imgsig: <error chain>` on stderr, and with
/// `--output json` also an error document on stdout.
pub fn report_failure(command: &str, format: OutputFormat, failure: &Failure) {
    // Paths, URLs and registry answers in the chain: no control character reaches the terminal.
    eprintln!("imgsig: {}", crate::shown::Lines(&format!("{:#}", failure.error)));
    if let Some(hint) = failure.hint.or_else(|| hint_for(failure.code)) {
        eprintln!("hint: {hint}");
    }
    if format == OutputFormat::Json {
        print_json(&ErrorDoc {
            schema_version: schema_version(command),
            command,
            summary: false,
            exit_code: failure.exit as u8,
            error: error_document(failure),
        });
    }
}

/// A command-line usage error found by clap (exit 2): with `--output json`
/// (or `--json`) anywhere on the command line, also write the error document,
/// so scripts always get one.
pub fn report_usage_error(args: &[std::ffi::OsString], message: &str) {
    let wants_json = args.windows(2).any(|w| w[0] == "--output" && w[1] == "json")
        || args.iter().any(|a| a == "--json" || a == "--output=json");
    if wants_json {
        print_json(&ErrorDoc {
            // The command's schema version when the line names one (the
            // document still says `command: ""`: the line did not parse).
            schema_version: usage_command(args).map_or(SCHEMA_VERSION, schema_version),
            command: "",
            summary: false,
            exit_code: 2,
            error: ErrorDocument::new(Reason::Usage, message.trim_end()),
        });
    }
}

/// The subcommand a command line names (its first word that is not an
/// option or the value of `--output`), if it is one with its own schema version.
fn usage_command(args: &[std::ffi::OsString]) -> Option<&'static str> {
    let mut words = args.iter().skip(1).map(|a| a.to_string_lossy());
    while let Some(w) = words.next() {
        if w == "--output" {
            words.next();
        } else if !w.starts_with('-') {
            return ["verify", "sign", "fetch"].into_iter().find(|c| *c == w);
        }
    }
    None
}

/// `instance-signatures-unavailable` for an `oci:`/`oci-archive:` image: a layout holds no
/// signatures, and `--signatures DIR` holds one manifest's, so the instances' are read by
/// digest where a registry image's are.
pub const OCI_INSTANCE_SIGNATURES_HINT: &str = "give --identity REF with --lookaside DIR (or a registries.d lookaside for REF), where each instance's signatures are found by its digest; the image is then judged as REF";

/// What the user can do about a failure with this code, in the command line's terms.
pub fn hint_for(code: Reason) -> Option<&'static str> {
    Some(match code {
        Reason::NetworkError => {
            "check the address, the network, and TLS settings (--cert-dir; --tls-verify=false for a plain-HTTP registry, which podman marks `insecure = true` in registries.conf)"
        }
        Reason::RegistryUnauthorized => "check the credentials (--creds, --authfile, REGISTRY_AUTH_FILE, auth.json)",
        Reason::NotFound => "check the image name and tag",
        Reason::NoSignatureSource => {
            "give signature files, --signatures DIR, --lookaside URL|DIR, or --registries-d DIR whose lookaside covers the image"
        }
        Reason::InstanceSignaturesUnavailable => {
            "give the instance's manifest instead, or verify from a mirror (--lookaside DIR), a dir: image, or docker://"
        }
        Reason::IdentityRequired => "give --identity REF",
        Reason::NoSecretKey | Reason::AmbiguousKey => {
            "see `gpg --list-secret-keys`; --sign-by takes what `gpg -u` takes: a fingerprint, a key ID, an e-mail address or a user ID"
        }
        Reason::NoMatchingPlatform => "use --all-platforms to verify every instance",
        Reason::NoSignatureChecked => {
            "give --policy FILE whose scope for the image requires signatures (signedBy or sigstoreSigned); `imgsig policy explain` shows which scope applies"
        }
        Reason::TerminalOutput => "redirect stdout to a file or use -o FILE",
        Reason::PassphraseNeeded => "put the passphrase in a file and pass --passphrase-file FILE, or set IMGSIG_PASSPHRASE",
        Reason::InvalidKey => {
            "the key file must be an OpenPGP key (armored or binary), e.g. from `gpg --export-secret-keys FPR`"
        }
        Reason::InvalidKeyring => "a keyring is an OpenPGP public key file, e.g. from `gpg --export FPR > key.gpg`",
        _ => return None,
    })
}
