//! The bank simulator end to end over the file exchange: our pain.001 in,
//! its pain.002 and camt.053 out, read back by our own readers and checked
//! against the official XSDs; duplicates refused; the ledger durable.

use std::collections::BTreeSet;
use std::process::Command;
use std::str::FromStr;

use bank_adapters::iso20022::{
    check_balances, read_cash_message, read_status_report, validate_with_xmllint, write_pain001,
    BalanceCheck, Pain001Version,
};
use bank_adapters::model::{
    AccountRef, Amount, Direction, PaymentBatch, PaymentLine, PaymentStatus, StatusReport,
};
use bank_adapters::sim::{AccountConfig, Config, Sim};
use bank_adapters::transport::{FileExchange, ReceivedFile, SendOutcome, Transport};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use tempfile::TempDir;

const ACCOUNT: &str = "1100123456789012345";
const CLOSED_CARD: &str = "6222020200000000003";

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn line(index: usize, amount: &str, card: &str) -> PaymentLine {
    PaymentLine {
        end_to_end_id: format!("WB-E2E-{index:04}"),
        instruction_id: None,
        amount: Amount::cny(dec(amount)),
        creditor: AccountRef {
            number: card.to_owned(),
            name: Some(format!("工人{index}")),
            bank_code: Some("102100099996".to_owned()),
            bank_name: None,
        },
        remittance: Some("P-2026-001 2026-10 工资".to_owned()),
    }
}

fn batch(message_id: &str) -> PaymentBatch {
    PaymentBatch {
        message_id: message_id.to_owned(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).unwrap(),
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
        initiating_party: "某建设集团有限公司".to_owned(),
        debtor: AccountRef {
            number: ACCOUNT.to_owned(),
            name: Some("某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: None,
        },
        lines: vec![
            line(1, "3000.00", "6222020200000000001"),
            line(2, "2500.50", "6222020200000000002"),
            line(3, "1200.00", CLOSED_CARD),
        ],
    }
}

struct Setup {
    dir: TempDir,
    sim: Sim,
    client: FileExchange,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        accounts: vec![AccountConfig {
            number: ACCOUNT.to_owned(),
            name: Some("某项目农民工工资专用账户".to_owned()),
            opening_balance: dec("10000.00"),
        }],
        closed_cards: BTreeSet::from([CLOSED_CARD.to_owned()]),
        ..Config::default()
    };
    let sim_dir = dir.path().join("bank");
    config.save(&sim_dir).unwrap();
    let sim = Sim::open(&sim_dir).unwrap();
    let client = sim.client_exchange(dir.path().join("our-archive")).unwrap();
    Setup { dir, sim, client }
}

fn send(client: &FileExchange, message_id: &str) -> SendOutcome {
    let xml = write_pain001(&batch(message_id), Pain001Version::V09).unwrap();
    client.send(message_id, xml.as_bytes()).unwrap()
}

/// Every file the bank sent, each validated against its XSD, then confirmed.
fn collect(client: &FileExchange) -> Vec<ReceivedFile> {
    let receipt = client.receive().unwrap();
    assert!(receipt.refused.is_empty(), "{:?}", receipt.refused);
    for file in &receipt.files {
        if let Err(e) = validate_with_xmllint(&file.archived_at) {
            panic!("{} does not validate: {e}", file.name);
        }
        client.confirm(file).unwrap();
    }
    receipt.files
}

fn reports(files: &[ReceivedFile]) -> Vec<StatusReport> {
    files
        .iter()
        .filter(|f| f.name.starts_with("SIMP2"))
        .map(|f| read_status_report(f.bytes.as_slice()).unwrap())
        .collect()
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).unwrap()
}

