//! verify's one JSON shape, checked against the field tables of
//! docs/json-output.md (without the peer lab: tests/modes.rs checks every
//! mode against the lab): the documents of the transcripts, a registry that
//! cannot be reached (the summary says `failed`, not `rejected`), and the
//! checker itself, which must refuse the older shapes. Also: progress is drawn
//! for a person at a terminal only (a terminal simulated with `script`).

mod common;
mod doc_shape;

use std::path::Path;
use std::process::{Command, Output};

use common::{assert_exit, imgsig, repo, run, stdout, tempdir};
use doc_shape::{assert_verify_output, Tables};
use serde_json::{json, Value};

fn fixture_doc(name: &str) -> Value {
    let p = repo().join("tests/cmd").join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn transcript_documents_have_the_documented_shape() {
    let tables = Tables::from_docs();
    for name in [
        "verify-accepted-json.stdout",
        "verify-rejected-json.stdout",
        "verify-policy-accepted-json.stdout",
    ] {
        let doc = fixture_doc(name);
        tables.assert_matches("image-document", &doc, name);
        // Not vacuous: the nested tables were walked.
        let sig = &doc["manifests"][0]["requirements"][0]["signatures"][0];
        assert!(sig["verdict"].is_string(), "{name}");
    }
    let keyring = fixture_doc("verify-rejected-json.stdout");
    assert_eq!(keyring["mode"], "keyring");
    assert_eq!(keyring["policy"], Value::Null);
    assert_eq!(keyring["scope"], Value::Null);
    assert_eq!(keyring["manifests"][0]["requirements"][0]["type"], "keyring");
}

fn first_signature(d: &mut Value) -> &mut Value {
    &mut d["manifests"][0]["requirements"][0]["signatures"][0]
}

#[test]
fn the_checker_refuses_what_the_docs_do_not_say() {
    let tables = Tables::from_docs();
    let good = fixture_doc("verify-policy-accepted-json.stdout");
    assert!(tables.problems("image-document", &good).is_empty());
    let mutate = |f: &dyn Fn(&mut Value)| {
        let mut d = good.clone();
        f(&mut d);
        tables.problems("image-document", &d)
    };
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "a field left out",
            mutate(&|d| drop(d.as_object_mut().unwrap().remove("rejection"))),
        ),
        ("an undocumented field", mutate(&|d| d["decisions"] = json!([]))),
        ("null where not allowed", mutate(&|d| d["warnings"] = Value::Null)),
        ("a wrong type", mutate(&|d| d["index"] = json!("1"))),
        // The bulk lines of schema 1 had the signer as a fingerprint string.
        (
            "a nested wrong type",
            mutate(&|d| first_signature(d)["signer"] = json!("08CD26E446E2E95249B7A405E932F44B23E8DD43")),
        ),
        (
            "a nested field left out",
            mutate(&|d| drop(first_signature(d).as_object_mut().unwrap().remove("hash_algorithm"))),
        ),
    ];
    for (what, problems) in cases {
        assert!(!problems.is_empty(), "{what}: accepted");
    }
    // The older shapes are not the one shape.
    let registry_v2 = json!({"schema_version":2,"command":"verify","mode":"registry","index":1,"input":"docker://x/y:1",
        "verdict":"error","exit_code":3,"verified_reference":null,"decisions":[],"error":{"code":"network-error","message":"x"}});
    assert!(!tables.problems("image-document", &registry_v2).is_empty());
    let bulk_summary_v1 =
        json!({"schema_version":1,"command":"verify","summary":true,"images":1,"accepted":1,"rejected":0,"failed":0});
    assert!(!tables.problems("summary-document", &bulk_summary_v1).is_empty());
}

/// `verify docker://` images on a registry that is not there.
fn verify_unreachable(dir: &Path, format: &[&str], images: usize) -> Output {
    let port = common::servers::closed_port();
    let regd = dir.join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    let mut c = imgsig();
    c.arg("verify")
        .args(format)
        .arg("--policy")
        .arg(repo().join("tests/cmd/fixtures/policy.json"))
        .arg("--registries-d")
        .arg(&regd)
        .args(["--tls-verify=false", "--timeout", "10"])
        .args((1..=images).map(|i| format!("docker://127.0.0.1:{port}/app:{i}")));
    run(&mut c)
}

