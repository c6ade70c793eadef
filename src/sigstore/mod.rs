//! Sigstore (cosign) signature verification, as containers/image does it
//! (`signature/policy_eval_sigstore.go`, `signature/internal/sigstore_payload.go`,
//! `signature/internal/rekor_set.go`, `signature/fulcio_cert.go`,
//! `signature/pki_cert.go`): the cryptographic part only. Policy parsing and
//! the identity/digest matching are the caller's; see `docs/sigstore-core.md`.
//!
//! Everything is synchronous and offline.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;

use crate::json::{self, ReadRules};
use crate::Reason;

mod keys;
mod payload;
mod pem;
mod privkey;
mod rekor;
mod x509;

pub use keys::{parse_public_keys, parse_rekor_public_key, PublicKey};
pub use payload::{UntrustedPayload, SIGSTORE_SIGNATURE_TYPE};
pub use privkey::{
    GeneratedKey, PrivateKey, PrivateKeyError, COSIGN_PRIVATE_KEY_PEM_TYPE, MAX_SCRYPT_MEMORY,
    SIGSTORE_PRIVATE_KEY_PEM_TYPE,
};
pub use x509::CertPool;

/// The MIME type of a signature (others are other attachments; c/image skips them).
pub const SIGSTORE_SIGNATURE_MIME_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The base64 signature over the payload.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// The Rekor SET ("bundle").
pub const SET_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// The signing certificate (PEM).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Intermediate certificates (PEM; the last one, the root, is not used).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// The prefix of a sigstore signature in c/image's typed blob format (`dir:`, lookaside).
pub const TYPED_BLOB_PREFIX: &[u8] = b"\x00sigstore-json\n";

/// Why a sigstore signature was not accepted: `code`, a stable reason code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreError {
    /// See the list in `docs/sigstore-core.md`.
    pub code: Reason,
    /// Human-readable detail (c/image's wording where there is one).
    pub message: String,
}

impl SigstoreError {
    pub(crate) fn new(code: Reason, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for SigstoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for SigstoreError {}

fn malformed(msg: impl Into<String>) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreMalformed, msg)
}

/// One sigstore signature: MIME type, payload and annotations, untrusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigstoreSignature {
    mime_type: String,
    payload: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

impl SigstoreSignature {
    /// From the parts of a registry attachment (layer MIME type, layer blob, layer annotations).
    pub fn from_components(mime_type: String, payload: Vec<u8>, annotations: BTreeMap<String, String>) -> Self {
        Self {
            mime_type,
            payload,
            annotations,
        }
    }

    /// The JSON of the typed blob format (after [`TYPED_BLOB_PREFIX`]), read as
    /// c/image reads it (`sigstoreFromBlobChunk`: Go `json.Unmarshal` into
    /// `{mimeType, payload (base64), annotations (string map)}`): member names
    /// match ignoring case, unknown members are ignored, a repeated member
    /// overrides (repeated `annotations` objects merge), `null` leaves a field
    /// empty. At most [`crate::limits::MAX_SIGNATURE_SIZE`] bytes.
    pub fn parse(json: &[u8]) -> Result<Self, SigstoreError> {
        if json.len() > crate::limits::MAX_SIGNATURE_SIZE {
            return Err(SigstoreError::new(
                Reason::SigstoreTooLarge,
                "sigstore signature too large",
            ));
        }
        let v =
            json::parse_with(json, ReadRules::Go).map_err(|e| malformed(format!("sigstore signature JSON: {e}")))?;
        let mut out = Self {
            mime_type: String::new(),
            payload: Vec::new(),
            annotations: BTreeMap::new(),
        };
        let members = json::go_struct(Some(&v), "sigstore signature")
            .map_err(|e| malformed(format!("sigstore signature JSON: {e}")))?
            .unwrap_or(&[]);
        for m in members {
            let e = |e: String| malformed(format!("sigstore signature JSON: {e}"));
            let (k, val) = (m.key.as_str(), &m.value);
            if json::go_field_is(k, "mimeType") {
                out.mime_type = json::go_string(val, "mimeType").map_err(e)?;
            } else if json::go_field_is(k, "payload") {
                out.payload = json::go_bytes(Some(val), "payload").map_err(e)?.unwrap_or_default();
            } else if json::go_field_is(k, "annotations") {
                match &val.kind {
                    json::Kind::Null => out.annotations.clear(),
                    json::Kind::Object(entries) => {
                        for a in entries {
                            out.annotations.insert(
                                a.key.clone(),
                                json::go_string(&a.value, "annotations value").map_err(e)?,
                            );
                        }
                    }
                    _ => return Err(e(format!("cannot unmarshal {} into annotations", json::go_kind(val)))),
                }
            }
        }
        Ok(out)
    }

