//! Online verification (`imgsig verify docker://…`) and mirroring (`imgsig fetch`)
//! against REAL servers on 127.0.0.1:
//!
//! - the peer lab: Debian's docker-registry 2.8 over plain HTTP with images pushed and
//!   signed by skopeo 1.9.3, and a `python3 -m http.server` lookaside (`common::lab()`);
//! - a docker-registry over TLS (a CA made here with openssl) with htpasswd basic auth,
//!   started by the test, the image pushed and signed by skopeo;
//! - `python3 -m http.server` serving a mirror written by `imgsig fetch`, and skopeo
//!   reading that mirror;
//!
//! and, only for faults that a real server cannot be made to show, the FAKE server of
//! `common::servers::Fake` (bearer-token service, huge/endless/dripping bodies, cross-host
//! redirects, endless signature-N, wrong bytes for a digest, a lookaside answering 500).
//!
//! Every command runs with a deadline (`run_bounded`), every server is stopped on drop.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use common::online::{cmd, go, hex_of, image_dir, lab_net, lines, CMD_SECS};
use common::servers::{closed_port, run_bounded, Conn, Fake, PyHttps, Request, StaticHttp, TestCa, TlsRegistry};
use common::{assert_exit, lab, stderr, stdout, tempdir, Lab};
use sha2::Digest as _;

fn sha256_hex(b: &[u8]) -> String {
    sha2::Sha256::digest(b).iter().map(|x| format!("{x:02x}")).collect()
}

fn write(p: &Path, text: &str) -> PathBuf {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, text).unwrap();
    p.to_owned()
}

/// A registries.d whose every lookaside points at a closed port: proves that a command
/// does not use the lab's lookaside server.
fn nowhere_registries_d(dir: &Path, lab: &Lab) -> PathBuf {
    let d = dir.join("registries.d-nowhere");
    let url = format!("http://127.0.0.1:{}/", closed_port());
    write(
        &d.join("nowhere.yaml"),
        &format!(
            "default-docker:\n  lookaside: {url}\ndocker:\n  {}:\n    lookaside: {url}\n",
            lab.var("LAB_REGISTRY")
        ),
    );
    d
}

/// The instance digests of the lab's multi-arch index, and the one for this machine.
fn multi_instances(lab: &Lab) -> (Vec<String>, String) {
    let bytes = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_multi_1.0.json")).unwrap();
    assert_eq!(
        format!("sha256:{}", sha256_hex(&bytes)),
        lab.var("LAB_IMG_MULTI_DIGEST")
    );
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let mut all = Vec::new();
    let mut host = None;
    for m in v["manifests"].as_array().unwrap() {
        let d = m["digest"].as_str().unwrap().to_owned();
        if m["platform"]["os"] == "linux" && m["platform"]["architecture"] == arch && host.is_none() {
            host = Some(d.clone());
        }
        all.push(d);
    }
    (
        all,
        host.expect("the lab's multi-arch image has an instance for this machine"),
    )
}

/// Every file under `dir`: contents and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_owned()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let m = e.metadata().unwrap();
            if m.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), (std::fs::read(&p).unwrap(), m.modified().unwrap()));
            }
        }
    }
    out
}

/// The lines of stdout.
/// The manifest digests the first image's decisions judged, in order.
fn decided_digests(doc: &serde_json::Value) -> Vec<&str> {
    doc["images"][0]["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["manifest_digest"].as_str().unwrap())
        .collect()
}

// ====================================================================== the peer lab

#[test]
fn lab_skopeo_signed_image_is_accepted_online() {
    let lab = lab();
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
    let want = format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(lines(&o), [want.as_str()]);
    // The signature came from the lab's HTTP lookaside, as registries.d says.
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "{}lab/app@sha256={}/signature-1",
            lab.var("LAB_LOOKASIDE_URL"),
            hex_of(lab.var("LAB_IMG_APP1_DIGEST"))
        )),
        "{err}"
    );
    // It ends with the count, as sign and fetch end theirs, even for one image.
    assert!(
        err.ends_with("imgsig: 1 image: 1 accepted, 0 rejected, 0 could not be verified\n"),
        "{err}"
    );

    // The same as JSON.
    let o = go(cmd()
        .args(["verify", "--output", "json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
    let doc = batch(&o);
    assert_eq!(doc["images"][0]["verdict"], "accepted");
    assert_eq!(doc["images"][0]["verified_reference"], want.as_str());
    let d = &doc["images"][0]["manifests"][0];
    assert_eq!(d["manifest_digest"], lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(
        d["requirements"][0]["signatures"][0]["signer"]["primary_fingerprint"],
        lab.var("LAB_ALICE_FPR")
    );
}

#[test]
fn lab_wrong_key_policy_rejects() {
    let lab = lab();
    let o = go(cmd()
        .args(["verify", "--output", "json", "--policy", lab.var("LAB_POLICY_BOB")])
        .args(lab_net(lab))
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 1);
    let doc = batch(&o);
    assert_eq!(doc["summary"], serde_json::Value::Null, "one image: no summary");
    assert_eq!(doc["images"][0]["verdict"], "rejected");
    assert_eq!(doc["images"][0]["error"], serde_json::Value::Null);
    assert_eq!(
        doc["images"][0]["manifests"][0]["requirements"][0]["signatures"][0]["reason"],
        "unknown-key"
    );
}

/// A local lookaside read online (`--lookaside DIR`, `--lookaside file://DIR`, or a
/// registries.d `file://` entry) holding `signature-1` and `signature-3`: the verdict is
/// containers/image's (only `signature-1` is read), and a warning names what was not read.
#[test]
fn lab_file_lookaside_gap_warns_online() {
    let lab = lab();
    let dir = tempdir();
    let m3 = dir.path().join("M3");
    let sigs = image_dir(&m3, lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP1_DIGEST"));
    std::fs::create_dir_all(&sigs).unwrap();
    for n in [1, 3] {
        std::fs::copy(lab.var("LAB_SIG_APP1_ALICE"), sigs.join(format!("signature-{n}"))).unwrap();
    }
    let regd = write(
        &dir.path().join("regd/m3.yaml"),
        &format!(
            "docker:\n  {}/lab:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            m3.display()
        ),
    );
    let regd = regd.parent().unwrap().to_str().unwrap();
    let want = format!(
        "{}/signature-3 and later were not read: signature-2 is missing, and signatures are read up to the first missing one (as containers/image reads them)",
        sigs.display()
    );
    let file_url = format!("file://{}", m3.display());
    let lookaside_net = |look: &str| -> Vec<String> {
        vec![
            "--registries-d".into(),
            lab.var("LAB_REGISTRIES_D").into(),
            "--tls-verify=false".into(),
            "--lookaside".into(),
            look.into(),
        ]
    };
    for net in [
        lookaside_net(m3.to_str().unwrap()),
        lookaside_net(&file_url),
        vec!["--registries-d".into(), regd.into(), "--tls-verify=false".into()],
    ] {
        let run = |json: bool| {
            let mut c = cmd();
            c.args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")]).args(&net);
            if json {
                c.args(["--output", "json"]);
            }
            go(c.arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))))
        };
        let o = run(false);
        assert_exit(&o, 0);
        let err = stderr(&o);
        assert!(err.contains(&format!("imgsig: warning: {want}\n")), "{net:?}: {err}");
        assert!(err.contains("1 signature(s)"), "{net:?}: {err}");
        let o = run(true);
        assert_exit(&o, 0);
        let doc = batch(&o);
        assert_eq!(doc["images"][0]["verdict"], "accepted", "{net:?}");
        assert_eq!(doc["images"][0]["warnings"], serde_json::json!([want]), "{net:?}");
    }
    // `fetch` reads the same way, and says what it did not carry into the mirror.
    let o = go(cmd()
        .args(["fetch", "--registries-d", regd, "--tls-verify=false", "--to"])
        .arg(dir.path().join("mirror"))
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 0);
    let err = stderr(&o);
    assert!(err.contains(&format!("imgsig: warning: {want}\n")), "{err}");
    assert!(err.contains("1 new signature(s)"), "{err}");
}

#[test]
fn lab_missing_signatures_name_the_lookaside() {
    let lab = lab();
    let o = go(cmd()
        .args(["verify", "--output", "json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args([
            "--registries-d",
            lab.var("LAB_REGISTRIES_D_EMPTY"),
            "--tls-verify=false",
        ])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 1);
    let doc = batch(&o);
    let req = &doc["images"][0]["manifests"][0]["requirements"][0];
    assert_eq!(req["reason"], "no-signatures", "{doc:#}");
    let looked = format!(
        "file://{}/lab/app@sha256={}/signature-N",
        lab.var("LAB_SIGSTORE_EMPTY"),
        hex_of(lab.var("LAB_IMG_APP1_DIGEST"))
    );
    assert!(req["message"].as_str().unwrap().contains(&looked), "{doc:#}");
    assert_eq!(
        stdout(&go(cmd()
            .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
            .args([
                "--registries-d",
                lab.var("LAB_REGISTRIES_D_EMPTY"),
                "--tls-verify=false"
            ])
            .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))))),
        ""
    );
}

