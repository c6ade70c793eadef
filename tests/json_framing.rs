//! The one framing of `--output json` (docs/json-output.md, "Framing"), in
//! every mode of every command that takes images, against the lab's real
//! registry, lookaside and GnuPG keys:
//!
//! - one image named → stdout is one JSON document (what `json.load` and
//!   `jq` read as one value), never followed by a summary;
//! - several images → JSON Lines: every line a document, the last one the
//!   summary, whose shape is the same for verify, sign and fetch;
//! - every document, error documents included, carries its command's
//!   current schema version (verify 3, sign 2, fetch 2).

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::online::{cmd, go, lab_net};
use common::{assert_exit, lab, stderr, stdout, tempdir, Lab};
use serde_json::Value;

/// The keys every summary line has, whichever command wrote it.
const SUMMARY_KEYS: [&str; 6] = ["schema_version", "command", "summary", "exit_code", "images", "failed"];

fn schema_version(command: &str) -> u64 {
    match command {
        "verify" => 3,
        "sign" | "fetch" => 2,
        other => panic!("no schema version for {other}"),
    }
}

/// Run with `input` on stdin (`--from-file -`).
fn go_stdin(c: &mut Command, input: &str) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn imgsig");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().expect("wait for imgsig")
}

/// One image named: stdout is exactly one document, of `command`, and no summary.
#[track_caller]
fn one(o: &Output, command: &str, what: &str) -> Value {
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: stdout is not one JSON document ({e}):\n{}\n--- stderr\n{}",
            stdout(o),
            stderr(o)
        )
    });
    assert!(doc.is_object(), "{what}: {doc}");
    assert_eq!(doc["command"], command, "{what}: {doc:#}");
    assert_eq!(doc["schema_version"], schema_version(command), "{what}: {doc:#}");
    assert_ne!(doc["summary"], true, "{what}: one image has no summary: {doc:#}");
    assert_eq!(
        doc["exit_code"].as_i64(),
        o.status.code().map(i64::from),
        "{what}: {doc:#}"
    );
    doc
}

/// Several images named: JSON Lines, one document per image in order, the
/// summary last; returns (image documents, summary).
#[track_caller]
fn many(o: &Output, command: &str, images: usize, what: &str) -> (Vec<Value>, Value) {
    let text = stdout(o);
    let mut docs: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{what}: not a JSON line ({e}): {l}\n{text}")))
        .collect();
    let summary = docs.pop().unwrap_or_else(|| panic!("{what}: no output"));
    assert_eq!(docs.len(), images, "{what}: one line per image:\n{text}");
    for (i, d) in docs.iter().enumerate() {
        assert_eq!(d["command"], command, "{what}: {d}");
        assert_eq!(d["schema_version"], schema_version(command), "{what}: {d}");
        assert_eq!(d["summary"], false, "{what}: {d}");
        assert_eq!(d["index"], i + 1, "{what}: {d}");
    }
    assert_eq!(
        summary["summary"], true,
        "{what}: the last line is the summary: {summary}"
    );
    assert_eq!(summary["command"], command, "{what}: {summary}");
    assert_eq!(summary["schema_version"], schema_version(command), "{what}: {summary}");
    for k in SUMMARY_KEYS {
        assert!(summary.get(k).is_some(), "{what}: the summary has no {k}: {summary}");
    }
    assert_eq!(summary["images"], images, "{what}: {summary}");
    assert_eq!(
        summary["exit_code"].as_i64(),
        o.status.code().map(i64::from),
        "{what}: {summary}"
    );
    // verify: images that could not be verified (a rejection is an answer);
    // sign and fetch: images with an error.
    let failed = docs
        .iter()
        .filter(|d| match command {
            "verify" => d["exit_code"] != 0 && d["exit_code"] != 1,
            _ => !d["error"].is_null(),
        })
        .count();
    assert_eq!(summary["failed"], failed, "{what}: {summary}");
    (docs, summary)
}

