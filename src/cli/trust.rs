//! STUB by the lead: `imgsig trust show|set` (the helper replaces this file).
use clap::Args;

use super::{Exit, Failure, OutputFormat};

pub const EXAMPLES: &str = "EXAMPLES:\n  imgsig trust show";

#[derive(Debug, Args)]
pub struct TrustArgs {}

pub fn run(_args: TrustArgs, _format: OutputFormat) -> Result<Exit, Failure> {
    Err(Failure::input("usage", anyhow::anyhow!("not implemented yet")))
}
