//! `read_status_report` (pain.002) on arbitrary bytes: any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::iso20022::read_status_report(data);
});
