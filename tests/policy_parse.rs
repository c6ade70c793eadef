//! containers-policy.json parsing (`imgsig::policy::parse`): the reference
//! fixture, mutations of every policy object (each must fail at the right JSON
//! path and line:column, see `policy_parse/mutations.rs`), several problems at
//! once, the containers-policy.json(5) examples, and key loading.

use std::path::{Path, PathBuf};

use base64::Engine;
use imgsig::policy::{
    parse, KeySource, KeyType, ParseOptions, Policy, PolicyError, Problem, Requirement, Scope, SignedBy, SignedIdentity,
};

#[path = "policy_parse/mutations.rs"]
mod mutations;

const KEY_A: &str = "08CD26E446E2E95249B7A405E932F44B23E8DD43";
const KEY_P: &str = "F2B501009F78B0B340221A12A3CD242DA6028093";
const KEY_S: &str = "B9F4CDB9FD8C475BFA340AC38D54A947EE396F36";
const KEY_R: &str = "6D88C5A1993648A17B2BB0DC6B8499AF63388D63";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/reference/fixtures/signature")
        .join(name)
}

/// Parses `doc`, which must be valid.
#[track_caller]
pub fn ok(doc: &str) -> Policy {
    parse(doc.as_bytes(), &ParseOptions::default()).unwrap_or_else(|e| panic!("rejected:\n{doc}\n{e}"))
}

/// Parses `doc`, which must be invalid, and returns its problems.
#[track_caller]
pub fn problems(doc: &str) -> Vec<Problem> {
    match parse(doc.as_bytes(), &ParseOptions::default()) {
        Ok(_) => panic!("accepted:\n{doc}"),
        Err(e) => {
            assert_eq!(e.to_string().lines().count(), e.problems().len(), "{e}");
            e.problems().to_vec()
        }
    }
}

/// 1-based line and character column of byte `offset` in `doc`.
pub fn line_col(doc: &str, offset: usize) -> (usize, usize) {
    let before = &doc[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

fn only_requirement(p: &Policy) -> &Requirement {
    assert_eq!(p.default.len(), 1);
    &p.default[0]
}

#[track_caller]
fn signed_by(r: &Requirement) -> &SignedBy {
    match r {
        Requirement::SignedBy(s) => s,
        other => panic!("not signedBy: {other:?}"),
    }
}

fn scope<'p>(p: &'p Policy, transport: &str, scope: &str) -> &'p Scope {
    let t = p.transports.iter().find(|t| t.name == transport).expect("transport");
    t.scopes.iter().find(|s| s.scope == scope).expect("scope")
}

fn types(reqs: &[Requirement]) -> Vec<&'static str> {
    reqs.iter().map(Requirement::type_name).collect()
}

