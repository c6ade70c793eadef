//! registries.d loading and lookup (containers-registries.d(5), c/image docker/registries_d.go)
//! and the local lookaside layout and store.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use imgsig::digest::Digest;
use imgsig::reference::DockerReference;
use imgsig::store::lookaside::{
    file_image_dir, image_dir, read_dir_signatures, signature_url, store_signature, write_new_file, LookasideError,
    ReadProblem, StoreOutcome, MAX_SIGNATURES, MAX_SIGNATURE_SIZE,
};
use imgsig::store::registries_d::{Access, BuiltinDefault, RegistriesD, RegistriesDError, Scope, Section};
use reqwest::Url;

const HEX: &str = "817a12c32a39bbe394944ba49de563e085f1d3c5266eb8e9723256bc4448680e";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/fixtures/registries.d")
}

fn digest() -> Digest {
    Digest::parse(&format!("sha256:{HEX}")).unwrap()
}

fn r(s: &str) -> DockerReference {
    DockerReference::parse_docker_transport(s).unwrap()
}

fn user() -> BuiltinDefault {
    BuiltinDefault {
        is_root: false,
        home: Some("/home/u".into()),
    }
}

/// The full `signature-1` URL for reading (or writing) `image`.
fn sig1(c: &RegistriesD, image: &str, access: Access) -> Result<String, RegistriesDError> {
    let r = r(image);
    let base = match access {
        Access::Read => c.read_base(&r, &user())?,
        Access::Write => c.write_base(&r, &user())?,
    };
    Ok(signature_url(&base, &r, &digest(), 1).to_string())
}

fn tail(path: &str) -> String {
    format!("{path}@sha256={HEX}/signature-1")
}

/// A temporary registries.d with the given files.
fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, contents) in files {
        fs::write(d.path().join(name), contents).unwrap();
    }
    d
}

fn load(files: &[(&str, &str)]) -> RegistriesD {
    RegistriesD::load_dir(dir_with(files).path()).unwrap()
}

fn parse(s: &str) -> Result<RegistriesD, String> {
    RegistriesD::from_yaml(s.as_bytes(), Path::new("t.yaml")).map_err(|e| e.to_string())
}

