//! Fuzz target `policy`: see `imgsig_fuzz::policy` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::policy(data));
