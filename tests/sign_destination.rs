//! Where `sign` puts signatures, said out loud: the built-in default store
//! (nothing configured) is warned about and named, every destination's
//! source is in the JSON report; an image named by digest is signed as the
//! digest reference, with a warning; a wrong passphrase given to a real
//! gpg-agent is the same input error as for a key file.
//!
//! The built-in default store depends on who runs imgsig: as root it is
//! `/var/lib/containers/sigstore`, shared by the whole machine, so a test
//! running as root runs imgsig as an unprivileged user in a user namespace
//! (`unshare --user`), where the store is `$HOME/.local/share/...` below a
//! temporary HOME: no test ever writes into a real store.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::gpg::GpgHome;
use common::online::{go, isolate};
use common::{assert_exit, imgsig, json, lab, run, stderr, tempdir, Lab};

/// `imgsig` as a non-root user (through a user namespace when the tests run
/// as root), isolated from the developer's configuration, with `home` as HOME.
fn imgsig_as_user(home: &Path) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("unshare");
        c.args(["--user", "--map-user=1000", "--map-group=1000", "--"])
            .arg(env!("CARGO_BIN_EXE_imgsig"))
            .env_remove("IMGSIG_PASSPHRASE")
            .stdin(Stdio::null());
        c
    } else {
        imgsig()
    };
    isolate(&mut c);
    c.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_RUNTIME_DIR", home.join("run"));
    c
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(1) == 0
}

fn demo_key() -> PathBuf {
    common::repo().join("examples/demo-signer.secret.asc")
}

/// `sign --json --key demo` of lab app:1.0 (plain HTTP) with `extra` flags.
fn sign_app(lab: &Lab, home: &Path, extra: &[&str]) -> Output {
    go(imgsig_as_user(home)
        .args(["sign", "--json", "--tls-verify=false", "--key"])
        .arg(demo_key())
        .args(extra)
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))))
}

fn signature_dir(root: &Path, lab: &Lab) -> PathBuf {
    let hex = lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:");
    root.join(format!("lab/app@sha256={hex}"))
}

