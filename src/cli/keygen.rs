//! `imgsig generate-key --sigstore`: a new sigstore (cosign) key pair, as
//! `skopeo generate-sigstore-key` and `cosign generate-key-pair` write it.
//!
//! OpenPGP keys are GnuPG's business (`gpg --quick-generate-key`); imgsig
//! signs with the keys people already have.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::Args;
use serde::Serialize;

use super::inputs::passphrase;
use super::io::{write_atomic, write_new_private};
use super::output::{print_json, SCHEMA_VERSION};
use super::{Exit, Failure, OutputFormat};
use imgsig::sigstore::PrivateKey;
use imgsig::Reason;

pub const EXAMPLES: &str = "EXAMPLES:
  # A new sigstore key pair: mykey.private (encrypted; mode 0600) and mykey.pub
  imgsig generate-key --sigstore --output-prefix mykey --passphrase-file pass.txt

  # Sign with it; trust it in policy.json with a sigstoreSigned keyPath: mykey.pub
  imgsig sign --sigstore-key mykey.private --passphrase-file pass.txt \\
      docker://registry.example.com/ns/app:1.0

OpenPGP keys are made with GnuPG (gpg --quick-generate-key); imgsig signs with them as they are.";

#[derive(Debug, Args)]
pub struct GenerateKeyArgs {
    /// Generate a sigstore (cosign) key pair: ECDSA P-256, the private key encrypted with scrypt + secretbox as cosign and skopeo read it (required: the one kind imgsig generates)
    #[arg(long)]
    pub sigstore: bool,
    /// Write the private key to PREFIX.private and the public key to PREFIX.pub (as `skopeo generate-sigstore-key` does); existing files are never replaced
    #[arg(long = "output-prefix", value_name = "PREFIX")]
    pub output_prefix: PathBuf,
    /// Read the passphrase that encrypts the private key from the first line of FILE (else $IMGSIG_PASSPHRASE)
    #[arg(long = "passphrase-file", value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct GenerateKeyDoc {
    schema_version: u32,
    command: &'static str,
    format: &'static str,
    algorithm: &'static str,
    private_key: String,
    public_key: String,
    fingerprint: String,
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

pub fn run(args: GenerateKeyArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if !args.sigstore {
        return Err(Failure::input(
            Reason::Usage,
            anyhow!("give --sigstore: imgsig generates sigstore keys only; make OpenPGP keys with GnuPG (gpg --quick-generate-key) and sign with --key or --sign-by"),
        ));
    }
    let private_path = with_suffix(&args.output_prefix, ".private");
    let public_path = with_suffix(&args.output_prefix, ".pub");
    // Like skopeo: neither file may exist, checked before any work is done.
    for p in [&private_path, &public_path] {
        if p.symlink_metadata().is_ok() {
            return Err(Failure::input(
                Reason::OutputExists,
                anyhow!(
                    "{} already exists; refusing to overwrite a key (choose another --output-prefix)",
                    p.display()
                ),
            ));
        }
    }
    let pass = passphrase(args.passphrase_file.as_deref())?.ok_or_else(|| {
        Failure::input(
            Reason::PassphraseNeeded,
            anyhow!("the private key is encrypted with a passphrase: give --passphrase-file FILE or IMGSIG_PASSPHRASE (an empty file for none)"),
        )
    })?;
    if pass.is_empty() {
        eprintln!("imgsig: warning: the private key is not protected by a passphrase (an empty one was given)");
    }
    let generated = PrivateKey::generate(pass.as_bytes())
        .map_err(|e| Failure::outside(e.code, anyhow!("generating the key: {}", e.message)))?;
    write_new_private(&private_path, &generated.private_pem)?;
    if let Err(e) = write_atomic(&public_path, &generated.public_pem, false) {
        // Leave no half pair behind: the private key was created just now, by us.
        let _ = std::fs::remove_file(&private_path);
        return Err(e);
    }
    let fingerprint = generated.key.fingerprint();
    eprintln!(
        "imgsig: wrote sigstore private key {} and public key {} ({fingerprint})",
        private_path.display(),
        public_path.display()
    );
    if format == OutputFormat::Json {
        print_json(&GenerateKeyDoc {
            schema_version: SCHEMA_VERSION,
            command: "generate-key",
            format: "sigstore",
            algorithm: generated.key.public_key().algorithm(),
            private_key: private_path.display().to_string(),
            public_key: public_path.display().to_string(),
            fingerprint,
        });
    }
    Ok(Exit::Ok)
}