#[test]
fn fixture_lookups_match_the_reference() {
    // The directory also holds `invalid-but.notyaml` ("}"), which must be ignored, and
    // `emptyConfig.yaml` ("{}").
    let c = RegistriesD::load_dir(&fixtures()).unwrap();
    let read = |image: &str| sig1(&c, image, Access::Read).unwrap();
    let write = |image: &str| sig1(&c, image, Access::Write).unwrap();
    assert_eq!(
        read("example.com/my/project:tag"),
        tail("https://lookaside.example.com/my/project")
    );
    assert_eq!(
        write("example.com/my/project:tag"),
        tail("https://lookaside.example.com/my/project")
    );
    // Identity scope `docker.io/centos/mybetaproduct:latest`: "https://lookaside.centos.org/".
    // c/image would give a double slash after the host; see signature_url's documented exception.
    assert_eq!(
        read("docker.io/centos/mybetaproduct:latest"),
        tail("https://lookaside.centos.org/centos/mybetaproduct")
    );
    assert_eq!(
        read("docker.io/centos/mybetaproduct:other"),
        tail("http://localhost:9999/mybetaWIP/lookaside/centos/mybetaproduct")
    );
    assert_eq!(
        write("docker.io/centos/mybetaproduct:other"),
        tail("file:///srv/mybetaWIP/lookaside/centos/mybetaproduct")
    );
    assert_eq!(read("centos/other"), tail("https://lookaside.centos.org/centos/other"));
    assert_eq!(
        read("contoso/x"),
        tail("https://lookaside.contoso.com/fordocker/contoso/x")
    );
    assert_eq!(
        read("registry.test.example.com:8888/x:t"),
        tail("http://registry.test.example.com:8889/lookaside/x")
    );
    let w = write("registry.test.example.com:8888/x:t");
    assert_eq!(
        w,
        tail("https://registry.test.example.com:8889/lookaside/specialAPIserverWhichDoesNotExist/x")
    );
    // …and writing there must fail: only file: lookasides are writable.
    let rr = r("registry.test.example.com:8888/x:t");
    let base = c.write_base(&rr, &user()).unwrap();
    assert!(matches!(
        file_image_dir(&base, &rr, &digest()),
        Err(LookasideError::NotLocal { .. })
    ));
    assert_eq!(
        read("registry.test.example.com/y"),
        tail("http://registry.test.example.com/lookaside/y")
    );
    assert_eq!(read("localhost/a/b"), tail("file:///home/mitr/mydevelopment1/a/b"));
    assert_eq!(read("localhost:8080/a"), tail("file:///home/mitr/mydevelopment2/a"));
    let unmatched = "file:///mnt/companywide/signatures/for/other/repositories/x";
    assert_eq!(read("other.example/x:t"), tail(unmatched));
    assert_eq!(write("other.example/x:t"), tail(unmatched));
    // `:emptyscheme` is not a URL (c/image: error at once); scheme-less paths are errors too
    // (c/image: at first use).
    for image in [
        "localhost/invalid/url/test:t",
        "localhost/file/path/test",
        "localhost/relative/path/test",
    ] {
        for access in [Access::Read, Access::Write] {
            let e = sig1(&c, image, access).unwrap_err();
            assert!(matches!(e, RegistriesDError::InvalidUrl { .. }), "{image}: {e}");
        }
    }
    let e = sig1(&c, "localhost/invalid/url/test:t", Access::Read).unwrap_err();
    assert!(e.to_string().contains("\":emptyscheme\""), "{e}");
    // Where the answer came from.
    let got = c
        .configured(&r("docker.io/centos/mybetaproduct:other"), Access::Write)
        .unwrap();
    assert_eq!(got.scope, Scope::Docker("docker.io/centos/mybetaproduct"));
    assert_eq!(
        (got.key, got.url),
        ("lookaside-staging", "file:///srv/mybetaWIP/lookaside")
    );
    assert!(got.file.ends_with("internet-user.yaml"));
    let got = c.configured(&r("other.example/x"), Access::Read).unwrap();
    assert_eq!(got.scope, Scope::DefaultDocker);
    assert!(!c.use_sigstore_attachments(&r("example.com/my/project")));
}

#[test]
fn builtin_default_when_nothing_matches() {
    let c = RegistriesD::load_dir(&fixtures().join("does-not-exist")).unwrap();
    let rr = r("busybox");
    let url = |d: &BuiltinDefault| {
        c.read_base(&rr, d)
            .map(|b| signature_url(&b, &rr, &digest(), 1).to_string())
    };
    assert_eq!(
        url(&user()).unwrap(),
        tail("file:///home/u/.local/share/containers/sigstore/library/busybox")
    );
    let root = BuiltinDefault {
        is_root: true,
        home: None,
    };
    assert_eq!(
        url(&root).unwrap(),
        tail("file:///var/lib/containers/sigstore/library/busybox")
    );
    assert_eq!(
        c.write_base(&rr, &root).unwrap().as_str(),
        "file:///var/lib/containers/sigstore"
    );
    for home in [None, Some(PathBuf::from("relative/home"))] {
        let d = BuiltinDefault { is_root: false, home };
        assert!(matches!(url(&d), Err(RegistriesDError::NoHomeDirectory)));
    }
    let empty = RegistriesD::empty();
    assert_eq!(
        empty.read_base(&rr, &user()).unwrap().as_str(),
        "file:///home/u/.local/share/containers/sigstore"
    );
}

