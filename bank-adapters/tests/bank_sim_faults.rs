//! Each fault of the simulated bank over the file exchange, camt.054
//! notifications validated against the XSD, and the ledger after every
//! fault equal to the ledger without them: faults change what the bank
//! says, never what it books.

mod bank_sim_support;

use bank_adapters::iso20022::{read_cash_message, read_status_report, validate_with_xmllint};
use bank_adapters::model::{Direction, PaymentStatus, StatementKind};
use bank_adapters::sim::{Config, Faults, Sim};
use bank_adapters::transport::{FileExchange, ReceivedFile, Transport};
use bank_sim_support::{books, collect, config, dec, now, pain001, sim_at, ACCOUNT};
use tempfile::TempDir;

struct Setup {
    dir: TempDir,
    sim: Sim,
    client: FileExchange,
}

fn setup(config: &Config) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let sim = sim_at(dir.path(), config);
    let client = sim.client_exchange(dir.path().join("ours")).unwrap();
    Setup { dir, sim, client }
}

fn with_faults(faults: Faults) -> Config {
    Config { faults, ..config() }
}

fn send(client: &FileExchange, id: &str) {
    client.send(id, &pain001(id)).unwrap();
}

fn named<'a>(files: &'a [ReceivedFile], prefix: &str) -> Vec<&'a ReceivedFile> {
    files
        .iter()
        .filter(|f| f.name.starts_with(prefix))
        .collect()
}

#[test]
fn a_held_file_is_answered_only_after_the_rounds_it_is_held() {
    let s = setup(&with_faults(Faults {
        hold_rounds: 2,
        ..Faults::default()
    }));
    send(&s.client, "WB-MSG-0101");
    for _ in 0..2 {
        assert_eq!(s.sim.round(now()).unwrap().held, 1);
        assert!(collect(&s.client).is_empty(), "no answer while held");
        assert!(s.sim.ledger().unwrap().bookings.is_empty());
    }
    let summary = s.sim.round(now()).unwrap();
    assert_eq!((summary.held, summary.executed_messages), (0, 1));
    assert_eq!(named(&collect(&s.client), "SIMP2").len(), 1);
    assert!(s.sim.ledger().unwrap().held.is_empty());
}

#[test]
fn a_lost_answer_still_books_and_the_statement_shows_the_debits() {
    let s = setup(&with_faults(Faults {
        lose_answer: true,
        ..Faults::default()
    }));
    send(&s.client, "WB-MSG-0102");
    s.sim.round(now()).unwrap();
    let files = collect(&s.client);
    assert!(named(&files, "SIMP2").is_empty(), "no status report");
    let camt = named(&files, "SIMC53");
    let statement = &read_cash_message(camt[0].bytes.as_slice())
        .unwrap()
        .statements[0];
    let debits: Vec<_> = statement
        .entries
        .iter()
        .map(|e| e.transactions[0].end_to_end_id.as_deref())
        .collect();
    assert_eq!(debits, [Some("WB-E2E-0001"), Some("WB-E2E-0002")]);
    let ledger = s.sim.ledger().unwrap();
    assert_eq!(ledger.lost_answers.len(), 1);
    assert_eq!(ledger.accounts[ACCOUNT].balance, dec("4499.50"));
}

#[test]
fn a_duplicated_status_report_comes_twice_with_the_same_bytes() {
    let s = setup(&with_faults(Faults {
        duplicate_status: true,
        ..Faults::default()
    }));
    send(&s.client, "WB-MSG-0103");
    s.sim.round(now()).unwrap();
    let receipt = s.client.receive().unwrap();
    let reports = named(&receipt.files, "SIMP2");
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].sha256, reports[1].sha256);
    assert_eq!(
        (reports[0].seen_before, reports[1].seen_before),
        (false, true),
        "the second copy is recognised"
    );
}

#[test]
fn out_of_order_the_final_report_comes_before_the_interim_one() {
    let s = setup(&with_faults(Faults {
        out_of_order: true,
        ..Faults::default()
    }));
    send(&s.client, "WB-MSG-0104");
    s.sim.round(now()).unwrap();
    let files = collect(&s.client);
    let statuses: Vec<_> = named(&files, "SIMP2")
        .into_iter()
        .map(|f| read_status_report(f.bytes.as_slice()).unwrap())
        .map(|r| (r.original_message_id, r.group_status_code.unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("WB-MSG-0104".to_owned(), "PART".to_owned()),
            ("WB-MSG-0104".to_owned(), "ACTC".to_owned()),
        ]
    );
    let interim = read_status_report(named(&files, "SIMP2")[1].bytes.as_slice()).unwrap();
    assert_eq!(interim.group_status, Some(PaymentStatus::Accepted));
}

