//! `dialect::detect`, `dialect::inspect` and the streaming
//! `dialect::inspect_to` on arbitrary bytes: any panic is a bug, and so is a
//! file that `inspect` describes and `inspect_to` does not describe the same.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bank_adapters::dialect::detect(data);
    let whole = bank_adapters::dialect::inspect(data);
    let mut out = Vec::new();
    let streamed = bank_adapters::dialect::inspect_to(data, &mut out);
    if let Ok(expected) = whole {
        assert!(streamed.is_ok(), "inspect read it, inspect_to did not: {streamed:?}");
        let value: serde_json::Value =
            serde_json::from_slice(&out).expect("inspect_to writes JSON");
        assert_eq!(value, expected);
    }
});
