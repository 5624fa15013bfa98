//! How long taking in a bank file takes, through `take_in` (raw kept,
//! recorded, read, applied, committed):
//! - a pain.002 answering a 100,000-line batch, every line settled, applied
//!   to the batch's attempts (goal < 2 s);
//! - a generated 1,000,000-entry camt.053 stored with COPY (goal < 6 s).
//!
//! ```text
//! cargo bench --bench intake
//! INTAKE_BENCH_LINES=10000 INTAKE_BENCH_ENTRIES=100000 cargo bench --bench intake
//! DATABASE_URL=postgres://user@host:5432/postgres cargo bench --bench intake
//! ```
//!
//! Without `DATABASE_URL` a private PostgreSQL cluster is started in a
//! temporary directory and removed afterwards. Set-up (the batch of N
//! attempts, written by SQL) and writing the files are not timed.

#[path = "../tests/bank_seed/mod.rs"]
mod bank_seed;

mod support;

use std::time::Instant;

use chrono::{TimeZone, Utc};
use diesel::{Connection, PgConnection, RunQueryDsl};
use serde_json::json;

use bank_adapters::iso20022::{self, Pain002Version};
use bank_adapters::model::{LineStatus, PaymentStatus, StatusReport};
use support::database;
use wagebridge::banking::inbound::{take_in, Arrival, Channel};
use wagebridge::clock::Clock;
use wagebridge::db;

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let lines = size("INTAKE_BENCH_LINES", 100_000);
    let entries = size("INTAKE_BENCH_ENTRIES", 1_000_000);
    let database = database("intake");
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    db::run_migrations(&mut conn).expect("migrations");
    let data = tempfile::tempdir().expect("data dir");
    let clock = Clock::simulated(Utc.with_ymd_and_hms(2026, 11, 20, 2, 0, 0).unwrap());
    let bank = bank_seed::organization(&mut conn, "bank", 1);
    let dialect = json!({"dialect": "iso20022"});
    let connection =
        bank_seed::connection(&mut conn, bank, &dialect, &data.path().join("fx"), "102");

    let seeded = bank_seed::batch(&mut conn, connection, "102", 1, lines);
    let report = StatusReport {
        message_id: Some("BENCHRPT1".to_owned()),
        created_at: Some(clock.now()),
        original_message_id: seeded.message_id.clone(),
        group_status_code: Some("ACSC".to_owned()),
        group_status: Some(PaymentStatus::Settled),
        group_reason: None,
        lines: (1..=lines)
            .map(|seq| LineStatus {
                end_to_end_id: seeded.e2e(seq),
                instruction_id: None,
                status_code: "ACSC".to_owned(),
                status: PaymentStatus::Settled,
                reason: None,
                payment_information_id: None,
            })
            .collect(),
        blocks: Vec::new(),
    };
    let pain002 = iso20022::write_pain002(&report, Pain002Version::V10).expect("pain.002");
    let bytes = pain002.into_bytes();
    let file_size = bytes.len();
    let started = Instant::now();
    let intake =
        take_in(&mut conn, &clock, data.path(), arrival(connection, bytes)).expect("taken in");
    let took = started.elapsed();
    assert_eq!(intake.status, "applied", "{intake:?}");
    let settled = bank_seed::count(
        &mut conn,
        &format!("SELECT count(*) AS n FROM disbursement_lines WHERE batch_id = {} AND state = 'settled'", seeded.batch_id),
    );
    assert_eq!(settled as usize, lines);
    println!(
        "pain.002 of {lines} lines ({:.1} MB) applied: {:.3} s ({:.0} lines/s)",
        file_size as f64 / 1e6,
        took.as_secs_f64(),
        lines as f64 / took.as_secs_f64()
    );

    let mut camt = Vec::new();
    iso20022::generate_camt053(&mut camt, entries, 7).expect("camt.053");
    let file_size = camt.len();
    let started = Instant::now();
    let intake =
        take_in(&mut conn, &clock, data.path(), arrival(connection, camt)).expect("taken in");
    let took = started.elapsed();
    assert_eq!(intake.status, "applied", "{intake:?}");
    let stored = bank_seed::count(
        &mut conn,
        "SELECT count(*) AS n FROM bank_statement_entries",
    );
    println!(
        "camt.053 of {entries} entries ({:.1} MB, {stored} rows) stored: {:.3} s ({:.0} entries/s)",
        file_size as f64 / 1e6,
        took.as_secs_f64(),
        entries as f64 / took.as_secs_f64()
    );
    drop(conn);
    if let Some((base, name)) = database.url.rsplit_once('/') {
        if let Ok(mut admin) = PgConnection::establish(&format!("{base}/postgres")) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

fn arrival(connection_id: i64, bytes: Vec<u8>) -> Arrival {
    Arrival {
        connection_id: Some(connection_id),
        bank_id: None,
        channel: Channel::Transport,
        name: None,
        bytes,
    }
}
