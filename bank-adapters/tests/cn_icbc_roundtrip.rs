//! Round trips for every ICBC package we both write and read (model →
//! writer → reader → the same model), and readers that never panic.

use bank_adapters::cn_icbc::{self, HistoryQuery, IcbcConnection, PackageQuery};
use bank_adapters::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, LineStatus, PaymentBatch,
    PaymentLine, PaymentStatus, StatedSummary, Statement, StatementKind, StatusReason,
    StatusReport, TransactionDetail,
};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use rust_decimal::Decimal;

fn conn() -> IcbcConnection {
    IcbcConnection::new("110290001987990", "FangYQHL191224.y.1102")
}

/// Text with Chinese, markup characters and inner spaces; no outer spaces
/// (readers trim) and nothing GBK cannot encode.
fn text(max: usize) -> impl Strategy<Value = String> {
    let edge = "[a-zA-Z0-9工资张三李王项目款&<>\"']";
    let inner = format!("[a-zA-Z0-9 工资张三李王项目款&<>\"'-]{{0,{max}}}");
    (
        proptest::string::string_regex(edge).unwrap(),
        proptest::string::string_regex(&inner).unwrap(),
        proptest::string::string_regex(edge).unwrap(),
    )
        .prop_map(|(a, b, c)| format!("{a}{b}{c}"))
}

fn digits() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[0-9]{6,19}").unwrap()
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_500_000_000_000i64..2_000_000_000_000).prop_map(|ms| Utc.timestamp_millis_opt(ms).unwrap())
}

fn fen_amount() -> impl Strategy<Value = Decimal> {
    (1i64..10_000_000_000).prop_map(|fen| Decimal::new(fen, 2))
}

fn batch() -> impl Strategy<Value = PaymentBatch> {
    let line = (
        option::of(text(8)),
        fen_amount(),
        digits(),
        text(10),
        option::of(proptest::string::string_regex("102[0-9]{9}|[0-9]{12}").unwrap()),
        option::of(text(10)),
        option::of(text(20)),
    );
    (text(12), instant(), digits(), text(10), vec(line, 1..8)).prop_map(
        |(message_id, created_at, payer_account, payer_name, lines)| PaymentBatch {
            message_id,
            created_at,
            requested_execution_date: created_at
                .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
                .date_naive(),
            initiating_party: payer_name.clone(),
            debtor: AccountRef {
                number: payer_account,
                name: Some(payer_name),
                bank_code: None,
                bank_name: None,
            },
            lines: lines
                .into_iter()
                .enumerate()
                .map(
                    |(
                        i,
                        (instruction_id, value, number, name, bank_code, bank_name, remittance),
                    )| PaymentLine {
                        end_to_end_id: format!("E2E-{i}"),
                        instruction_id,
                        amount: Amount::cny(value),
                        creditor: AccountRef {
                            number,
                            name: Some(name),
                            bank_code,
                            bank_name,
                        },
                        remittance,
                    },
                )
                .collect(),
        },
    )
}

fn line_status() -> impl Strategy<Value = LineStatus> {
    let codes = prop_oneof![
        Just("0"),
        Just("1"),
        Just("2"),
        Just("4"),
        Just("6"),
        Just("7"),
        Just("8"),
        Just("9"),
        Just("11"),
        Just("86"),
        Just("95"),
        Just("98")
    ];
    (
        text(10),
        proptest::string::string_regex("[0-9]{1,5}").unwrap(),
        codes,
        option::of((option::of(text(6)), option::of(text(20)))),
    )
        .prop_map(|(end_to_end_id, seqno, code, reason)| LineStatus {
            payment_information_id: None,
            end_to_end_id,
            instruction_id: Some(seqno),
            status_code: code.to_owned(),
            status: cn_icbc::result_status(code),
            reason: reason
                .filter(|(c, t)| c.is_some() || t.is_some())
                .map(|(code, text)| StatusReason { code, text }),
        })
}

