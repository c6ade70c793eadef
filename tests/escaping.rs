//! Control characters in file names never reach the terminal (issue 14,
//! hole 5): a signature, policy or key file whose name carries an ESC
//! sequence is named with the ESC escaped (`\u{1b}`) in every human message,
//! the accepted and rejected lines, error messages, `inspect` and `policy`
//! output alike. The same for lines of an image list (`--from-file`) in
//! the progress bar, checked under a real pseudo-terminal (issue 24).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{assert_exit, fixture, imgsig, repo, run, stderr, stdout, tempdir};

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
        // `policy explain` writes its explanation to stdout (the command's output).
        let out = if args.len() == 3 { stdout(&o) } else { stderr(&o) };
        assert!(out.contains(SHOWN), "{args:?}: {out}");
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

/// Everything a terminal receives from `imgsig ARGS`, run under a real
/// pseudo-terminal (util-linux `script`) with progress allowed: `CI` unset,
/// `TERM=xterm`. Returns (terminal output, exit code).
fn under_pty(dir: &Path, args: &[&OsStr]) -> (String, Option<i32>) {
    let quote = |s: &OsStr| format!("'{}'", s.to_str().expect("a UTF-8 argument").replace('\'', r"'\''"));
    let mut line = quote(OsStr::new(env!("CARGO_BIN_EXE_imgsig")));
    for a in args {
        line.push(' ');
        line.push_str(&quote(a));
    }
    let o = run(Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env_remove("CI")
        .env_remove("IMGSIG_PASSPHRASE")
        .env("TERM", "xterm")
        .stdin(Stdio::null()));
    (String::from_utf8_lossy(&o.stdout).into_owned(), o.status.code())
}

/// Issue 24 §4: a list line's escape sequences never reach the terminal
/// through the progress bar (it used to set the window title and clear the
/// screen), while the bar itself is drawn.
#[test]
fn list_lines_are_escaped_in_the_progress_bar() {
    let dir = tempdir();
    let list = dir.path().join("list");
    let evil = "docker://\x1b]0;TITLE\x07\x1b[2J";
    // The second image fails fast (nothing listens on port 1).
    std::fs::write(&list, format!("{evil}\ndocker://127.0.0.1:1/a:1\n")).unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let key = repo().join("examples/demo-signer.secret.asc");
    let o = OsStr::new;
    let runs: [(&str, Vec<&OsStr>, &str); 3] = [
        (
            "fetch",
            vec![o("fetch"), o("--to"), o("mirror"), o("--from-file"), list.as_os_str()],
            "[1/2] docker://",
        ),
        (
            "sign",
            vec![
                o("sign"),
                o("--key"),
                key.as_os_str(),
                o("--lookaside-dir"),
                o("sigs"),
                o("--from-file"),
                list.as_os_str(),
            ],
            "[1/2] docker://",
        ),
        (
            "verify",
            vec![
                o("verify"),
                o("--policy"),
                policy.as_os_str(),
                o("--from-file"),
                list.as_os_str(),
            ],
            "] images: ",
        ),
    ];
    for (name, args, bar) in runs {
        let (tty, code) = under_pty(dir.path(), &args);
        assert!(matches!(code, Some(1..=3)), "{name}: exit {code:?}\n{tty:?}");
        // The bar was drawn (a person at a terminal sees progress) ...
        assert!(tty.contains(bar), "{name}: no progress drawn: {tty:?}");
        // ... and neither it nor any message let the list's sequences through:
        // the only ESCs are the bar's own line erasures (CSI K).
        assert!(!tty.contains('\x07'), "{name}: a raw BEL reached the terminal: {tty:?}");
        let mut rest = tty.as_str();
        while let Some(i) = rest.find('\x1b') {
            rest = &rest[i + 1..];
            let seq: String = rest.chars().take_while(|c| !c.is_ascii_alphabetic()).collect();
            let end = rest[seq.len()..].chars().next();
            assert!(
                seq.starts_with('[') && matches!(end, Some('K' | 'A' | 'G')),
                "{name}: a foreign escape sequence reached the terminal: ESC{seq}{end:?} in {tty:?}"
            );
        }
        assert!(tty.contains(r"\u{1b}]0;TITLE\u{7}\u{1b}[2J"), "{name}: {tty:?}");
    }
}
