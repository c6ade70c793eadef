//! certs.d lookups on real directories (throw-away PEM files in `tests/data/certs/`): the
//! search order, `--cert-dir`, client pairs and what is skipped or refused.

use std::fs;
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use super::*;

fn cert_data(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/certs")
            .join(name),
    )
    .unwrap()
}

/// A directory with `files` (name → test-data file or literal bytes).
fn cert_dir(dir: &Path, files: &[(&str, &[u8])]) {
    fs::create_dir_all(dir).unwrap();
    for (name, contents) in files {
        fs::write(dir.join(name), contents).unwrap();
    }
}

#[test]
fn certs_dir_with_ca_and_client_pair() {
    let t = TempDir::new().unwrap();
    let (ca, cert, key) = (cert_data("ca.crt"), cert_data("client.cert"), cert_data("client.key"));
    cert_dir(
        t.path(),
        &[
            ("ca.crt", &ca),
            ("client.cert", &cert),
            ("client.key", &key),
            ("README", b"x"),
            ("ca.pem", &ca),
        ],
    );
    let tls = load_dir(t.path()).unwrap();
    assert_eq!(tls.dir.as_deref(), Some(t.path()));
    assert_eq!(tls.ca_pems, [(t.path().join("ca.crt"), ca)]);
    assert_eq!(tls.clients.len(), 1);
    let client = tls.client().unwrap();
    assert_eq!(
        (client.cert_path.clone(), client.key_path.clone()),
        (t.path().join("client.cert"), t.path().join("client.key"))
    );
    // The CA file holds one certificate, as reqwest reads it.
    assert_eq!(
        reqwest::Certificate::from_pem_bundle(&tls.ca_pems[0].1).unwrap().len(),
        1
    );
    client.identity().unwrap();
    assert!(tls.warnings.is_empty(), "{:?}", tls.warnings);
    assert!(!format!("{client:?}").contains("PRIVATE KEY"));
}

#[test]
fn client_key_with_ec_parameters_block() {
    let t = TempDir::new().unwrap();
    cert_dir(
        t.path(),
        &[
            ("c.cert", &cert_data("client.cert")),
            ("c.key", &cert_data("client-ecparams.key")),
        ],
    );
    let tls = load_dir(t.path()).unwrap();
    let pem = String::from_utf8(tls.client().unwrap().identity_pem().unwrap()).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    assert!(
        pem.contains("BEGIN EC PRIVATE KEY") && !pem.contains("EC PARAMETERS"),
        "{pem}"
    );
}