#[test]
fn scope_order_matches_reference_table() {
    // c/image TestRegistryConfigurationSignatureTopLevel.
    let mut yaml = String::from("default-docker: {lookaside: =default, lookaside-staging: =default+w}\ndocker:\n");
    for ns in [
        "localhost",
        "localhost:5000",
        "example.com",
        "example.com/ns1",
        "example.com/ns1/ns2",
        "example.com/ns1/ns2/repo",
        "example.com/ns1/ns2/repo:notlatest",
    ] {
        yaml.push_str(&format!(
            "  {ns:?}: {{lookaside: {ns:?}, lookaside-staging: \"{ns}+w\"}}\n"
        ));
    }
    let c = parse(&yaml).unwrap();
    for (input, expected) in [
        (
            "example.com/ns1/ns2/repo:notlatest",
            "example.com/ns1/ns2/repo:notlatest",
        ),
        ("example.com/ns1/ns2/repo:unmatched", "example.com/ns1/ns2/repo"),
        ("example.com/ns1/ns2/notrepo:notlatest", "example.com/ns1/ns2"),
        ("example.com/ns1/notns2/repo:notlatest", "example.com/ns1"),
        ("example.com/notns1/ns2/repo:notlatest", "example.com"),
        ("unknown.example.com/busybox", "=default"),
        ("localhost:5000/busybox", "localhost:5000"),
        ("localhost/busybox", "localhost"),
        ("localhost:9999/busybox", "=default"),
    ] {
        let rr = r(input);
        assert_eq!(c.configured(&rr, Access::Read).unwrap().url, expected, "{input}");
        let w = c.configured(&rr, Access::Write).unwrap().url;
        assert_eq!(w, format!("{expected}+w"), "{input}");
    }
    let c = parse("docker: {unmatched: {lookaside: a, lookaside-staging: b}}").unwrap();
    assert!(c.configured(&r("thisisnotmatched"), Access::Read).is_none());
    assert!(c.configured(&r("thisisnotmatched"), Access::Write).is_none());
}

#[test]
fn legacy_keys_and_fall_through() {
    let c = load(&[
        ("a.yaml", "docker:\n  a.example: {sigstore: 'file:///s', sigstore-staging: 'file:///st'}\n"),
        (
            "b.yaml",
            "docker:\n  a.example/ns:\n    use-sigstore-attachments: true\n  a.example/ns/repo:\n    lookaside-staging: file:///stage\n    unknown-key: {deep: [1]}\n",
        ),
    ]);
    assert_eq!(sig1(&c, "a.example/x", Access::Read).unwrap(), tail("file:///s/x"));
    assert_eq!(sig1(&c, "a.example/x", Access::Write).unwrap(), tail("file:///st/x"));
    // a.example/ns has no URL at all: falls through to a.example.
    assert_eq!(
        sig1(&c, "a.example/ns/other", Access::Read).unwrap(),
        tail("file:///s/ns/other")
    );
    // a.example/ns/repo only has a staging URL: reading falls through, writing uses it.
    assert_eq!(
        sig1(&c, "a.example/ns/repo", Access::Read).unwrap(),
        tail("file:///s/ns/repo")
    );
    assert_eq!(
        sig1(&c, "a.example/ns/repo", Access::Write).unwrap(),
        tail("file:///stage/ns/repo")
    );
    // use-sigstore-attachments: first section that sets it, default false.
    assert!(c.use_sigstore_attachments(&r("a.example/ns/repo")));
    assert!(!c.use_sigstore_attachments(&r("a.example/x")));
    let c = parse(
        "default-docker: {use-sigstore-attachments: true}\ndocker: {a.example: {use-sigstore-attachments: false}}",
    )
    .unwrap();
    assert!(!c.use_sigstore_attachments(&r("a.example/x")));
    assert!(c.use_sigstore_attachments(&r("b.example/x")));
}

#[test]
fn merging_rules() {
    let dd = "default-docker:\n lookaside: file:////tmp/something";
    let d = dir_with(&[("0.yaml", dd), ("1.yaml", dd)]);
    let e = RegistriesD::load_dir(d.path()).unwrap_err();
    assert!(matches!(e, RegistriesDError::DuplicateDefaultDocker { .. }));
    let msg = e.to_string();
    assert!(
        msg.contains("0.yaml") && msg.contains("1.yaml") && msg.contains("\"default-docker\""),
        "{msg}"
    );

    let ns = "docker:\n example.com:\n  lookaside: file:////tmp/something";
    let d = dir_with(&[("0.yaml", ns), ("1.yaml", "docker:\n example.com: {}")]);
    let e = RegistriesD::load_dir(d.path()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, RegistriesDError::DuplicateScope { ref scope, .. } if scope == "example.com"));
    assert!(msg.contains("0.yaml") && msg.contains("1.yaml"), "{msg}");

    // A null default-docker is "not defined"; an empty mapping is.
    assert!(RegistriesD::load_dir(dir_with(&[("0.yaml", dd), ("1.yaml", "default-docker:\n")]).path()).is_ok());
    let both = dir_with(&[("0.yaml", dd), ("1.yaml", "default-docker: {}\n")]);
    assert!(RegistriesD::load_dir(both.path()).is_err());
}

