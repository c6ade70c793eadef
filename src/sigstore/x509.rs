//! Certificates as c/image checks them with Go's `crypto/x509`: parsing,
//! chain building from a leaf through intermediates to a root
//! (`Certificate.Verify` with `ExtKeyUsageCodeSigning`), and the subject
//! checks (`EmailAddresses`, `VerifyHostname`).

use std::net::IpAddr;

use der::{Decode, Encode};
use x509_cert::certificate::{CertificateInner, Raw};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAltName};

use super::keys::{Hash, PublicKey, Scheme};
use super::pem;

const OID_SAN: &str = "2.5.29.17";
const OID_BC: &str = "2.5.29.19";
const OID_KU: &str = "2.5.29.15";
const OID_EKU: &str = "2.5.29.37";
const OID_NAME_CONSTRAINTS: &str = "2.5.29.30";
const OID_EKU_ANY: &str = "2.5.29.37.0";
const OID_EKU_CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
/// Extensions Go's x509 parser understands: critical ones are not "unhandled".
const HANDLED: &[&str] = &[
    "2.5.29.14",          // subject key id
    "2.5.29.15",          // key usage
    OID_SAN,              // (unless it names nothing Go knows; see below)
    OID_BC,               //
    OID_NAME_CONSTRAINTS, // refused below: not implemented here
    "2.5.29.31",          // CRL distribution points
    "2.5.29.32",          // certificate policies
    "2.5.29.33",          // policy mappings
    "2.5.29.35",          // authority key id
    "2.5.29.36",          // policy constraints
    OID_EKU,              //
    "2.5.29.54",          // inhibit anyPolicy
    "1.3.6.1.5.5.7.1.1",  // authority information access
];
/// Go's `maxChainSignatureChecks`.
const MAX_SIGNATURE_CHECKS: usize = 100;

/// A parsed certificate and the parts the checks need.
#[derive(Clone)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    tbs: Vec<u8>,
    subject: Vec<u8>,
    issuer: Vec<u8>,
    not_before: i64,
    not_after: i64,
    sig_alg: Result<Scheme, String>,
    signature: Vec<u8>,
    spki: Vec<u8>,
    bc: Option<(bool, Option<u8>)>,
    /// Whether this is a version 3 certificate.
    v3: bool,
    /// Key usage present (non-zero) without keyCertSign.
    ku_forbids_cert_sign: bool,
    eku: Option<Vec<String>>,
    name_constraints: bool,
    pub(crate) emails: Vec<String>,
    dns_names: Vec<String>,
    ips: Vec<[u8; 16]>,
    /// Critical extensions Go would leave unhandled, by OID.
    unhandled_critical: Vec<String>,
    /// Extensions by OID with their raw values (for the Fulcio issuer).
    pub(crate) extensions: Vec<(String, Vec<u8>)>,
}

fn sig_alg(oid: &str) -> Result<Scheme, String> {
    Ok(match oid {
        "1.2.840.113549.1.1.11" => Scheme::RsaPkcs1(Hash::Sha256),
        "1.2.840.113549.1.1.12" => Scheme::RsaPkcs1(Hash::Sha384),
        "1.2.840.113549.1.1.13" => Scheme::RsaPkcs1(Hash::Sha512),
        "1.2.840.10045.4.3.2" => Scheme::Ecdsa(Hash::Sha256),
        "1.2.840.10045.4.3.3" => Scheme::Ecdsa(Hash::Sha384),
        "1.2.840.10045.4.3.4" => Scheme::Ecdsa(Hash::Sha512),
        "1.3.101.112" => Scheme::Ed25519,
        "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" | "1.2.840.113549.1.1.4" => {
            return Err(format!("insecure signature algorithm {oid} (SHA-1/MD5)"))
        }
        "1.2.840.113549.1.1.10" => return Err("RSA-PSS certificate signatures are not supported".into()),
        other => return Err(format!("unsupported certificate signature algorithm {other}")),
    })
}

