//! Fuzz target `manifest`: see `imgsig_fuzz::manifest` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::manifest(data));
