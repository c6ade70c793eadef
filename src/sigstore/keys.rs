//! Public keys as sigstore's `cryptoutils.UnmarshalPEMToPublicKey` and
//! `signature.LoadVerifier(key, SHA256)` accept them, and the signature
//! checks c/image makes with them. The keys are parsed here (SPKI, PKCS #1,
//! with the `der`/`spki` crates, as Go's `x509` reads them); every signature
//! is checked by aws-lc (`aws-lc-rs`, the library rustls uses for TLS).

use crate::Reason;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::signature::{self as lc, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};
use der::{Decode, Tagged};

use super::{pem, SigstoreError};

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";
const OID_ED25519: &str = "1.3.101.112";
const OID_P256: &str = "1.2.840.10045.3.1.7";
const OID_P384: &str = "1.3.132.0.34";
/// RSA keys smaller than this verify nothing (Go's `rsa1024min`).
const MIN_RSA_BITS: u32 = 1024;
/// The largest RSA modulus aws-lc verifies with.
const MAX_RSA_VERIFY_BITS: u32 = 8192;

#[derive(Clone)]
enum Inner {
    /// ECDSA P-256 (`p384: false`) or P-384: the uncompressed point, and the
    /// key parsed for ECDSA over SHA-256 (every sigstore and Rekor signature).
    Ecdsa {
        p384: bool,
        point: Vec<u8>,
        sha256: ParsedPublicKey,
    },
    /// RSA: the PKCS #1 `RSAPublicKey` DER, its size, and the key parsed for
    /// PKCS #1 v1.5 over SHA-256.
    Rsa {
        pkcs1: Vec<u8>,
        bits: u32,
        sha256: ParsedPublicKey,
    },
    /// Ed25519 (pure: the message itself is signed).
    Ed25519(ParsedPublicKey),
}

/// A public key: ECDSA P-256 or P-384, RSA, or Ed25519.
#[derive(Clone)]
pub struct PublicKey {
    inner: Inner,
    /// The DER SubjectPublicKeyInfo, as Go's `MarshalPKIXPublicKey` writes it.
    spki: Vec<u8>,
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.algorithm())
    }
}

/// A hash named by a certificate signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

/// A signature scheme: what a certificate's signature algorithm names, and
/// what sigstore uses for each key type (see [`PublicKey::verify_message`]).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Scheme {
    RsaPkcs1(Hash),
    Ecdsa(Hash),
    Ed25519,
}

fn key_err(msg: impl Into<String>) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreKeyInvalid, msg)
}

/// aws-lc's ECDSA verification (ASN.1 DER signatures, Go's `ecdsa.VerifyASN1`) for a curve and hash.
fn ecdsa_alg(p384: bool, hash: Hash) -> &'static lc::EcdsaVerificationAlgorithm {
    match (p384, hash) {
        (false, Hash::Sha256) => &lc::ECDSA_P256_SHA256_ASN1,
        (false, Hash::Sha384) => &lc::ECDSA_P256_SHA384_ASN1,
        (false, Hash::Sha512) => &lc::ECDSA_P256_SHA512_ASN1,
        (true, Hash::Sha256) => &lc::ECDSA_P384_SHA256_ASN1,
        (true, Hash::Sha384) => &lc::ECDSA_P384_SHA384_ASN1,
        (true, Hash::Sha512) => &lc::ECDSA_P384_SHA512_ASN1,
    }
}

/// aws-lc's RSA PKCS #1 v1.5 verification for a hash and key size, or why there is none.
fn rsa_alg(hash: Hash, bits: u32) -> Result<&'static lc::RsaParameters, String> {
    if bits < MIN_RSA_BITS {
        return Err(format!("RSA key smaller than {MIN_RSA_BITS} bits"));
    }
    if bits > MAX_RSA_VERIFY_BITS {
        return Err(format!(
            "RSA key larger than {MAX_RSA_VERIFY_BITS} bits ({bits}): not supported"
        ));
    }
    Ok(match hash {
        Hash::Sha256 => &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY,
        Hash::Sha512 => &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY,
        Hash::Sha384 if bits < 2048 => {
            return Err(format!(
                "RSA key of {bits} bits with SHA-384: not supported (2048 bits or more)"
            ))
        }
        Hash::Sha384 => &lc::RSA_PKCS1_2048_8192_SHA384,
    })
}

