//! `--debug` / `-v`: where imgsig looked (registries.conf, registries.d and the lookaside,
//! the credentials source, the certs.d directory) and each HTTP request, on stderr, checked
//! against the peer lab's REAL registry and lookaside.

mod common;

use std::path::Path;
use std::process::Output;

use common::servers::run_bounded;
use common::{assert_exit, imgsig, lab, stderr, stdout, tempdir};

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn debug_shows_where_imgsig_looked_and_each_request() {
    let lab = lab();
    let dir = tempdir();
    let home = dir.path().join("home");
    let reg = lab.var("LAB_REGISTRY");
    let certs = home.join(".config/containers/certs.d").join(reg);
    std::fs::create_dir_all(&certs).unwrap();
    let authfile = dir.path().join("auth.json");
    let secret = "n0t-sh0wn-s3cret";
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, format!("me:{secret}"));
    write(
        &authfile,
        &serde_json::json!({"auths": {reg: {"auth": auth}}}).to_string(),
    );
    let run = |flag: Option<&str>| -> Output {
        let mut c = imgsig();
        c.env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .env("HOME", &home)
            .env("XDG_RUNTIME_DIR", &home)
            .env("CONTAINERS_REGISTRIES_CONF", lab.var("CONTAINERS_REGISTRIES_CONF"));
        c.args(flag)
            .args(["verify", "--timeout", "20", "--policy", lab.var("LAB_POLICY_ALICE")])
            .args(["--registries-d", lab.var("LAB_REGISTRIES_D")])
            .arg("--authfile")
            .arg(&authfile)
            .arg(format!("docker://{}", lab.var("LAB_IMG_APP1")));
        run_bounded(&mut c, 60)
    };

    let quiet = run(None);
    assert_exit(&quiet, 0);
    assert!(!stderr(&quiet).contains("imgsig: debug:"), "{}", stderr(&quiet));

    for flag in ["--debug", "-v"] {
        let o = run(Some(flag));
        assert_exit(&o, 0);
        assert_eq!(stdout(&o), stdout(&quiet), "stdout is unchanged");
        let err = stderr(&o);
        let hex = lab.var("LAB_IMG_APP1_DIGEST").trim_start_matches("sha256:");
        for want in [
            format!("imgsig: debug: registries.conf: {}", lab.var("CONTAINERS_REGISTRIES_CONF")),
            format!("imgsig: debug: registries.d: {} (1 *.yaml file(s))", lab.var("LAB_REGISTRIES_D")),
            format!("imgsig: debug: credentials for {reg}/lab/app: {} (entry \"{reg}\")", authfile.display()),
            format!("imgsig: debug: TLS for {reg}: certs.d {} (0 CA file(s)", certs.display()),
            format!("imgsig: debug: GET http://{reg}/v2/lab/app/manifests/1.0 -> 200 ("),
            format!(
                "imgsig: debug: lookaside for {}: {} (lookaside of docker: {reg} in registries.d file {}/peer-lab.yaml)",
                lab.var("LAB_IMG_APP1"),
                lab.var("LAB_LOOKASIDE_URL"),
                lab.var("LAB_REGISTRIES_D")
            ),
            format!(
                "imgsig: debug: GET {}lab/app@sha256={hex}/signature-2 -> 404 (",
                lab.var("LAB_LOOKASIDE_URL")
            ),
        ] {
            assert!(err.contains(&want), "missing {want:?} in:\n{err}");
        }
        assert!(!err.contains(secret), "{err}");
    }
}
