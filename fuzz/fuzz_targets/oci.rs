//! Fuzz target `oci`: see `imgsig_fuzz::oci` (fuzz/src/lib.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| imgsig_fuzz::oci(data));
