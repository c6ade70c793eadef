//! Every verification mode gives the same verdict on the same case, and it is
//! skopeo's.
//!
//! A case is a policy, an image reference and the signatures stored for each
//! manifest of the image. Its signatures are laid out once, in a store that
//! is at the same time a lookaside (`<repo>@sha256=<hex>/signature-N`) and
//! a mirror (`manifest.json` beside them), and in a skopeo `dir:` image.
//! The reference verdict comes from real skopeo 1.9.3 (`skopeo --policy P
//! --registries.d D copy [--all] docker://REF dir:…`, the registries.d
//! pointing the lab registry's lookaside at the store), computed once per
//! case; then imgsig runs in every mode that applies and must exit 0 where
//! skopeo accepts and 1 where it rejects:
//!
//! | mode | command |
//! |---|---|
//! | files | `verify --policy P --identity REF --manifest M SIG1 SIG2 …` |
//! | sigdir | `verify --policy P --identity REF --manifest M --signatures STORE/<repo>@sha256=<hex>` |
//! | dir | `verify --policy P --identity REF dir:PATH` |
//! | mirror | `verify --policy P --lookaside STORE --identity REF --manifest STORE/<repo>@sha256=<hex>/manifest.json` |
//! | bulk | `verify --policy P --lookaside STORE --from-file LIST` (one line: `REG/repo@sha256:<hex>`) |
//! | online | `verify --policy P --registries-d D --tls-verify=false docker://REF` |
//! | regd-manifest | `verify --policy P --registries-d D --identity REF --manifest M` |
//!
//! Multi-platform cases add `--all-platforms` to every mode when skopeo ran
//! with `--all`. Their instance signatures can only be found where a mode has
//! somewhere to look them up (a lookaside, a mirror or a `dir:` image with
//! skopeo's `--all` layout), so the files and sigdir modes, which name only
//! the index's signatures, are not run for them.
//!
//! Every run is made with `--output json`, and its stdout must be verify's
//! one documented shape (docs/json-output.md, checked field by field by
//! `doc_shape`): one image document in every mode (one image is named each
//! time, the bulk and online modes included), with the verdict the exit code
//! says.
//!
//! All disagreements are collected and reported together.

mod common;
mod doc_shape;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{imgsig, lab, run, stderr, stdout, tempdir, Lab};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Mode {
    Files,
    SigDir,
    Dir,
    Mirror,
    Bulk,
    Online,
    RegdManifest,
}

const ALL_MODES: [Mode; 7] = [
    Mode::Files,
    Mode::SigDir,
    Mode::Dir,
    Mode::Mirror,
    Mode::Bulk,
    Mode::Online,
    Mode::RegdManifest,
];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Files => "files",
            Mode::SigDir => "sigdir",
            Mode::Dir => "dir",
            Mode::Mirror => "mirror",
            Mode::Bulk => "bulk",
            Mode::Online => "online",
            Mode::RegdManifest => "regd-manifest",
        }
    }
}

/// One manifest of a case: the digest its store directory is named by, the
/// bytes stored there as manifest.json, and its signatures in store order.
struct Entry {
    key: String,
    manifest: Vec<u8>,
    sigs: Vec<Vec<u8>>,
}

/// Where the expected verdict comes from.
#[derive(Clone, Copy)]
enum Expect {
    /// Ask skopeo.
    Skopeo,
    /// Ask skopeo, and also require the index's own signature: imgsig's
    /// `--all-platforms` judges the index and every instance, where
    /// `skopeo copy --all` judges the instances only (a documented, deliberate
    /// difference: docs/policy.md). `true` when the index is signed.
    SkopeoAndIndex(bool),
    /// skopeo cannot express the case; the verdict follows from its construction.
    ByConstruction(bool),
}

struct Case {
    name: String,
    policy: PathBuf,
    /// The identity (`--identity`, and what skopeo pulls), e.g. REG/lab/app:1.0
    reference: String,
    /// The repository path in the store, e.g. lab/app
    repo: &'static str,
    /// `entries[0]` is the top-level manifest (the index for multi-platform images).
    entries: Vec<Entry>,
    /// `Some(all_platforms)` for a multi-platform image.
    multi: Option<bool>,
    expect: Expect,
    modes: Vec<Mode>,
}

