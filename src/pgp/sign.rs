//! Signing: a [`SigningKey`] loaded from a transferable secret key (or
//! wrapping any sequoia signer) wraps a claim in a binary signed message.

use std::time::SystemTime;

use openpgp::crypto::Password;
use openpgp::serialize::stream::{LiteralWriter, Message, Signer};
use openpgp::types::HashAlgorithm;
use sequoia_openpgp as openpgp;

use super::{policy, Cert, KeyError, Keyring, SignError};

/// A signer of the secret key, made for one signature.
pub type MakeSigner = Box<dyn Fn() -> Result<Box<dyn openpgp::crypto::Signer + Send + Sync>, SignError> + Send + Sync>;

/// A secret key ready to sign, from several threads at once: each signature
/// gets a signer of its own (a copy of the key pair, or a new gpg-agent
/// connection), so signing never waits for another signature.
pub struct SigningKey {
    cert: Cert,
    make: MakeSigner,
    signing_fingerprint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("primary", &self.cert.fingerprint().to_hex())
            .field("signing", &self.signing_fingerprint)
            .finish()
    }
}

impl SigningKey {
    /// Load a transferable secret key (armored or binary) and pick its
    /// signing-capable key valid at `now`, decrypting it with `passphrase`
    /// when it is protected.
    pub fn from_bytes(bytes: &[u8], passphrase: Option<&Password>, now: SystemTime) -> Result<SigningKey, KeyError> {
        let certs = Keyring::parse_certs(bytes)?;
        let mut secret: Vec<Cert> = certs.into_iter().filter(|c| c.is_tsk()).collect();
        let cert = match secret.len() {
            0 => return Err(KeyError::NoSecretKey),
            1 => secret.pop().unwrap_or_else(|| unreachable!()),
            n => return Err(KeyError::SeveralSecretKeys(n)),
        };
        let fpr = cert.fingerprint().to_hex();
        let vc = cert.with_policy(policy(), now).map_err(|e| KeyError::NoSigningKey {
            fingerprint: fpr.clone(),
            reason: format!("{e:#}"),
        })?;
        let ka = vc
            .keys()
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or_else(|| KeyError::NoSigningKey {
                fingerprint: fpr.clone(),
                reason: "none found".into(),
            })?;
        let mut key = ka.key().clone();
        let signing_fingerprint = key.fingerprint().to_hex();
        if key.secret().is_encrypted() {
            let pw = passphrase.ok_or(KeyError::PassphraseNeeded)?;
            key = key
                .decrypt_secret(pw)
                .map_err(|_| KeyError::WrongPassphrase(fpr.clone()))?;
        }
        let pair = key.into_keypair().map_err(|e| KeyError::NoSigningKey {
            fingerprint: fpr.clone(),
            reason: format!("{e:#}"),
        })?;
        Ok(SigningKey {
            cert: cert.strip_secret_key_material(),
            make: Box::new(move || Ok(Box::new(pair.clone()))),
            signing_fingerprint,
        })
    }

    /// Use any sequoia signer (for instance one backed by gpg-agent), made
    /// by `make` once per signature; `signing_fingerprint` names its key.
    pub fn from_signers(cert: Cert, signing_fingerprint: String, make: MakeSigner) -> SigningKey {
        SigningKey {
            cert,
            make,
            signing_fingerprint,
        }
    }

    /// The certificate's primary-key fingerprint (uppercase hex).
    pub fn primary_fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    /// The fingerprint (uppercase hex) of the key that makes the signatures:
    /// the primary key or a signing subkey.
    pub fn signing_fingerprint(&self) -> &str {
        &self.signing_fingerprint
    }

    /// The public certificate.
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// Wrap `payload` in a binary signed message (one-pass signature,
    /// literal data, signature) made at `time`.
    pub fn sign(&self, payload: &[u8], time: SystemTime) -> Result<Vec<u8>, SignError> {
        let err = |e: anyhow::Error| SignError(format!("{e:#}"));
        let mut signer = (self.make)()?;
        let mut out = Vec::with_capacity(payload.len() + 1024);
        {
            let message = Message::new(&mut out);
            let signer = Signer::new(message, BorrowedSigner(&mut *signer))
                .map_err(err)?
                .hash_algo(HashAlgorithm::SHA512)
                .map_err(err)?
                .creation_time(time)
                .build()
                .map_err(err)?;
            let mut literal = LiteralWriter::new(signer)
                .date(time)
                .map_err(err)?
                .build()
                .map_err(err)?;
            std::io::Write::write_all(&mut literal, payload).map_err(|e| SignError(e.to_string()))?;
            literal.finalize().map_err(err)?;
        }
        Ok(out)
    }
}

/// Lends a boxed signer to the streaming [`Signer`] without giving it up,
/// so one key can sign many claims.
struct BorrowedSigner<'a>(&'a mut (dyn openpgp::crypto::Signer + Send + Sync));

impl openpgp::crypto::Signer for BorrowedSigner<'_> {
    fn public(
        &self,
    ) -> &openpgp::packet::Key<openpgp::packet::key::PublicParts, openpgp::packet::key::UnspecifiedRole> {
        self.0.public()
    }

    fn acceptable_hashes(&self) -> &[HashAlgorithm] {
        self.0.acceptable_hashes()
    }

    fn sign(&mut self, hash_algo: HashAlgorithm, digest: &[u8]) -> openpgp::Result<openpgp::crypto::mpi::Signature> {
        self.0.sign(hash_algo, digest)
    }
}
