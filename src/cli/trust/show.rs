//! `imgsig trust show`: the policy as `podman image trust show` lists it.
//! The rows are [`imgsig::policy::edit::entries`]; here they become
//! podman's table or the JSON document.
//!
//! The table as podman 4.3.1 prints it: `docker` shown as `repository`; ID
//! the user IDs of a `signedBy` requirement's keys, each shown like podman
//! (the address inside `<…>` when there is one; `--output json` has the
//! whole user IDs and the fingerprints), `N/A` for `sigstoreSigned`; columns
//! laid out like Go's tabwriter (minimum width 12, padding 2); `--raw`
//! prints the file byte for byte (podman adds a newline); `-n` drops the
//! headings.

use std::path::PathBuf;

use anyhow::anyhow;
use serde::Serialize;

use super::super::inputs::load_policy;
use super::super::io::{read_limited, write_stdout};
use super::super::output::{print_json, SCHEMA_VERSION};
use super::super::{Exit, Failure, FileArg, OutputFormat};
use super::{policy_path, ShowArgs, MAX_POLICY_SIZE};
use imgsig::policy::edit::{entries, Entry};
use imgsig::store::registries_d::RegistriesD;
use imgsig::Reason;

/// The table's cells of one entry.
fn cells(e: &Entry) -> [String; 5] {
    let transport = match (e.default, e.transport.as_str()) {
        (false, "docker") => "repository",
        (_, t) => t,
    };
    let id = match e.type_name {
        "sigstoreSigned" => "N/A".to_owned(),
        _ => e.key_ids.iter().map(|u| short_id(u)).collect::<Vec<_>>().join(", "),
    };
    [
        transport.to_owned(),
        e.name.clone(),
        e.type_name.to_owned(),
        id,
        e.store.clone().unwrap_or_default(),
    ]
}

/// podman's form of a user ID: the address between `<` and `>` if there is one.
fn short_id(uid: &str) -> &str {
    uid.split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map_or(uid, |(addr, _)| addr)
}

/// Lay out rows like Go's `tabwriter.NewWriter(w, 12, 2, 2, ' ', 0)`
/// (containers/common `report`): every column but the last padded to
/// max(12, widest cell + 2) characters.
fn table(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count() + 2).max(12);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                out.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

#[derive(Debug, Serialize)]
struct ShowDoc {
    schema_version: u32,
    command: &'static str,
    policy: String,
    registries_d: String,
    entries: Vec<Entry>,
}

pub(super) fn run(args: ShowArgs, format: OutputFormat) -> Result<Exit, Failure> {
    if args.raw && format == OutputFormat::Json {
        return Err(Failure::input(
            Reason::ConflictingFlags,
            anyhow!("--raw prints the policy file itself; it cannot be combined with --output json"),
        ));
    }
    let path = policy_path(args.policy.as_deref());
    if args.raw {
        let bytes = read_limited("policy", &FileArg::Path(path.clone()), MAX_POLICY_SIZE)?;
        let _ = write_stdout(&bytes);
        return Ok(Exit::Ok);
    }
    let policy = load_policy(&path)?;
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let dir = args
        .registries_d
        .clone()
        .unwrap_or_else(|| RegistriesD::default_dir(home.as_deref()));
    let config = RegistriesD::load_dir(&dir).map_err(|e| {
        Failure::input(
            Reason::InvalidRegistriesD,
            anyhow::Error::new(e).context(format!("registries.d {}", dir.display())),
        )
    })?;
    let entries = entries(&policy, &config);
    for e in &entries {
        for err in &e.key_errors {
            eprintln!("imgsig: warning: {} {:?}: {err}", e.transport, e.name);
        }
    }
    match format {
        OutputFormat::Json => print_json(&ShowDoc {
            schema_version: SCHEMA_VERSION,
            command: "trust show",
            policy: path.display().to_string(),
            registries_d: dir.display().to_string(),
            entries,
        }),
        OutputFormat::Human => {
            let mut rows = Vec::new();
            if !args.noheading {
                rows.push(["TRANSPORT", "NAME", "TYPE", "ID", "STORE"].map(String::from));
            }
            rows.extend(entries.iter().map(cells));
            let _ = write_stdout(table(&rows).as_bytes());
        }
    }
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_like_podman() {
        assert_eq!(short_id("Alice <alice@example.com>"), "alice@example.com");
        assert_eq!(short_id("just a name"), "just a name");
        assert_eq!(short_id("odd <no end"), "odd <no end");
    }

    #[test]
    fn table_like_tabwriter() {
        let rows = [
            ["TRANSPORT", "NAME", "TYPE", "ID", "STORE"].map(String::from),
            ["all", "default", "reject", "", ""].map(String::from),
        ];
        assert_eq!(
            table(&rows),
            "TRANSPORT   NAME        TYPE        ID          STORE\nall         default     reject                  \n"
        );
    }
}