/// The files laid out for one case.
struct Layout {
    store: PathBuf,
    regd: PathBuf,
    dir_image: PathBuf,
    list: PathBuf,
}

fn hex(digest: &str) -> &str {
    digest.strip_prefix("sha256:").expect("sha256 digest")
}

fn digest_of(bytes: &[u8]) -> String {
    imgsig::manifest::manifest_digest(bytes).unwrap().to_string()
}

fn store_dir(store: &Path, repo: &str, key: &str) -> PathBuf {
    store.join(format!("{repo}@sha256={}", hex(key)))
}

fn write(path: &Path, bytes: &[u8]) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

fn lay_out(lab: &Lab, case: &Case, work: &Path) -> Layout {
    let store = work.join("store");
    let dir_image = work.join("dir-image");
    std::fs::create_dir_all(&dir_image).unwrap();
    for (i, e) in case.entries.iter().enumerate() {
        let sd = store_dir(&store, case.repo, &e.key);
        write(&sd.join("manifest.json"), &e.manifest);
        // skopeo's dir: layout: the top-level manifest and its signatures
        // plain, every instance's prefixed by its hex digest (as `copy --all` writes it).
        let prefix = if i == 0 {
            String::new()
        } else {
            format!("{}.", hex(&e.key))
        };
        write(&dir_image.join(format!("{prefix}manifest.json")), &e.manifest);
        for (n, s) in e.sigs.iter().enumerate() {
            write(&sd.join(format!("signature-{}", n + 1)), s);
            write(&dir_image.join(format!("{prefix}signature-{}", n + 1)), s);
        }
    }
    let regd = work.join("registries.d");
    write(
        &regd.join("modes.yaml"),
        format!(
            "docker:\n  {}:\n    lookaside: file://{}\n",
            lab.var("LAB_REGISTRY"),
            store.display()
        )
        .as_bytes(),
    );
    let list = work.join("list");
    write(
        &list,
        format!("{}/{}@{}\n", lab.var("LAB_REGISTRY"), case.repo, case.entries[0].key).as_bytes(),
    );
    Layout {
        store,
        regd,
        dir_image,
        list,
    }
}

/// skopeo's verdict: `copy [--all] docker://REF dir:…` under the case's policy,
/// signatures from the case's store through registries.d.
fn skopeo_accepts(lab: &Lab, case: &Case, layout: &Layout, work: &Path) -> bool {
    let dest = work.join("skopeo-copy");
    let mut cmd = lab.cmd("skopeo");
    cmd.arg("--policy")
        .arg(&case.policy)
        .arg("--registries.d")
        .arg(&layout.regd)
        .args(["copy", "--src-tls-verify=false"]);
    if case.multi == Some(true) {
        cmd.arg("--all");
    }
    let o = run(cmd
        .arg(format!("docker://{}", case.reference))
        .arg(format!("dir:{}", dest.display())));
    if !o.status.success() {
        // Only policy rejections count; anything else is a broken test.
        let err = stderr(&o);
        assert!(
            err.contains("Source image rejected") || err.contains("rejected by policy"),
            "case {}: skopeo failed for another reason: {err}",
            case.name
        );
    }
    o.status.success()
}

/// The imgsig command for `mode`.
fn imgsig_cmd(mode: Mode, case: &Case, layout: &Layout) -> Command {
    let top = &case.entries[0];
    let top_dir = store_dir(&layout.store, case.repo, &top.key);
    let manifest = top_dir.join("manifest.json");
    let mut c = imgsig();
    c.args(["verify", "--output", "json", "--policy"]).arg(&case.policy);
    if case.multi == Some(true) {
        c.arg("--all-platforms");
    }
    match mode {
        Mode::Files => {
            c.args(["--identity", &case.reference, "--manifest"]).arg(&manifest);
            c.args((1..=top.sigs.len()).map(|n| top_dir.join(format!("signature-{n}"))));
        }
        Mode::SigDir => {
            c.args(["--identity", &case.reference, "--manifest"])
                .arg(&manifest)
                .arg("--signatures")
                .arg(&top_dir);
        }
        Mode::Dir => {
            c.args(["--identity", &case.reference])
                .arg(format!("dir:{}", layout.dir_image.display()));
        }
        Mode::Mirror => {
            c.arg("--lookaside")
                .arg(&layout.store)
                .args(["--identity", &case.reference, "--manifest"])
                .arg(&manifest);
        }
        Mode::Bulk => {
            c.arg("--lookaside")
                .arg(&layout.store)
                .arg("--from-file")
                .arg(&layout.list);
        }
        Mode::Online => {
            c.arg("--registries-d")
                .arg(&layout.regd)
                .arg("--tls-verify=false")
                .arg(format!("docker://{}", case.reference));
        }
        Mode::RegdManifest => {
            c.arg("--registries-d")
                .arg(&layout.regd)
                .args(["--identity", &case.reference, "--manifest"])
                .arg(&manifest);
        }
    }
    c
}

