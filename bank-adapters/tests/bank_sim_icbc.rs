//! The simulated bank speaking ICBC's CMS dialect over the file exchange:
//! PAYPER acknowledged (B0012 for a reused fSeqno, nothing booked twice),
//! QPAYPER rows with Result 7 / 6 / 8 and 98 the first time for a chosen line,
//! QHISD history in pages whose balances chain.

mod bank_sim_support;

use std::collections::BTreeSet;

use bank_adapters::cn_icbc::{
    is_duplicate_submission, read_qhisd_page, read_qpayper, write_payper, write_qhisd_request,
    write_qpayper_request, HistoryPage, HistoryQuery, IcbcConnection, PackageQuery,
};
use bank_adapters::model::{AccountRef, Direction, PaymentStatus, StatusReport};
use bank_adapters::sim::{Config, SimDialect};
use bank_adapters::transport::{FileExchange, Transport};
use bank_sim_support::{batch, config, dec, now, sim_at, ACCOUNT};
use chrono::NaiveDate;

fn conn() -> IcbcConnection {
    IcbcConnection::new("110290001987990", "FangYQHL191224.y.1102")
}

/// The one file the bank answered with, confirmed.
fn answer(client: &FileExchange) -> Vec<u8> {
    let receipt = client.receive().unwrap();
    let [file] = receipt.files.as_slice() else {
        panic!("one answer expected: {:?}", receipt.files);
    };
    client.confirm(file).unwrap();
    file.bytes.clone()
}

fn query(client: &FileExchange, sim: &bank_adapters::sim::Sim, id: &str) -> StatusReport {
    let q = PackageQuery {
        message_id: id.to_owned(),
        created_at: now(),
        original_message_id: Some("WB-PKG-0001".to_owned()),
        serial_no: None,
    };
    client
        .send(id, &write_qpayper_request(&q, &conn()).unwrap())
        .unwrap();
    assert_eq!(sim.round(now()).unwrap().queries, 1);
    read_qpayper(&answer(client)).unwrap()
}

fn history(
    client: &FileExchange,
    sim: &bank_adapters::sim::Sim,
    id: &str,
    next_tag: Option<String>,
) -> HistoryPage {
    let day = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
    let q = HistoryQuery {
        message_id: id.to_owned(),
        created_at: now(),
        account: ACCOUNT.to_owned(),
        begin: day,
        end: day,
        next_tag,
    };
    client
        .send(id, &write_qhisd_request(&q, &conn()).unwrap())
        .unwrap();
    sim.round(now()).unwrap();
    read_qhisd_page(&answer(client)).unwrap()
}

#[test]
fn payper_qpayper_and_qhisd_are_answered_as_icbc_does() {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_at(
        dir.path(),
        &Config {
            dialect: SimDialect::IcbcCms,
            icbc_unknown_first: BTreeSet::from(["WB-E2E-0002".to_owned()]),
            authorisation_refused: BTreeSet::from(["WB-E2E-0004".to_owned()]),
            icbc_page_size: Some(2),
            ..config()
        },
    );
    let client = sim.client_exchange(dir.path().join("ours")).unwrap();
    let payer = AccountRef {
        number: "6200000000001".to_owned(),
        name: Some("建设单位".to_owned()),
        bank_code: None,
        bank_name: None,
    };
    sim.transfer(ACCOUNT, Direction::Credit, dec("800.00"), payer, now())
        .unwrap();

    let mut payment = batch("WB-PKG-0001");
    let mut refused = payment.lines[0].clone();
    refused.end_to_end_id = "WB-E2E-0004".to_owned();
    payment.lines.push(refused);
    let payper = write_payper(&payment, &conn()).unwrap();
    client.send("WB-PKG-0001", &payper).unwrap();
    let summary = sim.round(now()).unwrap();
    assert_eq!(
        (summary.settled_lines, summary.statements),
        (2, 0),
        "no camt.053"
    );
    let ack = read_qpayper(&answer(&client)).unwrap();
    assert_eq!(ack.original_message_id, "WB-PKG-0001");
    assert_eq!(ack.group_status_code.as_deref(), Some("0"));

    // The same fSeqno again, under another file name: B0012, nothing booked.
    let bookings = sim.ledger().unwrap().bookings.len();
    client.send("WB-PKG-0001-again", &payper).unwrap();
    assert_eq!(sim.round(now()).unwrap().duplicates, 1);
    let again = read_qpayper(&answer(&client)).unwrap();
    assert!(is_duplicate_submission(&again), "{again:?}");
    assert_eq!(sim.ledger().unwrap().bookings.len(), bookings);

    let first = query(&client, &sim, "WB-Q-0001");
    let rows: Vec<_> = first
        .lines
        .iter()
        .map(|l| (l.end_to_end_id.as_str(), l.status_code.as_str(), l.status))
        .collect();
    assert_eq!(
        rows,
        [
            ("WB-E2E-0001", "7", PaymentStatus::Settled),
            ("WB-E2E-0002", "98", PaymentStatus::Unknown),
            ("WB-E2E-0003", "6", PaymentStatus::Rejected),
            ("WB-E2E-0004", "8", PaymentStatus::Rejected),
        ]
    );
    let reason = first.lines[2]
        .reason
        .as_ref()
        .and_then(|r| r.code.as_deref());
    assert_eq!(reason, Some("AC04"));
    let second = query(&client, &sim, "WB-Q-0002");
    assert_eq!(
        second.lines[1].status,
        PaymentStatus::Settled,
        "98 only once"
    );

    let page1 = history(&client, &sim, "WB-H-0001", None);
    assert_eq!(page1.statement.entries.len(), 2);
    let tag = page1.next_tag.clone().expect("a second page");
    let page2 = history(&client, &sim, "WB-H-0002", Some(tag));
    assert_eq!(page2.next_tag, None);
    let balance = |b: &Option<bank_adapters::model::Balance>| b.as_ref().unwrap().amount.value;
    assert_eq!(balance(&page1.statement.opening_balance), dec("10000.00"));
    assert_eq!(
        balance(&page1.statement.closing_balance),
        balance(&page2.statement.opening_balance)
    );
    assert_eq!(balance(&page2.statement.closing_balance), dec("5299.50"));
    let ids: Vec<_> = page1
        .statement
        .entries
        .iter()
        .chain(&page2.statement.entries)
        .map(|e| (e.direction, e.transactions[0].end_to_end_id.clone()))
        .collect();
    assert_eq!(
        ids,
        [
            (Direction::Credit, None),
            (Direction::Debit, Some("WB-E2E-0001".to_owned())),
            (Direction::Debit, Some("WB-E2E-0002".to_owned())),
        ]
    );
}
