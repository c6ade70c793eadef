//! The CLI as a user sees it: transcripts of every command's help, success
//! and error messages and exit codes (`tests/cmd/*.toml` and `*.trycmd`, run
//! by trycmd), and a check that docs/cli.md is the current `--help` text.
//!
//! Update the transcripts after an intended change with
//! `TRYCMD=overwrite cargo test --test cli`, then review every diff: a
//! snapshot must show behaviour a user can rely on, never a bug.
//!
//! Inputs: `tests/cmd/fixtures/` holds copies of a few containers/image
//! reference fixtures (cases with `fs.cwd = "fixtures"`); sign cases run in a
//! sandbox copy of `examples/` (`fs.base = "../../examples"`), so the demo key
//! is not duplicated and nothing is written into the repository.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn cli_transcripts() {
    trycmd::TestCases::new()
        .default_bin_name("imgsig")
        .register_bin("imgsig", Path::new(env!("CARGO_BIN_EXE_imgsig")))
        // With no terminal on any stream clap wraps help at $COLUMNS (else
        // 100): pin it, and keep a developer's colour settings out.
        .env("COLUMNS", "100")
        .env("NO_COLOR", "1")
        .case("tests/cmd/*.toml")
        .case("tests/cmd/*.trycmd");
}

/// docs/cli.md is generated from `--help` by scripts/gen-cli-doc; fail when
/// the help text changed and the document was not regenerated.
#[test]
fn cli_doc_matches_help() {
    let root = repo();
    let out = Command::new("bash")
        .arg(root.join("scripts/gen-cli-doc"))
        .arg("--stdout")
        .env("IMGSIG", env!("CARGO_BIN_EXE_imgsig"))
        .current_dir(&root)
        .stdin(Stdio::null())
        .output()
        .expect("run scripts/gen-cli-doc");
    assert!(
        out.status.success(),
        "scripts/gen-cli-doc failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let generated = String::from_utf8(out.stdout).expect("generated doc is UTF-8");
    let committed = std::fs::read_to_string(root.join("docs/cli.md")).unwrap_or_default();
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(g, c)| g != c)
            .unwrap_or_else(|| generated.lines().count().min(committed.lines().count()));
        panic!(
            "docs/cli.md is out of date with the --help output (first difference at line {}):\n  help: {:?}\n  doc:  {:?}\nRun scripts/gen-cli-doc and commit docs/cli.md.",
            line + 1,
            generated.lines().nth(line).unwrap_or("<end of file>"),
            committed.lines().nth(line).unwrap_or("<end of file>"),
        );
    }
}

/// The reason codes the library declares as types (`reason_codes!`): every
/// code of each enum, and the enum's name.
fn typed_codes() -> Vec<(&'static str, String)> {
    fn all<C: Copy>(name: &str, codes: &[C], as_str: fn(C) -> &'static str) -> Vec<(&'static str, String)> {
        assert!(!codes.is_empty(), "{name} has no codes");
        codes.iter().map(|&c| (as_str(c), name.to_owned())).collect()
    }
    use imgsig::pgp::{EnvelopeCode, KeyCode};
    use imgsig::policy::edit::EditCode;
    use imgsig::registry::network::NetworkCode;
    use imgsig::registry::RegistryCode;
    use imgsig::signature::blob::BlobCode;
    [
        all("EnvelopeCode", EnvelopeCode::ALL, EnvelopeCode::as_str),
        all("KeyCode", KeyCode::ALL, KeyCode::as_str),
        all("RegistryCode", RegistryCode::ALL, RegistryCode::as_str),
        all("NetworkCode", NetworkCode::ALL, NetworkCode::as_str),
        all("BlobCode", BlobCode::ALL, BlobCode::as_str),
        all("EditCode", EditCode::ALL, EditCode::as_str),
    ]
    .concat()
}

/// Every reason, finding and error code is documented in
/// docs/json-output.md (codes are an API; an undocumented one is a bug):
/// the codes of the library's code enums ([`typed_codes`]), and the code
/// literals still written at call sites in the source.
#[test]
fn json_doc_lists_every_code() {
    let doc = std::fs::read_to_string(repo().join("docs/json-output.md")).expect("read docs/json-output.md");
    let mut codes: std::collections::BTreeSet<(String, String)> =
        typed_codes().into_iter().map(|(c, e)| (c.to_owned(), e)).collect();
    assert!(codes.len() >= 38, "only {} typed codes", codes.len());
    for file in rust_files(&repo().join("src")) {
        let text = std::fs::read_to_string(&file).expect("read source");
        let rel = file
            .strip_prefix(repo())
            .unwrap_or(&file)
            .to_string_lossy()
            .into_owned();
        // Calls that take the code as their first argument, and `code: "…"` fields.
        let mut needles = vec![
            "Failure::input(",
            "Failure::outside(",
            "Failure::no(",
            "VerifyError::input(",
            "VerifyError::outside(",
            "Rejection::new(",
            "rr(",
            "finding(",
            "code: ",
        ];
        // `match` arms mapping errors to codes, in the one file that still
        // maps them in place (the library's error types have code enums).
        if rel.ends_with("cli/sign.rs") {
            needles.push("=> ");
        }
        for needle in needles {
            for (at, _) in text.match_indices(needle) {
                // A whole word: `rr(` must not match `err(`.
                let before = text[..at].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = text[at + needle.len()..].trim_start();
                let Some(lit) = rest.strip_prefix('"').and_then(|r| r.split_once('"')).map(|(l, _)| l) else {
                    continue;
                };
                let kebab = !lit.is_empty()
                    && !lit.starts_with('-')
                    && !lit.ends_with('-')
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if kebab {
                    codes.insert((lit.to_owned(), rel.clone()));
                }
            }
        }
    }
    assert!(
        codes.len() > 40,
        "found only {} codes; has the source layout changed?",
        codes.len()
    );
    let missing: Vec<String> = codes
        .iter()
        .filter(|(code, _)| !doc.contains(&format!("`{code}`")))
        .map(|(code, file)| format!("{code} ({file})"))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from docs/json-output.md: {missing:?}"
    );
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}