fn name_of(image: &str) -> &str {
    image.rsplit_once(':').unwrap().0
}

fn verify(lab: &Lab) -> Command {
    let mut c = cmd();
    c.args(["verify", "--json", "--policy", lab.var("LAB_POLICY_ALICE")]);
    c
}

#[test]
fn one_image_one_document_several_json_lines_with_one_summary_shape() {
    let lab = lab();
    let dir = tempdir();
    let (app1, app2) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP2"));
    let (d1, d2) = (lab.var("LAB_IMG_APP1_DIGEST"), lab.var("LAB_IMG_APP2_DIGEST"));
    let manifest = lab.path("LAB_MANIFESTS").join("lab_app_1.0.json");
    let sig = lab.path("LAB_SIGNATURES").join("app-1.0.alice.sig");
    let mut summaries = Vec::new();

    // fetch: one image, then several (listed on stdin), into the mirror the offline modes read.
    let mirror = dir.path().join("mirror");
    let fetch = || {
        let mut c = cmd();
        c.args(["fetch", "--json", "--to"]).arg(&mirror).args(lab_net(lab));
        c
    };
    let o = go(fetch().arg(format!("docker://{app1}")));
    assert_exit(&o, 0);
    assert_eq!(one(&o, "fetch", "fetch one")["digest"], d1);
    let o = go_stdin(
        fetch().args(["--from-file", "-"]),
        &format!("docker://{app1}\n# a comment\ndocker://{app2}\n"),
    );
    assert_exit(&o, 0);
    let (docs, summary) = many(&o, "fetch", 2, "fetch several");
    assert_eq!((&docs[0]["digest"], &docs[1]["digest"]), (&json_str(d1), &json_str(d2)));
    summaries.push(summary);

    // verify, single image from local files: keyring form, policy form.
    let o = go(cmd()
        .args([
            "verify",
            "--json",
            "--keyring",
            lab.var("LAB_ALICE_PUB"),
            "--identity",
            app1,
            "--manifest",
        ])
        .arg(&manifest)
        .arg(&sig));
    assert_exit(&o, 0);
    assert_eq!(one(&o, "verify", "keyring")["mode"], "keyring");
    let o = go(verify(lab)
        .args(["--identity", app1, "--manifest"])
        .arg(&manifest)
        .arg(&sig));
    assert_exit(&o, 0);
    one(&o, "verify", "policy");

    // verify docker://: one image is one document (`jq -r .verified_reference` prints one line).
    let o = go(verify(lab).args(lab_net(lab)).arg(format!("docker://{app1}")));
    assert_exit(&o, 0);
    let doc = one(&o, "verify", "docker:// one");
    assert_eq!(doc["verified_reference"], format!("{}@{d1}", name_of(app1)));
    let o = go(verify(lab)
        .args(lab_net(lab))
        .args([format!("docker://{app1}"), format!("docker://{app2}")]));
    assert_exit(&o, 0);
    summaries.push(many(&o, "verify", 2, "docker:// several").1);
    // The same images listed with --from-file -, one of them twice.
    let o = go_stdin(
        verify(lab).args(lab_net(lab)).args(["--from-file", "-"]),
        &format!("docker://{app1}\ndocker://{app2}\ndocker://{app1}\n"),
    );
    assert_exit(&o, 0);
    many(&o, "verify", 3, "docker:// --from-file -");

    // verify --offline from the mirror: one image, a --from-file list of several.
    let offline = || {
        let mut c = verify(lab);
        c.args(["--offline", "--lookaside"]).arg(&mirror);
        c
    };
    let o = go(offline().arg(format!("docker://{app1}")));
    assert_exit(&o, 0);
    one(&o, "verify", "offline mirror one");
    let list = dir.path().join("images.txt");
    std::fs::write(&list, format!("docker://{app1}\ndocker://{app2}\n")).unwrap();
    let o = go(offline().arg("--from-file").arg(&list));
    assert_exit(&o, 0);
    many(&o, "verify", 2, "offline mirror --from-file");

    // Bulk: name@digest lines against the mirror; one line is one image.
    let bulk = |lines: &str| {
        let list = dir.path().join("bulk.txt");
        std::fs::write(&list, lines).unwrap();
        go(verify(lab)
            .arg("--lookaside")
            .arg(&mirror)
            .arg("--from-file")
            .arg(&list))
    };
    let o = bulk(&format!("{}@{d1}\n", name_of(app1)));
    assert_exit(&o, 0);
    one(&o, "verify", "bulk one");
    let o = bulk(&format!(
        "{}@{d1}\n{}@{d2}\nnot a reference\n",
        name_of(app1),
        name_of(app2)
    ));
    assert_exit(&o, 2);
    let (docs, summary) = many(&o, "verify", 3, "bulk several");
    assert_eq!(docs[2]["error"]["code"], "invalid-reference", "{}", docs[2]);
    assert_eq!(summary["failed"], 1);
    summaries.push(summary);

    // sign: a digest (one document), one registry image, several from stdin.
    let key = lab.export_secret_key(lab.var("LAB_ALICE_FPR"), dir.path(), "alice.sec");
    let sigs = dir.path().join("sigs");
    let sign = || {
        let mut c = cmd();
        c.args(["sign", "--json", "--tls-verify=false", "--key"]).arg(&key);
        c
    };
    let o = go(sign()
        .args(["--identity", app1, "--digest", d1, "-o"])
        .arg(dir.path().join("sig")));
    assert_exit(&o, 0);
    one(&o, "sign", "sign --digest");
    let o = go(sign().arg("--lookaside-dir").arg(&sigs).arg(format!("docker://{app1}")));
    assert_exit(&o, 0);
    assert_eq!(one(&o, "sign", "sign one")["signatures"][0]["manifest_digest"], d1);
    let o = go_stdin(
        sign().arg("--lookaside-dir").arg(&sigs).args(["--from-file", "-"]),
        &format!(
            "docker://{app1}\ndocker://{app2}\ndocker://{}/lab/absent:1\n",
            lab.var("LAB_REGISTRY")
        ),
    );
    assert_exit(&o, 2);
    let (docs, summary) = many(&o, "sign", 3, "sign several");
    assert_eq!(docs[2]["error"]["code"], "not-found", "{}", docs[2]);
    assert_eq!(
        docs[0]["signatures"][0]["written"], false,
        "signed just before: {}",
        docs[0]
    );
    summaries.push(summary);

    // The summaries: one shape for every command.
    let shape = |s: &Value| -> BTreeSet<String> {
        SUMMARY_KEYS
            .iter()
            .map(|k| format!("{k}:{}", type_name(&s[k])))
            .collect()
    };
    let first = shape(&summaries[0]);
    for s in &summaries {
        assert_eq!(shape(s), first, "{s}");
    }

    // Error documents: one document with the command's schema version.
    let errors: Vec<(&str, Output)> = vec![
        ("verify", go(cmd().args(["verify", "--json", "--identity", app1]))),
        ("verify", go(cmd().args(["verify", "--json", "--no-such-flag"]))),
        ("sign", go(sign().args(["--identity", app1, "--digest", "sha256:12"]))),
        (
            "fetch",
            go(cmd().args(["fetch", "--json", "--to"]).arg(&mirror).arg("not-docker")),
        ),
    ];
    for (command, o) in &errors {
        assert_exit(o, 2);
        let doc: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{command}: not one document ({e}): {}", stdout(o)));
        assert_eq!(doc["schema_version"], schema_version(command), "{doc:#}");
        assert_eq!(doc["exit_code"], 2, "{doc:#}");
        assert!(doc["error"]["code"].is_string(), "{doc:#}");
    }
}

fn json_str(s: &str) -> Value {
    Value::String(s.to_owned())
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
