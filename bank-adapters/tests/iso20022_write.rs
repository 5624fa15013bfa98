//! pain.001 batches of every shape we send validate against the official
//! XSDs (.03 and .09) with xmllint, and values the schema cannot carry are
//! refused with the right error instead of being cut. The pain.002 and
//! camt.053 the bank simulator writes validate too.
//!
//! Needs `xmllint` (Debian `libxml2-utils`).

use std::str::FromStr;

use bank_adapters::error::WriteError;
use bank_adapters::iso20022::{
    read_cash_message, read_status_report, validate_xml_with_xmllint, write_camt053, write_pain001,
    write_pain002, CashMessage, Pain001Version, Pain002Version,
};
use bank_adapters::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, LineStatus, PaymentBatch,
    PaymentBlockStatus, PaymentLine, PaymentStatus, StatedSummary, Statement, StatementKind,
    StatusReason, StatusReport, TransactionDetail,
};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

const VERSIONS: [Pain001Version; 2] = [Pain001Version::V03, Pain001Version::V09];

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).expect("decimal literal")
}

fn worker(index: usize) -> PaymentLine {
    PaymentLine {
        end_to_end_id: format!("WB-2026-10-{index:06}"),
        instruction_id: None,
        amount: Amount::cny(dec("4850.00") + Decimal::new(index as i64 % 997, 2)),
        creditor: AccountRef {
            number: format!("6222020200{index:09}"),
            name: Some(["张三", "李四", "王五", "赵六"][index % 4].to_owned()),
            bank_code: match index % 3 {
                0 => Some("102100099996".to_owned()),
                1 => Some("ICBKCNBJXXX".to_owned()),
                _ => None,
            },
            bank_name: (index % 2 == 0).then(|| "中国工商银行北京分行".to_owned()),
        },
        remittance: Some("2026-10 工资".to_owned()),
    }
}

fn batch(lines: usize) -> PaymentBatch {
    PaymentBatch {
        message_id: "WB-B-2026-10-0001".to_owned(),
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 5, 1, 30, 0)
            .single()
            .expect("time"),
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 5).expect("date"),
        initiating_party: "中建某局第三工程有限公司".to_owned(),
        debtor: AccountRef {
            number: "0200001019200099999".to_owned(),
            name: Some("某某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: Some("中国工商银行股份有限公司北京分行".to_owned()),
        },
        lines: (0..lines).map(worker).collect(),
    }
}

fn assert_valid(xml: &str, what: &str) {
    if let Err(failure) = validate_xml_with_xmllint(xml) {
        panic!("{what} is not valid: {failure}");
    }
}

#[test]
fn one_line_batch_validates_in_both_versions() {
    for version in VERSIONS {
        let xml = write_pain001(&batch(1), version).expect("writes");
        assert!(xml.contains(version.namespace()));
        assert!(xml.contains("<CtrlSum>4850.00</CtrlSum>"));
        assert_valid(&xml, version.message_name());
    }
}

#[test]
fn ten_thousand_line_batch_validates_in_both_versions() {
    let batch = batch(10_000);
    for version in VERSIONS {
        let xml = write_pain001(&batch, version).expect("writes");
        assert_eq!(xml.matches("<CdtTrfTxInf>").count(), 10_000);
        assert!(xml.contains("<NbOfTxs>10000</NbOfTxs>"));
        assert!(xml.contains(&format!("<CtrlSum>{}</CtrlSum>", batch.control_sum())));
        assert_valid(&xml, version.message_name());
    }
}

#[test]
fn version_09_wraps_the_execution_date_and_uses_bicfi() {
    let v09 = write_pain001(&batch(2), Pain001Version::V09).expect("writes");
    assert!(v09.contains("<ReqdExctnDt>\n"));
    assert!(v09.contains("<Dt>2026-11-05</Dt>"));
    assert!(v09.contains("<BICFI>ICBKCNBJXXX</BICFI>"));
    let v03 = write_pain001(&batch(2), Pain001Version::V03).expect("writes");
    assert!(v03.contains("<ReqdExctnDt>2026-11-05</ReqdExctnDt>"));
    assert!(v03.contains("<BIC>ICBKCNBJXXX</BIC>"));
    // A CNAPS bank code travels as a clearing-system member.
    assert!(v03.contains("<Cd>CNAPS</Cd>"));
    assert!(v03.contains("<MmbId>102100099996</MmbId>"));
}

