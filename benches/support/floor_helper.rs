//! The sequoia floor's verification helper, shared by `benches/verify.rs`
//! and `examples/sequoia_floor.rs` (each includes this file with `#[path]`).

use sequoia_openpgp as openpgp;

use openpgp::parse::stream::{MessageLayer, MessageStructure, VerificationHelper};
use openpgp::{Cert, KeyHandle};

/// Bare sequoia verification, as `../shared/reference/deps-eval.md`
/// measured its floor: `VerifierBuilder` + a helper whose `get_certs`
/// returns the certificates matching the issuers, then read the content.
pub struct FloorHelper<'a> {
    pub certs: &'a [Cert],
}

impl VerificationHelper for FloorHelper<'_> {
    fn get_certs(&mut self, ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(self
            .certs
            .iter()
            .filter(|c| c.keys().any(|k| ids.iter().any(|id| id.aliases(k.key().key_handle()))))
            .cloned()
            .collect())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                if results.iter().any(|r| r.is_ok()) {
                    return Ok(());
                }
            }
        }
        Err(anyhow::anyhow!("no good signature"))
    }
}
