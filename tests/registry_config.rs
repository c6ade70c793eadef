//! Registry configuration files: containers-auth.json(5) credentials (the reference fixtures in
//! `shared/reference/fixtures/auth/`, replayed with the lookups c/image's `config_test.go` expects).
//! containers-certs.d(5) TLS material is private to the library; its tests are
//! `src/registry/certs_d/dir_tests.rs`.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use imgsig::reference::DockerReference;
use imgsig::registry::auth_file::{parse_creds, AuthEnv, AuthError, AuthFile, AuthSources, Credential, HelperRequest};
use imgsig::registry::HelperError;
use tempfile::TempDir;

// ---- helpers -----------------------------------------------------------------------------------

fn auth_fixture(name: &str) -> PathBuf {
    common::fixture(&format!("auth/{name}"))
}

fn only(path: impl Into<PathBuf>, legacy: bool) -> AuthSources {
    AuthSources {
        files: vec![AuthFile {
            path: path.into(),
            legacy,
        }],
    }
}

fn basic(username: &str, password: &str) -> Credential {
    Credential::Basic {
        username: username.into(),
        password: password.into(),
    }
}

fn image(s: &str) -> DockerReference {
    DockerReference::parse_normalized(s).unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
    path.to_owned()
}

/// The whole error chain, as the CLI prints it.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn check_keys(sources: &AuthSources, cases: &[(&str, Credential)]) {
    for (key, want) in cases {
        assert_eq!(&sources.lookup_key(key).unwrap(), want, "key {key:?}");
    }
}

// ---- auth.json: the reference fixtures -------------------------------------------------------

#[test]
fn fixture_example_json() {
    let s = only(auth_fixture("example.json"), false);
    check_keys(
        &s,
        &[
            ("example.org", basic("example", "org")),
            ("registry.example.org", Credential::None),
            ("", Credential::None),
        ],
    );
    assert_eq!(
        s.lookup(&image("example.org/ns/repo:tag")).unwrap(),
        basic("example", "org")
    );
    let found = s.find(&image("example.org/repo")).unwrap().unwrap();
    assert_eq!(
        (found.file, found.key.as_str()),
        (auth_fixture("example.json"), "example.org")
    );
}

#[test]
fn fixture_full_json() {
    let s = only(auth_fixture("full.json"), false);
    check_keys(
        &s,
        &[
            ("docker.io", basic("docker", "io")),
            ("index.docker.io", basic("index", "docker.io")),
            ("normalize.example.org", basic("normalize", "example")),
            ("localhost", basic("local", "host")),
            ("localhost:5000", basic("local", "host-5000")),
            ("10.10.30.45", basic("10.10", "30.45")),
            ("10.10.30.45:5000", basic("10.10", "30.45-5000")),
            ("example.org", basic("example", "org")),
            // Both "index.docker.io" and "docker.io" normalise to this; Go's map order makes the pick
            // random, imgsig takes the first in the file.
            ("registry-1.docker.io", basic("index", "docker.io")),
        ],
    );
    assert_eq!(s.lookup(&image("busybox")).unwrap(), basic("docker", "io"));
}

#[test]
fn fixture_abnormal_json_odd_keys() {
    let s = only(auth_fixture("abnormal.json"), false);
    check_keys(
        &s,
        &[
            ("docker.io", basic("index", "docker.io")), // "https://index.docker.io/v1"
            ("example.org", basic("example", "org")),
            ("localhost:5000", basic("local", "host-5000")),
            ("localhost", basic("local", "host")),           // "http://localhost"
            ("localhost:5001", basic("local", "host-5001")), // "https://localhost:5001"
            ("127.0.0.1:5000", basic("127.0", "0.1-5000")),  // "https://127.0.0.1:5000"
            ("127.0.0.1", Credential::None),
        ],
    );
    assert_eq!(
        s.lookup(&image("library/busybox:1")).unwrap(),
        basic("index", "docker.io")
    );
}

