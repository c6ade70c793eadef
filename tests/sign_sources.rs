//! Signing where signers already work: a key held by a real gpg-agent
//! (`--sign-by`), a signing command (`--sign-cmd`), lookaside directories
//! shared by parallel signers, and kills in the middle of a run.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::gpg::GpgHome;
use common::{assert_exit, imgsig, json, lab, repo, run, stderr, tempdir, Lab};

const DIGEST: &str = "sha256:c198b3172a3b0d03c1f8b29b6580d94c614a31a53079419d6e81ad2a43de71df";

fn manifest(lab: &Lab) -> PathBuf {
    lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")
}

#[test]
fn sign_by_uses_the_gpg_agent_and_skopeo_and_gpg_accept_it() {
    let lab = lab();
    let g = GpgHome::new("Agent Signer <agent@imgsig.invalid>", "");
    let dir = tempdir();
    let sig = dir.path().join("sig");
    let o = run(imgsig()
        .env("GNUPGHOME", g.home.path())
        .args([
            "sign",
            "--sign-by",
            &g.fpr,
            "--identity",
            lab.var("LAB_IMG_APP1"),
            "--manifest",
        ])
        .arg(manifest(lab))
        .arg("-o")
        .arg(&sig));
    assert_exit(&o, 0);
    // gpg checks it with the agent's own keyring.
    let o = run(g.cmd("gpg").args(["--batch", "--status-fd", "1", "--verify"]).arg(&sig));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("VALIDSIG {}", g.fpr)),
        "{}",
        stderr(&o)
    );
    // skopeo standalone-verify with the same GnuPG home.
    let o = run(g
        .cmd("skopeo")
        .arg("standalone-verify")
        .arg(manifest(lab))
        .args([lab.var("LAB_IMG_APP1"), &g.fpr])
        .arg(&sig));
    assert!(o.status.success(), "skopeo: {}", stderr(&o));
    // The secret key was never exported: the export only ever held public material.
    let o = run(imgsig()
        .args(["verify", "--keyring"])
        .arg(&g.public)
        .args(["--identity", lab.var("LAB_IMG_APP1"), "--manifest"])
        .arg(manifest(lab))
        .arg(&sig));
    assert_exit(&o, 0);
    // An unknown fingerprint is unusable input.
    let o = run(imgsig()
        .env("GNUPGHOME", g.home.path())
        .args([
            "sign",
            "--sign-by",
            "0123456789ABCDEF0123456789ABCDEF01234567",
            "--identity",
            "a.example/b:1",
        ])
        .args(["--digest", DIGEST, "-o"])
        .arg(dir.path().join("nope")));
    assert_exit(&o, 2);
    assert!(!dir.path().join("nope").exists());
    // Said in imgsig's words, with exit 2 and no hint about key files; gpg's own
    // messages do not leak.
    let err = stderr(&o);
    assert!(err.contains("no secret key"), "{err}");
    assert!(!err.contains("key file") && !err.contains("gpg: "), "{err}");
}