#[test]
fn a_malformed_file_is_written_once_and_the_count_resets() {
    let s = setup(&with_faults(Faults {
        malformed_next: 1,
        ..Faults::default()
    }));
    assert_eq!(s.sim.round(now()).unwrap().malformed, 1);
    let files = collect(&s.client);
    let [garbage] = files.as_slice() else {
        panic!("one garbage file expected: {files:?}");
    };
    assert!(garbage.name.starts_with("SIMBAD"));
    assert!(read_cash_message(garbage.bytes.as_slice()).is_err());
    assert!(read_status_report(garbage.bytes.as_slice()).is_err());
    assert_eq!(Config::load(s.sim.dir()).unwrap().faults.malformed_next, 0);
    assert_eq!(s.sim.round(now()).unwrap().malformed, 0);
    assert!(collect(&s.client).is_empty());
}

#[test]
fn each_booking_on_the_dedicated_account_gets_a_valid_camt054() {
    let s = setup(&Config {
        camt_notifications: true,
        ..config()
    });
    send(&s.client, "WB-MSG-0105");
    assert_eq!(s.sim.round(now()).unwrap().notifications, 2);
    let files = collect(&s.client); // each validated with xmllint against camt.054.001.08
    let notes = named(&files, "SIMC54");
    assert_eq!(notes.len(), 2);
    let mut ids = Vec::new();
    for note in notes {
        validate_with_xmllint(&note.archived_at).unwrap();
        let message = read_cash_message(note.bytes.as_slice()).unwrap();
        let [notification] = message.statements.as_slice() else {
            panic!("one notification per file");
        };
        assert_eq!(notification.kind, StatementKind::Notification);
        assert_eq!(notification.account.number, ACCOUNT);
        let [entry] = notification.entries.as_slice() else {
            panic!("one entry per notification");
        };
        assert_eq!(entry.direction, Direction::Debit);
        ids.push(entry.transactions[0].end_to_end_id.clone().unwrap());
    }
    assert_eq!(ids, ["WB-E2E-0001", "WB-E2E-0002"]);
    // A credit from outside is notified too; nothing twice.
    let other = bank_adapters::model::AccountRef {
        number: "6200000000001".to_owned(),
        name: None,
        bank_code: None,
        bank_name: None,
    };
    s.sim
        .transfer(ACCOUNT, Direction::Credit, dec("800.00"), other, now())
        .unwrap();
    assert_eq!(s.sim.round(now()).unwrap().notifications, 1);
    assert_eq!(s.sim.round(now()).unwrap().notifications, 0);
}

/// The client's side of a run: send, rounds, collect; resend every message
/// whose answer never came (what a dispatcher does after a lost answer).
fn run(s: &Setup, rounds: usize) {
    for id in ["WB-MSG-0201", "WB-MSG-0202"] {
        send(&s.client, id);
    }
    for _ in 0..rounds {
        s.sim.round(now()).unwrap();
        collect(&s.client);
    }
    for id in ["WB-MSG-0201", "WB-MSG-0202"] {
        s.client.send(id, &pain001(id)).unwrap();
    }
    for _ in 0..rounds {
        s.sim.round(now()).unwrap();
        collect(&s.client);
    }
}

#[test]
fn the_ledger_after_every_fault_equals_the_ledger_without_them() {
    let clean = setup(&config());
    run(&clean, 3);
    let faulty = setup(&Config {
        camt_notifications: true,
        faults: Faults {
            hold_rounds: 2,
            lose_answer: true,
            duplicate_status: true,
            out_of_order: true,
            malformed_next: 2,
            ..Faults::default()
        },
        ..config()
    });
    run(&faulty, 3);
    let (clean_ledger, faulty_ledger) = (clean.sim.ledger().unwrap(), faulty.sim.ledger().unwrap());
    assert_eq!(books(&faulty_ledger), books(&clean_ledger));
    // Second message: its second line finds the balance short (AM04).
    assert_eq!(clean_ledger.accounts[ACCOUNT].balance, dec("1499.50"));
    assert_eq!(faulty_ledger.executed.len(), 2);
    assert!(faulty_ledger.pending_out.is_empty());
    drop((clean.dir, faulty.dir));
}
