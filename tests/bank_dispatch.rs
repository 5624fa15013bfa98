//! The bank outbox dispatcher against a real database, a real file exchange
//! and the bank simulator: each released batch reaches the bank once, a
//! resend after a crash is recognised, an unreachable bank backs off and
//! dies, two instances never send twice; the runner survives failing rounds;
//! old idempotency keys are purged.

mod common;
mod outbox_common;
mod payroll_common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration as StdDuration, Instant};

use chrono::Duration;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use diesel::RunQueryDsl;

use common::TestApp;
use outbox_common::*;
use wagebridge::banking::config::TransportConfig;
use wagebridge::banking::{outbox_admin, transport};
use wagebridge::error::{AppError, ErrorCode};
use wagebridge::jobs::dispatch::{DispatchSettings, Dispatcher};
use wagebridge::jobs::{self, purge, Job};

fn dispatcher(app: &TestApp, instance: &str, max_attempts: u32) -> Dispatcher {
    Dispatcher::new(
        app.clock.clone(),
        app.data_dir.path().to_path_buf(),
        instance.to_owned(),
        DispatchSettings::new(max_attempts),
    )
}

fn advance(app: &TestApp, by: Duration) {
    app.clock
        .set(app.clock.now() + by)
        .expect("the clock moves forward");
}

fn outbox_state(app: &TestApp, batch: &Batch) -> String {
    text(
        app,
        &format!(
            "SELECT state AS t FROM bank_outbox WHERE id = {}",
            batch.outbox_id
        ),
    )
    .unwrap_or_default()
}

fn line_states(app: &TestApp, batch: &Batch) -> Vec<String> {
    #[derive(diesel::QueryableByName)]
    struct S {
        #[diesel(sql_type = Text)]
        state: String,
    }
    diesel::sql_query("SELECT state FROM disbursement_lines WHERE batch_id = $1 ORDER BY seq")
        .bind::<BigInt, _>(batch.id)
        .load::<S>(&mut conn(app))
        .expect("line states")
        .into_iter()
        .map(|s| s.state)
        .collect()
}

fn attempts(app: &TestApp, batch: &Batch, outcome: &str) -> i64 {
    count(
        app,
        &format!(
            "SELECT count(*) AS n FROM bank_outbox_attempts WHERE outbox_id = {} AND outcome = '{outcome}'",
            batch.outbox_id
        ),
    )
}

#[actix_web::test]
async fn a_round_hands_the_file_to_the_bank_and_marks_the_batch_and_its_lines_sent() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines);
    let d = dispatcher(&app, "test-a", 8);

    let round = d.round(&mut conn(&app)).expect("round");
    assert_eq!((round.sent, round.retrying, round.dead), (1, 0, 0));

    // The very bytes stored, under the message id, in the bank's inbox; valid pain.001.
    let handed = std::fs::read(bank.to_bank().join(format!("{}.xml", batch.message_id)))
        .expect("the file is in the exchange's outbox");
    assert_eq!(handed, batch.file_bytes);
    bank_adapters::iso20022::validate_xml_with_xmllint(&String::from_utf8_lossy(&handed))
        .expect("the file sent validates against pain.001.001.09");

    assert_eq!(outbox_state(&app, &batch), "sent");
    let sent_at = text(
        &app,
        &format!(
            "SELECT sent_at::text AS t FROM bank_outbox WHERE id = {} AND sent_at = '{}'",
            batch.outbox_id,
            app.clock.now().to_rfc3339()
        ),
    );
    assert!(sent_at.is_some(), "sent_at is the business clock's time");
    assert_eq!(attempts(&app, &batch, "sent"), 1);
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT instance || '#' || attempt AS t FROM bank_outbox_attempts WHERE outbox_id = {}",
                batch.outbox_id
            )
        )
        .as_deref(),
        Some("test-a#1")
    );
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT status AS t FROM disbursement_batches WHERE id = {}",
                batch.id
            )
        )
        .as_deref(),
        Some("sent")
    );
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM disbursement_batch_events WHERE batch_id = {} AND status = 'sent'",
                batch.id
            )
        ),
        1
    );
    assert_eq!(line_states(&app, &batch), vec!["sent"; lines.len()]);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM disbursement_line_events e JOIN disbursement_lines l ON l.id = e.attempt_id \
                  WHERE l.batch_id = {} AND e.cause = 'dispatch' AND e.from_state = 'reserved' AND e.to_state = 'sent'",
                batch.id
            )
        ),
        lines.len() as i64
    );

    let shown = outbox_admin::for_batches(&mut conn(&app), &[batch.id]).unwrap();
    assert_eq!(shown.len(), 1);
    assert_eq!((shown[0].state.as_str(), shown[0].attempts), ("sent", 1));

    // Nothing is due any more.
    let again = d.round(&mut conn(&app)).expect("second round");
    assert_eq!(again.handled(), 0);
    assert_eq!(attempts(&app, &batch, "sent"), 1);

    // The bank executes it: every line settles, once.
    let summary = bank.sim.round(app.clock.now()).expect("bank round");
    assert_eq!(summary.executed_messages, 1);
    assert_eq!(summary.settled_lines, lines.len());
}