/// `--sign-by` takes what `gpg -u` takes (fingerprint, long key ID, e-mail,
/// user ID substring), refuses an ambiguous one listing the candidates, reports
/// the full fingerprint, and starts gpg-agent when it is not running.
#[test]
fn sign_by_selects_keys_as_gpg_does_and_starts_the_agent() {
    let lab = lab();
    let g = GpgHome::new("Release Signer <release@imgsig.invalid>", "");
    let dir = tempdir();
    let sign = |selector: &str, out: &str| {
        run(imgsig()
            .env("GNUPGHOME", g.home.path())
            .args([
                "sign",
                "--sign-by",
                selector,
                "--identity",
                lab.var("LAB_IMG_APP1"),
                "--manifest",
            ])
            .arg(manifest(lab))
            .arg("-o")
            .arg(dir.path().join(out)))
    };
    // The agent is not running: imgsig starts it, as gpg does.
    let _ = run(g.cmd("gpgconf").args(["--kill", "gpg-agent"]));
    let long_id = &g.fpr[24..];
    for (i, selector) in [
        g.fpr.as_str(),
        long_id,
        "release@imgsig.invalid",
        "<release@imgsig.invalid>",
        "Release Signer",
    ]
    .into_iter()
    .enumerate()
    {
        let o = sign(selector, &format!("sig{i}"));
        assert_exit(&o, 0);
        assert!(stderr(&o).contains(&g.fpr), "{selector}: {}", stderr(&o));
        let _ = run(g.cmd("gpgconf").args(["--kill", "gpg-agent"]));
    }
    // A second key with the same domain: "imgsig.invalid" is now ambiguous.
    let o = run(g.cmd("gpg").args([
        "--batch",
        "--pinentry-mode",
        "loopback",
        "--passphrase",
        "",
        "--quick-gen-key",
        "Other <other@imgsig.invalid>",
        "ed25519",
        "sign",
        "never",
    ]));
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(imgsig()
        .env("GNUPGHOME", g.home.path())
        .args([
            "sign",
            "--json",
            "--sign-by",
            "imgsig.invalid",
            "--identity",
            "a.example/b:1",
        ])
        .args(["--digest", DIGEST, "-o"])
        .arg(dir.path().join("amb")));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "ambiguous-key");
    let err = stderr(&o);
    assert!(
        err.contains(&g.fpr) && err.contains("Other <other@imgsig.invalid>"),
        "{err}"
    );
    assert!(!dir.path().join("amb").exists());
}

fn sign_cmd(g: &GpgHome, cmd: &str, cert: &Path, out_dir: &Path) -> std::process::Output {
    run(imgsig()
        .env("GNUPGHOME", g.home.path())
        .args(["sign", "--sign-cmd", cmd, "--signer-cert"])
        .arg(cert)
        .args([
            "--identity",
            "registry.example.com/ns/app:1.0",
            "--digest",
            DIGEST,
            "--lookaside-dir",
        ])
        .arg(out_dir))
}

#[test]
fn sign_cmd_output_is_checked_before_anything_is_stored() {
    let g = GpgHome::new("Signing Server <server@imgsig.invalid>", "");
    let other = GpgHome::new("Someone Else <else@imgsig.invalid>", "");
    let dir = tempdir();
    let store = dir.path().join("store");
    let sigdir = store.join(format!("ns/app@sha256={}", DIGEST.trim_start_matches("sha256:")));

    // A real signing command: gpg --sign over stdin.
    let good = format!("gpg --batch --sign -u {}", g.fpr);
    let o = sign_cmd(&g, &good, &g.public, &store);
    assert_exit(&o, 0);
    assert!(sigdir.join("signature-1").exists());

    // Garbage, a signature over another claim, a signature by another key,
    // a failing command: refused, nothing written.
    let other_claim = format!("echo '{{\"x\":1}}' | gpg --batch --sign -u {}", g.fpr);
    let other_key = format!(
        "GNUPGHOME={} gpg --batch --sign -u {}",
        other.home.path().display(),
        other.fpr
    );
    for (cmd, code, reason) in [
        ("echo not a signature", 1, "unrecognized-format"),
        (other_claim.as_str(), 1, "claim-mismatch"),
        (other_key.as_str(), 1, "unknown-key"),
        ("exit 3", 3, "signing-failed"),
    ] {
        let o = run(imgsig()
            .env("GNUPGHOME", g.home.path())
            .args(["sign", "--output", "json", "--sign-cmd", cmd, "--signer-cert"])
            .arg(&g.public)
            .args([
                "--identity",
                "registry.example.com/ns/app:1.0",
                "--digest",
                DIGEST,
                "--lookaside-dir",
            ])
            .arg(&store));
        assert_exit(&o, code);
        assert_eq!(json(&o)["error"]["code"], reason, "{cmd}: {}", stderr(&o));
        let files: Vec<_> = std::fs::read_dir(&sigdir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(files, ["signature-1"], "{cmd}: nothing else may be written");
    }
}

/// Kills the process whose ID is in a file (a background process a test's
/// helper left behind) on drop.
struct KillOnDrop(PathBuf);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.0) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// A signing command that signs and exits 0 but leaves a background process
/// holding its stdout: its signature is taken when the shell exits, not when
/// that process ends (imgsig used to wait for the end of file: 300 s here).
#[test]
fn a_sign_cmd_leaving_a_background_process_is_answered_when_it_exits() {
    let g = GpgHome::new("Background Signer <background@imgsig.invalid>", "");
    let dir = tempdir();
    let store = dir.path().join("store");
    let sigdir = store.join(format!("ns/app@sha256={}", DIGEST.trim_start_matches("sha256:")));
    let pid = dir.path().join("background.pid");
    let _background = KillOnDrop(pid.clone());
    let cmd = format!(
        "gpg --batch --sign -u {}; sleep 300 2>/dev/null & echo $! > '{}'",
        g.fpr,
        pid.display()
    );
    let started = std::time::Instant::now();
    let o = common::servers::run_bounded(
        imgsig()
            .env("GNUPGHOME", g.home.path())
            .args(["sign", "--sign-cmd", &cmd, "--signer-cert"])
            .arg(&g.public)
            .args([
                "--identity",
                "registry.example.com/ns/app:1.0",
                "--digest",
                DIGEST,
                "--lookaside-dir",
            ])
            .arg(&store),
        30,
    );
    let took = started.elapsed();
    assert!(pid.exists(), "the command left no background process");
    assert_exit(&o, 0);
    assert!(sigdir.join("signature-1").exists());
    assert!(took < Duration::from_secs(10), "took {took:?}");
}