#[test]
fn lab_multi_arch_host_platform_and_all_platforms() {
    let lab = lab();
    let (all, host) = multi_instances(lab);
    let repo = format!("{}/lab/multi", lab.var("LAB_REGISTRY"));
    let image = format!("docker://{}", lab.var("LAB_IMG_MULTI"));

    // Default: only this machine's instance (linux/amd64 here) is checked; stdout
    // pins what the user named (the index), which a pull resolves to that instance.
    let o = go(cmd()
        .args(["verify", "--json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 0);
    let doc = batch(&o);
    let decided = decided_digests(&doc);
    assert_eq!(decided, [host.as_str()]);
    assert_eq!(doc["images"][0]["manifests"][0]["platform"], "linux/amd64");
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 0);
    assert_eq!(lines(&o), [format!("{repo}@{}", lab.var("LAB_IMG_MULTI_DIGEST"))]);

    // --all-platforms: the index and every instance, one decision each (stricter than
    // `skopeo copy --all`, which checks only the instances); stdout is still one line,
    // the index pin.
    let o = go(cmd()
        .args(["verify", "--all-platforms", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 0);
    let mut checked = vec![lab.var("LAB_IMG_MULTI_DIGEST").to_owned()];
    checked.extend(all.iter().cloned());
    assert_eq!(lines(&o), [format!("{repo}@{}", lab.var("LAB_IMG_MULTI_DIGEST"))]);
    let o = go(cmd()
        .args([
            "verify",
            "--json",
            "--all-platforms",
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
        ])
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 0);
    let doc = batch(&o);
    let decided = decided_digests(&doc);
    assert_eq!(decided, checked.iter().map(String::as_str).collect::<Vec<_>>());

    // Without the per-instance signatures (empty lookaside) both forms are rejected.
    for flags in [&[][..], &["--all-platforms"][..]] {
        let o = go(cmd()
            .arg("verify")
            .args(flags)
            .args(["--policy", lab.var("LAB_POLICY_ALICE")])
            .args([
                "--registries-d",
                lab.var("LAB_REGISTRIES_D_EMPTY"),
                "--tls-verify=false",
            ])
            .arg(&image));
        assert_exit(&o, 1);
        assert_eq!(stdout(&o), "");
    }
}

/// skopeo accepts a multi-arch image named by its index digest (it checks the instance's
/// signatures, whose identity is the tag); imgsig should too.
#[test]

fn lab_multi_arch_by_index_digest_is_accepted_like_skopeo() {
    let lab = lab();
    let by_digest = format!(
        "{}/lab/multi@{}",
        lab.var("LAB_REGISTRY"),
        lab.var("LAB_IMG_MULTI_DIGEST")
    );
    let dest = tempdir();
    let s = run_bounded(
        lab.cmd("skopeo")
            .args(["--command-timeout", "60s", "--policy", lab.var("LAB_POLICY_ALICE")])
            .args(["--registries.d", lab.var("LAB_REGISTRIES_D")])
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{by_digest}"))
            .arg(format!("dir:{}", dest.path().join("img").display())),
        CMD_SECS,
    );
    assert!(s.status.success(), "skopeo: {}", stderr(&s));
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(format!("docker://{by_digest}")));
    assert_exit(&o, 0);
}

#[test]
fn lab_batch_reports_each_image_and_exits_with_the_worst() {
    let lab = lab();
    let app1 = format!("docker://{}", lab.var("LAB_IMG_APP1"));
    let tool = format!("docker://{}", lab.var("LAB_IMG_TOOL"));
    let gone = format!("docker://127.0.0.1:{}/lab/app:1.0", closed_port());
    // reject-default: lab/ needs alice (app1 has it), everything else is rejected (tool).
    let policy = lab.var("LAB_POLICY_REJECT");

    // accepted + rejected -> 1; stdout lists only the accepted image.
    let o = go(cmd()
        .args(["verify", "--policy", policy])
        .args(lab_net(lab))
        .args([&app1, &tool]));
    assert_exit(&o, 1);
    let app1_pinned = format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP1_DIGEST"));
    assert_eq!(lines(&o), [app1_pinned.as_str()]);
    let err = stderr(&o);
    assert!(err.contains(&format!("ACCEPTED: {app1}")), "{err}");
    assert!(err.contains(&format!("REJECTED: {tool}")), "{err}");
    assert!(
        err.contains("2 images: 1 accepted, 1 rejected, 0 could not be verified"),
        "{err}"
    );

    // + an unreachable registry -> 3.
    let o = go(cmd()
        .args(["verify", "--policy", policy])
        .args(lab_net(lab))
        .args([&app1, &tool, &gone]));
    assert_exit(&o, 3);
    assert_eq!(lines(&o), [app1_pinned.as_str()]);
    let err = stderr(&o);
    assert!(
        err.contains("3 images: 1 accepted, 1 rejected, 1 could not be verified"),
        "{err}"
    );
    assert!(err.contains(&format!("imgsig: {gone}: ")), "{err}");
    // The reports for people come in argument order, each in one piece, however
    // the concurrent checks finish (the unreachable one fails first).
    for _ in 0..3 {
        let o = go(cmd()
            .args(["verify", "--policy", policy])
            .args(lab_net(lab))
            .args([&gone, &tool, &app1]));
        let err = stderr(&o);
        let at = |s: &str| err.find(s).unwrap_or_else(|| panic!("{s} missing:\n{err}"));
        let (g, t, a) = (
            at(&format!("imgsig: {gone}: ")),
            at(&format!("REJECTED: {tool}")),
            at(&format!("ACCEPTED: {app1}")),
        );
        assert!(g < t && t < a, "not in argument order:\n{err}");
    }

    // JSON Lines: one line per image, in argument order, then the summary.
    let o = go(cmd()
        .args(["verify", "--output", "json", "--policy", policy])
        .args(lab_net(lab))
        .args([&gone, &app1, &tool]));
    assert_exit(&o, 3);
    let doc = batch(&o);
    assert_eq!(
        doc["summary"],
        // The registry that cannot be reached makes the run fail: nothing was rejected for it.
        serde_json::json!({"schema_version": 3, "command": "verify", "summary": true, "mode": "policy",
            "policy": policy, "verdict": "failed", "exit_code": 3,
            "images": 3, "accepted": 1, "rejected": 1, "failed": 1})
    );
    let imgs = doc["images"].as_array().unwrap();
    let inputs: Vec<&str> = imgs.iter().map(|i| i["input"].as_str().unwrap()).collect();
    assert_eq!(inputs, [gone.as_str(), app1.as_str(), tool.as_str()]);
    assert_eq!(imgs[0]["verdict"], "failed");
    assert_eq!(imgs[0]["exit_code"], 3);
    assert_eq!(imgs[0]["error"]["code"], "network-error");
    assert_eq!(imgs[0]["manifests"], serde_json::json!([]));
    assert_eq!(imgs[1]["verdict"], "accepted");
    assert_eq!(imgs[1]["exit_code"], 0);
    assert_eq!(imgs[1]["verified_reference"], app1_pinned.as_str());
    assert_eq!(imgs[1]["manifests"][0]["verdict"], "accepted");
    assert_eq!(imgs[1]["error"], serde_json::Value::Null);
    assert_eq!(imgs[2]["verdict"], "rejected");
    assert_eq!(imgs[2]["exit_code"], 1);
    assert_eq!(imgs[2]["verified_reference"], serde_json::Value::Null);
    assert_eq!(imgs[2]["manifests"][0]["requirements"][0]["type"], "reject");

    // Two accepted images -> 0, both on stdout in argument order; also via --from-file.
    let dir = tempdir();
    let list = write(
        &dir.path().join("images.txt"),
        &format!("# lab images\n\ndocker://{}\n  {app1}  \n", lab.var("LAB_IMG_APP2")),
    );
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 0);
    assert_eq!(
        lines(&o),
        [
            format!("{}/lab/app@{}", lab.var("LAB_REGISTRY"), lab.var("LAB_IMG_APP2_DIGEST")),
            app1_pinned
        ]
    );

    // A list longer than one chunk of concurrent work (256): streamed, every
    // report in list order, one summary.
    let many: Vec<String> = (0..300)
        .map(|i| {
            if i % 3 == 0 {
                lab.var("LAB_IMG_APP2").to_owned()
            } else {
                app1.clone()
            }
        })
        .collect();
    write(&list, &(many.join("\n") + "\n"));
    let o = go(cmd()
        .args(["verify", "--json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 0);
    let doc = batch(&o);
    assert_eq!(
        (doc["summary"]["images"].as_u64(), doc["summary"]["accepted"].as_u64()),
        (Some(300), Some(300))
    );
    let inputs: Vec<&str> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["input"].as_str().unwrap())
        .collect();
    assert_eq!(inputs, many.iter().map(String::as_str).collect::<Vec<_>>());

    // An empty list is a usage error, not an empty success.
    write(&list, "# nothing\n\n");
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg("--from-file")
        .arg(&list));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains(" lists no images"), "{}", stderr(&o));
}

// ============================================================ TLS + htpasswd registry

#[test]
fn tls_registry_with_htpasswd_auth() {
    let lab = lab();
    let dir = tempdir();
    let reg = TlsRegistry::start(dir.path(), "tester", "s3cret-pass");
    let creds = format!("{}:{}", reg.user, reg.password);

    // Push lab/app:1.0's bytes with skopeo and sign them (alice) into our own lookaside.
    let sigstore = dir.path().join("sigstore");
    let regd = dir.path().join("registries.d");
    write(
        &regd.join("tls.yaml"),
        &format!(
            "docker:\n  {}:\n    lookaside-staging: file://{}\n",
            reg.host,
            sigstore.display()
        ),
    );
    let image = format!("{}/tls/app:1.0", reg.host);
    let s = run_bounded(
        lab.cmd("skopeo")
            .args(["--command-timeout", "60s", "--policy", lab.var("LAB_POLICY_INSECURE")])
            .arg("--registries.d")
            .arg(&regd)
            .args(["copy", "-q", "--dest-creds", &creds, "--dest-cert-dir"])
            .arg(&reg.cert_dir)
            .args(["--sign-by", lab.var("LAB_ALICE_FPR")])
            .arg(format!("oci:{}:app-1.0", lab.var("LAB_OCI_LAYOUT")))
            .arg(format!("docker://{image}")),
        CMD_SECS,
    );
    assert!(s.status.success(), "skopeo copy: {}", stderr(&s));
    let look = StaticHttp::serve(&sigstore);
    let policy = write(
        &dir.path().join("policy.json"),
        &serde_json::json!({
            "default": [{"type": "reject"}],
            "transports": {"docker": {format!("{}/tls", reg.host): [
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB")}
            ]}}
        })
        .to_string(),
    );
    let pinned = format!("{}/tls/app@{}", reg.host, lab.var("LAB_IMG_APP1_DIGEST"));
    let verify = |extra: &[&str]| {
        go(cmd()
            .args(["verify", "--json", "--timeout", "20", "--policy"])
            .arg(&policy)
            .args(["--lookaside", &look.url])
            .args(extra)
            .arg(format!("docker://{image}")))
    };
    let cert_dir = reg.cert_dir.to_str().unwrap();

    // CA from --cert-dir + --creds: accepted.
    let o = verify(&["--cert-dir", cert_dir, "--creds", &creds]);
    assert_exit(&o, 0);
    assert_eq!(batch(&o)["images"][0]["verified_reference"], pinned.as_str());

    // Without the CA: a TLS error naming the URL.
    let o = verify(&["--creds", &creds]);
    assert_exit(&o, 3);
    let e = &batch(&o)["images"][0]["error"];
    assert_eq!(e["code"], "network-error", "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(msg.contains(&format!("https://{}/v2/", reg.host)), "{msg}");
    assert!(msg.contains("certificate"), "{msg}");

    // Wrong password: registry-unauthorized.
    let o = verify(&["--cert-dir", cert_dir, "--creds", &format!("{}:wrong", reg.user)]);
    assert_exit(&o, 3);
    let e = &batch(&o)["images"][0]["error"];
    assert_eq!(e["code"], "registry-unauthorized", "{e}");
    assert!(e["message"].as_str().unwrap().contains("HTTP 401"), "{e}");

    // No credentials at all: also unauthorized.
    let o = verify(&["--cert-dir", cert_dir]);
    assert_exit(&o, 3);
    assert_eq!(batch(&o)["images"][0]["error"]["code"], "registry-unauthorized");

    // --authfile with the credentials.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&creds);
    let authfile = write(
        &dir.path().join("auth.json"),
        &serde_json::json!({"auths": {reg.host.clone(): {"auth": b64}}}).to_string(),
    );
    let o = verify(&["--cert-dir", cert_dir, "--authfile", authfile.to_str().unwrap()]);
    assert_exit(&o, 0);
    // … and the same file through REGISTRY_AUTH_FILE.
    let o = go(cmd()
        .env("REGISTRY_AUTH_FILE", &authfile)
        .args(["verify", "--timeout", "20", "--policy"])
        .arg(&policy)
        .args(["--lookaside", &look.url, "--cert-dir", cert_dir])
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
    assert_eq!(lines(&o), [pinned.as_str()]);

    // --tls-verify=false without the CA: unverified TLS is accepted.
    let o = verify(&["--tls-verify=false", "--creds", &creds]);
    assert_exit(&o, 0);

    // A lookaside over HTTPS with the same private CA: read with the registry's TLS
    // material (--cert-dir), as containers/image reads it with the registry's client.
    let https_look = PyHttps::serve(&reg.ca, &sigstore, &dir.path().join("https-lookaside.log"));
    let via_https = |extra: &[&str]| {
        go(cmd()
            .args(["verify", "--json", "--timeout", "20", "--policy"])
            .arg(&policy)
            .args(["--lookaside", &https_look.url, "--creds", &creds])
            .args(extra)
            .arg(format!("docker://{image}")))
    };
    let o = via_https(&["--cert-dir", cert_dir]);
    assert_exit(&o, 0);
    let doc = batch(&o);
    let src = doc["images"][0]["manifests"][0]["signatures"][0]["source"]
        .as_str()
        .unwrap();
    assert!(src.starts_with(&https_look.url), "{src}");
    let o = via_https(&["--tls-verify=false"]);
    assert_exit(&o, 0);
    drop(https_look);

    // fetch over TLS too, then verify from the mirror with no network.
    let mirror = dir.path().join("mirror");
    let o = go(cmd()
        .args(["fetch", "--to"])
        .arg(&mirror)
        .args(["--cert-dir", cert_dir, "--creds", &creds, "--lookaside", &look.url])
        .arg(format!("docker://{image}")));
    assert_exit(&o, 0);
    drop(look);
    let o = go(cmd()
        .args(["verify", "--policy"])
        .arg(&policy)
        .arg("--lookaside")
        .arg(&mirror)
        .args(["--identity", &image, "--manifest"])
        .arg(mirror.join(format!(
            "tls/app@sha256={}/manifest.json",
            hex_of(lab.var("LAB_IMG_APP1_DIGEST"))
        ))));
    assert_exit(&o, 0);
    assert_eq!(lines(&o), [pinned]);
}

// ====================================================================== fetch / mirror

/// `imgsig fetch --to DIR IMAGES… --output json` against the lab.
fn fetch(lab: &Lab, to: &Path, images: &[&str]) -> Output {
    let o = go(cmd()
        .args(["fetch", "--output", "json", "--to"])
        .arg(to)
        .args(lab_net(lab))
        .args(images.iter().map(|i| format!("docker://{i}"))));
    assert_exit(&o, 0);
    o
}

/// Offline verification from the mirror.
fn verify_mirror(lab: &Lab, mirror: &Path, policy: &str, identity: &str, digest: &str) -> Output {
    let tmp = tempdir();
    go(cmd()
        .args(["verify", "--policy", policy, "--registries-d"])
        .arg(nowhere_registries_d(tmp.path(), lab))
        .arg("--lookaside")
        .arg(mirror)
        .args(["--identity", identity, "--manifest"])
        .arg(image_dir(mirror, identity, digest).join("manifest.json")))
}

#[test]
fn fetch_then_verify_offline() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, app2) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP2"));
    let (d1, d2) = (lab.var("LAB_IMG_APP1_DIGEST"), lab.var("LAB_IMG_APP2_DIGEST"));
    let o = fetch(lab, &mirror, &[app1, app2]);
    // People see what each tag resolved to.
    assert!(
        stderr(&o).contains(&format!("docker://{app1} -> {d1}")),
        "{}",
        stderr(&o)
    );
    let doc = framed(&o);
    assert_eq!(doc["images"][0]["command"], "fetch");
    assert_eq!(
        doc["summary"],
        serde_json::json!({"schema_version": 2, "command": "fetch", "summary": true, "exit_code": 0,
            "images": 2, "failed": 0, "to": mirror.display().to_string(), "manifests_written": 2,
            "signatures_new": 3, "signatures_present": 0, "signatures_skipped": 0, "unsigned": 0})
    );
    assert_eq!(doc["images"][1]["manifests"][0]["digest"], d2);
    assert_eq!(doc["images"][1]["manifests"][0]["signatures_new"], 2);

    // The mirror holds the registry's exact manifest bytes and skopeo's signature files.
    let m1 = image_dir(&mirror, app1, d1);
    assert_eq!(
        std::fs::read(m1.join("manifest.json")).unwrap(),
        std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")).unwrap()
    );
    assert_eq!(
        std::fs::read(m1.join("signature-1")).unwrap(),
        std::fs::read(lab.path("LAB_SIG_APP1_ALICE")).unwrap()
    );
    let m2 = image_dir(&mirror, app2, d2);
    assert_eq!(
        std::fs::read(m2.join("signature-2")).unwrap(),
        std::fs::read(lab.path("LAB_SIG_APP2_BOB")).unwrap()
    );

    // Offline, with registries.d pointing nowhere: accepted.
    let o = verify_mirror(lab, &mirror, lab.var("LAB_POLICY_ALICE"), app1, d1);
    assert_exit(&o, 0);
    assert_eq!(lines(&o), [format!("{}/lab/app@{d1}", lab.var("LAB_REGISTRY"))]);
    // app2 holds both signatures, so alice AND bob is satisfied; app1 only has alice's.
    assert_exit(
        &verify_mirror(lab, &mirror, lab.var("LAB_POLICY_ALICE_BOB"), app2, d2),
        0,
    );
    assert_exit(
        &verify_mirror(lab, &mirror, lab.var("LAB_POLICY_ALICE_BOB"), app1, d1),
        1,
    );
    assert_exit(&verify_mirror(lab, &mirror, lab.var("LAB_POLICY_BOB"), app1, d1), 1);
}

#[test]
fn refetch_adds_nothing_and_overwrites_nothing() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let images = [lab.var("LAB_IMG_APP2"), lab.var("LAB_IMG_MULTI")];
    fetch(lab, &mirror, &images);
    // An extra signature someone added to the mirror (e.g. from another source).
    let extra = image_dir(&mirror, lab.var("LAB_IMG_APP2"), lab.var("LAB_IMG_APP2_DIGEST")).join("signature-3");
    std::fs::copy(lab.path("LAB_SIGNATURES").join("app-1.0.bob.sig"), &extra).unwrap();
    let before = snapshot(&mirror);
    assert!(before.contains_key(&extra));
    // Make a rewrite of the same bytes visible in the mtimes.
    std::thread::sleep(Duration::from_millis(1100));

    let doc = framed(&fetch(lab, &mirror, &images));
    assert_eq!(
        doc["summary"],
        serde_json::json!({"schema_version": 2, "command": "fetch", "summary": true, "exit_code": 0,
            "images": 2, "failed": 0, "to": mirror.display().to_string(), "manifests_written": 0,
            "signatures_new": 0, "signatures_present": 5, "signatures_skipped": 0, "unsigned": 0})
    );
    for m in doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["manifests"].as_array().unwrap())
    {
        assert_eq!(m["manifest_written"], false);
        assert_eq!(m["signatures_new"], 0);
    }
    let after = snapshot(&mirror);
    assert_eq!(before.keys().collect::<Vec<_>>(), after.keys().collect::<Vec<_>>());
    for (p, (bytes, mtime)) in &before {
        if p.parent().is_some_and(|d| d.to_string_lossy().ends_with("@tags")) {
            // The tag records are the one thing a fetch replaces: same digest, newer time.
            let old: serde_json::Value = serde_json::from_slice(bytes).unwrap();
            let new: serde_json::Value = serde_json::from_slice(&after[p].0).unwrap();
            assert_eq!(old["digest"], new["digest"], "{}", p.display());
            assert!(
                new["fetched_at"].as_i64() > old["fetched_at"].as_i64(),
                "{}",
                p.display()
            );
            continue;
        }
        assert_eq!(&after[p].0, bytes, "{} changed", p.display());
        assert_eq!(&after[p].1, mtime, "{} was rewritten", p.display());
    }
}

