//! `imgsig trust show` and `imgsig trust set`: read and change
//! containers-policy.json the way `podman image trust` does (podman 4.3.1 is
//! the reference; `tests/trust.rs` compares the two byte for byte). The
//! editing and reading model is the library's [`imgsig::policy::edit`];
//! here are the arguments, the messages and the documents.
//!
//! - `set` edits one entry and keeps the rest of the file as it was (see [`set`]).
//! - `show` lists one row per requirement, as podman does (see [`show`]).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use anyhow::anyhow;
use imgsig::policy::edit::EditError;
use imgsig::verify::ErrorClass;

use super::{Exit, Failure, OutputFormat};

mod set;
mod show;

pub const EXAMPLES: &str = "EXAMPLES:
  # What the policy requires, one row per requirement (like `podman image trust show`)
  imgsig trust show
  imgsig trust show --policy policy.json --registries-d /etc/containers/registries.d

  # Reject everything not named below
  imgsig trust set --policy policy.json --type reject default

  # Images from this registry need a signature by BOTH keys (one signedBy per key)
  imgsig trust set --policy policy.json -f /etc/pki/containers/vendor.gpg \\
      -f /etc/pki/containers/ours.gpg registry.example.com

  # Accept anything from one repository
  imgsig trust set --policy policy.json --type accept registry.example.com/sandbox";

#[derive(Debug, Args)]
pub struct TrustArgs {
    #[command(subcommand)]
    pub command: TrustCommand,
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one run (or for
// help, completions and man pages): building them all cost a one-shot verify
// about 7 % of its instructions (docs/performance.md).
#[command(defer = true)]
pub enum TrustCommand {
    /// Show the trust policy: one row per requirement, with key user IDs and signature stores
    #[command(after_help = EXAMPLES)]
    Show(ShowArgs),
    /// Set the requirements of one scope (or of the default), keeping the rest of the file
    #[command(after_help = EXAMPLES)]
    Set(SetArgs),
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The policy file. Default: $HOME/.config/containers/policy.json, then /etc/containers/policy.json
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// registries.d directory for the STORE column. Default: $HOME/.config/containers/registries.d if it
    /// exists, else /etc/containers/registries.d
    #[arg(long = "registries-d", value_name = "DIR")]
    pub registries_d: Option<PathBuf>,
    /// Print the policy file exactly as it is, without checking it
    #[arg(long)]
    pub raw: bool,
    /// Do not print the column headings
    #[arg(short = 'n', long)]
    pub noheading: bool,
}

/// `--type` of `trust set` (podman's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TrustType {
    /// A signature by each key given with --pubkeysfile (signedBy, one requirement per key)
    #[value(name = "signedBy")]
    SignedBy,
    /// Any image, signed or not (insecureAcceptAnything)
    #[value(name = "accept", alias = "insecureAcceptAnything")]
    Accept,
    /// No image (reject)
    #[value(name = "reject")]
    Reject,
}

impl TrustType {
    /// The name the user typed (podman's wording in messages).
    fn flag_name(self) -> &'static str {
        match self {
            TrustType::SignedBy => "signedBy",
            TrustType::Accept => "accept",
            TrustType::Reject => "reject",
        }
    }
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// What the scope requires
    #[arg(short = 't', long = "type", value_enum, default_value = "signedBy")]
    pub trust_type: TrustType,
    /// Public key file (OpenPGP, armored or binary) for --type signedBy; its absolute path is written as
    /// keyPath. Repeat for several keys: each gets its own signedBy, so an image needs a signature by
    /// every key
    #[arg(short = 'f', long = "pubkeysfile", value_name = "FILE")]
    pub pubkeysfile: Vec<PathBuf>,
    /// The policy file to change. Default: $HOME/.config/containers/policy.json if it exists, else
    /// /etc/containers/policy.json
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// `default`, or a registry scope: HOST[:PORT], HOST[:PORT]/REPO[:TAG], or *.DOMAIN
    #[arg(value_name = "SCOPE")]
    pub scope: String,
}

pub fn run(args: TrustArgs, format: OutputFormat) -> Result<Exit, Failure> {
    match args.command {
        TrustCommand::Show(a) => show::run(a, format),
        TrustCommand::Set(a) => set::run(a, format),
    }
}

/// The policy file when none is named: the user's file if it exists, else the
/// system file (which may not exist: `show` then fails to read it, `set …
/// default` creates it).
use super::inputs::policy_path_or_system as policy_path;

/// The largest policy file read.
use crate::limits::MAX_POLICY_SIZE;

/// A library editing error as a CLI failure (its message as it is).
fn edit_failure(e: EditError) -> Failure {
    let err = anyhow!("{}", e.message);
    match e.class {
        ErrorClass::Outside => Failure::outside(e.code, err),
        _ => Failure::input(e.code, err),
    }
}
