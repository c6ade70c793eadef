//! `imgsig inspect`: show what a signature claims and who it says made it,
//! without trusting it; with `--keyring`, also whether it verifies.
//!
//! The description is this command's data, so it goes to stdout (like
//! `gpg --list-packets`); errors and the reason for a non-zero exit go to
//! stderr. Nothing is shown as authentic unless it was verified: the human
//! output says `UNVERIFIED` and the JSON has `"verified": null` (no keyring)
//! or `false`.
//!
//! Exit codes: 0 every file was described (and, with `--keyring`, every
//! signature verified); 1 some file is not an OpenPGP message at all, or,
//! with `--keyring`, some signature did not verify; 2 a file or keyring
//! cannot be read (nothing is described then).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::anyhow;
use clap::Args;

use super::inputs::{load_keyrings, read_signature};
use super::inspect_sigstore;
use super::io::write_stdout;
use super::output::print_json;
use super::{Exit, Failure, FileArg, OutputFormat};
use crate::shown::shown;
use crate::time::{rfc3339, unix_seconds};
use imgsig::inspect::{self, Inspection};
use imgsig::pgp::{self, PacketDetails, UntrustedPacket};
use imgsig::Reason;

use super::inspect_text::{quoted, timestamp};

pub const EXAMPLES: &str = "EXAMPLES:
  # What does this signature claim, and which key does it name? (nothing is verified)
  imgsig inspect signature-1

  # Also check each signature against trusted keys (exit 1 if any does not verify)
  imgsig inspect --keyring signer.pub sigs/signature-1 sigs/signature-2

  # For scripts
  imgsig inspect --output json signature-1 | jq '.signatures[0].claim'

Exit codes: 0 all described (and, with --keyring, all verified), 1 a file is not an OpenPGP \
message or a signature did not verify, 2 a file or keyring cannot be read.";

/// Bytes of a payload that is not a claim shown by the human output.
const PAYLOAD_PREVIEW: usize = 200;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Signature files (binary OpenPGP signed messages); `-` reads stdin
    #[arg(value_name = "SIGNATURE_FILE", required = true)]
    pub files: Vec<OsString>,
    /// Also verify each signature with the keys in this keyring (armored or binary); repeat for several files
    #[arg(long, value_name = "FILE")]
    pub keyring: Vec<PathBuf>,
}

pub fn run(args: InspectArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let names: Vec<FileArg> = args.files.iter().map(|f| FileArg::from(f.as_os_str())).collect();
    if names.iter().filter(|n| **n == FileArg::Std).count() > 1 {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("`-` (stdin) can be given only once"),
        ));
    }
    let keys = if args.keyring.is_empty() {
        None
    } else {
        Some(load_keyrings(&args.keyring)?)
    };
    // Read everything first: an unreadable file is unusable input (exit 2),
    // reported before anything is described.
    let mut blobs = Vec::with_capacity(names.len());
    for name in &names {
        blobs.push((name.to_string(), read_signature(name)?));
    }
    let now = SystemTime::now();
    let results: Vec<Inspection> = blobs
        .into_iter()
        .map(|(source, blob)| Inspection::new(source, blob, keys.as_ref(), now))
        .collect();

    for r in &results {
        if let Some(e) = r.undescribed() {
            eprintln!(
                "imgsig: {}: cannot inspect [{}]: {}",
                shown(&r.source),
                e.code,
                shown(&e.message)
            );
        }
    }
    match format {
        OutputFormat::Json => print_json(&inspect::document(
            &args.keyring,
            keys.as_ref().map(|k| k.fingerprints()).unwrap_or_default(),
            &results,
        )),
        OutputFormat::Human => {
            let text: Vec<String> = results.iter().map(human).collect();
            // The exit code does not depend on whether anyone read this.
            let _ = write_stdout(text.join("\n").as_bytes());
        }
    }
    let unreadable = results.iter().filter(|r| r.undescribed().is_some()).count();
    let unverified = results
        .iter()
        .filter(|r| matches!(r.verification, Some(Err(_))))
        .count();
    let total = results.len();
    if unreadable > 0 {
        eprintln!("imgsig: {unreadable} of {total} file(s) are not OpenPGP messages and could not be inspected");
    }
    if unverified > 0 {
        eprintln!("imgsig: {unverified} of {total} signature(s) did not verify with the given keyring(s)");
    }
    Ok(if results.iter().any(Inspection::failed) {
        Exit::No
    } else {
        Exit::Ok
    })
}

// ---------------------------------------------------------------- human

fn when(t: SystemTime) -> String {
    rfc3339(unix_seconds(t))
}

/// An escaped preview of untrusted bytes.
fn preview(bytes: &[u8], complete: bool) -> String {
    let shown = &bytes[..bytes.len().min(PAYLOAD_PREVIEW)];
    let mut s = quoted(&String::from_utf8_lossy(shown));
    if shown.len() < bytes.len() || !complete {
        s.push_str(" …(truncated)");
    }
    s
}