impl PublicKey {
    /// `ecdsa-p256`, `ecdsa-p384`, `rsa` or `ed25519`.
    pub fn algorithm(&self) -> &'static str {
        match self.inner {
            Inner::Ecdsa { p384: false, .. } => "ecdsa-p256",
            Inner::Ecdsa { p384: true, .. } => "ecdsa-p384",
            Inner::Rsa { .. } => "rsa",
            Inner::Ed25519(_) => "ed25519",
        }
    }

    /// Whether this is an ECDSA key (the only kind c/image takes as a Rekor key).
    pub fn is_ecdsa(&self) -> bool {
        matches!(self.inner, Inner::Ecdsa { .. })
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }

    /// Go `x509.ParsePKIXPublicKey`, limited to the key types sigstore can verify with.
    pub fn from_spki_der(der_bytes: &[u8]) -> Result<Self, SigstoreError> {
        let spki = spki::SubjectPublicKeyInfoRef::from_der(der_bytes)
            .map_err(|e| key_err(format!("parsing public key: {e}")))?;
        let oid = spki.algorithm.oid.to_string();
        let key_bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| key_err("public key bit string is not octet aligned"))?;
        let params = spki.algorithm.parameters.as_ref();
        let inner = match oid.as_str() {
            OID_RSA => {
                if params.map(|p| p.tag()) != Some(der::Tag::Null) {
                    return Err(key_err("RSA key missing NULL parameters"));
                }
                return Self::from_pkcs1_der(key_bytes).map(|k| Self {
                    spki: der_bytes.to_vec(),
                    ..k
                });
            }
            OID_EC => {
                let curve = params
                    .and_then(|p| p.decode_as::<der::asn1::ObjectIdentifier>().ok())
                    .ok_or_else(|| key_err("ECDSA key without a named curve"))?
                    .to_string();
                // Go's elliptic.Unmarshal takes only the uncompressed form.
                if key_bytes.first() != Some(&4) {
                    return Err(key_err("failed to unmarshal elliptic curve point"));
                }
                let p384 = match curve.as_str() {
                    OID_P256 => false,
                    OID_P384 => true,
                    other => {
                        return Err(SigstoreError::new(
                            Reason::SigstoreUnsupportedKey,
                            format!("unsupported elliptic curve {other} (only P-256 and P-384 are supported)"),
                        ))
                    }
                };
                // aws-lc checks that the point is on the curve.
                let sha256 = ParsedPublicKey::new(ecdsa_alg(p384, Hash::Sha256), key_bytes)
                    .map_err(|_| key_err("failed to unmarshal elliptic curve point"))?;
                Inner::Ecdsa {
                    p384,
                    point: key_bytes.to_vec(),
                    sha256,
                }
            }
            OID_ED25519 => {
                if params.is_some() {
                    return Err(key_err("Ed25519 key encoded with illegal parameters"));
                }
                // Go checks the size only; so does aws-lc (a bad point verifies nothing).
                if key_bytes.len() != 32 {
                    return Err(key_err("Ed25519 public key has the wrong size"));
                }
                Inner::Ed25519(
                    ParsedPublicKey::new(&lc::ED25519, key_bytes).map_err(|e| key_err(format!("Ed25519 key: {e}")))?,
                )
            }
            other => {
                return Err(SigstoreError::new(
                    Reason::SigstoreUnsupportedKey,
                    format!("unsupported public key algorithm {other}"),
                ))
            }
        };
        Ok(Self {
            inner,
            spki: der_bytes.to_vec(),
        })
    }

    /// Go `x509.ParsePKCS1PublicKey` (an `RSA PUBLIC KEY` PEM block). aws-lc
    /// checks the modulus (odd, at most 16384 bits) and the exponent (odd, 3
    /// up to 33 bits) as the RustCrypto `rsa` crate did before it.
    fn from_pkcs1_der(der_bytes: &[u8]) -> Result<Self, SigstoreError> {
        let bad = |e: &dyn std::fmt::Display| key_err(format!("RSA public key: {e}"));
        let key = aws_lc_rs::rsa::PublicKey::from_der(der_bytes).map_err(|e| bad(&e))?;
        let bits = lc::RsaParameters::public_modulus_len(der_bytes).map_err(|e| bad(&e))?;
        let spki = key.as_der().map_err(|e| bad(&e))?.as_ref().to_vec();
        let sha256 = ParsedPublicKey::new(&lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY, der_bytes)
            .map_err(|e| bad(&e))?;
        Ok(Self {
            inner: Inner::Rsa {
                pkcs1: der_bytes.to_vec(),
                bits,
                sha256,
            },
            spki,
        })
    }

    /// `cryptoutils.UnmarshalPEMToPublicKey`: the first PEM block (anything
    /// after it is ignored), `PUBLIC KEY` (PKIX) or `RSA PUBLIC KEY` (PKCS #1).
    pub fn from_pem(data: &[u8]) -> Result<Self, SigstoreError> {
        let (block, _) = pem::decode(data).ok_or_else(|| key_err("PEM decoding failed"))?;
        match block.kind.as_str() {
            "PUBLIC KEY" => Self::from_spki_der(&block.bytes),
            "RSA PUBLIC KEY" => Self::from_pkcs1_der(&block.bytes),
            other => Err(key_err(format!(
                "unknown Public key PEM file type: {other}. Are you trying to use a private key instead?"
            ))),
        }
    }

    /// sigstore `LoadVerifier(key, SHA256).VerifySignature`: ECDSA (ASN.1,
    /// P-384 too) and RSA PKCS #1 v1.5 over SHA-256 of `message`; Ed25519 over
    /// `message` itself.
    pub(crate) fn verify_message(&self, message: &[u8], sig: &[u8]) -> Result<(), String> {
        let scheme = match self.inner {
            Inner::Ecdsa { .. } => Scheme::Ecdsa(Hash::Sha256),
            Inner::Rsa { .. } => Scheme::RsaPkcs1(Hash::Sha256),
            Inner::Ed25519(_) => Scheme::Ed25519,
        };
        self.verify(scheme, message, sig)
    }

    /// A signature over `message` made with `scheme` (Go `ecdsa.VerifyASN1`,
    /// `rsa.VerifyPKCS1v15`, `ed25519.Verify` after hashing as the scheme says).
    pub(crate) fn verify(&self, scheme: Scheme, message: &[u8], sig: &[u8]) -> Result<(), String> {
        fn with(alg: &'static dyn VerificationAlgorithm, key: &[u8], message: &[u8], sig: &[u8]) -> bool {
            UnparsedPublicKey::new(alg, key).verify(message, sig).is_ok()
        }
        match (scheme, &self.inner) {
            (Scheme::Ecdsa(h), Inner::Ecdsa { p384, point, sha256 }) => {
                let ok = if h == Hash::Sha256 {
                    sha256.verify_sig(message, sig).is_ok()
                } else {
                    with(ecdsa_alg(*p384, h), point, message, sig)
                };
                ok.then_some(())
                    .ok_or_else(|| "invalid signature when validating ASN.1 encoded signature".into())
            }
            (Scheme::RsaPkcs1(h), Inner::Rsa { pkcs1, bits, sha256 }) => {
                let alg = rsa_alg(h, *bits)?;
                let ok = if h == Hash::Sha256 {
                    sha256.verify_sig(message, sig).is_ok()
                } else {
                    with(alg, pkcs1, message, sig)
                };
                ok.then_some(()).ok_or_else(|| "crypto/rsa: verification error".into())
            }
            (Scheme::Ed25519, Inner::Ed25519(k)) => {
                if sig.len() != 64 {
                    return Err("invalid signature".into());
                }
                // Go's ed25519.Verify and aws-lc's are both the cofactorless check with canonical S.
                k.verify_sig(message, sig)
                    .map_err(|_| "failed to verify signature".into())
            }
            (scheme, _) => Err(format!(
                "signature algorithm {scheme:?} does not match the issuer's {} public key",
                self.algorithm()
            )),
        }
    }
}

