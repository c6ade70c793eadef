//! `imgsig trust set` / `trust show` against the reference, `podman image
//! trust` (podman 4.3.1, `--policypath` / `--registrypath`): the same edits
//! on copies of the same files must give the same bytes (or, where imgsig
//! keeps the file's order and podman sorts it, the same JSON); what must not
//! be written is not; the file is replaced atomically; `show` prints podman's
//! table; and a policy written by `trust set` gets the same verdicts from
//! skopeo 1.9.3 (lab registry and lookaside) and `imgsig verify`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use common::{assert_exit, imgsig, json, lab, run, stderr, stdout, tempdir, Lab};
use serde_json::Value;

/// podman, with a `gpg2` on PATH (podman runs `gpg2 --with-colons KEYFILE`
/// for the ID column; Debian only ships `gpg`) and a scratch GnuPG home.
struct Podman {
    shim: tempfile::TempDir,
}

impl Podman {
    fn new() -> Podman {
        let ok = Command::new("podman").arg("--version").stdin(Stdio::null()).output();
        assert!(
            ok.is_ok_and(|o| o.status.success()),
            "these tests compare with podman (4.3.1): install it (apt-get install podman)"
        );
        let shim = tempdir();
        let gpg = run(Command::new("sh").args(["-c", "command -v gpg"]));
        let gpg = stdout(&gpg).trim().to_owned();
        assert!(!gpg.is_empty(), "gpg is not installed");
        std::os::unix::fs::symlink(&gpg, shim.path().join("gpg2")).unwrap();
        let home = shim.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        Podman { shim }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("podman");
        let path = std::env::var("PATH").unwrap_or_default();
        c.env("PATH", format!("{}:{path}", self.shim.path().display()))
            .env("GNUPGHOME", self.shim.path().join("gnupg"))
            .stdin(Stdio::null());
        c
    }

    fn set(&self, policy: &Path, args: &[&str]) -> Output {
        run(self
            .cmd()
            .args(["image", "trust", "set", "--policypath"])
            .arg(policy)
            .args(args))
    }

    fn show(&self, policy: &Path, registries_d: &Path, extra: &[&str]) -> Output {
        run(self
            .cmd()
            .args(["image", "trust", "show", "--policypath"])
            .arg(policy)
            .arg("--registrypath")
            .arg(registries_d)
            .args(extra))
    }
}

fn set(policy: &Path, args: &[&str]) -> Output {
    run(imgsig().args(["trust", "set", "--policy"]).arg(policy).args(args))
}

