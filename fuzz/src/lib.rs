//! What each fuzz target does with one input, shared by the targets
//! (`fuzz_targets/*.rs`, one line each) and by the main crate's
//! `src/fuzz_regressions.rs`, which replays the committed seeds and every
//! input that once failed (`fuzz/regressions/TARGET/*`) through the same
//! code. A check panics only on a bug: a parser must return an error for
//! bad input, never crash, hang or allocate without bound, and the few
//! invariants asserted here (round trips, limits) must hold for every input.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use imgsig::claim::{Claim, UntrustedClaim};
use imgsig::digest::{Algorithm, Digest};
use imgsig::fuzzing::{oci_archive_entries, parse_signature_list, MAX_MANIFEST_SIZE, MAX_SIGNATURES};
use imgsig::manifest::{guess_media_type, manifest_digest, matches_digest};
use imgsig::oci::{OciImage, OciReference};
use imgsig::pgp::{self, Keyring};
use imgsig::platform::{choose, list_instances, Platform};
use imgsig::policy::{self, ImageRef, ParseOptions};
use imgsig::reference::{is_valid_domain, is_valid_name, DockerReference};
use imgsig::registry::auth_file::{AuthFile, AuthSources};
use imgsig::signature::blob::{classify, Blob};
use imgsig::store::registries_d::{Access, BuiltinDefault, RegistriesD};

/// One target's entry point: any bytes, never a panic.
pub type Target = fn(&[u8]);

/// Every target, by name (the names of `fuzz_targets/*.rs` and of the
/// `seeds/` and `regressions/` directories).
pub const TARGETS: &[(&str, Target)] = &[
    ("envelope", envelope),
    ("claim", claim),
    ("policy", policy),
    ("reference", reference),
    ("registries_d", registries_d),
    ("auth_file", auth_file),
    ("manifest", manifest),
    ("signature_api", signature_api),
    ("blob", blob),
    ("sigstore", sigstore),
    ("oci", oci),
];

/// A fixed clock, so that a run can be replayed (2025-11-24, after every fixture signature was made).
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_000_000)
}

/// The reference test keys A, P, S and R (`signature/pubring.gpg` of the fixtures).
static KEYS: LazyLock<Keyring> = LazyLock::new(|| {
    let mut keys = Keyring::new();
    keys.add_keyring_bytes(include_bytes!("../keys/pubring.gpg"))
        .expect("the fixed keyring parses");
    keys
});

/// References the configuration targets resolve.
const IMAGES: &[&str] = &[
    "docker.io/library/busybox:latest",
    "example.com/ns/repo@sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55",
    "localhost:5000/a/b/c:tag",
];

fn images() -> impl Iterator<Item = DockerReference> {
    IMAGES
        .iter()
        .map(|s| DockerReference::parse_docker_transport(s).expect("a fixed reference"))
}

/// The signature envelope: the bounded OpenPGP structure check (its
/// shortcut for gpg's form checked against the general path) and the
/// signature check against the fixed keyring, then the claim inside
/// (`signature::open`), plus the untrusted dump `imgsig inspect` shows.
pub fn envelope(blob: &[u8]) {
    // The shortcut for gpg's form never accepts what the general path
    // rejects, and gives the same payload and signature.
    assert!(
        imgsig::fuzzing::gpg_form_agrees(blob),
        "the gpg-form shortcut and the general path disagree"
    );
    let _ = pgp::inspect(blob);
    if let Ok(opened) = imgsig::signature::open(blob, &KEYS, now()) {
        // Only authentic signatures by the fixed keys get here.
        assert!(KEYS.fingerprints().contains(&opened.signer.primary_fingerprint));
    }
}

/// The claim JSON, parsed strictly; whatever parses is written back the way
/// `imgsig sign` writes it and must parse to the same values.
pub fn claim(payload: &[u8]) {
    let Ok(parsed) = UntrustedClaim::parse(payload) else {
        return;
    };
    let claim = Claim {
        manifest_digest: parsed.untrusted_manifest_digest().clone(),
        docker_reference: parsed.untrusted_docker_reference().to_owned(),
        creator: parsed.untrusted_creator().map(str::to_owned),
        timestamp: parsed.untrusted_timestamp(),
    };
    let again = UntrustedClaim::parse(&claim.to_json()).expect("our own claim JSON parses");
    assert_eq!(again, parsed, "the claim changed through to_json");
}