#[actix_web::test]
async fn a_resend_after_a_crash_carries_the_same_message_id_and_the_bank_books_it_once() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..3]);

    // An instance sent the file and died before recording it; the bank executed it.
    let config: TransportConfig = serde_json::from_value(bank.transport()).unwrap();
    transport::open(&config, app.data_dir.path())
        .unwrap()
        .send(&batch.message_id, &batch.file_bytes)
        .unwrap();
    let first = bank.sim.round(app.clock.now()).unwrap();
    assert_eq!(first.executed_messages, 1);
    assert_eq!(first.settled_lines, 3);
    let booked = bank.sim.ledger().unwrap().bookings.len();
    assert!(booked >= 3, "{booked} bookings");

    // The entry is still pending: the next round sends the same message again.
    let round = dispatcher(&app, "test-b", 8)
        .round(&mut conn(&app))
        .unwrap();
    assert_eq!(round.sent, 1);
    let resent = std::fs::read(bank.to_bank().join(format!("{}.xml", batch.message_id))).unwrap();
    assert_eq!(resent, batch.file_bytes);
    assert_eq!(line_states(&app, &batch), vec!["sent"; 3]);

    // The bank recognises it (DU01) and books nothing more.
    let second = bank.sim.round(app.clock.now()).unwrap();
    assert_eq!((second.executed_messages, second.duplicates), (0, 1));
    assert_eq!(bank.sim.ledger().unwrap().bookings.len(), booked);
}

#[actix_web::test]
async fn a_file_still_in_the_exchange_is_recorded_as_already_sent() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..2]);
    let config: TransportConfig = serde_json::from_value(bank.transport()).unwrap();
    transport::open(&config, app.data_dir.path())
        .unwrap()
        .send(&batch.message_id, &batch.file_bytes)
        .unwrap();

    let round = dispatcher(&app, "test-a", 8)
        .round(&mut conn(&app))
        .unwrap();
    assert_eq!(round.sent, 1);
    assert_eq!(attempts(&app, &batch, "already_sent"), 1);
    assert_eq!(attempts(&app, &batch, "sent"), 0);
    assert_eq!(outbox_state(&app, &batch), "sent");
    assert_eq!(line_states(&app, &batch), vec!["sent"; 2]);
}

#[actix_web::test]
async fn a_line_a_status_already_moved_past_sent_is_not_moved_back() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..3]);
    // The bank's status for line 2 was applied before the send was recorded.
    diesel::sql_query(
        "UPDATE disbursement_lines SET state = 'settled' WHERE batch_id = $1 AND seq = 2",
    )
    .bind::<BigInt, _>(batch.id)
    .execute(&mut conn(&app))
    .unwrap();

    dispatcher(&app, "test-a", 8)
        .round(&mut conn(&app))
        .unwrap();
    assert_eq!(line_states(&app, &batch), vec!["sent", "settled", "sent"]);
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM disbursement_line_events e JOIN disbursement_lines l ON l.id = e.attempt_id \
                  WHERE l.batch_id = {} AND e.cause = 'dispatch'",
                batch.id
            )
        ),
        2
    );
}

