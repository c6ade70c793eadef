//! Sigstore (cosign) private keys: the files `cosign generate-key-pair`,
//! `skopeo generate-sigstore-key` and containers/image's
//! `sigstore.GenerateKeyPair` write, and `skopeo copy --sign-by-sigstore-private-key`
//! reads (c/image `signature/sigstore/copied.go`).
//!
//! A file is one PEM block of type `ENCRYPTED COSIGN PRIVATE KEY` (what
//! c/image and older cosign write) or `ENCRYPTED SIGSTORE PRIVATE KEY`
//! (newer cosign). Its bytes are go-securesystemslib's `encrypted` JSON:
//!
//! ```text
//! {"kdf":{"name":"scrypt","params":{"N":32768,"r":8,"p":1},"salt":"<base64>"},
//!  "cipher":{"name":"nacl/secretbox","nonce":"<base64, 24 bytes>"},
//!  "ciphertext":"<base64>"}
//! ```
//!
//! The key is scrypt(passphrase, salt, N, r, p) (32 bytes); the plaintext,
//! opened with NaCl secretbox (XSalsa20-Poly1305), is a PKCS #8 DER private
//! key: ECDSA (P-256, P-384), RSA or Ed25519, signing as sigstore's
//! `LoadSignerVerifier(key, SHA256)` does. The public key is written as
//! `PUBLIC KEY` (SPKI) PEM, as `cryptoutils.MarshalPublicKeyToPEM` does.
//!
//! scrypt and secretbox are the RustCrypto `scrypt` and `crypto_secretbox`
//! crates (aws-lc-rs offers neither); the keys, signing and randomness are
//! aws-lc's (`aws-lc-rs`), which signs in constant time.
//!
//! A hostile file cannot make scrypt take unbounded memory or time: its
//! parameters are bounded (see [`MAX_SCRYPT_MEMORY`]).

use aws_lc_rs::digest;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as lc, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use sha2::{Digest as _, Sha256};

use super::{pem, PublicKey};
use crate::json::{self, Kind, Member, ReadRules, Value};
use crate::Reason;

/// The PEM type c/image (and cosign before 2.0) write, and every version reads.
pub const COSIGN_PRIVATE_KEY_PEM_TYPE: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The PEM type newer cosign writes.
pub const SIGSTORE_PRIVATE_KEY_PEM_TYPE: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";

/// go-securesystemslib's defaults (`scryptN`, `scryptR`, `scryptP`), used for new keys.
const SCRYPT_N: u64 = 32768;
const SCRYPT_R: u64 = 8;
const SCRYPT_P: u64 = 1;
/// Most memory scrypt may use for a key file (128 · N · r bytes): 64× the
/// default's 32 MiB. Files asking for more are refused, not tried.
pub const MAX_SCRYPT_MEMORY: u64 = 2 << 30;
/// Most scrypt work (N · r · p) for a key file: 64× the default.
const MAX_SCRYPT_WORK: u64 = 64 * SCRYPT_N * SCRYPT_R * SCRYPT_P;
const SALT_SIZE: usize = 32;
const NONCE_SIZE: usize = 24;

/// Why a private key file is unusable, or signing with it failed. `code` is one
/// of `invalid-key`, `wrong-passphrase`, `unsupported-key`,
/// `no-randomness`, `signing-failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateKeyError {
    /// The reason: one of the codes above.
    pub code: Reason,
    /// What went wrong, for people.
    pub message: String,
}

impl std::fmt::Display for PrivateKeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PrivateKeyError {}

fn invalid(msg: impl Into<String>) -> PrivateKeyError {
    PrivateKeyError {
        code: Reason::InvalidKey,
        message: msg.into(),
    }
}

enum Signer {
    P256(EcdsaKeyPair),
    P384(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A decrypted sigstore private key, and its public key.
pub struct PrivateKey {
    signer: Signer,
    public: PublicKey,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.public.algorithm())
    }
}

/// A new key pair: the encrypted private key file and the public key PEM.
pub struct GeneratedKey {
    /// The private key file: an `ENCRYPTED COSIGN PRIVATE KEY` PEM block,
    /// encrypted with the passphrase given.
    pub private_pem: Vec<u8>,
    /// The public key as a `PUBLIC KEY` PEM block, for `keyPath` in a policy.
    pub public_pem: Vec<u8>,
    /// The same key, decrypted, ready to sign.
    pub key: PrivateKey,
}

