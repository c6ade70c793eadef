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

/// Every reason, requirement, finding and error code is documented in
/// docs/json-output.md (codes are an API; an undocumented one is a bug): each
/// code of [`imgsig::Reason`], the one type every `code` of the library and
/// the CLI is. And the other way: every code in the doc's code tables is one.
#[test]
fn json_doc_lists_every_code() {
    let doc = std::fs::read_to_string(repo().join("docs/json-output.md")).expect("read docs/json-output.md");
    let all = imgsig::Reason::ALL;
    assert!(all.len() >= 100, "only {} codes", all.len());
    let mut seen = std::collections::BTreeSet::new();
    for code in all {
        let s = code.as_str();
        let kebab = !s.is_empty()
            && !s.starts_with('-')
            && !s.ends_with('-')
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        assert!(kebab, "{code:?}: {s:?} is not kebab-case");
        assert!(seen.insert(s), "{s} declared twice");
    }
    let missing: Vec<&str> = all
        .iter()
        .map(|c| c.as_str())
        .filter(|code| !doc.contains(&format!("`{code}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from docs/json-output.md: {missing:?}"
    );
    // The code tables: from "## Reason codes" on, a row's first cell.
    let tables = &doc[doc.find("## Reason codes").expect("a Reason codes section")..];
    let documented: Vec<&str> = tables
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once(" |").map(|(cell, _)| cell))
        .flat_map(|cell| cell.split(", "))
        .map(|c| c.trim_matches('`'))
        .collect();
    assert!(
        documented.len() >= all.len(),
        "found only {} documented codes",
        documented.len()
    );
    let unknown: Vec<&&str> = documented.iter().filter(|c| !seen.contains(**c)).collect();
    assert!(unknown.is_empty(), "documented codes that are no Reason: {unknown:?}");
}
