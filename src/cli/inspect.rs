//! STUB by the lead: `imgsig inspect` (the helper replaces this file).
use clap::Args;

use super::{Exit, Failure, OutputFormat};

pub const EXAMPLES: &str = "EXAMPLES:\n  imgsig inspect signature-1";

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Signature files
    #[arg(value_name = "SIGNATURE_FILE", required = true)]
    pub files: Vec<std::path::PathBuf>,
}

pub fn run(_args: InspectArgs, _format: OutputFormat) -> Result<Exit, Failure> {
    Err(Failure::input("usage", anyhow::anyhow!("not implemented yet")))
}
