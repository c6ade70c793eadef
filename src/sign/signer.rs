//! [`Signer`]: every source of signatures behind one type. A secret key
//! file, a key of the GnuPG keyring held by gpg-agent (found as `gpg -u`
//! finds it, see [`super::gpg`]), an external signing command (signing
//! servers, HSM wrappers), or a sigstore (cosign) private key. Whatever the
//! source, the signature is checked before anyone stores it: valid, over
//! exactly this claim, by the expected key.

use std::time::SystemTime;

use crate::child::{self, Limits, RunError, Stderr};
use crate::claim::Claim;
use crate::digest::Digest;
use crate::pgp::{self, KeyError, Keyring, SigningKey, MAX_SIGNATURE_SIZE};
use crate::reference::DockerReference;
use crate::signature::Signer as SignedBy;
use crate::sigstore::{PrivateKey, SigstoreSignature, TrustRoot};
use crate::Reason;

use super::SignError;

/// The creator string written into claims and sigstore payloads.
pub fn creator() -> String {
    format!("imgsig {}", env!("CARGO_PKG_VERSION"))
}

/// What kind of signature a [`Signer`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// containers/image simple signing: an OpenPGP signed message.
    SimpleSigning,
    /// A sigstore (cosign) signature.
    Sigstore,
}

impl Format {
    /// `simple-signing` or `sigstore`, as the JSON documents name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::SimpleSigning => "simple-signing",
            Format::Sigstore => "sigstore",
        }
    }
}

/// One new signature, checked, ready to store.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Signature {
    /// What is stored: an OpenPGP signed message (simple signing), or a
    /// sigstore signature in the typed blob format (`\0sigstore-json\n…`).
    pub blob: Vec<u8>,
    /// Who signed (for a sigstore key: its fingerprint as both names).
    pub by: SignedBy,
    /// The claim's timestamp (Unix seconds).
    pub timestamp: i64,
    /// For a sigstore signature: its parts (for registry attachments).
    pub sigstore: Option<SigstoreSignature>,
}

/// A signature already there that does the job: where, by whom, when.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub at: String,
    pub by: SignedBy,
    pub timestamp: i64,
}

/// A source of signatures; signs from several threads at once.
pub struct Signer {
    kind: Kind,
}

enum Kind {
    /// A secret key in this process or (`agent`) in gpg-agent.
    Key { key: Box<SigningKey>, agent: bool },
    /// `sh -c COMMAND`: the claim on stdin, a signed message on stdout;
    /// checked against `cert`.
    Command { command: String, cert: Box<Keyring> },
    /// A sigstore (cosign) private key.
    Sigstore(Box<PrivateKey>),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Key { key, .. } => write!(f, "Key({key:?})"),
            Kind::Command { command, .. } => write!(f, "Command({command:?})"),
            Kind::Sigstore(k) => write!(f, "Sigstore({k:?})"),
        }
    }
}

/// Check that `blob` is a valid signature over exactly `payload` by a key in `keys`.
fn check(blob: &[u8], payload: &[u8], keys: &Keyring, now: SystemTime) -> Result<SignedBy, SignError> {
    let env =
        pgp::verify(blob, keys, now).map_err(|e| SignError::rejected(e.code(), format!("{e}; nothing was written")))?;
    if env.payload != payload {
        return Err(SignError::rejected(
            Reason::ClaimMismatch,
            "the signature is valid but covers other content than the claim imgsig sent; nothing was written",
        ));
    }
    Ok(SignedBy {
        primary_fingerprint: env.primary_fingerprint,
        signing_fingerprint: env.signing_fingerprint,
        created: crate::time::unix_seconds(env.created),
        hash_algorithm: env.hash_algorithm,
    })
}

