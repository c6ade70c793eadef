//! Docker credential helpers (`credHelpers` / `credsStore` in auth files) run against a REAL
//! docker-registry over TLS with htpasswd auth: a small `docker-credential-imgsigtest` shell
//! script on PATH answers as the protocol says (stdin = the registry, stdout = JSON), or says
//! "not found", fails, hangs, or answers and leaves a background process behind.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::servers::{run_bounded, TlsRegistry};
use common::{assert_exit, imgsig, lab, stderr, tempdir};

const NOWHERE: &str = "/nonexistent/imgsig-cred-helper-test";

const HELPER: &str = r#"#!/bin/sh
server=$(cat)
echo "$1 $server" >> "$HELPER_LOG"
echo "helper-stderr: asked for $server" >&2
case "$HELPER_MODE" in
  ok) printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$server" "$HELPER_USER" "$HELPER_PASS" ;;
  notfound) echo "credentials not found in native keychain"; exit 1 ;;
  fail) echo "the keychain is locked"; exit 1 ;;
  hang) exec sleep 30 ;;
  background)
    # Answers and exits 0, leaving a process that holds stdout (not stderr) open.
    sleep 300 2>/dev/null &
    echo $! > "$HELPER_LOG.bg"
    printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "$server" "$HELPER_USER" "$HELPER_PASS" ;;
esac
"#;

fn write(p: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    p.to_owned()
}

struct Setup {
    reg: TlsRegistry,
    dir: tempfile::TempDir,
    bin: PathBuf,
    log: PathBuf,
    image: String,
}

impl Setup {
    fn new() -> Setup {
        let lab = lab();
        let dir = tempdir();
        let reg = TlsRegistry::start(&dir.path().join("reg"), "helped", "helper-pass");
        let image = format!("{}/helped/app:1.0", reg.host);
        let o = run_bounded(
            lab.cmd("skopeo")
                .args(["--command-timeout", "60s", "--policy", lab.var("LAB_POLICY_INSECURE")])
                .args(["copy", "-q", "--dest-creds", &format!("{}:{}", reg.user, reg.password)])
                .arg("--dest-cert-dir")
                .arg(&reg.cert_dir)
                .arg(format!("oci:{}:app-1.0", lab.var("LAB_OCI_LAYOUT")))
                .arg(format!("docker://{image}")),
            60,
        );
        assert!(o.status.success(), "skopeo copy: {}", stderr(&o));
        let bin = dir.path().join("bin");
        let helper = write(&bin.join("docker-credential-imgsigtest"), HELPER);
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let log = dir.path().join("helper.log");
        Setup {
            reg,
            dir,
            bin,
            log,
            image,
        }
    }

    /// `imgsig verify --json` of the pushed image (insecureAcceptAnything, an empty local
    /// lookaside), with `HOME` etc. pointing nowhere and the helper on PATH in `mode`.
    fn verify(&self, mode: &str, env: &[(&str, &Path)], extra: &[&str]) -> Output {
        let _ = std::fs::remove_file(&self.log);
        let path = format!("{}:{}", self.bin.display(), std::env::var("PATH").unwrap_or_default());
        let mut c: Command = imgsig();
        c.env_remove("REGISTRY_AUTH_FILE")
            .env_remove("DOCKER_CONFIG")
            .env_remove("CONTAINERS_REGISTRIES_CONF")
            .env("HOME", NOWHERE)
            .env("XDG_RUNTIME_DIR", NOWHERE)
            .env("XDG_CONFIG_HOME", NOWHERE)
            .env("PATH", path)
            .env("HELPER_MODE", mode)
            .env("HELPER_LOG", &self.log)
            .env("HELPER_USER", &self.reg.user)
            .env("HELPER_PASS", &self.reg.password);
        for (k, v) in env {
            c.env(k, v);
        }
        c.arg("verify");
        if !extra.contains(&"--timeout") {
            c.args(["--timeout", "20"]);
        }
        std::fs::create_dir_all(self.dir.path().join("empty-lookaside")).unwrap();
        c.args(["--json", "--policy", lab().var("LAB_POLICY_INSECURE")])
            .arg("--lookaside")
            .arg(self.dir.path().join("empty-lookaside"))
            .arg("--cert-dir")
            .arg(&self.reg.cert_dir)
            .args(extra)
            .arg(format!("docker://{}", self.image));
        run_bounded(&mut c, 60)
    }