/// The run's stdout is the documented shape for its mode, and says what its exit code says.
fn check_document(
    tables: &doc_shape::Tables,
    mode: Mode,
    case: &Case,
    o: &Output,
    checked: &mut BTreeMap<Mode, usize>,
) {
    let what = format!("{} | {}", case.name, mode.name());
    // Every mode names one image here: one document, whatever the mode.
    let images = doc_shape::assert_verify_output(tables, &stdout(o), false, &what);
    assert_eq!(images.len(), 1, "{what}");
    let d = &images[0];
    let code = o.status.code().expect("an exit code");
    assert_eq!(d["exit_code"], code, "{what}");
    let verdict = match code {
        0 => "accepted",
        1 => "rejected",
        _ => "failed",
    };
    assert_eq!(d["verdict"], verdict, "{what}");
    assert_eq!(d["mode"], "policy", "{what}");
    assert_eq!(d["policy"], case.policy.display().to_string(), "{what}");
    if code == 0 {
        // What was verified, to pull: the top-level manifest by digest.
        let pinned = d["verified_reference"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: accepted, no reference"));
        let want = format!("/{}@{}", case.repo, case.entries[0].key);
        assert!(pinned.ends_with(&want), "{what}: {pinned}, not …{want}");
        assert!(!d["manifests"].as_array().unwrap().is_empty(), "{what}");
    }
    *checked.entry(mode).or_default() += 1;
}

/// The first lines of imgsig's report that say something about the verdict
/// (the policy/image/scope preamble is skipped), for the disagreement list.
fn first_lines(o: &Output) -> String {
    let err = stderr(o);
    let text = if err.trim().is_empty() { stdout(o) } else { err };
    let preamble = ["imgsig: policy ", "imgsig: image ", "imgsig: scope "];
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !preamble.iter().any(|p| l.starts_with(p)))
        .take(3)
        .map(|l| match l.char_indices().nth(240) {
            Some((i, _)) => format!("{}…", &l[..i]),
            None => l.to_owned(),
        })
        .collect();
    lines.join(" / ")
}