/// What c/image does with one key file (`keyPath`, each of `keyPaths`):
/// `cryptoutils.UnmarshalPEMToPublicKey`, which reads the **first** PEM block
/// only. The result therefore always holds exactly one key; several files give
/// several keys (call this once per file).
pub fn parse_public_keys(pem_data: &[u8]) -> Result<Vec<PublicKey>, SigstoreError> {
    if pem_data.len() > crate::limits::MAX_KEY_FILE_SIZE {
        return Err(SigstoreError::new(
            Reason::SigstoreTooLarge,
            "public key file too large",
        ));
    }
    Ok(vec![PublicKey::from_pem(pem_data)?])
}

/// A Rekor key file (`rekorPublicKeyPath`, each of `rekorPublicKeyPaths`): as
/// [`parse_public_keys`], and it must be ECDSA (c/image: "Rekor public key N
/// is not using ECDSA").
pub fn parse_rekor_public_key(pem_data: &[u8]) -> Result<PublicKey, SigstoreError> {
    let k = parse_public_keys(pem_data)?.remove(0);
    if !k.is_ecdsa() {
        return Err(SigstoreError::new(
            Reason::SigstoreRekorKeyNotEcdsa,
            "Rekor public key is not using ECDSA",
        ));
    }
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    const MSG: &[u8] = b"hello sigstore";
    const ED_PUB: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAHj4PfxV5ocPKBC9DtSBqzr6ujnFeBnbjz+keMS3Kx/s=
-----END PUBLIC KEY-----";
    const ED_SIG: &str = "tiOAU0egW1Juo/nKiTm4xJ6wu6Nnu2TrTiSEIkVXh438ct7+nsJDp2Pr4ClHzPAjunFM2dFIx81u2f6vy1jXBQ==";
    const P384_PUB: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEcSoWz7DF9a5mX9uT9+fdieugiwSAabac
yx/Z3IEjmh/NAYWzQsAwSIhjaPVLRh+McpepuwbFLKUlvsdmd9UgrfhBkCANeCEZ
KcfK9vXjYBfGbKCoFZgKpwGLUl59XWgI
-----END PUBLIC KEY-----";
    const P384_SIG: &str = "MGQCMBf/uyvMChUSMaQDo5HasXNc+ER3AdKlGByb7BiSYEFp0XcKFcfVOgBFly2yVpyNBwIwEOJBP/xDQ/V/HXytRYrLnH7+4+lJEsQyheNhKW6M6sxwwnlYNp8KmwifkCwGGMlE";
    const P256_COMPRESSED: &str = "-----BEGIN PUBLIC KEY-----
MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADM/tNFqPeZ+FoyUj1d05g91eOY3CO
socRuHQGd2MWJDA=
-----END PUBLIC KEY-----";
    const RSA_PKCS1: &str = "-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEA1IUcAxYRT1a8kZ3EUHsJhGSm+mhfjOPJ6j623+8yQMACsHwpMAv2
UT6yEe2kKy56MkCMmni9Jd9hf2Cgviw4WAOx888gNFl1XIPKVgKc4gzRIWGUV4Ew
j5TWGLJPJWsFo+DT81muM8pQE5nf9a5wiv5MjOuvvsDO1hAm2NytwibVsrc+sJQQ
PlaVpIb98nMvGklyXDZBAwqpF1U/QcmpdjZY7Sz6YdqrVeawLcfJk+p7McvywWkw
j/mi4jrdWUFgHFODuIwwbt5W7Z6coLUoPmkRxOfJZkywDO3eBSem+RfCdue8CeTb
0ii5Ggu+wyqOd6yxL86m0jSwTplcUnaXDwIDAQAB
-----END RSA PUBLIC KEY-----";
    const RSA_PKIX: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1IUcAxYRT1a8kZ3EUHsJ
hGSm+mhfjOPJ6j623+8yQMACsHwpMAv2UT6yEe2kKy56MkCMmni9Jd9hf2Cgviw4
WAOx888gNFl1XIPKVgKc4gzRIWGUV4Ewj5TWGLJPJWsFo+DT81muM8pQE5nf9a5w
iv5MjOuvvsDO1hAm2NytwibVsrc+sJQQPlaVpIb98nMvGklyXDZBAwqpF1U/Qcmp
djZY7Sz6YdqrVeawLcfJk+p7McvywWkwj/mi4jrdWUFgHFODuIwwbt5W7Z6coLUo
PmkRxOfJZkywDO3eBSem+RfCdue8CeTb0ii5Ggu+wyqOd6yxL86m0jSwTplcUnaX
DwIDAQAB
-----END PUBLIC KEY-----";
    const RSA_SIG: &str = "OXzx8LqHWTA8v2ZXWlUJ2K5c/BnD63+Fp35EBFOv8g6YCTeeM1e9kbw5CdnGcHg4nWqAvvbay9+ZKhDIAu7DGoPd92TOp2wxgEBYyBpAq1km8vq/FzHWsyPpQYV+RW7V9TMVLrBQwkdOctKRC9YmeD5paEF0v52QSPPtLRGLr5q0MzxOEBr7cQSN9AJl22iOowV00fcER6Z896dY7XRc6TY19l+OBlDJn/HmWB/T4iIRSO3FfsZ4i+z0cx/Ws4kXoKAcRdH75OXRBG8uHwoZ9p6YRWtb3+2WJaRANetdkuM3Y3gHm7sDBpdH2sAK/YwpStJv/XYM3krXiL0ZfE8J4A==";
    const X25519: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VuAyEAc9IHQUoBxiPASkw6PC1Ms6O12+wu3a733Iir9bJTTFM=
-----END PUBLIC KEY-----";

    /// DER TLV (definite length).
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match body.len() {
            n @ 0..=127 => out.push(n as u8),
            n @ 128..=255 => out.extend([0x81, n as u8]),
            n => out.extend([0x82, (n >> 8) as u8, n as u8]),
        }
        out.extend(body);
        out
    }

    /// An `RSA PUBLIC KEY` PEM with an odd modulus of exactly `bits` bits (2^(bits-1) + 1) and e = 65537.
    fn rsa_pub_of_bits(bits: usize) -> Vec<u8> {
        let mut n = vec![0u8; bits.div_ceil(8) + 1];
        n[1] = 1 << ((bits - 1) % 8);
        *n.last_mut().unwrap() |= 1;
        let der = tlv(0x30, &[tlv(0x02, &n), tlv(0x02, &[1, 0, 1])].concat());
        use base64::Engine as _;
        format!(
            "-----BEGIN RSA PUBLIC KEY-----\n{}\n-----END RSA PUBLIC KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        )
        .into_bytes()
    }

    #[test]
    fn rsa_key_sizes() {
        let sig = vec![1u8; 16];
        // Up to 16384 bits a key loads; it verifies with 1024 to 8192 bits.
        assert_eq!(
            PublicKey::from_pem(&rsa_pub_of_bits(16385)).unwrap_err().code,
            "sigstore-key-invalid"
        );
        for (bits, says) in [
            (1000, "smaller than 1024"),
            (8200, "larger than 8192"),
            (16384, "larger than 8192"),
        ] {
            let k = PublicKey::from_pem(&rsa_pub_of_bits(bits)).unwrap();
            let e = k.verify_message(MSG, &sig).unwrap_err();
            assert!(e.contains(says), "{bits}: {e}");
        }
        // In range: the signature itself is judged.
        let k = PublicKey::from_pem(&rsa_pub_of_bits(1024)).unwrap();
        assert_eq!(
            k.verify_message(MSG, &sig).unwrap_err(),
            "crypto/rsa: verification error"
        );
        // SHA-384 (a certificate's sha384WithRSAEncryption) takes 2048 bits or more.
        let e = k.verify(Scheme::RsaPkcs1(Hash::Sha384), MSG, &sig).unwrap_err();
        assert!(e.contains("SHA-384"), "{e}");
        let k = PublicKey::from_pem(&rsa_pub_of_bits(2048)).unwrap();
        assert_eq!(
            k.verify(Scheme::RsaPkcs1(Hash::Sha384), MSG, &sig).unwrap_err(),
            "crypto/rsa: verification error"
        );
        // An even exponent (65538 here) is refused at load, as before.
        assert_eq!(
            PublicKey::from_pem(RSA_PKCS1.replace("DwIDAQAB", "DwIDAQAC").as_bytes())
                .unwrap_err()
                .code,
            "sigstore-key-invalid"
        );
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    #[test]
    fn sigstore_key_types() {
        // Signatures made with openssl (Ed25519 over the message; ECDSA and RSA over its SHA-256).
        let ed = PublicKey::from_pem(ED_PUB.as_bytes()).unwrap();
        assert_eq!(ed.algorithm(), "ed25519");
        assert!(ed.verify_message(MSG, &b64(ED_SIG)).is_ok());
        assert!(ed.verify_message(b"other", &b64(ED_SIG)).is_err());
        let p384 = PublicKey::from_pem(P384_PUB.as_bytes()).unwrap();
        assert!(p384.is_ecdsa());
        assert!(p384.verify_message(MSG, &b64(P384_SIG)).is_ok());
        assert!(p384.verify_message(b"other", &b64(P384_SIG)).is_err());
        let pkcs1 = PublicKey::from_pem(RSA_PKCS1.as_bytes()).unwrap();
        let pkix = PublicKey::from_pem(RSA_PKIX.as_bytes()).unwrap();
        // The PKCS #1 form is re-encoded as Go's MarshalPKIXPublicKey would.
        assert_eq!(pkcs1.spki_der(), pkix.spki_der());
        assert!(pkcs1.verify_message(MSG, &b64(RSA_SIG)).is_ok());
        assert!(pkix.verify_message(b"other", &b64(RSA_SIG)).is_err());
        // Go's ParsePKIXPublicKey refuses compressed points; X25519 is not a signing key.
        assert_eq!(
            PublicKey::from_pem(P256_COMPRESSED.as_bytes()).unwrap_err().code,
            "sigstore-key-invalid"
        );
        assert_eq!(
            PublicKey::from_pem(X25519.as_bytes()).unwrap_err().code,
            "sigstore-unsupported-key"
        );
        // First block only; text before it is skipped; other block types refused.
        let two = format!("junk\n{ED_PUB}\n{P384_PUB}\n");
        assert_eq!(parse_public_keys(two.as_bytes()).unwrap()[0].algorithm(), "ed25519");
        let cert = ED_PUB.replace("PUBLIC KEY", "CERTIFICATE");
        assert_eq!(
            PublicKey::from_pem(cert.as_bytes()).unwrap_err().code,
            "sigstore-key-invalid"
        );
        assert_eq!(
            parse_rekor_public_key(ED_PUB.as_bytes()).unwrap_err().code,
            "sigstore-rekor-key-not-ecdsa"
        );
    }
}