/// policy.json: parse and validate (loading the keys it names: `keyData`
/// inline; a `keyPath` that exists is the fuzzer's luck), lint, and resolve
/// the scope of a few images.
pub fn policy(bytes: &[u8]) {
    let policy = match policy::parse(bytes, &ParseOptions::default()) {
        Ok(p) => p,
        Err(e) => {
            assert!(!e.problems().is_empty(), "a refused policy says why");
            let _ = e.to_string();
            return;
        }
    };
    let _ = policy::lint::lint(&policy, now());
    for r in images() {
        let (scope, _) = policy.requirements_for(&ImageRef::Docker(r));
        let _ = (scope.describe(), scope.tried_quoted());
    }
    let (scope, _) = policy.requirements_for(&ImageRef::Dir(PathBuf::from("/var/images/a/b")));
    let _ = scope.describe();
}

/// Docker references in every form the CLI and policies accept; a parsed
/// reference prints as its canonical form, which parses back to itself.
pub fn reference(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let _ = (is_valid_domain(s), is_valid_name(s));
    let _ = DockerReference::parse_docker_transport(s);
    let _ = DockerReference::parse_canonical(s);
    if let Ok(r) = DockerReference::parse_normalized(s) {
        let canonical = r.to_string();
        let again = DockerReference::parse_canonical(&canonical).expect("the canonical form parses");
        assert_eq!(again, r);
        let _ = (r.name(), r.policy_identity(), r.policy_namespaces(), r.is_name_only());
        let _ = r.with_default_tag().to_string();
    }
}

/// One registries.d YAML file, then the lookaside (and sigstore-attachment)
/// choices it makes for a few references.
pub fn registries_d(bytes: &[u8]) {
    let Ok(config) = RegistriesD::from_yaml(bytes, Path::new("fuzz.yaml")) else {
        return;
    };
    let _ = config.default_docker();
    let defaults = BuiltinDefault {
        is_root: false,
        home: Some(PathBuf::from("/home/fuzz")),
    };
    for r in images() {
        let _ = config.docker_section(&r.policy_identity());
        for access in [Access::Read, Access::Write] {
            let _ = config.configured(&r, access).map(|c| (c.key, c.url.len()));
        }
        let _ = config.read_base(&r, &defaults);
        let _ = config.write_base(&r, &defaults);
        let _ = config.use_sigstore_attachments(&r);
    }
}

/// A private directory for the credentials file the auth target writes.
static AUTH_DIR: LazyLock<tempfile::TempDir> = LazyLock::new(|| tempfile::tempdir().expect("a temporary directory"));

/// auth.json and the legacy .dockercfg: the input is a lookup key (first
/// line) and the file's contents (the rest), read from a file as the
/// library reads it, in both formats.
pub fn auth_file(data: &[u8]) {
    let (key, contents) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"docker.io/library/busybox"[..], data),
    };
    let Ok(key) = std::str::from_utf8(key) else {
        return;
    };
    let path = AUTH_DIR.path().join("auth.json");
    std::fs::write(&path, contents).expect("writing the input");
    for legacy in [false, true] {
        let sources = AuthSources {
            files: vec![AuthFile {
                path: path.clone(),
                legacy,
            }],
        };
        match sources.find_key(key) {
            Ok(found) => drop(format!("{found:?}")),
            Err(e) => drop(e.to_string()),
        }
    }
}

/// Manifests and indexes: the digest (with signed schema1 JWS stripping),
/// the media type guess, and the instances of a list with the platform
/// choice.
pub fn manifest(bytes: &[u8]) {
    if let Ok(d) = manifest_digest(bytes) {
        assert_eq!(matches_digest(bytes, &d), Ok(true));
    }
    let _ = guess_media_type(bytes);
    let Some(instances) = list_instances(bytes) else {
        return;
    };
    for (architecture, variant) in [("amd64", None), ("arm", Some("v7"))] {
        let want = Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: variant.map(Into::into),
        };
        let _ = choose(&instances, &want).map(|i| i.platform());
    }
}

