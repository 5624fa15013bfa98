//! ICBC CMS `read_qpayper` (response) and `read_qpayper_request` on
//! arbitrary bytes: any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::cn_icbc::read_qpayper(data);
    let _ = bank_adapters::cn_icbc::read_qpayper_request(data);
});