#[test]
fn fixture_refpath_json_per_repository_keys() {
    let s = only(auth_fixture("refpath.json"), false);
    check_keys(
        &s,
        &[
            ("example.org/repo/image", basic("example", "org")),
            ("example.org/repo", basic("example", "org")),
            ("example.org/image", basic("local", "host")),
            ("docker.io/library/busybox", basic("library", "busybox")),
            ("docker.io/library/notbusybox", basic("library", "other")),
            ("docker.io/vendor/product", basic("first", "level")),
            ("docker.io/vendor", basic("first", "level")),
            ("docker.io/other-vendor/other-product", basic("top", "level")),
        ],
    );
    assert_eq!(s.lookup(&image("busybox:latest")).unwrap(), basic("library", "busybox"));
    assert_eq!(s.lookup(&image("alpine")).unwrap(), basic("library", "other"));
    let digested = format!("vendor/product@sha256:{}", "a".repeat(64));
    assert_eq!(s.lookup(&image(&digested)).unwrap(), basic("first", "level"));
    assert_eq!(
        s.lookup(&image("example.org/repo/deeper/image:1")).unwrap(),
        basic("example", "org")
    );
}

#[test]
fn fixture_legacy_json_as_dockercfg() {
    let home = TempDir::new().unwrap();
    fs::copy(auth_fixture("legacy.json"), home.path().join(".dockercfg")).unwrap();
    let env = AuthEnv {
        home: Some(home.path().to_owned()),
        xdg_runtime_dir: Some(home.path().join("run")), // does not exist: skipped
        ..AuthEnv::default()
    };
    let s = AuthSources::standard(&env);
    check_keys(
        &s,
        &[
            ("localhost", basic("local", "host-legacy")),      // "https://localhost/v1"
            ("docker.io", basic("docker", "io-legacy")),       // "http://index.docker.io/v1"
            ("index.docker.io", basic("docker", "io-legacy")), // same key
            ("example.org", Credential::None),
        ],
    );
    assert_eq!(s.lookup(&image("busybox")).unwrap(), basic("docker", "io-legacy"));
    // Read as auth.json instead, the legacy file has no "auths": nothing.
    assert_eq!(
        only(auth_fixture("legacy.json"), false)
            .lookup_key("localhost")
            .unwrap(),
        Credential::None
    );
}

#[test]
fn fixture_example_identitytoken_json() {
    let s = only(auth_fixture("example_identitytoken.json"), false);
    let want = Credential::IdentityToken {
        username: "00000000-0000-0000-0000-000000000000".into(),
        token: "some very long identity token".into(),
    };
    assert_eq!(s.lookup_key("example.org").unwrap(), want);
    assert_eq!(s.lookup(&image("example.org/a/b")).unwrap(), want);
}

#[test]
fn new_config_beats_legacy_dockercfg() {
    let home = TempDir::new().unwrap();
    write(
        &home.path().join(".docker/config.json"),
        fs::read(auth_fixture("full.json")).unwrap(),
    );
    fs::copy(auth_fixture("legacy.json"), home.path().join(".dockercfg")).unwrap();
    let s = AuthSources::standard(&AuthEnv {
        home: Some(home.path().to_owned()),
        xdg_runtime_dir: Some(home.path().join("run")),
        ..AuthEnv::default()
    });
    assert_eq!(s.lookup_key("docker.io").unwrap(), basic("docker", "io"));
}

// ---- auth.json: search order and precedence ---------------------------------------------------

#[test]
fn standard_search_order() {
    let p = PathBuf::from;
    let file = |path: &str, legacy| AuthFile {
        path: PathBuf::from(path),
        legacy,
    };
    let full = AuthEnv {
        authfile: None,
        xdg_runtime_dir: Some(p("/run/user/1000")),
        xdg_config_home: Some(p("/cfg")),
        home: Some(p("/home/u")),
        docker_config: Some(p("/dockercfg")),
        uid: 1000,
    };
    let primary = if cfg!(target_os = "linux") {
        "/run/user/1000/containers/auth.json"
    } else {
        "/home/u/.config/containers/auth.json"
    };
    assert_eq!(
        AuthSources::standard(&full).files,
        [
            file(primary, false),
            file("/cfg/containers/auth.json", false),
            file("/dockercfg/config.json", false),
            file("/home/u/.dockercfg", true),
        ]
    );
    let defaults = AuthEnv {
        xdg_runtime_dir: Some(p("")), // empty counts as unset
        home: Some(p("/home/u")),
        uid: 1000,
        ..AuthEnv::default()
    };
    let files = AuthSources::standard(&defaults).files;
    if cfg!(target_os = "linux") {
        assert_eq!(files[0], file("/run/containers/1000/auth.json", false));
    }
    assert_eq!(
        files[1..],
        [
            file("/home/u/.config/containers/auth.json", false),
            file("/home/u/.docker/config.json", false),
            file("/home/u/.dockercfg", true),
        ]
    );
    // An explicit file (--authfile / REGISTRY_AUTH_FILE) is the only one read.
    let explicit = AuthEnv {
        authfile: Some(p("/tmp/mine.json")),
        ..full.clone()
    };
    assert_eq!(AuthSources::standard(&explicit).files, [file("/tmp/mine.json", false)]);
}