#[test]
fn maximum_length_fields_and_chinese_text_validate() {
    let mut batch = batch(3);
    batch.message_id = "M".repeat(35);
    batch.initiating_party = "建".repeat(140);
    batch.debtor.name = Some("账".repeat(140));
    batch.debtor.number = "DE12345678901234567890".to_owned(); // IBAN
    batch.debtor.bank_code = Some("OTHERBANK-CODE-35-CHARACTERS-LONG!!".to_owned());
    batch.debtor.bank_name = Some("行".repeat(140));
    batch.lines[0].end_to_end_id = "E".repeat(35);
    batch.lines[0].instruction_id = Some("I".repeat(35));
    batch.lines[0].creditor.name = Some("欧阳".repeat(70));
    batch.lines[0].creditor.number = "9".repeat(34);
    batch.lines[0].remittance = Some("工资&<奖金>\"".repeat(14));
    batch.lines[1].amount = Amount::cny(dec("99999999999999.99"));
    batch.lines[2].remittance = None;
    batch.lines[2].creditor.bank_code = None;
    batch.lines[2].creditor.bank_name = None;
    for version in VERSIONS {
        let xml = write_pain001(&batch, version).expect("writes");
        assert!(xml.contains("工资&amp;&lt;奖金&gt;&quot;"));
        assert_valid(&xml, version.message_name());
    }
}

#[test]
fn debtor_bank_without_code_or_name_is_not_provided() {
    let mut batch = batch(1);
    batch.debtor.bank_code = None;
    batch.debtor.bank_name = None;
    for version in VERSIONS {
        let xml = write_pain001(&batch, version).expect("writes");
        assert!(xml.contains("<Id>NOTPROVIDED</Id>"));
        assert_valid(&xml, version.message_name());
    }
}

fn refused(batch: &PaymentBatch) -> WriteError {
    let v03 = write_pain001(batch, Pain001Version::V03).expect_err("refused");
    let v09 = write_pain001(batch, Pain001Version::V09).expect_err("refused");
    assert_eq!(v03, v09);
    v03
}

#[test]
fn too_long_values_are_refused_not_cut() {
    let mut b = batch(2);
    b.message_id = "M".repeat(36);
    assert_eq!(
        refused(&b),
        WriteError::TooLong {
            field: "message_id".to_owned(),
            length: 36,
            max: 35
        }
    );

    let mut b = batch(2);
    b.lines[1].creditor.name = Some("张".repeat(141));
    assert_eq!(
        refused(&b),
        WriteError::TooLong {
            field: "lines[1].creditor.name".to_owned(),
            length: 141,
            max: 140
        }
    );

    let mut b = batch(2);
    b.lines[0].remittance = Some("x".repeat(141));
    assert!(
        matches!(refused(&b), WriteError::TooLong { field, max: 140, .. } if field == "lines[0].remittance")
    );

    let mut b = batch(2);
    b.lines[0].end_to_end_id = "E".repeat(36);
    assert!(
        matches!(refused(&b), WriteError::TooLong { field, max: 35, .. } if field == "lines[0].end_to_end_id")
    );

    let mut b = batch(2);
    b.lines[0].creditor.number = "6".repeat(35);
    assert!(
        matches!(refused(&b), WriteError::TooLong { field, max: 34, .. } if field == "lines[0].creditor.number")
    );

    let mut b = batch(1);
    b.initiating_party = "公".repeat(141);
    assert!(
        matches!(refused(&b), WriteError::TooLong { field, .. } if field == "initiating_party")
    );
}

