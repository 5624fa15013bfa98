//! `read_pain001` and `read_payment_file` (pain.001 or ICBC PAYPER, by
//! content) on arbitrary bytes: any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::payment_read::read_pain001(data);
    let _ = bank_adapters::payment_read::read_payment_file(data);
});
