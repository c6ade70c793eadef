//! Placeholder until the strict parser lands.
use std::path::PathBuf;

use super::Policy;

#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    pub source: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    pub path: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("invalid policy")]
    Invalid(Vec<Problem>),
}

pub fn parse(_bytes: &[u8], _opts: &ParseOptions) -> Result<Policy, PolicyError> {
    Err(PolicyError::Invalid(Vec::new()))
}
