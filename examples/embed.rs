//! An embedder's program: sign an image with a key file, store the
//! signature in a lookaside directory, and verify the image against a
//! containers-policy.json — with imgsig's public API only, no network.
//!
//!     cargo run --example embed
//!
//! It prints the verdict and exits 0 when the image is accepted (CI runs it).

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use imgsig::policy::{self, ParseOptions};
use imgsig::reference::DockerReference;
use imgsig::sign::{Destination, Request as SignRequest, Signer, Signing};
use imgsig::verify::{ImageSource, Request as VerifyRequest, SignatureSource, Trust, Verifier};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("embed: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let work = tempfile::tempdir()?;
    let identity = DockerReference::parse_normalized("registry.example.com/demo/app:1.0")?;
    let manifest = std::fs::read(examples.join("manifest.json"))?;

    // 1. Sign: the claim "this manifest is registry.example.com/demo/app:1.0",
    //    signed with a secret key file, into a lookaside directory.
    let key = std::fs::read(examples.join("demo-signer.secret.asc"))?;
    let signer = Signer::key_file(&key, None, "demo-signer.secret.asc", SystemTime::now())?;
    let lookaside = work.path().join("lookaside");
    let request = SignRequest::manifest(&manifest, identity.clone(), Destination::LookasideDir(lookaside))?;
    let signed = Signing::new(&signer, None).sign(&request);
    if let Some(e) = &signed.error {
        return Err(format!("signing failed ({}): {e}", e.code).into());
    }
    let entry = &signed.entries[0];
    let at = entry.outcome.at().ok_or("no signature was written")?;
    println!("signed {} as {identity}: {at}", entry.manifest_digest);

    // 2. Verify: a policy that requires the demo signer's key for the
    //    registry, nothing for anything else.
    let policy_json = format!(
        r#"{{"default": [{{"type": "reject"}}],
            "transports": {{"docker": {{"registry.example.com": [
                {{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "{}"}}]}}}}}}"#,
        examples.join("demo-signer.pub.asc").display()
    );
    let policy = policy::parse(policy_json.as_bytes(), &ParseOptions::default())?;
    let trust = Trust::Policy(policy);
    let verifier = Verifier::new(&trust, None, Default::default());
    let signatures = Path::new(at).parent().ok_or("a signature lies in a directory")?;
    let report = verifier.verify(&VerifyRequest {
        image: ImageSource::Manifest {
            bytes: manifest,
            identity: identity.clone(),
            origin: "examples/manifest.json".into(),
        },
        signatures: SignatureSource::Directory(signatures.to_owned()),
    })?;

    // 3. The verdict, as people read it; `report.to_json_document(…)` gives
    //    the documented JSON instead.
    match (&report.accepted, &report.verified_reference) {
        (true, Some(r)) => println!("ACCEPTED {r}"),
        _ => println!("REJECTED {identity}"),
    }
    Ok(report.accepted)
}