/// Signature blobs by name.
struct Pool(BTreeMap<&'static str, Vec<u8>>);

impl Pool {
    fn get(&self, names: &[&str]) -> Vec<Vec<u8>> {
        names
            .iter()
            .map(|n| self.0.get(n).unwrap_or_else(|| panic!("no signature {n}")).clone())
            .collect()
    }
}

fn pool(lab: &Lab, multi: &[(String, Vec<u8>)]) -> Pool {
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let sigs = lab.path("LAB_SIGNATURES");
    let alice = read(sigs.join("app-1.0.alice.sig"));
    let mut typed = b"\x00simple-signing\n".to_vec();
    typed.extend_from_slice(&alice);
    let mut m = BTreeMap::new();
    m.insert("alice", alice);
    m.insert("bob", read(sigs.join("app-1.0.bob.sig")));
    m.insert("alice-app2", read(lab.path("LAB_SIG_APP2_ALICE")));
    m.insert("garbage", b"\xa3\x01not a signature".to_vec());
    m.insert("empty", Vec::new());
    m.insert("not-openpgp", b"hello world\n".to_vec());
    m.insert("typed-simple-signing", typed);
    m.insert("typed-sigstore", b"\x00sigstore-json\n{}".to_vec());
    m.insert("typed-unknown", b"\x00unknown-format\nxyz".to_vec());
    // alice's signatures of lab/multi:1.0, made by the lab (`copy --all --sign-by`).
    let store = lab.path("LAB_SIGSTORE");
    for (name, (digest, _)) in ["multi-index", "multi-amd64", "multi-arm64"].into_iter().zip(multi) {
        m.insert(name, read(store_dir(&store, "lab/multi", digest).join("signature-1")));
    }
    Pool(m)
}

/// lab/multi:1.0: the index, then the linux/amd64 and linux/arm64 instances
/// (digest, manifest bytes), read from the lab's OCI layout.
fn multi_manifests(lab: &Lab) -> Vec<(String, Vec<u8>)> {
    let index = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_multi_1.0.json")).unwrap();
    assert_eq!(digest_of(&index), lab.var("LAB_IMG_MULTI_DIGEST"));
    let v: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let instance = |arch: &str| -> (String, Vec<u8>) {
        let m = v["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["platform"]["os"] == "linux" && m["platform"]["architecture"] == arch)
            .unwrap_or_else(|| panic!("no linux/{arch} instance in {v}"));
        let d = m["digest"].as_str().unwrap().to_owned();
        let bytes = std::fs::read(lab.path("LAB_OCI_LAYOUT").join("blobs/sha256").join(hex(&d))).unwrap();
        assert_eq!(digest_of(&bytes), d);
        (d, bytes)
    };
    vec![
        (lab.var("LAB_IMG_MULTI_DIGEST").to_owned(), index),
        instance("amd64"),
        instance("arm64"),
    ]
}

fn policies(lab: &Lab, work: &Path) -> BTreeMap<&'static str, PathBuf> {
    let reg = lab.var("LAB_REGISTRY");
    let alice = lab.var("LAB_ALICE_PUB");
    let bob = lab.var("LAB_BOB_PUB");
    let junk_key = work.join("garbage.gpg");
    std::fs::write(&junk_key, b"not a key\n").unwrap();
    let missing_key = work.join("missing.gpg");
    let signed = |key: &str| format!(r#"{{"type":"signedBy","keyType":"GPGKeys","keyPath":"{key}"}}"#);
    let key_paths = |paths: &[&str]| {
        format!(
            r#"{{"type":"signedBy","keyType":"GPGKeys","keyPaths":{}}}"#,
            serde_json::to_string(paths).unwrap()
        )
    };
    let reject_default = |scope: &str, reqs: String| {
        format!(r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{{"{scope}":[{reqs}]}}}}}}"#)
    };
    let lab_scope = format!("{reg}/lab");
    let texts = [
        ("alice-on-lab", reject_default(&lab_scope, signed(alice))),
        (
            "alice-and-bob",
            reject_default(&lab_scope, format!("{},{}", signed(alice), signed(bob))),
        ),
        ("keypaths-alice-bob", reject_default(reg, key_paths(&[alice, bob]))),
        (
            "keypaths-alice-junk",
            reject_default(reg, key_paths(&[alice, junk_key.to_str().unwrap()])),
        ),
        (
            "keypaths-alice-missing",
            reject_default(reg, key_paths(&[alice, missing_key.to_str().unwrap()])),
        ),
    ];
    texts
        .into_iter()
        .map(|(name, text)| {
            let p = work.join(format!("policy-{name}.json"));
            std::fs::write(&p, text).unwrap();
            (name, p)
        })
        .collect()
}