#[test]
fn unreachable_registry_fails_the_run_it_does_not_reject_it() {
    let dir = tempdir();
    let o = verify_unreachable(dir.path(), &["--output", "json"], 2);
    assert_exit(&o, 3);
    let tables = Tables::from_docs();
    let images = assert_verify_output(&tables, &stdout(&o), true, "unreachable registry");
    for d in &images {
        assert_eq!(d["verdict"], "failed", "{d}");
        assert_eq!(d["exit_code"], 3, "{d}");
        assert_eq!(d["error"]["code"], "network-error", "{d}");
        assert_eq!(d["rejection"], Value::Null, "{d}");
    }
    let summary: Value = serde_json::from_str(stdout(&o).lines().last().unwrap()).unwrap();
    assert_eq!(summary["verdict"], "failed", "{summary}");
    assert_eq!(summary["exit_code"], 3, "{summary}");
    assert_eq!(
        (&summary["rejected"], &summary["failed"]),
        (&json!(0), &json!(2)),
        "{summary}"
    );
}

#[test]
fn image_rejected_as_a_whole_is_an_image_document() {
    // A multi-platform index with no instance for any machine this runs on.
    let dir = tempdir();
    let index = dir.path().join("index.json");
    std::fs::write(
        &index,
        r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":100,"platform":{"os":"plan9","architecture":"s390x"}}]}"#,
    )
    .unwrap();
    let look = dir.path().join("lookaside");
    std::fs::create_dir(&look).unwrap();
    let o = run(imgsig()
        .args(["verify", "--output", "json", "--policy"])
        .arg(repo().join("tests/cmd/fixtures/policy.json"))
        .args(["--identity", "docker.io/testing/manifest:1", "--manifest"])
        .arg(&index)
        .arg("--lookaside")
        .arg(&look));
    assert_exit(&o, 1);
    let images = assert_verify_output(&Tables::from_docs(), &stdout(&o), false, "no matching platform");
    let d = &images[0];
    assert_eq!(d["verdict"], "rejected");
    assert_eq!(d["error"], Value::Null);
    assert_eq!(d["rejection"]["code"], "no-matching-platform");
    assert_eq!(d["manifests"], json!([]));
    assert!(
        common::stderr(&o).contains("hint: use --all-platforms"),
        "{}",
        common::stderr(&o)
    );
}

// ---------------------------------------------------------------- progress

/// Run `cmd` on a terminal (`script` gives it a pseudo-terminal), with `env`;
/// everything it wrote to the terminal, stdout and stderr together.
fn on_terminal(cmd: &Command, env: &[(&str, &str)]) -> String {
    let quote = |s: &std::ffi::OsStr| format!("'{}'", s.to_string_lossy().replace('\'', r"'\''"));
    let line: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(quote)
        .collect();
    let mut s = Command::new("script");
    s.args(["-qec", &line.join(" "), "/dev/null"])
        .env_remove("CI")
        .env("TERM", "xterm")
        .env("COLUMNS", "100")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        s.env(k, v);
    }
    let o = run(&mut s);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The commands that work through many images, each on images that cannot be reached.
fn long_runs(dir: &Path) -> Vec<(&'static str, Command, Vec<&'static str>)> {
    let port = common::servers::closed_port();
    let images: Vec<String> = (1..=2).map(|i| format!("docker://127.0.0.1:{port}/app:{i}")).collect();
    let list = dir.join("images.txt");
    std::fs::write(&list, images.join("\n") + "\n").unwrap();
    let regd = dir.join("registries.d");
    std::fs::create_dir_all(&regd).unwrap();
    let net = |c: &mut Command| {
        c.arg("--registries-d")
            .arg(&regd)
            .args(["--tls-verify=false", "--timeout", "10"]);
    };
    let mut verify = imgsig();
    verify
        .args(["verify", "--policy"])
        .arg(repo().join("tests/cmd/fixtures/policy.json"))
        .arg("--from-file")
        .arg(&list);
    net(&mut verify);
    let mut sign = imgsig();
    sign.args(["sign", "--key"])
        .arg(repo().join("examples/demo-signer.secret.asc"))
        .arg("--from-file")
        .arg(&list);
    net(&mut sign);
    let mut fetch = imgsig();
    fetch.arg("fetch").arg("--to").arg(dir.join("mirror")).args(&images);
    net(&mut fetch);
    vec![
        ("verify --from-file", verify, vec!["[2]"]),
        ("sign --from-file", sign, vec!["[1/2]", "[2/2]"]),
        ("fetch", fetch, vec!["[1/2]", "[2/2]"]),
    ]
}

