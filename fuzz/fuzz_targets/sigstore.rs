//! Fuzz target `sigstore`: see `imgsig_fuzz::sigstore` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::sigstore(data));