/// Run the signing command: `sh -c COMMAND`, the claim on stdin, its
/// stdout (up to [`MAX_SIGNATURE_SIZE`]) taken when the shell exits, even if
/// a process it left in the background holds stdout open. No time limit: a
/// signing command may wait for a person (a PIN, a touch on a token).
fn run_command(command: &str, payload: &[u8]) -> Result<Vec<u8>, SignError> {
    let limits = Limits {
        timeout: None,
        max_output: MAX_SIGNATURE_SIZE,
        stderr: Stderr::Inherit,
    };
    let failed = |m: String| SignError::outside(Reason::SigningFailed, m);
    let done = child::run("sh", ["-c", command], payload, &limits).map_err(|e| match e {
        RunError::TooMuchOutput(_) => SignError::rejected(
            Reason::SignatureTooLarge,
            format!("the command wrote more than {MAX_SIGNATURE_SIZE} bytes; nothing was written"),
        ),
        RunError::Start(e) => failed(format!("cannot run the signing command {command:?}: {e}")),
        e => failed(format!("running the signing command {command:?}: {e}")),
    })?;
    if !done.status.success() {
        return Err(failed(format!(
            "the signing command {command:?} failed ({})",
            done.status
        )));
    }
    Ok(done.stdout)
}

impl Signer {
    /// A transferable secret key (armored or binary) holding exactly one
    /// key; `name` says in messages which key ("key file k.asc").
    pub fn key_file(bytes: &[u8], passphrase: Option<&str>, name: &str, now: SystemTime) -> Result<Signer, SignError> {
        let password = passphrase.map(|p| p.into());
        let key = SigningKey::from_bytes(bytes, password.as_ref(), now)
            .map_err(|e: KeyError| SignError::input(e.code(), format!("{name}: {e}")))?;
        Ok(Signer::from_key(key))
    }

    /// A key already loaded (from a file).
    pub fn from_key(key: SigningKey) -> Signer {
        Signer {
            kind: Kind::Key {
                key: Box::new(key),
                agent: false,
            },
        }
    }

    /// A key gpg-agent holds.
    pub(super) fn from_agent_key(key: SigningKey) -> Signer {
        Signer {
            kind: Kind::Key {
                key: Box::new(key),
                agent: true,
            },
        }
    }

    /// How many signatures to make at once on `cores` cores. A key in this
    /// process is bound by the cores; gpg-agent's signatures also wait on
    /// its socket, so twice as many keep the cores busy; a signing command
    /// may ask a person (a PIN, a touch on a token), so one at a time.
    pub(crate) fn concurrency(&self, cores: usize) -> usize {
        match &self.kind {
            Kind::Key { agent: true, .. } => cores * 2,
            Kind::Key { .. } | Kind::Sigstore(_) => cores,
            Kind::Command { .. } => 1,
        }
    }

    /// An external command (`sh -c COMMAND`): the claim on stdin, a binary
    /// OpenPGP signed message on stdout, which must verify with `cert`.
    pub fn command(command: impl Into<String>, cert: Keyring) -> Signer {
        Signer {
            kind: Kind::Command {
                command: command.into(),
                cert: Box::new(cert),
            },
        }
    }

    /// A sigstore (cosign) private key file (encrypted; cosign allows an
    /// empty passphrase, tried when none is given); `name` says in messages
    /// which key. Codes: `passphrase-needed`, `wrong-passphrase`,
    /// `unsupported-key`, `invalid-key`.
    pub fn sigstore_key(bytes: &[u8], passphrase: Option<&str>, name: &str) -> Result<Signer, SignError> {
        let key = PrivateKey::from_file_bytes(bytes, passphrase.unwrap_or("").as_bytes()).map_err(|e| {
            let code = match (e.code, passphrase) {
                (Reason::WrongPassphrase, None) => Reason::PassphraseNeeded,
                (Reason::WrongPassphrase, Some(_)) => Reason::WrongPassphrase,
                (Reason::UnsupportedKey, _) => Reason::UnsupportedKey,
                _ => Reason::InvalidKey,
            };
            SignError::input(code, format!("{name}: {}", e.message))
        })?;
        Ok(Signer {
            kind: Kind::Sigstore(Box::new(key)),
        })
    }

    /// What kind of signature this signer makes.
    pub fn format(&self) -> Format {
        match self.kind {
            Kind::Sigstore(_) => Format::Sigstore,
            _ => Format::SimpleSigning,
        }
    }

    /// Who signs, for a sigstore key: its fingerprint for both names.
    fn sigstore_by(key: &PrivateKey, timestamp: i64) -> SignedBy {
        SignedBy {
            primary_fingerprint: key.fingerprint(),
            signing_fingerprint: key.fingerprint(),
            created: timestamp,
            // sigstore signs SHA-256 of the payload (Ed25519: the payload).
            hash_algorithm: "SHA256".to_owned(),
        }
    }