/// The registry's signature API (`/extensions/v2/…/signatures/…`) list JSON.
pub fn signature_api(body: &[u8]) {
    match parse_signature_list(
        body,
        "https://registry.example/extensions/v2/ns/repo/signatures/sha256:00",
    ) {
        Ok(list) => assert!(list.len() <= MAX_SIGNATURES),
        Err(e) => drop(e.to_string()),
    }
}

/// A lookaside (or any stored) signature blob: which format it is
/// (`signature.FromBlob`), then the untrusted walk of the OpenPGP message.
pub fn blob(blob: &[u8]) {
    match classify(blob) {
        Ok(Blob::SimpleSigning(inner)) => {
            // The blob itself, or the data after the typed-format header.
            assert!(inner.len() <= blob.len());
            let _ = pgp::inspect(inner).map(|e| e.packets.len());
        }
        Ok(Blob::Sigstore(json)) => assert!(json.len() < blob.len()),
        Err(e) => assert_eq!(e.code(), "unrecognized-signature-blob"),
    }
}

/// The trust roots of containers/image's sigstore fixtures: keys, key + Rekor,
/// Fulcio + Rekor, pki (the fixture files are in `fuzz/keys/sigstore/`).
static SIGSTORE_ROOTS: LazyLock<Vec<(imgsig::sigstore::TrustRoot, Vec<imgsig::sigstore::PublicKey>)>> =
    LazyLock::new(|| {
        use imgsig::sigstore::{parse_public_keys, parse_rekor_public_key, FulcioRoot, PkiRoot, TrustRoot};
        let key = |pem: &[u8]| parse_public_keys(pem).expect("a fixture key").remove(0);
        let cosign = key(include_bytes!("../keys/sigstore/cosign.pub"));
        let cosign2 = key(include_bytes!("../keys/sigstore/cosign2.pub"));
        let rekor = parse_rekor_public_key(include_bytes!("../keys/sigstore/rekor.pub")).expect("the Rekor key");
        let fulcio = FulcioRoot::new(
            include_bytes!("../keys/sigstore/fulcio_v1.crt.pem"),
            "https://github.com/login/oauth",
            "mitr@redhat.com",
        )
        .expect("the Fulcio CA");
        let pki = PkiRoot::new(
            include_bytes!("../keys/sigstore/pki_root_crts.pem"),
            Some(include_bytes!("../keys/sigstore/pki_intermediate_crts.pem")),
            Some("qiwan@redhat.com"),
            None,
        )
        .expect("the pki roots");
        vec![
            (TrustRoot::PublicKeys(vec![cosign.clone(), cosign2.clone()]), Vec::new()),
            (TrustRoot::PublicKeys(vec![cosign, cosign2]), vec![rekor.clone()]),
            (TrustRoot::Fulcio(fulcio), vec![rekor]),
            (TrustRoot::Pki(pki), Vec::new()),
        ]
    });

/// A sigstore signature (the typed blob's JSON, or a registry attachment's
/// parts): read as containers/image reads it, then verified under every
/// fixture trust root (keys, Rekor SET, Fulcio and pki certificate chains,
/// the payload); the input is also read as a PEM key and as a CA bundle.
pub fn sigstore(data: &[u8]) {
    use imgsig::sigstore::{parse_public_keys, FulcioRoot};
    let _ = parse_public_keys(data);
    let _ = FulcioRoot::new(data, "i", "e");
    sigstore_accepted(data);
}

/// Under how many of the fixture trust roots `data` (a sigstore signature's
/// JSON) verifies.
pub fn sigstore_accepted(data: &[u8]) -> usize {
    use imgsig::sigstore::{verify_at, SigstoreSignature};
    let Ok(sig) = SigstoreSignature::parse(data) else {
        return 0;
    };
    let mut accepted = 0;
    // 2025-11-24: the pki fixture certificates are valid then.
    let at = 1_764_000_000;
    for (root, rekor) in SIGSTORE_ROOTS.iter() {
        if let Ok(payload) = verify_at(&sig, root, rekor, at) {
            // An accepted payload names a well-formed digest.
            let (alg, hex) = payload
                .docker_manifest_digest
                .split_once(':')
                .expect("an accepted payload names an algorithm:hex digest");
            assert!(!alg.is_empty() && !hex.is_empty());
            accepted += 1;
        }
    }
    accepted
}

