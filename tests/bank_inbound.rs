//! Taking in bank files against a real PostgreSQL: raw keeping, duplicates,
//! quarantine, status reports applied to attempts made by SQL as the
//! disbursement use case would, statements with continuity and debits, and
//! polling a real file-exchange directory.

mod bank_seed;
mod common;

use std::path::Path;

use bank_adapters::cn_icbc::{self, IcbcConnection};
use bank_adapters::iso20022::{self, camt::CashMessage, Pain002Version};
use bank_adapters::model::*;
use bank_adapters::transport::{FileExchange, Transport};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use diesel::PgConnection;
use rust_decimal::Decimal;
use serde_json::json;

use bank_seed::{count, state, Seeded};
use common::{test_clock, TestDb};
use wagebridge::banking::inbound::{take_in, Arrival, Channel, Intake};
use wagebridge::clock::Clock;

struct Bench {
    db: TestDb,
    conn: PgConnection,
    clock: Clock,
    data: tempfile::TempDir,
    bank_id: i64,
    connection_id: i64,
}

const BANK_CODE: &str = "ICBC-TEST";

fn iso_bench() -> Bench {
    bench(json!({"dialect": "iso20022", "pain001_version": "09"}))
}

fn icbc_bench() -> Bench {
    bench(
        json!({"dialect": "icbc_cms", "cis": "120290001", "bank_code": "102", "id": "wagebridge.y.1202"}),
    )
}

fn bench(dialect: serde_json::Value) -> Bench {
    let db = TestDb::new();
    let mut conn = db.conn();
    let data = tempfile::tempdir().expect("data dir");
    let bank_id = bank_seed::organization(&mut conn, "bank", 900);
    let connection_id = bank_seed::connection(
        &mut conn,
        bank_id,
        &dialect,
        &data.path().join("fx"),
        BANK_CODE,
    );
    Bench {
        db,
        conn,
        clock: test_clock(),
        data,
        bank_id,
        connection_id,
    }
}

impl Bench {
    fn batch(&mut self, tag: u32, lines: usize) -> Seeded {
        bank_seed::batch(&mut self.conn, self.connection_id, BANK_CODE, tag, lines)
    }

    fn take(&mut self, bytes: impl Into<Vec<u8>>) -> Intake {
        let arrival = Arrival {
            connection_id: Some(self.connection_id),
            bank_id: None,
            channel: Channel::Transport,
            name: Some("file.xml".to_owned()),
            bytes: bytes.into(),
        };
        take_in(&mut self.conn, &self.clock, self.data.path(), arrival).expect("taken in")
    }

    fn count(&mut self, sql: &str) -> i64 {
        count(&mut self.conn, sql)
    }
}

fn codes(intake: &Intake) -> Vec<&str> {
    intake.findings.iter().map(|f| f.code.as_str()).collect()
}

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()
}

fn line(e2e: &str, code: &str, reason: Option<&str>) -> LineStatus {
    LineStatus {
        end_to_end_id: e2e.to_owned(),
        instruction_id: None,
        status_code: code.to_owned(),
        status: PaymentStatus::from_iso_code(code),
        reason: reason.map(|r| StatusReason {
            code: Some(r.to_owned()),
            text: Some("账户已销户 (account closed)".to_owned()),
        }),
        payment_information_id: None,
    }
}

fn pain002(
    id: &str,
    batch: &str,
    group: &str,
    reason: Option<&str>,
    lines: Vec<LineStatus>,
) -> String {
    let report = StatusReport {
        message_id: Some(id.to_owned()),
        created_at: Some(at()),
        original_message_id: batch.to_owned(),
        group_status_code: Some(group.to_owned()),
        group_status: Some(PaymentStatus::from_iso_code(group)),
        group_reason: reason.map(|r| StatusReason {
            code: Some(r.to_owned()),
            text: None,
        }),
        lines,
        blocks: Vec::new(),
    };
    let xml = iso20022::write_pain002(&report, Pain002Version::V10).expect("pain.002");
    iso20022::validate_xml_with_xmllint(&xml).expect("valid against the XSD");
    xml
}