#[test]
fn parallel_signers_on_one_lookaside_lose_nothing() {
    let dir = tempdir();
    let store = dir.path().join("store");
    let key = repo().join("examples/demo-signer.secret.asc");
    let children: Vec<_> = (1..=8)
        .map(|i| {
            imgsig()
                .args(["sign", "--key"])
                .arg(&key)
                .args([
                    "--identity",
                    &format!("registry.example.com/ns/app:{i}"),
                    "--digest",
                    DIGEST,
                ])
                .arg("--lookaside-dir")
                .arg(&store)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let sigdir = store.join(format!("ns/app@sha256={}", DIGEST.trim_start_matches("sha256:")));
    let mut names: Vec<String> = std::fs::read_dir(&sigdir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let want: Vec<String> = {
        let mut w: Vec<String> = (1..=8).map(|i| format!("signature-{i}")).collect();
        w.sort();
        w
    };
    assert_eq!(names, want);
    // Eight distinct, valid signatures: one per identity.
    let mut identities = Vec::new();
    for n in 1..=8 {
        let o = run(imgsig()
            .args(["inspect", "--output", "json"])
            .arg(sigdir.join(format!("signature-{n}"))));
        assert_exit(&o, 0);
        identities.push(
            json(&o)["signatures"][0]["claim"]["identity"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        );
    }
    identities.sort();
    identities.dedup();
    assert_eq!(identities.len(), 8, "{identities:?}");
}

#[test]
fn sigkill_during_signing_leaves_no_partial_signature() {
    let g = GpgHome::new("Slow Signer <slow@imgsig.invalid>", "");
    let dir = tempdir();
    let store = dir.path().join("store");
    let sigdir = store.join(format!("ns/app@sha256={}", DIGEST.trim_start_matches("sha256:")));
    // Killed while the signing command runs: nothing is stored.
    let slow = format!("sleep 2; gpg --batch --sign -u {}", g.fpr);
    let mut child = imgsig()
        .env("GNUPGHOME", g.home.path())
        .args(["sign", "--sign-cmd", &slow, "--signer-cert"])
        .arg(&g.public)
        .args([
            "--identity",
            "registry.example.com/ns/app:1.0",
            "--digest",
            DIGEST,
            "--lookaside-dir",
        ])
        .arg(&store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!sigdir.join("signature-1").exists());
    // Killed at many points of fast runs: every signature-N present is complete and valid.
    let key = repo().join("examples/demo-signer.secret.asc");
    for i in 0..20u64 {
        let mut child = imgsig()
            .args(["sign", "--key"])
            .arg(&key)
            .args([
                "--identity",
                &format!("registry.example.com/ns/app:k{i}"),
                "--digest",
                DIGEST,
            ])
            .arg("--lookaside-dir")
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(i * 3));
        let _ = child.kill();
        let _ = child.wait();
    }
    if let Ok(entries) = std::fs::read_dir(&sigdir) {
        for e in entries {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            if !name.starts_with("signature-") {
                continue; // temporary files may remain after a kill (documented)
            }
            let o = run(imgsig()
                .args(["inspect", "--keyring"])
                .arg(repo().join("examples/demo-signer.pub.asc"))
                .arg(sigdir.join(&name)));
            assert_exit(&o, 0);
        }
    }
}

#[test]
fn lab_images_signed_into_the_staging_lookaside_pass_skopeo_copy_policy() {
    let lab = lab();
    let dir = tempdir();
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let store = dir.path().join("sigstore");
    let regd = dir.path().join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    std::fs::write(
        regd.join("lab.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n    lookaside-staging: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display(),
            store.display()
        ),
    )
    .unwrap();
    // imgsig signs other/tool (unsigned in the lab) and the multi-arch image.
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(&key)
        .args(["--tls-verify=false", "--registries-d"])
        .arg(&regd)
        .arg(format!("docker://{}", lab.var("LAB_IMG_TOOL")))
        .arg(format!("docker://{}", lab.var("LAB_IMG_MULTI"))));
    assert_exit(&o, 0);
    let policy = dir.path().join("policy.json");
    std::fs::write(
        &policy,
        format!(
            r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"{}":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{}"}}]}}}}}}"#,
            lab.var("LAB_REGISTRY"),
            lab.var("LAB_ALICE_PUB")
        ),
    )
    .unwrap();
    for (img, all) in [(lab.var("LAB_IMG_TOOL"), false), (lab.var("LAB_IMG_MULTI"), true)] {
        let dest = dir.path().join("copy");
        let _ = std::fs::remove_dir_all(&dest);
        let mut c = lab.cmd("skopeo");
        c.arg("--policy")
            .arg(&policy)
            .arg("--registries.d")
            .arg(&regd)
            .args(["copy", "--src-tls-verify=false"]);
        if all {
            c.arg("--all");
        }
        let o = run(c.arg(format!("docker://{img}")).arg(format!("dir:{}", dest.display())));
        assert!(
            o.status.success(),
            "skopeo copy --policy rejected {img}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn multi_platform_images_sign_index_and_instances_unless_index_only() {
    let lab = lab();
    let dir = tempdir();
    let key = repo().join("examples/demo-signer.secret.asc");
    let count = |store: &Path| -> usize {
        std::fs::read_dir(store.join("lab"))
            .map(|d| {
                d.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("multi@"))
                    .count()
            })
            .unwrap_or(0)
    };
    for (flag, want) in [(None, 3), (Some("--index-only"), 1)] {
        let store = dir.path().join(format!("store-{want}"));
        let mut c = imgsig();
        c.args(["sign", "--output", "json", "--tls-verify=false", "--key"])
            .arg(&key)
            .arg("--lookaside-dir")
            .arg(&store);
        if let Some(f) = flag {
            c.arg(f);
        }
        let o = run(c.arg(format!("docker://{}", lab.var("LAB_IMG_MULTI"))));
        assert_exit(&o, 0);
        assert_eq!(count(&store), want, "{flag:?}");
        let doc = json(&o);
        assert_eq!(doc["signatures"].as_array().unwrap().len(), want);
        assert_eq!(doc["signatures"][0]["manifest_digest"], lab.var("LAB_IMG_MULTI_DIGEST"));
        assert_eq!(doc["signatures"][0]["identity"], lab.var("LAB_IMG_MULTI"));
        // Which manifest is which: the index, then each instance with its platform.
        assert_eq!(doc["signatures"][0]["role"], "index");
        assert!(
            stderr(&o).contains(&format!("{} (index)", lab.var("LAB_IMG_MULTI_DIGEST"))),
            "{}",
            stderr(&o)
        );
        if want == 3 {
            let platforms: Vec<&str> = doc["signatures"].as_array().unwrap()[1..]
                .iter()
                .map(|s| {
                    assert_eq!(s["role"], "instance");
                    s["platform"].as_str().unwrap()
                })
                .collect();
            assert_eq!(platforms, ["linux/amd64", "linux/arm64/v8"]);
            assert!(stderr(&o).contains("(instance linux/arm64/v8)"), "{}", stderr(&o));
        }
    }
}

/// Signing an image again with the same key (same digest, same identity)
/// adds nothing: a sign job re-run does not pile up signatures; the run says
/// so, and JSON has `"written": false` naming the signature already there.
/// Another key still adds its own.
#[test]
fn signing_again_with_the_same_key_adds_nothing() {
    let lab = lab();
    let dir = tempdir();
    let store = dir.path().join("store");
    let ours = repo().join("examples/demo-signer.secret.asc");
    let alice = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let sign = |key: &Path| {
        run(imgsig()
            .args(["sign", "--output", "json", "--tls-verify=false", "--key"])
            .arg(key)
            .arg("--lookaside-dir")
            .arg(&store)
            .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))))
    };
    let sigdir = store.join(format!(
        "lab/app@sha256={}",
        lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:")
    ));
    let count = || {
        std::fs::read_dir(&sigdir)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with("signature-")
                })
                .count()
            })
            .unwrap_or(0)
    };
    let o = sign(&ours);
    assert_exit(&o, 0);
    assert_eq!(json(&o)["signatures"][0]["written"], true);
    assert_eq!(count(), 1);
    let o = sign(&ours);
    assert_exit(&o, 0);
    assert_eq!(count(), 1, "{}", stderr(&o));
    let doc = json(&o);
    assert_eq!(doc["signatures"][0]["written"], false);
    assert!(
        doc["signatures"][0]["output"]
            .as_str()
            .unwrap()
            .ends_with("signature-1"),
        "{doc:#}"
    );
    assert!(
        stderr(&o).contains("already signed") && stderr(&o).contains("nothing added"),
        "{}",
        stderr(&o)
    );
    let o = sign(&alice);
    assert_exit(&o, 0);
    assert_eq!(count(), 2);
}