fn random(buf: &mut [u8]) -> Result<(), PrivateKeyError> {
    aws_lc_rs::rand::fill(buf).map_err(|e| PrivateKeyError {
        code: Reason::NoRandomness,
        message: format!("no random bytes: {e}"),
    })
}

/// scrypt with go-securesystemslib's parameters, bounded.
fn derive(passphrase: &[u8], salt: &[u8], n: u64, r: u64, p: u64) -> Result<[u8; 32], PrivateKeyError> {
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return Err(invalid(format!(
            "scrypt parameters N={n}, r={r}, p={p} are invalid (N must be a power of two above 1)"
        )));
    }
    let memory = 128u64.saturating_mul(n).saturating_mul(r);
    let work = n.saturating_mul(r).saturating_mul(p);
    if memory > MAX_SCRYPT_MEMORY || work > MAX_SCRYPT_WORK || r > u32::MAX as u64 || p > u32::MAX as u64 {
        return Err(PrivateKeyError {
            code: Reason::UnsupportedKey,
            message: format!(
                "scrypt parameters N={n}, r={r}, p={p} would take {} MiB and {}× the usual work; refusing (at most {} MiB, 64×)",
                memory >> 20,
                work / (SCRYPT_N * SCRYPT_R * SCRYPT_P),
                MAX_SCRYPT_MEMORY >> 20
            ),
        });
    }
    let params = scrypt::Params::new(n.trailing_zeros() as u8, r as u32, p as u32, 32)
        .map_err(|e| invalid(format!("scrypt parameters N={n}, r={r}, p={p}: {e}")))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(passphrase, salt, &params, &mut key).map_err(|e| invalid(format!("scrypt: {e}")))?;
    Ok(key)
}

fn member<'a>(members: &'a [Member], name: &str, what: &str) -> Result<&'a Value, PrivateKeyError> {
    json::go_field(members, name).ok_or_else(|| invalid(format!("{what}: no {name:?}")))
}

fn object<'a>(v: &'a Value, what: &str) -> Result<&'a [Member], PrivateKeyError> {
    json::go_struct(Some(v), what)
        .map_err(invalid)?
        .ok_or_else(|| invalid(format!("{what} is null")))
}

fn int(v: &Value, what: &str) -> Result<u64, PrivateKeyError> {
    match &v.kind {
        Kind::Number(n) => Some(n.to_f64()),
        _ => None,
    }
    .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n < 9.0e15)
    .map(|n| n as u64)
    .ok_or_else(|| invalid(format!("{what} is not a non-negative integer")))
}

fn bytes(v: &Value, what: &str) -> Result<Vec<u8>, PrivateKeyError> {
    json::go_bytes(Some(v), what)
        .map_err(invalid)?
        .ok_or_else(|| invalid(format!("{what} is null")))
}