#[actix_web::test]
async fn a_lease_keeps_other_instances_off_until_it_runs_out() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..1]);

    // An instance claimed the entry and died before sending.
    let now = app.clock.now();
    let claimed = wagebridge::db::bank_outbox::claim_due(
        &mut conn(&app),
        now,
        now + Duration::seconds(60),
        10,
    )
    .unwrap();
    assert_eq!(claimed.len(), 1);

    let other = dispatcher(&app, "test-b", 8);
    assert_eq!(other.round(&mut conn(&app)).unwrap().handled(), 0);
    advance(&app, Duration::seconds(61));
    assert_eq!(other.round(&mut conn(&app)).unwrap().sent, 1);
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT attempt::text AS t FROM bank_outbox_attempts WHERE outbox_id = {}",
                batch.outbox_id
            )
        )
        .as_deref(),
        Some("2"),
        "the interrupted claim counts as an attempt"
    );
}

/// A card-like number in the path: the recorded error must not show it.
const BLOCKED: &str = "6222020200000000003";

#[actix_web::test]
async fn an_unreachable_bank_backs_off_then_dies_and_retry_revives_the_entry() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..2]);
    // The outbox "directory" is a file: no transport can be opened.
    let blocked = bank.dir.path().join(BLOCKED);
    std::fs::write(&blocked, b"not a directory").unwrap();
    let broken = serde_json::json!({"kind": "file_exchange", "outbox": blocked, "inbox": bank.dir.path().join("from-bank")});
    diesel::sql_query("UPDATE bank_connections SET transport = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Jsonb, _>(broken)
        .bind::<BigInt, _>(bank.connection_id)
        .execute(&mut conn(&app))
        .unwrap();
    let d = dispatcher(&app, "test-a", 3);

    let backoff_after = |app: &TestApp| -> i64 {
        count(
            app,
            &format!(
                "SELECT (extract(epoch FROM o.next_attempt_at - a.at) * 1000)::bigint AS n \
                   FROM bank_outbox o JOIN bank_outbox_attempts a ON a.outbox_id = o.id \
                  WHERE o.id = {} ORDER BY a.id DESC LIMIT 1",
                batch.outbox_id
            ),
        )
    };
    let r = d.round(&mut conn(&app)).unwrap();
    assert_eq!((r.sent, r.retrying, r.dead), (0, 1, 0));
    assert!(
        (1_000..=2_000).contains(&backoff_after(&app)),
        "first back-off 1–2 s"
    );
    assert_eq!(
        d.round(&mut conn(&app)).unwrap().handled(),
        0,
        "not due yet"
    );
    advance(&app, Duration::seconds(601));
    assert_eq!(d.round(&mut conn(&app)).unwrap().retrying, 1);
    assert!(
        (2_000..=4_000).contains(&backoff_after(&app)),
        "second back-off 2–4 s"
    );
    advance(&app, Duration::seconds(601));
    assert_eq!(d.round(&mut conn(&app)).unwrap().dead, 1);
    assert_eq!(outbox_state(&app, &batch), "dead");
    advance(&app, Duration::seconds(601));
    assert_eq!(
        d.round(&mut conn(&app)).unwrap().handled(),
        0,
        "dead entries are not sent"
    );

    assert_eq!(attempts(&app, &batch, "failed"), 3);
    let last_error = text(
        &app,
        &format!(
            "SELECT last_error AS t FROM bank_outbox WHERE id = {}",
            batch.outbox_id
        ),
    )
    .unwrap();
    assert!(!last_error.contains(BLOCKED), "{last_error}");
    assert!(last_error.contains("6222***********0003"), "{last_error}");
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM bank_outbox_attempts WHERE outbox_id = {} AND error LIKE '%{BLOCKED}%'",
                batch.outbox_id
            )
        ),
        0
    );
    assert_eq!(line_states(&app, &batch), vec!["reserved"; 2]);

    // Fixed, and retried by hand: sent on the next round, attempts kept.
    diesel::sql_query("UPDATE bank_connections SET transport = $1 WHERE id = $2")
        .bind::<diesel::sql_types::Jsonb, _>(bank.transport())
        .bind::<BigInt, _>(bank.connection_id)
        .execute(&mut conn(&app))
        .unwrap();
    let revived = outbox_admin::retry(&mut conn(&app), batch.outbox_id, None, app.clock.now())
        .expect("a dead entry can be retried");
    assert_eq!((revived.state.as_str(), revived.attempts), ("pending", 3));
    let refused = outbox_admin::retry(&mut conn(&app), batch.outbox_id, None, app.clock.now());
    let code = refused
        .err()
        .and_then(|e: AppError| e.problem().map(|p| p.code));
    assert_eq!(code, Some(ErrorCode::OutboxEntryNotDead));
    assert_eq!(
        count(
            &app,
            &format!(
                "SELECT count(*) AS n FROM audit_events WHERE entity = 'bank_outbox' AND entity_id = {} AND action = 'retried'",
                batch.outbox_id
            )
        ),
        1
    );
    assert_eq!(d.round(&mut conn(&app)).unwrap().sent, 1);
    assert_eq!(outbox_state(&app, &batch), "sent");
    assert_eq!(line_states(&app, &batch), vec!["sent"; 2]);
}

