//! `imgsig trust set`: arguments → [`imgsig::policy::edit`] → messages and
//! the JSON document. What is written, and how it differs from podman, is
//! documented in the library module.

use anyhow::anyhow;
use serde::Serialize;

use super::super::output::{print_json, SCHEMA_VERSION};
use super::super::{Exit, Failure, OutputFormat};
use super::{edit_failure, policy_path, SetArgs, TrustType};
use imgsig::policy::edit::{self, NewRequirement, Target};
use imgsig::Reason;

fn usage(msg: impl Into<String>) -> Failure {
    Failure::input(Reason::Usage, anyhow!("{}", msg.into()))
}

/// The requirements the arguments ask for (reading the key files).
fn requirements(args: &SetArgs) -> Result<Vec<NewRequirement>, Failure> {
    match args.trust_type {
        TrustType::Accept | TrustType::Reject if !args.pubkeysfile.is_empty() => Err(usage(format!(
            "{} public keys unexpectedly provided for trust type {} (--pubkeysfile is only for --type signedBy)",
            args.pubkeysfile.len(),
            args.trust_type.flag_name()
        ))),
        TrustType::Accept => Ok(vec![NewRequirement::accept()]),
        TrustType::Reject => Ok(vec![NewRequirement::reject()]),
        TrustType::SignedBy if args.pubkeysfile.is_empty() => Err(usage(
            "at least one public key must be defined for type 'signedBy' (give the key file with -f FILE)",
        )),
        TrustType::SignedBy => args
            .pubkeysfile
            .iter()
            .map(|f| NewRequirement::signed_by_key_file(f).map_err(edit_failure))
            .collect(),
    }
}

#[derive(Debug, Serialize)]
struct SetDoc<'a> {
    schema_version: u32,
    command: &'static str,
    policy: String,
    created: bool,
    scope: Option<&'a str>,
    transport: Option<String>,
    action: &'static str,
    requirements: Vec<NewRequirement>,
}

pub(super) fn run(args: SetArgs, format: OutputFormat) -> Result<Exit, Failure> {
    let target = Target::parse(&args.scope).map_err(edit_failure)?;
    let requirements = requirements(&args)?;
    let policy = policy_path(args.policy.as_deref());
    let done = edit::set_requirements(&policy, &target, &requirements).map_err(edit_failure)?;

    let path = done.path.display();
    let verb = if done.placement.replaced { "replaced" } else { "added" };
    if done.created {
        eprintln!("imgsig: created {path}");
    }
    let described: Vec<String> = requirements.iter().map(NewRequirement::describe).collect();
    eprintln!(
        "imgsig: {path}: {verb} {}: {}",
        done.placement.path,
        described.join("; ")
    );
    if requirements.len() > 1 {
        eprintln!(
            "imgsig: all {} requirements must hold: an image needs a valid signature by each of the keys",
            requirements.len()
        );
    }
    if format == OutputFormat::Json {
        print_json(&SetDoc {
            schema_version: SCHEMA_VERSION,
            command: "trust set",
            policy: path.to_string(),
            created: done.created,
            scope: target.scope(),
            transport: done.placement.transport,
            action: verb,
            requirements,
        });
    }
    Ok(Exit::Ok)
}
