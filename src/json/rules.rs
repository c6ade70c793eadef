//! [`ReadRules`]: what the one parser accepts for which kind of document.

use super::MAX_DEPTH;

/// What [`parse_with`](super::parse_with) accepts beyond the RFC 8259 grammar, which every mode keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadRules {
    /// Signature claims, policies, manifests: nesting up to [`MAX_DEPTH`]
    /// levels, numbers kept as their text whatever their size.
    #[default]
    Strict,
    /// Go `encoding/json` decoding into `float64`, as containers/image and
    /// sigstore read sigstore payloads, Rekor entries and cosign keys:
    /// nesting up to [`GO_MAX_DEPTH`] levels, and every number must be a finite
    /// IEEE double (`1e400` is refused wherever it stands). Member lookup by
    /// Go's rules is [`super::go_field`]'s.
    Go,
    /// Go `encoding/json` over whatever bytes it is given, as containers/image
    /// reads manifests: each byte that is not valid UTF-8 and each unpaired
    /// surrogate escape reads as U+FFFD ([`go_lossy_text`](super::go_lossy_text)),
    /// numbers are kept as text whatever their size (Go range-checks a number
    /// only where it decodes one), nesting up to [`GO_MAX_DEPTH`] levels in a
    /// parsed tree and unlimited in the values a [`GoReader`](super::GoReader)
    /// skips. Everything else (a byte order mark, control characters in
    /// strings, data after the value) is refused as in the other modes.
    GoLossy,
}

/// Deepest nesting of arrays and objects [`ReadRules::Go`] accepts (the bound
/// the sigstore reader has always had: serde_json's recursion limit).
pub const GO_MAX_DEPTH: usize = 127;

impl ReadRules {
    /// Deepest nesting of arrays and objects accepted.
    pub fn max_depth(self) -> usize {
        match self {
            ReadRules::Strict => MAX_DEPTH,
            ReadRules::Go | ReadRules::GoLossy => GO_MAX_DEPTH,
        }
    }
}