#[test]
fn fetch_keeps_foreign_signatures_and_appends_after_them() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let (app1, d1) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP1_DIGEST"));
    // The mirror already holds bob's (standalone) signature of app1 as signature-1.
    let d = image_dir(&mirror, app1, d1);
    std::fs::create_dir_all(&d).unwrap();
    let bob = std::fs::read(lab.path("LAB_SIGNATURES").join("app-1.0.bob.sig")).unwrap();
    std::fs::write(d.join("signature-1"), &bob).unwrap();

    let doc = framed(&fetch(lab, &mirror, &[app1]));
    assert_eq!(doc["images"][0]["manifests"][0]["signatures_new"], 1);
    assert_eq!(std::fs::read(d.join("signature-1")).unwrap(), bob);
    assert_eq!(
        std::fs::read(d.join("signature-2")).unwrap(),
        std::fs::read(lab.path("LAB_SIG_APP1_ALICE")).unwrap()
    );
    assert!(!d.join("signature-3").exists());
    // Both are read: alice AND bob now holds for app1.
    assert_exit(
        &verify_mirror(lab, &mirror, lab.var("LAB_POLICY_ALICE_BOB"), app1, d1),
        0,
    );
}

#[test]
fn fetch_from_file() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let list = write(
        &dir.path().join("images.txt"),
        &format!(
            "# images for the air-gapped site\n\ndocker://{}\n   docker://{}   \n# docker://{}\n",
            lab.var("LAB_IMG_APP1"),
            lab.var("LAB_IMG_TOOL"),
            lab.var("LAB_IMG_APP2")
        ),
    );
    let o = go(cmd()
        .args(["fetch", "--json", "--to"])
        .arg(&mirror)
        .args(lab_net(lab))
        .arg("--from-file")
        .arg(&list));
    // other/tool has no signature: mirrored, but the run fails (exit 1).
    assert_exit(&o, 1);
    let doc = framed(&o);
    let inputs: Vec<&str> = doc["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["input"].as_str().unwrap())
        .collect();
    assert_eq!(
        inputs,
        [
            format!("docker://{}", lab.var("LAB_IMG_APP1")),
            format!("docker://{}", lab.var("LAB_IMG_TOOL"))
        ]
    );
    assert!(
        image_dir(&mirror, lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP1_DIGEST"))
            .join("signature-1")
            .is_file()
    );
    // other/tool is unsigned: its manifest is mirrored, with no signature.
    let tool = &doc["images"][1]["manifests"][0];
    assert_eq!(tool["signatures_new"], 0);
    let tool_dir = PathBuf::from(tool["directory"].as_str().unwrap());
    assert!(tool_dir.starts_with(mirror.join("other")), "{}", tool_dir.display());
    assert!(tool_dir.join("manifest.json").is_file());
    assert!(!tool_dir.join("signature-1").exists());
    assert_eq!(doc["images"][1]["unsigned"], true);
    assert_eq!(doc["images"][0]["unsigned"], false);
    assert_eq!(doc["summary"]["unsigned"], 1);
    assert_eq!(doc["summary"]["failed"], 0);
    // app2 was commented out.
    assert!(!image_dir(&mirror, lab.var("LAB_IMG_APP2"), lab.var("LAB_IMG_APP2_DIGEST")).exists());
}

#[test]
fn fetch_multi_arch_mirrors_index_and_instances() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    let multi = lab.var("LAB_IMG_MULTI");
    let (instances, host) = multi_instances(lab);
    let multi_pinned = format!(
        "{}/lab/multi@{}",
        lab.var("LAB_REGISTRY"),
        lab.var("LAB_IMG_MULTI_DIGEST")
    );
    let doc = framed(&fetch(lab, &mirror, &[multi]));
    let ms = doc["images"][0]["manifests"].as_array().unwrap();
    let digests: Vec<&str> = ms.iter().map(|m| m["digest"].as_str().unwrap()).collect();
    let mut want = vec![lab.var("LAB_IMG_MULTI_DIGEST")];
    want.extend(instances.iter().map(String::as_str));
    assert_eq!(digests, want);
    for d in &want {
        let idir = image_dir(&mirror, multi, d);
        let bytes = std::fs::read(idir.join("manifest.json")).unwrap();
        assert_eq!(format!("sha256:{}", sha256_hex(&bytes)), *d, "manifest bytes of {d}");
        // skopeo --all --sign-by signed the index and every instance.
        assert!(idir.join("signature-1").is_file(), "{d} has no signature");
    }
    // Offline: each instance verifies from the mirror.
    for d in &instances {
        assert_exit(&verify_mirror(lab, &mirror, lab.var("LAB_POLICY_ALICE"), multi, d), 0);
    }
    // And docker:// against the mirror served over HTTP (registries.d points at it).
    let http = StaticHttp::serve(&mirror);
    let regd = write(
        &dir.path().join("regd/mirror.yaml"),
        &format!("docker:\n  {}:\n    lookaside: {}\n", lab.var("LAB_REGISTRY"), http.url),
    );
    let o = go(cmd()
        .args([
            "verify",
            "--all-platforms",
            "--policy",
            lab.var("LAB_POLICY_ALICE"),
            "--tls-verify=false",
        ])
        .arg("--registries-d")
        .arg(regd.parent().unwrap())
        .arg(format!("docker://{multi}")));
    assert_exit(&o, 0);
    assert_eq!(lines(&o), std::slice::from_ref(&multi_pinned), "the index pin");
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE"), "--tls-verify=false"])
        .arg("--registries-d")
        .arg(regd.parent().unwrap())
        .arg(format!("docker://{multi}")));
    assert_exit(&o, 0);
    assert_eq!(lines(&o), [multi_pinned], "{host}: the index pin");
}