#[test]
fn unpaired_cert_or_key_is_an_error() {
    let t = TempDir::new().unwrap();
    cert_dir(&t.path().join("a"), &[("client.cert", &cert_data("client.cert"))]);
    let err = load_dir(&t.path().join("a")).unwrap_err();
    assert!(matches!(err, CertsError::MissingKey { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("missing key client.key for client certificate client.cert"),
        "{err}"
    );
    cert_dir(&t.path().join("b"), &[("client.key", &cert_data("client.key"))]);
    let err = load_dir(&t.path().join("b")).unwrap_err();
    assert!(matches!(err, CertsError::MissingCert { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("missing client certificate client.cert for key client.key"),
        "{err}"
    );
    // A pair that does not parse.
    cert_dir(
        &t.path().join("c"),
        &[("x.cert", b"not pem"), ("x.key", &cert_data("client.key"))],
    );
    let err = load_dir(&t.path().join("c")).unwrap_err();
    assert!(matches!(err, CertsError::InvalidClientPair { .. }), "{err:?}");
    cert_dir(
        &t.path().join("d"),
        &[
            ("x.cert", &cert_data("client.cert")),
            ("x.key", &cert_data("client.cert")),
        ],
    );
    assert!(matches!(
        load_dir(&t.path().join("d")),
        Err(CertsError::InvalidClientPair { .. })
    ));
}

#[test]
fn ca_files_in_name_order_and_unusable_ones_skipped() {
    let t = TempDir::new().unwrap();
    let ca = cert_data("ca.crt");
    cert_dir(
        t.path(),
        &[
            ("b.crt", &ca),
            ("a.crt", &ca),
            ("der.crt", &[0x30, 0x82, 0x01]),
            ("empty.crt", b""),
        ],
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(t.path().join("gone"), t.path().join("dangling.crt")).unwrap();
    let tls = load_dir(t.path()).unwrap();
    let names: Vec<_> = tls
        .ca_pems
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["a.crt", "b.crt"]);
    let warned = tls.warnings.join("\n");
    assert!(warned.contains("der.crt") && warned.contains("empty.crt"), "{warned}");
    #[cfg(unix)]
    assert!(warned.contains("dangling.crt"), "{warned}");
    // A directory named *.crt cannot be read: an error, as in c/image.
    fs::create_dir(t.path().join("sub.crt")).unwrap();
    assert!(matches!(load_dir(t.path()), Err(CertsError::Io { .. })));
}

#[test]
fn first_existing_host_dir_wins_without_merging() {
    let t = TempDir::new().unwrap();
    let host = "registry.example:5000";
    let parents: Vec<PathBuf> = ["p1", "p2", "p3"].iter().map(|p| t.path().join(p)).collect();
    fs::create_dir_all(&parents[0]).unwrap(); // parent exists, host dir does not
    cert_dir(&parents[1].join(host), &[("a.crt", &cert_data("ca.crt"))]);
    cert_dir(
        &parents[2].join(host),
        &[
            ("b.crt", &cert_data("ca.crt")),
            ("c.cert", &cert_data("client.cert")),
            ("c.key", &cert_data("client.key")),
        ],
    );
    let tls = lookup_in(host, &parents).unwrap();
    assert_eq!(tls.dir, Some(parents[1].join(host)));
    assert_eq!(tls.ca_pems.len(), 1);
    assert!(tls.ca_pems[0].0.ends_with("a.crt"));
    assert!(tls.clients.is_empty());
    // An empty existing directory still wins.
    fs::create_dir_all(parents[0].join(host)).unwrap();
    assert_eq!(lookup_in(host, &parents).unwrap().ca_pems.len(), 0);
    // Nothing anywhere: no material.
    assert_eq!(lookup_in("other.example", &parents).unwrap(), HostTls::default());
}

#[test]
fn home_certs_d_and_explicit_cert_dir() {
    let t = TempDir::new().unwrap();
    let home = t.path().join("home");
    let host = "imgsig-test.invalid:5000";
    cert_dir(
        &home.join(".config/containers/certs.d").join(host),
        &[("home.crt", &cert_data("ca.crt"))],
    );
    assert_eq!(
        search_dirs(Some(&home)),
        [
            home.join(".config/containers/certs.d"),
            PathBuf::from("/etc/containers/certs.d"),
            PathBuf::from("/etc/docker/certs.d")
        ]
    );
    let tls = lookup(host, None, Some(&home)).unwrap();
    assert!(tls.ca_pems[0].0.ends_with("home.crt"), "{tls:?}");
    // --cert-dir is used as is (not DIR/<host>) and alone.
    let mine = t.path().join("mine");
    cert_dir(&mine, &[("mine.crt", &cert_data("ca.crt"))]);
    let tls = lookup(host, Some(&mine), Some(&home)).unwrap();
    assert_eq!(tls.dir, Some(mine.clone()));
    assert_eq!(tls.ca_pems.len(), 1);
    assert!(tls.ca_pems[0].0.ends_with("mine.crt"));
    let tls = lookup(host, Some(&t.path().join("missing")), Some(&home)).unwrap();
    assert_eq!(tls, HostTls::default());
}

#[test]
fn host_names_cannot_traverse() {
    let t = TempDir::new().unwrap();
    let parents = [t.path().join("certs.d")];
    cert_dir(&t.path().join("etc"), &[("evil.crt", &cert_data("ca.crt"))]);
    for bad in ["../etc", "..", ".", "", "a/b", "/etc", "host:5000/../x", "host:port"] {
        assert!(
            matches!(lookup_in(bad, &parents), Err(CertsError::InvalidHost(_))),
            "{bad:?}"
        );
        assert!(
            matches!(lookup(bad, Some(t.path()), None), Err(CertsError::InvalidHost(_))),
            "{bad:?}"
        );
    }
}
