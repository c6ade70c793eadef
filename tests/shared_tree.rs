//! Writing into a shared lookaside or mirror (issue 14, hole 1, and the
//! temporary-file litter): a symbolic link planted inside the tree must not
//! steer where `imgsig fetch --to` and `imgsig sign --lookaside-dir` write
//! (refused, exit 2, `unsafe-path`, nothing written outside), while the root
//! itself may be a link the user named; temporary files left by a killed
//! writer are removed by the next write once stale, and nothing else is.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use common::{assert_exit, imgsig, json, lab, repo, run, stderr, tempdir, Lab};

const ID: &str = "registry.example.com/lab/app:1.0";
const DIGEST: &str = "sha256:817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e";

fn demo_key() -> PathBuf {
    repo().join("examples/demo-signer.secret.asc")
}

/// `imgsig fetch --output json --to TO docker://<lab app:1.0>`.
fn fetch(lab: &Lab, to: &Path) -> Output {
    run(imgsig()
        .args(["--output", "json", "fetch", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--to")
        .arg(to)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))))
}

/// `imgsig sign --key demo --identity ID --digest DIGEST --lookaside-dir DIR`.
fn sign_into(dir: &Path) -> Command {
    let mut c = imgsig();
    c.args(["--output", "json", "sign", "--key"])
        .arg(demo_key())
        .args(["--identity", ID, "--digest", DIGEST, "--lookaside-dir"])
        .arg(dir);
    c
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A mirror `M` whose `lab` is a link to `OUTSIDE`.
fn planted(dir: &Path) -> (PathBuf, PathBuf) {
    let m = dir.join("M");
    let outside = dir.join("OUTSIDE");
    std::fs::create_dir_all(&m).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, m.join("lab")).unwrap();
    (m, outside)
}

#[track_caller]
fn assert_refused(o: &Output, doc_error: &serde_json::Value, link: &Path) {
    assert_exit(o, 2);
    assert_eq!(doc_error["code"], "unsafe-path", "{}", stderr(o));
    let msg = doc_error["message"].as_str().unwrap();
    assert!(msg.contains(&format!("{} is a symbolic link", link.display())), "{msg}");
    assert!(stderr(o).contains("refusing to follow it"), "{}", stderr(o));
}

#[test]
fn fetch_refuses_a_symlinked_directory_inside_the_mirror() {
    let lab = lab();
    let dir = tempdir();
    let (m, outside) = planted(dir.path());
    let o = fetch(lab, &m);
    assert_refused(&o, &json(&o)["error"], &m.join("lab"));
    assert!(entries(&outside).is_empty(), "written outside: {:?}", entries(&outside));

    // The root itself may be a link the user named: followed.
    let real = dir.path().join("real-mirror");
    std::fs::create_dir(&real).unwrap();
    let root_link = dir.path().join("mirror-link");
    std::os::unix::fs::symlink(&real, &root_link).unwrap();
    let o = fetch(lab, &root_link);
    assert_exit(&o, 0);
    // The image's directory and its tag record's directory (`app@tags`).
    assert_eq!(entries(&real.join("lab")).len(), 2);
    assert!(real.join("lab/app@tags/1.0.json").is_file());
}

#[test]
fn fetch_never_follows_a_link_at_a_file_name() {
    let lab = lab();
    let dir = tempdir();
    let m = dir.path().join("M");
    let o = fetch(lab, &m);
    assert_exit(&o, 0);
    let image = PathBuf::from(json(&o)["manifests"][0]["directory"].as_str().unwrap());
    // Someone replaces the signature with a link to a file elsewhere, and the
    // manifest with a dangling link: refetching reads neither through the link
    // and creates nothing where they point.
    let secret = dir.path().join("secret");
    std::fs::write(&secret, "not a signature").unwrap();
    std::fs::remove_file(image.join("signature-1")).unwrap();
    std::os::unix::fs::symlink(&secret, image.join("signature-1")).unwrap();
    let o = fetch(lab, &m);
    assert_refused(&o, &json(&o)["error"], &image.join("signature-1"));
    std::fs::remove_file(image.join("signature-1")).unwrap();
    std::fs::remove_file(image.join("manifest.json")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("dangling"), image.join("manifest.json")).unwrap();
    let o = fetch(lab, &m);
    assert_refused(&o, &json(&o)["error"], &image.join("manifest.json"));
    assert!(!dir.path().join("dangling").exists());
    assert_eq!(std::fs::read(&secret).unwrap(), b"not a signature");
}

