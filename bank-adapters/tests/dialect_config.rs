//! A bank connection picks its dialect in configuration, and a codec puts
//! the envelope (signing / encryption) between the dialect and the wire.

use std::str::FromStr;

use bank_adapters::cn_icbc::IcbcConnection;
use bank_adapters::dialect::{BankCodec, CodecError, Dialect, Envelope, EnvelopeError};
use bank_adapters::iso20022::Pain001Version;
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

fn batch() -> PaymentBatch {
    let created_at = Utc.with_ymd_and_hms(2026, 10, 31, 1, 30, 0).unwrap();
    PaymentBatch {
        message_id: "WB-2026-10-0001".to_owned(),
        created_at,
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        initiating_party: "某建筑工程有限公司".to_owned(),
        debtor: AccountRef {
            number: "1102021929000036344".to_owned(),
            name: Some("某建筑工程有限公司".to_owned()),
            bank_code: None,
            bank_name: None,
        },
        lines: vec![PaymentLine {
            end_to_end_id: "L-0001".to_owned(),
            instruction_id: None,
            amount: Amount::cny(Decimal::from_str("3500.00").unwrap()),
            creditor: AccountRef {
                number: "6217231901000337653".to_owned(),
                name: Some("张三".to_owned()),
                bank_code: None,
                bank_name: None,
            },
            remittance: Some("2026-10 工资".to_owned()),
        }],
    }
}

#[test]
fn dialects_deserialise_from_connection_config() {
    let iso: Dialect =
        serde_json::from_str(r#"{"dialect":"iso20022","pain001_version":"09"}"#).unwrap();
    assert_eq!(
        iso,
        Dialect::Iso20022 {
            pain001: Pain001Version::V09
        }
    );
    let old: Dialect =
        serde_json::from_str(r#"{"dialect":"iso20022","pain001_version":"pain.001.001.03"}"#)
            .unwrap();
    assert_eq!(
        old,
        Dialect::Iso20022 {
            pain001: Pain001Version::V03
        }
    );
    let default: Dialect = serde_json::from_str(r#"{"dialect":"iso20022"}"#).unwrap();
    assert_eq!(
        default,
        Dialect::Iso20022 {
            pain001: Pain001Version::V09
        }
    );
    let icbc: Dialect = serde_json::from_str(
        r#"{"dialect":"icbc_cms","cis":"110290001987990","bank_code":"102","id":"FangYQHL191224.y.1102"}"#,
    )
    .unwrap();
    assert_eq!(
        icbc,
        Dialect::IcbcCms(IcbcConnection::new(
            "110290001987990",
            "FangYQHL191224.y.1102"
        ))
    );
    assert!(
        serde_json::from_str::<Dialect>(r#"{"dialect":"iso20022","pain001_version":"05"}"#)
            .is_err()
    );
    assert!(serde_json::from_str::<Dialect>(r#"{"dialect":"swift_mt"}"#).is_err());
    let back: Dialect = serde_json::from_value(serde_json::to_value(&icbc).unwrap()).unwrap();
    assert_eq!(back, icbc);
}

#[test]
fn each_dialect_writes_a_batch_its_own_reader_detects() {
    for dialect in [
        Dialect::Iso20022 {
            pain001: Pain001Version::V09,
        },
        Dialect::Iso20022 {
            pain001: Pain001Version::V03,
        },
        Dialect::IcbcCms(IcbcConnection::new("1", "x.y.1102")),
    ] {
        let bytes = dialect.write_batch(&batch()).unwrap();
        let detected = bank_adapters::dialect::detect(&bytes).unwrap();
        assert_eq!(detected.dialect, dialect.kind());
        assert_eq!(detected.message, dialect.batch_message());
        let file = bank_adapters::payment_read::read_payment_file(&bytes).unwrap();
        assert_eq!(file.control_sum(), Decimal::from_str("3500").unwrap());
        assert_eq!(
            file.into_single_batch().unwrap().lines[0].end_to_end_id,
            "L-0001"
        );
    }
}

#[test]
fn a_dialect_refuses_files_of_another_dialect_or_kind() {
    let icbc = Dialect::IcbcCms(IcbcConnection::new("1", "x"));
    let iso = Dialect::Iso20022 {
        pain001: Pain001Version::V09,
    };
    let payper = icbc.write_batch(&batch()).unwrap();
    assert!(
        icbc.read_status(&payper).is_err(),
        "a request is not a status report"
    );
    assert!(iso.read_statements(&payper).is_err());
}

/// Stands in for a 国密 signer: appends a trailer on seal, demands it on open.
#[derive(Debug)]
struct TrailerEnvelope;

impl Envelope for TrailerEnvelope {
    fn seal(&self, mut bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        bytes.extend_from_slice(b"<!--SIGNED-->");
        Ok(bytes)
    }

    fn open(&self, bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        bytes
            .strip_suffix(b"<!--SIGNED-->".as_slice())
            .map(<[u8]>::to_vec)
            .ok_or_else(|| EnvelopeError::Open("no signature".to_owned()))
    }
}

#[test]
fn the_envelope_wraps_what_the_dialect_writes_and_reads() {
    let connection = IcbcConnection::new("1", "x");
    let codec = BankCodec {
        dialect: Dialect::IcbcCms(connection.clone()),
        envelope: Box::new(TrailerEnvelope),
    };
    let sealed = codec.encode_batch(&batch()).unwrap();
    assert!(sealed.ends_with(b"<!--SIGNED-->"));

    let report = bank_adapters::model::StatusReport {
        blocks: Vec::new(),
        message_id: Some("CMN1".to_owned()),
        created_at: None,
        original_message_id: "WB-2026-10-0001".to_owned(),
        group_status_code: Some("0".to_owned()),
        group_status: Some(bank_adapters::model::PaymentStatus::Accepted),
        group_reason: None,
        lines: vec![],
    };
    let answer = bank_adapters::cn_icbc::write_payper_response(&report, &connection).unwrap();
    assert!(matches!(
        codec.decode_status(answer.clone()),
        Err(CodecError::Envelope(EnvelopeError::Open(_)))
    ));
    let signed = TrailerEnvelope.seal(answer).unwrap();
    assert_eq!(codec.decode_status(signed).unwrap(), report);

    let plain = BankCodec::plain(Dialect::IcbcCms(connection));
    assert_eq!(
        plain.encode_batch(&batch()).unwrap(),
        plain.dialect.write_batch(&batch()).unwrap()
    );
}
