//! Strict JSON reading for signature claims and policy files.
//!
//! The Rust counterpart of containers/image `signature/internal/json.go`
//! (`ParanoidUnmarshalJSONObject`). serde maps keep the last of duplicate keys
//! and `deny_unknown_fields` does not work on tagged enums, so [`parse`] builds
//! a [`Value`] tree that keeps every object member in document order,
//! duplicates included, with the line:column of every key and value; an
//! [`ObjectReader`] then rejects duplicate, unknown and missing keys and type
//! mismatches with errors naming the JSON path (`transports.docker["a.b"][0].keyPath`).
//!
//! The parser accepts exactly RFC 8259: no comments, trailing commas, byte
//! order mark, invalid UTF-8, unpaired surrogate escapes or data after the
//! value. (Go's encoding/json replaces the last two with U+FFFD; rejecting them
//! only affects malformed input.) Nesting deeper than [`MAX_DEPTH`] is an
//! error, so recursion is bounded; time is linear and no input makes it panic.
//! Lines and columns are 1-based; columns count Unicode scalar values.
//!
//! Documents that containers/image reads with Go's `encoding/json` (sigstore
//! payloads, Rekor entries, cosign keys) are parsed by the same parser with
//! [`ReadRules::Go`] and read with Go's rules ([`go_field`] and the other
//! `go_*` functions, c/image's [`exact_fields`]); [`canonicalize`] writes
//! RFC 8785 for the Rekor SET. Manifests, which c/image decodes from whatever
//! bytes a registry sent, are read piece by piece with a [`GoReader`]
//! ([`ReadRules::GoLossy`]): it materializes only the members its caller asks
//! for and skips the rest without recursion, so nesting depth is unlimited in
//! values nobody looks at.

mod canonical;
mod error;
mod go;
mod go_reader;
mod parser;
mod reader;
mod rules;
mod value;

pub use canonical::canonicalize;
pub(crate) use error::{object_name, value_name};
pub use error::{ErrorKind, JsonError, JsonErrors, SyntaxError};
pub use go::{
    distinct_members, exact_fields, go_base64, go_bytes, go_field, go_field_is, go_fold, go_kind, go_opt_string,
    go_string, go_struct, write_go_string,
};
pub use go_reader::{go_lossy_text, GoReader, GoString, GoToken};
pub use parser::{parse, parse_with};
pub use reader::{index_path, key_path, ObjectReader};
pub use rules::ReadRules;
pub use value::{JsonType, Kind, Member, Number, Position, Value};

/// Deepest nesting of arrays and objects accepted (signature claims and
/// policies need fewer than ten levels).
pub const MAX_DEPTH: usize = 64;