fn show(policy: &Path, registries_d: &Path, extra: &[&str]) -> Output {
    run(imgsig()
        .args(["trust", "show", "--policy"])
        .arg(policy)
        .arg("--registries-d")
        .arg(registries_d)
        .args(extra))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

/// Two copies of the same starting point: `ours/policy.json` and `theirs/policy.json`.
struct Pair {
    _dir: tempfile::TempDir,
    ours: PathBuf,
    theirs: PathBuf,
}

impl Pair {
    fn new(start: Option<&str>) -> Pair {
        let dir = tempdir();
        let ours = dir.path().join("ours/policy.json");
        let theirs = dir.path().join("theirs/policy.json");
        for p in [&ours, &theirs] {
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            if let Some(s) = start {
                std::fs::write(p, s).unwrap();
            }
        }
        Pair {
            _dir: dir,
            ours,
            theirs,
        }
    }

    /// Run the same `set` with both; both must succeed.
    #[track_caller]
    fn set(&self, podman: &Podman, args: &[&str]) {
        let o = set(&self.ours, args);
        assert_exit(&o, 0);
        let p = podman.set(&self.theirs, args);
        assert!(p.status.success(), "podman {args:?} failed: {}", stderr(&p));
    }

    #[track_caller]
    fn assert_same_bytes(&self, step: &str) {
        let (ours, theirs) = (read(&self.ours), read(&self.theirs));
        assert_eq!(ours, theirs, "after {step}: imgsig's file differs from podman's");
    }
}

/// The text podman writes for `start` after setting `default` to reject:
/// a starting file already in podman's own layout.
fn podman_layout(podman: &Podman, start: &str) -> String {
    let pair = Pair::new(Some(start));
    let p = podman.set(&pair.theirs, &["-t", "reject", "default"]);
    assert!(p.status.success(), "{}", stderr(&p));
    read(&pair.theirs)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

#[test]
fn set_matches_podman_byte_for_byte() {
    let lab = lab();
    let podman = Podman::new();
    let (alice, bob, reg) = (
        lab.var("LAB_ALICE_PUB"),
        lab.var("LAB_BOB_PUB"),
        lab.var("LAB_REGISTRY"),
    );
    let app = format!("{reg}/lab/app");
    let pair = Pair::new(None);
    // Scopes are added in the order podman sorts them, so the layouts agree.
    let steps: Vec<Vec<&str>> = vec![
        vec!["-t", "reject", "default"],   // creates the file
        vec!["-f", alice, "-f", bob, reg], // signedBy, two keys, registry scope
        vec!["--type", "accept", &app],    // accept on a repository
        vec!["--pubkeysfile", alice, reg], // replaces an existing scope
        vec!["-t", "accept", "default"],   // replaces the default
        vec!["-t", "reject", "docker.io/library/busybox"],
        vec!["-t", "signedBy", "-f", bob, "quay.io"],
    ];
    for step in &steps {
        pair.set(&podman, step);
        pair.assert_same_bytes(&format!("set {step:?}"));
    }
    let doc = parse(&read(&pair.ours));
    let scope = &doc["transports"]["docker"][reg];
    assert_eq!(scope.as_array().unwrap().len(), 1, "replaced, not appended: {scope}");
    assert_eq!(scope[0]["keyPath"], alice);
    assert_eq!(doc["default"][0]["type"], "insecureAcceptAnything");
}

#[test]
fn two_keys_are_two_signed_by_requirements() {
    let lab = lab();
    let podman = Podman::new();
    let pair = Pair::new(Some(r#"{"default":[{"type":"reject"}]}"#));
    pair.set(
        &podman,
        &[
            "-f",
            lab.var("LAB_ALICE_PUB"),
            "-f",
            lab.var("LAB_BOB_PUB"),
            "example.com/ns",
        ],
    );
    let ours = parse(&read(&pair.ours));
    assert_eq!(ours, parse(&read(&pair.theirs)));
    assert_eq!(
        ours["transports"]["docker"]["example.com/ns"],
        serde_json::json!([
            {"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_ALICE_PUB")},
            {"type": "signedBy", "keyType": "GPGKeys", "keyPath": lab.var("LAB_BOB_PUB")}
        ])
    );
}

#[test]
fn relative_key_paths_are_written_absolute() {
    let lab = lab();
    let dir = tempdir();
    std::fs::copy(lab.path("LAB_ALICE_PUB"), dir.path().join("alice.gpg")).unwrap();
    let policy = dir.path().join("policy.json");
    std::fs::write(&policy, r#"{"default":[{"type":"reject"}]}"#).unwrap();
    let o = run(imgsig().current_dir(dir.path()).args([
        "trust",
        "set",
        "--policy",
        "policy.json",
        "-f",
        "alice.gpg",
        "example.com",
    ]));
    assert_exit(&o, 0);
    let doc = parse(&read(&policy));
    let want = dir.path().join("alice.gpg");
    assert_eq!(
        doc["transports"]["docker"]["example.com"][0]["keyPath"],
        want.to_str().unwrap()
    );
}

#[test]
fn a_scope_under_another_transport_is_replaced_there() {
    let podman = Podman::new();
    let start = podman_layout(
        &podman,
        r#"{"default":[{"type":"reject"}],"transports":{
            "atomic":{"reg.example.com/ns":[{"type":"reject"}]},
            "docker":{"a.example.com":[{"type":"insecureAcceptAnything"}]}}}"#,
    );
    let pair = Pair::new(Some(&start));
    pair.set(&podman, &["-t", "accept", "reg.example.com/ns"]);
    pair.assert_same_bytes("set accept on an atomic scope");
    let doc = parse(&read(&pair.ours));
    assert_eq!(
        doc["transports"]["atomic"]["reg.example.com/ns"][0]["type"],
        "insecureAcceptAnything"
    );
    assert_eq!(keys(&doc["transports"]["docker"]), ["a.example.com"]);
}

#[test]
fn a_scope_under_several_transports_goes_to_docker_else_the_first() {
    // podman picks one at random here (Go map order); imgsig is deterministic.
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    std::fs::write(
        &p,
        r#"{"default":[{"type":"reject"}],"transports":{
            "atomic":{"a.io":[{"type":"reject"}]},"zz":{"b.io":[{"type":"reject"}]},
            "docker":{"a.io":[{"type":"reject"}]},"aa":{"b.io":[{"type":"reject"}]}}}"#,
    )
    .unwrap();
    assert_exit(&set(&p, &["-t", "accept", "a.io"]), 0);
    assert_exit(&set(&p, &["-t", "accept", "b.io"]), 0);
    let doc = parse(&read(&p));
    let t = &doc["transports"];
    assert_eq!(t["docker"]["a.io"][0]["type"], "insecureAcceptAnything");
    assert_eq!(t["atomic"]["a.io"][0]["type"], "reject");
    assert_eq!(t["zz"]["b.io"][0]["type"], "insecureAcceptAnything");
    assert_eq!(t["aa"]["b.io"][0]["type"], "reject");
}

