//! camt entries that book a batch (`NtryDtls/Btch`: one debit for many
//! payments) expose the batch's references and every transaction's
//! details, so the service can split the entry to its lines: by `TxDtls`
//! when present, else by the batch's message / payment-information id.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use bank_adapters::iso20022::{read_cash_message, validate_with_xmllint};
use bank_adapters::model::{Amount, BatchRef, Direction, Entry};
use rust_decimal::Decimal;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sample(name: &str) -> PathBuf {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    shared.join("iso20022/samples").join(name)
}

fn entries(path: &Path) -> Vec<Entry> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let message = read_cash_message(bytes.as_slice()).expect("reads");
    message
        .statements
        .into_iter()
        .flat_map(|s| s.entries)
        .collect()
}

fn yuan(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[test]
fn fixtures_are_valid_against_the_official_schemas() {
    for name in ["camt.053.001.08_batches.xml", "camt.053.001.02_batches.xml"] {
        validate_with_xmllint(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn a_batch_debit_carries_its_batch_and_every_payment() {
    for name in ["camt.053.001.08_batches.xml", "camt.053.001.02_batches.xml"] {
        let entries = entries(&fixture(name));
        let batch_entry = &entries[0];
        assert!(batch_entry.is_batch(), "{name}");
        assert_eq!(batch_entry.direction, Direction::Debit);
        assert_eq!(
            batch_entry.batch,
            Some(BatchRef {
                message_id: Some("WB-20261104-0007".to_owned()),
                payment_information_id: Some("WB-20261104-0007-A".to_owned()),
                count: Some(3),
                total: Some(Amount::cny(yuan("16500.00"))),
                direction: Some(Direction::Debit),
            }),
            "{name}"
        );
        let payments: Vec<_> = batch_entry
            .transactions
            .iter()
            .map(|t| {
                (
                    t.end_to_end_id.as_deref(),
                    t.amount.as_ref().map(|a| a.value),
                    t.counterparty.as_ref().map(|c| c.number.as_str()),
                    t.counterparty.as_ref().and_then(|c| c.name.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            payments,
            [
                (
                    Some("L-0001-1"),
                    Some(yuan("5000.00")),
                    Some("6222020200000000001"),
                    Some("张三")
                ),
                (
                    Some("L-0002-1"),
                    Some(yuan("5500.00")),
                    Some("6222020200000000002"),
                    Some("李四")
                ),
                (
                    Some("L-0003-1"),
                    Some(yuan("6000.00")),
                    Some("6222020200000000005"),
                    Some("王五")
                ),
            ],
            "{name}"
        );
        let sum: Decimal = batch_entry
            .transactions
            .iter()
            .filter_map(|t| t.amount.as_ref().map(|a| a.value))
            .sum();
        assert_eq!(sum, batch_entry.amount.value, "{name}");
    }
}

#[test]
fn a_transaction_without_its_own_references_takes_its_batchs() {
    // In the .02 fixture the second payment names no MsgId / PmtInfId of its own.
    let entries = entries(&fixture("camt.053.001.02_batches.xml"));
    for transaction in &entries[0].transactions {
        assert_eq!(
            transaction.message_id.as_deref(),
            Some("WB-20261104-0007"),
            "{:?}",
            transaction.end_to_end_id
        );
        assert_eq!(
            transaction.payment_information_id.as_deref(),
            Some("WB-20261104-0007-A")
        );
    }
}

#[test]
fn a_batch_without_transaction_details_is_split_by_its_ids() {
    let entries = entries(&fixture("camt.053.001.08_batches.xml"));
    let entry = &entries[1];
    assert!(entry.transactions.is_empty());
    assert!(entry.is_batch());
    let batch = entry.batch.as_ref().expect("the batch is kept");
    assert_eq!(batch.message_id.as_deref(), Some("WB-20261104-0008"));
    assert_eq!(
        batch.payment_information_id.as_deref(),
        Some("WB-20261104-0008-B")
    );
    assert_eq!(batch.count, Some(2));
    assert_eq!(batch.total.as_ref().map(|a| a.value), Some(yuan("9000.00")));
}

#[test]
fn a_single_credit_is_no_batch() {
    let entries = entries(&fixture("camt.053.001.08_batches.xml"));
    let credit = &entries[2];
    assert!(!credit.is_batch());
    assert_eq!(credit.batch, None);
    let owner = credit.transactions[0]
        .counterparty
        .as_ref()
        .expect("the payer");
    assert_eq!(owner.number, "6200000000001");
    assert_eq!(owner.name.as_deref(), Some("某建设单位"));
}

#[test]
fn batches_in_real_bank_samples_are_read() {
    // Nordic salary batch (camt.053.001.02): Btch with NbOfTxs, no TtlAmt.
    let nordic = entries(&sample("camt.053.001.02__moov__FI_camt_053_sample.xml"));
    let salary = nordic
        .iter()
        .find_map(|e| {
            e.batch
                .as_ref()
                .filter(|b| b.message_id.as_deref() == Some("MSGSALA0001"))
        })
        .expect("the salary batch");
    assert_eq!(
        salary.payment_information_id.as_deref(),
        Some("CustRefForSalaBatch")
    );
    assert_eq!(salary.count, Some(4));
    assert_eq!(salary.total, None);
    // PostFinance (camt.054.001.08): Btch with TtlAmt and transactions with PmtInfId.
    let swiss = entries(&sample("camt.054.001.08__genkgo__camt054.v8.xml"));
    let entry = swiss
        .iter()
        .find(|e| e.batch.is_some())
        .expect("a batch entry");
    let batch = entry.batch.as_ref().unwrap();
    assert_eq!(batch.message_id.as_deref(), Some("UXC06170000006"));
    assert_eq!(batch.count, Some(2));
    assert_eq!(
        batch.total.as_ref().map(|a| (a.value, a.currency.as_str())),
        Some((yuan("6.3"), "CHF"))
    );
    assert_eq!(batch.direction, Some(Direction::Debit));
    assert!(entry.transactions.iter().all(|t| {
        t.payment_information_id.as_deref() == Some("UXC06170000006PI00001")
            && t.message_id.as_deref() == Some("UXC06170000006")
    }));
}
