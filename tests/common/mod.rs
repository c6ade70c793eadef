//! Shared test helpers: the imgsig binary, the reference fixtures, and the
//! peer lab (real skopeo, GnuPG, docker-registry and a lookaside web server
//! on 127.0.0.1, built by ../shared/peer-lab/lab.sh).
#![allow(dead_code)]

pub mod gpg;
pub mod online;
pub mod servers;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the repository (IMGSIG_SHARED overrides).
pub fn shared() -> PathBuf {
    match std::env::var_os("IMGSIG_SHARED") {
        Some(p) => PathBuf::from(p),
        None => repo().join("../shared"),
    }
}

/// A file in the reference fixtures (`shared/reference/fixtures/...`).
pub fn fixture(rel: &str) -> PathBuf {
    let p = shared().join("reference/fixtures").join(rel);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

/// The identity the demo key (examples/demo-signer.*.asc) signs the demo
/// manifest (examples/manifest.json) as, in tests.
pub const DEMO_ID: &str = "registry.example.com/demo/app:1.0";

/// `dir/signature-1`: the demo manifest signed as [`DEMO_ID`] with the demo
/// key, by `imgsig sign`.
pub fn sign_demo(dir: &Path) -> PathBuf {
    let out = dir.join("signature-1");
    let o = run(imgsig()
        .args(["sign", "--key"])
        .arg(repo().join("examples/demo-signer.secret.asc"))
        .args(["--identity", DEMO_ID, "--manifest"])
        .arg(repo().join("examples/manifest.json"))
        .arg("-o")
        .arg(&out));
    assert_exit(&o, 0);
    out
}

/// A command running the imgsig binary under test, with an environment
/// that cannot leak the developer's configuration into the test.
pub fn imgsig() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imgsig"));
    c.env_remove("IMGSIG_PASSPHRASE").stdin(Stdio::null());
    c
}

/// Run a command and capture everything.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Assert the exit code, showing the output when it is not the expected one.
#[track_caller]
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Parse stdout as one JSON document.
#[track_caller]
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\n--- stderr\n{}", stdout(o), stderr(o)))
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("imgsig-test-")
        .tempdir()
        .expect("tempdir")
}

/// The running peer lab: every `LAB_*` value from its env.sh.
pub struct Lab {
    pub dir: PathBuf,
    pub vars: HashMap<String, String>,
}

impl Lab {
    /// A policy whose only requirement is `signedBy` with `keyPaths` = alice's
    /// key and a readable file that holds no key (written into `dir`).
    pub fn policy_alice_and_junk_key(&self, dir: &Path) -> PathBuf {
        let junk = dir.join("junk.gpg");
        std::fs::write(&junk, "not a key\n").unwrap();
        let policy = dir.join("policy.json");
        std::fs::write(
            &policy,
            serde_json::json!({"default": [{"type": "signedBy", "keyType": "GPGKeys",
                "keyPaths": [self.var("LAB_ALICE_PUB"), junk]}]})
            .to_string(),
        )
        .unwrap();
        policy
    }

    pub fn var(&self, name: &str) -> &str {
        self.vars.get(name).unwrap_or_else(|| panic!("lab has no {name}"))
    }
    pub fn path(&self, name: &str) -> PathBuf {
        PathBuf::from(self.var(name))
    }
    /// A command with the lab's GnuPG home, registries.conf and auth file.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for k in ["GNUPGHOME", "CONTAINERS_REGISTRIES_CONF", "REGISTRY_AUTH_FILE"] {
            c.env(k, self.var(k));
        }
        c.stdin(Stdio::null());
        c
    }
    /// Export a secret key from the lab's GnuPG home into `dir`.
    pub fn export_secret_key(&self, fpr: &str, dir: &Path, name: &str) -> PathBuf {
        let out = run(self.cmd("gpg").args(["--batch", "--export-secret-keys", fpr]));
        assert!(
            out.status.success() && !out.stdout.is_empty(),
            "gpg export failed: {}",
            stderr(&out)
        );
        let p = dir.join(name);
        std::fs::write(&p, &out.stdout).unwrap();
        p
    }
}

fn parse_env(path: &Path) -> HashMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

/// The lab, started once per test binary. `IMGSIG_LAB_DIR` names a lab that
/// is already up (scripts/test starts one); otherwise one is started here
/// and a watchdog stops it when this test process exits.
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        if let Some(dir) = std::env::var_os("IMGSIG_LAB_DIR") {
            let dir = PathBuf::from(dir);
            let vars = parse_env(&dir.join("env.sh"));
            return Lab { dir, vars };
        }
        let script = shared().join("peer-lab/lab.sh");
        // Short path: gpg-agent socket paths are limited to 108 bytes.
        let dir = PathBuf::from(format!("/tmp/imgsig-lab-{}", std::process::id()));
        let out = Command::new(&script).arg("up").arg(&dir).stdin(Stdio::null()).output().expect("run lab.sh");
        assert!(
            out.status.success(),
            "lab.sh up failed (install the lab's packages: {} install):\n{}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let watchdog = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; '{script}' down '{dir}' >/dev/null 2>&1; rm -rf '{dir}'",
            pid = std::process::id(),
            script = script.display(),
            dir = dir.display()
        );
        // The watchdog must outlive this process, so it is never waited for.
        #[allow(clippy::zombie_processes)]
        Command::new("setsid")
            .args(["sh", "-c", &watchdog])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start lab watchdog");
        let vars = parse_env(&dir.join("env.sh"));
        Lab { dir, vars }
    })
}