#[test]
fn the_rest_of_the_file_is_kept_in_order() {
    let lab = lab();
    let podman = Podman::new();
    let alice = lab.var("LAB_ALICE_PUB");
    // Not podman's layout: "transports" first, unsorted scopes and transports,
    // an unknown transport, requirement members in an unusual order.
    let start = format!(
        r#"{{
  "transports": {{
    "zeta-unknown": {{"b": [{{"type": "reject"}}], "a": [{{"type": "insecureAcceptAnything"}}]}},
    "docker": {{
      "z.example.com": [{{"keyType": "GPGKeys", "type": "signedBy", "keyPath": "{alice}",
                          "signedIdentity": {{"type": "matchRepository"}}}}],
      "b.example.com": [{{"type": "reject"}}],
      "": [{{"type": "reject"}}]
    }},
    "docker-daemon": {{"": [{{"type": "insecureAcceptAnything"}}]}}
  }},
  "default": [{{"type": "reject"}}]
}}"#
    );
    let pair = Pair::new(Some(&start));
    pair.set(&podman, &["-t", "accept", "m.example.com"]);
    pair.set(&podman, &["-t", "accept", "b.example.com"]);
    let (ours, theirs) = (parse(&read(&pair.ours)), parse(&read(&pair.theirs)));
    // Same content as podman's (serde_json maps compare regardless of order) …
    assert_eq!(ours, theirs);
    // … but in the file's own order (podman sorts the maps).
    assert_eq!(keys(&ours), ["transports", "default"]);
    assert_eq!(keys(&ours["transports"]), ["zeta-unknown", "docker", "docker-daemon"]);
    assert_eq!(keys(&ours["transports"]["zeta-unknown"]), ["b", "a"]);
    assert_eq!(
        keys(&ours["transports"]["docker"]),
        ["z.example.com", "b.example.com", "", "m.example.com"]
    );
    assert_eq!(
        keys(&ours["transports"]["docker"]["z.example.com"][0]),
        ["keyType", "type", "keyPath", "signedIdentity"]
    );
    assert_eq!(keys(&theirs["transports"]), ["docker", "docker-daemon", "zeta-unknown"]);
    // 4-space indentation like podman, no final newline.
    let text = read(&pair.ours);
    assert!(
        text.starts_with("{\n    \"transports\": {\n        \"zeta-unknown\": {\n"),
        "{text}"
    );
    assert!(text.ends_with("\n}"));
}

