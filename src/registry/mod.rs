//! Talking to registries: credentials (auth.json, credential helpers), TLS material (certs.d),
//! registries.conf
//! and the HTTP client for manifests, signatures and the signature API.

pub mod auth_file;
pub mod certs_d;
pub mod client;
pub mod cred_helper;
pub mod network;
pub mod registries_conf;
