//! Inputs from pipes (issue 24): `--policy <(…)`, `--keyring <(…)` and every
//! other file the user names may be a pipe or a FIFO (read to its end,
//! bounded as a file is) or a character device; a directory is still refused.
//! A FIFO planted inside a lookaside or mirror is still refused (tests in
//! src/files/mod.rs and tests/hostile.rs).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{assert_exit, imgsig, json, run, stderr, tempdir};

fn fixtures() -> PathBuf {
    common::repo().join("tests/cmd/fixtures")
}

/// `bash -c SCRIPT` in the fixtures directory, with `$IMGSIG` the binary under test:
/// process substitution `<(…)` hands imgsig a `/dev/fd/N` pipe, as a user's shell does.
fn bash(script: &str) -> Output {
    run(std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("IMGSIG", env!("CARGO_BIN_EXE_imgsig"))
        .env_remove("IMGSIG_PASSPHRASE")
        .current_dir(fixtures()))
}

#[test]
fn policy_from_process_substitution() {
    // `sleep` first: the pipe is empty when imgsig opens and first reads it.
    let o = bash(
        r#""$IMGSIG" --output json verify --policy <(sleep 0.3; cat policy.json) \
            --identity testing/manifest --manifest image.manifest.json image.signature"#,
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["verdict"], "accepted", "{}", stderr(&o));
}

#[test]
fn keyring_from_process_substitution() {
    let o = bash(
        r#""$IMGSIG" --output json verify --keyring <(sleep 0.3; cat public-key.gpg) \
            --identity testing/manifest --manifest image.manifest.json image.signature"#,
    );
    assert_exit(&o, 0);
    assert_eq!(json(&o)["verdict"], "accepted", "{}", stderr(&o));
}

#[test]
fn every_named_input_from_pipes_at_once() {
    // Policy, manifest and signature all from pipes that start empty.
    let o = bash(
        r#""$IMGSIG" verify --policy <(sleep 0.2; cat policy.json) --identity testing/manifest \
            --manifest <(sleep 0.2; cat image.manifest.json) <(sleep 0.2; cat image.signature)"#,
    );
    assert_exit(&o, 0);
}

/// A FIFO made with mkfifo, its writer writing slowly: read to the writer's end.
#[test]
fn a_named_fifo_with_a_slow_writer() {
    use std::io::Write;
    let dir = tempdir();
    let fifo = dir.path().join("policy.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // Open the writing end before imgsig starts (a read-write handle lets that open
    // complete at once), as a shell's `cmd > fifo &` would have by then.
    let hold = std::fs::OpenOptions::new().read(true).write(true).open(&fifo).unwrap();
    let mut w = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    let child = imgsig()
        .current_dir(fixtures())
        .args(["verify", "--policy"])
        .arg(&fifo)
        .args([
            "--identity",
            "testing/manifest",
            "--manifest",
            "image.manifest.json",
            "image.signature",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once imgsig has the FIFO open, only the writer keeps it going.
    let fds = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let opened = || {
        std::fs::read_dir(&fds)
            .map(|d| {
                d.flatten()
                    .any(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == fifo))
            })
            .unwrap_or(false)
    };
    let start = std::time::Instant::now();
    while !opened() {
        assert!(start.elapsed().as_secs() < 20, "imgsig never opened the FIFO");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    drop(hold);
    for chunk in std::fs::read(fixtures().join("policy.json")).unwrap().chunks(512) {
        w.write_all(chunk).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(w);
    let o = child.wait_with_output().unwrap();
    assert_exit(&o, 0);
}

#[test]
fn a_character_device_is_read_like_a_file() {
    // /dev/null: an empty keyring, refused for what it holds, not for what it is.
    let o = run(imgsig().current_dir(fixtures()).args([
        "--output",
        "json",
        "verify",
        "--keyring",
        "/dev/null",
        "--identity",
        "testing/manifest",
        "--manifest",
        "image.manifest.json",
        "image.signature",
    ]));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "invalid-keyring", "{}", stderr(&o));
    // /dev/zero never ends: the size limit stops it.
    let o = run(imgsig().current_dir(fixtures()).args([
        "--output",
        "json",
        "verify",
        "--policy",
        "/dev/zero",
        "--identity",
        "testing/manifest",
        "--manifest",
        "image.manifest.json",
        "image.signature",
    ]));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "input-too-large", "{}", stderr(&o));
}

#[test]
fn directories_are_still_refused() {
    for flag in ["--policy", "--keyring"] {
        let dir = tempdir();
        let o = run(imgsig()
            .current_dir(fixtures())
            .args(["--output", "json", "verify", flag])
            .arg(dir.path())
            .args([
                "--identity",
                "testing/manifest",
                "--manifest",
                "image.manifest.json",
                "image.signature",
            ]));
        assert_exit(&o, 2);
        assert_eq!(json(&o)["error"]["code"], "unreadable-input", "{flag}: {}", stderr(&o));
        assert!(stderr(&o).contains("is a directory"), "{flag}: {}", stderr(&o));
    }
}

/// A policy's `keyPath` naming a pipe (`<(…)` in a generated policy) is read too.
#[test]
fn a_key_path_from_process_substitution() {
    let dir = tempdir();
    let template = dir.path().join("policy.template");
    std::fs::write(
        &template,
        r#"{"default":[{"type":"reject"}],"transports":{"docker":{"docker.io/testing/manifest":[
            {"type":"signedBy","keyType":"GPGKeys","keyPath":"KEYPATH","signedIdentity":{"type":"matchRepository"}}]}}}"#,
    )
    .unwrap();
    let o = bash(&format!(
        r#"exec 3< <(sleep 0.2; cat public-key.gpg)
           "$IMGSIG" verify --policy <(sed "s|KEYPATH|/dev/fd/3|" {}) \
              --identity testing/manifest --manifest image.manifest.json image.signature"#,
        shell_quote(&template)
    ));
    assert_exit(&o, 0);
}

fn shell_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', r"'\''"))
}
