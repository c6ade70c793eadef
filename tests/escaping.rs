//! Control characters in file names never reach the terminal (issue 14,
//! hole 5): a signature, policy or key file whose name carries an ESC
//! sequence is named with the ESC escaped (`\u{1b}`) in every human message,
//! the accepted and rejected lines, error messages, `inspect` and `policy`
//! output alike.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, fixture, imgsig, run, stderr, stdout, tempdir};

const EVIL: &str = "sig\x1b[31mname\x1b]0;owned\x07";
const SHOWN: &str = "sig\\u{1b}[31mname\\u{1b}]0;owned\\u{7}";

#[track_caller]
fn assert_clean(o: &Output) {
    for (name, text) in [("stdout", stdout(o)), ("stderr", stderr(o))] {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "a control character in {name}: {text:?}"
        );
    }
}

fn copy(dir: &Path, from: &str, name: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::copy(fixture(from), &p).unwrap();
    p
}

fn verify_keyring(sigs: &[&Path]) -> Output {
    run(imgsig()
        .args(["verify", "--keyring"])
        .arg(fixture("signature/public-key.gpg"))
        .args(["--identity", "testing/manifest", "--manifest"])
        .arg(fixture("signature/image.manifest.json"))
        .args(sigs))
}

#[test]
fn signature_file_names_are_escaped_in_verify() {
    let dir = tempdir();
    let good = copy(dir.path(), "signature/image.signature", EVIL);
    let bad = copy(dir.path(), "signature/unknown-key.signature", &format!("{EVIL}.bad"));
    let o = verify_keyring(&[&good, &bad]);
    assert_exit(&o, 0);
    assert_clean(&o);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("({}/{SHOWN}): accepted", dir.path().display())),
        "{err}"
    );
    assert!(
        err.contains(&format!("({}/{SHOWN}.bad): rejected", dir.path().display())),
        "{err}"
    );

    // An error naming the file.
    let missing = dir.path().join(format!("{EVIL}.missing"));
    let o = verify_keyring(&[&missing]);
    assert_exit(&o, 2);
    assert_clean(&o);
    assert!(stderr(&o).contains(&format!("{SHOWN}.missing")), "{}", stderr(&o));
}

#[test]
fn policy_mode_names_are_escaped() {
    let dir = tempdir();
    let policy = dir.path().join(format!("{EVIL}.json"));
    let key = copy(dir.path(), "signature/public-key.gpg", &format!("{EVIL}.gpg"));
    let doc = serde_json::json!({"default": [{"type": "signedBy", "keyType": "GPGKeys",
        "keyPath": key, "signedIdentity": {"type": "matchRepository"}}]});
    std::fs::write(&policy, doc.to_string()).unwrap();
    let sig = copy(dir.path(), "signature/image.signature", EVIL);
    let o = run(imgsig()
        .args(["verify", "--policy"])
        .arg(&policy)
        .args(["--identity", "testing/manifest", "--manifest"])
        .arg(fixture("signature/image.manifest.json"))
        .arg(&sig));
    assert_exit(&o, 0);
    assert_clean(&o);
    assert!(stderr(&o).contains(&format!("{SHOWN}.json")), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("keyPath {}/{SHOWN}.gpg", dir.path().display())),
        "{}",
        stderr(&o)
    );

    for args in [
        vec!["policy".to_owned(), "check".to_owned()],
        vec!["policy".to_owned(), "explain".to_owned(), "--policy".to_owned()],
    ] {
        let mut c = imgsig();
        c.args(&args).arg(&policy);
        if args.len() == 3 {
            c.arg("docker://testing/manifest:latest");
        }
        let o = run(&mut c);
        assert_clean(&o);
        assert!(stderr(&o).contains(SHOWN), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn inspect_names_are_escaped() {
    let dir = tempdir();
    let good = copy(dir.path(), "signature/image.signature", EVIL);
    let junk = dir.path().join(format!("{EVIL}.junk"));
    std::fs::write(&junk, b"not openpgp").unwrap();
    let o = run(imgsig().arg("inspect").arg(&good).arg(&junk));
    assert_exit(&o, 1);
    assert_clean(&o);
    assert!(stdout(&o).contains(SHOWN), "{}", stdout(&o));
    assert!(
        stderr(&o).contains(&format!("{SHOWN}.junk: cannot inspect")),
        "{}",
        stderr(&o)
    );
}
