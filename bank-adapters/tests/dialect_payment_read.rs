//! pain.001 read back into the batch it was written from (both versions),
//! and the pain.001 reader against the public samples.

use std::path::PathBuf;
use std::str::FromStr;

use bank_adapters::iso20022::{write_pain001, Pain001Version};
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use bank_adapters::payment_read::{read_pain001, read_payment_file};
use chrono::{NaiveDate, TimeZone, Utc};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn sample(name: &str) -> Vec<u8> {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    std::fs::read(shared.join("iso20022/samples").join(name)).unwrap()
}

fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!(
        "[a-zA-Z0-9工资张三李&<>][a-zA-Z0-9 工资张三李&<>-]{{0,{max}}}[a-zA-Z0-9工资张三李]"
    ))
    .unwrap()
}

fn bank_code() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ICBKCNBJ".to_owned()),
        Just("ABOCCNBJ110".to_owned()),
        proptest::string::string_regex("[0-9]{12}").unwrap(),
    ]
}

fn batch() -> impl Strategy<Value = PaymentBatch> {
    let line = (
        proptest::string::string_regex("[A-Za-z0-9-]{1,35}").unwrap(),
        (1i64..1_000_000_000).prop_map(|fen| Decimal::new(fen, 2)),
        proptest::string::string_regex("[0-9]{10,19}").unwrap(),
        text(20),
        option::of(bank_code()),
        option::of(text(30)),
        option::of(text(60)),
    );
    (
        proptest::string::string_regex("[A-Za-z0-9-]{1,35}").unwrap(),
        (1_500_000_000i64..2_000_000_000),
        0i64..30,
        text(30),
        proptest::string::string_regex("[0-9]{10,19}").unwrap(),
        option::of(bank_code()),
        vec(line, 1..6),
    )
        .prop_map(
            |(message_id, seconds, days, party, account, debtor_bank, lines)| {
                let created_at = Utc.timestamp_opt(seconds, 0).unwrap();
                PaymentBatch {
                    message_id,
                    created_at,
                    requested_execution_date: created_at.date_naive()
                        + chrono::Duration::days(days),
                    initiating_party: party.clone(),
                    debtor: AccountRef {
                        number: account,
                        name: Some(party),
                        bank_code: debtor_bank,
                        bank_name: None,
                    },
                    lines: lines
                        .into_iter()
                        .enumerate()
                        .map(
                            |(i, (instr, value, number, name, code, bank_name, remittance))| {
                                PaymentLine {
                                    end_to_end_id: format!("E{i}"),
                                    instruction_id: Some(instr),
                                    amount: Amount::cny(value),
                                    creditor: AccountRef {
                                        number,
                                        name: Some(name),
                                        bank_code: code,
                                        bank_name,
                                    },
                                    remittance,
                                }
                            },
                        )
                        .collect(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn pain001_round_trips(batch in batch(), v09 in any::<bool>()) {
        let version = if v09 { Pain001Version::V09 } else { Pain001Version::V03 };
        let xml = write_pain001(&batch, version).unwrap();
        let file = read_pain001(xml.as_bytes()).unwrap();
        prop_assert_eq!(&file.message, version.message_name());
        prop_assert_eq!(file.stated_control_sum, Some(batch.control_sum()));
        prop_assert_eq!(file.into_single_batch().unwrap(), batch);
    }
}

#[test]
fn a_pain001_with_several_payment_informations_gives_several_batches() {
    let file = read_payment_file(&sample(
        "pain.001.001.03__corporatejs__multiple-payments-different-due-date.xml",
    ))
    .unwrap();
    assert_eq!(file.message, "pain.001.001.03");
    assert_eq!(file.message_id, "2013-11-01-P1");
    assert_eq!(file.stated_number_of_transactions, Some(3));
    assert_eq!(
        file.stated_control_sum,
        Some(Decimal::from_str("300.03").unwrap())
    );
    assert_eq!(file.number_of_transactions(), 3);
    assert_eq!(file.control_sum(), Decimal::from_str("300.03").unwrap());
    assert!(file.batches.len() > 1);
    let first = &file.batches[0];
    assert_eq!(
        first.requested_execution_date,
        NaiveDate::from_ymd_opt(2013, 11, 15).unwrap()
    );
    assert_eq!(first.debtor.number, "FI8529501800030574");
    assert_eq!(first.debtor.name.as_deref(), Some("Oy Company Ab"));
    assert_eq!(first.debtor.bank_code.as_deref(), Some("NDEAFIHH"));
    assert_eq!(first.lines[0].end_to_end_id, "2013-11-01-134123412");
    assert_eq!(
        first.lines[0].amount,
        Amount {
            value: Decimal::from_str("100.01").unwrap(),
            currency: "EUR".into()
        }
    );
    assert!(file.into_single_batch().is_err());
}

#[test]
fn pain001_without_required_parts_is_refused_with_a_position() {
    let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>M</MsgId><CreDtTm>2025-01-01T00:00:00Z</CreDtTm></GrpHdr>
<PmtInf><ReqdExctnDt><Dt>2025-01-02</Dt></ReqdExctnDt>
<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"#;
    let err = read_pain001(xml.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("InstdAmt"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    let not_pain = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt/></Document>"#;
    assert!(read_pain001(not_pain.as_bytes()).is_err());
}

#[test]
fn amounts_too_large_to_add_up_are_refused_not_summed() {
    let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>M</MsgId><CreDtTm>2025-01-01T00:00:00</CreDtTm></GrpHdr>
<PmtInf><ReqdExctnDt>2025-01-02</ReqdExctnDt>
<CdtTrfTxInf><PmtId><EndToEndId>E</EndToEndId></PmtId><Amt><InstdAmt Ccy="CNY">79228162514264337593543950335</InstdAmt></Amt></CdtTrfTxInf>
<CdtTrfTxInf><PmtId><EndToEndId>F</EndToEndId></PmtId><Amt><InstdAmt Ccy="CNY">79228162514264337593543950335</InstdAmt></Amt></CdtTrfTxInf>
</PmtInf></CstmrCdtTrfInitn></Document>"#;
    let err = read_pain001(xml.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("18 digits"), "{err}");
    assert!(bank_adapters::dialect::inspect(xml.as_bytes()).is_err());
}

proptest! {
    #[test]
    fn the_pain001_reader_never_panics(bytes in vec(any::<u8>(), 0..300)) {
        let _ = read_pain001(&bytes);
        let _ = read_payment_file(&bytes);
    }
}