#[test]
fn a_batch_is_booked_answered_and_stated() {
    let s = setup();
    let pain001 = write_pain001(&batch("WB-MSG-0001"), Pain001Version::V09).unwrap();
    bank_adapters::iso20022::validate_xml_with_xmllint(&pain001).unwrap();
    assert_eq!(send(&s.client, "WB-MSG-0001"), SendOutcome::Sent);
    let summary = s.sim.round(now()).unwrap();
    assert_eq!(
        (
            summary.executed_messages,
            summary.settled_lines,
            summary.rejected_lines
        ),
        (1, 2, 1)
    );
    let files = collect(&s.client);
    assert_eq!(files.len(), 2, "one status report, one statement");

    let reports = reports(&files);
    let [report] = reports.as_slice() else {
        panic!("one status report expected: {reports:?}");
    };
    assert_eq!(report.original_message_id, "WB-MSG-0001");
    assert_eq!(report.group_status_code.as_deref(), Some("PART"));
    let statuses: Vec<_> = report
        .lines
        .iter()
        .map(|l| {
            (
                l.end_to_end_id.as_str(),
                l.status,
                l.reason.as_ref().and_then(|r| r.code.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("WB-E2E-0001", PaymentStatus::Settled, None),
            ("WB-E2E-0002", PaymentStatus::Settled, None),
            ("WB-E2E-0003", PaymentStatus::Rejected, Some("AC04")),
        ]
    );

    let camt = files.iter().find(|f| f.name.starts_with("SIMC53")).unwrap();
    let message = read_cash_message(camt.bytes.as_slice()).unwrap();
    let [statement] = message.statements.as_slice() else {
        panic!("one statement expected");
    };
    assert_eq!(statement.account.number, ACCOUNT);
    assert_eq!(statement.sequence_number, Some(1));
    assert_eq!(
        statement.opening_balance.as_ref().unwrap().amount.value,
        dec("10000.00")
    );
    assert_eq!(
        statement.closing_balance.as_ref().unwrap().amount.value,
        dec("4499.50")
    );
    assert_eq!(check_balances(statement), BalanceCheck::Holds);
    let ids: Vec<_> = statement
        .entries
        .iter()
        .map(|e| (e.direction, e.transactions[0].end_to_end_id.as_deref()))
        .collect();
    assert_eq!(
        ids,
        [
            (Direction::Debit, Some("WB-E2E-0001")),
            (Direction::Debit, Some("WB-E2E-0002")),
        ]
    );
    let card = &s.sim.ledger().unwrap().accounts["6222020200000000002"];
    assert_eq!(card.balance, dec("2500.50"));
    drop(s.dir);
}

#[test]
fn the_same_message_id_again_books_nothing_and_is_answered_as_a_duplicate() {
    let s = setup();
    send(&s.client, "WB-MSG-0002");
    s.sim.round(now()).unwrap();
    collect(&s.client);
    let before = s.sim.ledger().unwrap();

    // The bank has taken the first file away, so this really reaches it.
    assert_eq!(send(&s.client, "WB-MSG-0002"), SendOutcome::Sent);
    let summary = s.sim.round(now()).unwrap();
    assert_eq!(
        (
            summary.duplicates,
            summary.settled_lines,
            summary.statements
        ),
        (1, 0, 0)
    );
    let files = collect(&s.client);
    let reports = reports(&files);
    let [report] = reports.as_slice() else {
        panic!("one answer expected: {reports:?}");
    };
    assert_eq!(report.original_message_id, "WB-MSG-0002");
    assert_eq!(report.group_status, Some(PaymentStatus::Rejected));
    let reason = report.group_reason.as_ref().and_then(|r| r.code.as_deref());
    assert_eq!(reason, Some("DU01"));
    assert!(report.lines.is_empty());
    let after = s.sim.ledger().unwrap();
    assert_eq!(after.bookings, before.bookings);
    assert_eq!(after.accounts, before.accounts);
}

#[test]
fn the_ledger_survives_a_restart_and_statements_chain() {
    let s = setup();
    send(&s.client, "WB-MSG-0003");
    s.sim.round(now()).unwrap();
    collect(&s.client);
    let sim_dir = s.dir.path().join("bank");
    drop(s.sim);

    // A new process on the same directory: credit, one round, the ledger.
    let bin = env!("CARGO_BIN_EXE_bank-sim");
    let run = |args: &[&str]| {
        let output = Command::new(bin)
            .args(args)
            .arg("--dir")
            .arg(&sim_dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    run(&[
        "credit",
        "--account",
        ACCOUNT,
        "--amount",
        "800.00",
        "--from",
        "6200000000001",
    ]);
    run(&["--once"]);
    let ledger: serde_json::Value = serde_json::from_str(&run(&["ledger"])).unwrap();
    assert_eq!(ledger["accounts"][ACCOUNT]["balance"], "5299.50");
    assert!(ledger["executed"]["WB-MSG-0003"].is_object());

    let files = collect(&s.client);
    let [camt] = files.as_slice() else {
        panic!("one statement expected");
    };
    let message = read_cash_message(camt.bytes.as_slice()).unwrap();
    let statement = &message.statements[0];
    assert_eq!(statement.sequence_number, Some(2));
    assert_eq!(
        statement.opening_balance.as_ref().unwrap().amount.value,
        dec("4499.50")
    );
    assert_eq!(
        statement.closing_balance.as_ref().unwrap().amount.value,
        dec("5299.50")
    );
    assert_eq!(check_balances(statement), BalanceCheck::Holds);

    // A fresh instance refuses the executed id as well.
    let again = Sim::open(&sim_dir).unwrap();
    send(&s.client, "WB-MSG-0003");
    assert_eq!(again.round(now()).unwrap().duplicates, 1);
}

#[test]
fn a_name_mismatch_and_a_short_balance_are_rejected() {
    let s = setup();
    let sim_dir = s.dir.path().join("bank");
    let mut config = Config::load(&sim_dir).unwrap();
    config.closed_cards.clear();
    config
        .name_mismatch_cards
        .insert("6222020200000000001".to_owned());
    config.accounts[0].opening_balance = dec("3000.00");
    config.save(&sim_dir).unwrap();
    send(&s.client, "WB-MSG-0004");
    s.sim.round(now()).unwrap();
    let files = collect(&s.client);
    let report = &reports(&files)[0];
    let codes: Vec<_> = report
        .lines
        .iter()
        .map(|l| {
            (
                l.status_code.as_str(),
                l.reason.as_ref().and_then(|r| r.code.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("RJCT", Some("BE01")),
            ("ACSC", None),
            ("RJCT", Some("AM04"))
        ]
    );
}

#[test]
fn an_unreadable_file_is_kept_and_books_nothing() {
    let s = setup();
    s.client.send("GARBAGE-1", b"<not-a-payment/>").unwrap();
    let summary = s.sim.round(now()).unwrap();
    assert_eq!((summary.unreadable, summary.executed_messages), (1, 0));
    let ledger = s.sim.ledger().unwrap();
    assert_eq!(ledger.refused.len(), 1);
    assert!(ledger.bookings.is_empty());
}

#[test]
fn a_file_executed_before_a_crash_is_recognised_not_booked_again() {
    let s = setup();
    send(&s.client, "WB-MSG-0005");
    s.sim.round(now()).unwrap();
    collect(&s.client);
    // The state a crash leaves after the ledger is saved and the answer is
    // out, but before the file left the inbox: unconfirmed, still there.
    let bank = s.dir.path().join("bank");
    let path = bank.join("ledger.json");
    let mut ledger: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    ledger["executed"]["WB-MSG-0005"]["confirmed"] = false.into();
    std::fs::write(&path, serde_json::to_vec(&ledger).unwrap()).unwrap();
    std::fs::rename(
        bank.join("to-bank/processed/WB-MSG-0005.xml"),
        bank.join("to-bank/WB-MSG-0005.xml"),
    )
    .unwrap();
    let before = s.sim.ledger().unwrap();

    let summary = s.sim.round(now()).unwrap();
    assert_eq!((summary.duplicates, summary.executed_messages), (0, 0));
    assert!(collect(&s.client).is_empty(), "no second answer");
    let after = s.sim.ledger().unwrap();
    assert_eq!(after.bookings, before.bookings);
    assert!(after.executed["WB-MSG-0005"].confirmed);
    assert!(!bank.join("to-bank/WB-MSG-0005.xml").exists());
}