/// A multi-platform image through gpg-agent: the instances are signed
/// concurrently (several agent connections at once), each manifest once,
/// reported in the index's order; a second run adds nothing.
#[test]
fn sign_by_signs_every_manifest_of_an_index_once_in_order() {
    let lab = lab();
    let g = GpgHome::new("Index Signer <index@imgsig.invalid>", "");
    let dir = tempdir();
    let store = dir.path().join("store");
    let sign = || {
        run(imgsig()
            .env("GNUPGHOME", g.home.path())
            .args(["sign", "--output", "json", "--tls-verify=false", "--sign-by", &g.fpr])
            .arg("--lookaside-dir")
            .arg(&store)
            .arg(format!("docker://{}", lab.var("LAB_IMG_MULTI"))))
    };
    for (round, written) in [(1, true), (2, false)] {
        let o = sign();
        assert_exit(&o, 0);
        let doc = json(&o);
        let sigs = doc["signatures"].as_array().unwrap();
        let roles: Vec<String> = sigs
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["role"].as_str().unwrap(),
                    s["platform"].as_str().unwrap_or("-")
                )
            })
            .collect();
        assert_eq!(
            roles,
            ["index -", "instance linux/amd64", "instance linux/arm64/v8"],
            "round {round}"
        );
        assert!(sigs.iter().all(|s| s["written"] == written), "round {round}: {doc}");
        assert!(sigs
            .iter()
            .all(|s| s["signer"]["primary_fingerprint"] == g.fpr.as_str()));
    }
    let mut files: Vec<String> = std::fs::read_dir(store.join("lab"))
        .unwrap()
        .flat_map(|d| std::fs::read_dir(d.unwrap().path()).unwrap())
        .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files, ["signature-1", "signature-1", "signature-1"]);
}
