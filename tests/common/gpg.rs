//! A throwaway GnuPG home with one ed25519 signing key, for tests that sign
//! through the real gpg-agent (`--sign-by`) or a real `gpg` signing command.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::{run, stderr};

/// A GnuPG home under /tmp (gpg-agent's socket path is short); its agent is
/// killed on drop.
pub struct GpgHome {
    pub home: tempfile::TempDir,
    /// The key's fingerprint.
    pub fpr: String,
    /// Its public key, exported (binary).
    pub public: PathBuf,
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        self.kill_agent();
    }
}

impl GpgHome {
    /// A key for `uid` protected by `passphrase` (`""`: none).
    pub fn new(uid: &str, passphrase: &str) -> GpgHome {
        let home = tempfile::Builder::new().prefix("igp").tempdir_in("/tmp").unwrap();
        let gpg = |args: &[&str]| {
            let o = run(Command::new("gpg")
                .env("GNUPGHOME", home.path())
                .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", passphrase])
                .args(args));
            assert!(o.status.success(), "gpg {args:?}: {}", stderr(&o));
            o.stdout
        };
        gpg(&["--quick-gen-key", uid, "ed25519", "sign", "never"]);
        let listing = String::from_utf8(gpg(&["--with-colons", "--list-keys"])).unwrap();
        let fpr = listing
            .lines()
            .find(|l| l.starts_with("fpr:"))
            .and_then(|l| l.split(':').nth(9))
            .unwrap()
            .to_owned();
        let public = home.path().join("pub.gpg");
        std::fs::write(&public, gpg(&["--export", &fpr])).unwrap();
        GpgHome { home, fpr, public }
    }

    /// Stop the agent (it forgets cached passphrases; the next use starts it).
    pub fn kill_agent(&self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", self.home.path())
            .output();
    }

    /// `program` with this GNUPGHOME and stdin closed.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("GNUPGHOME", self.home.path()).stdin(Stdio::null());
        c
    }
}