/// Files that must be left alone, byte for byte, with no temporary file left behind.
#[test]
fn nothing_is_written_when_the_result_would_be_invalid() {
    let cases: &[(&str, &[&str], &str, &str)] = &[
        (
            r#"{"default":[{"type":"reject"}],"zzz":1}"#,
            &["-t", "reject", "a.io"],
            "invalid-policy",
            "unknown key \"zzz\"",
        ),
        (
            "{\"default\":[{\"type\":\"reject\"}],\n\"transports\":{\"docker\":{\"b.io\":[{\"type\":\"rejct\"}]}}}",
            &["-t", "reject", "a.io"],
            "invalid-policy",
            "(line 2, column 41): unknown requirement type \"rejct\"",
        ),
        (
            r#"{"default":[{"type":"reject"}],"transports":{"docker":{"b.io":[{"type":"reject"}],"b.io":[]}}}"#,
            &["-t", "reject", "default"],
            "invalid-policy",
            "duplicate key at transports.docker[\"b.io\"]",
        ),
        (
            r#"{"default":[{"type":"reject"}]"#,
            &["-t", "reject", "default"],
            "invalid-policy",
            "invalid JSON",
        ),
        (r#"[]"#, &["-t", "reject", "default"], "invalid-policy", "not an object"),
        (
            r#"{"default":[],"transports":{}}"#,
            &["-t", "reject", "a.io"],
            "no-default-policy",
            "default trust policy must be set",
        ),
        (
            r#"{"transports":{"docker":{}}}"#,
            &["-t", "reject", "a.io"],
            "no-default-policy",
            "default trust policy must be set",
        ),
        (
            r#"{"default":[{"type":"reject"}],"transports":{"docker":[]}}"#,
            &["-t", "reject", "a.io"],
            "invalid-policy",
            "transports.docker is not an object",
        ),
    ];
    for (start, args, code, message) in cases {
        let dir = tempdir();
        let p = dir.path().join("policy.json");
        std::fs::write(&p, start).unwrap();
        let before = std::fs::metadata(&p).unwrap();
        let o = run(imgsig()
            .args(["--output", "json", "trust", "set", "--policy"])
            .arg(&p)
            .args(*args));
        assert_exit(&o, 2);
        assert_eq!(json(&o)["error"]["code"], *code, "{start}");
        assert!(stderr(&o).contains(message), "{start}: {}", stderr(&o));
        assert_eq!(read(&p), *start, "the file was changed");
        let after = std::fs::metadata(&p).unwrap();
        assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["policy.json"], "left behind: {names:?}");
    }
}

