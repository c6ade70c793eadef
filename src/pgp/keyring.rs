//! The [`Keyring`]: trusted certificates loaded from keyring files, copies
//! of one certificate merged, indexed by key ID and fingerprint, with a
//! cache of which signing keys are usable at a given time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::{Fingerprint, KeyHandle, KeyID};
use sequoia_openpgp as openpgp;

use super::keycheck::check_key_at;
use super::{Cert, EnvelopeError, KeyError};

/// A set of trusted certificates, indexed by every (sub)key's fingerprint
/// and key ID so verification only looks at the certificates a signature
/// names.
#[derive(Debug, Default)]
pub struct Keyring {
    certs: Vec<Cert>,
    by_keyid: HashMap<KeyID, Vec<usize>>,
    /// Position in `certs` by primary key fingerprint.
    by_fpr: HashMap<Fingerprint, usize>,
    /// Whether a signing key of one of `certs` is usable at a given time (the "now" of a
    /// verification run): a run that checks many signatures by one key validates it once.
    /// Keyed by the certificate's position in `certs` (two entries may share fingerprints
    /// and differ, e.g. one carrying a revocation), the key and the time. Cleared whenever
    /// certificates are added; a clone starts empty.
    /// At most one entry per (certificate, key): the latest time asked about.
    usable: Mutex<HashMap<(usize, Fingerprint), Usable>>,
}

/// When a key's usability was checked, and the answer.
type Usable = (SystemTime, Result<(), EnvelopeError>);

impl Clone for Keyring {
    fn clone(&self) -> Keyring {
        Keyring {
            certs: self.certs.clone(),
            by_keyid: self.by_keyid.clone(),
            by_fpr: self.by_fpr.clone(),
            usable: Mutex::default(),
        }
    }
}

/// A trusted key, for reports: whose signature a requirement wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// Primary-key fingerprint (uppercase hex).
    pub fingerprint: String,
    /// The certificate's user IDs, e.g. `Partner Release <release@partner.example>`.
    pub user_ids: Vec<String>,
}

impl KeyInfo {
    /// `Partner Release <release@partner.example> (FPR)`, control characters escaped.
    pub fn describe(&self) -> String {
        match self.user_ids.first() {
            Some(u) => format!("{} ({})", u.escape_debug(), self.fingerprint),
            None => self.fingerprint.clone(),
        }
    }
}

impl Keyring {
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Parse an armored or binary keyring holding one or more certificates.
    pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, KeyError> {
        let mut certs = Vec::new();
        for cert in CertParser::from_bytes(bytes).map_err(|e| KeyError::Parse(e.to_string()))? {
            certs.push(cert.map_err(|e| KeyError::Parse(format!("{e:#}")))?);
        }
        if certs.is_empty() {
            return Err(KeyError::NoCertificates);
        }
        Ok(certs)
    }

    /// Add certificates (secret parts are stripped). Copies of a certificate already
    /// present (same primary key) are merged into it, as gpg merges them on import: a
    /// revocation in any copy counts, whatever the order of the files, and the newest
    /// self-signatures across the copies decide expiry and key flags.
    pub fn add(&mut self, certs: impl IntoIterator<Item = Cert>) {
        for cert in certs {
            let cert = cert.strip_secret_key_material();
            let fpr = cert.fingerprint();
            let (idx, cert) = match self.by_fpr.get(&fpr) {
                Some(&i) => match self.certs[i].clone().merge_public(cert.clone()) {
                    Ok(merged) => (i, merged),
                    // Cannot happen for the same primary key; never drop either copy.
                    Err(_) => (self.certs.len(), cert),
                },
                None => (self.certs.len(), cert),
            };
            self.by_fpr.entry(fpr).or_insert(idx);
            for key in cert.keys() {
                let v = self.by_keyid.entry(KeyID::from(key.key().fingerprint())).or_default();
                if !v.contains(&idx) {
                    v.push(idx);
                }
            }
            if idx == self.certs.len() {
                self.certs.push(cert);
            } else {
                self.certs[idx] = cert;
            }
        }
        self.usable.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// Add every certificate in an armored or binary keyring.
    pub fn add_keyring_bytes(&mut self, bytes: &[u8]) -> Result<usize, KeyError> {
        let certs = Keyring::parse_certs(bytes)?;
        let n = certs.len();
        self.add(certs);
        Ok(n)
    }

    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Who the keys are: each certificate's primary fingerprint and its user
    /// IDs (as written, lossily decoded: escape them before printing).
    pub fn describe(&self) -> Vec<KeyInfo> {
        self.certs
            .iter()
            .map(|c| KeyInfo {
                fingerprint: c.fingerprint().to_hex(),
                user_ids: c
                    .userids()
                    .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
                    .collect(),
            })
            .collect()
    }

    /// Primary-key fingerprints (uppercase hex) of all certificates.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs.iter().map(|c| c.fingerprint().to_hex()).collect()
    }