#[test]
fn only_yaml_files_and_missing_dir() {
    let c = load(&[
        ("a.yml", "}"),
        ("b.yaml.bak", "}"),
        ("c.YAML", "}"),
        ("yaml", "}"),
        ("d.yaml", "docker: {x.example: {lookaside: 'file:///d'}}"),
    ]);
    assert_eq!(sig1(&c, "x.example/y", Access::Read).unwrap(), tail("file:///d/y"));
    let c = RegistriesD::load_dir(Path::new("/nonexistent/registries.d")).unwrap();
    assert!(c.configured(&r("busybox"), Access::Read).is_none());
    // Not a directory: an error, not an empty configuration.
    let e = RegistriesD::load_dir(Path::new("/dev/null")).unwrap_err();
    assert!(matches!(e, RegistriesDError::ReadDir { .. }));
    // A directory named *.yaml cannot be read.
    let d = dir_with(&[]);
    fs::create_dir(d.path().join("sub.yaml")).unwrap();
    assert!(matches!(
        RegistriesD::load_dir(d.path()),
        Err(RegistriesDError::ReadFile { .. })
    ));
}

#[test]
fn malformed_or_oversized_files_name_the_file() {
    let d = dir_with(&[("0.yaml", "{}"), ("1.yaml", "}")]);
    let e = RegistriesD::load_dir(d.path()).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, RegistriesDError::Parse { ref path, .. } if path.ends_with("1.yaml")));
    assert!(msg.starts_with("parsing ") && msg.contains("1.yaml"), "{msg}");
    let big = format!("# {}\n", "x".repeat(1 << 20));
    let d = dir_with(&[("big.yaml", &big)]);
    let e = RegistriesD::load_dir(d.path()).unwrap_err();
    assert!(matches!(e, RegistriesDError::ReadFile { ref path, .. } if path.ends_with("big.yaml")));
    let source = std::error::Error::source(&e).unwrap().to_string();
    assert!(source.contains("larger than 1048576 bytes"), "{source}");
}

#[test]
fn default_dir_prefers_existing_user_dir() {
    let home = tempfile::tempdir().unwrap();
    let system = PathBuf::from("/etc/containers/registries.d");
    assert_eq!(RegistriesD::default_dir(Some(home.path())), system);
    assert_eq!(RegistriesD::default_dir(None), system);
    let user = home.path().join(".config/containers/registries.d");
    fs::create_dir_all(&user).unwrap();
    assert_eq!(RegistriesD::default_dir(Some(home.path())), user);
}

