//! The documented JSON as an embedder gets it: a library [`Report`]
//! serialised through `Report::to_json_document` is, byte for byte, what
//! `imgsig verify --output json` prints for the same image (policy and
//! keyring forms, accepted and rejected).

mod common;

use std::path::{Path, PathBuf};

use common::{imgsig, run};
use imgsig::pgp::{KeyMaterial, Keyring};
use imgsig::policy::{self, ParseOptions};
use imgsig::reference::DockerReference;
use imgsig::verify::{
    DocumentTrust, ImageSource, Options, Report, Request, SignatureFile, SignatureSource, Trust, Verifier,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/cmd/fixtures")
        .join(name)
}

/// The image as `verify --identity testing/manifest --manifest FILE` names
/// it: a docker transport reference under a policy, the reference exactly
/// as given (normalised) under a keyring.
fn report(trust: &Trust, manifest: &Path, signatures: &[PathBuf]) -> Report {
    let identity = match trust {
        Trust::Keyring(_) => DockerReference::parse_normalized("testing/manifest"),
        _ => DockerReference::parse_docker_transport("testing/manifest"),
    };
    Verifier::new(trust, None, Options::default())
        .verify(&Request {
            image: ImageSource::Manifest {
                bytes: std::fs::read(manifest).unwrap(),
                identity: identity.unwrap(),
                origin: manifest.display().to_string(),
            },
            signatures: SignatureSource::Files(signatures.iter().cloned().map(SignatureFile::Path).collect()),
        })
        .unwrap()
}

/// `imgsig verify --output json` with these trust arguments, for the same image.
fn cli(trust_args: &[&Path], flag: &str, manifest: &Path, signatures: &[PathBuf]) -> (String, i32) {
    let mut cmd = imgsig();
    cmd.args(["verify", "--output", "json"]);
    for a in trust_args {
        cmd.arg(flag).arg(a);
    }
    cmd.args(["--identity", "testing/manifest", "--manifest"])
        .arg(manifest)
        .args(signatures);
    let o = run(&mut cmd);
    (String::from_utf8(o.stdout).unwrap(), o.status.code().unwrap())
}

fn library_text(report: &Report, trust: &DocumentTrust<'_>, manifest: &Path) -> String {
    let doc = report.to_json_document(trust, 1, &manifest.display().to_string());
    serde_json::to_string_pretty(&doc).unwrap() + "\n"
}

#[test]
fn policy_documents_equal_the_cli_output() {
    let policy_file = fixture("policy.json");
    let parsed = policy::parse(&std::fs::read(&policy_file).unwrap(), &ParseOptions::default()).unwrap();
    let trust = Trust::Policy(parsed);
    let form = DocumentTrust::Policy(&policy_file);
    let signatures = [fixture("image.signature"), fixture("unknown-key.signature")];
    for (manifest, accepted) in [("image.manifest.json", true), ("modified.manifest.json", false)] {
        let manifest = fixture(manifest);
        let r = report(&trust, &manifest, &signatures);
        assert_eq!(r.accepted, accepted);
        let (text, code) = cli(&[&policy_file], "--policy", &manifest, &signatures);
        assert_eq!(code, if accepted { 0 } else { 1 });
        assert_eq!(library_text(&r, &form, &manifest), text, "{}", manifest.display());
    }
}

#[test]
fn keyring_documents_equal_the_cli_output() {
    let key_file = fixture("public-key.gpg");
    let mut keyring = Keyring::default();
    keyring.add_material(&KeyMaterial::parse(&std::fs::read(&key_file).unwrap()).unwrap());
    let paths = [key_file.clone()];
    let form = DocumentTrust::keyring(&paths, &keyring);
    let trust = Trust::Keyring(keyring);
    let manifest = fixture("image.manifest.json");
    for (signatures, accepted) in [
        (vec![fixture("corrupt.signature"), fixture("image.signature")], true),
        (
            vec![fixture("corrupt.signature"), fixture("unknown-key.signature")],
            false,
        ),
    ] {
        let r = report(&trust, &manifest, &signatures);
        let (text, code) = cli(&[&key_file], "--keyring", &manifest, &signatures);
        assert_eq!((r.accepted, code), (accepted, if accepted { 0 } else { 1 }));
        assert_eq!(library_text(&r, &form, &manifest), text);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema_version"], imgsig::verify::JSON_SCHEMA_VERSION);
        assert_eq!(v["mode"], "keyring");
    }
}