fn balance(value: &str, day: u32) -> Balance {
    Balance {
        amount: Amount::cny(value.parse().unwrap()),
        date: NaiveDate::from_ymd_opt(2026, 11, day),
    }
}

fn debit(e2e: &str, amount: &str) -> Entry {
    Entry {
        amount: Amount::cny(amount.parse().unwrap()),
        direction: Direction::Debit,
        status: EntryStatus::Booked,
        reversal: false,
        booking_date: NaiveDate::from_ymd_opt(2026, 11, 20),
        value_date: NaiveDate::from_ymd_opt(2026, 11, 20),
        bank_reference: None,
        account_servicer_reference: Some(format!("REF-{e2e}")),
        additional_info: None,
        booked_at: None,
        batch: None,
        transactions: vec![TransactionDetail {
            end_to_end_id: Some(e2e.to_owned()),
            counterparty: Some(AccountRef {
                number: "6222000000000000123".to_owned(),
                name: Some("工人".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        }],
    }
}

fn camt053(
    account: &str,
    id: &str,
    seq: u64,
    open: &str,
    close: &str,
    entries: Vec<Entry>,
) -> String {
    let statement = Statement {
        kind: StatementKind::Statement,
        statement_id: id.to_owned(),
        sequence_number: Some(seq),
        created_at: Some(at()),
        account: AccountRef {
            number: account.to_owned(),
            ..Default::default()
        },
        currency: Some("CNY".to_owned()),
        from: None,
        to: None,
        opening_balance: Some(balance(open, 19)),
        closing_balance: Some(balance(close, 20)),
        available_balance: None,
        stated_summary: None,
        entries,
    };
    let message = CashMessage {
        message: "camt.053.001.08".to_owned(),
        message_id: Some(format!("M{id}")),
        created_at: Some(at()),
        statements: vec![statement],
    };
    let xml = iso20022::write_camt053(&message).expect("camt.053");
    iso20022::validate_xml_with_xmllint(&xml).expect("valid against the XSD");
    xml
}

#[test]
fn a_status_report_moves_each_attempt_and_records_why() {
    let mut b = iso_bench();
    let s = b.batch(1, 3);
    let xml = pain002(
        "R1",
        &s.message_id,
        "PART",
        None,
        vec![
            line(&s.e2e(1), "ACSC", None),
            line(&s.e2e(2), "RJCT", Some("AC04")),
        ],
    );
    let intake = b.take(xml);
    assert_eq!(
        (intake.status.as_str(), intake.kind.as_deref()),
        ("applied", Some("pain.002"))
    );
    assert!(!intake.duplicate);
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "rejected");
    // PART is never "all accepted": the line it does not name stays sent.
    assert_eq!(state(&mut b.conn, s.batch_id, 3), "sent");
    let reason = b.count(&format!(
        "SELECT count(*) AS n FROM disbursement_lines WHERE batch_id = {} AND reason_code = 'AC04' AND reason_text LIKE '%销户%'",
        s.batch_id
    ));
    assert_eq!(reason, 1);
    let events = b.count(&format!(
        "SELECT count(*) AS n FROM disbursement_line_events WHERE cause = 'status_report' AND bank_file_id = {}",
        intake.file_id
    ));
    assert_eq!(events, 2);
    let raw = b
        .data
        .path()
        .join("bank-files")
        .join(&intake.sha256[..2])
        .join(&intake.sha256);
    assert!(raw.is_file(), "the raw file is kept under its hash");
}

#[test]
fn the_same_file_twice_is_one_more_receipt_and_applied_once() {
    let mut b = iso_bench();
    let s = b.batch(2, 2);
    let xml = pain002(
        "R2",
        &s.message_id,
        "ACSP",
        None,
        vec![line(&s.e2e(1), "ACSP", None)],
    );
    let first = b.take(xml.clone());
    let second = b.take(xml);
    assert!(second.duplicate);
    assert_eq!(second.file_id, first.file_id);
    assert_eq!(second.status, "applied");
    assert_eq!(b.count("SELECT count(*) AS n FROM bank_files"), 1);
    assert_eq!(b.count("SELECT count(*) AS n FROM bank_file_receipts"), 2);
    assert_eq!(
        b.count("SELECT count(*) AS n FROM disbursement_line_events"),
        1
    );
}

#[test]
fn repeated_and_out_of_order_reports_never_put_an_attempt_in_a_wrong_state() {
    let mut b = iso_bench();
    let s = b.batch(3, 2);
    b.take(pain002(
        "R3a",
        &s.message_id,
        "ACSC",
        None,
        vec![line(&s.e2e(1), "ACSC", None)],
    ));
    // An older "accepted" arrives after the settlement: nothing moves back.
    let late = b.take(pain002(
        "R3b",
        &s.message_id,
        "ACSP",
        None,
        vec![line(&s.e2e(1), "ACSP", None)],
    ));
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert_eq!(codes(&late), ["REPEATED_REPORT"]);
    // A rejection after the settlement contradicts a final state.
    let contra = b.take(pain002(
        "R3c",
        &s.message_id,
        "RJCT",
        None,
        vec![line(&s.e2e(1), "RJCT", Some("AC04"))],
    ));
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert!(
        codes(&contra).contains(&"REJECTED_AFTER_SETTLED"),
        "{:?}",
        contra.findings
    );
    // The same line twice in one file: the first status only.
    let twice = b.take(pain002(
        "R3d",
        &s.message_id,
        "PART",
        None,
        vec![
            line(&s.e2e(2), "ACSP", None),
            line(&s.e2e(2), "RJCT", Some("AC04")),
        ],
    ));
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "accepted");
    assert!(codes(&twice).contains(&"DUPLICATE_LINE_STATUS"));
}

#[test]
fn a_duplicate_message_rejection_fails_no_line() {
    let mut b = iso_bench();
    let s = b.batch(4, 2);
    let intake = b.take(pain002("R4", &s.message_id, "RJCT", Some("DU01"), vec![]));
    assert_eq!(intake.status, "applied");
    assert_eq!(codes(&intake), ["DUPLICATE_SUBMISSION"]);
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "sent");
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "sent");
}