    /// The typed blob c/image writes (`Sigstore.MarshalJSON` after the prefix):
    /// `{"mimeType","payload" (base64),"annotations"}` in that order, annotations sorted.
    pub fn to_blob(&self) -> Vec<u8> {
        let doc = serde_json::json!({
            "mimeType": self.mime_type,
            "payload": base64::engine::general_purpose::STANDARD.encode(&self.payload),
            "annotations": self.annotations,
        });
        let mut out = TYPED_BLOB_PREFIX.to_vec();
        out.extend(serde_json::to_vec(&doc).expect("a JSON value serializes"));
        out
    }

    /// A new signature, as c/image's sigstore signer makes it with a private
    /// key (no Fulcio certificate, no Rekor upload): the payload for
    /// `manifest_digest` as `docker_reference`, signed, the base64 signature
    /// in the `dev.cosignproject.cosign/signature` annotation. Checked before
    /// it is returned: it verifies with the key's public key and says what
    /// was asked.
    pub fn sign(
        key: &PrivateKey,
        manifest_digest: &str,
        docker_reference: &str,
        creator: Option<&str>,
        timestamp: Option<i64>,
    ) -> Result<Self, PrivateKeyError> {
        let want = UntrustedPayload {
            docker_manifest_digest: manifest_digest.to_owned(),
            docker_reference: docker_reference.to_owned(),
            creator: creator.map(str::to_owned),
            timestamp,
        };
        let payload = want.to_json();
        let signature = key.sign_message(&payload)?;
        let mut annotations = BTreeMap::new();
        annotations.insert(
            SIGNATURE_ANNOTATION.to_owned(),
            base64::engine::general_purpose::STANDARD.encode(signature),
        );
        let sig = Self::from_components(SIGSTORE_SIGNATURE_MIME_TYPE.to_owned(), payload, annotations);
        let root = TrustRoot::PublicKeys(vec![key.public_key().clone()]);
        match verify(&sig, &root, &[]) {
            Ok(got) if got == want => Ok(sig),
            Ok(_) => Err(PrivateKeyError {
                code: Reason::SigningFailed,
                message: "the new sigstore signature reads back differently from what was signed".into(),
            }),
            Err(e) => Err(PrivateKeyError {
                code: Reason::SigningFailed,
                message: format!("the new sigstore signature does not verify: {e}"),
            }),
        }
    }

    /// A whole typed blob: [`TYPED_BLOB_PREFIX`] then the JSON.
    pub fn parse_blob(blob: &[u8]) -> Result<Self, SigstoreError> {
        let json = blob
            .strip_prefix(TYPED_BLOB_PREFIX)
            .ok_or_else(|| malformed("not a sigstore signature (no \\x00sigstore-json\\n prefix)"))?;
        Self::parse(json)
    }

    /// The MIME type.
    pub fn mime_type(&self) -> &str {
        &self.mime_type
    }

    /// Whether this is a signature (c/image skips other attachments without rejecting).
    pub fn is_signature(&self) -> bool {
        self.mime_type == SIGSTORE_SIGNATURE_MIME_TYPE
    }

    /// The payload bytes (what is signed).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// All annotations, recognized or not.
    pub fn annotations(&self) -> &BTreeMap<String, String> {
        &self.annotations
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }
}

/// Fulcio: certificates issued by one of `ca_certs` to `subject_email` as
/// authenticated by `oidc_issuer`.
#[derive(Debug, Clone)]
pub struct FulcioRoot {
    /// The CA certificates.
    pub ca_certs: CertPool,
    /// Required OIDC issuer (certificate extension 1.3.6.1.4.1.57264.1.1 / .8).
    pub oidc_issuer: String,
    /// Required email SAN.
    pub subject_email: String,
}

