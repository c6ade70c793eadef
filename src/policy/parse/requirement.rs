//! Requirement objects, by `type`.

use crate::json::{ObjectReader, Value};
use crate::policy::{
    KeySource, KeyType, LoadedKeys, Material, Requirement, SignedBy, SignedIdentity, SigstoreSigned, SigstoreTrust,
};

use super::{keys, Cx, Field};

const TYPES: &str = "insecureAcceptAnything, reject, signedBy, signedBaseLayer, sigstoreSigned";
const KEY_TYPES: &str = "GPGKeys, signedByGPGKeys, X509Certificates, signedByX509CAs";
const SIGNED_BY_KEYS: &[&str] = &["type", "keyType", "keyPath", "keyPaths", "keyData", "signedIdentity"];
const SIGSTORE_KEYS: &[&str] = &[
    "type",
    "keyPath",
    "keyPaths",
    "keyData",
    "keyDatas",
    "fulcio",
    "pki",
    "rekorPublicKeyPath",
    "rekorPublicKeyPaths",
    "rekorPublicKeyData",
    "rekorPublicKeyDatas",
    "signedIdentity",
];
const FULCIO_KEYS: &[&str] = &["caPath", "caData", "oidcIssuer", "subjectEmail"];
const PKI_KEYS: &[&str] = &[
    "caRootsPath",
    "caRootsData",
    "caIntermediatesPath",
    "caIntermediatesData",
    "subjectEmail",
    "subjectHostname",
];

impl Cx {
    /// One requirement object at `path`.
    pub(super) fn requirement(&mut self, v: &Value, path: &str) -> Option<Requirement> {
        let mut r = self.open(v, path)?;
        let (ty, ty_value) = self.required_string(&mut r, "type")?;
        match ty {
            "insecureAcceptAnything" => {
                self.close(&r, "an insecureAcceptAnything requirement", &["type"]);
                Some(Requirement::InsecureAcceptAnything)
            }
            "reject" => {
                self.close(&r, "a reject requirement", &["type"]);
                Some(Requirement::Reject)
            }
            "signedBy" => self.signed_by(r),
            "signedBaseLayer" => {
                let identity = self.required(&mut r, "baseLayerIdentity");
                let identity = identity.and_then(|v| self.identity(v, &r.child_path("baseLayerIdentity")));
                self.close(&r, "a signedBaseLayer requirement", &["type", "baseLayerIdentity"]);
                identity.map(|_| Requirement::SignedBaseLayer)
            }
            "sigstoreSigned" => self.sigstore_signed(r),
            other => {
                let message = format!("unknown requirement type {other:?} (expected one of {TYPES})");
                self.invalid(r.child_path("type"), ty_value.position, message);
                None
            }
        }
    }

    /// The optional `signedIdentity` (default `matchRepoDigestOrExact`).
    fn signed_identity(&mut self, r: &mut ObjectReader<'_>) -> Option<SignedIdentity> {
        match r.optional("signedIdentity") {
            None => Some(SignedIdentity::MatchRepoDigestOrExact),
            Some(v) => self.identity(v, &r.child_path("signedIdentity")),
        }
    }

    /// Reports "exactly one of" problems: none present at the object; else
    /// each one after the first in the document, at its value.
    fn exactly_one(&mut self, r: &ObjectReader<'_>, names: &str, present: &[(&str, Option<&Value>)]) -> bool {
        let mut given: Vec<(&str, &Value)> = present.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        given.sort_by_key(|(_, v)| v.position.offset);
        let Some(&(first, _)) = given.first() else {
            let message = format!("exactly one of {names} must be present; none is");
            self.invalid(r.path(), r.position(), message);
            return false;
        };
        for &(key, v) in &given[1..] {
            let message = format!("{key} conflicts with {first}: only one of {names} may be present");
            self.invalid(r.child_path(key), v.position, message);
        }
        given.len() == 1
    }