thread_local! {
    /// A private directory for the archive and the layout the oci target
    /// writes (one per thread: the replay tests run in parallel).
    static OCI_DIR: tempfile::TempDir = tempfile::tempdir().expect("a temporary directory");
}

/// What a layout's `index.json` may write for the digest of the blob the
/// oci target stores beside it (the fuzzer cannot compute a sha256).
const OCI_BLOB_DIGEST: &[u8] = b"@BLOB@";

/// `oci:` and `oci-archive:` images, read by `OciImage::open` (the reader
/// takes paths, so the input is written to files). The input is (a) an
/// `oci-archive:` tar file: its `index.json` and `blobs/sha256/…` entries
/// must lie within the file and read back as the file's bytes there; and
/// (b) an `oci:` layout: `index.json` is the input up to its first NUL byte,
/// with `@BLOB@` standing for the sha256 hex of the rest, the one blob
/// (`blobs/sha256/<its hex>`). Both are opened for the only image, the one
/// named `1.0` and (a layout) the entry `@1`; an image opened has a manifest
/// within the size limit whose sha256 is its digest.
pub fn oci(data: &[u8]) {
    oci_opened(data);
}

/// How many images the oci target opened from `data`: (from the archive,
/// from the layout).
pub fn oci_opened(data: &[u8]) -> (usize, usize) {
    let dir = OCI_DIR.with(|d| d.path().to_owned());
    let archive = dir.join("image.tar");
    std::fs::write(&archive, data).expect("writing the input");
    let mut file = std::fs::File::open(&archive).expect("opening the input");
    if let Ok(entries) = oci_archive_entries(&mut file) {
        for (name, offset, bytes) in entries {
            let start = usize::try_from(offset).expect("an offset within the input");
            let end = start.checked_add(bytes.len()).expect("an entry within the input");
            assert!(end <= data.len(), "{name:?} lies beyond the end of the archive");
            assert_eq!(
                &data[start..end],
                &bytes[..],
                "{name:?} read other bytes than the archive's"
            );
        }
    }
    let from_archive = ["", ":1.0"]
        .iter()
        .filter(|image| oci_open(&format!("oci-archive:{}{image}", archive.display()), None))
        .count();

    let (index, blob) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let hex = Digest::sha256(blob).hex().to_owned();
    let mut index_json = Vec::with_capacity(index.len());
    let mut rest = index;
    while let Some(i) = rest.windows(OCI_BLOB_DIGEST.len()).position(|w| w == OCI_BLOB_DIGEST) {
        index_json.extend_from_slice(&rest[..i]);
        index_json.extend_from_slice(hex.as_bytes());
        rest = &rest[i + OCI_BLOB_DIGEST.len()..];
    }
    index_json.extend_from_slice(rest);
    let layout = dir.join("layout");
    let blobs = layout.join("blobs/sha256");
    let _ = std::fs::remove_dir_all(&layout);
    std::fs::create_dir_all(&blobs).expect("creating the layout");
    std::fs::write(layout.join("index.json"), &index_json).expect("writing index.json");
    std::fs::write(blobs.join(&hex), blob).expect("writing the blob");
    let from_layout = ["", ":1.0", ":@1"]
        .iter()
        .filter(|image| oci_open(&format!("oci:{}{image}", layout.display()), Some(blob)))
        .count();
    (from_archive, from_layout)
}

/// Open the image `reference` names; what it returns must be sound (and be
/// `blob`, the only blob of a layout); whether it opened.
fn oci_open(reference: &str, blob: Option<&[u8]>) -> bool {
    let r = OciReference::parse(reference).expect("a fixed reference");
    let image = match OciImage::open(&r) {
        Ok(image) => image,
        Err(e) => {
            assert!(!e.message.is_empty());
            return false;
        }
    };
    assert_eq!(image.digest.algorithm(), Algorithm::Sha256);
    assert_eq!(
        Digest::sha256(&image.manifest),
        image.digest,
        "the manifest is not what index.json names"
    );
    assert!(image.manifest.len() <= MAX_MANIFEST_SIZE);
    if let Some(blob) = blob {
        assert_eq!(image.manifest, blob);
    }
    true
}
