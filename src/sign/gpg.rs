//! gpg-agent as a [`Signer`](super::Signer): the key is chosen as `gpg -u`
//! chooses it (`gpg --list-secret-keys` in colon form, run through
//! [`crate::child`]), its public certificate exported with `gpg --export`,
//! and each signature made by gpg-agent (a new connection per signature, so
//! several can be in flight). gpg and gpgconf inherit this process's
//! environment (GNUPGHOME); the GnuPG home sequoia's agent client uses is
//! [`GpgOptions::home`].

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::child::{self, Limits, RunError, Stderr};
use crate::limits::MAX_KEY_FILE_SIZE;
use crate::pgp::{Keyring, SigningKey};
use crate::Reason;

use super::{SignError, Signer};

/// How long one gpg or gpgconf call may take (gpg waits for a locked keyring
/// without a limit of its own).
const GPG_TIMEOUT: Duration = Duration::from_secs(60);

/// How to reach GnuPG.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct GpgOptions {
    /// The GnuPG home directory (GNUPGHOME) for gpg-agent's socket; `None`:
    /// GnuPG's default.
    pub home: Option<PathBuf>,
    /// The key's passphrase, given to gpg-agent (loopback pinentry) instead
    /// of letting it ask.
    pub passphrase: Option<String>,
    /// How messages name the key (default: `key "SELECTOR"`).
    pub name: Option<String>,
}

/// One secret key gpg knows: primary fingerprint and first user ID.
#[derive(Debug, PartialEq, Eq)]
struct SecretKey {
    fingerprint: String,
    user_id: String,
}

/// Run gpg quietly (its own messages are not passed through; failures are
/// reported in imgsig's words), within [`GPG_TIMEOUT`] and
/// [`MAX_KEY_FILE_SIZE`] bytes of output.
fn gpg_output(args: &[&str]) -> Result<child::Finished, SignError> {
    let limits = Limits {
        timeout: Some(GPG_TIMEOUT),
        max_output: MAX_KEY_FILE_SIZE,
        stderr: Stderr::Capture(64 * 1024),
    };
    let all = ["--batch"].iter().chain(args);
    child::run("gpg", all, b"", &limits).map_err(|e| match e {
        RunError::Start(e) => SignError::outside(Reason::SigningFailed, format!("cannot run gpg: {e}")),
        e => SignError::outside(Reason::SigningFailed, format!("gpg {}: {e}", args.join(" "))),
    })
}

/// The secret keys of a `gpg --with-colons --list-secret-keys` listing.
fn parse_secret_keys(listing: &str) -> Vec<SecretKey> {
    let mut keys: Vec<SecretKey> = Vec::new();
    let mut in_primary = false;
    for line in listing.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f.first().copied() {
            Some("sec") => {
                in_primary = true;
                keys.push(SecretKey {
                    fingerprint: String::new(),
                    user_id: String::new(),
                });
            }
            Some("ssb") => in_primary = false,
            Some("fpr") if in_primary => {
                if let Some(k) = keys.last_mut().filter(|k| k.fingerprint.is_empty()) {
                    k.fingerprint = f.get(9).copied().unwrap_or_default().to_owned();
                }
            }
            Some("uid") => {
                if let Some(k) = keys.last_mut().filter(|k| k.user_id.is_empty()) {
                    // gpg escapes ':' and control characters as \xNN in colon listings.
                    k.user_id = f.get(9).copied().unwrap_or_default().replace("\\x3a", ":");
                }
            }
            _ => {}
        }
    }
    keys.retain(|k| !k.fingerprint.is_empty());
    keys
}