impl FulcioRoot {
    /// `caPath`/`caData` contents (PEM; c/image `AppendCertsFromPEM`: blocks that
    /// are not certificates, or do not parse, are skipped, one must load).
    pub fn new(ca_pem: &[u8], oidc_issuer: &str, subject_email: &str) -> Result<Self, SigstoreError> {
        let mut ca_certs = CertPool::default();
        if ca_certs.append_from_pem(ca_pem) == 0 {
            return Err(SigstoreError::new(
                Reason::SigstoreTrustRootInvalid,
                "error loading Fulcio CA certificates",
            ));
        }
        if oidc_issuer.is_empty() {
            return Err(SigstoreError::new(
                Reason::SigstoreTrustRootInvalid,
                "Fulcio use set up without OIDC issuer",
            ));
        }
        if subject_email.is_empty() {
            return Err(SigstoreError::new(
                Reason::SigstoreTrustRootInvalid,
                "Fulcio use set up without subject email",
            ));
        }
        Ok(Self {
            ca_certs,
            oidc_issuer: oidc_issuer.into(),
            subject_email: subject_email.into(),
        })
    }
}

/// An X.509 PKI: certificates chaining to `roots` (through `intermediates` and
/// the signature's chain annotation) with the required subject.
#[derive(Debug, Clone)]
pub struct PkiRoot {
    /// Trusted roots.
    pub roots: CertPool,
    /// Trusted intermediates, if configured.
    pub intermediates: Option<CertPool>,
    /// Required email SAN, if any.
    pub subject_email: Option<String>,
    /// Required hostname (Go `VerifyHostname`: DNS SANs with wildcards, or IP SANs), if any.
    pub subject_hostname: Option<String>,
}

impl PkiRoot {
    /// `caRootsPath`/`caRootsData` (as [`FulcioRoot::new`]), optional
    /// `caIntermediatesPath`/`caIntermediatesData` (strict: all of it must be
    /// certificates), and at least one of the subject email and hostname
    /// (an empty string counts as absent, as in c/image).
    pub fn new(
        roots_pem: &[u8],
        intermediates_pem: Option<&[u8]>,
        subject_email: Option<&str>,
        subject_hostname: Option<&str>,
    ) -> Result<Self, SigstoreError> {
        let bad = |m: String| SigstoreError::new(Reason::SigstoreTrustRootInvalid, m);
        let mut roots = CertPool::default();
        if roots.append_from_pem(roots_pem) == 0 {
            return Err(bad("error loading PKI CA Roots certificates".into()));
        }
        let intermediates = match intermediates_pem {
            None => None,
            Some(p) => {
                let mut pool = CertPool::default();
                for c in x509::certificates_from_pem(p)
                    .map_err(|e| bad(format!("loading trusted intermediate certificates: {e}")))?
                {
                    pool.add(c);
                }
                Some(pool)
            }
        };
        let subject_email = subject_email.filter(|s| !s.is_empty()).map(String::from);
        let subject_hostname = subject_hostname.filter(|s| !s.is_empty()).map(String::from);
        if subject_email.is_none() && subject_hostname.is_none() {
            return Err(bad("PKI use set up without subject email or subject hostname".into()));
        }
        Ok(Self {
            roots,
            intermediates,
            subject_email,
            subject_hostname,
        })
    }
}

/// Exactly one trust root, as a `sigstoreSigned` requirement has.
#[derive(Debug, Clone)]
pub enum TrustRoot {
    /// `keyPath`/`keyPaths`/`keyData`/`keyDatas`: any one key verifying suffices.
    PublicKeys(Vec<PublicKey>),
    /// `fulcio` (requires Rekor keys).
    Fulcio(FulcioRoot),
    /// `pki` (Rekor keys not allowed).
    Pki(PkiRoot),
}

fn missing(key: &str) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreMissingAnnotation, format!("missing {key} annotation"))
}

fn cert_invalid(msg: impl Into<String>) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreCertificateInvalid, msg)
}

fn identity(msg: impl Into<String>) -> SigstoreError {
    SigstoreError::new(Reason::SigstoreCertificateIdentity, msg)
}

/// How imgsig names a sigstore public key: `sha256:<hex>` of its DER
/// SubjectPublicKeyInfo (the same for the key file and its PEM copy).
pub fn key_fingerprint(k: &PublicKey) -> String {
    use sha2::Digest as _;
    format!("sha256:{}", crate::digest::to_hex(&sha2::Sha256::digest(k.spki_der())))
}

fn spki_pem(der_bytes: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der_bytes);
    let mut out = String::from("-----BEGIN PUBLIC KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).expect("base64 is ASCII"));
        out.push('\n');
    }
    out.push_str("-----END PUBLIC KEY-----\n");
    out.into_bytes()
}