#[test]
fn a_group_status_without_lines_applies_to_every_line_but_part_applies_to_none() {
    let mut b = iso_bench();
    let s = b.batch(5, 2);
    let part = b.take(pain002("R5a", &s.message_id, "PART", None, vec![]));
    assert_eq!(codes(&part), ["GROUP_STATUS_WITHOUT_LINES"]);
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "sent");
    b.take(pain002("R5b", &s.message_id, "ACSC", None, vec![]));
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "settled");
    // Every line final: the batch is completed, with its event.
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) AS n FROM disbursement_batches WHERE id = {} AND status = 'completed'",
            s.batch_id
        )),
        1
    );
    assert_eq!(
        b.count("SELECT count(*) AS n FROM disbursement_batch_events WHERE status = 'completed'"),
        1
    );
}

#[test]
fn a_report_for_a_batch_we_never_sent_or_of_another_bank_is_quarantined_with_a_finding() {
    let mut b = iso_bench();
    let unknown = b.take(pain002("R6", "NEVERSENT1", "ACSC", None, vec![]));
    assert_eq!(unknown.status, "quarantined");
    assert!(unknown.reason.as_deref().unwrap().contains("NEVERSENT1"));
    assert_eq!(codes(&unknown), ["UNKNOWN_BATCH"]);
    // A batch of another bank's connection is just as unknown to this one.
    let other_bank = bank_seed::organization(&mut b.conn, "bank", 901);
    let dir = b.data.path().join("fx2");
    let other = bank_seed::connection(
        &mut b.conn,
        other_bank,
        &json!({"dialect": "iso20022"}),
        &dir,
        "OTHER",
    );
    let theirs = bank_seed::batch(&mut b.conn, other, "OTHER", 6, 1);
    let intake = b.take(pain002(
        "R6b",
        &theirs.message_id,
        "RJCT",
        None,
        vec![line(&theirs.e2e(1), "RJCT", Some("AC04"))],
    ));
    assert_eq!(intake.status, "quarantined");
    assert_eq!(state(&mut b.conn, theirs.batch_id, 1), "sent");
    let unknown_line = {
        let s = b.batch(7, 1);
        b.take(pain002(
            "R6c",
            &s.message_id,
            "PART",
            None,
            vec![line("NOSUCHLINE", "ACSC", None)],
        ))
    };
    assert_eq!(codes(&unknown_line), ["UNKNOWN_LINE"]);
}

