//! Round trips, the way moov-io/ach tests its formats: any status report or
//! statement the model can hold (within the schema's limits) is written by
//! the bank-simulator writers (pain.002, camt.053) and read back unchanged by
//! the readers we use on real bank files; a handful of generated files also
//! validate against the official XSDs. pain.001 is only written, so its
//! property is: any batch is either refused with a reason or written as
//! well-formed XML that carries every line once.

use bank_adapters::iso20022::{
    read_cash_message, read_status_report, validate_xml_with_xmllint, write_camt053, write_pain001,
    write_pain002, CashMessage, Pain001Version, Pain002Version,
};
use bank_adapters::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, LineStatus, PaymentBatch,
    PaymentBlockStatus, PaymentLine, PaymentStatus, StatedSummary, Statement, StatementKind,
    StatusReason, StatusReport, TransactionDetail,
};
use bank_adapters::xml::{Node, XmlReader};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use rust_decimal::Decimal;

/// Text the schema accepts: 1..=max characters mixing ASCII, Chinese and
/// the characters XML must escape, without surrounding whitespace.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            2 => proptest::char::range('0', '9'),
            3 => proptest::char::range('\u{4e00}', '\u{9fa5}'),
            1 => proptest::sample::select(vec!['&', '<', '>', '"', '\'', ' ', '-', '/', '·']),
        ],
        1..=max,
    )
    .prop_map(|chars| {
        let text: String = chars.into_iter().collect();
        let trimmed = text.trim();
        if trimmed.is_empty() {
            "x".to_owned()
        } else {
            trimmed.to_owned()
        }
    })
}

fn moment() -> impl Strategy<Value = DateTime<Utc>> {
    (1_500_000_000i64..2_000_000_000, 0u32..1000).prop_map(|(secs, millis)| {
        Utc.timestamp_opt(secs, millis * 1_000_000)
            .single()
            .unwrap_or_default()
    })
}

fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..4000).prop_map(|days| {
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default() + chrono::Duration::days(days)
    })
}

fn money(max_cents: i64) -> impl Strategy<Value = Decimal> {
    (0..=max_cents).prop_map(|cents| Decimal::new(cents, 2))
}

fn currency() -> impl Strategy<Value = String> {
    proptest::sample::select(vec!["CNY", "EUR", "HKD"]).prop_map(str::to_owned)
}

fn bank_code() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        "[0-9]{12}",                                 // CNAPS
        "[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?", // BIC
        "[A-Z]{2}-[0-9]{1,20}",                      // a bank's own code
    ])
}

/// Account numbers: Chinese cards (digits) or IBANs; never the statement's
/// own account (prefix 0200), which the reader does not take as counterparty.
fn counterparty_number() -> impl Strategy<Value = String> {
    prop_oneof!["6[0-9]{15,18}", "[A-Z]{2}[0-9]{2}[A-Z0-9]{10,20}"]
}

fn counterparty() -> impl Strategy<Value = AccountRef> {
    (
        counterparty_number(),
        proptest::option::of(text(140)),
        bank_code(),
        proptest::option::of(text(140)),
    )
        .prop_map(|(number, name, bank_code, bank_name)| AccountRef {
            number,
            name,
            bank_code,
            bank_name,
        })
}

fn reason() -> impl Strategy<Value = StatusReason> {
    (
        proptest::option::of(prop_oneof!["[A-Z]{2}[0-9]{2}", "[A-Z0-9]{5,35}"]),
        proptest::option::of(text(105)),
    )
        .prop_map(|(code, text)| StatusReason { code, text })
        .prop_filter("a reason says something", |r| {
            r.code.is_some() || r.text.is_some()
        })
}

