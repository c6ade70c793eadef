//! Talking to registries: credentials (auth.json, credential helpers), TLS material (certs.d),
//! registries.conf
//! and the HTTP client for manifests, signatures and the signature API.

pub mod auth_file;
mod certs_d;
pub(crate) mod client;
mod cred_helper;
pub mod network;
pub mod registries_conf;

// The HTTP client is private; these of its types are part of the API.
pub use client::{attachment_tag, Auth, FetchedManifest, RegistryError};
// certs.d and the credential-helper runner are private (the network reads
// them); a helper's failure is part of [`auth_file::AuthError`].
pub use cred_helper::HelperError;
