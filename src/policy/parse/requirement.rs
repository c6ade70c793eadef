//! Requirement objects, by `type`.

use crate::json::{ObjectReader, Value};
use crate::policy::{KeySource, KeyType, LoadedKeys, Requirement, SignedBy, SignedIdentity};

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
            }
        }
    }

    /// `sigstoreSigned`: validated like c/image `newPRSigstoreSigned`; nothing kept.
    fn sigstore_signed(&mut self, mut r: ObjectReader<'_>) -> Option<Requirement> {
        let before = self.errors.len();
        let key_path = self.string(&mut r, "keyPath");
        let key_paths = self.non_empty(&mut r, "keyPaths", |cx, r, k| cx.strings(r, k).map_len());
        let key_data = self.bytes(&mut r, "keyData");
        let key_datas = self.non_empty(&mut r, "keyDatas", |cx, r, k| cx.bytes_list(r, k).map_len());
        let fulcio = self.sub_object(&mut r, "fulcio", Cx::fulcio);
        let pki = self.sub_object(&mut r, "pki", Cx::pki);
        let rekor_path = self.string(&mut r, "rekorPublicKeyPath");
        let rekor_paths = self.non_empty(&mut r, "rekorPublicKeyPaths", |cx, r, k| cx.strings(r, k).map_len());
        let rekor_data = self.bytes(&mut r, "rekorPublicKeyData");
        let rekor_datas = self.non_empty(&mut r, "rekorPublicKeyDatas", |cx, r, k| cx.bytes_list(r, k).map_len());
        let identity = self.signed_identity(&mut r);
        self.close(&r, "a sigstoreSigned requirement", SIGSTORE_KEYS);

        let keys = [
            ("keyPath", path_given(&r, "keyPath", &key_path)),
            ("keyPaths", key_paths),
            ("keyData", given(&r, "keyData", &key_data)),
            ("keyDatas", key_datas),
            ("fulcio", fulcio),
            ("pki", pki),
        ];
        let names = "keyPath, keyPaths, keyData, keyDatas, fulcio and pki";
        let one = self.exactly_one(&r, names, &keys);
        let rekor = [
            ("rekorPublicKeyPath", path_given(&r, "rekorPublicKeyPath", &rekor_path)),
            ("rekorPublicKeyPaths", rekor_paths),
            ("rekorPublicKeyData", given(&r, "rekorPublicKeyData", &rekor_data)),
            ("rekorPublicKeyDatas", rekor_datas),
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
        if let (true, Some(f), None) = (one, fulcio, first_rekor) {
            let message = format!("one of {rekor_names} is required when fulcio is used");
            self.invalid(r.child_path("fulcio"), f.position, message);
        }
        if let (true, Some(_), Some((key, v))) = (one, pki, first_rekor) {
            self.invalid(
                r.child_path(key),
                v.position,
                "Rekor public keys are not supported with pki",
            );
        }
        let _ = identity?;
        (self.errors.len() == before).then_some(Requirement::SigstoreSigned)
    }

    /// A list member that must not be empty when present (sigstore `…Paths`/`…Datas`).
    fn non_empty<'v>(
        &mut self,
        r: &mut ObjectReader<'v>,
        key: &str,
        read: impl FnOnce(&mut Cx, &mut ObjectReader<'v>, &str) -> Field<'v, usize>,
    ) -> Option<&'v Value> {
        match read(self, r, key) {
            Field::Ok(0, v) => {
                self.invalid(r.child_path(key), v.position, "must not be empty");
                Some(v)
            }
            Field::Ok(_, v) => Some(v),
            f => given(r, key, &f),
        }
    }

    /// An optional nested object checked by `check`; its value if present.
    fn sub_object<'v>(
        &mut self,
        r: &mut ObjectReader<'v>,
        key: &str,
        check: fn(&mut Cx, ObjectReader<'v>),
    ) -> Option<&'v Value> {
        let v = r.optional(key)?;
        if let Some(o) = self.open(v, &r.child_path(key)) {
            check(self, o);
        }
        Some(v)
    }

    /// c/image `newPRSigstoreSignedFulcio`.
    fn fulcio(&mut self, mut o: ObjectReader<'_>) {
        let ca_path = self.string(&mut o, "caPath");
        let ca_data = self.bytes(&mut o, "caData");
        let issuer = self.string(&mut o, "oidcIssuer");
        let email = self.string(&mut o, "subjectEmail");
        self.close(&o, "fulcio", FULCIO_KEYS);
        self.one_ca(&o, ("caPath", &ca_path), ("caData", &ca_data), true);
        for (key, f) in [("oidcIssuer", &issuer), ("subjectEmail", &email)] {
            self.non_empty_string(&o, key, f);
        }
    }

    /// c/image `newPRSigstoreSignedPKI`.
    fn pki(&mut self, mut o: ObjectReader<'_>) {
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

impl<'v, T> Field<'v, Vec<T>> {
    /// The list's length instead of its items.
    fn map_len(self) -> Field<'v, usize> {
        match self {
            Field::Ok(items, v) => Field::Ok(items.len(), v),
            Field::Bad => Field::Bad,
            Field::Absent => Field::Absent,
        }
    }
}