#[test]
fn reference_fixture_policy_parses() {
    let path = fixture("policy.json");
    let bytes = std::fs::read(&path).unwrap();
    let opts = ParseOptions {
        source: Some(path.clone()),
    };
    let p = parse(&bytes, &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.source.as_deref(), Some(path.as_path()));
    assert_eq!(types(&p.default), ["reject"]);
    let names: Vec<&str> = p.transports.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["dir", "docker"]);
    assert_eq!(p.transports[0].scopes.len(), 1);
    assert_eq!(types(&scope(&p, "dir", "").requirements), ["insecureAcceptAnything"]);

    let docker: Vec<(&str, Vec<&str>)> = p.transports[1]
        .scopes
        .iter()
        .map(|s| (s.scope.as_str(), types(&s.requirements)))
        .collect();
    let expected: &[(&str, &[&str])] = &[
        ("example.com/playground", &["insecureAcceptAnything"]),
        ("example.com/production", &["signedBy"]),
        ("example.com/hardened", &["signedBy", "signedBy", "signedBaseLayer"]),
        ("example.com/hardened-x509", &["signedBy", "signedBy"]),
        ("registry.access.redhat.com", &["signedBy"]),
        ("registry.redhat.io/beta", &["signedBy"]),
        ("private-mirror:5000/vendor-mirror", &["signedBy"]),
        ("*.access.redhat.com", &["signedBy"]),
        ("*.redhat.com", &["signedBy"]),
        ("*.com", &["signedBy"]),
        ("bogus/key-data-example", &["signedBy"]),
        ("bogus/signed-identity-example", &["signedBaseLayer"]),
        ("example.com/sigstore/key-data-example", &["sigstoreSigned"]),
        ("example.com/sigstore/key-path-example", &["sigstoreSigned"]),
    ];
    assert_eq!(docker.len(), expected.len());
    for ((scope, types), (want_scope, want_types)) in docker.iter().zip(expected) {
        assert_eq!((scope, types.as_slice()), (want_scope, *want_types));
    }

    // GPGKeys: the (fake) key file is read, fails, and the failure is kept for evaluation.
    let prod = signed_by(&scope(&p, "docker", "example.com/production").requirements[0]);
    assert_eq!(prod.key_type, KeyType::GpgKeys);
    assert_eq!(prod.signed_identity, SignedIdentity::MatchRepoDigestOrExact);
    assert_eq!(
        prod.key_source,
        KeySource::Path {
            written: "/keys/employee-gpg-keyring".into(),
            resolved: "/keys/employee-gpg-keyring".into()
        }
    );
    assert!(prod.keys.keyring.is_empty());
    assert_eq!(prod.keys.errors.len(), 1);
    assert!(
        prod.keys.errors[0].contains("\"/keys/employee-gpg-keyring\""),
        "{:?}",
        prod.keys.errors
    );

    let hardened = &scope(&p, "docker", "example.com/hardened").requirements;
    assert_eq!(signed_by(&hardened[0]).signed_identity, SignedIdentity::MatchRepository);
    let sb = signed_by(&hardened[1]);
    assert_eq!(
        (sb.key_type, &sb.signed_identity),
        (KeyType::SignedByGpgKeys, &SignedIdentity::MatchExact)
    );
    // Unimplemented key types are never read (c/image fails them before loading keys).
    assert!(sb.keys.errors.is_empty() && sb.keys.keyring.is_empty());
    let x509 = &scope(&p, "docker", "example.com/hardened-x509").requirements;
    assert_eq!(signed_by(&x509[0]).key_type, KeyType::X509Certificates);
    assert_eq!(signed_by(&x509[1]).key_type, KeyType::SignedByX509Cas);

    let beta = signed_by(&scope(&p, "docker", "registry.redhat.io/beta").requirements[0]);
    let KeySource::Paths(paths) = &beta.key_source else {
        panic!("{:?}", beta.key_source)
    };
    assert_eq!(paths.len(), 2);
    assert_eq!(beta.keys.errors.len(), 2, "{:?}", beta.keys.errors);

    let mirror = signed_by(&scope(&p, "docker", "private-mirror:5000/vendor-mirror").requirements[0]);
    assert_eq!(
        mirror.signed_identity,
        SignedIdentity::RemapIdentity {
            prefix: "private-mirror:5000/vendor-mirror".into(),
            signed_prefix: "vendor.example.com".into()
        }
    );
    let data = signed_by(&scope(&p, "docker", "bogus/key-data-example").requirements[0]);
    assert_eq!(
        (data.key_type, &data.key_source),
        (KeyType::SignedByGpgKeys, &KeySource::Data)
    );
}