impl Signer {
    /// The key of the GnuPG keyring `selector` names, as `gpg -u` reads it
    /// (a fingerprint, a (long) key ID, an e-mail address or a user ID
    /// substring); the secret key stays in gpg-agent (smartcards too).
    /// Codes: `no-secret-key`, `ambiguous-key`, `unusable-signing-key`,
    /// `signing-failed` (gpg could not be run).
    pub fn gpg_agent(selector: &str, options: &GpgOptions, now: SystemTime) -> Result<Signer, SignError> {
        let name = options.name.clone().unwrap_or_else(|| format!("key {selector:?}"));
        // Like gpg: make sure gpg-agent runs (it is started on demand; a killed or
        // never-started agent is no reason to fail). Best effort: if it cannot be
        // started, signing says so.
        let _ = child::run(
            "gpgconf",
            ["--launch", "gpg-agent"],
            b"",
            &Limits {
                timeout: Some(GPG_TIMEOUT),
                max_output: 64 * 1024,
                stderr: Stderr::Null,
            },
        );
        let listing = gpg_output(&["--with-colons", "--list-secret-keys", "--", selector])?;
        let keys = parse_secret_keys(&String::from_utf8_lossy(&listing.stdout));
        let key = match keys.as_slice() {
            [one] => one,
            [] => {
                let public = gpg_output(&["--with-colons", "--list-keys", "--", selector])?;
                let has_public = String::from_utf8_lossy(&public.stdout)
                    .lines()
                    .any(|l| l.starts_with("pub:"));
                return Err(SignError::input(
                    Reason::NoSecretKey,
                    if has_public {
                        format!("{name}: the GnuPG keyring (GNUPGHOME) has only the public key; there is no secret key to sign with")
                    } else {
                        format!("{name}: no secret key in the GnuPG keyring (GNUPGHOME) matches")
                    },
                ));
            }
            many => {
                return Err(SignError::input(
                    Reason::AmbiguousKey,
                    format!(
                        "{name} matches {} secret keys; name one by its fingerprint:\n{}",
                        many.len(),
                        many.iter()
                            .map(|k| format!("  {} {}", k.fingerprint, k.user_id.escape_debug()))
                            .collect::<Vec<_>>()
                            .join("\n")
                    ),
                ))
            }
        };
        let fpr = key.fingerprint.as_str();
        let out = gpg_output(&["--export", "--", fpr])?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(SignError::input(
                Reason::NoSecretKey,
                format!("{name}: gpg could not export the public key {fpr}"),
            ));
        }
        // A selector that is itself a (sub)key's fingerprint or key ID picks that key.
        let hex = selector.trim().trim_start_matches("0x").replace(' ', "");
        let wanted = if hex.len() >= 16 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
            hex
        } else {
            fpr.to_owned()
        };
        let key = agent_key(options, &out.stdout, &wanted, now)
            .map_err(|e| SignError::input(Reason::UnusableSigningKey, format!("{name} ({fpr}): {e}")))?;
        Ok(Signer::from_agent_key(key))
    }
}

/// A signer whose secret key stays in gpg-agent: `cert_bytes` is the public
/// certificate (`gpg --export FPR`), `fingerprint` names the certificate or
/// one of its signing subkeys, by fingerprint or (long) key ID.
fn agent_key(
    options: &GpgOptions,
    cert_bytes: &[u8],
    fingerprint: &str,
    now: SystemTime,
) -> Result<SigningKey, String> {
    use sequoia_openpgp::policy::StandardPolicy;
    let policy = StandardPolicy::new();
    let want = fingerprint.trim().to_ascii_uppercase().replace(' ', "");
    let names = |k: &sequoia_openpgp::packet::Key<_, _>| k.fingerprint().to_hex() == want || k.keyid().to_hex() == want;
    let certs = Keyring::parse_certs(cert_bytes).map_err(|e| format!("the exported public key: {e}"))?;
    let cert = certs
        .into_iter()
        .find(|c| c.keys().any(|k| names(k.key())))
        .ok_or_else(|| format!("no key {want} in the exported certificate"))?;
    let vc = cert
        .with_policy(&policy, now)
        .map_err(|e| format!("key {want} is not valid: {e:#}"))?;
    let usable = || vc.keys().alive().revoked(false).for_signing();
    // The named subkey if it can sign, else the certificate's newest signing key.
    let ka = usable()
        .find(|k| names(k.key()))
        .or_else(|| usable().max_by_key(|k| k.key().creation_time()))
        .ok_or_else(|| format!("key {want} has no valid, unexpired, unrevoked signing-capable (sub)key"))?;
    let ctx = match &options.home {
        Some(h) => sequoia_gpg_agent::gnupg::Context::with_homedir(h),
        None => sequoia_gpg_agent::gnupg::Context::new(),
    }
    .map_err(|e| format!("GnuPG: {e:#}"))?;
    // Each signature makes its own key pair (a socket path and prompts; it
    // connects when it signs), so several signatures can be in flight.
    let socket = ctx
        .socket("agent")
        .map_err(|e| format!("gpg-agent: {e:#}"))?
        .to_path_buf();
    let public = cert.clone().strip_secret_key_material();
    let signing_key = ka.key().clone();
    let signing_fingerprint = signing_key.fingerprint().to_hex();
    let passphrase: Option<sequoia_openpgp::crypto::Password> = options.passphrase.as_deref().map(Into::into);
    let for_prompt = public.clone();
    let make = move || {
        let policy = StandardPolicy::new();
        let vc = for_prompt
            .with_policy(&policy, now)
            .map_err(|e| crate::pgp::SignError::new(format!("{e:#}")))?;
        let mut kp = sequoia_gpg_agent::KeyPair::new_for_socket(&socket, &signing_key)
            .map_err(|e| crate::pgp::SignError::new(format!("gpg-agent: {e:#}")))?
            .with_cert(&vc);
        if let Some(p) = &passphrase {
            kp = kp.with_password(p.clone());
        }
        Ok(Box::new(kp) as Box<dyn sequoia_openpgp::crypto::Signer + Send + Sync>)
    };
    Ok(SigningKey::from_signers(public, signing_fingerprint, Box::new(make)))
}

