//! Fuzz target `reference`: see `imgsig_fuzz::reference` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::reference(data));
