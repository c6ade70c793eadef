//! Every size and count limit, defined once. The reference's values where
//! it has one (containers/image `iolimits`).

/// Largest manifest read (c/image `iolimits.MaxManifestBodySize`).
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;
/// Largest signature read (c/image `iolimits.MaxSignatureBodySize`).
pub const MAX_SIGNATURE_SIZE: usize = 4 * 1024 * 1024;
/// Largest signature-list body from the registry signature API.
pub const MAX_SIGNATURE_LIST_SIZE: usize = 4 * 1024 * 1024;
/// A lookaside or signature list holding this many signatures is refused
/// (c/image `maxLookasideSignatures`, since 5.24): at most 127 are usable.
pub const MAX_SIGNATURES: usize = 128;
/// Largest policy.json read.
pub const MAX_POLICY_SIZE: usize = 16 * 1024 * 1024;
/// Largest key file or `--keyring` read.
pub const MAX_KEY_FILE_SIZE: usize = 16 * 1024 * 1024;