#[actix_web::test]
async fn two_dispatchers_on_one_database_send_each_entry_exactly_once() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batches: Vec<Batch> = lines
        .chunks(1)
        .map(|one| released_batch(&app, &w, &bank, one))
        .collect();
    let barrier = Barrier::new(2);
    let handled: Vec<usize> = std::thread::scope(|s| {
        let workers: Vec<_> = ["instance-a", "instance-b"]
            .into_iter()
            .map(|name| {
                let d = Dispatcher::new(
                    app.clock.clone(),
                    app.data_dir.path().to_path_buf(),
                    name.to_owned(),
                    DispatchSettings {
                        per_round: 1,
                        ..DispatchSettings::new(8)
                    },
                );
                let barrier = &barrier;
                let db = &app.db;
                s.spawn(move || {
                    let mut c = db.conn();
                    barrier.wait();
                    let mut handled = 0;
                    // Every entry is due now and leased for a minute, so each
                    // instance stops when it finds nothing left to claim.
                    for _ in 0..100 {
                        let r = d.round(&mut c).expect("round");
                        if r.handled() == 0 {
                            break;
                        }
                        handled += r.handled();
                    }
                    handled
                })
            })
            .collect();
        workers.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert_eq!(handled.iter().sum::<usize>(), batches.len(), "{handled:?}");
    for batch in &batches {
        assert_eq!(
            attempts(&app, batch, "sent"),
            1,
            "entry {}",
            batch.outbox_id
        );
        assert_eq!(outbox_state(&app, batch), "sent");
    }
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM bank_outbox_attempts"),
        batches.len() as i64
    );
    let summary = bank.sim.round(app.clock.now()).unwrap();
    assert_eq!(
        (summary.executed_messages, summary.duplicates),
        (batches.len(), 0)
    );
}

#[actix_web::test]
async fn the_purge_deletes_only_idempotency_keys_older_than_a_day() {
    let app = TestApp::new().await;
    let w = common::fixtures::world(&app).await;
    let now = app.clock.now();
    let keys = [
        ("old-done", "done", Duration::hours(25)),
        ("old-running", "running", Duration::hours(25)),
        ("young-done", "done", Duration::hours(23)),
        ("young-running", "running", Duration::minutes(5)),
    ];
    for (key, state, age) in keys {
        diesel::sql_query(
            "INSERT INTO idempotency_keys (organization_id, key, request_hash, state, response_status, response_body, created_at) \
             SELECT id, $2, sha256($2::bytea), $3, \
                    CASE WHEN $3 = 'done' THEN 201 END, CASE WHEN $3 = 'done' THEN '{}'::jsonb END, $4 \
               FROM organizations WHERE uscc = $1",
        )
        .bind::<Text, _>(&w.sub.uscc)
        .bind::<Text, _>(key)
        .bind::<Text, _>(state)
        .bind::<Timestamptz, _>(now - age)
        .execute(&mut conn(&app))
        .unwrap();
    }
    let purged = purge::purge_idempotency_keys(&mut conn(&app), now).unwrap();
    assert_eq!(purged, 2);
    assert_eq!(
        text(
            &app,
            "SELECT string_agg(key, ',' ORDER BY key) AS t FROM idempotency_keys"
        )
        .as_deref(),
        Some("young-done,young-running")
    );
    assert_eq!(
        purge::purge_idempotency_keys(&mut conn(&app), now).unwrap(),
        0
    );
}

