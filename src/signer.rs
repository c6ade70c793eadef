//! Key sources for signing: a secret key file (or any sequoia signer, e.g.
//! gpg-agent), or an external signing command (signing servers, HSM
//! wrappers). Whatever the source, the signature is checked before anyone
//! stores it: valid, over exactly this claim, by the expected key.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::SystemTime;

use crate::pgp::{self, Keyring, SigningKey, MAX_SIGNATURE_SIZE};

/// Who made a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub primary_fingerprint: String,
    pub signing_fingerprint: String,
}

/// Why signing failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignFailure {
    /// The key or command could not produce a signature (exit 3).
    #[error("{0}")]
    Failed(String),
    /// Something came back, but it is not an acceptable signature over
    /// this claim by the expected key (exit 1). Nothing is stored.
    #[error("refused the signature from the signing command: {message}")]
    Refused { code: &'static str, message: String },
}

/// A source of signatures.
pub enum Source {
    /// A secret key in this process.
    Key(Box<SigningKey>),
    /// `sh -c COMMAND`: the claim on stdin, a signed message on stdout;
    /// checked against `cert`.
    Command { command: String, cert: Keyring },
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Key(k) => write!(f, "Key({k:?})"),
            Source::Command { command, .. } => write!(f, "Command({command:?})"),
        }
    }
}

/// Check that `blob` is a valid signature over exactly `payload` by a key in `keys`.
pub fn check(blob: &[u8], payload: &[u8], keys: &Keyring, now: SystemTime) -> Result<SignedBy, SignFailure> {
    let env = pgp::verify(blob, keys, now).map_err(|e| SignFailure::Refused {
        code: e.code(),
        message: e.to_string(),
    })?;
    if env.payload != payload {
        return Err(SignFailure::Refused {
            code: "claim-mismatch",
            message: "the signature is valid but covers other content than the claim imgsig sent".into(),
        });
    }
    Ok(SignedBy {
        primary_fingerprint: env.primary_fingerprint,
        signing_fingerprint: env.signing_fingerprint,
    })
}

fn run_command(command: &str, payload: &[u8]) -> Result<Vec<u8>, SignFailure> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| SignFailure::Failed(format!("cannot run the signing command {command:?}: {e}")))?;
    // Feed stdin from a thread so a command that writes before reading
    // everything cannot deadlock us.
    let mut stdin = child.stdin.take();
    let input = payload.to_vec();
    let writer = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&input);
        }
        drop(stdin);
    });
    let mut out = Vec::new();
    let read = child
        .stdout
        .take()
        .map(|o| o.take(MAX_SIGNATURE_SIZE as u64 + 1).read_to_end(&mut out));
    let _ = writer.join();
    if out.len() > MAX_SIGNATURE_SIZE {
        let _ = child.kill();
    }
    let status = child
        .wait()
        .map_err(|e| SignFailure::Failed(format!("waiting for the signing command: {e}")))?;
    if let Some(Err(e)) = read {
        return Err(SignFailure::Failed(format!(
            "reading the signing command's output: {e}"
        )));
    }
    if out.len() > MAX_SIGNATURE_SIZE {
        return Err(SignFailure::Refused {
            code: "signature-too-large",
            message: format!("the command wrote more than {MAX_SIGNATURE_SIZE} bytes"),
        });
    }
    if !status.success() {
        return Err(SignFailure::Failed(format!(
            "the signing command {command:?} failed ({status})"
        )));
    }
    Ok(out)
}

impl Source {
    /// The certificate(s) this source's signatures are made and checked with.
    pub fn keyring(&self) -> Keyring {
        match self {
            Source::Key(key) => {
                let mut own = Keyring::new();
                own.add([key.cert().clone()]);
                own
            }
            Source::Command { cert, .. } => cert.clone(),
        }
    }

    /// Sign `payload` at `now`, then check the result.
    pub fn sign(&mut self, payload: &[u8], now: SystemTime) -> Result<(Vec<u8>, SignedBy), SignFailure> {
        match self {
            Source::Key(key) => {
                let blob = key.sign(payload, now).map_err(|e| SignFailure::Failed(e.to_string()))?;
                let mut own = Keyring::new();
                own.add([key.cert().clone()]);
                // Our own output failing this check is a bug or a broken backend.
                let by = check(&blob, payload, &own, now)
                    .map_err(|e| SignFailure::Failed(format!("the new signature does not verify: {e}")))?;
                Ok((blob, by))
            }
            Source::Command { command, cert } => {
                let blob = run_command(command, payload)?;
                let by = check(&blob, payload, cert, now)?;
                Ok((blob, by))
            }
        }
    }
}

/// A signer whose secret key stays in gpg-agent (GnuPG keys, smartcards,
/// YubiKeys): `cert_bytes` is the public certificate (`gpg --export FPR`),
/// `fingerprint` names the certificate or one of its signing subkeys, by
/// fingerprint or (long) key ID.
pub fn agent_key(
    gnupg_home: Option<&std::path::Path>,
    cert_bytes: &[u8],
    fingerprint: &str,
    passphrase: Option<sequoia_openpgp::crypto::Password>,
    now: SystemTime,
) -> Result<SigningKey, String> {
    use sequoia_openpgp::policy::StandardPolicy;
    let policy = StandardPolicy::new();
    let want = fingerprint.trim().to_ascii_uppercase().replace(' ', "");
    let names = |k: &sequoia_openpgp::packet::Key<_, _>| k.fingerprint().to_hex() == want || k.keyid().to_hex() == want;
    let certs = Keyring::parse_certs(cert_bytes).map_err(|e| format!("the exported public key: {e}"))?;
    let cert = certs
        .into_iter()
        .find(|c| c.keys().any(|k| names(k.key())))
        .ok_or_else(|| format!("no key {want} in the exported certificate"))?;
    let vc = cert
        .with_policy(&policy, now)
        .map_err(|e| format!("key {want} is not valid: {e:#}"))?;
    let usable = || vc.keys().alive().revoked(false).for_signing();
    // The named subkey if it can sign, else the certificate's newest signing key.
    let ka = usable()
        .find(|k| names(k.key()))
        .or_else(|| usable().max_by_key(|k| k.key().creation_time()))
        .ok_or_else(|| format!("key {want} has no valid, unexpired, unrevoked signing-capable (sub)key"))?;
    let ctx = match gnupg_home {
        Some(h) => sequoia_gpg_agent::gnupg::Context::with_homedir(h),
        None => sequoia_gpg_agent::gnupg::Context::new(),
    }
    .map_err(|e| format!("GnuPG: {e:#}"))?;
    let mut kp = sequoia_gpg_agent::KeyPair::new_for_gnupg_context(&ctx, ka.key())
        .map_err(|e| format!("gpg-agent: {e:#}"))?
        .with_cert(&vc);
    if let Some(p) = passphrase {
        kp = kp.with_password(p);
    }
    let public = cert.clone().strip_secret_key_material();
    Ok(SigningKey::from_signer(public, Box::new(kp)))
}
