//! Statements are read as a stream: a generated camt.053 far larger than
//! the memory the reader uses goes through `read_cash_stream` entry by
//! entry, reconciles, and peak memory stays flat.

use std::io::Read;

use bank_adapters::iso20022::{
    camt053_source, check_balances, generate_camt053, read_cash_stream, summary_mismatches,
    validate_xml_with_xmllint, BalanceCheck, CashHeader, StatementSink,
};
use bank_adapters::model::{Direction, Entry, EntryStatus, Statement};
use rust_decimal::Decimal;

/// Keeps running totals only, so the test itself holds nothing per entry.
#[derive(Default)]
struct Totals {
    header: Option<Statement>,
    closing_header: Option<Statement>,
    entries: u64,
    credits: u64,
    debits: u64,
    credit_sum: Decimal,
    debit_sum: Decimal,
    booked_net: Decimal,
    reversals: u64,
    pending: u64,
    message_id: Option<String>,
}

impl StatementSink for Totals {
    fn group_header(&mut self, header: &CashHeader) {
        self.message_id = header.message_id.clone();
    }

    fn statement_start(&mut self, statement: &Statement) {
        assert!(statement.entries.is_empty());
        self.header = Some(statement.clone());
    }

    fn entry(&mut self, entry: Entry) {
        self.entries += 1;
        let value = entry.amount.value;
        match entry.direction {
            Direction::Credit => {
                self.credits += 1;
                self.credit_sum += value;
            }
            Direction::Debit => {
                self.debits += 1;
                self.debit_sum += value;
            }
        }
        match entry.status {
            EntryStatus::Booked if entry.direction == Direction::Credit => self.booked_net += value,
            EntryStatus::Booked => self.booked_net -= value,
            _ => self.pending += 1,
        }
        if entry.reversal {
            self.reversals += 1;
            assert_eq!(entry.transactions[0].return_reason.as_deref(), Some("AC04"));
        }
        assert!(entry.transactions[0].counterparty.is_some());
    }

    fn statement_end(&mut self, statement: &Statement) {
        self.closing_header = Some(statement.clone());
    }
}

/// Peak resident memory of this process so far (Linux), in KiB.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn stream(entries: usize, seed: u64) -> Totals {
    let mut totals = Totals::default();
    read_cash_stream(camt053_source(entries, seed), &mut totals).expect("reads");
    totals
}

fn assert_reconciles(totals: &Totals, entries: usize) {
    assert_eq!(totals.entries, entries as u64);
    let header = totals.header.as_ref().expect("statement started");
    let opening = header
        .opening_balance
        .as_ref()
        .expect("opening")
        .amount
        .value;
    let closing = header
        .closing_balance
        .as_ref()
        .expect("closing")
        .amount
        .value;
    assert_eq!(opening + totals.booked_net, closing);
    let summary = header.stated_summary.as_ref().expect("summary");
    assert_eq!(summary.entry_count, Some(totals.entries));
    assert_eq!(summary.total_credits_count, Some(totals.credits));
    assert_eq!(summary.total_debits_count, Some(totals.debits));
    assert_eq!(summary.total_credits, Some(totals.credit_sum));
    assert_eq!(summary.total_debits, Some(totals.debit_sum));
    assert_eq!(totals.closing_header.as_ref(), Some(header));
    assert!(totals.reversals > 0 && totals.pending > 0);
}

#[test]
fn a_large_statement_streams_in_flat_memory() {
    let entries = 60_000;
    // Warm up allocator and code paths, then measure the peak.
    assert_reconciles(&stream(2_000, 7), 2_000);
    let before = peak_kib();
    let totals = stream(entries, 20_261_105);
    let after = peak_kib();
    assert_reconciles(&totals, entries);
    assert!(totals.message_id.is_some());
    if let (Some(before), Some(after)) = (before, after) {
        // The document is well over 100 MiB and the entries, held, would be
        // tens of MiB; streaming needs a few buffers.
        let grown = after.saturating_sub(before);
        assert!(grown < 24 * 1024, "peak memory grew by {grown} KiB");
    }
}

#[test]
fn the_generator_is_deterministic_valid_and_reconciles() {
    let mut first = Vec::new();
    generate_camt053(&mut first, 500, 42).expect("generates");
    let mut again = String::new();
    camt053_source(500, 42)
        .read_to_string(&mut again)
        .expect("generates");
    assert_eq!(first, again.as_bytes());
    let mut other = Vec::new();
    generate_camt053(&mut other, 500, 43).expect("generates");
    assert_ne!(first, other);

    if let Err(failure) = validate_xml_with_xmllint(&again) {
        panic!("generated camt.053 is not valid: {failure}");
    }
    let message = bank_adapters::iso20022::read_cash_message(again.as_bytes()).expect("reads");
    let statement = &message.statements[0];
    assert_eq!(statement.entries.len(), 500);
    assert_eq!(check_balances(statement), BalanceCheck::Holds);
    assert!(summary_mismatches(statement).is_empty());
}

/// Two million entries (about 4.5 GiB of XML) through the streaming reader:
/// `cargo test --release -p bank-adapters --test iso20022_streaming -- --ignored`.
#[test]
#[ignore = "slow: a few minutes in release"]
fn two_million_entries_stream_in_flat_memory() {
    let before = peak_kib();
    let totals = stream(2_000_000, 1);
    let after = peak_kib();
    assert_reconciles(&totals, 2_000_000);
    if let (Some(before), Some(after)) = (before, after) {
        let grown = after.saturating_sub(before);
        assert!(grown < 24 * 1024, "peak memory grew by {grown} KiB");
    }
}