#[test]
fn several_problems_are_reported_at_once_in_document_order() {
    let doc = r#"{
  "default": [{"type": "reject", "extra": true}],
  "transports": {
    "docker": {
      "example.com/ns": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": 17}],
      "example.com/empty": []
    },
    "dir": {"relative/dir": [{"type": "insecureAcceptAnything"}]},
    "atomic": {"": [{"type": "signedBy", "keyType": "PGP", "keyData": "%%%",
                     "signedIdentity": {"type": "exactReference", "dockerReference": "busybox"}}]}
  },
  "bogus": 1
}"#;
    let e = parse(doc.as_bytes(), &ParseOptions::default()).unwrap_err();
    assert!(matches!(e, PolicyError::Invalid(_)));
    let got: Vec<(&str, (usize, usize))> = e
        .problems()
        .iter()
        .map(|p| (p.path.as_str(), (p.line, p.column)))
        .collect();
    let at = |needle: &str| line_col(doc, doc.find(needle).unwrap());
    let expected = vec![
        ("default[0].extra", at("\"extra\"")),
        (r#"transports.docker["example.com/ns"][0].keyPath"#, at("17")),
        (r#"transports.docker["example.com/empty"]"#, at("[]")),
        (r#"transports.dir["relative/dir"]"#, at("\"relative/dir\"")),
        (r#"transports.atomic[""][0].keyType"#, at("\"PGP\"")),
        (r#"transports.atomic[""][0].keyData"#, at("\"%%%\"")),
        (
            r#"transports.atomic[""][0].signedIdentity.dockerReference"#,
            at("\"busybox\""),
        ),
        ("bogus", at("\"bogus\"")),
    ];
    assert_eq!(got, expected, "{e}");
    let text = e.to_string();
    assert_eq!(text.lines().count(), 8);
    assert!(
        text.lines().nth(1).unwrap().starts_with(
            r#"transports.docker["example.com/ns"][0].keyPath (line 5, column 80): must be a string, not a number"#
        ),
        "{text}"
    );
}

/// The examples of containers-policy.json(5) (c/image docs, current), with
/// the `/* */` comments and a trailing comma the page itself warns about removed.
#[test]
fn man_page_examples_parse() {
    let locked_down = r#"{
    "default": [{"type": "reject"}],
    "transports": {
        "docker": {
            "docker.io/openshift": [{"type": "insecureAcceptAnything"}],
            "docker.io/library/busybox": [{"type": "insecureAcceptAnything"}],
            "*.temporary-project.example.com": [{"type": "insecureAcceptAnything"}],
            "hostname:5000/myns/sigstore-signed-with-full-references": [
                {"type": "sigstoreSigned", "keyPath": "/path/to/sigstore-pubkey.pub"}
            ],
            "hostname:5000/myns/sigstore-signed-fulcio-rekor": [
                {
                    "type": "sigstoreSigned",
                    "fulcio": {
                        "caPath": "/path/to/fulcio_v1.crt.pem",
                        "oidcIssuer": "https://github.com/login/oauth",
                        "subjectEmail": "test-user@example.com"
                    },
                    "rekorPublicKeyPath": "/path/to/rekor.pub"
                }
            ],
            "hostname:5000/myns/sigstore-signed-allows-malicious-tag-substitution": [
                {
                    "type": "sigstoreSigned",
                    "keyPath": "/path/to/sigstore-pubkey.pub",
                    "signedIdentity": {"type": "matchRepository"}
                }
            ],
            "hostname:5000/myns/sigstore-signed-fulcio-rekor- allows-malicious-tag-substitution": [
                {
                    "type": "sigstoreSigned",
                    "fulcio": {
                        "caPath": "/path/to/fulcio_v1.crt.pem",
                        "oidcIssuer": "https://github.com/login/oauth",
                        "subjectEmail": "test-user@example.com"
                    },
                    "rekorPublicKeyPath": "/path/to/rekor.pub",
                    "signedIdentity": { "type": "matchRepository" }
                }
            ]
        },
        "dir": {
            "": [{"type": "insecureAcceptAnything"}]
        },
        "atomic": {
            "hostname:5000/myns/official": [
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/path/to/official-pubkey.gpg"}
            ],
            "hostname:5000/vendor/product": [
                {
                    "type": "signedBy",
                    "keyType": "GPGKeys",
                    "keyPath": "/path/to/vendor-pubkey.gpg",
                    "signedIdentity": {
                        "type": "exactRepository",
                        "dockerRepository": "vendor-hostname/product/repository"
                    }
                },
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/path/to/reviewer-pubkey.gpg"}
            ],
            "private-mirror:5000/vendor-mirror": [
                {
                    "type": "signedBy",
                    "keyType": "GPGKeys",
                    "keyPath": "/path/to/vendor-pubkey.gpg",
                    "signedIdentity": {
                        "type": "remapIdentity",
                        "prefix": "private-mirror:5000/vendor-mirror",
                        "signedPrefix": "vendor.example.com"
                    }
                }
            ]
        }
    }
}"#;
    let p = ok(locked_down);
    assert_eq!(
        p.transports.iter().map(|t| t.scopes.len()).collect::<Vec<_>>(),
        [7, 1, 3]
    );
    let vendor = &scope(&p, "atomic", "hostname:5000/vendor/product").requirements;
    let SignedIdentity::ExactRepository(r) = &signed_by(&vendor[0]).signed_identity else {
        panic!()
    };
    assert_eq!(r.to_string(), "docker.io/vendor-hostname/product/repository");

    let p = ok(r#"{"default": [{"type": "insecureAcceptAnything"}]}"#);
    assert!(p.transports.is_empty());
    // skopeo's default-policy.json
    let p = ok(concat!(
        r#"{"default":[{"type":"insecureAcceptAnything"}],"#,
        r#""transports":{"docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}"#
    ));
    assert_eq!(p.transports[0].name, "docker-daemon");
    // The signedBy syntax block (one key source at a time) and the identity list.
    for source in [
        r#""keyPath": "/path/to/local/keyring/file""#,
        r#""keyPaths": ["/path/to/local/keyring/file1", "/path/to/local/keyring/file2"]"#,
        r#""keyData": "YmFzZTY0LWVuY29kZWQta2V5cmluZy1kYXRh""#,
    ] {
        for identity in [
            r#"{"type":"matchExact"}"#,
            r#"{"type":"matchRepoDigestOrExact"}"#,
            r#"{"type":"matchRepository"}"#,
            r#"{"type": "exactReference", "dockerReference": "docker.io/library/busybox:latest"}"#,
            r#"{"type": "exactRepository", "dockerRepository": "docker.io/library/busybox"}"#,
            r#"{"type": "remapIdentity", "prefix": "docker.io/library", "signedPrefix": "example.com/mirror"}"#,
        ] {
            ok(&format!(
                r#"{{"default": [{{"type": "signedBy", "keyType": "GPGKeys", {source},
                     "signedIdentity": {identity}}}]}}"#
            ));
        }
    }
}