#[test]
fn progress_only_for_a_person_at_a_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        panic!("`script` (bsdutils) is needed to give the commands a terminal");
    }
    let dir = tempdir();
    for (what, cmd, marks) in long_runs(dir.path()) {
        // A person at a terminal sees it.
        let shown = on_terminal(&cmd, &[]);
        assert!(shown.contains('\x1b'), "{what}: no progress on a terminal:\n{shown:?}");
        for m in &marks {
            assert!(shown.contains(m), "{what}: no {m} on a terminal:\n{shown:?}");
        }
        // Never in CI, on a dumb terminal, or with JSON output.
        for (why, env, json) in [
            ("CI=true", &[("CI", "true")][..], false),
            ("TERM=dumb", &[("TERM", "dumb")][..], false),
            ("--output json", &[][..], true),
        ] {
            let mut c = Command::new(cmd.get_program());
            c.args(cmd.get_args());
            if json {
                c.args(["--output", "json"]);
            }
            let out = on_terminal(&c, env);
            assert!(out.contains("127.0.0.1"), "{what} with {why}: did not run:\n{out}");
            assert!(!out.contains('\x1b'), "{what} with {why}: escape sequences:\n{out:?}");
            assert!(!out.contains("[1/2]"), "{what} with {why}: progress:\n{out}");
        }
    }
}

/// Every command's error document names the command as typed (`policy check`,
/// not `policy`), and docs/json-output.md says exactly that: in the error
/// document's `command` row, and in the command's own section's example.
#[test]
fn error_documents_name_the_command_as_the_docs_do() {
    let docs = std::fs::read_to_string(repo().join("docs/json-output.md")).unwrap();
    let row = docs
        .lines()
        .find(|l| l.starts_with("| `command` | string | the command as typed:"))
        .expect("the error document's command row");
    let dir = tempdir();
    let missing = dir.path().join("missing");
    let m = missing.to_str().unwrap();
    let no_dir = dir.path().join("no/such/dir/policy.json");
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("sign", vec!["sign", "--key", m, "--identity", "a/b", "--manifest", m]),
        (
            "verify",
            vec!["verify", "--keyring", m, "--identity", "a/b", "--manifest", m, m],
        ),
        ("fetch", vec!["fetch", "--to", m, "--from-file", m]),
        ("inspect", vec!["inspect", m]),
        ("policy check", vec!["policy", "check", m]),
        (
            "policy explain",
            vec!["policy", "explain", "--policy", m, "docker://a/b"],
        ),
        ("trust show", vec!["trust", "show", "--policy", m]),
        (
            "trust set",
            vec![
                "trust",
                "set",
                "--policy",
                no_dir.to_str().unwrap(),
                "--type",
                "reject",
                "docker.io",
            ],
        ),
    ];
    for (name, args) in cases {
        let o = run(imgsig().args(&args).args(["--output", "json"]));
        assert_exit(&o, 2);
        let doc: Value = serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{name}: {e}: {}", stdout(&o)));
        assert_eq!(doc["command"], name, "{doc}");
        assert!(doc["error"]["code"].is_string(), "{doc}");
        assert!(
            row.contains(&format!("`{name}`")),
            "docs' command row lacks `{name}`: {row}"
        );
        // The command's section shows the same name in its example.
        assert!(
            docs.contains(&format!("\"command\": \"{name}\"")),
            "docs/json-output.md has no example with \"command\": \"{name}\""
        );
    }
}
