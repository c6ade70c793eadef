//! Command-line interface: clap definitions and the thin layer that turns
//! arguments into checked requests, calls the library and renders results.
//!
//! House rules: stdout carries data (a signature, a verified reference, or
//! with `--output json` one JSON document, or for several images JSON Lines
//! ending with a summary: `framing`); stderr carries messages for
//! people. Exit codes: 0 accepted/done, 1 the answer is no, 2 unusable
//! input, 3 something outside failed (see docs/exit-codes.md).

use imgsig::Reason;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod fetch;
mod framing;
mod inputs;
mod inspect;
mod inspect_sigstore;
mod inspect_text;
mod io;
mod keygen;
mod misc;
mod net;
mod output;
mod policy_cmd;
mod progress;
mod report;
mod sign;
mod sign_args;
mod sign_key;
mod sign_oci;
mod sign_render;
mod trust;
mod verify;
mod verify_args;
mod verify_batch;
mod verify_oci;
mod verify_render;

pub use output::report_usage_error;

/// How a run ended; mapped to the process exit code by `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: accepted / done.
    Ok = 0,
    /// 1: the check ran and the answer is no.
    No = 1,
    /// 2: the user's input is unusable.
    Input = 2,
    /// 3: something outside failed (I/O, network, server).
    Outside = 3,
}

impl Exit {
    /// The worse of two results (3 > 2 > 1 > 0): a batch exits with its worst image's code.
    pub fn worst(self, other: Exit) -> Exit {
        if (other as u8) > (self as u8) {
            other
        } else {
            self
        }
    }

    /// A `verdict` in verify's JSON: `accepted` (0), `rejected` (1) or
    /// `failed` (2, 3: could not be verified).
    pub fn verdict(self) -> &'static str {
        match self {
            Exit::Ok => "accepted",
            Exit::No => "rejected",
            Exit::Input | Exit::Outside => "failed",
        }
    }
}

/// A batch's images counted by outcome (the summary of `verify` over many
/// images), and the worst exit so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub images: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Images that could not be verified (exit 2 or 3).
    pub failed: usize,
    pub exit: Exit,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            images: 0,
            accepted: 0,
            rejected: 0,
            failed: 0,
            exit: Exit::Ok,
        }
    }
}

impl Tally {
    pub fn add(&mut self, exit: Exit) {
        self.images += 1;
        match exit {
            Exit::Ok => self.accepted += 1,
            Exit::No => self.rejected += 1,
            Exit::Input | Exit::Outside => self.failed += 1,
        }
        self.exit = self.exit.worst(exit);
    }

    /// The summary line for people (stderr).
    pub fn human(&self) -> String {
        format!(
            "imgsig: {} image{}: {} accepted, {} rejected, {} could not be verified",
            self.images,
            if self.images == 1 { "" } else { "s" },
            self.accepted,
            self.rejected,
            self.failed
        )
    }
}

/// An error that stops a command, with its exit class and reason code.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub code: Reason,
    pub error: anyhow::Error,
    /// What to do, in place of the code's hint ([`output::hint_for`]) when the
    /// command knows better for this input.
    pub hint: Option<&'static str>,
}

impl Failure {
    pub fn input(code: Reason, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit: Exit::Input,
            code,
            error: error.into(),
            hint: None,
        }
    }
    pub fn outside(code: Reason, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit: Exit::Outside,
            code,
            error: error.into(),
            hint: None,
        }
    }
    pub fn no(code: Reason, error: impl Into<anyhow::Error>) -> Failure {
        Failure {
            exit: Exit::No,
            code,
            error: error.into(),
            hint: None,
        }
    }
    /// The same failure, with `hint` shown in place of the code's.
    pub fn with_hint(mut self, hint: &'static str) -> Failure {
        self.hint = Some(hint);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Text for people (reports on stderr; `inspect` writes its description to stdout).
    Human,
    /// JSON on stdout: one document; for several images, one line per image then a summary line (docs/json-output.md).
    Json,
}

#[derive(Debug, Parser)]
#[command(
    name = "imgsig",
    version,
    about = "Sign container images and verify them before they run",
    long_about = "Sign container images and verify them before they run.\n\n\
imgsig makes and checks \"simple signing\" signatures, the OpenPGP format of \
containers/image, skopeo, podman and CRI-O: a small JSON claim naming a \
manifest digest and an image reference, wrapped in a binary OpenPGP signed message.",
    after_help = "EXAMPLES:
  imgsig sign --key signer.key --identity registry.example.com/app:1.0 \\
      --manifest manifest.json -o sig
  imgsig verify --keyring signer.pub --identity registry.example.com/app:1.0 \\
      --manifest manifest.json sig
  imgsig verify --policy /etc/containers/policy.json --identity registry.example.com/app:1.0 \\
      --manifest manifest.json --signatures sigs/