    fn signed_by(&mut self, mut r: ObjectReader<'_>) -> Option<Requirement> {
        let key_type = match self.required_string(&mut r, "keyType") {
            None => None,
            Some((s, v)) => match s {
                "GPGKeys" => Some(KeyType::GpgKeys),
                "signedByGPGKeys" => Some(KeyType::SignedByGpgKeys),
                "X509Certificates" => Some(KeyType::X509Certificates),
                "signedByX509CAs" => Some(KeyType::SignedByX509Cas),
                _ => {
                    let message = format!("unknown keyType {s:?} (expected one of {KEY_TYPES})");
                    self.invalid(r.child_path("keyType"), v.position, message);
                    None
                }
            },
        };
        let key_path = self.string(&mut r, "keyPath");
        let key_paths = self.strings(&mut r, "keyPaths");
        let key_data = self.bytes(&mut r, "keyData");
        let identity = self.signed_identity(&mut r);
        self.close(&r, "a signedBy requirement", SIGNED_BY_KEYS);

        // c/image: which members are present decides; then keyPath must not be "".
        let sources = [
            ("keyPath", given(&r, "keyPath", &key_path)),
            ("keyPaths", given(&r, "keyPaths", &key_paths)),
            ("keyData", given(&r, "keyData", &key_data)),
        ];
        let one = self.exactly_one(&r, "keyPath, keyPaths and keyData", &sources);
        if let Field::Ok("", v) = key_path {
            self.invalid(r.child_path("keyPath"), v.position, "must not be empty");
            return None;
        }
        let (key_type, identity) = (key_type?, identity?);
        if !one {
            return None;
        }
        let (key_source, keys) = if let Some(written) = key_path.ok() {
            let resolved = keys::resolve(written);
            let paths = [(written.to_owned(), resolved.clone())];
            let keys = self.load_keys(key_type, |l| l.load_paths(&paths));
            let source = KeySource::Path {
                written: written.to_owned(),
                resolved,
            };
            (source, keys)
        } else if let Some(list) = key_paths.ok() {
            let paths: Vec<(String, _)> = list.iter().map(|p| ((*p).to_owned(), keys::resolve(p))).collect();
            let keys = self.load_keys(key_type, |l| l.load_paths(&paths));
            (KeySource::Paths(paths), keys)
        } else {
            let data = key_data.ok()?;
            (KeySource::Data, self.load_keys(key_type, |l| l.load_data(&data)))
        };
        Some(Requirement::SignedBy(SignedBy {
            key_type,
            key_source,
            keys,
            signed_identity: identity,
        }))
    }

    /// Keys are read only for GPGKeys: c/image evaluates nothing else (it
    /// fails other key types with `Unimplemented "keyType" value` before
    /// reading any key), and neither does the evaluator here.
    fn load_keys(&mut self, key_type: KeyType, load: impl FnOnce(&mut keys::Loader) -> LoadedKeys) -> LoadedKeys {
        if key_type == KeyType::GpgKeys {
            load(&mut self.keys)
        } else {
            LoadedKeys {
                keyring: Default::default(),
                errors: Vec::new(),
                warnings: Vec::new(),
                notes: Vec::new(),
                revoked_by: Vec::new(),
            }
        }
    }