#[test]
fn refusals_and_messages_match_podman() {
    let lab = lab();
    let podman = Podman::new();
    let alice = lab.var("LAB_ALICE_PUB");
    // (starting file, arguments, podman's message)
    let cases: &[(Option<&str>, &[&str], &str)] = &[
        (
            Some(r#"{"transports":{}}"#),
            &["-t", "reject", "a.io"],
            "default trust policy must be set",
        ),
        (None, &["-t", "accept", "a.io"], "default trust policy must be set"),
        (
            Some(r#"{"default":[{"type":"reject"}]}"#),
            &["a.io"],
            "at least one public key must be defined for type 'signedBy'",
        ),
        (
            Some(r#"{"default":[{"type":"reject"}]}"#),
            &["-t", "accept", "-f", alice, "a.io"],
            "1 public keys unexpectedly provided for trust type accept",
        ),
        (
            Some(r#"{"default":[{"type":"reject"}]}"#),
            &["-t", "bogus", "a.io"],
            "bogus",
        ),
    ];
    for (start, args, message) in cases {
        let pair = Pair::new(*start);
        let o = set(&pair.ours, args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        let p = podman.set(&pair.theirs, args);
        assert!(!p.status.success(), "podman accepted {args:?}");
        assert!(stderr(&p).contains(message), "podman {args:?}: {}", stderr(&p));
        // Neither wrote anything.
        for f in [&pair.ours, &pair.theirs] {
            match start {
                Some(s) => assert_eq!(read(f), *s),
                None => assert!(!f.exists(), "{} was created", f.display()),
            }
        }
    }
}

#[test]
fn stricter_than_podman_on_scopes_and_key_files() {
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    let start = r#"{"default":[{"type":"reject"}]}"#;
    std::fs::write(&p, start).unwrap();
    std::fs::write(dir.path().join("not-a-key"), "hello").unwrap();
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["-t", "reject", "busybox"],
            "invalid-scope",
            "docker.io/library/busybox",
        ),
        (
            &["-t", "reject", "docker.io/busybox"],
            "invalid-scope",
            "write \"docker.io/library/busybox\"",
        ),
        (&["-t", "reject", "Bad/Scope"], "invalid-scope", "invalid scope"),
        (&["-t", "reject", ""], "invalid-scope", "use `default`"),
        (
            &["-f", "/nonexistent/key.gpg", "a.io"],
            "unreadable-input",
            "/nonexistent/key.gpg",
        ),
        (
            &["-f", "not-a-key", "a.io"],
            "invalid-keyring",
            "not an OpenPGP public key",
        ),
    ];
    for (args, code, message) in cases {
        let o = run(imgsig()
            .current_dir(dir.path())
            .args(["--output", "json", "trust", "set", "--policy"])
            .arg(&p)
            .args(*args));
        assert_exit(&o, 2);
        assert_eq!(json(&o)["error"]["code"], *code, "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert_eq!(read(&p), start);
    }
}

#[test]
fn a_missing_file_is_created_by_default_only_like_podman() {
    let podman = Podman::new();
    let pair = Pair::new(None);
    pair.set(&podman, &["-t", "reject", "default"]);
    pair.assert_same_bytes("set reject default on a missing file");
    assert_eq!(
        read(&pair.ours),
        "{\n    \"default\": [\n        {\n            \"type\": \"reject\"\n        }\n    ]\n}"
    );
    let mode = std::fs::metadata(&pair.ours).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644);
    // The directory must exist, as for podman.
    let o = set(
        &pair.ours.parent().unwrap().join("no/such/dir/policy.json"),
        &["-t", "reject", "default"],
    );
    assert_exit(&o, 2);
}

#[test]
fn the_file_is_replaced_atomically_keeping_mode_owner_and_links() {
    let dir = tempdir();
    let target = dir.path().join("real.json");
    std::fs::write(&target, r#"{"default":[{"type":"reject"}]}"#).unwrap();
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    let link = dir.path().join("policy.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let before = std::fs::metadata(&target).unwrap();

    assert_exit(&set(&link, &["-t", "accept", "a.io"]), 0);
    assert!(
        std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link was replaced"
    );
    let after = std::fs::metadata(&target).unwrap();
    assert_ne!(before.ino(), after.ino(), "not replaced by rename");
    assert_eq!(after.permissions().mode() & 0o7777, 0o600);
    assert_eq!((after.uid(), after.gid()), (before.uid(), before.gid()));
    assert_eq!(
        parse(&read(&target))["transports"]["docker"]["a.io"][0]["type"],
        "insecureAcceptAnything"
    );

    // A reader never sees a partly written file.
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, target) = (stop.clone(), target.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                let text = std::fs::read_to_string(&target).unwrap();
                let v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("torn read ({e}):\n{text}"));
                assert!(v["default"].is_array());
                reads += 1;
            }
            reads
        })
    };
    for i in 0..30 {
        let scope = format!("r{i}.example.com");
        let ty = if i % 2 == 0 { "accept" } else { "reject" };
        assert_exit(&set(&target, &["-t", ty, &scope]), 0);
    }
    stop.store(true, Ordering::Relaxed);
    let reads = reader.join().expect("reader saw a torn file");
    assert!(reads > 0);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["policy.json", "real.json"], "temporary files left behind");
}

