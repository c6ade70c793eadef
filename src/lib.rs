//! imgsig: sign container images and verify them before they run.
//!
//! The library implements containers/image "simple signing": the claim
//! ([`claim`]), manifest digests ([`manifest`], [`digest`]), docker
//! references ([`reference`]), the OpenPGP envelope ([`pgp`]) and the
//! per-signature checks ([`signature`]). The [`cli`] module is the
//! command-line front end used by the `imgsig` binary.
#![forbid(unsafe_code)]

pub mod claim;
pub mod cli;
pub mod digest;
pub mod json;
pub mod limits;
pub mod manifest;
pub mod pgp;
pub mod platform;
pub mod policy;
pub mod reference;
pub mod registry;
pub mod signature;
pub mod signer;
pub mod store;
pub mod time;
pub mod verify;