#[test]
fn characters_a_bank_file_cannot_carry_are_refused() {
    for bad in ['\u{0}', '\u{7}', '\n', '\t', '\u{1b}', '\u{85}', '\u{fffe}'] {
        let mut b = batch(1);
        b.lines[0].creditor.name = Some(format!("张{bad}三"));
        assert_eq!(
            refused(&b),
            WriteError::BadCharacter {
                field: "lines[0].creditor.name".to_owned(),
                character: bad
            }
        );
    }
    let mut b = batch(1);
    b.lines[0].remittance = Some("工资\r\n".to_owned());
    assert!(matches!(
        refused(&b),
        WriteError::BadCharacter {
            character: '\r',
            ..
        }
    ));
}

#[test]
fn amounts_must_be_positive_with_at_most_two_decimals() {
    for amount in ["0", "-100.00", "100.001", "12345678901234567.00"] {
        let mut b = batch(2);
        b.lines[1].amount = Amount::cny(dec(amount));
        assert!(
            matches!(refused(&b), WriteError::Invalid { ref field, .. } if field == "lines[1].amount"),
            "{amount} must be refused"
        );
    }
    let mut b = batch(1);
    b.lines[0].amount = Amount {
        value: dec("1.00"),
        currency: "cny".to_owned(),
    };
    assert!(matches!(refused(&b), WriteError::Invalid { .. }));
    // Each line fits, but their control sum would exceed 18 digits.
    let mut b = batch(2);
    b.lines[0].amount = Amount::cny(dec("9999999999999999.99"));
    b.lines[1].amount = Amount::cny(dec("9999999999999999.99"));
    assert!(matches!(refused(&b), WriteError::Invalid { field, .. } if field == "lines"));
    // 100.000 is 100.00: more scale, not more precision.
    let mut b = batch(1);
    b.lines[0].amount = Amount::cny(dec("100.000"));
    let xml = write_pain001(&b, Pain001Version::V09).expect("writes");
    assert!(xml.contains("<InstdAmt Ccy=\"CNY\">100.00</InstdAmt>"));
}

#[test]
fn empty_batch_blank_ids_and_nameless_workers_are_refused() {
    let mut b = batch(1);
    b.lines.clear();
    assert!(matches!(refused(&b), WriteError::Invalid { field, .. } if field == "lines"));

    let mut b = batch(1);
    b.lines[0].end_to_end_id = String::new();
    assert!(
        matches!(refused(&b), WriteError::Invalid { field, .. } if field == "lines[0].end_to_end_id")
    );

    let mut b = batch(1);
    b.lines[0].end_to_end_id = " WB-1".to_owned();
    assert!(matches!(refused(&b), WriteError::Invalid { .. }));

    let mut b = batch(1);
    b.lines[0].creditor.name = None;
    assert!(
        matches!(refused(&b), WriteError::Invalid { field, .. } if field == "lines[0].creditor.name")
    );
}

fn report() -> StatusReport {
    StatusReport {
        // As our writer writes it and the reader reads it back: one block named after the batch.
        blocks: vec![PaymentBlockStatus {
            original_payment_information_id: Some("WB-B-2026-10-0001".to_owned()),
            line_count: 3,
            ..PaymentBlockStatus::default()
        }],
        message_id: Some("ICBC-STS-0001".to_owned()),
        created_at: Utc.with_ymd_and_hms(2026, 11, 5, 9, 0, 0).single(),
        original_message_id: "WB-B-2026-10-0001".to_owned(),
        group_status_code: Some("PART".to_owned()),
        group_status: Some(PaymentStatus::PartlyAccepted),
        group_reason: None,
        lines: vec![
            LineStatus {
                payment_information_id: Some("WB-B-2026-10-0001".to_owned()),
                end_to_end_id: "WB-2026-10-000001".to_owned(),
                instruction_id: Some("WB-2026-10-000001".to_owned()),
                status_code: "ACSC".to_owned(),
                status: PaymentStatus::Settled,
                reason: None,
            },
            LineStatus {
                payment_information_id: Some("WB-B-2026-10-0001".to_owned()),
                end_to_end_id: "WB-2026-10-000002".to_owned(),
                instruction_id: None,
                status_code: "RJCT".to_owned(),
                status: PaymentStatus::Rejected,
                reason: Some(StatusReason {
                    code: Some("AC04".to_owned()),
                    text: Some("账户已销户 (account closed)".to_owned()),
                }),
            },
            LineStatus {
                payment_information_id: Some("WB-B-2026-10-0001".to_owned()),
                end_to_end_id: "WB-2026-10-000003".to_owned(),
                instruction_id: None,
                status_code: "RJCT".to_owned(),
                status: PaymentStatus::Rejected,
                reason: Some(StatusReason {
                    code: Some("B0012-DUPLICATE".to_owned()),
                    text: None,
                }),
            },
        ],
    }
}

