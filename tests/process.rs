//! The imgsig process as scripts and service managers start it: with closed
//! standard descriptors, or with stdout a pipe whose reader has gone away
//! (against the peer lab's real registry and lookaside).
//! imgsig starts through std's entry point and relies on its start-up for
//! both (src/main.rs); these tests hold std to it.

mod common;

use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{assert_exit, imgsig, online, repo, sign_demo, stderr, tempdir, DEMO_ID};

fn manifest() -> PathBuf {
    repo().join("examples/manifest.json")
}

fn verify_args(sig: &Path) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = ["verify", "--keyring"].map(Into::into).to_vec();
    a.push(repo().join("examples/demo-signer.pub.asc").into());
    a.extend(["--identity", DEMO_ID, "--manifest"].map(Into::into));
    a.push(manifest().into());
    a.push(sig.into());
    a
}

/// Started with stdout or stderr closed (`2>&-`), the descriptors imgsig
/// opens would take numbers 1 and 2: its messages would go into a file,
/// a socket or (seen without this) tokio's epoll descriptor, where writing
/// fails and the message macro panics. They must be opened on /dev/null
/// first, as std's start-up does. A real fetch from the lab (registry, HTTP
/// lookaside) must exit 0 and write exactly what a normal fetch writes.
#[test]
fn closed_stdout_or_stderr_is_never_reused_for_what_imgsig_opens() {
    let lab = common::lab();
    let image = format!("docker://{}", lab.var("LAB_IMG_APP1"));
    let base = tempdir();
    let fetch_to = |to: &Path, closing: &str| {
        let mut c = Command::new("sh");
        online::isolate(&mut c);
        c.arg("-c")
            .arg(format!(r#"{closing} exec "$@""#))
            .arg("sh")
            .arg(env!("CARGO_BIN_EXE_imgsig"))
            .args(["--output", "json", "fetch", "--to"])
            .arg(to)
            .args(online::lab_net(lab))
            .arg(&image)
            .stdin(Stdio::null());
        online::go(&mut c)
    };
    let reference = base.path().join("reference");
    assert_exit(&fetch_to(&reference, ""), 0);
    let expected = files_below(&reference);
    assert!(expected.len() >= 2, "the reference fetch wrote {expected:?}");
    for (name, closing) in [
        ("stderr", "exec 2>&-;"),
        ("stdout", "exec 1>&-;"),
        ("both", "exec 1>&- 2>&-;"),
    ] {
        let to = base.path().join(name);
        let o = fetch_to(&to, closing);
        assert_eq!(o.status.signal(), None, "{name} closed: killed");
        assert_eq!(o.status.code(), Some(0), "{name} closed: exit code");
        let got = files_below(&to);
        assert_eq!(
            got.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            expected.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            "{name} closed"
        );
        for ((path, bytes), (_, want)) in got.iter().zip(&expected) {
            // Tag records carry the time of the fetch; everything else is the same bytes.
            if !path.to_string_lossy().contains("@tags") {
                assert_eq!(bytes, want, "{name} closed: {}", path.display());
            }
        }
    }
}

/// Every file below `root`: its path relative to `root`, and its bytes.
fn files_below(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push((p.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// A reader that has gone away (`imgsig verify … | head -c1`): std's runtime
/// ignores SIGPIPE, so the write fails and imgsig ends with its verdict's exit
/// code. With SIGPIPE at its default (which is how std's Command and most
/// shells start children), the kernel would kill imgsig silently instead.
#[test]
fn a_closed_pipe_does_not_kill_imgsig() {
    let dir = tempdir();
    let sig = sign_demo(dir.path());
    let mut fds = [0; 2];
    // SAFETY: pipe writes two new descriptors into the array; each is owned
    // exactly once below.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(reader);
    for output in ["json", "human"] {
        let o = imgsig()
            .args(["--output", output])
            .args(verify_args(&sig))
            .stdout(Stdio::from(writer.try_clone().unwrap()))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(o.status.signal(), None, "--output {output}: killed: {}", stderr(&o));
        assert_eq!(o.status.code(), Some(0), "--output {output}: {}", stderr(&o));
    }
}