/// The policy `show` is compared on, with the lab's keys.
fn show_policy(lab: &Lab) -> String {
    let (alice, bob, reg) = (
        lab.var("LAB_ALICE_PUB"),
        lab.var("LAB_BOB_PUB"),
        lab.var("LAB_REGISTRY"),
    );
    let data = base64_of(&std::fs::read(lab.path("LAB_BOB_PUB")).unwrap());
    format!(
        r#"{{"default":[{{"type":"reject"}}],"transports":{{
  "docker":{{
    "{reg}/lab":[{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{alice}"}},
                 {{"type":"signedBy","keyType":"GPGKeys","keyPath":"{bob}"}}],
    "docker.io":[{{"type":"insecureAcceptAnything"}}],
    "k.example.com":[{{"type":"signedBy","keyType":"GPGKeys","keyPaths":["{alice}","{bob}"]}}],
    "d.example.com":[{{"type":"signedBy","keyType":"GPGKeys","keyData":"{data}",
                       "signedIdentity":{{"type":"matchRepository"}}}}],
    "quay.io/x":[{{"type":"sigstoreSigned","keyPath":"{alice}"}}],
    "":[{{"type":"reject"}}]}},
  "atomic":{{"reg.example.com/ns":[{{"type":"reject"}}]}},
  "docker-daemon":{{"":[{{"type":"insecureAcceptAnything"}}]}}}}}}"#
    )
}

fn base64_of(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn show_prints_podmans_table() {
    let lab = lab();
    let podman = Podman::new();
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    std::fs::write(&p, show_policy(lab)).unwrap();
    let regd = lab.path("LAB_REGISTRIES_D");
    for extra in [&[][..], &["-n"][..], &["--noheading"][..]] {
        let ours = show(&p, &regd, extra);
        assert_exit(&ours, 0);
        let theirs = podman.show(&p, &regd, extra);
        assert!(theirs.status.success(), "{}", stderr(&theirs));
        assert_eq!(stdout(&ours), stdout(&theirs), "show {extra:?}");
    }
    let table = stdout(&show(&p, &regd, &[]));
    let lookaside = lab.var("LAB_LOOKASIDE_URL");
    let reg = lab.var("LAB_REGISTRY");
    assert!(table.starts_with("TRANSPORT      NAME"), "{table}");
    let row = |name: &str| -> Vec<String> {
        table
            .lines()
            .filter(|l| l.split_whitespace().nth(1) == Some(name))
            .map(str::to_owned)
            .collect()
    };
    let lab_rows = row(&format!("{reg}/lab"));
    assert_eq!(lab_rows.len(), 2, "one row per requirement:\n{table}");
    assert!(lab_rows[0].contains("signed") && lab_rows[0].contains("alice@peer-lab.test"));
    assert!(lab_rows[1].contains("bob@peer-lab.test") && lab_rows[1].trim_end().ends_with(lookaside));
    assert!(row("k.example.com")[0].contains("alice@peer-lab.test, bob@peer-lab.test"));
    assert!(row("d.example.com")[0].contains("bob@peer-lab.test"));
    assert!(row("quay.io/x")[0].contains("sigstoreSigned  N/A"));
}

#[test]
fn show_json_matches_podman_json() {
    let lab = lab();
    let podman = Podman::new();
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    std::fs::write(&p, show_policy(lab)).unwrap();
    let regd = lab.path("LAB_REGISTRIES_D");
    let o = run(imgsig()
        .args(["--output", "json", "trust", "show", "--policy"])
        .arg(&p)
        .arg("--registries-d")
        .arg(&regd));
    assert_exit(&o, 0);
    let ours = json(&o);
    assert_eq!(ours["schema_version"], 1);
    assert_eq!(ours["command"], "trust show");
    assert_eq!(ours["policy"], p.to_str().unwrap());
    let theirs = podman.show(&p, &regd, &["--json"]);
    assert!(theirs.status.success(), "{}", stderr(&theirs));
    let theirs: Value = serde_json::from_slice(&theirs.stdout).unwrap();
    let ours = ours["entries"].as_array().unwrap();
    let theirs = theirs.as_array().unwrap();
    assert_eq!(ours.len(), theirs.len());
    let s = |v: &Value| v.as_str().unwrap_or("").to_owned();
    for (o, t) in ours.iter().zip(theirs) {
        let transport = match (s(&t["transport"]).as_str(), o["default"].as_bool().unwrap()) {
            ("all", true) => "all".to_owned(),
            ("repository", false) => "docker".to_owned(),
            (other, false) => other.to_owned(),
            x => panic!("{x:?}"),
        };
        assert_eq!(s(&o["transport"]), transport);
        let name = if o["default"] == true {
            "default".to_owned()
        } else {
            s(&t["name"])
        };
        assert_eq!(s(&o["name"]), name);
        assert_eq!(o["type"], t["type"]);
        let short: Vec<String> = o["key_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                s(u).split_once('<')
                    .map_or(s(u), |(_, r)| r.trim_end_matches('>').to_owned())
            })
            .collect();
        let id = if o["type"] == "sigstoreSigned" {
            "N/A".to_owned()
        } else {
            short.join(", ")
        };
        assert_eq!(id, s(&t["gpg_id"]), "{o}");
        if transport == "docker" || transport == "all" {
            assert_eq!(s(&o["store"]), s(&t["sigstore"]), "{o}");
        }
    }
    let lab_entry = ours
        .iter()
        .find(|e| e["name"] == format!("{}/lab", lab.var("LAB_REGISTRY")))
        .unwrap();
    assert_eq!(
        lab_entry["key_ids"],
        serde_json::json!(["Alice Lab <alice@peer-lab.test>"])
    );
    assert_eq!(
        lab_entry["key_fingerprints"],
        serde_json::json!([lab.var("LAB_ALICE_FPR")])
    );
    assert_eq!(lab_entry["keys"], serde_json::json!([lab.var("LAB_ALICE_PUB")]));
    assert_eq!(lab_entry["signed_identity"], "matchRepoDigestOrExact");
    assert_eq!(lab_entry["store"], lab.var("LAB_LOOKASIDE_URL"));
    let data_entry = ours.iter().find(|e| e["name"] == "d.example.com").unwrap();
    assert_eq!(data_entry["key_data"], true);
    assert_eq!(data_entry["keys"], serde_json::json!([]));
}