    /// `sigstoreSigned`: validated like c/image `newPRSigstoreSigned`; key
    /// files are read now (their errors kept for evaluation, as for signedBy).
    fn sigstore_signed(&mut self, mut r: ObjectReader<'_>) -> Option<Requirement> {
        let before = self.errors.len();
        let key_path = self.string(&mut r, "keyPath");
        let key_paths = self.strings(&mut r, "keyPaths");
        let key_data = self.bytes(&mut r, "keyData");
        let key_datas = self.bytes_list(&mut r, "keyDatas");
        let fulcio = self.sub_object(&mut r, "fulcio", Cx::fulcio);
        let pki = self.sub_object(&mut r, "pki", Cx::pki);
        let rekor_path = self.string(&mut r, "rekorPublicKeyPath");
        let rekor_paths = self.strings(&mut r, "rekorPublicKeyPaths");
        let rekor_data = self.bytes(&mut r, "rekorPublicKeyData");
        let rekor_datas = self.bytes_list(&mut r, "rekorPublicKeyDatas");
        let identity = self.signed_identity(&mut r);
        self.close(&r, "a sigstoreSigned requirement", SIGSTORE_KEYS);

        let key_paths_v = self.non_empty(&r, "keyPaths", &key_paths);
        let key_datas_v = self.non_empty(&r, "keyDatas", &key_datas);
        let rekor_paths_v = self.non_empty(&r, "rekorPublicKeyPaths", &rekor_paths);
        let rekor_datas_v = self.non_empty(&r, "rekorPublicKeyDatas", &rekor_datas);
        let keys = [
            ("keyPath", path_given(&r, "keyPath", &key_path)),
            ("keyPaths", key_paths_v),
            ("keyData", given(&r, "keyData", &key_data)),
            ("keyDatas", key_datas_v),
            ("fulcio", fulcio.as_ref().map(|(v, _)| *v)),
            ("pki", pki.as_ref().map(|(v, _)| *v)),
        ];
        let names = "keyPath, keyPaths, keyData, keyDatas, fulcio and pki";
        let one = self.exactly_one(&r, names, &keys);
        let rekor = [
            ("rekorPublicKeyPath", path_given(&r, "rekorPublicKeyPath", &rekor_path)),
            ("rekorPublicKeyPaths", rekor_paths_v),
            ("rekorPublicKeyData", given(&r, "rekorPublicKeyData", &rekor_data)),
            ("rekorPublicKeyDatas", rekor_datas_v),
        ];
        let rekor_names = "rekorPublicKeyPath, rekorPublicKeyPaths, rekorPublicKeyData and rekorPublicKeyDatas";
        let mut rekor_given: Vec<(&str, &Value)> = rekor.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
        rekor_given.sort_by_key(|(_, v)| v.position.offset);
        let first_rekor = rekor_given.first().copied();
        for &(key, v) in rekor_given.iter().skip(1) {
            let message = format!("at most one of {rekor_names} may be present");
            self.invalid(r.child_path(key), v.position, message);
        }
        // The rules that depend on the key source only once that is unambiguous.
        if let (true, Some((f, _)), None) = (one, &fulcio, first_rekor) {
            let message = format!("one of {rekor_names} is required when fulcio is used");
            self.invalid(r.child_path("fulcio"), f.position, message);
        }
        if let (true, Some(_), Some((key, v))) = (one, &pki, first_rekor) {
            self.invalid(
                r.child_path(key),
                v.position,
                "Rekor public keys are not supported with pki",
            );
        }
        let signed_identity = identity?;
        if self.errors.len() != before {
            return None;
        }
        let trust = if let Field::Ok(p, _) = key_path.filter_empty() {
            SigstoreTrust::PublicKeys(vec![read_material(p)])
        } else if let Some(list) = key_paths.ok() {
            SigstoreTrust::PublicKeys(list.into_iter().map(read_material).collect())
        } else if let Some(data) = key_data.ok() {
            SigstoreTrust::PublicKeys(vec![data_material("keyData".into(), data)])
        } else if let Some(list) = key_datas.ok() {
            SigstoreTrust::PublicKeys(
                list.into_iter()
                    .enumerate()
                    .map(|(i, d)| data_material(format!("keyDatas[{i}]"), d))
                    .collect(),
            )
        } else if let Some((_, Some(f))) = fulcio {
            f
        } else if let Some((_, Some(p))) = pki {
            p
        } else {
            return None;
        };
        let rekor = if let Field::Ok(p, _) = rekor_path.filter_empty() {
            Some(vec![read_material(p)])
        } else if let Some(list) = rekor_paths.ok() {
            Some(list.into_iter().map(read_material).collect())
        } else if let Some(data) = rekor_data.ok() {
            Some(vec![data_material("rekorPublicKeyData".into(), data)])
        } else {
            rekor_datas.ok().map(|list| {
                list.into_iter()
                    .enumerate()
                    .map(|(i, d)| data_material(format!("rekorPublicKeyDatas[{i}]"), d))
                    .collect()
            })
        };
        Some(Requirement::SigstoreSigned(SigstoreSigned {
            trust,
            rekor,
            signed_identity,
        }))
    }

    /// A list member that must not be empty when present (sigstore `…Paths`/`…Datas`).
    fn non_empty<'v, T>(&mut self, r: &ObjectReader<'v>, key: &str, f: &Field<'v, Vec<T>>) -> Option<&'v Value> {
        if let Field::Ok(list, v) = f {
            if list.is_empty() {
                self.invalid(r.child_path(key), v.position, "must not be empty");
            }
        }
        given(r, key, f)
    }

    /// An optional nested object checked (and read) by `check`; its value if present.
    fn sub_object<'v, T>(
        &mut self,
        r: &mut ObjectReader<'v>,
        key: &str,
        check: fn(&mut Cx, ObjectReader<'v>) -> Option<T>,
    ) -> Option<(&'v Value, Option<T>)> {
        let v = r.optional(key)?;
        let read = self.open(v, &r.child_path(key)).and_then(|o| check(self, o));
        Some((v, read))
    }

    /// c/image `newPRSigstoreSignedFulcio`.
    fn fulcio(&mut self, mut o: ObjectReader<'_>) -> Option<SigstoreTrust> {
        let before = self.errors.len();
        let ca_path = self.string(&mut o, "caPath");
        let ca_data = self.bytes(&mut o, "caData");
        let issuer = self.string(&mut o, "oidcIssuer");
        let email = self.string(&mut o, "subjectEmail");
        self.close(&o, "fulcio", FULCIO_KEYS);
        self.one_ca(&o, ("caPath", &ca_path), ("caData", &ca_data), true);
        for (key, f) in [("oidcIssuer", &issuer), ("subjectEmail", &email)] {
            self.non_empty_string(&o, key, f);
        }
        if self.errors.len() != before {
            return None;
        }
        Some(SigstoreTrust::Fulcio {
            ca: material(ca_path, ca_data, "caData")?,
            oidc_issuer: issuer.ok()?.to_owned(),
            subject_email: email.ok()?.to_owned(),
        })
    }