#[test]
fn status_reports_validate_and_read_back_in_both_versions() {
    let report = report();
    for version in [Pain002Version::V03, Pain002Version::V10] {
        let xml = write_pain002(&report, version).expect("writes");
        assert_valid(&xml, &format!("{version:?}"));
        assert_eq!(read_status_report(xml.as_bytes()).expect("reads"), report);
    }
}

#[test]
fn status_codes_outside_the_03_list_are_refused_there_only() {
    let mut report = report();
    report.group_status_code = Some("RCVC".to_owned());
    report.group_status = Some(PaymentStatus::Unknown);
    assert!(matches!(
        write_pain002(&report, Pain002Version::V03),
        Err(WriteError::Invalid { field, .. }) if field == "group_status_code"
    ));
    let xml = write_pain002(&report, Pain002Version::V10).expect("writes");
    assert_valid(&xml, "pain.002.001.10");
}

fn statement() -> Statement {
    let day = NaiveDate::from_ymd_opt(2026, 11, 5).expect("date");
    let worker = |number: &str, name: &str| AccountRef {
        number: number.to_owned(),
        name: Some(name.to_owned()),
        bank_code: Some("102100099996".to_owned()),
        bank_name: Some("中国工商银行北京分行".to_owned()),
    };
    Statement {
        kind: StatementKind::Statement,
        statement_id: "STMT-20261105".to_owned(),
        sequence_number: Some(309),
        created_at: Utc.with_ymd_and_hms(2026, 11, 5, 16, 0, 0).single(),
        account: AccountRef {
            number: "0200001019200099999".to_owned(),
            name: Some("某某项目农民工工资专用账户".to_owned()),
            bank_code: Some("ICBKCNBJXXX".to_owned()),
            bank_name: None,
        },
        currency: Some("CNY".to_owned()),
        from: Utc.with_ymd_and_hms(2026, 11, 4, 16, 0, 0).single(),
        to: Utc.with_ymd_and_hms(2026, 11, 5, 15, 59, 59).single(),
        opening_balance: Some(Balance {
            amount: Amount::cny(dec("100000.00")),
            date: Some(day),
        }),
        closing_balance: Some(Balance {
            amount: Amount::cny(dec("95150.00")),
            date: Some(day),
        }),
        available_balance: Some(Balance {
            amount: Amount::cny(dec("-20.50")),
            date: Some(day),
        }),
        stated_summary: Some(StatedSummary {
            entry_count: Some(3),
            total_credits_count: Some(1),
            total_credits: Some(dec("4850.00")),
            total_debits_count: Some(2),
            total_debits: Some(dec("9700.00")),
        }),
        entries: vec![
            Entry {
                booked_at: None,
                batch: None,
                amount: Amount::cny(dec("4850.00")),
                direction: Direction::Debit,
                status: EntryStatus::Booked,
                reversal: false,
                booking_date: Some(day),
                value_date: Some(day),
                bank_reference: Some("000001".to_owned()),
                account_servicer_reference: Some("ICBC000001".to_owned()),
                additional_info: Some("代发工资".to_owned()),
                transactions: vec![TransactionDetail {
                    payment_information_id: None,
                    amount: Some(Amount::cny(dec("4850.00"))),
                    direction: Some(Direction::Debit),
                    end_to_end_id: Some("WB-2026-10-000001".to_owned()),
                    message_id: Some("WB-B-2026-10-0001".to_owned()),
                    instruction_id: None,
                    account_servicer_reference: None,
                    counterparty: Some(worker("6222020200000000001", "张三")),
                    remittance: Some("2026-10 工资".to_owned()),
                    return_reason: None,
                }],
            },
            Entry {
                booked_at: None,
                batch: None,
                amount: Amount::cny(dec("4850.00")),
                direction: Direction::Debit,
                status: EntryStatus::Booked,
                reversal: false,
                booking_date: Some(day),
                value_date: None,
                bank_reference: None,
                account_servicer_reference: None,
                additional_info: None,
                transactions: vec![TransactionDetail {
                    end_to_end_id: Some("WB-2026-10-000002".to_owned()),
                    counterparty: Some(worker("6222020200000000002", "李四")),
                    ..TransactionDetail::default()
                }],
            },
            Entry {
                booked_at: None,
                batch: None,
                amount: Amount::cny(dec("4850.00")),
                direction: Direction::Credit,
                status: EntryStatus::Booked,
                reversal: true,
                booking_date: Some(day),
                value_date: Some(day),
                bank_reference: None,
                account_servicer_reference: None,
                additional_info: None,
                transactions: vec![TransactionDetail {
                    end_to_end_id: Some("WB-2026-10-000002".to_owned()),
                    counterparty: Some(worker("6222020200000000002", "李四")),
                    return_reason: Some("AC04".to_owned()),
                    ..TransactionDetail::default()
                }],
            },
        ],
    }
}