#[test]
fn explicit_authfile_excludes_the_others() {
    let home = TempDir::new().unwrap();
    write(
        &home.path().join(".docker/config.json"),
        fs::read(auth_fixture("example.json")).unwrap(),
    );
    let env = AuthEnv {
        home: Some(home.path().to_owned()),
        xdg_runtime_dir: Some(home.path().join("run")),
        ..AuthEnv::default()
    };
    assert_eq!(
        AuthSources::standard(&env).lookup_key("example.org").unwrap(),
        basic("example", "org")
    );
    let explicit = AuthEnv {
        authfile: Some(home.path().join("missing.json")),
        ..env
    };
    assert_eq!(
        AuthSources::standard(&explicit).lookup_key("example.org").unwrap(),
        Credential::None
    );
}

#[test]
fn first_file_with_credentials_wins() {
    let t = TempDir::new().unwrap();
    let root = t.path();
    let auths = |entries: &[(&str, &str)]| {
        let map: serde_json::Map<_, _> = entries
            .iter()
            .map(|(k, auth)| (k.to_string(), serde_json::json!({ "auth": auth })))
            .collect();
        serde_json::json!({ "auths": map }).to_string()
    };
    write(
        &root.join("run/containers/auth.json"),
        auths(&[("example.org", &b64("run:time")), ("ghcr.io", "")]),
    );
    write(
        &root.join("cfg/containers/auth.json"),
        auths(&[("example.org/repo", &b64("cfg:home")), ("quay.io", &b64("cfg:quay"))]),
    );
    write(
        &root.join("docker/config.json"),
        auths(&[("quay.io", &b64("docker:quay")), ("ghcr.io", &b64("docker:ghcr"))]),
    );
    write(
        &root.join("home/.dockercfg"),
        serde_json::json!({ "https://gitlab.example/v1/": { "auth": b64("leg:acy") } }).to_string(),
    );
    let s = AuthSources::standard(&AuthEnv {
        xdg_runtime_dir: Some(root.join("run")),
        xdg_config_home: Some(root.join("cfg")),
        docker_config: Some(root.join("docker")),
        home: Some(root.join("home")),
        ..AuthEnv::default()
    });
    // File order beats key specificity: the host key of the first file wins over a repo key later.
    assert_eq!(s.lookup(&image("example.org/repo:1")).unwrap(), basic("run", "time"));
    assert_eq!(s.lookup(&image("quay.io/x/y")).unwrap(), basic("cfg", "quay"));
    // An empty entry (Docker's credential-helper marker) sends the search to the next file.
    assert_eq!(s.lookup(&image("ghcr.io/x")).unwrap(), basic("docker", "ghcr"));
    assert_eq!(s.lookup(&image("gitlab.example/g/p")).unwrap(), basic("leg", "acy"));
    assert_eq!(s.lookup(&image("other.example/x")).unwrap(), Credential::None);
    let found = s.find(&image("gitlab.example/g/p")).unwrap().unwrap();
    assert_eq!(
        (found.file, found.key.as_str()),
        (root.join("home/.dockercfg"), "https://gitlab.example/v1/")
    );
}