fn qpayper_report() -> impl Strategy<Value = StatusReport> {
    let group = prop_oneof![
        Just(("0".to_owned(), None)),
        text(12).prop_map(|t| ("B0012".to_owned(), Some(t))),
        text(12).prop_map(|t| ("B0001".to_owned(), Some(t))),
    ];
    (
        option::of(text(12)),
        option::of(instant()),
        text(12),
        group,
        vec(line_status(), 0..6),
    )
        .prop_map(
            |(message_id, created_at, original_message_id, (code, text), lines)| StatusReport {
                blocks: Vec::new(),
                message_id,
                created_at,
                original_message_id,
                group_status: Some(if code == "0" {
                    PaymentStatus::Accepted
                } else {
                    PaymentStatus::Unknown
                }),
                group_reason: (code != "0").then(|| StatusReason {
                    code: Some(code.clone()),
                    text,
                }),
                group_status_code: Some(code),
                lines,
            },
        )
}

fn history_entry() -> impl Strategy<Value = Entry> {
    (
        fen_amount(),
        any::<bool>(),
        any::<bool>(),
        option::of((2015i32..2030, 1u32..13, 1u32..29)),
        option::of((2015i32..2030, 1u32..13, 1u32..29)),
        option::of(digits()),
        option::of(text(10)),
        (
            option::of(text(10)),
            option::of(text(10)),
            option::of(text(20)),
            option::of(text(10)),
        ),
        option::of((
            digits(),
            option::of(text(8)),
            option::of(digits()),
            option::of(text(10)),
        )),
    )
        .prop_map(
            |(
                value,
                credit,
                reversal,
                booking,
                valued,
                servicer_ref,
                info,
                (e2e, instr, remittance, refund),
                counterparty,
            )| {
                let direction = if credit {
                    Direction::Credit
                } else {
                    Direction::Debit
                };
                let date = |d: Option<(i32, u32, u32)>| {
                    d.and_then(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d))
                };
                let amount = Amount::cny(value);
                Entry {
                    booked_at: None,
                    batch: None,
                    amount: amount.clone(),
                    direction,
                    status: EntryStatus::Booked,
                    reversal,
                    booking_date: date(booking),
                    value_date: date(valued),
                    bank_reference: None,
                    account_servicer_reference: servicer_ref,
                    additional_info: info,
                    transactions: vec![TransactionDetail {
                        payment_information_id: None,
                        amount: Some(amount),
                        direction: Some(direction),
                        end_to_end_id: e2e,
                        message_id: None,
                        instruction_id: instr,
                        account_servicer_reference: None,
                        counterparty: counterparty.map(|(number, name, bank_code, bank_name)| {
                            AccountRef {
                                number,
                                name,
                                bank_code,
                                bank_name,
                            }
                        }),
                        remittance,
                        return_reason: refund,
                    }],
                }
            },
        )
}

