//! Fuzz target `claim`: see `imgsig_fuzz::claim` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::claim(data));