#[test]
fn a_malformed_or_foreign_file_is_quarantined_with_the_parsers_position() {
    let mut b = iso_bench();
    let broken = b.take(&b"<?xml version=\"1.0\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">\n<CstmrPmtStsRpt><GrpHdr></Oops>"[..]);
    assert_eq!(broken.status, "quarantined");
    let reason = broken.reason.unwrap();
    assert!(reason.contains("line"), "{reason}");
    assert_eq!(
        b.count("SELECT count(*) AS n FROM bank_files WHERE status = 'quarantined'"),
        1
    );
    let not_xml = b.take(&b"%PDF-1.4 not a bank file"[..]);
    assert_eq!(not_xml.status, "quarantined");
    assert!(not_xml.reason.unwrap().contains("无法识别"));
}

#[test]
fn icbc_results_map_to_settled_rejected_and_unknown_and_b0012_changes_nothing() {
    let mut b = icbc_bench();
    let s = b.batch(8, 3);
    let connection = IcbcConnection::new("120290001", "wagebridge.y.1202");
    let row = |seq: usize, result: &str| LineStatus {
        end_to_end_id: s.e2e(seq),
        instruction_id: Some(seq.to_string()),
        status_code: result.to_owned(),
        status: cn_icbc::qpayper::result_status(result),
        reason: None,
        payment_information_id: None,
    };
    let report = |id: &str, code: &str, lines: Vec<LineStatus>| StatusReport {
        message_id: Some(id.to_owned()),
        created_at: Some(at()),
        original_message_id: s.message_id.clone(),
        group_status_code: Some(code.to_owned()),
        group_status: None,
        group_reason: None,
        lines,
        blocks: Vec::new(),
    };
    let dup = cn_icbc::write_qpayper_response(&report("Q0", "B0012", vec![]), &connection).unwrap();
    let intake = b.take(dup);
    assert_eq!(intake.kind.as_deref(), Some("icbc_qpayper"));
    assert_eq!(codes(&intake), ["DUPLICATE_SUBMISSION"]);
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "sent");
    let answer = cn_icbc::write_qpayper_response(
        &report("Q1", "0", vec![row(1, "7"), row(2, "6"), row(3, "98")]),
        &connection,
    )
    .unwrap();
    let intake = b.take(answer);
    assert_eq!(intake.status, "applied", "{intake:?}");
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "rejected");
    assert_eq!(state(&mut b.conn, s.batch_id, 3), "unknown");
}

#[test]
fn statements_are_checked_for_continuity_per_account() {
    let mut b = iso_bench();
    let s = b.batch(9, 1);
    let first = b.take(camt053(
        &s.account_number,
        "S1",
        1,
        "100000.00",
        "120000.00",
        vec![],
    ));
    assert_eq!(first.status, "applied");
    assert!(first.findings.is_empty(), "{:?}", first.findings);
    b.take(camt053(
        &s.account_number,
        "S2",
        2,
        "120000.00",
        "130000.00",
        vec![],
    ));
    let broken = b.take(camt053(
        &s.account_number,
        "S4",
        4,
        "999.00",
        "999.00",
        vec![],
    ));
    assert_eq!(codes(&broken), ["CONTINUITY_BREAK"]);
    let detail = &broken.findings[0].detail;
    assert!(
        detail.contains("expected 3, got 4") && detail.contains("expected 130000.00, got 999.00"),
        "{detail}"
    );
    let continuity = |b: &mut Bench, id: &str, value: &str| {
        b.count(&format!(
            "SELECT count(*) AS n FROM bank_statements WHERE statement_id = '{id}' AND continuity = '{value}' AND wage_account_id = {}",
            s.wage_account_id
        ))
    };
    assert_eq!(continuity(&mut b, "S1", "first"), 1);
    assert_eq!(continuity(&mut b, "S2", "continuous"), 1);
    assert_eq!(continuity(&mut b, "S4", "break"), 1);
    // The same statement in another file is not stored twice.
    let again = b.take(camt053(
        &s.account_number,
        "S2",
        2,
        "120000.00",
        "130000.00",
        vec![debit("X", "1.00")],
    ));
    assert_eq!(codes(&again), ["DUPLICATE_STATEMENT"]);
    assert_eq!(b.count("SELECT count(*) AS n FROM bank_statements"), 3);
    // An account that is no wage account: kept, with a finding.
    let stranger = b.take(camt053("99990000111122", "X1", 1, "0.00", "0.00", vec![]));
    assert_eq!(
        (stranger.status.as_str(), codes(&stranger)),
        ("applied", vec!["UNKNOWN_ACCOUNT"])
    );
    assert!(
        !stranger.findings[0].detail.contains("99990000111122"),
        "masked"
    );
}

