//! Fuzz target `registries_d`: see `imgsig_fuzz::registries_d` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::registries_d(data));