#[test]
fn mirror_served_over_http_is_a_lookaside() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    fetch(lab, &mirror, &[lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP2")]);
    let http = StaticHttp::serve(&mirror);
    for (image, policy) in [
        (lab.var("LAB_IMG_APP1"), lab.var("LAB_POLICY_ALICE")),
        (lab.var("LAB_IMG_APP2"), lab.var("LAB_POLICY_ALICE_BOB")),
    ] {
        let o = go(cmd()
            .args([
                "verify",
                "--json",
                "--policy",
                policy,
                "--tls-verify=false",
                "--lookaside",
                &http.url,
            ])
            .arg(format!("docker://{image}")));
        assert_exit(&o, 0);
        let doc = batch(&o);
        let src = doc["images"][0]["manifests"][0]["signatures"][0]["source"]
            .as_str()
            .unwrap_or("");
        assert!(
            src.starts_with(&http.url),
            "signature read from {src:?}, not the mirror"
        );
    }
    // app1 has only alice's signature: alice AND bob is not met from the mirror either.
    let o = go(cmd()
        .args([
            "verify",
            "--policy",
            lab.var("LAB_POLICY_ALICE_BOB"),
            "--tls-verify=false",
        ])
        .args(["--lookaside", &http.url])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 1);
}

#[test]
fn skopeo_reads_the_mirror() {
    let lab = lab();
    let dir = tempdir();
    let mirror = dir.path().join("mirror");
    fetch(lab, &mirror, &[lab.var("LAB_IMG_APP2"), lab.var("LAB_IMG_MULTI")]);
    let regd = dir.path().join("regd");
    write(
        &regd.join("mirror.yaml"),
        &format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            mirror.display()
        ),
    );
    let skopeo_copy = |policy: &str, all: bool, image: &str, dest: &str| {
        let mut c = lab.cmd("skopeo");
        c.args(["--command-timeout", "60s", "--policy", policy])
            .arg("--registries.d")
            .arg(&regd)
            .args(["copy", "-q", "--src-tls-verify=false"]);
        if all {
            c.arg("--all");
        }
        c.arg(format!("docker://{image}"))
            .arg(format!("dir:{}", dir.path().join(dest).display()));
        run_bounded(&mut c, CMD_SECS)
    };
    // Both of app2's signatures are read from the mirror: alice AND bob holds.
    let s = skopeo_copy(lab.var("LAB_POLICY_ALICE_BOB"), false, lab.var("LAB_IMG_APP2"), "app2");
    assert!(s.status.success(), "skopeo rejected the mirror: {}", stderr(&s));
    // The multi-arch image: skopeo checks every instance's signature.
    let s = skopeo_copy(lab.var("LAB_POLICY_ALICE"), true, lab.var("LAB_IMG_MULTI"), "multi");
    assert!(s.status.success(), "skopeo rejected the mirror: {}", stderr(&s));
    // Control: app1 was not mirrored, so skopeo finds no signature there.
    let s = skopeo_copy(lab.var("LAB_POLICY_ALICE"), false, lab.var("LAB_IMG_APP1"), "app1");
    assert!(!s.status.success(), "skopeo did not read the mirror");
    assert!(stderr(&s).contains("no signature exists"), "{}", stderr(&s));
}