fn history_statement() -> impl Strategy<Value = (Statement, Option<String>)> {
    (
        text(12),
        option::of(instant()),
        digits(),
        option::of(text(10)),
        (-100_000_000i64..100_000_000),
        vec(history_entry(), 0..6),
        option::of(text(26)),
        option::of((2015i32..2030, 1u32..13, 1u32..29, 0i64..40)),
    )
        .prop_map(
            |(id, created_at, account, name, opening_fen, entries, next_tag, span)| {
                let bj = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
                let (from, to) = match span
                    .and_then(|(y, m, d, days)| Some((NaiveDate::from_ymd_opt(y, m, d)?, days)))
                {
                    Some((begin, days)) => {
                        let end = begin + chrono::Duration::days(days);
                        let from = bj
                            .from_local_datetime(&begin.and_hms_opt(0, 0, 0).unwrap())
                            .unwrap();
                        let to = bj
                            .from_local_datetime(&end.and_hms_opt(23, 59, 59).unwrap())
                            .unwrap();
                        (Some(from.with_timezone(&Utc)), Some(to.with_timezone(&Utc)))
                    }
                    None => (None, None),
                };
                let opening = Decimal::new(opening_fen, 2);
                let closing = entries.iter().fold(opening, |b, e| match e.direction {
                    Direction::Credit => b + e.amount.value,
                    Direction::Debit => b - e.amount.value,
                });
                let has_rows = !entries.is_empty();
                let balance = |v: Decimal| Balance {
                    amount: Amount::cny(v),
                    date: None,
                };
                let statement = Statement {
                    kind: StatementKind::History,
                    statement_id: id,
                    sequence_number: None,
                    created_at,
                    account: AccountRef {
                        number: account,
                        name,
                        bank_code: None,
                        bank_name: None,
                    },
                    currency: Some("CNY".to_owned()),
                    from,
                    to,
                    opening_balance: has_rows.then(|| balance(opening)),
                    closing_balance: has_rows.then(|| balance(closing)),
                    available_balance: None,
                    stated_summary: Some(StatedSummary {
                        entry_count: Some(entries.len() as u64),
                        ..Default::default()
                    }),
                    entries,
                };
                (statement, next_tag)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn payper_round_trips(batch in batch()) {
        let bytes = cn_icbc::write_payper(&batch, &conn()).unwrap();
        prop_assert_eq!(cn_icbc::read_payper(&bytes).unwrap(), batch);
    }

    #[test]
    fn qpayper_answer_round_trips(report in qpayper_report()) {
        let bytes = cn_icbc::write_qpayper_response(&report, &conn()).unwrap();
        prop_assert_eq!(cn_icbc::read_qpayper(&bytes).unwrap(), report);
    }

    #[test]
    fn payper_acknowledgement_round_trips(mut report in qpayper_report()) {
        report.lines.clear();
        if report.group_status_code.as_deref() == Some("B0001") {
            // A PAYPER refused for any reason but a duplicate id is rejected.
            report.group_status = Some(PaymentStatus::Rejected);
        }
        let bytes = cn_icbc::write_payper_response(&report, &conn()).unwrap();
        prop_assert_eq!(cn_icbc::read_qpayper(&bytes).unwrap(), report);
    }

    #[test]
    fn qhisd_answer_round_trips((statement, next_tag) in history_statement()) {
        let bytes = cn_icbc::write_qhisd_response(&statement, next_tag.as_deref(), &conn()).unwrap();
        let page = cn_icbc::read_qhisd_page(&bytes).unwrap();
        prop_assert_eq!(page.next_tag, next_tag);
        prop_assert_eq!(page.statement, statement);
    }

    #[test]
    fn qpayper_request_round_trips(
        message_id in text(12), created_at in instant(),
        original in option::of(text(12)), serial in option::of(text(12)),
    ) {
        prop_assume!(original.is_some() || serial.is_some());
        let query = PackageQuery { message_id, created_at, original_message_id: original, serial_no: serial };
        let bytes = cn_icbc::write_qpayper_request(&query, &conn()).unwrap();
        prop_assert_eq!(cn_icbc::read_qpayper_request(&bytes).unwrap(), query);
    }

    #[test]
    fn qhisd_request_round_trips(
        message_id in text(12), created_at in instant(), account in digits(),
        start in 0i64..3000, days in 0i64..60, next_tag in option::of(text(26)),
    ) {
        let begin = NaiveDate::from_ymd_opt(2018, 1, 1).unwrap() + chrono::Duration::days(start);
        let query = HistoryQuery {
            message_id, created_at, account, begin, end: begin + chrono::Duration::days(days), next_tag,
        };
        let bytes = cn_icbc::write_qhisd_request(&query, &conn()).unwrap();
        prop_assert_eq!(cn_icbc::read_qhisd_request(&bytes).unwrap(), query);
    }

    #[test]
    fn readers_never_panic_on_arbitrary_bytes(bytes in vec(any::<u8>(), 0..400)) {
        let _ = cn_icbc::read_payper(&bytes);
        let _ = cn_icbc::read_qpayper(&bytes);
        let _ = cn_icbc::read_qhisd(&bytes);
        let _ = cn_icbc::read_qpayper_request(&bytes);
        let _ = cn_icbc::read_qhisd_request(&bytes);
    }

    #[test]
    fn readers_never_panic_on_damaged_packages(batch in batch(), cut in any::<prop::sample::Index>(), flip in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = cn_icbc::write_payper(&batch, &conn()).unwrap();
        let at = flip.index(bytes.len());
        bytes[at] = byte;
        bytes.truncate(cut.index(bytes.len() + 1).max(at));
        let _ = cn_icbc::read_payper(&bytes);
        let _ = cn_icbc::read_qpayper(&bytes);
        let _ = cn_icbc::read_qhisd(&bytes);
    }
}