/// A failed signature from a key: gpg-agent reports why with libgpg-error's
/// fixed descriptions (sequoia's agent client keeps the description, not the
/// numeric code), so those name the cause: a wrong passphrase
/// (`GPG_ERR_BAD_PASSPHRASE`, "Bad passphrase": given with loopback pinentry
/// or typed into pinentry), no pinentry (no terminal to ask for the
/// passphrase on) and no secret key (the agent lacks the key).
pub(super) fn signing_failure(e: &crate::pgp::SignError, fingerprint: &str) -> SignError {
    let detail = e.detail();
    let message = e.to_string();
    if detail.contains("Bad passphrase") {
        // The same mistake as a wrong passphrase for a key file: the user's
        // input, exit 2; retrying with the same passphrase cannot help.
        SignError::input(
            Reason::WrongPassphrase,
            format!("gpg-agent refused the passphrase for key {fingerprint}: {message}"),
        )
        .with_hint("gpg-agent refused the passphrase for the key: check --passphrase-file FILE or IMGSIG_PASSPHRASE")
    } else if detail.to_ascii_lowercase().contains("pinentry") || detail.contains("Inappropriate ioctl") {
        SignError::outside(Reason::SigningFailed, message).with_hint(
            "gpg-agent could not ask for the passphrase (no terminal for pinentry): set GPG_TTY=$(tty) in this shell, or give --passphrase-file FILE or IMGSIG_PASSPHRASE",
        )
    } else if detail.contains("No secret key") {
        SignError::input(Reason::NoSecretKey, message)
    } else {
        SignError::outside(Reason::SigningFailed, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_listing_primary_keys_and_first_user_ids() {
        let listing = "sec:u:255:22:AAAA:1:::u:::scESC:::+:::ed25519:::0:\n\
                       fpr:::::::::1111AAAA:\n\
                       grp:::::::::G:\n\
                       uid:u::::1::H::Jane \\x3a Doe <j@example.com>::::::::::0:\n\
                       uid:u::::1::H::Second::::::::::0:\n\
                       ssb:u:255:18:BBBB:1::::::e:::+:::cv25519::\n\
                       fpr:::::::::2222BBBB:\n\
                       sec:u:255:22:CCCC:1:::u:::scESC:::+:::ed25519:::0:\n\
                       fpr:::::::::3333CCCC:\n";
        assert_eq!(
            parse_secret_keys(listing),
            vec![
                SecretKey {
                    fingerprint: "1111AAAA".into(),
                    user_id: "Jane : Doe <j@example.com>".into()
                },
                SecretKey {
                    fingerprint: "3333CCCC".into(),
                    user_id: String::new()
                },
            ]
        );
        assert!(parse_secret_keys("").is_empty());
    }
}