#[test]
fn statements_validate_and_read_back() {
    let message = CashMessage {
        message: "camt.053.001.08".to_owned(),
        message_id: Some("ICBC-CAMT-20261105".to_owned()),
        created_at: Utc.with_ymd_and_hms(2026, 11, 5, 16, 0, 0).single(),
        statements: vec![statement(), statement()],
    };
    let xml = write_camt053(&message).expect("writes");
    assert_valid(&xml, "camt.053.001.08");
    assert_eq!(read_cash_message(xml.as_bytes()).expect("reads"), message);
}

#[test]
fn statement_values_out_of_schema_are_refused() {
    let message = |statement: Statement| CashMessage {
        message: "camt.053.001.08".to_owned(),
        message_id: Some("M".to_owned()),
        created_at: Utc.with_ymd_and_hms(2026, 11, 5, 16, 0, 0).single(),
        statements: vec![statement],
    };
    let mut s = statement();
    s.entries[0].transactions[0].remittance = Some("工".repeat(141));
    assert!(matches!(
        write_camt053(&message(s)),
        Err(WriteError::TooLong { field, .. }) if field == "statements[0].entries[0].transactions[0].remittance"
    ));
    let mut s = statement();
    s.entries[1].amount = Amount::cny(dec("-1"));
    assert!(matches!(
        write_camt053(&message(s)),
        Err(WriteError::Invalid { field, .. }) if field == "statements[0].entries[1].amount"
    ));
    let mut s = statement();
    s.opening_balance = None;
    s.closing_balance = None;
    s.available_balance = None;
    assert!(write_camt053(&message(s)).is_err());
    let mut s = statement();
    s.kind = StatementKind::Notification;
    assert!(write_camt053(&message(s)).is_err());
}

#[test]
fn schema_violations_come_back_with_line_numbers() {
    let xml = write_pain001(&batch(3), Pain001Version::V09).expect("writes");
    let line = xml
        .lines()
        .position(|l| l.contains("<PmtMtd>"))
        .expect("PmtMtd written")
        + 1;
    let broken = xml.replace("<PmtMtd>TRF</PmtMtd>", "<PmtMtd>WIRE</PmtMtd>");
    match validate_xml_with_xmllint(&broken) {
        Err(bank_adapters::iso20022::ValidationFailure::Invalid { message, errors }) => {
            assert_eq!(message, "pain.001.001.09");
            assert!(
                errors
                    .iter()
                    .any(|e| e.contains(&format!(":{line}:")) && e.contains("PmtMtd")),
                "{errors:?}"
            );
        }
        other => panic!("expected a schema violation, got {other:?}"),
    }
}