fn cases(lab: &Lab, work: &Path) -> Vec<Case> {
    let reg = lab.var("LAB_REGISTRY");
    let policies = policies(lab, work);
    let policy = |n: &str| policies[n].clone();
    let multi = multi_manifests(lab);
    let pool = pool(lab, &multi);
    let app1 = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_1.0.json")).unwrap();
    let app2 = std::fs::read(lab.path("LAB_MANIFESTS").join("lab_app_2.0.json")).unwrap();
    let app1_digest = lab.var("LAB_IMG_APP1_DIGEST").to_owned();
    let app2_digest = lab.var("LAB_IMG_APP2_DIGEST").to_owned();
    assert_eq!(digest_of(&app1), app1_digest);
    assert_eq!(digest_of(&app2), app2_digest);
    let single_modes = ALL_MODES.to_vec();
    let app1_case = |name: String, policy: PathBuf, sigs: &[&str]| {
        let sigs = pool.get(sigs);
        // Without signature files the files mode is the regd-manifest mode
        // with the default registries.d: it has nothing of its own to test.
        let modes = single_modes
            .iter()
            .copied()
            .filter(|m| *m != Mode::Files || !sigs.is_empty())
            .collect();
        Case {
            name,
            policy,
            reference: lab.var("LAB_IMG_APP1").to_owned(),
            repo: "lab/app",
            entries: vec![Entry {
                key: app1_digest.clone(),
                manifest: app1.clone(),
                sigs,
            }],
            multi: None,
            expect: Expect::Skopeo,
            modes,
        }
    };
    let mut out = Vec::new();

    // Policies × signature sets on lab/app:1.0.
    let sets: [(&str, &[&str]); 5] = [
        ("none", &[]),
        ("alice", &["alice"]),
        ("bob", &["bob"]),
        ("alice+bob", &["alice", "bob"]),
        ("garbage+alice", &["garbage", "alice"]),
    ];
    for p in ["alice-on-lab", "alice-and-bob", "keypaths-alice-bob"] {
        for (s, names) in sets {
            out.push(app1_case(format!("{p} / {s}"), policy(p), names));
        }
    }

    // Blob classification: an odd blob beside alice's good signature, in both
    // orders. Seen with skopeo 1.9.3: a blob that containers/image cannot
    // parse as a signature at all (empty; a first byte that is neither an
    // OpenPGP packet tag nor 0x00, like 'h'; an unknown typed format) fails
    // the whole lookup, so the image is rejected whatever else is there; the
    // typed `simple-signing` form is unwrapped and accepted, and a typed
    // `sigstore-json` blob is parsed and ignored by signedBy.
    for blob in [
        "empty",
        "not-openpgp",
        "typed-simple-signing",
        "typed-sigstore",
        "typed-unknown",
    ] {
        out.push(app1_case(
            format!("alice-on-lab / {blob}+alice"),
            policy("alice-on-lab"),
            &[blob, "alice"],
        ));
        out.push(app1_case(
            format!("alice-on-lab / alice+{blob}"),
            policy("alice-on-lab"),
            &["alice", blob],
        ));
    }

    // keyPaths naming a file that is not a key (skopeo 1.9.3: ignored, gpgme
    // imports nothing from it) and one that does not exist (the requirement fails).
    for p in ["keypaths-alice-junk", "keypaths-alice-missing"] {
        out.push(app1_case(format!("{p} / alice"), policy(p), &["alice"]));
    }

    // lab/multi:1.0, the host platform (linux/amd64) and all platforms.
    if std::env::consts::ARCH == "x86_64" && std::env::consts::OS == "linux" {
        let sets: [(&str, [&[&str]; 3]); 4] = [
            ("all signed", [&["multi-index"], &["multi-amd64"], &["multi-arm64"]]),
            ("index only", [&["multi-index"], &[], &[]]),
            ("instances only", [&[], &["multi-amd64"], &["multi-arm64"]]),
            ("amd64 only", [&[], &["multi-amd64"], &[]]),
        ];
        for all in [false, true] {
            for (s, per_manifest) in &sets {
                out.push(Case {
                    name: format!(
                        "alice-on-lab / multi {} / {s}",
                        if all { "all-platforms" } else { "linux/amd64" }
                    ),
                    policy: policy("alice-on-lab"),
                    reference: lab.var("LAB_IMG_MULTI").to_owned(),
                    repo: "lab/multi",
                    entries: multi
                        .iter()
                        .zip(per_manifest)
                        .map(|((key, manifest), names)| Entry {
                            key: key.clone(),
                            manifest: manifest.clone(),
                            sigs: pool.get(names),
                        })
                        .collect(),
                    multi: Some(all),
                    expect: if all {
                        Expect::SkopeoAndIndex(per_manifest[0].contains(&"multi-index"))
                    } else {
                        Expect::Skopeo
                    },
                    modes: vec![Mode::Dir, Mode::Mirror, Mode::Bulk, Mode::Online, Mode::RegdManifest],
                });
            }
        }
    } else {
        eprintln!(
            "skipping the multi-platform cases: the expected instance is linux/amd64, this is {}/{}",
            std::env::consts::OS,
            std::env::consts::ARCH
        );
    }

    // A reference pinned to app:1.0's digest, with app:2.0's manifest (stored
    // under app:1.0's digest, too) and signatures valid for each manifest.
    // skopeo cannot be given this (the registry serves what the digest names),
    // so the online mode does not apply; every other mode must reject it.
    let both = pool.get(&["alice", "alice-app2"]);
    out.push(Case {
        name: "alice-on-lab / app@<1.0 digest> with app:2.0's manifest".into(),
        policy: policy("alice-on-lab"),
        reference: format!("{reg}/lab/app@{app1_digest}"),
        repo: "lab/app",
        entries: vec![
            Entry {
                key: app1_digest.clone(),
                manifest: app2.clone(),
                sigs: both.clone(),
            },
            Entry {
                key: app2_digest.clone(),
                manifest: app2.clone(),
                sigs: both,
            },
        ],
        multi: None,
        expect: Expect::ByConstruction(false),
        modes: ALL_MODES.iter().copied().filter(|m| *m != Mode::Online).collect(),
    });
    out
}

