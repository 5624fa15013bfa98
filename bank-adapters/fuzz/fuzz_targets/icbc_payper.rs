//! ICBC CMS `read_payper` and `read_header` on arbitrary bytes: any panic is
//! a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::cn_icbc::read_payper(data);
    let _ = bank_adapters::cn_icbc::read_header(data);
});