#[test]
fn a_booked_debit_settles_a_sent_attempt_and_contradicts_a_rejected_one() {
    let mut b = iso_bench();
    let s = b.batch(10, 3);
    b.take(pain002(
        "R10",
        &s.message_id,
        "PART",
        None,
        vec![line(&s.e2e(2), "RJCT", Some("AC04"))],
    ));
    let intake = b.take(camt053(
        &s.account_number,
        "S10",
        1,
        "20000.00",
        "5001.00",
        vec![
            debit(&s.e2e(1), "5000.00"),
            debit(&s.e2e(2), "5000.00"),
            debit(&s.e2e(3), "4999.00"),
        ],
    ));
    assert_eq!(intake.status, "applied");
    assert_eq!(state(&mut b.conn, s.batch_id, 1), "settled");
    assert_eq!(state(&mut b.conn, s.batch_id, 2), "rejected");
    assert!(
        codes(&intake).contains(&"DEBIT_AFTER_REJECTED"),
        "{:?}",
        intake.findings
    );
    assert_eq!(
        b.count("SELECT count(*) AS n FROM disbursement_line_events WHERE cause = 'statement' AND to_state = 'settled'"),
        1
    );
    assert_eq!(
        b.count(&format!("SELECT count(*) AS n FROM bank_statement_entries WHERE end_to_end_id = '{}' AND direction = 'debit'", s.e2e(1))),
        1
    );
}

/// Which samples are bank files we read, and what each must become.
#[test]
fn every_sample_a_bank_sends_is_taken_in_or_quarantined_with_a_reason() {
    let samples = [
        ("../shared/iso20022/samples", false),
        ("../shared/cn-bank/samples", true),
    ];
    let mut seen = 0;
    for (dir, icbc) in samples {
        let mut b = if icbc { icbc_bench() } else { iso_bench() };
        let mut entries: Vec<_> =
            std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir))
                .expect("samples")
                .map(|e| e.unwrap().path())
                .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let intake = b.take(std::fs::read(&path).unwrap());
            seen += 1;
            let statement = name.starts_with("camt.")
                || name.contains("QHISD.response")
                || name.contains("QPD.response");
            let status = name.starts_with("pain.002")
                || name.contains("QPAYPER.response")
                || name.contains("PAYPER.response");
            // A verbatim template of field descriptions is no message.
            let template = name.ends_with("-template.xml");
            if statement && !template {
                assert_eq!(intake.status, "applied", "{name}: {intake:?}");
                let stored = b.count(&format!(
                    "SELECT count(*) AS n FROM bank_statements WHERE file_id = {}",
                    intake.file_id
                ));
                assert!(
                    stored >= 1 || codes(&intake).contains(&"DUPLICATE_STATEMENT"),
                    "{name}: no statement stored: {intake:?}"
                );
            } else if status {
                // No batch here has the sample's message id.
                assert_eq!(intake.status, "quarantined", "{name}: {intake:?}");
                assert!(intake.reason.is_some());
            } else {
                // Requests (pain.001, PAYPER, QHISD queries), other banks' formats.
                assert_eq!(intake.status, "quarantined", "{name}: {intake:?}");
            }
            assert!(
                intake.reason.is_some() || intake.status == "applied",
                "{name}"
            );
        }
    }
    assert!(seen >= 30, "{seen} samples");
}

