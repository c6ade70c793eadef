//! The [`Keyring`]: trusted certificates loaded from keyring files, copies
//! of one certificate merged, revocations applied whichever file they came
//! from, indexed by key ID and fingerprint, with a cache of which signing
//! keys are usable at a given time.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use openpgp::packet::Signature;
use openpgp::policy::StandardPolicy;
use openpgp::{Fingerprint, KeyHandle, KeyID};
use sequoia_openpgp as openpgp;

use super::keycheck::check_key_at;
use super::material::KeyMaterial;
use super::{Cert, EnvelopeError, KeyError};

/// A set of trusted certificates, indexed by every (sub)key's fingerprint
/// and key ID so verification only looks at the certificates a signature
/// names. Certificates are shared (`Arc`): keyrings built from the same
/// parsed file hold one copy of each certificate between them, and cloning
/// a keyring copies no certificate.
#[derive(Debug, Default)]
pub struct Keyring {
    certs: Vec<Arc<Cert>>,
    by_keyid: HashMap<KeyID, Vec<usize>>,
    /// Position in `certs` by primary key fingerprint.
    by_fpr: HashMap<Fingerprint, usize>,
    /// Every revocation added ([`Keyring::add_material`]); applied to each
    /// certificate it belongs to, whether that came before or after it.
    revocations: Vec<Signature>,
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
            revocations: self.revocations.clone(),
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

    /// Parse an armored or binary keyring holding one or more certificates
    /// (every armored block of a text file), secret key material kept. Revocations standing alone are
    /// not certificates: use [`KeyMaterial::parse`] to keep them.
    pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, KeyError> {
        let m = KeyMaterial::parse_keeping(bytes, true)?;
        if m.certs.is_empty() {
            return Err(KeyError::NoCertificates);
        }
        Ok(m.certs.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    /// Add certificates (secret parts are stripped). Copies of a certificate already
    /// present (same primary key) are merged into it, as gpg merges them on import: a
    /// revocation in any copy counts, whatever the order of the files, and the newest
    /// self-signatures across the copies decide expiry and key flags.
    pub fn add(&mut self, certs: impl IntoIterator<Item = Cert>) {
        self.add_shared(certs.into_iter().map(|c| Arc::new(c.strip_secret_key_material())));
    }

    /// [`Keyring::add`] for certificates already stripped of secrets, shared
    /// with other keyrings.
    pub(crate) fn add_shared(&mut self, certs: impl IntoIterator<Item = Arc<Cert>>) {
        for cert in certs {
            let fpr = cert.fingerprint();
            let (idx, cert) = match self.by_fpr.get(&fpr) {
                Some(&i) => match (*self.certs[i]).clone().merge_public((*cert).clone()) {
                    Ok(merged) => (i, Arc::new(merged)),
                    // Cannot happen for the same primary key; never drop either copy.
                    Err(_) => (self.certs.len(), cert),
                },
                None => (self.certs.len(), cert),
            };
            let cert = apply_revocations(cert, &self.revocations).0;
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

    /// Add revocation signatures: each applies to the certificate it
    /// revokes (a key, a subkey or a user ID of it), whether that certificate
    /// is already here or added later. Returns, per signature, the primary
    /// fingerprint of the certificate it revoked something of (`None`: it
    /// belongs to no certificate here, or does not verify).
    pub fn add_revocations(&mut self, sigs: &[Signature]) -> Vec<Option<Fingerprint>> {
        let mut applied = Vec::with_capacity(sigs.len());
        for sig in sigs {
            let mut hit = None;
            if !self.revocations.contains(sig) {
                self.revocations.push(sig.clone());
            }
            for i in self.revocation_candidates(sig) {
                let (cert, took) = apply_revocations(self.certs[i].clone(), std::slice::from_ref(sig));
                if took {
                    hit = Some(cert.fingerprint());
                }
                self.certs[i] = cert;
            }
            applied.push(hit);
        }
        self.usable.lock().unwrap_or_else(|e| e.into_inner()).clear();
        applied
    }

    /// Add what a key file holds: its certificates and its revocations
    /// (applied across everything in this keyring, in any order). Returns
    /// [`Keyring::add_revocations`]'s answer for `m.revocations`.
    pub fn add_material(&mut self, m: &KeyMaterial) -> Vec<Option<Fingerprint>> {
        self.add_shared(m.certs.iter().cloned());
        self.add_revocations(&m.revocations)
    }

    /// Positions of the certificates a revocation may belong to: those
    /// with a key its issuer names (all, when it names none).
    fn revocation_candidates(&self, sig: &Signature) -> Vec<usize> {
        let issuers = sig.get_issuers();
        if issuers.is_empty() {
            return (0..self.certs.len()).collect();
        }
        let mut idxs = Vec::new();
        for (i, _) in self.candidates(&issuers) {
            idxs.push(i);
        }
        idxs
    }

    /// Add every certificate in an armored or binary keyring.
    /// Revocations in it apply to certificates of the whole keyring; a
    /// file holding only revocations is accepted. Returns how many
    /// certificates the file held.
    pub fn add_keyring_bytes(&mut self, bytes: &[u8]) -> Result<usize, KeyError> {
        let m = KeyMaterial::parse(bytes)?;
        self.add_material(&m);
        Ok(m.certs.len())
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

    /// The certificates, in the order they were added (revocations applied).
    pub fn certs(&self) -> impl ExactSizeIterator<Item = &Cert> + '_ {
        self.certs.iter().map(|c| &**c)
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
        idxs.into_iter().map(move |i| (i, &*self.certs[i]))
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

/// `cert` with those of `sigs` that revoke one of its components inserted
/// (sequoia verifies each and puts it on the component it revokes; one that
/// does not verify is kept aside and changes nothing), and whether any of
/// them now stands as a valid revocation of it.
fn apply_revocations(cert: Arc<Cert>, sigs: &[Signature]) -> (Arc<Cert>, bool) {
    let ids: Vec<KeyID> = cert.keys().map(|k| k.key().keyid()).collect();
    let mine: Vec<&Signature> = sigs
        .iter()
        .filter(|s| {
            let issuers = s.get_issuers();
            issuers.is_empty()
                || issuers
                    .iter()
                    .any(|h| ids.iter().any(|id| h.aliases(KeyHandle::from(id))))
        })
        .collect();
    if mine.is_empty() {
        return (cert, false);
    }
    let fresh: Vec<Signature> = mine
        .iter()
        .filter(|s| !holds_revocation(&cert, s))
        .map(|s| (*s).clone())
        .collect();
    let cert = if fresh.is_empty() {
        cert
    } else {
        match (*cert).clone().insert_packets(fresh) {
            Ok((c, _)) => Arc::new(c),
            Err(_) => cert,
        }
    };
    let took = mine.iter().any(|s| holds_revocation(&cert, s));
    (cert, took)
}

/// Whether `sig` is among the valid self-revocations of `cert`'s primary
/// key, subkeys or user IDs.
fn holds_revocation(cert: &Cert, sig: &Signature) -> bool {
    cert.primary_key().self_revocations().any(|s| s == sig)
        || cert.keys().subkeys().any(|k| k.self_revocations().any(|s| s == sig))
        || cert.userids().any(|u| u.self_revocations().any(|s| s == sig))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use openpgp::cert::prelude::*;

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