#[test]
fn yaml_v3_like_decoding() {
    // Unknown keys are skipped, aliases there are never expanded; scalars become strings.
    let c = parse(
        "docker:\n  a.example:\n    lookaside: 123\n    use-sigstore-attachments: 'on'\n    x: [1, {y: 2}]\nz: &a [x]\nw: [*a, *a]\n",
    )
    .unwrap();
    let s = c.docker_section("a.example").unwrap();
    assert_eq!(s.lookaside.as_deref(), Some("123"));
    assert_eq!(s.use_sigstore_attachments, Some(true));
    let c = parse("default-docker:\ndocker: ~\n").unwrap();
    assert!(c.default_docker().is_none());
    let c = parse("default-docker: {}\ndocker:\n  a.example:\n").unwrap();
    assert_eq!(c.default_docker(), Some(&Section::default()));
    assert_eq!(c.docker_section("a.example"), Some(&Section::default()));
    let c = parse("default-docker: {lookaside: '', sigstore: !!str x}\n").unwrap();
    assert_eq!(
        c.default_docker().unwrap().top_level(Access::Read),
        Some(("sigstore", "x"))
    );
    for ok in ["", "# only a comment\n", "~", "{}", "---\n{}\n---\nnot: [valid\n"] {
        let c = parse(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        assert!(c.default_docker().is_none(), "{ok:?}");
    }
    let c = parse("\u{feff}docker: {b.example: {use-sigstore-attachments: NO}}").unwrap();
    assert_eq!(
        c.docker_section("b.example").unwrap().use_sigstore_attachments,
        Some(false)
    );
}

#[test]
fn yaml_errors() {
    for (bad, needle) in [
        ("}", ""),
        ("[]", "expected a mapping"),
        ("x", "expected a mapping"),
        ("docker: []", "\"docker\" must be a mapping"),
        ("docker: {a: b}", "\"a\" must be a mapping"),
        ("default-docker: x", "must be a mapping"),
        ("default-docker: {lookaside: [x]}", "must be a string"),
        (
            "default-docker: {use-sigstore-attachments: \"true\"}",
            "must be true or false",
        ),
        (
            "default-docker: {use-sigstore-attachments: maybe}",
            "must be true or false",
        ),
        ("docker: {a: {}}\ndocker: {}", "mapping key \"docker\" already defined"),
        ("docker: {a: {}, a: {}}", "already defined"),
        ("default-docker: {lookaside: a, lookaside: b}", "already defined"),
        ("x: &a {lookaside: y}\ndefault-docker: *a", "aliases are not supported"),
        ("default-docker:\n  <<: {lookaside: y}", "merge keys"),
        ("default-docker: {lookaside: !custom y}", "unsupported YAML tag"),
        ("{? [a]: b}", "unsupported mapping key"),
    ] {
        let e = parse(bad).unwrap_err();
        assert!(e.starts_with("parsing t.yaml: ") && e.contains(needle), "{bad:?}: {e}");
    }
    let deep = format!("x:\n{}y", "- ".repeat(100));
    assert!(parse(&deep).unwrap_err().contains("nesting deeper than 64"));
    let deep_flow = format!("x: {}{}", "[".repeat(100), "]".repeat(100));
    assert!(parse(&deep_flow).unwrap_err().contains("nesting deeper than 64"));
    assert!(RegistriesD::from_yaml(b"\xff", Path::new("t.yaml")).is_err());
    // Billion laughs: the aliases sit under an unknown key and are never expanded.
    let mut lol = String::from("a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..30 {
        lol.push_str(&format!(
            "l{i}: &l{i} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n",
            p = if i == 1 { "a".into() } else { format!("l{}", i - 1) }
        ));
    }
    assert!(parse(&lol).is_ok());
    assert!(parse(&format!("{lol}default-docker: *l29\n"))
        .unwrap_err()
        .contains("aliases are not supported"));
}

#[test]
fn section_priorities() {
    let s = |ls: &str, l: &str, ss: &str, sg: &str| {
        let v = |x: &str| Some(x).filter(|x| !x.is_empty()).map(str::to_owned);
        Section {
            lookaside_staging: v(ls),
            lookaside: v(l),
            sigstore_staging: v(ss),
            sigstore: v(sg),
            use_sigstore_attachments: None,
        }
    };
    // c/image TestRegistryNamespaceSignatureTopLevel.
    #[rustfmt::skip]
    let cases = [
        (s("a", "b", "", ""), Access::Write, Some("a")), (s("a", "b", "", ""), Access::Read, Some("b")),
        (s("", "b", "", ""), Access::Write, Some("b")), (s("", "b", "", ""), Access::Read, Some("b")),
        (s("a", "", "", ""), Access::Write, Some("a")), (s("a", "", "", ""), Access::Read, None),
        (s("", "", "", ""), Access::Write, None), (s("", "", "", ""), Access::Read, None),
        (s("a", "b", "c", "d"), Access::Write, Some("a")), (s("", "b", "c", "d"), Access::Write, Some("c")),
        (s("", "b", "", "d"), Access::Write, Some("b")), (s("", "", "", "d"), Access::Write, Some("d")),
        (s("a", "b", "c", "d"), Access::Read, Some("b")), (s("", "b", "c", "d"), Access::Read, Some("b")),
        (s("", "b", "", "d"), Access::Read, Some("b")), (s("", "", "", "d"), Access::Read, Some("d")),
    ];
    for (section, access, expected) in cases {
        assert_eq!(
            section.top_level(access).map(|(_, u)| u),
            expected,
            "{section:?} {access:?}"
        );
    }
}

#[test]
fn signature_url_layout() {
    let busybox = r("docker.io/library/busybox:latest");
    let u = |base: &str, r: &DockerReference, n| signature_url(&Url::parse(base).unwrap(), r, &digest(), n).to_string();
    assert_eq!(
        u("https://example.com/lookaside", &busybox, 1),
        format!("https://example.com/lookaside/library/busybox@sha256={HEX}/signature-1")
    );
    assert_eq!(
        u("https://example.com/lookaside/", &busybox, 12),
        format!("https://example.com/lookaside//library/busybox@sha256={HEX}/signature-12")
    );
    // c/image TestLookasideStorageURL (base already holding the repository path there).
    let x = r("localhost/x");
    assert_eq!(
        u("file:///tmp", &x, 2),
        format!("file:///tmp/x@sha256={HEX}/signature-2")
    );
    assert_eq!(
        u("https://localhost:5555/root", &x, 1),
        format!("https://localhost:5555/root/x@sha256={HEX}/signature-1")
    );
    let d512 = Digest::parse(&format!("sha512:{}", "a".repeat(128))).unwrap();
    let s = signature_url(&Url::parse("http://h/l").unwrap(), &x, &d512, 1).to_string();
    assert_eq!(s, format!("http://h/l/x@sha512={}/signature-1", "a".repeat(128)));
}

#[test]
fn image_dir_layout() {
    let root = Path::new("/srv/sigstore");
    let d = image_dir(root, &r("registry.example.com:5000/ns/repo:tag"), &digest());
    assert_eq!(d, PathBuf::from(format!("/srv/sigstore/ns/repo@sha256={HEX}")));
    let base = Url::from_directory_path(root).unwrap();
    let rr = r("busybox");
    assert_eq!(
        file_image_dir(&base, &rr, &digest()).unwrap(),
        image_dir(root, &rr, &digest())
    );
}

#[test]
fn read_dir_signatures_stops_at_gap_and_limits() {
    let d = tempfile::tempdir().unwrap();
    assert!(read_dir_signatures(&d.path().join("missing")).unwrap().is_empty());
    for n in [1, 2, 4] {
        fs::write(d.path().join(format!("signature-{n}")), format!("sig{n}")).unwrap();
    }
    let got = read_dir_signatures(d.path()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!((got[1].index, got[1].contents.as_deref()), (2, Ok(&b"sig2"[..])));
    assert!(got[1].path.ends_with("signature-2"));
    // Too large: that entry only.
    fs::write(d.path().join("signature-3"), vec![0u8; MAX_SIGNATURE_SIZE as usize + 1]).unwrap();
    let got = read_dir_signatures(d.path()).unwrap();
    assert_eq!(got.len(), 4);
    assert_eq!(
        got[2].contents,
        Err(ReadProblem::TooLarge {
            limit: MAX_SIGNATURE_SIZE
        })
    );
    assert_eq!(got[3].contents.as_deref(), Ok(&b"sig4"[..]));
    // A directory where a signature should be is an error.
    fs::create_dir(d.path().join("signature-5")).unwrap();
    assert!(matches!(read_dir_signatures(d.path()), Err(LookasideError::Io { .. })));

    // 127 signatures are read; a 128th makes the read fail, as in c/image.
    let d = tempfile::tempdir().unwrap();
    for n in 1..MAX_SIGNATURES {
        fs::write(d.path().join(format!("signature-{n}")), b"s").unwrap();
    }
    assert_eq!(read_dir_signatures(d.path()).unwrap().len(), MAX_SIGNATURES - 1);
    assert!(matches!(
        store_signature(d.path(), b"new"),
        Err(LookasideError::TooManySignatures { .. })
    ));
    assert_eq!(
        store_signature(d.path(), b"s").unwrap(),
        StoreOutcome::AlreadyPresent(1)
    );
    fs::write(d.path().join(format!("signature-{MAX_SIGNATURES}")), b"s").unwrap();
    let e = read_dir_signatures(d.path()).unwrap_err();
    assert!(e.to_string().contains("assuming that's unreasonable"), "{e}");
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn store_signature_appends_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("a/b@sha256=x");
    assert_eq!(store_signature(&dir, b"one").unwrap(), StoreOutcome::Written(1));
    assert_eq!(store_signature(&dir, b"two").unwrap(), StoreOutcome::Written(2));
    assert_eq!(store_signature(&dir, b"one").unwrap(), StoreOutcome::AlreadyPresent(1));
    assert_eq!(store_signature(&dir, b"two").unwrap(), StoreOutcome::AlreadyPresent(2));
    assert_eq!(names(&dir), ["signature-1", "signature-2"], "no temporary files left");
    assert_eq!(fs::read(dir.join("signature-1")).unwrap(), b"one");
    // A hole is filled (readers stop there); what lies beyond it is never overwritten.
    fs::write(dir.join("signature-4"), b"four").unwrap();
    assert_eq!(store_signature(&dir, b"four").unwrap(), StoreOutcome::Written(3));
    assert_eq!(store_signature(&dir, b"five").unwrap(), StoreOutcome::Written(5));
    assert_eq!(fs::read(dir.join("signature-4")).unwrap(), b"four");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir.join("signature-5")).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !0o644, 0, "{mode:o}");
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }
    assert!(matches!(
        store_signature(&dir, b""),
        Err(LookasideError::EmptySignature)
    ));
    let big = vec![1u8; MAX_SIGNATURE_SIZE as usize + 1];
    assert!(matches!(
        store_signature(&dir, &big),
        Err(LookasideError::SignatureTooLarge { .. })
    ));
}

