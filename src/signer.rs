//! Key sources for signing: a secret key file (or any sequoia signer, e.g.
//! gpg-agent), an external signing command (signing servers, HSM
//! wrappers), or a sigstore (cosign) private key. Whatever the source, the
//! signature is checked before anyone stores it: valid, over exactly this
//! claim, by the expected key.

use std::time::SystemTime;

use crate::child::{self, Limits, RunError, Stderr};
use crate::claim::Claim;
use crate::digest::Digest;
use crate::pgp::{self, Keyring, SigningKey, MAX_SIGNATURE_SIZE};
use crate::reference::DockerReference;
use crate::sigstore::{PrivateKey, SigstoreSignature, TrustRoot};

/// The creator string written into claims and sigstore payloads.
pub fn creator() -> String {
    format!("imgsig {}", env!("CARGO_PKG_VERSION"))
}

/// A signature of one image, ready to store.
#[derive(Debug, Clone)]
pub struct ImageSignature {
    /// What is stored: an OpenPGP signed message (simple signing), or a
    /// sigstore signature in the typed blob format (`\0sigstore-json\n…`).
    pub blob: Vec<u8>,
    pub by: SignedBy,
    /// The claim's timestamp (Unix seconds).
    pub timestamp: i64,
    /// For a sigstore signature: its parts (for registry attachments).
    pub sigstore: Option<SigstoreSignature>,
}

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
    Command { command: String, cert: Box<Keyring> },
    /// A sigstore (cosign) private key: sigstore signatures, not OpenPGP.
    Sigstore(Box<PrivateKey>),
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Key(k) => write!(f, "Key({k:?})"),
            Source::Command { command, .. } => write!(f, "Command({command:?})"),
            Source::Sigstore(k) => write!(f, "Sigstore({k:?})"),
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

/// Run the signing command: `sh -c COMMAND`, the claim on stdin, its
/// stdout (up to [`MAX_SIGNATURE_SIZE`]) taken when the shell exits, even if
/// a process it left in the background holds stdout open. No time limit: a
/// signing command may wait for a person (a PIN, a touch on a token).
fn run_command(command: &str, payload: &[u8]) -> Result<Vec<u8>, SignFailure> {
    let limits = Limits {
        timeout: None,
        max_output: MAX_SIGNATURE_SIZE,
        stderr: Stderr::Inherit,
    };
    let done = child::run("sh", ["-c", command], payload, &limits).map_err(|e| match e {
        RunError::TooMuchOutput(_) => SignFailure::Refused {
            code: "signature-too-large",
            message: format!("the command wrote more than {MAX_SIGNATURE_SIZE} bytes"),
        },
        RunError::Start(e) => SignFailure::Failed(format!("cannot run the signing command {command:?}: {e}")),
        e => SignFailure::Failed(format!("running the signing command {command:?}: {e}")),
    })?;
    if !done.status.success() {
        return Err(SignFailure::Failed(format!(
            "the signing command {command:?} failed ({})",
            done.status
        )));
    }
    Ok(done.stdout)
}

impl Source {
    /// Whether this source makes sigstore signatures.
    pub fn is_sigstore(&self) -> bool {
        matches!(self, Source::Sigstore(_))
    }

    /// Who signs, for a sigstore key: its fingerprint for both names.
    fn sigstore_by(key: &PrivateKey) -> SignedBy {
        SignedBy {
            primary_fingerprint: key.fingerprint(),
            signing_fingerprint: key.fingerprint(),
        }
    }

    /// Sign manifest `digest` as `identity` at `now`: a simple-signing claim
    /// in an OpenPGP message, or a sigstore payload, checked before it is returned.
    pub fn sign_image(
        &mut self,
        digest: &Digest,
        identity: &DockerReference,
        now: SystemTime,
    ) -> Result<ImageSignature, SignFailure> {
        let timestamp = crate::time::unix_seconds(now);
        if let Source::Sigstore(key) = self {
            let sig = SigstoreSignature::sign(
                key,
                &digest.to_string(),
                &identity.to_string(),
                Some(&creator()),
                Some(timestamp),
            )
            .map_err(|e| SignFailure::Failed(e.to_string()))?;
            return Ok(ImageSignature {
                blob: sig.to_blob(),
                by: Source::sigstore_by(key),
                timestamp,
                sigstore: Some(sig),
            });
        }
        let claim = Claim {
            manifest_digest: digest.clone(),
            docker_reference: identity.to_string(),
            creator: Some(creator()),
            timestamp: Some(timestamp),
        };
        let (blob, by) = self.sign(&claim.to_json(), now)?;
        Ok(ImageSignature {
            blob,
            by,
            timestamp,
            sigstore: None,
        })
    }

    /// A signature among `existing` (where, bytes) that is valid now, made by
    /// this source's key, for `digest` as `identity`: where it is, who made
    /// it, and its timestamp. Signing again what is already signed would add
    /// one more signature on every run of a sign job.
    pub fn already_signed(
        &self,
        existing: &[(String, Vec<u8>)],
        digest: &Digest,
        identity: &DockerReference,
    ) -> Option<(String, SignedBy, i64)> {
        let want = identity.to_string();
        if let Source::Sigstore(key) = self {
            let root = TrustRoot::PublicKeys(vec![key.public_key().clone()]);
            return existing.iter().find_map(|(at, blob)| {
                let sig = SigstoreSignature::parse_blob(blob).ok()?;
                let p = crate::sigstore::verify(&sig, &root, &[]).ok()?;
                (p.docker_manifest_digest == digest.to_string() && p.docker_reference == want)
                    .then(|| (at.clone(), Source::sigstore_by(key), p.timestamp.unwrap_or(0)))
            });
        }
        let keys = self.keyring();
        let now = SystemTime::now();
        existing.iter().find_map(|(at, blob)| {
            let o = crate::signature::open(blob, &keys, now).ok()?;
            (o.claim.manifest_digest() == digest && o.claim.docker_reference() == want).then(|| {
                let timestamp = o.claim.timestamp().unwrap_or(o.signer.created);
                (
                    at.clone(),
                    SignedBy {
                        primary_fingerprint: o.signer.primary_fingerprint,
                        signing_fingerprint: o.signer.signing_fingerprint,
                    },
                    timestamp,
                )
            })
        })
    }

    /// The certificate(s) this source's signatures are made and checked with
    /// (none for a sigstore key).
    pub fn keyring(&self) -> Keyring {
        match self {
            Source::Key(key) => {
                let mut own = Keyring::new();
                own.add([key.cert().clone()]);
                own
            }
            Source::Command { cert, .. } => (**cert).clone(),
            Source::Sigstore(_) => Keyring::new(),
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
            Source::Sigstore(_) => Err(SignFailure::Failed(
                "a sigstore key signs images (sign_image), not OpenPGP messages".into(),
            )),
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