    fn asked(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn authfile(&self, name: &str, doc: serde_json::Value) -> PathBuf {
        write(&self.dir.path().join(name), &doc.to_string())
    }
}

fn error(o: &Output) -> (String, String) {
    // One image named: its document is the whole output.
    let doc: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&o.stdout)));
    let e = &doc["error"];
    (
        e["code"].as_str().unwrap_or_default().to_owned(),
        e["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn credential_helpers_against_a_real_registry() {
    let s = Setup::new();
    let host = s.reg.host.clone();
    let helpers = s.authfile(
        "helpers.json",
        serde_json::json!({"credHelpers": {host.clone(): "imgsigtest"}}),
    );
    let authfile = ["--authfile", helpers.to_str().unwrap()];

    // The helper's credentials are used; its stderr reaches the user; it is asked
    // `get` with the registry on stdin.
    let o = s.verify("ok", &[], &authfile);
    assert_exit(&o, 0);
    assert!(
        stderr(&o).contains(&format!("helper-stderr: asked for {host}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(s.asked(), [format!("get {host}")]);

    // Two images of the registry in one run: the helper is asked once.
    let mut twice = authfile.to_vec();
    let second = format!("docker://{}", s.image);
    twice.push(&second);
    let o = s.verify("ok", &[], &twice);
    assert_exit(&o, 0);
    assert_eq!(s.asked().len(), 1, "{:?}", s.asked());

    // "Not found": no credentials from this file, so anonymous, which the registry refuses.
    let o = s.verify("notfound", &[], &authfile);
    assert_exit(&o, 3);
    assert_eq!(error(&o).0, "registry-unauthorized");
    // … and with the default search, the next file's credentials are used.
    let runtime = s.dir.path().join("runtime");
    write(
        &runtime.join("containers/auth.json"),
        &serde_json::json!({"credHelpers": {host.clone(): "imgsigtest"}}).to_string(),
    );
    let config = s.dir.path().join("config");
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        format!("{}:{}", s.reg.user, s.reg.password),
    );
    write(
        &config.join("containers/auth.json"),
        &serde_json::json!({"auths": {host.clone(): {"auth": b64}}}).to_string(),
    );
    let env = [
        ("XDG_RUNTIME_DIR", runtime.as_path()),
        ("XDG_CONFIG_HOME", config.as_path()),
    ];
    let o = s.verify("notfound", &env, &[]);
    assert_exit(&o, 0);
    assert_eq!(s.asked(), [format!("get {host}")]);

    // A failing helper: exit 3, the helper and its message named, no fallback.
    let o = s.verify("fail", &env, &[]);
    assert_exit(&o, 3);
    let (code, msg) = error(&o);
    assert_eq!(code, "credential-helper-failed", "{msg}");
    assert!(msg.contains("docker-credential-imgsigtest"), "{msg}");
    assert!(msg.contains("the keychain is locked"), "{msg}");
    assert!(msg.contains("credHelpers"), "{msg}");

    // A helper that is not installed.
    let absent = s.authfile(
        "absent.json",
        serde_json::json!({"credHelpers": {host.clone(): "absent"}}),
    );
    let o = s.verify("ok", &[], &["--authfile", absent.to_str().unwrap()]);
    assert_exit(&o, 3);
    let (code, msg) = error(&o);
    assert_eq!(code, "credential-helper-failed", "{msg}");
    assert!(msg.contains("docker-credential-absent is not installed"), "{msg}");

    // A helper that hangs is stopped at the timeout.
    let started = std::time::Instant::now();
    let mut hang = authfile.to_vec();
    hang.extend(["--timeout", "2"]);
    let o = s.verify("hang", &[], &hang);
    assert_exit(&o, 3);
    let (code, msg) = error(&o);
    assert_eq!(code, "credential-helper-failed", "{msg}");
    assert!(msg.contains("did not finish within 2 s"), "{msg}");
    assert!(started.elapsed().as_secs() < 20);

    // credsStore: Docker's default helper, for a registry without auths credentials.
    let store = s.authfile(
        "store.json",
        serde_json::json!({"auths": {host.clone(): {}}, "credsStore": "imgsigtest"}),
    );
    let o = s.verify("ok", &[], &["--authfile", store.to_str().unwrap()]);
    assert_exit(&o, 0);
    assert_eq!(s.asked(), [format!("get {host}")]);
    let o = s.verify("fail", &[], &["--authfile", store.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert!(error(&o).1.contains("credsStore"), "{}", error(&o).1);
}

/// A helper that answers and exits 0 but leaves a background process holding
/// its stdout: its answer is used when it exits, not when that process ends
/// (imgsig used to wait for the end of file until the --timeout, then fail).
#[test]
fn a_helper_leaving_a_background_process_is_answered_when_it_exits() {
    let s = Setup::new();
    let host = s.reg.host.clone();
    let helpers = s.authfile(
        "helpers.json",
        serde_json::json!({"credHelpers": {host.clone(): "imgsigtest"}}),
    );
    let started = std::time::Instant::now();
    let o = s.verify(
        "background",
        &[],
        &["--authfile", helpers.to_str().unwrap(), "--timeout", "30"],
    );
    let took = started.elapsed();
    let background = std::fs::read_to_string(s.log.with_extension("log.bg")).unwrap_or_default();
    if let Ok(pid) = background.trim().parse::<i32>() {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
    assert!(!background.trim().is_empty(), "the helper left no background process");
    assert_exit(&o, 0);
    assert_eq!(s.asked(), [format!("get {host}")]);
    assert!(took.as_secs() < 10, "took {took:?} (the timeout is 30 s)");
}
