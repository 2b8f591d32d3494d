#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| eakte::fuzzing::csv_import(data));