#[test]
fn show_raw_prints_the_file_as_is_and_show_checks_it() {
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    let text = "{ \"default\": [ {\"type\": \"reject\"} ], \"extra\": 1 }";
    std::fs::write(&p, text).unwrap();
    let o = run(imgsig().args(["trust", "show", "--raw", "--policy"]).arg(&p));
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), text);
    // Without --raw the file must be a valid policy.
    let o = run(imgsig().args(["--output", "json", "trust", "show", "--policy"]).arg(&p));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "invalid-policy");
    let o = run(imgsig()
        .args(["--output", "json", "trust", "show", "--raw", "--policy"])
        .arg(&p));
    assert_exit(&o, 2);
    assert_eq!(json(&o)["error"]["code"], "conflicting-flags");
}

#[test]
fn set_json_document() {
    let lab = lab();
    let dir = tempdir();
    let p = dir.path().join("policy.json");
    let o = run(imgsig()
        .args(["--output", "json", "trust", "set", "--policy"])
        .arg(&p)
        .args(["-t", "reject", "default"]));
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["command"], "trust set");
    assert_eq!(
        (doc["created"].clone(), doc["action"].clone()),
        (true.into(), "added".into())
    );
    assert_eq!(doc["scope"], Value::Null);
    let o = run(imgsig()
        .args(["--output", "json", "trust", "set", "--policy"])
        .arg(&p)
        .args([
            "-f",
            lab.var("LAB_ALICE_PUB"),
            "-f",
            lab.var("LAB_BOB_PUB"),
            "example.com",
        ]));
    assert_exit(&o, 0);
    let doc = json(&o);
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["created"], false);
    assert_eq!(doc["scope"], "example.com");
    assert_eq!(doc["transport"], "docker");
    assert_eq!(doc["requirements"][1]["keyPath"], lab.var("LAB_BOB_PUB"));
    assert!(stderr(&o).contains("all 2 requirements must hold"), "{}", stderr(&o));
}