    /// Sign manifest `digest` as `identity` at `now`: a simple-signing claim
    /// in an OpenPGP message, or a sigstore payload, checked before it is
    /// returned.
    pub fn sign(&self, digest: &Digest, identity: &DockerReference, now: SystemTime) -> Result<Signature, SignError> {
        let timestamp = crate::time::unix_seconds(now);
        let (payload, cert) = match &self.kind {
            Kind::Sigstore(key) => {
                let sig = SigstoreSignature::sign(
                    key,
                    &digest.to_string(),
                    &identity.to_string(),
                    Some(&creator()),
                    Some(timestamp),
                )
                .map_err(|e| SignError::outside(Reason::SigningFailed, e.to_string()))?;
                return Ok(Signature {
                    blob: sig.to_blob(),
                    by: Signer::sigstore_by(key, timestamp),
                    timestamp,
                    sigstore: Some(sig),
                });
            }
            Kind::Key { key, .. } => {
                let mut own = Keyring::new();
                own.add([key.cert().clone()]);
                (claim(digest, identity, timestamp), own)
            }
            Kind::Command { cert, .. } => (claim(digest, identity, timestamp), (**cert).clone()),
        };
        let blob = match &self.kind {
            Kind::Key { key, .. } => key
                .sign(&payload, now)
                .map_err(|e| super::gpg::signing_failure(&e, key.signing_fingerprint()))?,
            Kind::Command { command, .. } => run_command(command, &payload)?,
            Kind::Sigstore(_) => unreachable!("signed above"),
        };
        let by = match (&self.kind, check(&blob, &payload, &cert, now)) {
            (_, Ok(by)) => by,
            // Our own output failing this check is a bug or a broken backend.
            (Kind::Key { .. }, Err(e)) => {
                let m = e.message.trim_end_matches("; nothing was written");
                return Err(SignError::outside(
                    Reason::SigningFailed,
                    format!("the new signature does not verify: refused the signature from the signing command: {m}"),
                ));
            }
            (_, Err(e)) => return Err(e),
        };
        Ok(Signature {
            blob,
            by,
            timestamp,
            sigstore: None,
        })
    }

    /// A signature among `existing` (where, bytes) that is valid at `now`,
    /// made by this signer's key, for `digest` as `identity`. Signing again
    /// what is already signed would add one more signature on every run of
    /// a sign job.
    pub(crate) fn already_signed(
        &self,
        existing: &[(String, Vec<u8>)],
        digest: &Digest,
        identity: &DockerReference,
        now: SystemTime,
    ) -> Option<Found> {
        let want = identity.to_string();
        let keys = match &self.kind {
            Kind::Sigstore(key) => {
                let root = TrustRoot::PublicKeys(vec![key.public_key().clone()]);
                return existing.iter().find_map(|(at, blob)| {
                    let sig = SigstoreSignature::parse_blob(blob).ok()?;
                    let p = crate::sigstore::verify(&sig, &root, &[]).ok()?;
                    let timestamp = p.timestamp.unwrap_or(0);
                    (p.docker_manifest_digest == digest.to_string() && p.docker_reference == want).then(|| Found {
                        at: at.clone(),
                        by: Signer::sigstore_by(key, timestamp),
                        timestamp,
                    })
                });
            }
            Kind::Key { key, .. } => {
                let mut own = Keyring::new();
                own.add([key.cert().clone()]);
                own
            }
            Kind::Command { cert, .. } => (**cert).clone(),
        };
        existing.iter().find_map(|(at, blob)| {
            let o = crate::signature::open(blob, &keys, now).ok()?;
            (o.claim.manifest_digest() == digest && o.claim.docker_reference() == want).then(|| Found {
                at: at.clone(),
                timestamp: o.claim.timestamp().unwrap_or(o.signer.created),
                by: o.signer,
            })
        })
    }
}

fn claim(digest: &Digest, identity: &DockerReference, timestamp: i64) -> Vec<u8> {
    Claim {
        manifest_digest: digest.clone(),
        docker_reference: identity.to_string(),
        creator: Some(creator()),
        timestamp: Some(timestamp),
    }
    .to_json()
}