/// go-securesystemslib `encrypted.Decrypt`.
fn decrypt(json: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, PrivateKeyError> {
    let v =
        json::parse_with(json, ReadRules::Go).map_err(|e| invalid(format!("the encrypted key is not JSON: {e}")))?;
    let top = object(&v, "the encrypted key")?;
    let kdf = object(member(top, "kdf", "the encrypted key")?, "kdf")?;
    let kdf_name = json::go_string(member(kdf, "name", "kdf")?, "kdf name").map_err(invalid)?;
    if kdf_name != "scrypt" {
        return Err(PrivateKeyError {
            code: Reason::UnsupportedKey,
            message: format!("unknown kdf name {kdf_name:?} (only scrypt)"),
        });
    }
    let params = object(member(kdf, "params", "kdf")?, "kdf params")?;
    let n = int(member(params, "N", "kdf params")?, "N")?;
    let r = int(member(params, "r", "kdf params")?, "r")?;
    let p = int(member(params, "p", "kdf params")?, "p")?;
    let salt = bytes(member(kdf, "salt", "kdf")?, "salt")?;
    let cipher = object(member(top, "cipher", "the encrypted key")?, "cipher")?;
    let cipher_name = json::go_string(member(cipher, "name", "cipher")?, "cipher name").map_err(invalid)?;
    if cipher_name != "nacl/secretbox" {
        return Err(PrivateKeyError {
            code: Reason::UnsupportedKey,
            message: format!("unknown cipher name {cipher_name:?} (only nacl/secretbox)"),
        });
    }
    let nonce = bytes(member(cipher, "nonce", "cipher")?, "nonce")?;
    if nonce.len() != NONCE_SIZE {
        return Err(invalid(format!(
            "incorrect nonce size {} (expected {NONCE_SIZE})",
            nonce.len()
        )));
    }
    let ciphertext = bytes(member(top, "ciphertext", "the encrypted key")?, "ciphertext")?;
    let key = derive(passphrase, &salt, n, r, p)?;
    XSalsa20Poly1305::new(&key.into())
        .decrypt(nonce.as_slice().into(), ciphertext.as_slice())
        .map_err(|_| PrivateKeyError {
            code: Reason::WrongPassphrase,
            message: "decryption failed: wrong passphrase (or a damaged key file)".into(),
        })
}

/// go-securesystemslib `encrypted.Encrypt` with its default parameters;
/// members in Go's `encoding/json` order.
fn encrypt(plaintext: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, PrivateKeyError> {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let mut salt = [0u8; SALT_SIZE];
    let mut nonce = [0u8; NONCE_SIZE];
    random(&mut salt)?;
    random(&mut nonce)?;
    let key = derive(passphrase, &salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)?;
    let ciphertext = XSalsa20Poly1305::new(&key.into())
        .encrypt(&nonce.into(), plaintext)
        .map_err(|_| invalid("secretbox encryption failed"))?;
    let doc = serde_json::json!({
        "kdf": {
            "name": "scrypt",
            "params": {"N": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P},
            "salt": b64(&salt),
        },
        "cipher": {"name": "nacl/secretbox", "nonce": b64(&nonce)},
        "ciphertext": b64(&ciphertext),
    });
    Ok(serde_json::to_vec(&doc).expect("a JSON value serializes"))
}

/// Go `pem.EncodeToMemory`: 64-character lines.
fn pem_encode(kind: &str, der: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {kind}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str(&format!("-----END {kind}-----\n"));
    out.into_bytes()
}

/// Go `x509.ParsePKCS8PrivateKey`, limited to the kinds sigstore signs with
/// (`pkcs8` finds the kind, aws-lc parses and checks the key).
fn from_pkcs8(der: &[u8]) -> Result<PrivateKey, PrivateKeyError> {
    let unsupported = |what: &str| PrivateKeyError {
        code: Reason::UnsupportedKey,
        message: format!("parsing private key: {what}"),
    };
    let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|e| invalid(format!("parsing private key: {e}")))?;
    let oid = info.algorithm.oid.to_string();
    let signer = match oid.as_str() {
        "1.2.840.10045.2.1" => {
            let curve = info
                .algorithm
                .parameters_oid()
                .map(|o| o.to_string())
                .map_err(|_| invalid("parsing private key: ECDSA key without a named curve"))?;
            match curve.as_str() {
                "1.2.840.10045.3.1.7" => Signer::P256(
                    EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, der)
                        .map_err(|e| invalid(format!("parsing P-256 private key: {e}")))?,
                ),
                "1.3.132.0.34" => Signer::P384(
                    EcdsaKeyPair::from_pkcs8(&lc::ECDSA_P384_SHA384_ASN1_SIGNING, der)
                        .map_err(|e| invalid(format!("parsing P-384 private key: {e}")))?,
                ),
                other => {
                    return Err(unsupported(&format!(
                        "ECDSA curve {other} (imgsig signs with P-256 and P-384)"
                    )))
                }
            }
        }
        "1.2.840.113549.1.1.1" => Signer::Rsa(RsaKeyPair::from_pkcs8(der).map_err(|e| match e.description_() {
            "TooSmall" | "TooLarge" => unsupported("RSA key size (imgsig signs with RSA keys of 2048 to 8192 bits)"),
            _ => invalid(format!("parsing RSA private key: {e}")),
        })?),
        "1.3.101.112" => Signer::Ed25519(
            Ed25519KeyPair::from_pkcs8(der).map_err(|e| invalid(format!("parsing Ed25519 private key: {e}")))?,
        ),
        other => return Err(unsupported(&format!("unsupported key type {other}"))),
    };
    let spki = match &signer {
        Signer::P256(k) | Signer::P384(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        Signer::Rsa(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
        Signer::Ed25519(k) => k.public_key().as_der().map(|d| d.as_ref().to_vec()),
    }
    .map_err(|e| invalid(format!("encoding the public key: {e}")))?;
    let public =
        PublicKey::from_spki_der(&spki).map_err(|e| invalid(format!("the key's public part: {}", e.message)))?;
    Ok(PrivateKey { signer, public })
}

impl PrivateKey {
    /// c/image `loadPrivateKey`: the first PEM block (of either type),
    /// decrypted with `passphrase` (cosign allows an empty one).
    pub fn from_file_bytes(data: &[u8], passphrase: &[u8]) -> Result<PrivateKey, PrivateKeyError> {
        let (block, _) = pem::decode(data).ok_or_else(|| invalid("invalid pem block (not a PEM file)"))?;
        if block.kind != COSIGN_PRIVATE_KEY_PEM_TYPE && block.kind != SIGSTORE_PRIVATE_KEY_PEM_TYPE {
            let hint = if block.kind.contains("PGP") {
                " (an OpenPGP key: give it with --key)"
            } else {
                ""
            };
            return Err(invalid(format!(
                "unsupported pem type: {:?}{hint}; expected {COSIGN_PRIVATE_KEY_PEM_TYPE:?} or {SIGSTORE_PRIVATE_KEY_PEM_TYPE:?}",
                block.kind
            )));
        }
        let der = decrypt(&block.bytes, passphrase)?;
        from_pkcs8(&der)
    }

    /// c/image `GenerateKeyPair`: a new ECDSA P-256 key (the one kind cosign's
    /// specification requires every verifier to support), encrypted with
    /// `passphrase`, in a `ENCRYPTED COSIGN PRIVATE KEY` block (read by every
    /// version of cosign and skopeo).
    pub fn generate(passphrase: &[u8]) -> Result<GeneratedKey, PrivateKeyError> {
        // PKCS #8 v1 with the public key inside the ECPrivateKey and no
        // curve repeated there: what Go's MarshalPKCS8PrivateKey writes.
        let der = EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
            .map_err(|e| invalid(format!("generating the private key: {e}")))?;
        let encrypted = encrypt(der.as_ref(), passphrase)?;
        let key = from_pkcs8(der.as_ref())?;
        Ok(GeneratedKey {
            private_pem: pem_encode(COSIGN_PRIVATE_KEY_PEM_TYPE, &encrypted),
            public_pem: key.public_pem(),
            key,
        })
    }

    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The public key as `PUBLIC KEY` PEM (for `keyPath` in policy.json).
    pub fn public_pem(&self) -> Vec<u8> {
        pem_encode("PUBLIC KEY", self.public.spki_der())
    }

    /// `sha256:<hex>` of the public key's DER SubjectPublicKeyInfo: how imgsig names a sigstore key.
    pub fn fingerprint(&self) -> String {
        super::key_fingerprint(&self.public)
    }

    /// sigstore `SignMessage` with SHA-256: ECDSA (ASN.1 DER) and RSA
    /// PKCS #1 v1.5 over SHA-256 of `message`, Ed25519 over `message` itself.
    pub fn sign_message(&self, message: &[u8]) -> Result<Vec<u8>, PrivateKeyError> {
        let failed = |e: aws_lc_rs::error::Unspecified| PrivateKeyError {
            code: Reason::SigningFailed,
            message: format!("signing failed: {e}"),
        };
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::P256(k) => Ok(k.sign(&rng, message).map_err(failed)?.as_ref().to_vec()),
            Signer::P384(k) => {
                // aws-lc signs P-384 with SHA-384 only; sigstore hashes with
                // SHA-256. ECDSA takes the digest as an integer (FIPS 186-5
                // 6.4.1: its leftmost 384 bits here), so SHA-256's 32 bytes
                // behind 16 zero bytes are the same integer, and the same
                // signature, as SHA-256 given directly. tests/sigstore_sign.rs
                // checks the result with Python's ECDSA(SHA256) on P-384.
                let mut wide = [0u8; 48];
                wide[16..].copy_from_slice(&Sha256::digest(message));
                let d = digest::Digest::import_less_safe(&wide, &digest::SHA384).map_err(failed)?;
                Ok(k.sign_digest(&d).map_err(failed)?.as_ref().to_vec())
            }
            Signer::Rsa(k) => {
                let mut sig = vec![0u8; k.public_modulus_len()];
                k.sign(&lc::RSA_PKCS1_SHA256, &rng, message, &mut sig).map_err(failed)?;
                Ok(sig)
            }
            Signer::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_decrypt_with_their_passphrase_only() {
        let g = PrivateKey::generate(b"pass").unwrap();
        let text = String::from_utf8(g.private_pem.clone()).unwrap();
        assert!(text.starts_with("-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----\n"));
        assert!(text.lines().all(|l| l.len() <= 64));
        let back = PrivateKey::from_file_bytes(&g.private_pem, b"pass").unwrap();
        assert_eq!(back.public_key().spki_der(), g.key.public_key().spki_der());
        assert_eq!(back.public_key().algorithm(), "ecdsa-p256");
        assert_eq!(
            PrivateKey::from_file_bytes(&g.private_pem, b"other").unwrap_err().code,
            "wrong-passphrase"
        );
        // The public PEM is what the verifier reads.
        let keys = super::super::parse_public_keys(&g.public_pem).unwrap();
        assert_eq!(keys[0].spki_der(), g.key.public_key().spki_der());
        // A signature verifies with the public key, and not over other bytes.
        let sig = back.sign_message(b"payload").unwrap();
        assert!(keys[0].verify_message(b"payload", &sig).is_ok());
        assert!(keys[0].verify_message(b"payloae", &sig).is_err());
    }

    #[test]
    fn generated_keys_are_pkcs8_as_go_writes_them() {
        // Go's MarshalPKCS8PrivateKey (c/image, cosign, skopeo): PKCS #8 v1,
        // id-ecPublicKey with P-256, an ECPrivateKey (version 1) holding the
        // 32-byte scalar and the public point, and no curve repeated in it.
        let g = PrivateKey::generate(b"pass").unwrap();
        let (block, _) = pem::decode(&g.private_pem).unwrap();
        let der = decrypt(&block.bytes, b"pass").unwrap();
        assert_eq!(der.len(), 138);
        let hex = crate::digest::to_hex(&der);
        assert!(
            hex.starts_with("308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420"),
            "{hex}"
        );
        assert_eq!(&hex[136..148], "a14403420004", "{hex}");
        assert_eq!(&der[73..], &g.key.public_key().spki_der()[26..], "the public point");
    }

    #[test]
    fn the_sigstore_pem_type_is_read_too_and_others_are_not() {
        let g = PrivateKey::generate(b"").unwrap();
        let text = String::from_utf8(g.private_pem).unwrap();
        let sigstore = text.replace("COSIGN", "SIGSTORE");
        assert!(PrivateKey::from_file_bytes(sigstore.as_bytes(), b"").is_ok());
        let e = PrivateKey::from_file_bytes(text.replace("COSIGN", "PGP").as_bytes(), b"").unwrap_err();
        assert!(e.message.contains("--key"), "{e}");
        assert_eq!(
            PrivateKey::from_file_bytes(b"garbage", b"").unwrap_err().code,
            "invalid-key"
        );
    }

    fn encrypted_with(n: u64, r: u64, p: u64) -> Vec<u8> {
        let doc = format!(
            r#"{{"kdf":{{"name":"scrypt","params":{{"N":{n},"r":{r},"p":{p}}},"salt":"AAAA"}},"cipher":{{"name":"nacl/secretbox","nonce":"{}"}},"ciphertext":"AAAA"}}"#,
            "A".repeat(32)
        );
        pem_encode(COSIGN_PRIVATE_KEY_PEM_TYPE, doc.as_bytes())
    }

    #[test]
    fn hostile_scrypt_parameters_are_refused_before_any_work() {
        for (n, r, p) in [(1u64 << 40, 8, 1), (1 << 20, 1 << 20, 1), (32768, 8, 1 << 30)] {
            let e = PrivateKey::from_file_bytes(&encrypted_with(n, r, p), b"").unwrap_err();
            assert_eq!(e.code, "unsupported-key", "{n} {r} {p}: {e}");
        }
        for (n, r, p) in [(3u64, 8, 1), (0, 8, 1), (32768, 0, 1)] {
            assert_eq!(
                PrivateKey::from_file_bytes(&encrypted_with(n, r, p), b"")
                    .unwrap_err()
                    .code,
                "invalid-key"
            );
        }
        // Sane parameters get as far as the (wrong) ciphertext.
        assert_eq!(
            PrivateKey::from_file_bytes(&encrypted_with(1024, 8, 1), b"")
                .unwrap_err()
                .code,
            "wrong-passphrase"
        );
    }

    #[test]
    fn every_key_kind_signs_what_its_public_key_verifies() {
        use aws_lc_rs::encoding::AsDer as _;
        let rng = SystemRandom::new();
        let p384 = EcdsaKeyPair::generate_pkcs8(&lc::ECDSA_P384_SHA384_ASN1_SIGNING, &rng).unwrap();
        // Go's MarshalPKCS8PrivateKey writes Ed25519 keys as PKCS #8 v1; v2 is read too.
        let ed_v1 = Ed25519KeyPair::generate_pkcs8v1(&rng).unwrap();
        let ed_v2 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let rsa = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let rsa = rsa.as_der().unwrap();
        let ders: [(&[u8], &str); 4] = [
            (p384.as_ref(), "ecdsa-p384"),
            (ed_v1.as_ref(), "ed25519"),
            (ed_v2.as_ref(), "ed25519"),
            (rsa.as_ref(), "rsa"),
        ];
        for (der, algorithm) in ders {
            let k = from_pkcs8(der).unwrap();
            assert_eq!(k.public_key().algorithm(), algorithm);
            let sig = k.sign_message(b"m").unwrap();
            assert!(k.public_key().verify_message(b"m", &sig).is_ok(), "{algorithm}");
            assert!(k.public_key().verify_message(b"n", &sig).is_err(), "{algorithm}");
        }
    }

    /// An RSA key of 1024 bits (openssl genpkey), readable but too small to sign with.
    const RSA_1024_PKCS8: &[&str] = &[
        "MIICdgIBADANBgkqhkiG9w0BAQEFAASCAmAwggJcAgEAAoGBALI9dG2jjk/WX35ATCu9iTurdzCEeJesXFviFeZn+T3AorNU",
        "fPCcrGFVI/wXmwsbDEmpccjrfoNaT/KDAPLzfMryxyyEjWKGS362Xuc6Lep4nXASTmJw3VJA1qXixQ12gc1pNLW1wr0IGt9O",
        "tZ9p585z1OdNcTunpOhMSLJkNeZ1AgMBAAECgYANZ8PW7yMn7AaYlztjWsj0fOvk8UGknqj/nBxrjMxZEaDq/eK7sfzhASdI",
        "sXnOtwUQkTbmlpeYR3WV1rZ+j0OGW9p0qpd7jU0i/4IpNrVoscoAB+IrPbze88499xIISwX83eAmie9Sa9uRcNki0ST+X3sO",
        "5ilEbJ34lqrlEf1OwQJBAOBfFihYKcJLYbA6bMuybP6gQnAHFwnm4MQhofTei8QLfpl8XlGv7mBhaodSWzhrXadcdW33bUoo",
        "uNkmMvx8MAUCQQDLXZ70EMEPlfADOcl8u5yuQQSb+9Km/uzbA/jm/ivXbVQQbu6g5kc+p8grO8+u0jbqaoF+p9giq9pyYe1P",
        "m1exAkAFZ+UVxcIDz2MkJtQ2OC9OFzhikJkqgOiLcTAAwVfmukwrkIaJO07n/ZDef8p42oVgIecmZh64+bAycywpTyitAkA+",
        "toY4GZqPpds4A3ABCRIOInq7Z3LUkLSV7amqAiOe8VYFI1BvSdQanD78Jhure6P3shRw7G2Yc4qPz2cRL4RhAkEAiqvFpKDL",
        "69BftvK5aMrWNScHDW0SuFqtQbALEDQbG39XZAQbkqEfG4cKW/Yhd3WdNfl/TozoKgLtMHpaTY3haQ==",
    ];

    #[test]
    fn rsa_keys_under_2048_bits_do_not_sign() {
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(RSA_1024_PKCS8.concat())
            .unwrap();
        let e = from_pkcs8(&der).unwrap_err();
        assert_eq!(e.code, "unsupported-key", "{e}");
        assert!(e.message.contains("2048"), "{e}");
    }
}