fn human(r: &Inspection) -> String {
    let mut out = format!("{}\n", shown(&r.source));
    let mut line = |label: &str, value: String| out.push_str(&format!("  {:<11}{value}\n", format!("{label}:")));
    match &r.verification {
        None if r.sigstore.is_some() => line(
            "status",
            "UNVERIFIED (imgsig verify checks a sigstore signature under a sigstoreSigned requirement): \
             all of this is what the file claims; anyone can write it"
                .into(),
        ),
        None if r.envelope.is_err() => line("status", "UNVERIFIED".into()),
        None => line(
            "status",
            "UNVERIFIED (no --keyring given): all of this is what the file claims; anyone can write it".into(),
        ),
        Some(Ok(_)) => line(
            "status",
            "VERIFIED: good signature by a trusted key; the claim below is authentic, but was not compared \
             with any image (imgsig verify does that)"
                .into(),
        ),
        Some(Err(e)) => line(
            "status",
            format!(
                "UNVERIFIED: verification failed [{}]: {}; all of this is what the file claims",
                e.code, e.message
            ),
        ),
    }
    if let Some(d) = &r.sigstore {
        inspect_sigstore::human(d, &mut |label, value| line(label, value));
        return out;
    }
    let env = match &r.envelope {
        Ok(env) => env,
        Err(e) => {
            line("error", format!("cannot inspect [{}]: {}", e.code, e.message));
            return out;
        }
    };
    match (r.verified(), &r.claim) {
        (Some(o), _) => {
            let c = &o.claim;
            line("identity", quoted(c.docker_reference()));
            line("digest", c.manifest_digest().to_string());
            line("creator", c.creator().map(quoted).unwrap_or_else(|| "(none)".into()));
            line("timestamp", timestamp(c.timestamp()));
        }
        (None, Some(Ok(c))) => {
            line("identity", quoted(c.untrusted_docker_reference()));
            line("digest", c.untrusted_manifest_digest().to_string());
            line(
                "creator",
                c.untrusted_creator().map(quoted).unwrap_or_else(|| "(none)".into()),
            );
            line("timestamp", timestamp(c.untrusted_timestamp()));
        }
        (None, Some(Err(e))) => line("claim", format!("not a valid signature claim: {e}")),
        (None, None) => line(
            "claim",
            match &env.payload {
                None => "none (no literal data)".into(),
                Some(_) => format!("not parsed (the literal data is over {} bytes)", pgp::MAX_PAYLOAD_SIZE),
            },
        ),
    }
    if r.verified().is_none() && !matches!(r.claim, Some(Ok(_))) {
        if let Some(p) = &env.payload {
            line(
                "payload",
                format!("{} bytes: {}", p.len(), preview(p, env.payload_complete)),
            );
        }
    }
    if let Some(o) = r.verified() {
        line(
            "signer",
            format!(
                "key {} (signing key {})",
                o.signer.primary_fingerprint, o.signer.signing_fingerprint
            ),
        );
    }
    let mut issuer = match env.issuer_key_id() {
        Some(id) => format!("key ID {id}"),
        None => "(none named)".into(),
    };
    if let Some(fpr) = env.issuer_fingerprint() {
        issuer.push_str(&format!(", fingerprint {fpr}"));
    }
    line("issuer", issuer);
    if let Some(s) = env.signature() {
        let mut text = format!(
            "v{} {}, {}, {}",
            s.version, s.signature_type, s.public_key_algorithm, s.hash_algorithm
        );
        if let Some(t) = s.created {
            text.push_str(&format!(", created {}", when(t)));
        }
        if let Some(t) = s.expires {
            text.push_str(&format!(", expires {}", when(t)));
        }
        line("signature", text);
    }
    line(
        "envelope",
        match &env.structure {
            Ok(()) => "a well-formed signed message (as imgsig verify and containers/image require)".into(),
            Err(e) => format!("NOT ACCEPTABLE [{}]: {e}", e.code()),
        },
    );
    out.push_str("  packets:\n");
    for p in &env.packets {
        out.push_str(&format!("    {}{}\n", "  ".repeat(p.depth), packet_line(p)));
    }
    if let Some(why) = &env.stopped {
        out.push_str(&format!("    (stopped: {})\n", why.escape_debug()));
    }
    out
}

fn packet_line(p: &UntrustedPacket) -> String {
    let detail = match &p.details {
        PacketDetails::CompressedData { algorithm } => algorithm.clone(),
        PacketDetails::OnePassSig {
            version,
            signature_type,
            public_key_algorithm,
            hash_algorithm,
            issuer,
            last,
        } => format!(
            "v{version} {signature_type}, {public_key_algorithm}, {hash_algorithm}, issuer {issuer}{}",
            if *last { ", last" } else { "" }
        ),
        PacketDetails::Literal {
            format,
            filename,
            date,
            length,
            complete,
        } => format!(
            "format {}, filename {}, date {}, {}{length} bytes",
            format.escape_debug(),
            quoted(&String::from_utf8_lossy(filename)),
            date.map(when).unwrap_or_else(|| "(none)".into()),
            if *complete { "" } else { "more than " },
        ),
        PacketDetails::Signature(s) => {
            let mut t = format!(
                "v{} {}, {}, {}",
                s.version, s.signature_type, s.public_key_algorithm, s.hash_algorithm
            );
            t.push_str(&format!(
                ", created {}",
                s.created.map(when).unwrap_or_else(|| "(none)".into())
            ));
            if let Some(e) = s.expires {
                t.push_str(&format!(", expires {}", when(e)));
            }
            for id in &s.issuer_key_ids {
                t.push_str(&format!(", issuer key ID {id}"));
            }
            for fpr in &s.issuer_fingerprints {
                t.push_str(&format!(", issuer fingerprint {fpr}"));
            }
            t
        }
        PacketDetails::Other { note } => note.as_deref().unwrap_or("").escape_debug().to_string(),
        // A packet kind this binary does not know yet (the library's enum is non-exhaustive).
        _ => String::new(),
    };
    let head = format!("{} (tag {})", p.name(), p.tag);
    if detail.is_empty() {
        head
    } else {
        format!("{head}: {detail}")
    }
}