fn status_report(version: Pain002Version) -> impl Strategy<Value = StatusReport> {
    let (group_codes, line_codes): (Vec<&str>, Vec<&str>) = match version {
        Pain002Version::V03 => (
            vec![
                "ACTC", "RCVD", "PART", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC",
            ],
            vec!["ACTC", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC"],
        ),
        Pain002Version::V10 => (
            vec![
                "ACTC", "RCVD", "PART", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "RCVC",
            ],
            vec![
                "ACTC", "RJCT", "PDNG", "ACCC", "ACSP", "ACSC", "ACWP", "BLCK",
            ],
        ),
    };
    let line = (
        text(35),
        proptest::option::of(text(35)),
        proptest::sample::select(line_codes),
        proptest::option::of(reason()),
    )
        .prop_map(|(end_to_end_id, instruction_id, code, reason)| LineStatus {
            payment_information_id: None,
            end_to_end_id,
            instruction_id,
            status_code: code.to_owned(),
            status: PaymentStatus::from_iso_code(code),
            reason,
        });
    (
        text(35),
        moment(),
        text(35),
        proptest::option::of(proptest::sample::select(group_codes)),
        proptest::option::of(reason()),
        proptest::collection::vec(line, 0..8),
    )
        .prop_map(
            |(message_id, created_at, original, group, group_reason, mut lines)| {
                // Our writer puts every line in one block named after the batch.
                for line in &mut lines {
                    line.payment_information_id = Some(original.clone());
                }
                let blocks = if lines.is_empty() {
                    Vec::new()
                } else {
                    vec![PaymentBlockStatus {
                        original_payment_information_id: Some(original.clone()),
                        line_count: lines.len(),
                        ..PaymentBlockStatus::default()
                    }]
                };
                StatusReport {
                    blocks,
                    message_id: Some(message_id),
                    created_at: Some(created_at),
                    original_message_id: original,
                    group_status_code: group.map(str::to_owned),
                    group_status: group.map(PaymentStatus::from_iso_code),
                    group_reason,
                    lines,
                }
            },
        )
}

fn transaction() -> impl Strategy<Value = TransactionDetail> {
    (
        proptest::option::of((money(10_000_000), currency())),
        proptest::option::of(prop_oneof![Just(Direction::Credit), Just(Direction::Debit)]),
        proptest::option::of(text(35)),
        proptest::option::of(text(35)),
        proptest::option::of(text(35)),
        proptest::option::of(text(35)),
        proptest::option::of(counterparty()),
        proptest::option::of(text(140)),
        proptest::option::of(prop_oneof!["[A-Z]{2}[0-9]{2}", "[A-Z]{5,35}"]),
    )
        .prop_map(
            |(amount, direction, e2e, msg, instr, servicer, party, remittance, returned)| {
                TransactionDetail {
                    payment_information_id: None,
                    amount: amount.map(|(value, currency)| Amount { value, currency }),
                    direction,
                    end_to_end_id: e2e,
                    message_id: msg,
                    instruction_id: instr,
                    account_servicer_reference: servicer,
                    counterparty: party,
                    remittance,
                    return_reason: returned,
                }
            },
        )
}

fn entry() -> impl Strategy<Value = Entry> {
    (
        (money(100_000_000), currency()),
        prop_oneof![Just(Direction::Credit), Just(Direction::Debit)],
        prop_oneof![
            Just(EntryStatus::Booked),
            Just(EntryStatus::Pending),
            Just(EntryStatus::Info)
        ],
        any::<bool>(),
        (proptest::option::of(day()), proptest::option::of(day())),
        proptest::option::of(text(35)),
        proptest::option::of(text(35)),
        proptest::option::of(text(500)),
        proptest::collection::vec(transaction(), 0..4),
    )
        .prop_map(
            |(
                (value, currency),
                direction,
                status,
                reversal,
                (booking_date, value_date),
                bank_reference,
                account_servicer_reference,
                additional_info,
                transactions,
            )| Entry {
                booked_at: None,
                batch: None,
                amount: Amount { value, currency },
                direction,
                status,
                reversal,
                booking_date,
                value_date,
                bank_reference,
                account_servicer_reference,
                additional_info,
                transactions,
            },
        )
}

fn balance() -> impl Strategy<Value = Balance> {
    (-100_000_000i64..100_000_000, day()).prop_map(|(cents, date)| Balance {
        amount: Amount::cny(Decimal::new(cents, 2)),
        date: Some(date),
    })
}

fn summary() -> impl Strategy<Value = StatedSummary> {
    (
        proptest::option::of(0u64..1_000_000),
        proptest::option::of(0u64..1_000_000),
        proptest::option::of(money(1_000_000_000_000)),
        proptest::option::of(0u64..1_000_000),
        proptest::option::of(money(1_000_000_000_000)),
    )
        .prop_map(
            |(entries, credits, credit_sum, debits, debit_sum)| StatedSummary {
                entry_count: entries,
                total_credits_count: credits,
                total_credits: credit_sum,
                total_debits_count: debits,
                total_debits: debit_sum,
            },
        )
}

fn statement() -> impl Strategy<Value = Statement> {
    (
        (
            text(35),
            proptest::option::of(0u64..=999_999_999_999_999_999),
        ),
        proptest::option::of(moment()),
        (
            "0200[0-9]{15}",
            proptest::option::of(text(140)),
            bank_code(),
            proptest::option::of(text(140)),
            proptest::option::of(currency()),
        ),
        proptest::option::of((moment(), moment())),
        (
            balance(),
            proptest::option::of(balance()),
            proptest::option::of(balance()),
        ),
        proptest::option::of(summary()),
        proptest::collection::vec(entry(), 0..6),
    )
        .prop_map(
            |(
                (statement_id, sequence_number),
                created_at,
                (number, name, bank_code, bank_name, currency),
                period,
                (closing, opening, available),
                stated_summary,
                entries,
            )| Statement {
                kind: StatementKind::Statement,
                statement_id,
                sequence_number,
                created_at,
                account: AccountRef {
                    number,
                    name,
                    bank_code,
                    bank_name,
                },
                currency,
                from: period.map(|(from, _)| from),
                to: period.map(|(_, to)| to),
                opening_balance: opening,
                closing_balance: Some(closing),
                available_balance: available,
                stated_summary,
                entries,
            },
        )
}

fn cash_message() -> impl Strategy<Value = CashMessage> {
    (
        text(35),
        moment(),
        proptest::collection::vec(statement(), 1..4),
    )
        .prop_map(|(message_id, created_at, statements)| CashMessage {
            message: "camt.053.001.08".to_owned(),
            message_id: Some(message_id),
            created_at: Some(created_at),
            statements,
        })
}

fn payment_batch() -> impl Strategy<Value = PaymentBatch> {
    let line = (
        text(40),
        proptest::option::of(text(40)),
        (-100i64..10_000_000, 0u32..4),
        counterparty(),
        proptest::option::of(text(150)),
    )
        .prop_map(
            |(end_to_end_id, instruction_id, (mantissa, scale), creditor, remittance)| {
                PaymentLine {
                    end_to_end_id,
                    instruction_id,
                    amount: Amount::cny(Decimal::new(mantissa, scale)),
                    creditor,
                    remittance,
                }
            },
        );
    (
        text(40),
        moment(),
        day(),
        text(150),
        counterparty(),
        proptest::collection::vec(line, 0..6),
    )
        .prop_map(
            |(
                message_id,
                created_at,
                requested_execution_date,
                initiating_party,
                debtor,
                lines,
            )| {
                PaymentBatch {
                    message_id,
                    created_at,
                    requested_execution_date,
                    initiating_party,
                    debtor,
                    lines,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn status_report_03_round_trips(report in status_report(Pain002Version::V03)) {
        let xml = write_pain002(&report, Pain002Version::V03).expect("writes");
        prop_assert_eq!(read_status_report(xml.as_bytes()).expect("reads"), report);
    }

    #[test]
    fn status_report_10_round_trips(report in status_report(Pain002Version::V10)) {
        let xml = write_pain002(&report, Pain002Version::V10).expect("writes");
        prop_assert_eq!(read_status_report(xml.as_bytes()).expect("reads"), report);
    }

    #[test]
    fn statement_round_trips(message in cash_message()) {
        let xml = write_camt053(&message).expect("writes");
        prop_assert_eq!(read_cash_message(xml.as_bytes()).expect("reads"), message);
    }

    #[test]
    fn payment_batch_is_refused_or_written_whole(batch in payment_batch()) {
        for version in [Pain001Version::V03, Pain001Version::V09] {
            let Ok(xml) = write_pain001(&batch, version) else { continue };
            let mut reader = XmlReader::new(xml.as_bytes());
            let mut end_to_end_ids = Vec::new();
            loop {
                match reader.next().expect("well formed") {
                    Node::Start if reader.name() == "EndToEndId" => {
                        end_to_end_ids.push(reader.read_text().expect("text"));
                    }
                    Node::Eof => break,
                    _ => {}
                }
            }
            let expected: Vec<_> = batch.lines.iter().map(|l| l.end_to_end_id.clone()).collect();
            prop_assert_eq!(end_to_end_ids, expected);
        }
    }
}

/// A few generated cases of each writer, validated by xmllint against the
/// official XSD (slow, so not every proptest case).
#[test]
fn generated_files_validate_against_the_xsds() {
    let mut runner = TestRunner::deterministic();
    for _ in 0..4 {
        for version in [Pain002Version::V03, Pain002Version::V10] {
            let report = status_report(version)
                .new_tree(&mut runner)
                .expect("generates")
                .current();
            let xml = write_pain002(&report, version).expect("writes");
            if let Err(failure) = validate_xml_with_xmllint(&xml) {
                panic!("{version:?}: {failure}\n{xml}");
            }
        }
        let message = cash_message()
            .new_tree(&mut runner)
            .expect("generates")
            .current();
        let xml = write_camt053(&message).expect("writes");
        if let Err(failure) = validate_xml_with_xmllint(&xml) {
            panic!("camt.053: {failure}\n{xml}");
        }
    }
    let mut written = 0;
    while written < 4 {
        let batch = payment_batch()
            .new_tree(&mut runner)
            .expect("generates")
            .current();
        for version in [Pain001Version::V03, Pain001Version::V09] {
            if let Ok(xml) = write_pain001(&batch, version) {
                written += 1;
                if let Err(failure) = validate_xml_with_xmllint(&xml) {
                    panic!("{version:?}: {failure}\n{xml}");
                }
            }
        }
    }
}