#[test]
fn every_mode_gives_skopeos_verdict() {
    let lab = lab();
    let work = tempdir();
    let cases = cases(lab, work.path());
    let mut disagreements = Vec::new();
    let mut runs: BTreeMap<Mode, usize> = BTreeMap::new();
    let mut planned = 0;
    let mut skopeo_verdicts = Vec::new();
    let tables = doc_shape::Tables::from_docs();
    let mut shapes: BTreeMap<Mode, usize> = BTreeMap::new();
    for (i, case) in cases.iter().enumerate() {
        let dir = work.path().join(format!("case-{i}"));
        let layout = lay_out(lab, case, &dir);
        let (accept, source) = match case.expect {
            Expect::Skopeo => {
                let v = skopeo_accepts(lab, case, &layout, &dir);
                skopeo_verdicts.push(v);
                (v, if v { "skopeo accepts" } else { "skopeo rejects" })
            }
            Expect::SkopeoAndIndex(index_signed) => {
                let v = skopeo_accepts(lab, case, &layout, &dir);
                skopeo_verdicts.push(v);
                match (v, index_signed) {
                    (true, true) => (true, "skopeo accepts"),
                    (true, false) => (false, "skopeo accepts; index unsigned"),
                    (false, _) => (false, "skopeo rejects"),
                }
            }
            Expect::ByConstruction(v) => (
                v,
                if v {
                    "accepted by construction"
                } else {
                    "rejected by construction"
                },
            ),
        };
        let want = if accept { 0 } else { 1 };
        let mut row = Vec::new();
        for &mode in &case.modes {
            planned += 1;
            let o = run(&mut imgsig_cmd(mode, case, &layout));
            *runs.entry(mode).or_default() += 1;
            let got = o.status.code();
            check_document(&tables, mode, case, &o, &mut shapes);
            row.push(format!(
                "{}={}",
                mode.name(),
                got.map_or("signal".into(), |c| c.to_string())
            ));
            if got != Some(want) {
                disagreements.push(format!(
                    "{} | {} | expected exit {want} ({source}) | got {} | {}",
                    case.name,
                    mode.name(),
                    got.map_or("a signal".into(), |c| c.to_string()),
                    first_lines(&o)
                ));
            }
        }
        eprintln!("{:<62} {source:<26} {}", case.name, row.join(" "));
    }

    // Not vacuous: skopeo said both yes and no, and every mode ran where it applies.
    let accepted = skopeo_verdicts.iter().filter(|v| **v).count();
    assert!(
        accepted >= 5 && skopeo_verdicts.len() - accepted >= 5,
        "skopeo accepted {accepted} of {} cases",
        skopeo_verdicts.len()
    );
    assert_eq!(runs.values().sum::<usize>(), planned);
    // Every run's document was checked against the docs.
    assert_eq!(shapes, runs, "documents checked per mode");
    for mode in ALL_MODES {
        assert!(
            runs.get(&mode).copied().unwrap_or(0) >= 10,
            "mode {} ran {:?} times",
            mode.name(),
            runs.get(&mode)
        );
    }
    eprintln!(
        "{} cases, {planned} imgsig runs ({})",
        cases.len(),
        runs.iter()
            .map(|(m, n)| format!("{} {n}", m.name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        disagreements.is_empty(),
        "{} of {planned} runs disagree (case | mode | expected | got | imgsig output):\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}