/// The leaf and the intermediates from the signature's annotations (c/image:
/// every chain certificate but the last, which is the root).
fn leaf_and_chain(sig: &SigstoreSignature, pool: &mut CertPool) -> Result<x509::Cert, SigstoreError> {
    let cert = sig
        .annotation(CERTIFICATE_ANNOTATION)
        .ok_or_else(|| missing(CERTIFICATE_ANNOTATION))?;
    if let Some(chain) = sig.annotation(CHAIN_ANNOTATION).filter(|c| !c.is_empty()) {
        let chain = x509::certificates_from_pem(chain.as_bytes())
            .map_err(|e| cert_invalid(format!("loading certificate chain: {e}")))?;
        if chain.len() > 1 {
            for c in &chain[..chain.len() - 1] {
                pool.add(c.clone());
            }
        }
    }
    let mut leaves = x509::certificates_from_pem(cert.as_bytes())
        .map_err(|e| cert_invalid(format!("parsing leaf certificate: {e}")))?;
    match leaves.len() {
        0 => Err(cert_invalid("no certificate found in signature certificate data")),
        1 => Ok(leaves.remove(0)),
        _ => Err(cert_invalid(
            "unexpected multiple certificates present in signature certificate data",
        )),
    }
}

const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

/// c/image `fulcioIssuerInCertificate`.
fn fulcio_issuer(cert: &x509::Cert) -> Result<String, SigstoreError> {
    use der::{Decode, Tagged};
    let mut v1 = None;
    let mut v2 = None;
    for (oid, value) in &cert.extensions {
        if oid == OID_ISSUER_V1 {
            v1 = Some(String::from_utf8_lossy(value).into_owned());
        } else if oid == OID_ISSUER_V2 {
            let any = der::asn1::AnyRef::from_der(value)
                .map_err(|e| cert_invalid(format!("invalid ASN.1 in OIDC issuer v2 extension: {e}")))?;
            let s = match any.tag() {
                der::Tag::Utf8String | der::Tag::PrintableString | der::Tag::Ia5String => {
                    std::str::from_utf8(any.value())
                        .map_err(|e| cert_invalid(format!("invalid ASN.1 in OIDC issuer v2 extension: {e}")))?
                }
                t => {
                    return Err(cert_invalid(format!(
                        "invalid ASN.1 in OIDC issuer v2 extension: unexpected tag {t}"
                    )))
                }
            };
            v2 = Some(s.to_owned());
        }
    }
    match (v1, v2) {
        (Some(a), Some(b)) if a != b => Err(cert_invalid(format!(
            "inconsistent OIDC issuer extension values: v1 {a:?}, v2 {b:?}"
        ))),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(cert_invalid("Fulcio certificate is missing the issuer extension")),
    }
}

fn verify_fulcio(root: &FulcioRoot, sig: &SigstoreSignature, at: i64) -> Result<PublicKey, SigstoreError> {
    let mut pool = CertPool::default();
    let leaf = leaf_and_chain(sig, &mut pool)?;
    x509::verify_chain(&leaf, &pool, &root.ca_certs, at, true)
        .map_err(|e| cert_invalid(format!("veryfing leaf certificate failed: {e}")))?;
    let issuer = fulcio_issuer(&leaf)?;
    if issuer != root.oidc_issuer {
        return Err(identity(format!("Unexpected Fulcio OIDC issuer {issuer:?}")));
    }
    if !leaf.emails.contains(&root.subject_email) {
        return Err(identity(format!(
            "Required email {:?} not found (got {:?})",
            root.subject_email, leaf.emails
        )));
    }
    leaf.public_key()
}

fn verify_pki(root: &PkiRoot, sig: &SigstoreSignature, now: i64) -> Result<PublicKey, SigstoreError> {
    let mut pool = root.intermediates.clone().unwrap_or_default();
    let leaf = leaf_and_chain(sig, &mut pool)?;
    x509::verify_chain(&leaf, &pool, &root.roots, now, false)
        .map_err(|e| cert_invalid(format!("veryfing leaf certificate failed: {e}")))?;
    if let Some(email) = &root.subject_email {
        if !leaf.emails.contains(email) {
            return Err(identity(format!(
                "Required email {email:?} not found (got {:?})",
                leaf.emails
            )));
        }
    }
    if let Some(host) = &root.subject_hostname {
        leaf.verify_hostname(host)
            .map_err(|e| identity(format!("Unexpected subject hostname: {e}")))?;
    }
    leaf.public_key()
}