    /// c/image `newPRSigstoreSignedPKI`.
    fn pki(&mut self, mut o: ObjectReader<'_>) -> Option<SigstoreTrust> {
        let before = self.errors.len();
        let roots_path = self.string(&mut o, "caRootsPath");
        let roots_data = self.bytes(&mut o, "caRootsData");
        let inter_path = self.string(&mut o, "caIntermediatesPath");
        let inter_data = self.bytes(&mut o, "caIntermediatesData");
        let email = self.string(&mut o, "subjectEmail");
        let hostname = self.string(&mut o, "subjectHostname");
        self.close(&o, "pki", PKI_KEYS);
        self.one_ca(&o, ("caRootsPath", &roots_path), ("caRootsData", &roots_data), true);
        self.one_ca(
            &o,
            ("caIntermediatesPath", &inter_path),
            ("caIntermediatesData", &inter_data),
            false,
        );
        let given = |f: &Field<'_, &str>| matches!(f, Field::Ok(s, _) if !s.is_empty()) || matches!(f, Field::Bad);
        if !given(&email) && !given(&hostname) {
            let message = "at least one of subjectEmail and subjectHostname must be present and not empty";
            self.invalid(o.path(), o.position(), message);
        }
        if self.errors.len() != before {
            return None;
        }
        let non_empty = |f: Field<'_, &str>| f.ok().filter(|s| !s.is_empty()).map(str::to_owned);
        Some(SigstoreTrust::Pki {
            roots: material(roots_path, roots_data, "caRootsData")?,
            intermediates: material(inter_path, inter_data, "caIntermediatesData"),
            subject_email: non_empty(email),
            subject_hostname: non_empty(hostname),
        })
    }

    /// A `…Path` / `…Data` pair: not both; with `required`, at least one (an empty path counts as absent).
    fn one_ca(
        &mut self,
        o: &ObjectReader<'_>,
        path: (&str, &Field<'_, &str>),
        data: (&str, &Field<'_, Vec<u8>>),
        required: bool,
    ) {
        let path_given = !matches!(path.1, Field::Absent | Field::Ok("", _));
        match (path_given, data.1.is_present()) {
            (true, true) => {
                let at = o
                    .members()
                    .iter()
                    .find(|m| m.key == data.0)
                    .map_or(o.position(), |m| m.key_position);
                let message = format!("{} and {} cannot be used together", path.0, data.0);
                self.invalid(o.child_path(data.0), at, message);
            }
            (false, false) if required => {
                let message = format!("one of {} and {} must be present", path.0, data.0);
                self.invalid(o.path(), o.position(), message);
            }
            _ => {}
        }
    }

    /// A required, non-empty string member of a fulcio object.
    fn non_empty_string(&mut self, o: &ObjectReader<'_>, key: &str, f: &Field<'_, &str>) {
        match f {
            Field::Absent => self.invalid(o.path(), o.position(), format!("missing required key {key:?}")),
            Field::Ok("", v) => self.invalid(o.child_path(key), v.position, "must not be empty"),
            _ => {}
        }
    }
}

/// The value of member `key` if it was given at all (even if unusable).
fn given<'v, T>(r: &ObjectReader<'v>, key: &str, f: &Field<'v, T>) -> Option<&'v Value> {
    match f {
        Field::Absent => None,
        Field::Ok(_, v) => Some(v),
        Field::Bad => r.members().iter().find(|m| m.key == key).map(|m| &m.value),
    }
}

/// Like [`given`], but an empty path counts as absent (c/image tests `path != ""`).
fn path_given<'v>(r: &ObjectReader<'v>, key: &str, f: &Field<'v, &str>) -> Option<&'v Value> {
    match f {
        Field::Ok("", _) => None,
        f => given(r, key, f),
    }
}

/// The key material a `…Path` (not empty) or `…Data` member names, if either is given.
fn material(path: Field<'_, &str>, data: Field<'_, Vec<u8>>, data_key: &str) -> Option<Material> {
    match (path.filter_empty(), data) {
        (Field::Ok(p, _), _) => Some(read_material(p)),
        (_, Field::Ok(d, _)) => Some(data_material(data_key.to_owned(), d)),
        _ => None,
    }
}

/// A key file of a sigstoreSigned requirement, read now (bounded like GPG key files).
fn read_material(written: &str) -> Material {
    let resolved = keys::resolve(written);
    Material {
        origin: keys::describe(written, &resolved),
        bytes: keys::read_limited(&resolved, keys::MAX_KEY_FILE_SIZE),
        path: Some((written.to_owned(), resolved)),
    }
}

fn data_material(origin: String, bytes: Vec<u8>) -> Material {
    Material {
        origin,
        bytes: Ok(bytes),
        path: None,
    }
}

impl<'v> Field<'v, &'v str> {
    /// An empty string counts as absent (c/image tests `!= ""`).
    fn filter_empty(self) -> Field<'v, &'v str> {
        match self {
            Field::Ok("", _) => Field::Absent,
            f => f,
        }
    }
}