#[test]
fn nothing_configured_warns_and_names_the_built_in_default_store() {
    let lab = lab();
    let dir = tempdir();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    // A registries.d directory that does not exist: nothing configured.
    let regd = dir.path().join("registries.d");
    let o = sign_app(lab, &home, &["--registries-d", regd.to_str().unwrap()]);
    assert_exit(&o, 0);
    let store = home.join(".local/share/containers/sigstore");
    assert!(signature_dir(&store, lab).join("signature-1").is_file());
    let err = stderr(&o);
    let warning = format!(
        "imgsig: warning: docker://{}: no signature destination is configured for this image; the signatures went to the built-in default store {}, which only containers tools on this machine read\n",
        lab.var("LAB_IMG_APP1"),
        store.display()
    );
    assert!(err.contains(&warning), "{err}");
    assert_eq!(err.matches("hint: choose where signatures go: --lookaside-dir DIR, or a registries.d entry for the image (`lookaside-staging:` or `lookaside:`, a file:// URL)").count(), 1, "{err}");
    // The hint names the registries.d directory this run read.
    assert!(
        err.contains(&format!(
            "a file:// URL) in {} (the --registries-d directory)",
            regd.display()
        )),
        "{err}"
    );
    let doc = json(&o);
    assert_eq!(doc["signatures"][0]["destination_source"], "built-in-default");

    // A registries.d entry for the image: its lookaside-staging, no warning.
    let staging = dir.path().join("staging");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside-staging: file://{}\n",
            lab.var("LAB_REGISTRY"),
            staging.display()
        ),
    )
    .unwrap();
    let o = sign_app(lab, &home, &["--registries-d", regd.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert_eq!(json(&o)["signatures"][0]["destination_source"], "registries.d");
    assert!(signature_dir(&staging, lab).join("signature-1").is_file());

    // --lookaside-dir wins over registries.d.
    let flag = dir.path().join("flag");
    let o = sign_app(
        lab,
        &home,
        &[
            "--registries-d",
            regd.to_str().unwrap(),
            "--lookaside-dir",
            flag.to_str().unwrap(),
        ],
    );
    assert_exit(&o, 0);
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
    assert_eq!(json(&o)["signatures"][0]["destination_source"], "lookaside-dir");
    assert!(signature_dir(&flag, lab).join("signature-1").is_file());
}

#[test]
fn an_image_named_by_digest_is_signed_as_the_digest_reference_with_a_warning() {
    let lab = lab();
    let dir = tempdir();
    let out = dir.path().join("sigs");
    let digest = lab.var("LAB_IMG_APP1_DIGEST");
    let by_digest = format!("{}/lab/app@{digest}", lab.var("LAB_REGISTRY"));
    let sign = |extra: &[&str]| {
        go(imgsig_as_user(dir.path())
            .args(["sign", "--json", "--tls-verify=false", "--key"])
            .arg(demo_key())
            .arg("--lookaside-dir")
            .arg(&out)
            .args(extra)
            .arg(format!("docker://{by_digest}")))
    };
    let o = sign(&[]);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["signatures"][0]["identity"], by_digest.as_str());
    let warning = format!(
        "imgsig: warning: {by_digest}: signing it as this digest reference, which a pull by tag does not accept (signedIdentity matchRepoDigestOrExact, the default, and matchExact); to sign a tag instead, give --identity {}/lab/app:TAG\n",
        lab.var("LAB_REGISTRY")
    );
    assert!(stderr(&o).contains(&warning), "{}", stderr(&o));
    // Signing the tag, as the warning says: no warning.
    let o = sign(&["--identity", lab.var("LAB_IMG_APP1")]);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["signatures"][0]["identity"], lab.var("LAB_IMG_APP1"));
    assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
}

#[test]
fn a_wrong_passphrase_through_gpg_agent_is_wrong_passphrase_exit_2_and_a_cached_one_wins() {
    let g = GpgHome::new("Passphrase Signer <pp@imgsig.invalid>", "right");
    // No agent holding the passphrase from the key's creation.
    g.kill_agent();
    let dir = tempdir();
    let (wrong, right) = (dir.path().join("wrong"), dir.path().join("right"));
    std::fs::write(&wrong, "wrong\n").unwrap();
    std::fs::write(&right, "right\n").unwrap();
    let sign = |pass: &Path, out: &str| {
        run(imgsig()
            .env("GNUPGHOME", g.home.path())
            .args(["sign", "--json", "--sign-by", &g.fpr, "--passphrase-file"])
            .arg(pass)
            .args(["--identity", "registry.example.com/ns/app:1.0", "--digest"])
            .arg("sha256:c198b3172a3b0d03c1f8b29b6580d94c614a31a53079419d6e81ad2a43de71df")
            .arg("-o")
            .arg(dir.path().join(out)))
    };
    let o = sign(&wrong, "sig-wrong");
    assert_exit(&o, 2);
    let doc = json(&o);
    assert_eq!(doc["error"]["code"], "wrong-passphrase", "{doc}");
    assert!(stderr(&o).contains("Bad passphrase"), "{}", stderr(&o));
    // The key is named, as for a key file's wrong passphrase.
    assert!(
        stderr(&o).contains("gpg-agent refused the passphrase for key ")
            && doc["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("refused the passphrase for key "),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains(
            "hint: gpg-agent refused the passphrase for the key: check --passphrase-file FILE or IMGSIG_PASSPHRASE"
        ),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("sig-wrong").exists());
    // The right one signs, and gpg-agent caches it...
    assert_exit(&sign(&right, "sig-right"), 0);
    // ...so that it wins over a wrong one given later (documented in --help).
    assert_exit(&sign(&wrong, "sig-cached"), 0);
    assert!(dir.path().join("sig-cached").is_file());
}
