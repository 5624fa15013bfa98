//! `dialect::detect` and `dialect::inspect` on arbitrary bytes: any panic is
//! a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::dialect::detect(data);
    let _ = bank_adapters::dialect::inspect(data);
});
