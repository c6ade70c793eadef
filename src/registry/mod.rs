//! Talking to registries: credentials (auth.json), TLS material (certs.d)
//! and the HTTP client for manifests, signatures and the signature API.

pub mod auth_file;
pub mod certs_d;
pub mod client;
pub mod cred_helper;
pub mod network;
