//! Fuzz target `auth_file`: see `imgsig_fuzz::auth_file` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::auth_file(data));