fn to_16(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl Cert {
    /// Go `x509.ParseCertificate` (as far as these checks need it).
    pub(crate) fn from_der(der_bytes: &[u8]) -> Result<Self, String> {
        let c =
            CertificateInner::<Raw>::from_der(der_bytes).map_err(|e| format!("x509: malformed certificate: {e}"))?;
        let tbs = &c.tbs_certificate;
        if c.signature_algorithm != tbs.signature {
            return Err("x509: inner and outer signature algorithm identifiers don't match".into());
        }
        let enc = |r: der::Result<Vec<u8>>| r.map_err(|e| format!("x509: {e}"));
        let time = |t: &x509_cert::time::Time| t.to_unix_duration().as_secs() as i64;
        let mut cert = Cert {
            der: der_bytes.to_vec(),
            tbs: enc(tbs.to_der())?,
            subject: enc(tbs.subject.to_der())?,
            issuer: enc(tbs.issuer.to_der())?,
            not_before: time(&tbs.validity.not_before),
            not_after: time(&tbs.validity.not_after),
            sig_alg: sig_alg(&c.signature_algorithm.oid.to_string()),
            signature: c
                .signature
                .as_bytes()
                .ok_or("x509: signature is not octet aligned")?
                .to_vec(),
            spki: enc(tbs.subject_public_key_info.to_der())?,
            bc: None,
            v3: tbs.version == x509_cert::certificate::Version::V3,
            ku_forbids_cert_sign: false,
            eku: None,
            name_constraints: false,
            emails: vec![],
            dns_names: vec![],
            ips: vec![],
            unhandled_critical: vec![],
            extensions: vec![],
        };
        for ext in tbs.extensions.iter().flatten() {
            let oid = ext.extn_id.to_string();
            let value = ext.extn_value.as_bytes();
            if cert.extensions.iter().any(|(o, _)| *o == oid) {
                return Err(format!(
                    "x509: certificate contains duplicate extension with OID {oid:?}"
                ));
            }
            let mut handled = HANDLED.contains(&oid.as_str());
            match oid.as_str() {
                OID_BC => {
                    let bc = BasicConstraints::from_der(value)
                        .map_err(|e| format!("x509: invalid basic constraints: {e}"))?;
                    cert.bc = Some((bc.ca, bc.path_len_constraint));
                }
                OID_KU => {
                    let ku = KeyUsage::from_der(value).map_err(|e| format!("x509: invalid key usage: {e}"))?;
                    cert.ku_forbids_cert_sign = !ku.0.is_empty() && !ku.key_cert_sign();
                }
                OID_EKU => {
                    let eku = ExtendedKeyUsage::from_der(value)
                        .map_err(|e| format!("x509: invalid extended key usages: {e}"))?;
                    cert.eku = Some(eku.0.iter().map(|o| o.to_string()).collect());
                }
                OID_NAME_CONSTRAINTS => cert.name_constraints = true,
                OID_SAN => {
                    let san = SubjectAltName::from_der(value)
                        .map_err(|e| format!("x509: invalid subject alternative names: {e}"))?;
                    let mut known = false;
                    for name in &san.0 {
                        match name {
                            GeneralName::Rfc822Name(s) => {
                                cert.emails.push(s.as_str().to_owned());
                                known = true;
                            }
                            GeneralName::DnsName(s) => {
                                cert.dns_names.push(s.as_str().to_owned());
                                known = true;
                            }
                            GeneralName::UniformResourceIdentifier(_) => known = true,
                            GeneralName::IpAddress(o) => {
                                let b = o.as_bytes();
                                let ip = match b.len() {
                                    4 => IpAddr::from(<[u8; 4]>::try_from(b).expect("4 bytes")),
                                    16 => IpAddr::from(<[u8; 16]>::try_from(b).expect("16 bytes")),
                                    n => return Err(format!("x509: cannot parse IP address of length {n}")),
                                };
                                cert.ips.push(to_16(ip));
                                known = true;
                            }
                            _ => {}
                        }
                    }
                    // Go: a SAN naming nothing it parses stays "unhandled" if critical.
                    handled = known;
                }
                _ => {}
            }
            if ext.critical && !handled {
                cert.unhandled_critical.push(oid.clone());
            }
            cert.extensions.push((oid, value.to_vec()));
        }
        Ok(cert)
    }

    pub(crate) fn public_key(&self) -> Result<PublicKey, super::SigstoreError> {
        PublicKey::from_spki_der(&self.spki)
    }

    /// Go `Certificate.CheckSignatureFrom`.
    fn check_signed_by(&self, parent: &Cert) -> Result<(), String> {
        // RFC 5280 4.2.1.9, as Go applies it to every parent, roots included.
        if (parent.v3 && parent.bc.is_none()) || matches!(parent.bc, Some((false, _))) || parent.ku_forbids_cert_sign {
            return Err("x509: invalid signature: parent certificate cannot sign this kind of certificate".into());
        }
        let alg = self.sig_alg.clone()?;
        let key = parent.public_key().map_err(|e| e.message)?;
        key.verify(alg, &self.tbs, &self.signature)
    }

    /// Go `Certificate.isValid` for one certificate of a chain being built.
    fn is_valid(&self, kind: Kind, chain_len: usize, at: i64, ignore_san: bool) -> Result<(), String> {
        if self.unhandled_critical.iter().any(|o| !(ignore_san && o == OID_SAN)) {
            return Err("x509: unhandled critical extension".into());
        }
        if at < self.not_before || at > self.not_after {
            return Err(format!(
                "x509: certificate has expired or is not yet valid: the time {at} is outside [{}, {}]",
                self.not_before, self.not_after
            ));
        }
        if kind != Kind::Leaf && self.name_constraints {
            return Err("x509: name constraints in a CA certificate are not supported by imgsig".into());
        }
        if kind == Kind::Intermediate && !matches!(self.bc, Some((true, _))) {
            return Err("x509: certificate is not authorized to sign other certificates".into());
        }
        if let Some((_, Some(max))) = self.bc {
            if chain_len.saturating_sub(1) > usize::from(max) {
                return Err("x509: too many intermediates for path length constraint".into());
            }
        }
        Ok(())
    }

    /// Go `Certificate.VerifyHostname`.
    pub(crate) fn verify_hostname(&self, host: &str) -> Result<(), String> {
        let candidate_ip = if host.len() >= 3 && host.starts_with('[') && host.ends_with(']') {
            &host[1..host.len() - 1]
        } else {
            host
        };
        if let Ok(ip) = candidate_ip.parse::<IpAddr>() {
            let ip = to_16(ip);
            return if self.ips.contains(&ip) {
                Ok(())
            } else {
                Err(format!("x509: certificate is not valid for IP {candidate_ip}"))
            };
        }
        let candidate = host.to_ascii_lowercase();
        let valid_candidate = valid_hostname(&candidate, false);
        for pattern in &self.dns_names {
            let ok = if valid_candidate && valid_hostname(pattern, true) {
                match_hostnames(pattern, &candidate)
            } else {
                match_exactly(pattern, &candidate)
            };
            if ok {
                return Ok(());
            }
        }
        Err(format!("x509: certificate is not valid for {host}"))
    }
}

fn valid_hostname(host: &str, pattern: bool) -> bool {
    let host = if pattern {
        host
    } else {
        host.strip_suffix('.').unwrap_or(host)
    };
    if host.is_empty() || host == "*" {
        return false;
    }
    for (i, part) in host.split('.').enumerate() {
        if part.is_empty() {
            return false;
        }
        if pattern && i == 0 && part == "*" {
            continue;
        }
        for (j, c) in part.bytes().enumerate() {
            if c.is_ascii_alphanumeric() || c == b'_' || (c == b'-' && j != 0) {
                continue;
            }
            return false;
        }
    }
    true
}

fn match_exactly(a: &str, b: &str) -> bool {
    if a.is_empty() || a == "." || b.is_empty() || b == "." {
        return false;
    }
    a.eq_ignore_ascii_case(b)
}

fn match_hostnames(pattern: &str, host: &str) -> bool {
    let pattern = pattern.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    let p: Vec<&str> = pattern.split('.').collect();
    let h: Vec<&str> = host.split('.').collect();
    p.len() == h.len()
        && p.iter()
            .zip(&h)
            .enumerate()
            .all(|(i, (pp, hp))| (i == 0 && *pp == "*") || pp == hp)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Leaf,
    Intermediate,
    Root,
}

/// A set of certificates (Go `x509.CertPool`).
#[derive(Clone, Default)]
pub struct CertPool {
    pub(crate) certs: Vec<Cert>,
}

impl std::fmt::Debug for CertPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CertPool({} certificates)", self.certs.len())
    }
}