#[test]
fn parallel_writers_lose_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = Arc::new(root.path().join("repo@sha256=x"));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let dir = Arc::clone(&dir);
            std::thread::spawn(move || {
                (0..6)
                    .map(
                        |i| match store_signature(&dir, format!("sig {t} {i}").as_bytes()).unwrap() {
                            StoreOutcome::Written(n) => n,
                            other => panic!("{other:?}"),
                        },
                    )
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut claimed: Vec<usize> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    claimed.sort_unstable();
    assert_eq!(claimed, (1..=48).collect::<Vec<_>>());
    let got = read_dir_signatures(&dir).unwrap();
    let mut contents: Vec<Vec<u8>> = got.into_iter().map(|s| s.contents.unwrap()).collect();
    contents.sort();
    let mut expected: Vec<Vec<u8>> = (0..8)
        .flat_map(|t| (0..6).map(move |i| format!("sig {t} {i}").into_bytes()))
        .collect();
    expected.sort();
    assert_eq!(contents, expected);
    assert!(names(&dir).iter().all(|n| n.starts_with("signature-")));
}

#[test]
fn write_new_file_never_overwrites() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("mirror/x/manifest.json");
    assert!(write_new_file(&path, b"{}").unwrap());
    assert!(!write_new_file(&path, b"{}").unwrap());
    let e = write_new_file(&path, b"{ }").unwrap_err();
    assert!(matches!(e, LookasideError::DifferentContents { .. }));
    assert!(e.to_string().contains("not overwriting"));
    assert!(matches!(
        write_new_file(&path, b"{}\n"),
        Err(LookasideError::DifferentContents { .. })
    ));
    assert!(matches!(
        write_new_file(&path, b"{"),
        Err(LookasideError::DifferentContents { .. })
    ));
    assert_eq!(fs::read(&path).unwrap(), b"{}");
    assert_eq!(names(path.parent().unwrap()), ["manifest.json"]);
    assert!(matches!(
        write_new_file(root.path(), b"x"),
        Err(LookasideError::Io { .. })
    ));
}
