//! The reference implementation's test vectors (containers/image
//! signature/fixtures, copied to shared/reference/fixtures) replayed through
//! `imgsig verify --keyring`: each file gives the result its README documents.

mod common;

use common::{assert_exit, fixture, imgsig, json, run, stderr};

const DIGEST: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";
const KEY_A: &str = "08CD26E446E2E95249B7A405E932F44B23E8DD43";

fn verify(key: &str, identity: &str, manifest: &str, sig: &str) -> std::process::Output {
    run(imgsig()
        .args(["verify", "--output", "json", "--keyring"])
        .arg(fixture(key))
        .args(["--identity", identity, "--manifest"])
        .arg(fixture(manifest))
        .arg(fixture(sig)))
}

#[track_caller]
fn expect_reason(key: &str, identity: &str, sig: &str, reason: &str) {
    let o = verify(key, identity, "signature/image.manifest.json", sig);
    assert_exit(&o, 1);
    let doc = json(&o);
    assert_eq!(doc["verdict"], "rejected", "{sig}");
    assert_eq!(
        doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        reason,
        "{sig}: {}",
        stderr(&o)
    );
}

#[test]
fn image_signature_is_valid_by_key_a() {
    for key in [
        "signature/public-key.gpg",
        "signature/public-key-1.gpg",
        "signature/pubring.gpg",
    ] {
        let o = verify(
            key,
            "testing/manifest",
            "signature/image.manifest.json",
            "signature/image.signature",
        );
        assert_exit(&o, 0);
        let doc = json(&o);
        let s = &doc["manifests"][0]["requirements"][0]["signatures"][0];
        assert_eq!(s["signer"]["primary_fingerprint"], KEY_A);
        assert_eq!(s["signed_digest"], DIGEST);
        assert_eq!(s["signed_identity"], "testing/manifest");
        assert_eq!(s["creator"], "atomic ");
        assert_eq!(s["timestamp"], 1458239713);
        assert_eq!(
            doc["verified_reference"],
            format!("docker.io/testing/manifest@{DIGEST}")
        );
    }
}

#[test]
fn name_only_claim_does_not_match_a_tagged_identity() {
    // standalone-verify semantics: no :latest defaulting on either side.
    expect_reason(
        "signature/public-key.gpg",
        "testing/manifest:latest",
        "signature/image.signature",
        "identity-mismatch",
    );
}

#[test]
fn no_optional_fields_is_valid() {
    let o = verify(
        "signature/public-key.gpg",
        "testing/manifest",
        "signature/image.manifest.json",
        "signature/no-optional-fields.signature",
    );
    assert_exit(&o, 0);
    assert_eq!(
        json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["creator"],
        serde_json::Value::Null
    );
}

#[test]
fn invalid_reference_in_claim_is_rejected() {
    expect_reason(
        "signature/public-key.gpg",
        "testing/manifest",
        "signature/invalid-reference.signature",
        "invalid-signed-identity",
    );
}

#[test]
fn invalid_blob_payload_is_rejected_after_good_crypto() {
    for sig in [
        "signature/invalid-blob.signature",
        "signature/invalid-blob.signature-v3",
    ] {
        let o = verify(
            "signature/public-key.gpg",
            "testing/manifest",
            "signature/image.manifest.json",
            sig,
        );
        assert_exit(&o, 1);
        let s = &json(&o)["manifests"][0]["requirements"][0]["signatures"][0];
        assert_eq!(s["reason"], "malformed-claim", "{sig}");
        // The crypto was good, so the signer is known.
        assert_eq!(s["signer"]["primary_fingerprint"], KEY_A, "{sig}");
    }
}

#[test]
fn corrupt_signature_is_rejected() {
    // Both files also have a newline after the end of their compressed stream: trailing
    // data, rejected before any cryptography. Without it, the bad signature is what is left.
    let dir = common::tempdir();
    for name in ["corrupt.signature", "corrupt.signature-v3"] {
        let sig = format!("signature/{name}");
        expect_reason(
            "signature/public-key.gpg",
            "testing/manifest",
            &sig,
            "malformed-signature",
        );
        let bytes = std::fs::read(fixture(&sig)).unwrap();
        assert_eq!(bytes.last(), Some(&b'\n'));
        let trimmed = dir.path().join(name);
        std::fs::write(&trimmed, &bytes[..bytes.len() - 1]).unwrap();
        expect_reason(
            "signature/public-key.gpg",
            "testing/manifest",
            trimmed.to_str().unwrap(),
            "bad-signature",
        );
    }
}

