//! Fuzz target `blob`: see `imgsig_fuzz::blob` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::blob(data));
