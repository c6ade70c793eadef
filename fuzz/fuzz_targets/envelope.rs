//! Fuzz target `envelope`: see `imgsig_fuzz::envelope` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::envelope(data));