impl CertPool {
    /// Go `CertPool.AppendCertsFromPEM`: every `CERTIFICATE` block without
    /// headers that parses; others are skipped. Returns the number added.
    pub fn append_from_pem(&mut self, data: &[u8]) -> usize {
        let mut rest = data;
        let mut added = 0;
        while let Some((block, after)) = pem::decode(rest) {
            rest = after;
            if block.kind != "CERTIFICATE" || block.has_headers {
                continue;
            }
            if let Ok(c) = Cert::from_der(&block.bytes) {
                self.add(c);
                added += 1;
            }
        }
        added
    }

    pub(crate) fn add(&mut self, c: Cert) {
        if !self.certs.iter().any(|x| x.der == c.der) {
            self.certs.push(c);
        }
    }

    /// The number of certificates.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

/// sigstore `cryptoutils.UnmarshalCertificatesFromPEM`: the whole input
/// (whitespace-trimmed) must be PEM blocks, each a certificate that parses.
pub(crate) fn certificates_from_pem(data: &[u8]) -> Result<Vec<Cert>, String> {
    let mut rest = data.trim_ascii();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (block, after) = pem::decode(rest).ok_or("error during PEM decoding")?;
        out.push(Cert::from_der(&block.bytes)?);
        rest = after;
    }
    Ok(out)
}

