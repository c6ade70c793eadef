//! Docker credential helpers: `docker-credential-<name> get`, as containers/image runs them
//! for a `credHelpers` entry (`pkg/docker/config` `getCredsFromCredHelper`, through
//! docker-credential-helpers' `client.Get`).
//!
//! The protocol: the program `docker-credential-<name>` (found on `PATH`) is run with the
//! argument `get`; its stdin is the server (the registry `host[:port]`); on success it exits 0
//! and prints `{"ServerURL": …, "Username": …, "Secret": …}` (Go `encoding/json`: field names
//! case-insensitive, unknown fields ignored, only the first value read). A `Username` of
//! `<token>` makes `Secret` an identity (refresh) token. On failure it exits non-zero with the
//! message on stdout; the message `credentials not found in native keychain` means "not logged
//! in" and is not an error. The helper's stderr is passed through (it may prompt there).
//!
//! Beyond c/image, on purpose: the helper gets a time limit and its output a size limit
//! ([`MAX_HELPER_OUTPUT`]), and its answer is taken when it exits, even if a background process
//! it left holds its stdout open ([`crate::child`]); a helper name that is empty or contains a path separator is refused
//! (c/image would run `docker-credential-` or a path relative to the working directory); a
//! helper that fails is never asked again in the same run (the caller caches).

use std::time::Duration;

use crate::child::{self, Limits, RunError, Stderr};
use crate::json::go_fold;

/// What a helper answered (the caller turns it into its credential type).
#[derive(Clone, PartialEq, Eq)]
pub enum HelperAnswer {
    /// The helper has no credentials for the server.
    NotFound,
    /// `Username` and `Secret`: HTTP Basic credentials.
    Basic {
        /// `Username`.
        username: String,
        /// `Secret`.
        password: String,
    },
    /// `Username` `<token>`: `Secret` is an identity (refresh) token.
    IdentityToken {
        /// `Secret`.
        token: String,
    },
}

impl std::fmt::Debug for HelperAnswer {
    // Never prints a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HelperAnswer::NotFound => f.write_str("NotFound"),
            HelperAnswer::Basic { username, .. } => write!(f, "Basic {{ username: {username:?}, .. }}"),
            HelperAnswer::IdentityToken { .. } => f.write_str("IdentityToken { .. }"),
        }
    }
}

/// Largest helper output read, in bytes.
pub const MAX_HELPER_OUTPUT: usize = 1 << 20;

/// What a helper prints when it has no credentials for the server.
pub const NOT_FOUND_MESSAGE: &str = "credentials not found in native keychain";

/// A credential helper could not be run or failed. Messages never contain the helper's
/// successful output (it holds the secret).
#[derive(Debug, Clone, thiserror::Error)]
#[error("credential helper {program} for {server}: {message}")]
pub struct HelperError {
    /// `docker-credential-<name>`.
    pub program: String,
    /// What the helper was asked for: the registry `host[:port]` (for `credsStore` and
    /// Docker Hub, `https://index.docker.io/v1/`).
    pub server: String,
    /// What went wrong: not installed, timed out, its exit status and message, or an
    /// unreadable answer.
    pub message: String,
}

/// Ask `docker-credential-<helper>` for the credentials of `server`, within `timeout`.
/// [`HelperAnswer::NotFound`] when the helper has none.
pub fn get(helper: &str, server: &str, timeout: Duration) -> Result<HelperAnswer, HelperError> {
    let program = format!("docker-credential-{helper}");
    let fail = |message: String| HelperError {
        program: program.clone(),
        server: server.to_owned(),
        message,
    };
    if helper.is_empty() || helper.contains(['/', '\\', '\0']) {
        return Err(fail(
            "not a usable helper name (it must be a plain name, found on PATH)".into(),
        ));
    }
    let limits = Limits {
        timeout: Some(timeout),
        max_output: MAX_HELPER_OUTPUT,
        stderr: Stderr::Inherit,
    };
    let done = child::run(&program, ["get"], server.as_bytes(), &limits).map_err(|e| {
        fail(match e {
            e if e.is_not_found() => format!("{program} is not installed (not found on PATH)"),
            RunError::Start(e) => format!("cannot run {program}: {e}"),
            RunError::TimedOut(_) => timed_out(timeout),
            RunError::TooMuchOutput(_) => format!("printed more than {MAX_HELPER_OUTPUT} bytes"),
            e => format!("reading its output: {e}"),
        })
    })?;
    let (status, out) = (done.status, done.stdout);
    if !status.success() {
        let text = String::from_utf8_lossy(&out);
        let text = text.trim();
        if text == NOT_FOUND_MESSAGE {
            return Ok(HelperAnswer::NotFound);
        }
        let shown: String = text.chars().take(300).collect();
        let ellipsis = if shown.len() < text.len() { "…" } else { "" };
        return Err(fail(format!("{status}: {shown:?}{ellipsis}")));
    }
    parse_output(&out).map_err(fail)
}

fn timed_out(timeout: Duration) -> String {
    format!(
        "did not finish within {} s (the --timeout); it was stopped",
        timeout.as_secs()
    )
}

/// The helper's JSON answer, read like Go's `json.Decoder.Decode` into
/// `credentials.Credentials`.
fn parse_output(out: &[u8]) -> Result<HelperAnswer, String> {
    let value = serde_json::Deserializer::from_slice(out)
        .into_iter::<serde_json::Value>()
        .next()
        .ok_or_else(|| "printed no JSON answer".to_owned())?
        // Never echo the output: it may hold the secret.
        .map_err(|e| {
            format!(
                "its answer is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            )
        })?;
    let (mut username, mut secret) = (String::new(), String::new());
    match value {
        serde_json::Value::Null => {}
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let field = match go_fold(&k).as_str() {
                    "USERNAME" => &mut username,
                    "SECRET" => &mut secret,
                    _ => continue,
                };
                match v {
                    serde_json::Value::String(s) => *field = s,
                    serde_json::Value::Null => {}
                    _ => return Err(format!("its answer's {k:?} is not a string")),
                }
            }
        }
        _ => return Err("its answer is not a JSON object".into()),
    }
    Ok(if username == "<token>" {
        if secret.is_empty() {
            HelperAnswer::NotFound
        } else {
            HelperAnswer::IdentityToken { token: secret }
        }
    } else if username.is_empty() && secret.is_empty() {
        HelperAnswer::NotFound
    } else {
        HelperAnswer::Basic {
            username,
            password: secret,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_like_go() {
        let basic = |u: &str, p: &str| HelperAnswer::Basic {
            username: u.into(),
            password: p.into(),
        };
        assert_eq!(
            parse_output(br#"{"ServerURL":"r","Username":"u","Secret":"p"}"#).unwrap(),
            basic("u", "p")
        );
        assert_eq!(
            parse_output(br#"{"username":"u","SECRET":"p","x":1} trailing"#).unwrap(),
            basic("u", "p")
        );
        assert_eq!(
            parse_output(br#"{"Username":"<token>","Secret":"t"}"#).unwrap(),
            HelperAnswer::IdentityToken { token: "t".into() }
        );
        assert_eq!(parse_output(b"null").unwrap(), HelperAnswer::NotFound);
        assert_eq!(
            parse_output(br#"{"Username":"","Secret":""}"#).unwrap(),
            HelperAnswer::NotFound
        );
        for bad in [&b""[..], b"[]", b"\"s3cret\"", br#"{"Secret":5}"#, b"{"] {
            let e = parse_output(bad).unwrap_err();
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