// ============================================================ the fake server (faults)
//
// The fake serves the lab's lab/app:1.0 manifest and alice's skopeo signature under its
// own address. The signature names the lab's registry, so the policy pins that identity
// with exactReference.

struct Img {
    manifest: Vec<u8>,
    digest: String,
    sig: Vec<u8>,
}

fn app1(lab: &Lab) -> Img {
    let manifest = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")).unwrap();
    let digest = format!("sha256:{}", sha256_hex(&manifest));
    assert_eq!(digest, lab.var("LAB_IMG_APP1_DIGEST"));
    Img {
        manifest,
        digest,
        sig: std::fs::read(lab.path("LAB_SIG_APP1_ALICE")).unwrap(),
    }
}

/// Any image must carry alice's signature for the lab's lab/app:1.0.
fn fake_policy(dir: &Path, lab: &Lab) -> PathBuf {
    write(
        &dir.join("policy.json"),
        &serde_json::json!({"default": [{
            "type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB"),
            "signedIdentity": {"type": "exactReference", "dockerReference": lab.var("LAB_IMG_APP1")}
        }]})
        .to_string(),
    )
}

const MANIFEST_TYPE: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// `/sigs/lab/app@sha256=<hex>/signature-<n>`
fn sig_path(img: &Img, n: usize) -> String {
    format!("/sigs/lab/app@sha256={}/signature-{n}", hex_of(&img.digest))
}

fn is_manifest(req: &Request) -> bool {
    req.path_only().starts_with("/v2/lab/app/manifests/")
}

/// A plain registry (no auth) for lab/app:1.0 with its lookaside under /sigs.
fn plain_routes(img: &Img, req: &Request, c: &mut Conn) {
    match req.path_only() {
        "/v2/" => c.send(200, &[("Content-Type", "application/json")], b"{}"),
        _ if is_manifest(req) => c.send(200, &[("Content-Type", MANIFEST_TYPE)], &img.manifest),
        p if p == sig_path(img, 1) => c.send(200, &[], &img.sig),
        _ => c.send(404, &[], b"not found"),
    }
}

/// A fake of [`plain_routes`] whose lookaside answers every signature request with `sigs`
/// (a hostile or broken lookaside; a real server cannot be made to do these).
fn fake_lookaside(lab: &Lab, sigs: impl Fn(&mut Conn) + Send + Sync + 'static) -> Fake {
    let img = app1(lab);
    Fake::start("127.0.0.1", move |req, c| {
        if req.path_only().starts_with("/sigs/") {
            sigs(c)
        } else {
            plain_routes(&img, req, c)
        }
    })
}

/// `imgsig verify --json --tls-verify=false --lookaside FAKE/sigs docker://FAKE/lab/app:1.0`
fn verify_fake(dir: &Path, lab: &Lab, fake: &Fake, extra: &[&str]) -> Output {
    go(cmd()
        .args(["verify", "--json", "--tls-verify=false", "--timeout", "10", "--policy"])
        .arg(fake_policy(dir, lab))
        .args(["--lookaside", &format!("{}/sigs", fake.url())])
        .args(extra)
        .arg(format!("docker://{}/lab/app:1.0", fake.host())))
}

#[track_caller]
fn image_error(o: &Output) -> (String, String) {
    let doc = batch(o);
    let e = &doc["images"][0]["error"];
    (
        e["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error in {doc:#}"))
            .to_owned(),
        e["message"].as_str().unwrap().to_owned(),
    )
}

fn basic(user: &str, pass: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    )
}