    /// The certificates, in the order they were added.
    pub fn certs(&self) -> &[Cert] {
        &self.certs
    }

    /// The certificates with a (sub)key whose key ID matches one of `ids`,
    /// each once; the caller then matches full fingerprints.
    pub(super) fn candidates<'a>(&'a self, ids: &[KeyHandle]) -> impl Iterator<Item = (usize, &'a Cert)> + 'a {
        let mut idxs: Vec<usize> = Vec::new();
        for id in ids {
            for &i in self.by_keyid.get(&KeyID::from(id)).into_iter().flatten() {
                if !idxs.contains(&i) {
                    idxs.push(i);
                }
            }
        }
        idxs.into_iter().map(move |i| (i, &self.certs[i]))
    }

    /// [`check_key_at`] for the key `signing` of certificate `idx` at `now`, remembered for
    /// the next signature by the same key of the same certificate at the same `now`.
    pub(super) fn usable_now(
        &self,
        policy: &StandardPolicy<'_>,
        idx: usize,
        signing: &Fingerprint,
        now: SystemTime,
    ) -> Result<(), EnvelopeError> {
        let cert = &self.certs[idx];
        let key = (idx, signing.clone());
        let lock = || self.usable.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, result)) = lock().get(&key) {
            if *at == now {
                return result.clone();
            }
        }
        let result = check_key_at(policy, cert, signing, now, "now");
        lock().insert(key, (now, result.clone()));
        result
    }
}

/// Why an envelope was rejected. Each variant maps to a stable reason code.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::pgp::{verify, SigningKey};

    /// A key that expires in a day, and a message it signed an hour ago.
    fn expiring_key_and_message() -> (Cert, Vec<u8>, SystemTime) {
        let now = SystemTime::now();
        let (cert, _) = CertBuilder::new()
            .add_userid("expiring <e@imgsig.invalid>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_creation_time(now - Duration::from_secs(7200))
            .set_validity_period(Duration::from_secs(86400))
            .add_signing_subkey()
            .generate()
            .unwrap();
        let bytes = openpgp::serialize::SerializeInto::to_vec(&cert.as_tsk()).unwrap();
        let mut key = SigningKey::from_bytes(&bytes, None, now).unwrap();
        let blob = key.sign(b"{}", now - Duration::from_secs(3600)).unwrap();
        (cert, blob, now)
    }

    #[test]
    fn a_key_remembered_as_usable_is_judged_again_at_another_time() {
        let (cert, blob, now) = expiring_key_and_message();
        let mut keys = Keyring::new();
        keys.add([cert.clone()]);
        for _ in 0..2 {
            verify(&blob, &keys, now).unwrap();
        }
        let later = now + Duration::from_secs(2 * 86400);
        for _ in 0..2 {
            assert_eq!(verify(&blob, &keys, later).unwrap_err().code(), "expired-key");
        }
        verify(&blob, &keys, now).unwrap();
        // A clone starts afresh; adding certificates forgets what was remembered.
        let copy = keys.clone();
        assert_eq!(verify(&blob, &copy, later).unwrap_err().code(), "expired-key");
        keys.add([cert]);
        verify(&blob, &keys, now).unwrap();
        assert_eq!(keys.len(), 1, "a second copy of a certificate is merged");
    }
}