#[test]
fn expired_signature_is_rejected() {
    expect_reason(
        "signature/public-key.gpg",
        "testing/manifest",
        "signature/expired.signature",
        "expired-signature",
    );
}

#[test]
fn unknown_key_is_rejected() {
    for sig in ["signature/unknown-key.signature", "signature/unknown-key.signature-v3"] {
        expect_reason("signature/pubring.gpg", "testing/manifest", sig, "unknown-key");
    }
}

#[test]
fn subkey_signature_is_valid_and_reports_both_fingerprints() {
    for sig in ["signature/subkey.signature", "signature/subkey.signature-v3"] {
        let o = verify(
            "signature/public-key-with-subkey.gpg",
            "testing/manifest:latest",
            "signature/image.manifest.json",
            sig,
        );
        assert_exit(&o, 0);
        let s = &json(&o)["manifests"][0]["requirements"][0]["signatures"][0];
        assert_eq!(
            s["signer"]["primary_fingerprint"], "B9F4CDB9FD8C475BFA340AC38D54A947EE396F36",
            "{sig}"
        );
        assert_eq!(
            s["signer"]["signing_fingerprint"], "57D1D95BBC53BA0EAFF0718CD75B3109B3BAAEAF",
            "{sig}"
        );
    }
}

#[test]
fn revoked_subkey_signature_is_rejected() {
    for sig in [
        "signature/subkey-revoked.signature",
        "signature/subkey-revoked.signature-v3",
    ] {
        expect_reason(
            "signature/public-key-with-revoked-subkey.gpg",
            "testing/manifest:latest",
            sig,
            "revoked-key",
        );
    }
}

#[test]
fn unsigned_messages_are_rejected() {
    // A compressed literal packet with no signature; an encrypted message
    // (first byte 0x84) is not a simple-signing blob at all.
    expect_reason(
        "signature/public-key.gpg",
        "testing/manifest",
        "signature/unsigned-literal.signature",
        "not-signed",
    );
    expect_reason(
        "signature/public-key.gpg",
        "testing/manifest",
        "signature/unsigned-encrypted.signature",
        "unrecognized-format",
    );
}

#[test]
fn dir_images_give_documented_results() {
    let key = "signature/public-key.gpg";
    let id = "testing/manifest:latest";
    for (dir, sigs, accepted) in [
        ("dir-img-valid", &["signature-1"][..], true),
        ("dir-img-valid-2", &["signature-1", "signature-2"][..], true),
        ("dir-img-mixed", &["signature-1", "signature-2"][..], true),
        ("dir-img-modified-manifest", &["signature-1"][..], false),
    ] {
        let mut c = imgsig();
        c.args(["verify", "--output", "json", "--keyring"])
            .arg(fixture(key))
            .args(["--identity", id, "--manifest"])
            .arg(fixture(&format!("signature/{dir}/manifest.json")));
        for s in sigs {
            c.arg(fixture(&format!("signature/{dir}/{s}")));
        }
        let o = run(&mut c);
        assert_exit(&o, if accepted { 0 } else { 1 });
        if !accepted {
            assert_eq!(
                json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
                "digest-mismatch"
            );
        }
    }
    // With another tag the valid image is rejected on identity.
    let o = verify(
        key,
        "testing/manifest:notlatest",
        "signature/dir-img-valid/manifest.json",
        "signature/dir-img-valid/signature-1",
    );
    assert_exit(&o, 1);
    assert_eq!(
        json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        "identity-mismatch"
    );
}

#[test]
fn unusable_manifests_exit_2() {
    for manifest in [
        "signature/v2s1-invalid-signatures.manifest.json",
        "signature/dir-img-manifest-digest-error/manifest.json",
    ] {
        let o = verify(
            "signature/public-key.gpg",
            "testing/manifest",
            manifest,
            "signature/image.signature",
        );
        assert_exit(&o, 2);
        assert_eq!(json(&o)["error"]["code"], "invalid-manifest");
    }
}