/// Go `Certificate.Verify(VerifyOptions{Intermediates, Roots, CurrentTime: at,
/// KeyUsages: [CodeSigning]})`. `ignore_san` drops a critical SAN from the
/// leaf's unhandled extensions, as c/image's Fulcio code does.
pub(crate) fn verify_chain(
    leaf: &Cert,
    intermediates: &CertPool,
    roots: &CertPool,
    at: i64,
    ignore_san: bool,
) -> Result<(), String> {
    leaf.is_valid(Kind::Leaf, 0, at, ignore_san)?;
    let mut chains: Vec<Vec<&Cert>> = Vec::new();
    if roots.certs.iter().any(|r| r.der == leaf.der) {
        chains.push(vec![leaf]);
    } else {
        let mut budget = MAX_SIGNATURE_CHECKS;
        let mut last_err = None;
        build(
            vec![leaf],
            intermediates,
            roots,
            at,
            &mut budget,
            &mut chains,
            &mut last_err,
        )?;
        if chains.is_empty() {
            return Err(last_err.unwrap_or_else(|| "x509: certificate signed by unknown authority".into()));
        }
    }
    if chains.iter().any(|c| chain_allows_code_signing(c)) {
        Ok(())
    } else {
        Err("x509: certificate specifies an incompatible key usage".into())
    }
}

fn build<'a>(
    chain: Vec<&'a Cert>,
    intermediates: &'a CertPool,
    roots: &'a CertPool,
    at: i64,
    budget: &mut usize,
    chains: &mut Vec<Vec<&'a Cert>>,
    last_err: &mut Option<String>,
) -> Result<(), String> {
    let child = *chain.last().expect("non-empty chain");
    let candidates = roots
        .certs
        .iter()
        .map(|c| (c, Kind::Root))
        .chain(intermediates.certs.iter().map(|c| (c, Kind::Intermediate)));
    for (cand, kind) in candidates {
        if cand.subject != child.issuer || chain.iter().any(|c| c.der == cand.der) {
            continue;
        }
        if *budget == 0 {
            return Err("x509: signature check attempts limit reached while verifying certificate chain".into());
        }
        *budget -= 1;
        if let Err(e) = child.check_signed_by(cand) {
            *last_err = Some(format!(
                "x509: certificate signed by unknown authority (possibly because of \"{e}\")"
            ));
            continue;
        }
        if let Err(e) = cand.is_valid(kind, chain.len(), at, false) {
            *last_err = Some(e);
            continue;
        }
        let mut next = chain.clone();
        next.push(cand);
        match kind {
            Kind::Root => chains.push(next),
            _ => build(next, intermediates, roots, at, budget, chains, last_err)?,
        }
    }
    Ok(())
}