Exit codes: 0 accepted/done, 1 rejected, 2 unusable input, 3 something outside failed.",
    disable_help_subcommand = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Output format: text for people, or JSON on stdout (one document; several images: JSON Lines, summary last)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "human",
        help_heading = "Global options"
    )]
    pub output: OutputFormat,
    /// Shorthand for --output json
    #[arg(long, global = true, help_heading = "Global options")]
    pub json: bool,
    /// Show on stderr where imgsig looked: registries.conf, registries.d and lookasides, credentials, certs.d, and each HTTP request
    #[arg(short = 'v', long, global = true, help_heading = "Global options")]
    pub debug: bool,
}

impl GlobalArgs {
    pub fn format(&self) -> OutputFormat {
        if self.json {
            OutputFormat::Json
        } else {
            self.output
        }
    }
}

#[derive(Debug, Subcommand)]
// Each subcommand's arguments are built only when it is the one run (or for
// help, completions and man pages): building them all cost a one-shot verify
// about 7 % of its instructions (docs/performance.md).
#[command(defer = true)]
pub enum Command {
    /// Sign an image's manifest digest with an OpenPGP key (or a sigstore one)
    #[command(after_help = sign::EXAMPLES)]
    Sign(sign::SignArgs),
    /// Verify an image's signatures
    #[command(after_help = verify::EXAMPLES)]
    Verify(verify::VerifyArgs),
    /// Copy images' manifests and signatures into a local mirror (lookaside layout)
    #[command(after_help = fetch::EXAMPLES)]
    Fetch(fetch::FetchArgs),
    /// Show what a signature claims and who made it, without trusting it
    #[command(after_help = inspect::EXAMPLES)]
    Inspect(inspect::InspectArgs),
    /// Generate a sigstore (cosign) key pair: `generate-key --sigstore`
    #[command(name = "generate-key", after_help = keygen::EXAMPLES)]
    GenerateKey(keygen::GenerateKeyArgs),
    /// Show or change the trust policy (policy.json), like `podman image trust`
    #[command(after_help = trust::EXAMPLES)]
    Trust(trust::TrustArgs),
    /// Check a policy file, or explain what it requires of an image
    #[command(after_help = policy_cmd::EXAMPLES)]
    Policy(policy_cmd::PolicyArgs),
    /// Print a shell completion script
    #[command(after_help = misc::COMPLETIONS_EXAMPLES)]
    Completions(misc::CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory
    #[command(after_help = misc::MAN_EXAMPLES)]
    Man(misc::ManArgs),
}

/// Run a parsed command line. Returns the exit class; all output is done.
pub fn run(cli: Cli) -> Exit {
    let format = cli.global.format();
    let name = match &cli.command {
        Command::Sign(_) => "sign",
        Command::Verify(_) => "verify",
        Command::Fetch(_) => "fetch",
        Command::Inspect(_) => "inspect",
        Command::GenerateKey(_) => "generate-key",
        Command::Trust(t) => match t.command {
            trust::TrustCommand::Show(_) => "trust show",
            trust::TrustCommand::Set(_) => "trust set",
        },
        Command::Policy(p) => match p.command {
            policy_cmd::PolicyCommand::Check(_) => "policy check",
            policy_cmd::PolicyCommand::Explain(_) => "policy explain",
        },
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
    };
    let result = match cli.command {
        Command::Sign(args) => sign::run(args, format),
        Command::Verify(args) => verify::run(args, format),
        Command::Fetch(args) => fetch::run(args, format),
        Command::Inspect(args) => inspect::run(args, format),
        Command::GenerateKey(args) => keygen::run(args, format),
        Command::Trust(args) => trust::run(args, format),
        Command::Policy(args) => policy_cmd::run(args, format),
        Command::Completions(args) => misc::completions(args, format),
        Command::Man(args) => misc::man(args, format),
    };
    match result {
        Ok(exit) => exit,
        Err(failure) => {
            output::report_failure(name, format, &failure);
            failure.exit
        }
    }
}

/// A file argument where `-` means standard input/output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileArg {
    Std,
    Path(PathBuf),
}

impl From<&std::ffi::OsStr> for FileArg {
    fn from(s: &std::ffi::OsStr) -> FileArg {
        if s == "-" {
            FileArg::Std
        } else {
            FileArg::Path(PathBuf::from(s))
        }
    }
}

impl std::fmt::Display for FileArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileArg::Std => f.write_str("-"),
            FileArg::Path(p) => write!(f, "{}", p.display()),
        }
    }
}
