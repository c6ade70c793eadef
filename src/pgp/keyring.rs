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
/// names.
///
/// Memory is shared, not copied: certificates are `Arc`s, and a keyring
/// [`layered`](Keyring::layered) over other keyrings (a requirement naming
/// several key files) holds their indexed parts instead of building its own,
/// so a policy whose thousands of requirements each name a big vendor keyring
/// and a small file of their own holds the vendor keyring once. Cloning a
/// keyring copies no certificate.
#[derive(Debug, Default)]
pub struct Keyring {
    /// Indexed groups of certificates, never sharing a primary key; mutated
    /// only while there is at most one.
    parts: Vec<Arc<Part>>,
    /// Whether a signing key of one of the certificates is usable at a given time (the "now"
    /// of a verification run): a run that checks many signatures by one key validates it
    /// once. Keyed by the certificate's position (over all parts, in order), the key and the
    /// time. Cleared whenever certificates are added; a clone starts empty.
    /// At most one entry per (certificate, key): the latest time asked about.
    usable: Mutex<HashMap<(usize, Fingerprint), Usable>>,
}

/// Certificates with their indexes, and the revocations added with them.
#[derive(Debug, Default, Clone)]
struct Part {
    certs: Vec<Arc<Cert>>,
    by_keyid: HashMap<KeyID, Vec<usize>>,
    /// Position in `certs` by primary key fingerprint.
    by_fpr: HashMap<Fingerprint, usize>,
    /// Every revocation added ([`Keyring::add_revocations`]); applied to each
    /// certificate it belongs to, whether that came before or after it.
    revocations: Vec<Signature>,
}

/// When a key's usability was checked, and the answer.
type Usable = (SystemTime, Result<(), EnvelopeError>);

impl Clone for Keyring {
    fn clone(&self) -> Keyring {
        Keyring {
            parts: self.parts.clone(),
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

impl Part {
    fn add(&mut self, cert: Arc<Cert>) {
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

    fn revoke(&mut self, sig: &Signature) -> Option<Fingerprint> {
        if !self.revocations.contains(sig) {
            self.revocations.push(sig.clone());
        }
        let issuers = sig.get_issuers();
        let targets: Vec<usize> = if issuers.is_empty() {
            (0..self.certs.len()).collect()
        } else {
            self.candidates(&issuers)
        };
        let mut hit = None;
        for i in targets {
            let (cert, took) = apply_revocations(self.certs[i].clone(), std::slice::from_ref(sig));
            if took {
                hit = Some(cert.fingerprint());
            }
            self.certs[i] = cert;
        }
        hit
    }

    /// Positions of the certificates with a (sub)key whose key ID is one of `ids`.
    fn candidates(&self, ids: &[KeyHandle]) -> Vec<usize> {
        let mut idxs: Vec<usize> = Vec::new();
        for id in ids {
            for &i in self.by_keyid.get(&KeyID::from(id)).into_iter().flatten() {
                if !idxs.contains(&i) {
                    idxs.push(i);
                }
            }
        }
        idxs
    }
}

impl Keyring {
    /// An empty keyring: no signature verifies against it.
    pub fn new() -> Keyring {
        Keyring::default()
    }

    /// Parse an armored or binary keyring holding one or more certificates
    /// (every armored block of a text file), secret key material kept.
    /// Revocations standing alone are not certificates: use
    /// [`KeyMaterial::parse`] to keep them.
    pub fn parse_certs(bytes: &[u8]) -> Result<Vec<Cert>, KeyError> {
        let m = KeyMaterial::parse_keeping(bytes, true)?;
        if m.certs.is_empty() {
            return Err(KeyError::NoCertificates);
        }
        Ok(m.certs.into_iter().map(Arc::unwrap_or_clone).collect())
    }

    /// The one part a keyring is mutated in (several are first merged into one).
    fn part_mut(&mut self) -> &mut Part {
        if self.parts.len() > 1 {
            let mut one = Part::default();
            for p in &self.parts {
                for c in &p.certs {
                    one.add(c.clone());
                }
            }
            for p in std::mem::take(&mut self.parts) {
                for s in &p.revocations {
                    one.revoke(s);
                }
            }
            self.parts = vec![Arc::new(one)];
        }
        if self.parts.is_empty() {
            self.parts.push(Arc::default());
        }
        self.usable.lock().unwrap_or_else(|e| e.into_inner()).clear();
        Arc::make_mut(&mut self.parts[0])
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
        let part = self.part_mut();
        for cert in certs {
            part.add(cert);
        }
    }

    /// Add revocation signatures: each applies to the certificate it
    /// revokes (a key, a subkey or a user ID of it), whether that certificate
    /// is already here or added later. Returns, per signature, the primary
    /// fingerprint of the certificate it revoked something of (`None`: it
    /// belongs to no certificate here, or does not verify).
    pub fn add_revocations(&mut self, sigs: &[Signature]) -> Vec<Option<Fingerprint>> {
        let part = self.part_mut();
        sigs.iter().map(|s| part.revoke(s)).collect()
    }

    /// Add what a key file holds: its certificates and its revocations
    /// (applied across everything in this keyring, in any order). Returns
    /// [`Keyring::add_revocations`]'s answer for `m.revocations`.
    pub fn add_material(&mut self, m: &KeyMaterial) -> Vec<Option<Fingerprint>> {
        self.add_shared(m.certs.iter().cloned());
        self.add_revocations(&m.revocations)
    }

    /// A keyring of everything in `keyrings`, sharing their parts, when that
    /// is the same as importing them all into one: no primary key in two of
    /// them, and no revocation of one naming a key of another (or naming
    /// none). `None` otherwise: then build the union with
    /// [`Keyring::add_material`], which merges and applies across them.
    pub fn layered(keyrings: &[&Keyring]) -> Option<Keyring> {
        let mut seen: HashMap<&Fingerprint, usize> = HashMap::new();
        for (i, k) in keyrings.iter().enumerate() {
            for p in &k.parts {
                for fpr in p.by_fpr.keys() {
                    if seen.insert(fpr, i).is_some_and(|j| j != i) {
                        return None;
                    }
                }
            }
        }
        for (i, k) in keyrings.iter().enumerate() {
            for sig in k.parts.iter().flat_map(|p| &p.revocations) {
                let issuers = sig.get_issuers();
                if issuers.is_empty() && keyrings.len() > 1 {
                    return None;
                }
                for (j, other) in keyrings.iter().enumerate() {
                    if j != i && other.parts.iter().any(|p| !p.candidates(&issuers).is_empty()) {
                        return None;
                    }
                }
            }
        }
        Some(Keyring {
            parts: keyrings.iter().flat_map(|k| k.parts.iter().cloned()).collect(),
            usable: Mutex::default(),
        })
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

    /// Whether it holds no certificate.
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(|p| p.certs.is_empty())
    }

    /// How many certificates it holds (one per primary key: a certificate added twice is merged).
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.certs.len()).sum()
    }

    /// Who the keys are: each certificate's primary fingerprint and its user
    /// IDs (as written, lossily decoded: escape them before printing).
    pub fn describe(&self) -> Vec<KeyInfo> {
        self.certs()
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
        self.certs().map(|c| c.fingerprint().to_hex()).collect()
    }

    /// The certificates, in the order they were added (revocations applied).
    pub fn certs(&self) -> impl Iterator<Item = &Cert> + '_ {
        self.parts.iter().flat_map(|p| p.certs.iter().map(|c| &**c))
    }

    /// The certificates with a (sub)key whose key ID matches one of `ids`,
    /// each once, with their positions; the caller then matches full
    /// fingerprints.
    pub(super) fn candidates<'a>(&'a self, ids: &[KeyHandle]) -> impl Iterator<Item = (usize, &'a Cert)> + 'a {
        let mut out = Vec::new();
        let mut offset = 0;
        for p in &self.parts {
            for i in p.candidates(ids) {
                out.push((offset + i, &*p.certs[i]));
            }
            offset += p.certs.len();
        }
        out.into_iter()
    }

    /// The certificate at position `idx` (over all parts).
    fn cert_at(&self, mut idx: usize) -> &Cert {
        for p in &self.parts {
            if idx < p.certs.len() {
                return &p.certs[idx];
            }
            idx -= p.certs.len();
        }
        unreachable!("a position handed out by candidates()")
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
        let key = (idx, signing.clone());
        let lock = || self.usable.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, result)) = lock().get(&key) {
            if *at == now {
                return result.clone();
            }
        }
        let result = check_key_at(policy, self.cert_at(idx), signing, now, "now");
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
        let key = SigningKey::from_bytes(&bytes, None, now).unwrap();
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

