//! ICBC CMS `read_qhisd`, `read_qhisd_page` (responses) and
//! `read_qhisd_request` on arbitrary bytes: any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::cn_icbc::read_qhisd(data);
    let _ = bank_adapters::cn_icbc::read_qhisd_page(data);
    let _ = bank_adapters::cn_icbc::read_qhisd_request(data);
});