/// Verifies `sig` against `root`, with `rekor_keys` (empty: no Rekor SET
/// required) and returns the payload it authenticates. PKI certificates are
/// checked at the current time (as c/image does); see [`verify_at`].
pub fn verify(
    sig: &SigstoreSignature,
    root: &TrustRoot,
    rekor_keys: &[PublicKey],
) -> Result<UntrustedPayload, SigstoreError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    verify_at(sig, root, rekor_keys, now)
}

/// [`verify`] with "now" given (Unix seconds): used only for PKI certificate
/// validity. Fulcio certificates are checked at the Rekor integrated time.
pub fn verify_at(
    sig: &SigstoreSignature,
    root: &TrustRoot,
    rekor_keys: &[PublicKey],
    now: i64,
) -> Result<UntrustedPayload, SigstoreError> {
    if let Some(i) = rekor_keys.iter().position(|k| !k.is_ecdsa()) {
        return Err(SigstoreError::new(
            Reason::SigstoreRekorKeyNotEcdsa,
            format!("Rekor public key {} is not using ECDSA", i + 1),
        ));
    }
    let size = sig.payload.len() + sig.annotations.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    if size > crate::limits::MAX_SIGNATURE_SIZE {
        return Err(SigstoreError::new(
            Reason::SigstoreTooLarge,
            "sigstore signature too large",
        ));
    }
    if !sig.is_signature() {
        return Err(SigstoreError::new(
            Reason::SigstoreNotASignature,
            format!("sigstore attachment of type {:?} is not a signature", sig.mime_type),
        ));
    }
    let b64_sig = sig
        .annotation(SIGNATURE_ANNOTATION)
        .ok_or_else(|| missing(SIGNATURE_ANNOTATION))?;
    let payload = sig.payload();

    let keys: Vec<PublicKey> = match root {
        TrustRoot::PublicKeys(keys) if keys.is_empty() => {
            return Err(SigstoreError::new(
                Reason::SigstoreTrustRootInvalid,
                "no public keys given",
            ))
        }
        TrustRoot::PublicKeys(keys) if rekor_keys.is_empty() => keys.clone(),
        TrustRoot::PublicKeys(keys) => {
            let set = sig.annotation(SET_ANNOTATION).ok_or_else(|| missing(SET_ANNOTATION))?;
            let mut failures = Vec::new();
            let mut found = None;
            for k in keys {
                match rekor::verify_set(rekor_keys, set.as_bytes(), &spki_pem(k.spki_der()), b64_sig, payload) {
                    Ok(_) => {
                        found = Some(k.clone());
                        break;
                    }
                    Err(e) => failures.push(e.message),
                }
            }
            match found {
                Some(k) => vec![k],
                None => {
                    return Err(SigstoreError::new(
                        Reason::SigstoreRekorInvalid,
                        format!("No public key verified against the RekorSET: {}", failures.join(", ")),
                    ))
                }
            }
        }
        TrustRoot::Fulcio(f) => {
            if rekor_keys.is_empty() {
                return Err(SigstoreError::new(
                    Reason::SigstoreRekorRequired,
                    "Fulcio CA specified without a Rekor public key",
                ));
            }
            let set = sig.annotation(SET_ANNOTATION).ok_or_else(|| missing(SET_ANNOTATION))?;
            let cert = sig
                .annotation(CERTIFICATE_ANNOTATION)
                .ok_or_else(|| missing(CERTIFICATE_ANNOTATION))?;
            let time = rekor::verify_set(rekor_keys, set.as_bytes(), cert.as_bytes(), b64_sig, payload)?;
            vec![verify_fulcio(f, sig, time)?]
        }
        TrustRoot::Pki(p) => {
            if !rekor_keys.is_empty() {
                return Err(SigstoreError::new(
                    Reason::SigstoreRekorNotAllowed,
                    "PKI specified with a Rekor public key",
                ));
            }
            vec![verify_pki(p, sig, now)?]
        }
    };

    // c/image VerifySigstorePayload.
    let raw_sig = json::go_base64(b64_sig.as_bytes()).map_err(|e| malformed(format!("base64 decoding: {e}")))?;
    let mut failures = Vec::new();
    let mut ok = false;
    for k in &keys {
        match k.verify_message(payload, &raw_sig) {
            Ok(()) => {
                ok = true;
                break;
            }
            Err(e) => failures.push(e),
        }
    }
    if !ok {
        return Err(SigstoreError::new(
            Reason::SigstoreBadSignature,
            format!("cryptographic signature verification failed: {}", failures.join(", ")),
        ));
    }
    UntrustedPayload::parse(payload)
}
