//! `imgsig sign`'s key-source flags (`--key`, `--sign-by`, `--sign-cmd`,
//! `--sigstore-key`) and what they need from files and the environment,
//! turned into the library's one [`Signer`].

use std::path::{Path, PathBuf};

use clap::Args;
use std::time::SystemTime;

use anyhow::anyhow;

use super::inputs::passphrase;
use super::io::read_limited;
use super::sign_render::failure;
use super::{Failure, FileArg};
use crate::limits::MAX_KEY_FILE_SIZE as MAX_KEY_SIZE;
use imgsig::sign::{GpgOptions, Signer};
use imgsig::Reason;

// The key-source flags (a plain comment: a doc comment would become the
// `about` of the command that flattens them). `sign` requires one of them.
#[derive(Debug, Args)]
pub struct KeyArgs {
    /// OpenPGP secret key file (armored or binary) holding exactly one key
    #[arg(long, value_name = "KEYFILE")]
    pub key: Option<PathBuf>,
    /// Sign with this key of your GnuPG keyring through gpg-agent, named as `gpg -u` names it: fingerprint, key ID, e-mail or user ID (smartcards too; the secret key never leaves the agent; GNUPGHOME honoured)
    #[arg(long = "sign-by", value_name = "KEY")]
    pub sign_by: Option<String>,
    /// Sign with an external command (run by sh -c): the claim on stdin, a binary OpenPGP signed message on stdout
    #[arg(long = "sign-cmd", value_name = "COMMAND", requires = "signer_cert")]
    pub sign_cmd: Option<String>,
    /// The public key the --sign-cmd signature must verify against
    #[arg(long = "signer-cert", value_name = "FILE", requires = "sign_cmd")]
    pub signer_cert: Option<PathBuf>,
    /// Make a sigstore (cosign) signature with this private key: the encrypted key file cosign generate-key-pair, skopeo generate-sigstore-key or `imgsig generate-key --sigstore` write
    #[arg(long = "sigstore-key", value_name = "KEYFILE")]
    pub sigstore_key: Option<PathBuf>,
}

/// The signer the flags name, with what it needs from files and the environment.
pub fn load_signer(args: &KeyArgs, passphrase_file: Option<&Path>, now: SystemTime) -> Result<Signer, Failure> {
    let pass = || passphrase(passphrase_file);
    if let Some(path) = &args.sigstore_key {
        let bytes = read_limited("sigstore key file", &FileArg::Path(path.clone()), MAX_KEY_SIZE)?;
        let name = format!("sigstore key file {}", path.display());
        return Signer::sigstore_key(&bytes, pass()?.as_deref(), &name).map_err(|e| match e.code {
            Reason::PassphraseNeeded => Failure::input(
                e.code,
                anyhow!(
                    "{name}: the key is encrypted with a passphrase: give --passphrase-file FILE or IMGSIG_PASSPHRASE"
                ),
            ),
            _ => failure(e),
        });
    }
    if let Some(selector) = &args.sign_by {
        let mut options = GpgOptions::default();
        options.home = std::env::var_os("GNUPGHOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        options.passphrase = pass()?;
        options.name = Some(format!("--sign-by {selector:?}"));
        return Signer::gpg_agent(selector, &options, now).map_err(failure);
    }
    match (&args.key, &args.sign_cmd, &args.signer_cert) {
        (Some(k), _, _) => {
            let bytes = read_limited("key file", &FileArg::Path(k.clone()), MAX_KEY_SIZE)?;
            Signer::key_file(&bytes, pass()?.as_deref(), &format!("key file {}", k.display()), now).map_err(failure)
        }
        (None, Some(cmd), Some(cert)) => Ok(Signer::command(
            cmd.clone(),
            super::inputs::load_keyrings(std::slice::from_ref(cert))?,
        )),
        _ => Err(Failure::input(
            Reason::Usage,
            anyhow!("give --key FILE, or --sign-cmd COMMAND with --signer-cert FILE"),
        )),
    }
}