/// A registry using the bearer-token flow: `/v2/` challenges with
/// `Bearer realm="http://FAKE/token",service="fake"`; `/token` checks Basic credentials when
/// given (tester:pw) and, unless `creds_required`, also issues an anonymous token; manifests
/// need `Authorization: Bearer <token>`. The lookaside (/sigs) needs nothing.
fn bearer_fake(img: Img, creds_required: bool) -> Fake {
    Fake::start("127.0.0.1", move |req, c| {
        let challenge = format!(r#"Bearer realm="{}/token",service="fake""#, req.base);
        let unauthorized = |c: &mut Conn| {
            c.send(
                401,
                &[("WWW-Authenticate", &challenge), ("Content-Type", "application/json")],
                br#"{"errors":[{"code":"UNAUTHORIZED"}]}"#,
            )
        };
        let auth = req.header("Authorization");
        match req.path_only() {
            "/v2/" => unauthorized(c),
            "/token" => {
                let scope_ok = req.query("scope").as_deref() == Some("repository:lab/app:pull")
                    && req.query("service").as_deref() == Some("fake");
                let token = match auth {
                    Some(a) if a == basic("tester", "pw") => Some("tok-tester"),
                    Some(_) => None,
                    None if !creds_required => Some("tok-anonymous"),
                    None => None,
                };
                match (scope_ok, token) {
                    (true, Some(t)) => c.send(
                        200,
                        &[("Content-Type", "application/json")],
                        format!(r#"{{"token":"{t}"}}"#).as_bytes(),
                    ),
                    _ => c.send(401, &[("Content-Type", "application/json")], b"{}"),
                }
            }
            _ if is_manifest(req) => {
                let ok = match auth {
                    Some("Bearer tok-tester") => true,
                    Some("Bearer tok-anonymous") => !creds_required,
                    _ => false,
                };
                if ok {
                    c.send(200, &[("Content-Type", MANIFEST_TYPE)], &img.manifest)
                } else {
                    unauthorized(c)
                }
            }
            p if p == sig_path(&img, 1) => c.send(200, &[], &img.sig),
            _ => c.send(404, &[], b"not found"),
        }
    })
}

fn auths_of(reqs: &[Request], pred: impl Fn(&Request) -> bool) -> Vec<Option<&str>> {
    reqs.iter()
        .filter(|r| pred(r))
        .map(|r| r.header("Authorization"))
        .collect()
}

#[test]
fn fake_bearer_token_flow_anonymous_and_with_credentials() {
    let lab = lab();
    let dir = tempdir();
    let fake = bearer_fake(app1(lab), false);

    // Anonymous: an anonymous token, sent as Bearer.
    let o = verify_fake(dir.path(), lab, &fake, &[]);
    assert_exit(&o, 0);
    let reqs = fake.requests();
    assert_eq!(auths_of(&reqs, |r| r.path_only() == "/token"), [None]);
    assert_eq!(auths_of(&reqs, is_manifest), [Some("Bearer tok-anonymous")]);
    let token_req = reqs.iter().find(|r| r.path_only() == "/token").unwrap();
    assert_eq!(token_req.query("account"), None);

    // With credentials: Basic to the token service only, then the account's token.
    let o = verify_fake(dir.path(), lab, &fake, &["--creds", "tester:pw"]);
    assert_exit(&o, 0);
    let reqs = fake.requests()[reqs.len()..].to_vec();
    assert_eq!(
        auths_of(&reqs, |r| r.path_only() == "/token"),
        [Some(basic("tester", "pw").as_str())]
    );
    assert_eq!(auths_of(&reqs, is_manifest), [Some("Bearer tok-tester")]);
    let token_req = reqs.iter().find(|r| r.path_only() == "/token").unwrap();
    assert_eq!(token_req.query("account").as_deref(), Some("tester"));
    // Nothing else ever carried credentials: not /v2/, not the lookaside.
    for r in fake.requests() {
        if r.path_only() != "/token" && !is_manifest(&r) {
            assert_eq!(r.header("Authorization"), None, "{r:?}");
        }
    }
}

#[test]
fn fake_bearer_token_flow_requires_credentials() {
    let lab = lab();
    let dir = tempdir();
    let fake = bearer_fake(app1(lab), true);

    let o = verify_fake(dir.path(), lab, &fake, &[]);
    assert_exit(&o, 3);
    let (code, msg) = image_error(&o);
    assert_eq!(code, "registry-unauthorized");
    assert!(msg.contains(&format!("{}/token", fake.url())), "{msg}");

    let o = verify_fake(dir.path(), lab, &fake, &["--creds", "tester:wrong"]);
    assert_exit(&o, 3);
    assert_eq!(image_error(&o).0, "registry-unauthorized");

    let o = verify_fake(dir.path(), lab, &fake, &["--creds", "tester:pw"]);
    assert_exit(&o, 0);

    // The same credentials from an auth file.
    let authfile = write(
        &dir.path().join("auth.json"),
        &serde_json::json!({"auths": {fake.host(): {"auth": base64::engine::general_purpose::STANDARD.encode("tester:pw")}}})
            .to_string(),
    );
    let o = verify_fake(dir.path(), lab, &fake, &["--authfile", authfile.to_str().unwrap()]);
    assert_exit(&o, 0);
    // No lookaside request ever carried credentials.
    let all = fake.requests();
    let look = auths_of(&all, |r| r.path_only().starts_with("/sigs/"));
    assert!(
        !look.is_empty() && look.iter().all(Option::is_none),
        "lookaside requests: {look:?}"
    );
}

const TEN_MIB: usize = 10 << 20;

#[test]
fn fake_huge_manifest_is_refused_without_reading_it() {
    let lab = lab();
    let dir = tempdir();
    // 10 MiB announced by Content-Length, and an endless body (no Content-Length).
    for announced in [Some(TEN_MIB), None] {
        let fake = Fake::start("127.0.0.1", move |req, c| match req.path_only() {
            "/v2/" => c.send(200, &[], b"{}"),
            _ if is_manifest(req) => c.send_big(&[("Content-Type", MANIFEST_TYPE)], announced, b' '),
            _ => c.send(404, &[], b""),
        });
        let start = Instant::now();
        let o = verify_fake(dir.path(), lab, &fake, &[]);
        assert_exit(&o, 3);
        let (code, msg) = image_error(&o);
        assert_eq!(code, "response-too-large", "{msg}");
        assert!(
            msg.contains(&format!("{}/v2/lab/app/manifests/1.0", fake.url())),
            "{msg}"
        );
        assert!(start.elapsed() < Duration::from_secs(30));
        if announced.is_none() {
            // It stopped reading: the endless body (up to 1 GiB) was never all sent.
            assert!(fake.bytes_written() < 256 << 20, "{} bytes sent", fake.bytes_written());
        }
    }
}

#[test]
fn fake_huge_signature_is_not_used() {
    let lab = lab();
    let dir = tempdir();
    for announced in [Some(TEN_MIB), None] {
        let img = app1(lab);
        let fake = Fake::start("127.0.0.1", move |req, c| {
            if req.path_only() == sig_path(&img, 1) {
                c.send_big(&[], announced, b'A')
            } else {
                plain_routes(&img, req, c)
            }
        });
        let o = verify_fake(dir.path(), lab, &fake, &[]);
        assert_exit(&o, 1);
        let doc = batch(&o);
        // As containers/image: a body over the limit fails reading the image's signatures.
        let req = &doc["images"][0]["manifests"][0]["requirements"][0];
        assert_eq!(req["reason"], "signature-too-large", "{doc:#}");
        assert!(
            req["message"].as_str().unwrap_or("").contains(&sig_path(&app1(lab), 1)),
            "{doc:#}"
        );
        assert!(fake.bytes_written() < 256 << 20);
    }
    // Beside a good one too: the set cannot be read, the image is rejected (the reference's verdict).
    let img = app1(lab);
    let fake = Fake::start("127.0.0.1", move |req, c| {
        if req.path_only() == sig_path(&img, 1) {
            c.send_big(&[], Some(TEN_MIB), b'A')
        } else if req.path_only() == sig_path(&img, 2) {
            c.send(200, &[], &img.sig)
        } else {
            plain_routes(&img, req, c)
        }
    });
    assert_exit(&verify_fake(dir.path(), lab, &fake, &[]), 1);
}

#[test]
fn fake_slow_drip_stops_at_the_timeout() {
    let lab = lab();
    let dir = tempdir();
    // Three servers in parallel: a manifest body, a lookaside signature body, and a
    // manifest whose headers never come; each drips/holds for far longer than --timeout 2.
    let cases: Vec<(&str, Fake)> = vec![
        ("manifest body", {
            let img = app1(lab);
            Fake::start("127.0.0.1", move |req, c| {
                if is_manifest(req) {
                    c.drip(&[("Content-Type", MANIFEST_TYPE)], 100_000)
                } else {
                    plain_routes(&img, req, c)
                }
            })
        }),
        ("signature body", fake_lookaside(lab, |c| c.drip(&[], 100_000))),
        ("manifest headers", {
            let img = app1(lab);
            Fake::start("127.0.0.1", move |req, c| {
                if is_manifest(req) {
                    // Say nothing at all until the fake stops.
                    c.drip_silence(Duration::from_secs(100))
                } else {
                    plain_routes(&img, req, c)
                }
            })
        }),
    ];
    std::thread::scope(|s| {
        for (what, fake) in &cases {
            let dir = dir.path();
            s.spawn(move || {
                let start = Instant::now();
                let o = go(cmd()
                    .args(["verify", "--json", "--tls-verify=false", "--timeout", "2", "--policy"])
                    .arg(fake_policy(&dir.join(what.replace(' ', "-")), lab))
                    .args(["--lookaside", &format!("{}/sigs", fake.url())])
                    .arg(format!("docker://{}/lab/app:1.0", fake.host())));
                let took = start.elapsed();
                assert_exit(&o, 3);
                let (code, msg) = image_error(&o);
                assert_eq!(code, "network-error", "{what}: {msg}");
                assert!(msg.contains("timed out"), "{what}: {msg}");
                assert!(msg.contains(&fake.url()), "{what}: {msg}");
                assert!(took < Duration::from_secs(6), "{what}: took {took:?} with --timeout 2");
            });
        }
    });
}

#[test]
fn fake_redirect_to_another_host_drops_authorization() {
    let lab = lab();
    let dir = tempdir();
    // The other host: 127.0.0.2 (another address of the loopback network).
    let target = {
        let img = app1(lab);
        Fake::start("127.0.0.2", move |req, c| {
            if req.path_only() == "/m/manifest" {
                c.send(200, &[("Content-Type", MANIFEST_TYPE)], &img.manifest)
            } else if req.path_only() == sig_path(&img, 1) {
                c.send(200, &[], &img.sig)
            } else {
                c.send(404, &[], b"")
            }
        })
    };
    let target_url = target.url();
    let origin = Fake::start("127.0.0.1", move |req, c| {
        let p = req.path_only();
        if p == "/v2/" {
            c.send(401, &[("WWW-Authenticate", r#"Basic realm="fake""#)], b"{}")
        } else if is_manifest(req) {
            if req.header("Authorization") == Some(basic("tester", "pw").as_str()) {
                c.send(302, &[("Location", &format!("{target_url}/m/manifest"))], b"")
            } else {
                c.send(401, &[("WWW-Authenticate", r#"Basic realm="fake""#)], b"{}")
            }
        } else if p.starts_with("/sigs/") {
            c.send(302, &[("Location", &format!("{target_url}{p}"))], b"")
        } else {
            c.send(404, &[], b"")
        }
    });
    // The lookaside URL carries its own user info, which is sent as Basic to that host only.
    let lookaside = format!("http://look:aside@{}/sigs", origin.host());
    let o = go(cmd()
        .args([
            "verify",
            "--json",
            "--tls-verify=false",
            "--timeout",
            "10",
            "--creds",
            "tester:pw",
            "--policy",
        ])
        .arg(fake_policy(dir.path(), lab))
        .args(["--lookaside", &lookaside])
        .arg(format!("docker://{}/lab/app:1.0", origin.host())));
    assert_exit(&o, 0);

    let o_reqs = origin.requests();
    assert_eq!(auths_of(&o_reqs, is_manifest), [Some(basic("tester", "pw").as_str())]);
    for r in o_reqs.iter().filter(|r| r.path_only().starts_with("/sigs/")) {
        // Registry credentials never go to a lookaside, even on the registry's host.
        assert_ne!(r.header("Authorization"), Some(basic("tester", "pw").as_str()), "{r:?}");
    }
    let t_reqs = target.requests();
    assert!(t_reqs.iter().any(|r| r.path_only() == "/m/manifest"), "{t_reqs:?}");
    assert!(
        t_reqs.iter().any(|r| r.path_only() == sig_path(&app1(lab), 1)),
        "{t_reqs:?}"
    );
    for r in &t_reqs {
        assert_eq!(r.header("Authorization"), None, "forwarded to another host: {r:?}");
    }
    // The report does not show the lookaside password.
    assert!(!stdout(&o).contains("aside@"), "{}", stdout(&o));
    assert!(!stderr(&o).contains("aside@"), "{}", stderr(&o));
}

#[test]
fn fake_https_to_http_redirect_is_refused() {
    let lab = lab();
    let dir = tempdir();
    let ca = TestCa::create(&dir.path().join("pki"));
    let img = app1(lab);
    let http_target = Fake::start("127.0.0.1", move |req, c| plain_routes(&img, req, c));
    // An HTTPS lookaside that redirects every request to the plain-HTTP fake.
    let https = PyHttps::redirect(
        &ca,
        &format!("{}/sigs", http_target.url()),
        &dir.path().join("https.log"),
    );
    let registry = {
        let img = app1(lab);
        Fake::start("127.0.0.1", move |req, c| plain_routes(&img, req, c))
    };
    let o = go(cmd()
        .args(["verify", "--json", "--tls-verify=false", "--timeout", "10", "--policy"])
        .arg(fake_policy(dir.path(), lab))
        .args(["--lookaside", &https.url])
        .arg(format!("docker://{}/lab/app:1.0", registry.host())));
    assert_exit(&o, 3);
    let (code, msg) = image_error(&o);
    assert_eq!(code, "network-error", "{msg}");
    assert!(msg.contains("https to http"), "{msg}");
    assert!(msg.contains(&https.url), "{msg}");
    assert!(
        !http_target
            .requests()
            .iter()
            .any(|r| r.path_only().starts_with("/sigs/")),
        "the plain-http target was contacted"
    );
}

#[test]
fn fake_endless_signatures_stop_at_128() {
    let lab = lab();
    let dir = tempdir();
    let fake = fake_lookaside(lab, |c| c.send(200, &[], b"not really a signature"));
    let o = verify_fake(dir.path(), lab, &fake, &[]);
    assert_exit(&o, 3);
    let (code, msg) = image_error(&o);
    assert_eq!(code, "lookaside-error", "{msg}");
    // As containers/image: a signature-128 at all means an unreasonable server.
    assert!(msg.contains("128 signatures or more"), "{msg}");
    assert!(msg.contains("/signature-128"), "{msg}");
    let n = fake
        .requests()
        .iter()
        .filter(|r| r.path_only().starts_with("/sigs/"))
        .count();
    assert_eq!(n, 128);
}

#[test]
fn fake_registry_serving_other_bytes_for_a_digest() {
    let lab = lab();
    let dir = tempdir();
    let want = app1(lab).digest;
    // Whatever is asked for, this registry serves lab/app:2.0's manifest.
    let other = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_2.0.json")).unwrap();
    let fake = Fake::start("127.0.0.1", move |req, c| match req.path_only() {
        "/v2/" => c.send(200, &[], b"{}"),
        _ if is_manifest(req) => c.send(200, &[("Content-Type", MANIFEST_TYPE)], &other),
        _ => c.send(404, &[], b""),
    });
    let image = format!("docker://{}/lab/app@{want}", fake.host());
    let o = go(cmd()
        .args(["verify", "--json", "--tls-verify=false", "--timeout", "10", "--policy"])
        .arg(fake_policy(dir.path(), lab))
        .args(["--lookaside", &format!("{}/sigs", fake.url())])
        .arg(&image));
    assert_exit(&o, 1);
    // A "no" about the image as a whole: a rejection, not an error.
    let doc = batch(&o);
    assert_eq!(doc["images"][0]["verdict"], "rejected");
    assert_eq!(doc["images"][0]["error"], serde_json::Value::Null);
    assert_eq!(doc["images"][0]["manifests"], serde_json::json!([]));
    let rejection = &doc["images"][0]["rejection"];
    let (code, msg) = (
        rejection["code"].as_str().unwrap(),
        rejection["message"].as_str().unwrap(),
    );
    assert_eq!(code, "manifest-digest-mismatch");
    assert!(
        msg.contains(&want) && msg.contains(lab.var("LAB_IMG_APP2_DIGEST")),
        "{msg}"
    );
    assert_eq!(batch(&o)["images"][0]["verified_reference"], serde_json::Value::Null);
    assert_eq!(
        stdout(&go(cmd()
            .args(["verify", "--tls-verify=false", "--timeout", "10", "--policy"])
            .arg(fake_policy(dir.path(), lab))
            .args(["--lookaside", &format!("{}/sigs", fake.url())])
            .arg(&image))),
        ""
    );

    // fetch refuses it too, and writes nothing.
    let mirror = dir.path().join("mirror");
    let o = go(cmd()
        .args(["fetch", "--json", "--tls-verify=false", "--timeout", "10", "--to"])
        .arg(&mirror)
        .args(["--lookaside", &format!("{}/sigs", fake.url())])
        .arg(&image));
    assert_exit(&o, 1);
    assert_eq!(framed(&o)["images"][0]["error"]["code"], "manifest-digest-mismatch");
    assert!(snapshot(&mirror).is_empty(), "{:?}", snapshot(&mirror).keys());
}

#[test]
fn fake_lookaside_answering_500() {
    let lab = lab();
    let dir = tempdir();
    let sig1 = sig_path(&app1(lab), 1);
    let fake = fake_lookaside(lab, |c| c.send(500, &[], b"boom"));
    let o = verify_fake(dir.path(), lab, &fake, &[]);
    assert_exit(&o, 3);
    let (code, msg) = image_error(&o);
    assert_eq!(code, "lookaside-error", "{msg}");
    assert!(msg.contains(&format!("{}{sig1}", fake.url())), "{msg}");
    assert!(msg.contains("HTTP 500"), "{msg}");
    // Human output names them too.
    let o = go(cmd()
        .args(["verify", "--tls-verify=false", "--timeout", "10", "--policy"])
        .arg(fake_policy(dir.path(), lab))
        .args(["--lookaside", &format!("{}/sigs", fake.url())])
        .arg(format!("docker://{}/lab/app:1.0", fake.host())));
    assert_exit(&o, 3);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}{sig1}", fake.url())) && err.contains("HTTP 500"),
        "{err}"
    );
}

/// The registry signature API (`X-Registry-Supports-Signatures: 1`), which no
/// Debian registry implements: a fake that keeps the signatures PUT to it.
#[test]
fn fake_signature_api_read_and_write() {
    use base64::Engine;
    let lab = lab();
    let dir = tempdir();
    let img = app1(lab);
    let api_path = format!("/extensions/v2/lab/app/signatures/{}", img.digest);
    let stored: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>> = Default::default();
    let st = stored.clone();
    let fake = Fake::start("127.0.0.1", move |req, c| {
        match (req.method.as_str(), req.path_only()) {
            ("GET", "/v2/") => c.send(200, &[("X-Registry-Supports-Signatures", "1")], b"{}"),
            ("GET", p) if p == api_path => {
                let list = serde_json::json!({ "signatures": *st.lock().unwrap() });
                c.send(
                    200,
                    &[("Content-Type", "application/json")],
                    list.to_string().as_bytes(),
                )
            }
            ("PUT", p) if p == api_path => {
                let v: serde_json::Value = serde_json::from_slice(&req.body).unwrap_or_default();
                st.lock().unwrap().push(v);
                c.send(201, &[], b"")
            }
            ("GET", _) if is_manifest(req) => c.send(200, &[("Content-Type", MANIFEST_TYPE)], &img.manifest),
            _ => c.send(404, &[], b"not found"),
        }
    });
    // Nothing there yet: rejected, naming the API as where imgsig looked.
    let policy = fake_policy(dir.path(), lab);
    let verify = || {
        go(cmd()
            .args(["verify", "--json", "--tls-verify=false", "--timeout", "10", "--policy"])
            .arg(&policy)
            .arg(format!("docker://{}/lab/app:1.0", fake.host())))
    };
    let o = verify();
    assert_exit(&o, 1);
    // Sign through the API with alice's key and the lab identity.
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let sign = || {
        go(cmd()
            .args(["sign", "--tls-verify=false", "--key"])
            .arg(&key)
            .args(["--identity", lab.var("LAB_IMG_APP1")])
            .arg(format!("docker://{}/lab/app:1.0", fake.host())))
    };
    let o = sign();
    assert_exit(&o, 0);
    {
        let s = stored.lock().unwrap();
        assert_eq!(s.len(), 1);
        assert_eq!(s[0]["schemaVersion"], 2);
        assert_eq!(s[0]["type"], "atomic");
        let name = s[0]["name"].as_str().unwrap();
        assert!(
            name.starts_with(&format!("{}@", img.digest)) && name.len() == img.digest.len() + 33,
            "{name}"
        );
        let blob = base64::engine::general_purpose::STANDARD
            .decode(s[0]["content"].as_str().unwrap())
            .unwrap();
        assert!(!blob.is_empty());
    }
    // Now the API serves it and the image is accepted.
    let o = verify();
    assert_exit(&o, 0);
    // PUT used the push scope / same auth path, and GETs no registry credentials leaked elsewhere.
    assert!(fake.requests().iter().any(|r| r.method == "PUT"));
}

/// `verify docker://… --output json` writes one document for one image, or
/// JSON Lines for several: one line per image, then a summary line. Checks the
/// framing and gives `{"images": [documents…], "summary": last line or null}`.
#[track_caller]
fn batch(o: &Output) -> serde_json::Value {
    let doc = framed(o);
    for (i, l) in doc["images"].as_array().unwrap().iter().enumerate() {
        assert_eq!(l["schema_version"], 3, "{l}");
        assert_eq!(l["command"], "verify", "{l}");
        assert_eq!(l["mode"], "policy", "{l}");
        assert_eq!(l["index"], i + 1, "{l}");
    }
    doc
}

/// stdout by the one framing rule (docs/json-output.md): one document when it
/// parses as one (one image), else JSON Lines with the summary last. Gives
/// `{"images": [documents…], "summary": last line or null}`.
#[track_caller]
fn framed(o: &Output) -> serde_json::Value {
    if let Ok(one) = serde_json::from_slice::<serde_json::Value>(&o.stdout) {
        assert_eq!(one["summary"], false, "{one}");
        return serde_json::json!({"images": [one], "summary": null});
    }
    let text = String::from_utf8_lossy(&o.stdout);
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    let summary = lines.pop().expect("a summary line");
    assert_eq!(summary["summary"], true, "{summary}");
    assert!(lines.len() > 1, "one image gives one document, not JSON Lines: {text}");
    for l in &lines {
        assert_eq!(l["summary"], false, "{l}");
    }
    assert_eq!(summary["images"], lines.len(), "{summary}");
    serde_json::json!({"images": lines, "summary": summary})
}

/// Many images of one registry are verified concurrently over one shared
/// connection pool: no lock is held across a request, so up to 8 manifest
/// requests are in flight at once. A FAKE server counts them — a real registry
/// cannot report how many requests it is serving at once — and holds each
/// manifest answer back briefly so that requests overlap.
#[test]
fn fake_registry_sees_concurrent_manifest_requests() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let lab = lab();
    let dir = tempdir();
    let img = app1(lab);
    let (now, max) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n2, m2) = (now.clone(), max.clone());
    let fake = Fake::start("127.0.0.1", move |req, c| {
        if is_manifest(req) {
            let cur = n2.fetch_add(1, Ordering::SeqCst) + 1;
            m2.fetch_max(cur, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(300));
            n2.fetch_sub(1, Ordering::SeqCst);
        }
        plain_routes(&img, req, c)
    });
    let images: Vec<String> = (1..=16)
        .map(|i| format!("docker://{}/lab/app:t{i}", fake.host()))
        .collect();
    let o = go(cmd()
        .args(["verify", "--json", "--tls-verify=false", "--timeout", "10", "--policy"])
        .arg(fake_policy(dir.path(), lab))
        .args(["--lookaside", &format!("{}/sigs", fake.url())])
        .args(&images));
    assert_exit(&o, 0);
    let doc = batch(&o);
    assert_eq!(doc["images"].as_array().map(Vec::len), Some(16));
    let seen = max.load(Ordering::SeqCst);
    assert!(
        (4..=8).contains(&seen),
        "{seen} manifest requests were in flight at once (want up to 8, and more than a few)"
    );
}

/// A mistyped tag (HTTP 404 from the registry) is unusable input, exit 2 with
/// `not-found`: retrying cannot help (exit 3 would tell a script to retry).
#[test]
fn lab_unknown_tag_is_not_found_exit_2() {
    let lab = lab();
    let image = format!("docker://{}/lab/app:no-such-tag", lab.var("LAB_REGISTRY"));
    let o = go(cmd()
        .args(["verify", "--json", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 2);
    let (code, msg) = image_error(&o);
    assert_eq!(code, "not-found", "{msg}");
    assert!(msg.contains("no-such-tag"), "{msg}");
    let o = go(cmd()
        .args(["fetch", "--json", "--to"])
        .arg(tempdir().path().join("m"))
        .args(lab_net(lab))
        .arg(&image));
    assert_exit(&o, 2);
}

/// A plain-HTTP registry reached over HTTPS says so in words, with what to
/// do, not "received corrupt message of type InvalidContentType" alone.
#[test]
fn lab_plain_http_registry_over_https_says_so() {
    let lab = lab();
    let o = go(cmd()
        .args(["verify", "--policy", lab.var("LAB_POLICY_ALICE")])
        .args(["--registries-d", lab.var("LAB_REGISTRIES_D")])
        .arg(format!("docker://{}", lab.var("LAB_IMG_APP1"))));
    assert_exit(&o, 3);
    let err = stderr(&o);
    assert!(err.contains("answered in plain HTTP"), "{err}");
    assert!(err.contains("--tls-verify=false"), "{err}");
}