fn signed_by_policy(source: &str) -> String {
    format!(r#"{{"default": [{{"type": "signedBy", "keyType": "GPGKeys", {source}}}]}}"#)
}

#[track_caller]
fn keys_of(source: &str) -> SignedBy {
    let p = ok(&signed_by_policy(source));
    signed_by(only_requirement(&p)).clone()
}

fn path_json(p: &Path) -> String {
    serde_json::to_string(p.to_str().unwrap()).unwrap()
}

#[test]
fn keys_load_from_armored_and_binary_keyrings() {
    for (file, want) in [
        ("public-key.gpg", vec![KEY_A]),
        ("public-key-1.gpg", vec![KEY_A]),
        ("pubring.gpg", vec![KEY_P, KEY_A, KEY_S, KEY_R]),
    ] {
        let path = fixture(file);
        let sb = keys_of(&format!(r#""keyPath": {}"#, path_json(&path)));
        assert!(sb.keys.errors.is_empty(), "{file}: {:?}", sb.keys.errors);
        let mut got = sb.keys.keyring.fingerprints();
        let mut want: Vec<String> = want.into_iter().map(str::to_owned).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{file}");
        let written = path.to_str().unwrap().to_owned();
        assert_eq!(
            sb.key_source,
            KeySource::Path {
                written,
                resolved: path
            }
        );
    }
}

#[test]
fn key_data_is_base64_of_a_keyring() {
    let b64 = base64::engine::general_purpose::STANDARD;
    for file in ["public-key.gpg", "public-key-1.gpg"] {
        let encoded = b64.encode(std::fs::read(fixture(file)).unwrap());
        let sb = keys_of(&format!(r#""keyData": "{encoded}""#));
        assert_eq!(sb.key_source, KeySource::Data);
        assert!(sb.keys.errors.is_empty(), "{:?}", sb.keys.errors);
        assert_eq!(sb.keys.keyring.fingerprints(), [KEY_A]);
        // `base64` wraps at 76 columns; Go (and so c/image) skips the line breaks.
        let wrapped: Vec<String> = encoded
            .as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let sb = keys_of(&format!(r#""keyData": "{}""#, wrapped.join("\\n")));
        assert_eq!(sb.keys.keyring.fingerprints(), [KEY_A]);
    }
    // Valid base64 of something that is not a key: parses, imports nothing (as
    // gpgme), is reported as a warning; the requirement will reject with no-keys.
    let sb = keys_of(r#""keyData": "bm9uc2Vuc2U=""#);
    assert!(sb.keys.keyring.is_empty() && sb.keys.errors.is_empty());
    assert!(
        sb.keys.warnings[0].starts_with("keyData holds no usable"),
        "{:?}",
        sb.keys.warnings
    );
    let sb = keys_of(r#""keyData": """#);
    assert!(sb.keys.keyring.is_empty() && !sb.keys.warnings.is_empty());
}

#[test]
fn key_paths_are_a_union_and_copies_merge() {
    let (a, p, a_bin) = (
        fixture("public-key.gpg"),
        fixture("public-key-2.gpg"),
        fixture("public-key-1.gpg"),
    );
    let sb = keys_of(&format!(r#""keyPaths": [{}, {}]"#, path_json(&a), path_json(&p)));
    let mut got = sb.keys.keyring.fingerprints();
    got.sort();
    assert_eq!(got, [KEY_A, KEY_P]);
    assert!(sb.keys.errors.is_empty());
    let KeySource::Paths(paths) = &sb.key_source else {
        panic!()
    };
    assert_eq!(paths[1], (p.to_str().unwrap().to_owned(), p.clone()));

    let sb = keys_of(&format!(r#""keyPaths": [{}, {}]"#, path_json(&a), path_json(&a_bin)));
    assert_eq!(sb.keys.keyring.fingerprints(), [KEY_A]);

    // c/image accepts an empty list at parse time; evaluation finds no keys.
    let sb = keys_of(r#""keyPaths": []"#);
    assert_eq!(sb.key_source, KeySource::Paths(vec![]));
    assert!(sb.keys.keyring.is_empty() && sb.keys.errors.is_empty());
}

#[test]
fn unusable_key_files_are_recorded_not_policy_problems() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.gpg");
    let sb = keys_of(&format!(r#""keyPath": {}"#, path_json(&missing)));
    assert!(sb.keys.keyring.is_empty());
    assert_eq!(sb.keys.errors.len(), 1);
    assert!(
        sb.keys.errors[0].contains(missing.to_str().unwrap()),
        "{:?}",
        sb.keys.errors
    );
    assert!(sb.keys.errors[0].contains("cannot read it"), "{:?}", sb.keys.errors);

    // A readable file that holds no key among good ones: the good keys load, the
    // bad file imports nothing and is a warning (containers/image with gpgme
    // ignores it), not an error that would make the requirement reject.
    let garbage = dir.path().join("garbage.gpg");
    std::fs::write(&garbage, "this is not a key\n").unwrap();
    let sb = keys_of(&format!(
        r#""keyPaths": [{}, {}]"#,
        path_json(&fixture("public-key.gpg")),
        path_json(&garbage)
    ));
    assert_eq!(sb.keys.keyring.fingerprints(), [KEY_A]);
    assert!(sb.keys.errors.is_empty(), "{:?}", sb.keys.errors);
    assert_eq!(sb.keys.warnings.len(), 1, "{:?}", sb.keys.warnings);
    assert!(sb.keys.warnings[0].contains("garbage.gpg"));
    // An unreadable file next to a good one still fails the requirement.
    let sb = keys_of(&format!(
        r#""keyPaths": [{}, {}]"#,
        path_json(&fixture("public-key.gpg")),
        path_json(&missing)
    ));
    assert_eq!(sb.keys.errors.len(), 1, "{:?}", sb.keys.errors);

    let huge = dir.path().join("huge.gpg");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    let sb = keys_of(&format!(r#""keyPath": {}"#, path_json(&huge)));
    assert!(sb.keys.errors[0].contains("limit"), "{:?}", sb.keys.errors);

    let sb = keys_of(&format!(r#""keyPath": {}"#, path_json(dir.path())));
    assert!(sb.keys.errors[0].contains("not a regular file"), "{:?}", sb.keys.errors);
}

#[test]
fn relative_key_paths_resolve_against_the_working_directory() {
    // c/image passes keyPath to os.ReadFile: relative to the process's working
    // directory, not to the policy file. (cargo runs this test in the package root.)
    let written = "../shared/reference/fixtures/signature/public-key.gpg";
    let doc = signed_by_policy(&format!(r#""keyPath": "{written}""#));
    let opts = ParseOptions {
        source: Some(PathBuf::from("/nonexistent/etc/containers/policy.json")),
    };
    let p = parse(doc.as_bytes(), &opts).unwrap();
    let sb = signed_by(only_requirement(&p));
    let resolved = std::env::current_dir().unwrap().join(written);
    assert_eq!(
        sb.key_source,
        KeySource::Path {
            written: written.into(),
            resolved
        }
    );
    assert!(sb.keys.errors.is_empty(), "{:?}", sb.keys.errors);
    assert_eq!(sb.keys.keyring.fingerprints(), [KEY_A]);

    let sb = keys_of(r#""keyPaths": ["no-such-relative-file.gpg"]"#);
    assert!(sb.keys.errors[0].contains("(resolved to "), "{:?}", sb.keys.errors);
}

#[test]
fn only_gpg_keys_are_read() {
    let existing = path_json(&fixture("public-key.gpg"));
    for key_type in ["signedByGPGKeys", "X509Certificates", "signedByX509CAs"] {
        let doc = format!(r#"{{"default": [{{"type": "signedBy", "keyType": "{key_type}", "keyPath": {existing}}}]}}"#);
        let p = ok(&doc);
        let sb = signed_by(only_requirement(&p));
        assert!(sb.keys.keyring.is_empty() && sb.keys.errors.is_empty(), "{key_type}");
    }
}
