//! Talking to registries: credentials (auth.json, credential helpers), TLS material (certs.d),
//! registries.conf
//! and the HTTP client for manifests, signatures and the signature API.

pub mod auth_file;
pub mod certs_d;
pub(crate) mod client;
pub mod cred_helper;
pub mod network;
pub mod registries_conf;

// The HTTP client is private; these of its types are part of the API.
pub use client::{attachment_tag, Auth, FetchedManifest, RegistryCode, RegistryError};
