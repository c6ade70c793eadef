//! Bytes after a compressed signed message (issue 14, hole 2). gpg and skopeo
//! write the compressed data packet with an indeterminate length, so whatever
//! follows the compressed stream is inside that packet's body, where the
//! OpenPGP parser drops it unread. Real skopeo and gpg signatures from the lab
//! with random bytes, a second signed message, or junk inside the compressed
//! data appended must be rejected by `verify` and called unacceptable by
//! `inspect`, with the documented reason codes; the untouched signatures
//! still verify.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, imgsig, json, lab, run, stderr, stdout, tempdir, Lab};

/// Deterministic, incompressible-looking bytes.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// `imgsig verify --output json` of the lab's app:1.0 against alice's key.
fn verify(lab: &Lab, sig: &Path) -> Output {
    run(imgsig()
        .args(["verify", "--output", "json", "--keyring"])
        .arg(lab.path("LAB_ALICE_PUB"))
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json"))
        .arg(sig))
}

#[track_caller]
fn assert_verify_rejects(lab: &Lab, sig: &Path, reason: &str) {
    let o = verify(lab, sig);
    assert_exit(&o, 1);
    let doc = json(&o);
    assert_eq!(doc["verdict"], "rejected", "{}", stderr(&o));
    assert_eq!(
        doc["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        reason,
        "{}",
        stderr(&o)
    );
}

/// `imgsig inspect` calls the envelope unacceptable, with `reason`, in JSON and in text.
#[track_caller]
fn assert_inspect_rejects(sig: &Path, reason: &str) {
    let o = run(imgsig().args(["inspect", "--output", "json"]).arg(sig));
    let doc = json(&o);
    assert_eq!(doc["signatures"][0]["envelope_problem"]["code"], reason, "{doc:#}");
    let o = run(imgsig().arg("inspect").arg(sig));
    let text = stdout(&o);
    assert!(
        text.contains(&format!("envelope:  NOT ACCEPTABLE [{reason}]")),
        "{text}"
    );
    assert!(!text.contains("a well-formed signed message"), "{text}");
}

fn alice_skopeo_signature(lab: &Lab) -> Vec<u8> {
    let sig = std::fs::read(lab.path("LAB_SIGNATURES").join("app-1.0.alice.sig")).unwrap();
    // The layout this test is about: old-format compressed data, indeterminate length.
    assert_eq!(
        sig[0], 0xA3,
        "not the indeterminate-length compressed packet gpg writes"
    );
    sig
}

#[test]
fn skopeo_signature_with_bytes_appended_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let good = alice_skopeo_signature(lab);
    // Control: the signature itself verifies and is well-formed.
    let plain = write(dir.path(), "plain.sig", &good);
    assert_exit(&verify(lab, &plain), 0);

    let junk = write(dir.path(), "junk.sig", &[good.clone(), noise(3000)].concat());
    assert_verify_rejects(lab, &junk, "malformed-signature");
    assert_inspect_rejects(&junk, "malformed-signature");
    let o = verify(lab, &junk);
    let msg = json(&o)["manifests"][0]["requirements"][0]["signatures"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(msg.contains("3000 byte(s) of trailing data"), "{msg}");

    // One byte is enough.
    let one = write(dir.path(), "one.sig", &[good.clone(), vec![0]].concat());
    assert_verify_rejects(lab, &one, "malformed-signature");
}

#[test]
fn skopeo_signature_with_a_second_message_appended_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let good = alice_skopeo_signature(lab);
    let two = write(dir.path(), "two.sig", &[good.clone(), good.clone()].concat());
    assert_verify_rejects(lab, &two, "multiple-signatures");
    assert_inspect_rejects(&two, "multiple-signatures");
    // Someone else's signature appended to alice's: still two.
    let bob = std::fs::read(lab.path("LAB_SIGNATURES").join("app-1.0.bob.sig")).unwrap();
    let mixed = write(dir.path(), "mixed.sig", &[good, bob].concat());
    assert_verify_rejects(lab, &mixed, "multiple-signatures");
    let msg = json(&verify(lab, &mixed))["manifests"][0]["requirements"][0]["signatures"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        msg.contains(lab.var("LAB_ALICE_FPR")) && msg.contains(lab.var("LAB_BOB_FPR")),
        "{msg}"
    );
}

#[test]
fn junk_inside_the_compressed_stream_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let good = alice_skopeo_signature(lab);
    assert_eq!(good[1], 1, "ZIP (raw deflate)");
    let mut inner = Vec::new();
    flate2::read::DeflateDecoder::new(&good[2..])
        .read_to_end(&mut inner)
        .unwrap();
    let recompress = |inner: &[u8]| {
        let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(inner).unwrap();
        [vec![0xA3, 1], z.finish().unwrap()].concat()
    };
    // Control: recompressed as is, it still verifies.
    let same = write(dir.path(), "same.sig", &recompress(&inner));
    assert_exit(&verify(lab, &same), 0);
    let junk = write(
        dir.path(),
        "junk.sig",
        &recompress(&[inner.clone(), noise(100)].concat()),
    );
    assert_verify_rejects(lab, &junk, "malformed-signature");
    assert_inspect_rejects(&junk, "malformed-signature");
    let twice = write(dir.path(), "twice.sig", &recompress(&[inner.clone(), inner].concat()));
    assert_verify_rejects(lab, &twice, "multiple-signatures");
}

#[test]
fn gpg_bzip2_signature_with_bytes_appended_is_rejected() {
    let lab = lab();
    let dir = tempdir();
    let claim = write(
        dir.path(),
        "claim.json",
        format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"{}"}},"image":{{"docker-manifest-digest":"{}"}},"type":"atomic container signature"}},"optional":{{}}}}"#,
            lab.var("LAB_IMG_APP1"),
            lab.var("LAB_IMG_APP1_DIGEST")
        )
        .as_bytes(),
    );
    let out = dir.path().join("bz.sig");
    let o = run(lab
        .cmd("gpg")
        .args(["--batch", "--yes", "--compress-algo", "bzip2", "--local-user"])
        .arg(lab.var("LAB_ALICE_FPR"))
        .arg("--output")
        .arg(&out)
        .arg("--sign")
        .arg(&claim));
    assert!(o.status.success(), "gpg: {}", stderr(&o));
    let good = std::fs::read(&out).unwrap();
    assert_eq!(good.get(1), Some(&3), "not bzip2-compressed: {:02x?}", &good[..2]);
    assert_exit(&verify(lab, &out), 0);
    let junk = write(dir.path(), "junk.sig", &[good, noise(500)].concat());
    assert_verify_rejects(lab, &junk, "malformed-signature");
    assert_inspect_rejects(&junk, "malformed-signature");
}