/// `skopeo copy` from the lab registry with lookaside signatures: accepted?
fn skopeo_accepts(lab: &Lab, policy: &Path, image: &str, work: &Path) -> bool {
    let dest = work.join("copy");
    let _ = std::fs::remove_dir_all(&dest);
    let o = run(lab
        .cmd("skopeo")
        .arg("--policy")
        .arg(policy)
        .arg("--registries.d")
        .arg(lab.path("LAB_REGISTRIES_D"))
        .args(["copy", "--src-tls-verify=false"])
        .arg(format!("docker://{image}"))
        .arg(format!("dir:{}", dest.display())));
    if !o.status.success() {
        let err = stderr(&o);
        assert!(
            err.contains("Source image rejected") || err.contains("rejected by policy"),
            "skopeo failed for another reason: {err}"
        );
    }
    o.status.success()
}

fn imgsig_accepts(lab: &Lab, policy: &Path, image: &str, manifest: &str, sigs: &[&str]) -> bool {
    let o = run(imgsig()
        .args(["verify", "--policy"])
        .arg(policy)
        .args(["--identity", image, "--manifest"])
        .arg(lab.path("LAB_MANIFESTS").join(manifest))
        .args(sigs));
    let code = o.status.code();
    assert!(code == Some(0) || code == Some(1), "imgsig verify: {}", stderr(&o));
    code == Some(0)
}

#[test]
fn policies_written_by_trust_set_get_the_same_verdicts_from_skopeo_and_imgsig() {
    let lab = lab();
    let work = tempdir();
    let p = work.path().join("policy.json");
    let scope = format!("{}/lab", lab.var("LAB_REGISTRY"));
    let (alice, bob) = (lab.var("LAB_ALICE_PUB"), lab.var("LAB_BOB_PUB"));
    let (app1, app2) = (lab.var("LAB_IMG_APP1"), lab.var("LAB_IMG_APP2"));
    let app1_sigs = [lab.var("LAB_SIG_APP1_ALICE")];
    let app2_sigs = [lab.var("LAB_SIG_APP2_ALICE"), lab.var("LAB_SIG_APP2_BOB")];
    let verdicts = |label: &str, want1: bool, want2: bool| {
        let s1 = skopeo_accepts(lab, &p, app1, work.path());
        let i1 = imgsig_accepts(lab, &p, app1, "lab_app_1.0.json", &app1_sigs);
        let s2 = skopeo_accepts(lab, &p, app2, work.path());
        let i2 = imgsig_accepts(lab, &p, app2, "lab_app_2.0.json", &app2_sigs);
        assert_eq!(
            (s1, i1, s2, i2),
            (want1, want1, want2, want2),
            "{label}: skopeo app1, imgsig app1, skopeo app2, imgsig app2\n{}",
            read(&p)
        );
    };

    assert_exit(&set(&p, &["-t", "reject", "default"]), 0);
    verdicts("default reject", false, false);
    assert_exit(&set(&p, &["-f", alice, &scope]), 0);
    verdicts("signedBy alice", true, true);
    assert_exit(&set(&p, &["-f", bob, &scope]), 0);
    verdicts("signedBy bob (app1 has only alice's signature)", false, true);
    assert_exit(&set(&p, &["-f", alice, "-f", bob, &scope]), 0);
    verdicts("alice AND bob (only app2 has both)", false, true);
    assert_exit(&set(&p, &["-t", "accept", &format!("{scope}/app:1.0")]), 0);
    verdicts("accept app:1.0 (a more specific scope)", true, true);
}