#[test]
fn first_matching_key_decides_its_file() {
    let t = TempDir::new().unwrap();
    let a = write(
        &t.path().join("a.json"),
        format!(
            r#"{{"auths":{{"example.org/repo":{{"auth":""}},"example.org":{{"auth":"{}"}}}}}}"#,
            b64("a:host")
        ),
    );
    let b = write(
        &t.path().join("b.json"),
        format!(r#"{{"auths":{{"example.org":{{"auth":"{}"}}}}}}"#, b64("b:host")),
    );
    let s = AuthSources {
        files: vec![AuthFile { path: a, legacy: false }, AuthFile { path: b, legacy: false }],
    };
    // The empty repo key ends the search in a.json; its host key is not consulted, b.json is.
    assert_eq!(s.lookup(&image("example.org/repo")).unwrap(), basic("b", "host"));
    assert_eq!(s.lookup(&image("example.org/other")).unwrap(), basic("a", "host"));
}

// ---- auth.json: parsing and decoding -------------------------------------------------------------

fn one_file(contents: &str) -> (TempDir, AuthSources) {
    let t = TempDir::new().unwrap();
    let path = write(&t.path().join("auth.json"), contents);
    (t, only(path, false))
}

#[test]
fn parsing_follows_go_encoding_json() {
    let auth = b64("u:p");
    // Field names match case-insensitively; unknown keys are ignored.
    let (_t, s) = one_file(&format!(
        r#"{{"Auths":{{"example.org":{{"AUTH":"{auth}","email":"x@y"}}}},"credsStore":"desktop","HttpHeaders":{{}}}}"#
    ));
    assert_eq!(s.lookup_key("example.org").unwrap(), basic("u", "p"));
    // Go folds field names with ToUpper(ToLower(r)): the long s (U+017F) matches "s".
    let (_t, s) = one_file(&format!(r#"{{"auth\u017f":{{"example.org":{{"auth":"{auth}"}}}}}}"#));
    assert_eq!(s.lookup_key("example.org").unwrap(), basic("u", "p"));
    // Repeated "auths" objects are merged; a repeated entry keeps the last value.
    let (_t, s) = one_file(&format!(
        r#"{{"auths":{{"a.example":{{"auth":"{auth}"}}}},"auths":{{"b.example":{{"auth":"eDp5"}},"b.example":{{"auth":"{auth}"}}}}}}"#
    ));
    assert_eq!(s.lookup_key("a.example").unwrap(), basic("u", "p"));
    assert_eq!(s.lookup_key("b.example").unwrap(), basic("u", "p"));
    // null is tolerated everywhere.
    for doc in [
        "null",
        r#"{"auths":null}"#,
        r#"{"auths":{"example.org":null}}"#,
        r#"{"auths":{"example.org":{"auth":null}}}"#,
        "{}",
        " {} \n",
    ] {
        let (_t, s) = one_file(doc);
        assert_eq!(s.lookup_key("example.org").unwrap(), Credential::None, "{doc}");
    }
}

#[test]
fn invalid_files_are_errors_naming_the_file() {
    for doc in [
        "Json rocks! Unless it doesn't.",
        "",
        "[]",
        r#"{"auths":[]}"#,
        r#"{"auths":{"example.org":{"auth":5}}}"#,
        r#"{"credHelpers":{"example.org":1}}"#,
        "{} {}",
    ] {
        let (t, s) = one_file(doc);
        let err = s.lookup_key("example.org").unwrap_err();
        assert!(matches!(err, AuthError::Parse { .. }), "{doc}: {err:?}");
        assert!(
            err.to_string()
                .contains(&t.path().join("auth.json").display().to_string()),
            "{err}"
        );
    }
    // A misplaced secret is not echoed.
    let (_t, s) = one_file(r#"{"auths":"c2VjcmV0LXZhbHVl"}"#);
    let err = s.lookup_key("example.org").unwrap_err();
    assert!(!chain(&err).contains("c2VjcmV0"), "{}", chain(&err));
    // Invalid base64 is an error; the value is not echoed.
    let (_t, s) = one_file(r#"{"auths":{"example.org":{"auth":"c2VjcmV0!!"}}}"#);
    let err = s.lookup_key("example.org").unwrap_err();
    assert!(matches!(err, AuthError::InvalidEntry { .. }), "{err:?}");
    assert!(!chain(&err).contains("c2VjcmV0"), "{}", chain(&err));
    // Too large.
    let (_t, s) = one_file(&format!(r#"{{"auths":{{}},"pad":"{}"}}"#, "x".repeat(1 << 20)));
    assert!(matches!(
        s.lookup_key("example.org").unwrap_err(),
        AuthError::TooLarge { .. }
    ));
    // A directory where the file should be.
    let t = TempDir::new().unwrap();
    let err = only(t.path(), false).lookup_key("example.org").unwrap_err();
    assert!(matches!(err, AuthError::Read { .. }), "{err:?}");
}

#[test]
fn broken_later_files_matter_only_when_reached() {
    let t = TempDir::new().unwrap();
    let good = write(
        &t.path().join("good.json"),
        fs::read(auth_fixture("example.json")).unwrap(),
    );
    let bad = write(&t.path().join("bad.json"), "I'm certainly not a json string.");
    let s = AuthSources {
        files: vec![
            AuthFile {
                path: good,
                legacy: false,
            },
            AuthFile {
                path: bad,
                legacy: true,
            },
        ],
    };
    assert_eq!(s.lookup_key("example.org").unwrap(), basic("example", "org"));
    let err = s.lookup_key("quay.io").unwrap_err();
    assert!(
        err.to_string().contains("bad.json") && err.to_string().contains("legacy"),
        "{err}"
    );
}

#[test]
fn auth_decoding_rules() {
    let entry = |auth: &str, token: &str| {
        let (t, s) = one_file(&format!(
            r#"{{"auths":{{"example.org":{{"auth":"{auth}","identitytoken":"{token}"}}}}}}"#
        ));
        let got = s.lookup_key("example.org").unwrap();
        drop(t);
        got
    };
    let raw = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
    assert_eq!(
        entry(&b64("user:pa:ss"), ""),
        basic("user", "pa:ss"),
        "split at the first ':'"
    );
    assert_eq!(entry(&raw(b"user:pass\0\0"), ""), basic("user", "pass"), "NULs trimmed");
    assert_eq!(
        entry(&raw(b"\0user:\0pass"), ""),
        basic("\0user", "pass"),
        "only the password"
    );
    assert_eq!(entry(&b64("user:"), ""), basic("user", ""));
    assert_eq!(entry(&b64(":"), ""), Credential::None, "all empty");
    assert_eq!(entry(&b64("no-colon"), ""), Credential::None);
    // Go's StdEncoding: CR/LF ignored, padding required, non-zero trailing bits accepted.
    assert_eq!(entry("dTpw\\r\\n", ""), basic("u", "p"));
    assert_eq!(entry("dTpwcR==", ""), basic("u", "pq"));
    assert!(matches!(only_err("dTpwcQ"), AuthError::InvalidEntry { .. }));
    assert_eq!(
        entry("", "tok"),
        Credential::None,
        "c/image drops a token without user:password"
    );
    assert_eq!(
        entry(&b64(":"), "tok"),
        Credential::IdentityToken {
            username: String::new(),
            token: "tok".into()
        }
    );
    assert!(matches!(only_err(&raw(b"\xff:pass")), AuthError::InvalidEntry { .. }));
}

fn only_err(auth: &str) -> AuthError {
    let (_t, s) = one_file(&format!(r#"{{"auths":{{"example.org":{{"auth":"{auth}"}}}}}}"#));
    s.lookup_key("example.org").unwrap_err()
}

#[test]
fn cred_helpers_take_precedence_in_their_file() {
    let (_t, s) = one_file(&format!(
        r#"{{"auths":{{"registry.example.com":{{"auth":"{}"}},"localhost:5001":{{}}}},
            "credHelpers":{{"registry.example.com":"secretservice","quay.io/ns":"pass"}}}}"#,
        b64("u:p")
    ));
    let helper = Credential::Helper {
        helper: "secretservice".into(),
        registry: "registry.example.com".into(),
    };
    // Helpers are keyed by registry and take precedence over "auths" in the same file.
    assert_eq!(s.lookup_key("registry.example.com").unwrap(), helper);
    assert_eq!(s.lookup(&image("registry.example.com/ns/repo:1")).unwrap(), helper);
    // Namespaced helper keys are not supported by c/image.
    assert_eq!(s.lookup(&image("quay.io/ns/repo")).unwrap(), Credential::None);
}

/// Every helper asked, and a runner answering from `answers` (helper name → answer).
fn runner<'a>(
    asked: &'a mut Vec<(String, String, bool)>,
    answers: &'a [(&'a str, Result<Credential, &'a str>)],
) -> impl FnMut(&HelperRequest<'_>) -> Result<Credential, AuthError> + 'a {
    move |h| {
        asked.push((h.helper.to_owned(), h.server.to_owned(), h.creds_store));
        let (_, answer) = answers.iter().find(|(n, _)| *n == h.helper).expect("an answer");
        answer.clone().map_err(|m| {
            AuthError::Helper(HelperError {
                program: format!("docker-credential-{}", h.helper),
                server: h.server.to_owned(),
                message: m.to_owned(),
            })
        })
    }
}

#[test]
fn helpers_not_found_go_on_to_the_next_file_and_errors_stop() {
    let t = TempDir::new().unwrap();
    let first = write(
        &t.path().join("first.json"),
        r#"{"credHelpers":{"registry.example.com":"one"},"credsStore":"store",
            "auths":{"quay.io":{"auth":"dTpw"},"docker.io":{}}}"#,
    );
    let second = write(
        &t.path().join("second.json"),
        format!(
            r#"{{"auths":{{"registry.example.com":{{"auth":"{}"}}}}}}"#,
            b64("u2:p2")
        ),
    );
    let sources = AuthSources {
        files: vec![
            AuthFile {
                path: first.clone(),
                legacy: false,
            },
            AuthFile {
                path: second.clone(),
                legacy: false,
            },
        ],
    };
    // "Not found" from the credHelpers entry: the next file answers.
    let mut asked = Vec::new();
    let answers = [("one", Ok(Credential::None))];
    let found = sources
        .find_key_with("registry.example.com/ns/app", &mut runner(&mut asked, &answers))
        .unwrap()
        .unwrap();
    assert_eq!(found.credential, basic("u2", "p2"));
    assert_eq!(found.file, second);
    assert_eq!(asked, [("one".into(), "registry.example.com".into(), false)]);

    // The helper's credentials are the answer, keyed by the registry.
    let mut asked = Vec::new();
    let answers = [("one", Ok(basic("h", "s")))];
    let found = sources
        .find_key_with("registry.example.com", &mut runner(&mut asked, &answers))
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.credential, found.file, found.key),
        (basic("h", "s"), first.clone(), "registry.example.com".into())
    );

    // A failing helper stops the search (the second file is not consulted).
    let mut asked = Vec::new();
    let answers = [("one", Err("keychain locked"))];
    let err = sources
        .find_key_with("registry.example.com", &mut runner(&mut asked, &answers))
        .unwrap_err();
    assert!(err.to_string().contains("docker-credential-one"), "{err}");
    assert!(err.to_string().contains("keychain locked"), "{err}");

    // auths credentials beat credsStore; credsStore is asked where auths has none
    // (an empty "auths" entry is docker login's marker), for Docker Hub by its v1 URL.
    let mut asked = Vec::new();
    let answers = [("store", Ok(basic("s", "t")))];
    let mut run = runner(&mut asked, &answers);
    assert_eq!(
        sources
            .find_key_with("quay.io/x", &mut run)
            .unwrap()
            .unwrap()
            .credential,
        basic("u", "p")
    );
    let found = sources
        .find_key_with("docker.io/library/busybox", &mut run)
        .unwrap()
        .unwrap();
    assert_eq!((found.credential, found.key), (basic("s", "t"), "credsStore".into()));
    assert_eq!(
        sources
            .find_key_with("other.example", &mut run)
            .unwrap()
            .unwrap()
            .credential,
        basic("s", "t")
    );
    drop(run);
    assert_eq!(
        asked,
        [
            ("store".into(), "https://index.docker.io/v1/".into(), true),
            ("store".into(), "other.example".into(), true)
        ]
    );
    // Without running anything, the entry itself is the answer.
    assert_eq!(
        sources.lookup_key("other.example").unwrap(),
        Credential::Helper {
            helper: "store".into(),
            registry: "other.example".into()
        }
    );
}

#[test]
fn lookup_keys_are_validated() {
    let s = only(auth_fixture("example.json"), false);
    for bad in [
        "https://example.org",
        "http://example.org",
        "example.org/repo@sha256",
        "example.org/repo:tag",
    ] {
        assert!(matches!(s.lookup_key(bad), Err(AuthError::InvalidKey { .. })), "{bad}");
    }
    assert_eq!(s.lookup_key("localhost:5000/foo").unwrap(), Credential::None);
}

#[test]
fn creds_flag() {
    assert_eq!(parse_creds("user:pass").unwrap(), basic("user", "pass"));
    assert_eq!(parse_creds("user:pa:ss").unwrap(), basic("user", "pa:ss"));
    assert_eq!(parse_creds("user:").unwrap(), basic("user", ""));
    for (bad, msg) in [
        ("", "can't be empty"),
        (":pass", "username can't be empty"),
        ("user", "USERNAME:"),
    ] {
        let err = parse_creds(bad).unwrap_err();
        assert!(err.to_string().contains(msg), "{bad:?}: {err}");
    }
}

#[test]
fn debug_output_hides_secrets() {
    let shown = format!(
        "{:?} {:?}",
        basic("alice", "hunter2"),
        Credential::IdentityToken {
            username: "bob".into(),
            token: "refresh-secret".into()
        }
    );
    assert!(
        shown.contains("alice") && !shown.contains("hunter2") && !shown.contains("refresh-secret"),
        "{shown}"
    );
}
