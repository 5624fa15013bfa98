//! `read_cash_message` (camt.052/053/054, and with it `read_cash_stream`)
//! on arbitrary bytes: any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::iso20022::read_cash_message(data);
});
