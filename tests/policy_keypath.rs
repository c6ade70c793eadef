//! A relative `keyPath` (issue 14, hole 3): containers/image reads it against
//! the working directory, and so does imgsig (same verdict), but whoever
//! controls that directory chooses the trusted key, so `policy check` reports
//! it (`relative-key-path`, naming the absolute path it resolved to) and
//! `policy explain` names the resolved path.

mod common;

use std::path::Path;

use common::{assert_exit, fixture, imgsig, json, run, stderr, stdout, tempdir};

fn policy(dir: &Path, key_member: &str) -> std::path::PathBuf {
    let p = dir.join("policy.json");
    std::fs::write(
        &p,
        // matchRepository: the fixtures' claims name `testing/manifest` without a tag.
        format!(
            r#"{{"default":[{{"type":"signedBy","keyType":"GPGKeys",{key_member},"signedIdentity":{{"type":"matchRepository"}}}}]}}"#
        ),
    )
    .unwrap();
    p
}

/// The findings, but the `rollback-risk` of `matchRepository`.
fn findings(o: &std::process::Output) -> Vec<(String, String, String)> {
    json(o)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] != "rollback-risk")
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_owned(),
                f["path"].as_str().unwrap().to_owned(),
                f["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn relative_key_path_is_read_from_the_working_directory_and_reported() {
    let dir = tempdir();
    let cwd = dir.path().join("build-context");
    std::fs::create_dir(&cwd).unwrap();
    std::fs::copy(fixture("signature/public-key.gpg"), cwd.join("key.gpg")).unwrap();
    let p = policy(dir.path(), r#""keyPath":"key.gpg""#);

    // The verdict is containers/image's: the key is read from the working directory.
    let o = run(imgsig()
        .current_dir(&cwd)
        .args(["verify", "--output", "json", "--policy"])
        .arg(&p)
        .args(["--identity", "testing/manifest", "--manifest"])
        .arg(fixture("signature/image.manifest.json"))
        .arg(fixture("signature/image.signature")));
    assert_exit(&o, 0);

    // policy check: a finding, naming the absolute path, with a hint.
    let o = run(imgsig()
        .current_dir(&cwd)
        .args(["policy", "check", "--output", "json"])
        .arg(&p));
    assert_exit(&o, 1);
    let f = findings(&o);
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].0, "relative-key-path");
    assert_eq!(f[0].1, "default[0].keyPath");
    let resolved = cwd.join("key.gpg");
    assert!(f[0].2.contains(&resolved.display().to_string()), "{}", f[0].2);
    let o = run(imgsig().current_dir(&cwd).args(["policy", "check"]).arg(&p));
    assert!(stderr(&o).contains("[relative-key-path]"), "{}", stderr(&o));
    assert!(stderr(&o).contains("hint: give the absolute path"), "{}", stderr(&o));

    // policy explain names the file actually read.
    let o = run(imgsig()
        .current_dir(&cwd)
        .args(["policy", "explain", "--policy"])
        .arg(&p)
        .arg("docker://testing/manifest:latest"));
    assert_exit(&o, 0);
    assert!(
        stdout(&o).contains(&format!("keyPath {}", resolved.display())),
        "{}",
        stdout(&o)
    );

    // Elsewhere the same policy trusts another file (here: none).
    let o = run(imgsig()
        .current_dir(dir.path())
        .args(["policy", "check", "--output", "json"])
        .arg(&p));
    let f = findings(&o);
    assert!(
        f.iter()
            .any(|x| x.0 == "relative-key-path" && x.2.contains(&dir.path().join("key.gpg").display().to_string())),
        "{f:?}"
    );
    assert!(f.iter().any(|x| x.0 == "key-unusable"), "{f:?}");
}

#[test]
fn relative_entries_of_key_paths_are_reported_absolute_ones_not() {
    let dir = tempdir();
    let abs = fixture("signature/public-key.gpg");
    std::fs::copy(&abs, dir.path().join("k.gpg")).unwrap();
    let p = policy(
        dir.path(),
        &format!(r#""keyPaths":[{:?},"./k.gpg"]"#, abs.display().to_string()),
    );
    let o = run(imgsig()
        .current_dir(dir.path())
        .args(["policy", "check", "--output", "json"])
        .arg(&p));
    let f = findings(&o);
    assert_eq!(
        f.iter().map(|x| (x.0.as_str(), x.1.as_str())).collect::<Vec<_>>(),
        [("relative-key-path", "default[0].keyPaths[1]")]
    );
    // Absolute only: clean.
    let p = policy(dir.path(), &format!(r#""keyPath":{:?}"#, abs.display().to_string()));
    let o = run(imgsig().args(["policy", "check", "--output", "json"]).arg(&p));
    assert!(findings(&o).is_empty(), "{:?}", findings(&o));
}