#[test]
fn the_runner_goes_on_after_failing_and_panicking_rounds() {
    let db = common::TestDb::new();
    let pool = db.pool();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let job = Job::every(
        "flaky",
        StdDuration::from_millis(10),
        move |_conn| match seen.fetch_add(1, Ordering::SeqCst) {
            0 => Err(AppError::Unavailable("the database is away".into())),
            1 => panic!("a bug in a round"),
            _ => Ok(1),
        },
    )
    .failure_pause(StdDuration::from_millis(10));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let handles = jobs::start(&pool, vec![job]);
        let deadline = Instant::now() + StdDuration::from_secs(60);
        while calls.load(Ordering::SeqCst) < 4 && Instant::now() < deadline {
            tokio::time::sleep(StdDuration::from_millis(10)).await;
        }
        assert!(!handles[0].is_finished(), "the loop is still running");
        for h in handles {
            h.abort();
        }
    });
    assert!(
        calls.load(Ordering::SeqCst) >= 4,
        "rounds ran after a failure and a panic"
    );
}

/// Lines of the batch measured below.
const LARGE_BATCH: i64 = 100_000;

#[actix_web::test]
#[ignore = "a measurement: cargo test --test bank_dispatch -- --ignored --nocapture"]
async fn a_batch_of_100_000_lines_is_handed_over_and_marked_sent_in_one_round() {
    let app = TestApp::new().await;
    let (w, lines) = approved_world(&app).await;
    let bank = connect_bank(&app, &w);
    let batch = released_batch(&app, &w, &bank, &lines[..1]);
    // 99,999 more attempts for made-up payroll lines (foreign keys off while
    // they are written), and a real pain.001 of 100,000 lines as the file.
    let mut payment = bank_adapters::iso20022::generate_payment_batch(LARGE_BATCH as usize, 7);
    payment.message_id = batch.message_id.clone();
    let file = bank_adapters::dialect::Dialect::Iso20022 {
        pain001: bank_adapters::iso20022::Pain001Version::V09,
    }
    .write_batch(&payment)
    .unwrap();
    let mut c = conn(&app);
    diesel::sql_query("SET session_replication_role = replica")
        .execute(&mut c)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO disbursement_lines (batch_id, line_id, seq, end_to_end_id, worker_id, \
             creditor_name, card_number, amount, state, updated_at) \
         SELECT $1, 1000000000 + g, g + 1, 'E' || lpad(g::text, 26, '0'), l.worker_id, \
                l.creditor_name, l.card_number, 100.00, 'reserved', l.updated_at \
           FROM generate_series(1, $2 - 1) g, \
                (SELECT * FROM disbursement_lines WHERE batch_id = $1) l",
    )
    .bind::<BigInt, _>(batch.id)
    .bind::<BigInt, _>(LARGE_BATCH)
    .execute(&mut c)
    .unwrap();
    diesel::sql_query("UPDATE disbursement_batches SET file_bytes = $2 WHERE id = $1")
        .bind::<BigInt, _>(batch.id)
        .bind::<diesel::sql_types::Bytea, _>(&file)
        .execute(&mut c)
        .unwrap();
    drop(c);

    let started = Instant::now();
    let round = dispatcher(&app, "test-a", 8)
        .round(&mut conn(&app))
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(round.sent, 1);
    let sent = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM disbursement_lines WHERE batch_id = {} AND state = 'sent'",
            batch.id
        ),
    );
    let events = count(
        &app,
        &format!(
            "SELECT count(*) AS n FROM disbursement_line_events e JOIN disbursement_lines l ON l.id = e.attempt_id \
              WHERE l.batch_id = {} AND e.cause = 'dispatch'",
            batch.id
        ),
    );
    assert_eq!((sent, events), (LARGE_BATCH, LARGE_BATCH));
    println!(
        "one round handed over a {:.1} MB pain.001 and marked {LARGE_BATCH} lines sent (with their events) in {:.2} s",
        file.len() as f64 / 1e6,
        elapsed.as_secs_f64()
    );
}