/// Go `checkChainForKeyUsage` with `[ExtKeyUsageCodeSigning]`.
fn chain_allows_code_signing(chain: &[&Cert]) -> bool {
    chain.iter().all(|c| match &c.eku {
        None => true,
        Some(ekus) if ekus.is_empty() => true,
        Some(ekus) => ekus.iter().any(|e| e == OID_EKU_ANY || e == OID_EKU_CODE_SIGNING),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigstore_hostname_matching_like_go() {
        assert!(match_hostnames("*.example.com", "a.example.com"));
        assert!(!match_hostnames("*.example.com", "example.com"));
        assert!(!match_hostnames("*.example.com", "a.b.example.com"));
        assert!(match_hostnames("Myhost.Example.com", "myhost.example.com."));
        assert!(valid_hostname("my_host.example.com", false));
        assert!(!valid_hostname("-a.example.com", false));
        assert!(!valid_hostname("*", true));
        assert!(match_exactly("a..b", "A..B"));
    }
}

#[cfg(test)]
#[path = "x509_alg_tests.rs"]
mod alg_tests;

#[cfg(test)]
mod chain_tests {
    use super::*;

    // Made with openssl on 2026-12-02, valid until 2051/2054 (P-256 throughout).
    const ROOT: &str = "-----BEGIN CERTIFICATE-----
MIIBkDCCATWgAwIBAgIUcK1hVcZpJhOknxt02CtfIUYrAlgwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTIwMjE5MTczMVoYDzIwNTQwNDE5
MTkxNzMxWjAUMRIwEAYDVQQDDAlUZXN0IFJvb3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAReZUZ3Q3okAfalE+i0fOvovbYqj1TT7BUH2LsH4mrCdce2DBnXZ42H
49lQCJyytQMza4TeqqBxK8Qgt24jc7bMo2MwYTAdBgNVHQ4EFgQUBVvNzq6HocRG
mN0qlWhVovOdkYwwHwYDVR0jBBgwFoAUBVvNzq6HocRGmN0qlWhVovOdkYwwDwYD
VR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAgQwCgYIKoZIzj0EAwIDSQAwRgIh
AI1Px/Ag+lQyDV/rlylxKletjhu4FmqfFN0XT2PMchbFAiEAupqhDUvVk6LPCN1D
sAhda0YMW77VaH1/IqcsJ21iCv8=
-----END CERTIFICATE-----";
    const NOTCA: &str = "-----BEGIN CERTIFICATE-----
MIIBdzCCAR6gAwIBAgIUU4NwIxZFnIwPeCSq4zBkPAI7JiYwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTIwMjE5MTczMVoYDzIwNTEwNzI0
MTkxNzMxWjAQMQ4wDAYDVQQDDAVub3RjYTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABIECmpeSA3AiX3bNBR4ABir4SdO0Mx4MP78dlSwkjBetPpZB7j2eig3d2CWo
GNk/CSHBge3JfatFaMmKieh8tdCjUDBOMAwGA1UdEwEB/wQCMAAwHQYDVR0OBBYE
FM+IMoJwMXhbPS13LwqUJ+gftPLmMB8GA1UdIwQYMBaAFAVbzc6uh6HERpjdKpVo
VaLznZGMMAoGCCqGSM49BAMCA0cAMEQCIG2oGqv+uv4WEJJ6B3SlNodo8VharY9h
0jiUvtOyIqsyAiBBjJWXVUH8oTJ1UZrEleOI232vozqAwdOsVTfgrYDGoA==
-----END CERTIFICATE-----";
    const LEAF: &str = "-----BEGIN CERTIFICATE-----
MIIBrzCCAVWgAwIBAgIUU4NwIxZFnIwPeCSq4zBkPAI7JicwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTIwMjE5MTczMVoYDzIwNTEwNzI0
MTkxNzMxWjAPMQ0wCwYDVQQDDARsZWFmMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAEoN4ZEAeefW+GfSNr2DkP/lXK7o+ypoUHV17yBPEMXAgz2+kxtZA7fiUI4Lvm
+1awBFcrjr69K/SctYFk9WO856OBhzCBhDATBgNVHSUEDDAKBggrBgEFBQcDAzAt
BgNVHREEJjAkgQ1hQGV4YW1wbGUuY29tgg0qLmV4YW1wbGUuY29thwQKAAABMB0G
A1UdDgQWBBQ1zVfGMQ16RItImYPUUwkwykMVWjAfBgNVHSMEGDAWgBQFW83Oroeh
xEaY3SqVaFWi852RjDAKBggqhkjOPQQDAgNIADBFAiBTgMWWim8/QOyDhPhHeEJo
HUc3TKIsaVHu6JBdHikMdgIhAKxyf/D+TuHO4rEOA5uiMPfUduy0VYaOFyZdezO0
3LHA
-----END CERTIFICATE-----";
    const SRV: &str = "-----BEGIN CERTIFICATE-----
MIIBmDCCAT2gAwIBAgIUU4NwIxZFnIwPeCSq4zBkPAI7JigwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJVGVzdCBSb290MCAXDTI2MTIwMjE5MTczMVoYDzIwNTEwNzI0
MTkxNzMxWjAOMQwwCgYDVQQDDANzcnYwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AASVQ8QnL0+ZX6W90QrYW/7rEq2oyXU4O8BLbs7/J5DacnOUYdyQ9Gka1ZTcI1s7
QrqIacoppFL6qw8Xgn9M+4hFo3EwbzATBgNVHSUEDDAKBggrBgEFBQcDATAYBgNV
HREEETAPgQ1hQGV4YW1wbGUuY29tMB0GA1UdDgQWBBSRx3ODXfRWK1ZCF4vnEPI4
rIR4bDAfBgNVHSMEGDAWgBQFW83OroehxEaY3SqVaFWi852RjDAKBggqhkjOPQQD
AgNJADBGAiEAksH5K56IoTtQMCNpESaZ6Ow71CoWeWYiOeF4AUbCeLICIQCLxMUI
fpuMsZqmHivs3f9qjn7wBfA0lSJJRRw1/qJPbg==
-----END CERTIFICATE-----";
    const LEAF2: &str = "-----BEGIN CERTIFICATE-----
MIIBljCCATugAwIBAgIUZxRfxvcRcAOaytCyVjR3LEK718IwCgYIKoZIzj0EAwIw
EDEOMAwGA1UEAwwFbm90Y2EwIBcNMjYxMjAyMTkxNzMxWhgPMjA1MTA3MjQxOTE3
MzFaMBAxDjAMBgNVBAMMBWxlYWYyMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
eGt6n6uqW0VbiLWYrVXpGPLYvMT/r4sNTNItzppC5qmRBpVJ3a2iJj7BB/7liHOI
LXj/oLc8nkIikqJv8jGTxKNxMG8wEwYDVR0lBAwwCgYIKwYBBQUHAwMwGAYDVR0R
BBEwD4ENYUBleGFtcGxlLmNvbTAdBgNVHQ4EFgQUuEJL0Ldljz6Nh2eEdAMf3lqn
+aEwHwYDVR0jBBgwFoAUz4gygnAxeFs9LXcvCpQn6B+08uYwCgYIKoZIzj0EAwID
SQAwRgIhAIa57+68dkSypMXqDIzn+AlxfrJsRJ4t53ya+TRqMAg2AiEA85+90YCx
XqplEh+4Jyl5aleGt54kGZPWr9vlNeRGooM=
-----END CERTIFICATE-----";

    fn one(pem: &str) -> Cert {
        certificates_from_pem(pem.as_bytes()).unwrap().remove(0)
    }

    fn pool(pems: &[&str]) -> CertPool {
        let mut p = CertPool::default();
        for pem in pems {
            assert_eq!(p.append_from_pem(pem.as_bytes()), 1);
        }
        p
    }

    const IN_2030: i64 = 1_900_000_000;

    #[test]
    fn sigstore_chain_rules_like_go() {
        let roots = pool(&[ROOT]);
        let none = CertPool::default();
        let leaf = one(LEAF);
        assert!(verify_chain(&leaf, &none, &roots, IN_2030, false).is_ok());
        // Validity: before notBefore, after notAfter.
        assert!(verify_chain(&leaf, &none, &roots, 1_700_000_000, false)
            .unwrap_err()
            .contains("expired"));
        assert!(verify_chain(&leaf, &none, &roots, 2_600_000_000, false)
            .unwrap_err()
            .contains("expired"));
        // EKU serverAuth only: not for code signing.
        let e = verify_chain(&one(SRV), &none, &roots, IN_2030, false).unwrap_err();
        assert!(e.contains("incompatible key usage"), "{e}");
        // Issued by a CA:FALSE certificate.
        let e = verify_chain(&one(LEAF2), &pool(&[NOTCA]), &roots, IN_2030, false).unwrap_err();
        assert!(e.contains("authority") || e.contains("cannot sign"), "{e}");
        // Unknown root.
        assert!(verify_chain(&leaf, &none, &pool(&[NOTCA]), IN_2030, false).is_err());
        // A root that is the leaf itself.
        assert!(verify_chain(&leaf, &none, &pool(&[LEAF]), IN_2030, false).is_ok());
        // Subject checks.
        assert_eq!(leaf.emails, ["a@example.com"]);
        assert!(leaf.verify_hostname("x.example.com").is_ok());
        assert!(leaf.verify_hostname("X.EXAMPLE.COM.").is_ok());
        assert!(leaf.verify_hostname("example.com").is_err());
        assert!(leaf.verify_hostname("10.0.0.1").is_ok());
        assert!(leaf.verify_hostname("[10.0.0.1]").is_ok());
        assert!(leaf.verify_hostname("::ffff:10.0.0.1").is_ok());
        assert!(leaf.verify_hostname("10.0.0.2").is_err());
    }
}
