//! Fuzz target `signature_api`: see `imgsig_fuzz::signature_api` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::signature_api(data));
