#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| eakte::fuzzing::query(data));