    #[test]
    fn a_layered_keyring_shares_its_parts_and_finds_every_key() {
        let now = SystemTime::now();
        let gen = |name: &str| {
            CertBuilder::new()
                .add_userid(name)
                .set_cipher_suite(CipherSuite::Cv25519)
                .set_creation_time(now - Duration::from_secs(7200))
                .add_signing_subkey()
                .generate()
                .unwrap()
                .0
        };
        let (a, b) = (gen("a"), gen("b"));
        let mut ka = Keyring::new();
        ka.add([a.clone()]);
        let mut kb = Keyring::new();
        kb.add([b.clone()]);
        let both = Keyring::layered(&[&ka, &kb]).unwrap();
        assert_eq!(both.len(), 2);
        assert!(
            Arc::ptr_eq(&both.parts[0], &ka.parts[0]),
            "parts are shared, not copied"
        );
        for cert in [&a, &b] {
            let bytes = openpgp::serialize::SerializeInto::to_vec(&cert.as_tsk()).unwrap();
            let blob = SigningKey::from_bytes(&bytes, None, now)
                .unwrap()
                .sign(b"{}", now)
                .unwrap();
            verify(&blob, &both, now).unwrap();
        }
        // The same key in two keyrings, or a revocation of one for the other: not layered.
        assert!(Keyring::layered(&[&ka, &ka.clone()]).is_none());
        let mut signer = a
            .primary_key()
            .key()
            .clone()
            .parts_into_secret()
            .unwrap()
            .into_keypair()
            .unwrap();
        let rev = a
            .revoke(&mut signer, openpgp::types::ReasonForRevocation::KeyCompromised, b"")
            .unwrap();
        let mut revs = Keyring::new();
        revs.add_revocations(&[rev]);
        assert!(Keyring::layered(&[&ka, &revs]).is_none());
        // Mutating a layered keyring merges its parts first.
        let mut m = Keyring::layered(&[&ka, &kb]).unwrap();
        m.add([a.clone()]);
        assert_eq!((m.len(), m.parts.len()), (2, 1));
    }
}
