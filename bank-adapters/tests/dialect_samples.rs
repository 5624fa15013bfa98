//! Detection and inspection over every public sample: each ISO 20022 file
//! and each ICBC message is recognised by content and described as JSON;
//! other banks' files and the ICBC template are refused with a reason.

use std::path::{Path, PathBuf};

use bank_adapters::dialect::{self, DialectKind, MessageKind};
use bank_adapters::error::ReadError;
use serde_json::Value;

fn shared() -> PathBuf {
    std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// `camt.053.001.02__moov__x.xml` → `camt.053.001.02`.
fn message_in_name(name: &str) -> String {
    let head = name.split("__").next().unwrap();
    head.splitn(5, '.').take(4).collect::<Vec<_>>().join(".")
}

#[test]
fn every_iso20022_sample_is_detected_from_its_content() {
    let samples = files(&shared().join("iso20022/samples"));
    assert!(samples.len() >= 20);
    for (name, bytes) in &samples {
        let detected = dialect::detect(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(detected.dialect, DialectKind::Iso20022, "{name}");
        assert_eq!(detected.message, message_in_name(name), "{name}");
        let expected = match &name[..4] {
            "camt" => MessageKind::Statement,
            _ if name.starts_with("pain.001") => MessageKind::PaymentBatch,
            _ => MessageKind::StatusReport,
        };
        assert_eq!(detected.kind, expected, "{name}");
    }
}

#[test]
fn every_iso20022_sample_inspects_to_json() {
    for (name, bytes) in files(&shared().join("iso20022/samples")) {
        let json = dialect::inspect(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(json["dialect"], "iso20022", "{name}");
        assert_eq!(json["message"], message_in_name(&name), "{name}");
        if name.starts_with("camt") {
            let statements = json["statements"].as_array().unwrap();
            assert!(!statements.is_empty(), "{name}");
            for statement in statements {
                assert!(statement["account"].is_string(), "{name}");
                assert!(
                    statement["total_credits"].is_string(),
                    "{name}: amounts are strings"
                );
                assert!(statement["entries"].is_array(), "{name}");
                assert!(statement.get("opening_balance").is_some(), "{name}");
            }
        } else if name.starts_with("pain.001") {
            assert!(json["control_sum"].is_string(), "{name}");
            assert!(
                json["batches"].as_array().is_some_and(|b| !b.is_empty()),
                "{name}"
            );
        } else {
            assert!(json["original_message_id"].is_string(), "{name}");
            assert!(json["lines"].is_array(), "{name}");
        }
    }
}

#[test]
fn pain001_samples_state_control_sums_that_match_their_lines() {
    for (name, bytes) in files(&shared().join("iso20022/samples")) {
        if !name.starts_with("pain.001") {
            continue;
        }
        let json = dialect::inspect(&bytes).unwrap();
        if !json["stated_control_sum"].is_null() {
            let stated: rust_decimal::Decimal = json["stated_control_sum"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let summed: rust_decimal::Decimal =
                json["control_sum"].as_str().unwrap().parse().unwrap();
            assert_eq!(stated, summed, "{name}");
        }
    }
    let json = dialect::inspect(
        &std::fs::read(
            shared().join("iso20022/samples/pain.001.001.09__php-sepa-xml__pain.001.001.09.xml"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(json["message_id"], "OurMessageIdentification");
    assert_eq!(json["control_sum"], "12.34");
    let line = &json["batches"][0]["lines"][0];
    assert_eq!(line["end_to_end_id"], "SomethingUnique");
    assert_eq!(line["currency"], "EUR");
    assert_eq!(line["creditor"]["number"], "DE87200500001234567890");
    assert_eq!(line["creditor"]["bank_code"], "BANKDEFFXXX");
    assert_eq!(json["batches"][0]["requested_execution_date"], "2025-08-19");
}

#[test]
fn every_icbc_sample_is_detected_and_all_but_the_template_inspect() {
    let expected = [
        ("icbc.PAYPER.request", MessageKind::PaymentBatch),
        ("icbc.PAYPER.response", MessageKind::StatusReport),
        ("icbc.QHISD.request", MessageKind::HistoryQuery),
        ("icbc.QHISD.response", MessageKind::Statement),
        ("icbc.QPAYPER.request", MessageKind::StatusQuery),
        ("icbc.QPAYPER.response", MessageKind::StatusReport),
        ("icbc.QPD.response", MessageKind::Statement),
    ];
    let mut inspected = 0;
    for (name, bytes) in files(&shared().join("cn-bank/samples")) {
        if !name.starts_with("icbc.") {
            continue;
        }
        if name.ends_with("springmvcdemo-template.xml") {
            let err = dialect::detect(&bytes).unwrap_err();
            assert!(matches!(err, ReadError::Invalid { .. }), "{name}: {err}");
            assert!(err.to_string().contains("template"), "{name}: {err}");
            assert!(dialect::inspect(&bytes).is_err());
            continue;
        }
        let detected = dialect::detect(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let (_, kind) = expected
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix))
            .unwrap();
        assert_eq!(detected.dialect, DialectKind::IcbcCms, "{name}");
        assert_eq!(detected.kind, *kind, "{name}");
        assert_eq!(
            detected.message,
            name.split('.').take(2).collect::<Vec<_>>().join("."),
            "{name}"
        );
        let json = dialect::inspect(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(json["dialect"], "icbc_cms");
        inspected += 1;
    }
    assert_eq!(inspected, 9);
}

#[test]
fn icbc_inspection_shows_fen_as_yuan_and_statuses() {
    let read = |name: &str| std::fs::read(shared().join("cn-bank/samples").join(name)).unwrap();
    let payper = dialect::inspect(&read("icbc.PAYPER.request__york-young-NC.xml")).unwrap();
    assert_eq!(payper["message"], "icbc.PAYPER");
    assert_eq!(payper["control_sum"], "0.02");
    assert_eq!(payper["stated_control_sum"], "0.02");
    assert_eq!(payper["batches"][0]["lines"][0]["amount"], "0.01");

    let status = dialect::inspect(&read("icbc.QPAYPER.response__york-young-NC.xml")).unwrap();
    assert_eq!(status["group_status"], "ACCEPTED");
    assert_eq!(status["duplicate_submission"], false);
    let lines: Vec<&Value> = status["lines"].as_array().unwrap().iter().collect();
    let statuses: Vec<&str> = lines
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["PENDING", "PENDING", "SETTLED"]);

    let history = dialect::inspect(&read(
        "icbc.QHISD.response__JackLijm-springmvcdemo-template-reconstructed.xml",
    ))
    .unwrap();
    let statement = &history["statements"][0];
    assert_eq!(statement["account"], "1901018609100152155");
    assert_eq!(statement["opening_balance"], "0.00");
    assert_eq!(statement["closing_balance"], "999.99");
    assert_eq!(statement["entry_count"], 2);
    assert_eq!(statement["total_credits"], "1000.00");
    assert_eq!(statement["total_debits"], "0.01");
    assert_eq!(statement["entries"][1]["direction"], "debit");
    assert_eq!(
        statement["entries"][1]["transactions"][0]["end_to_end_id"],
        "RefNO111"
    );
    assert_eq!(history["next_tag"], Value::Null);

    let qpd = dialect::inspect(&read("icbc.QPD.response__xiaojiaye-CMPSimulator.xml")).unwrap();
    assert_eq!(qpd["statements"][0]["entry_count"], 57);
    assert_eq!(qpd["statements"][0]["opening_balance"], Value::Null);
}

#[test]
fn other_banks_are_refused_by_detection_without_panicking() {
    for (name, bytes) in files(&shared().join("cn-bank/samples")) {
        if name.starts_with("cmb.") || name.starts_with("ccb.") {
            let err = dialect::detect(&bytes).unwrap_err();
            assert!(matches!(err, ReadError::UnknownFormat(_)), "{name}: {err}");
            assert!(dialect::inspect(&bytes).is_err(), "{name}");
        }
    }
}

/// Cuts and corrupts every sample at many places: detection and inspection
/// may refuse, never panic.
#[test]
fn damaged_samples_are_refused_without_panicking() {
    let mut all = files(&shared().join("iso20022/samples"));
    all.extend(files(&shared().join("cn-bank/samples")));
    for (_, bytes) in all {
        let step = (bytes.len() / 37).max(1);
        for at in (0..bytes.len()).step_by(step) {
            let _ = dialect::inspect(&bytes[..at]);
            let mut flipped = bytes.clone();
            flipped[at] ^= 0xA5;
            let _ = dialect::detect(&flipped);
            let _ = dialect::inspect(&flipped);
        }
    }
}

#[test]
fn inspection_survives_amounts_too_large_to_add_up() {
    let huge = "79228162514264337593543950335";
    let entry = format!(
        "<Ntry><Amt Ccy=\"CNY\">{huge}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>\
         <BookgDt><Dt>2025-01-02</Dt></BookgDt></Ntry>"
    );
    let xml = format!(
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt>\
         <GrpHdr><MsgId>M</MsgId><CreDtTm>2025-01-02T00:00:00</CreDtTm></GrpHdr>\
         <Stmt><Id>S</Id><CreDtTm>2025-01-02T00:00:00</CreDtTm><Acct><Id><Othr><Id>1</Id></Othr></Id></Acct>\
         {entry}{entry}</Stmt></BkToCstmrStmt></Document>"
    );
    // Either the reader refuses such amounts or inspection reports the overflow.
    if let Ok(json) = dialect::inspect(xml.as_bytes()) {
        assert_eq!(json["statements"][0]["total_credits"], "overflow");
    }
}