#[test]
fn polling_takes_in_and_confirms_and_a_crash_before_confirm_reads_the_file_again_as_a_duplicate() {
    let mut b = iso_bench();
    let s = b.batch(11, 2);
    let fx = b.data.path().join("fx");
    let inbox = fx.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("status-1.xml"),
        pain002("P1", &s.message_id, "ACSC", None, vec![]),
    )
    .unwrap();
    // A process that crashed after take_in, before confirm:
    let exchange =
        FileExchange::new(fx.join("outbox"), &inbox, b.data.path().join("bank-files")).unwrap();
    let receipt = exchange.receive().unwrap();
    assert_eq!(receipt.files.len(), 1);
    let file = &receipt.files[0];
    let arrival = Arrival {
        connection_id: Some(b.connection_id),
        bank_id: None,
        channel: Channel::Transport,
        name: Some(file.name.clone()),
        bytes: file.bytes.clone(),
    };
    let first = take_in(&mut b.conn, &b.clock, b.data.path(), arrival).unwrap();
    assert_eq!(first.status, "applied");
    // The next instance polls: the file is still there, read again, recognised.
    let pool = b.db.pool();
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!(
        (round.files_taken_in, round.duplicates),
        (1, 1),
        "{round:?}"
    );
    assert!(round.errors.is_empty(), "{round:?}");
    assert!(
        !inbox.join("status-1.xml").exists(),
        "confirmed: it left the inbox"
    );
    assert!(inbox.join("processed").join("status-1.xml").exists());
    assert_eq!(b.count("SELECT count(*) AS n FROM bank_file_receipts"), 2);
    assert_eq!(
        b.count("SELECT count(*) AS n FROM disbursement_line_events"),
        2,
        "applied once"
    );
    // A new file in the next round, and an empty round after it.
    std::fs::write(
        inbox.join("stmt.xml"),
        camt053(&s.account_number, "SP1", 1, "10000.00", "0.00", vec![]),
    )
    .unwrap();
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!(
        (round.files_taken_in, round.duplicates, round.quarantined),
        (1, 0, 0),
        "{round:?}"
    );
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!(round.files_taken_in, 0);
    let _ = b.bank_id;
}

#[test]
fn a_connection_polled_by_another_instance_is_skipped() {
    use diesel::RunQueryDsl;
    let mut b = iso_bench();
    let mut other = b.db.conn();
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({}, {})",
        0x1B0D, b.connection_id
    ))
    .execute(&mut other)
    .unwrap();
    let pool = b.db.pool();
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!((round.connections_busy, round.connections_polled), (1, 0));
    diesel::sql_query(format!(
        "SELECT pg_advisory_unlock({}, {})",
        0x1B0D, b.connection_id
    ))
    .execute(&mut other)
    .unwrap();
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!(round.connections_polled, 1);
    let _ = Decimal::ZERO;
    let _ = &mut b.conn;
}

#[test]
fn a_file_the_transport_refuses_as_too_large_is_listed_as_quarantined() {
    let mut b = iso_bench();
    let inbox = b.data.path().join("fx").join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    // Sparse: one byte past the transport's limit without writing 256 MiB.
    let huge = std::fs::File::create(inbox.join("huge.xml")).unwrap();
    huge.set_len(bank_adapters::transport::file_exchange::DEFAULT_MAX_FILE_BYTES + 1)
        .unwrap();
    drop(huge);
    let pool = b.db.pool();
    let round = wagebridge::jobs::inbound::poll_once(&pool, &b.clock, b.data.path()).unwrap();
    assert_eq!((round.refused, round.files_taken_in), (1, 0), "{round:?}");
    assert_eq!(
        b.count("SELECT count(*) AS n FROM bank_files WHERE status = 'quarantined' AND name = 'huge.xml' AND reason LIKE '%refused%' AND size_bytes > 268435456"),
        1
    );
    assert!(
        inbox.join("refused").join("huge.xml").exists(),
        "moved aside, kept"
    );
}