#[test]
fn sign_refuses_a_symlinked_directory_inside_the_lookaside() {
    let dir = tempdir();
    let (m, outside) = planted(dir.path());
    let o = run(&mut sign_into(&m));
    assert_refused(&o, &json(&o)["error"], &m.join("lab"));
    assert!(entries(&outside).is_empty(), "written outside: {:?}", entries(&outside));
    // Deeper: the image directory itself is the link.
    std::fs::remove_file(m.join("lab")).unwrap();
    std::fs::create_dir(m.join("lab")).unwrap();
    let hex = DIGEST.strip_prefix("sha256:").unwrap();
    let image = m.join(format!("lab/app@sha256={hex}"));
    std::os::unix::fs::symlink(&outside, &image).unwrap();
    let o = run(&mut sign_into(&m));
    assert_refused(&o, &json(&o)["error"], &image);
    assert!(entries(&outside).is_empty());
    // A real directory works.
    std::fs::remove_file(&image).unwrap();
    assert_exit(&run(&mut sign_into(&m)), 0);
    assert_eq!(entries(&image), ["signature-1"]);
}

#[test]
fn sign_of_registry_images_refuses_the_link_too() {
    let lab = lab();
    let dir = tempdir();
    let (m, outside) = planted(dir.path());
    let o = run(imgsig()
        .args(["--output", "json", "sign", "--tls-verify=false", "--registries-d"])
        .arg(lab.path("LAB_REGISTRIES_D"))
        .arg("--key")
        .arg(demo_key())
        .arg("--lookaside-dir")
        .arg(&m)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains(&format!("{} is a symbolic link", m.join("lab").display())),
        "{}",
        stderr(&o)
    );
    assert!(entries(&outside).is_empty(), "written outside: {:?}", entries(&outside));
}

/// A file last modified `age` ago.
fn aged(path: &Path, age: Duration) {
    let f = std::fs::File::options()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn stale_temporary_files_are_removed_by_the_next_write_and_nothing_else() {
    let dir = tempdir();
    let store = dir.path().join("store");
    assert_exit(&run(&mut sign_into(&store)), 0);
    let hex = DIGEST.strip_prefix("sha256:").unwrap();
    let image = store.join(format!("lab/app@sha256={hex}"));
    // What a writer killed with SIGKILL an hour ago left, one being written
    // right now by another writer (which holds its lock), and look-alikes that
    // are not ours.
    let hour = Duration::from_secs(3600);
    aged(&image.join(".imgsig-Ab3xY9.tmp"), hour);
    aged(&image.join(".imgsig-QQQQQQ.tmp"), Duration::from_secs(5));
    let writing = std::fs::File::open(image.join(".imgsig-QQQQQQ.tmp")).unwrap();
    rustix::fs::flock(&writing, rustix::fs::FlockOperation::NonBlockingLockExclusive).unwrap();
    aged(&image.join(".imgsig-short.tmp"), hour);
    aged(&image.join("imgsig-Ab3xY9.tmp"), hour);
    let target = dir.path().join("target");
    aged(&target, hour);
    std::os::unix::fs::symlink(&target, image.join(".imgsig-LiNk00.tmp")).unwrap();
    std::fs::create_dir(image.join(".imgsig-DiR000.tmp")).unwrap();

    // Another signature (another identity) into the same directory.
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(demo_key())
        .args([
            "--identity",
            "registry.example.com/lab/app:other",
            "--digest",
            DIGEST,
            "--lookaside-dir",
        ])
        .arg(&store));
    assert_exit(&o, 0);
    assert_eq!(
        entries(&image),
        [
            ".imgsig-DiR000.tmp",
            ".imgsig-LiNk00.tmp",
            ".imgsig-QQQQQQ.tmp",
            ".imgsig-short.tmp",
            "imgsig-Ab3xY9.tmp",
            "signature-1",
            "signature-2"
        ]
    );
    assert!(target.exists(), "the link's target is untouched");
}

#[test]
fn stale_temporary_files_beside_an_output_file_are_removed() {
    let dir = tempdir();
    aged(&dir.path().join(".imgsig-k1lLed.tmp"), Duration::from_secs(3600));
    aged(&dir.path().join(".imgsig-fresh1.tmp"), Duration::ZERO);
    let out = dir.path().join("sig");
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(demo_key())
        .args(["--identity", ID, "--digest", DIGEST, "-o"])
        .arg(&out));
    assert_exit(&o, 0);
    assert_eq!(entries(dir.path()), [".imgsig-fresh1.tmp", "sig"]);
}
