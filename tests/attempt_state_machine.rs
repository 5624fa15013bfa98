//! The line attempt state machine (`domain::disbursement::next`) against a
//! reference model of the bank, with the bank's answers duplicated,
//! reordered and lost; and the database's trigger against the same machine.
//!
//! The reference model: the bank decides each line once (paid or refused)
//! and tells the truth, but its messages may arrive twice, late, in any
//! order, or never. Whatever arrives, an attempt must never end in an
//! outcome the bank did not decide, must reach the bank's outcome as soon
//! as a message carrying it arrives, and must never move once final.

mod common;

use diesel::connection::SimpleConnection;
use diesel::sql_types::BigInt;
use diesel::{sql_query, PgConnection, QueryableByName, RunQueryDsl};
use proptest::prelude::*;

use wagebridge::domain::disbursement::{next, AttemptState, Signal, Transition};

/// What the bank decided for one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Paid,
    Refused,
}

/// The messages a truthful bank (and our dispatcher) may emit for a line:
/// intermediate answers, then the outcome (and, when paid, the debit on
/// the statement).
fn truthful_messages(outcome: Outcome, intermediate: &[bool]) -> Vec<Signal> {
    let mut messages = vec![Signal::Dispatched];
    for &accepted in intermediate {
        messages.push(if accepted {
            Signal::Accepted
        } else {
            Signal::Unknown
        });
    }
    match outcome {
        Outcome::Paid => {
            messages.push(Signal::Settled);
            messages.push(Signal::Debited);
        }
        Outcome::Refused => messages.push(Signal::Rejected),
    }
    messages
}

/// Delivery: each message arrives 0–3 times, in an order chosen by `keys`.
fn deliver(messages: &[Signal], copies: &[u8], keys: &[u32]) -> Vec<Signal> {
    let mut arrivals: Vec<(u32, Signal)> = Vec::new();
    let mut k = keys.iter().cycle();
    for (message, &n) in messages.iter().zip(copies.iter().cycle()) {
        for _ in 0..(n % 4) {
            arrivals.push((*k.next().unwrap_or(&0), *message));
        }
    }
    arrivals.sort_by_key(|(key, _)| *key);
    arrivals.into_iter().map(|(_, m)| m).collect()
}

fn decided(outcome: Outcome) -> AttemptState {
    match outcome {
        Outcome::Paid => AttemptState::Settled,
        Outcome::Refused => AttemptState::Rejected,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn duplicated_reordered_and_lost_answers_never_mislead(
        paid in any::<bool>(),
        intermediate in prop::collection::vec(any::<bool>(), 0..4),
        copies in prop::collection::vec(0u8..4, 1..8),
        keys in prop::collection::vec(any::<u32>(), 1..16),
    ) {
        let outcome = if paid { Outcome::Paid } else { Outcome::Refused };
        let messages = truthful_messages(outcome, &intermediate);
        let arrivals = deliver(&messages, &copies, &keys);

        let mut state = AttemptState::Reserved;
        let mut final_seen = false;
        for signal in &arrivals {
            let before = state;
            match next(state, *signal) {
                Transition::To(after) => {
                    prop_assert!(!before.is_final(), "{before} moved to {after} on {signal:?}");
                    prop_assert_ne!(after, AttemptState::Reserved);
                    state = after;
                }
                Transition::Unchanged => {}
                // A truthful bank never contradicts itself.
                Transition::Conflict(code) => {
                    prop_assert!(false, "conflict {code} from truthful answers {arrivals:?}")
                }
            }
            if state.is_final() {
                prop_assert_eq!(state, decided(outcome), "wrong outcome after {:?}", arrivals);
            }
            let carries_outcome = matches!(
                (outcome, signal),
                (Outcome::Paid, Signal::Settled | Signal::Debited)
                    | (Outcome::Refused, Signal::Rejected)
            );
            final_seen |= carries_outcome;
            if final_seen {
                prop_assert_eq!(state, decided(outcome));
            }
        }
        // Lost outcome: the attempt stays open (reserved money, asked again), never guessed.
        if !final_seen {
            prop_assert!(!state.is_final(), "guessed {state} without the bank saying so");
        }
    }

    #[test]
    fn a_lying_or_confused_bank_cannot_move_a_final_state(
        first_paid in any::<bool>(),
        later in prop::collection::vec(0usize..6, 0..12),
    ) {
        let signals = [
            Signal::Dispatched, Signal::Accepted, Signal::Unknown,
            Signal::Settled, Signal::Rejected, Signal::Debited,
        ];
        let start = if first_paid { Signal::Settled } else { Signal::Rejected };
        let Transition::To(mut state) = next(AttemptState::Sent, start) else {
            panic!("a sent attempt takes its outcome");
        };
        let fixed = state;
        for i in later {
            if let Transition::To(s) = next(state, signals[i]) {
                state = s;
            }
            prop_assert_eq!(state, fixed);
        }
    }
}

/// Every move `next` makes, the database's trigger accepts; every move out
/// of a final state, or back to reserved, the trigger refuses.
#[test]
fn the_database_guards_the_same_machine() {
    let db = common::TestDb::new();
    let mut conn = db.pool().get().expect("a connection");
    let signals = [
        Signal::Dispatched,
        Signal::Accepted,
        Signal::Unknown,
        Signal::Settled,
        Signal::Rejected,
        Signal::Debited,
    ];
    let attempt = bare_attempt(&mut conn);
    for from in AttemptState::ALL {
        for to in AttemptState::ALL {
            if from == to {
                continue;
            }
            let result = conn.build_transaction().run(|c| {
                // Put the row in `from` without the trigger's say (it is not what is tested).
                sql_query("SET LOCAL session_replication_role = replica").execute(c)?;
                sql_query(format!(
                    "UPDATE disbursement_lines SET state = '{from}' WHERE id = {attempt}"
                ))
                .execute(c)?;
                sql_query("SET LOCAL session_replication_role = origin").execute(c)?;
                let moved = sql_query(format!(
                    "UPDATE disbursement_lines SET state = '{to}' WHERE id = {attempt}"
                ))
                .execute(c);
                // Roll back whatever happened, keeping the answer.
                Err::<(), _>(match moved {
                    Ok(_) => diesel::result::Error::RollbackTransaction,
                    Err(e) => e,
                })
            });
            let allowed = matches!(result, Err(diesel::result::Error::RollbackTransaction));
            let db_should_allow = !from.is_final() && to != AttemptState::Reserved;
            assert_eq!(allowed, db_should_allow, "{from} → {to}: {result:?}");
            for signal in signals {
                if next(from, signal) == Transition::To(to) {
                    assert!(
                        allowed,
                        "next() moves {from} → {to} on {signal:?}; the database refuses"
                    );
                }
            }
        }
    }
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// One attempt in state `reserved`, with the least of a project, roster,
/// payroll and approval around it that the foreign keys need.
fn bare_attempt(conn: &mut PgConnection) -> i64 {
    let t = "'2026-11-20T10:00:00+08:00'";
    conn.batch_execute(&format!(
        "INSERT INTO organizations (id, kind, name, uscc, created_at) VALUES
           (1, 'owner', '建设单位', '91110000000000001A', {t}),
           (2, 'contractor', '总包', '91110000000000002A', {t}),
           (3, 'bank', '银行', '91110000000000003A', {t});
         INSERT INTO projects (id, code, name, region_code, owner_id, contractor_id, contract_amount,
             contract_signed_on, labour_cost_share_percent, labour_cost_due_day, payday,
             planned_start_on, planned_end_on, minimum_monthly_wage, created_at, created_by)
           VALUES (1, 'P1', '项目', '421002', 1, 2, 1000000, '2026-01-01', 20, 10, 15,
             '2026-01-01', '2027-12-31', 2000, {t}, 2);
         INSERT INTO wage_accounts (id, project_id, bank_code, account_number, account_name, opened_on,
             created_at, updated_at) VALUES (1, 1, '102', '1100123456789012345', '专户', '2026-01-01', {t}, {t});
         INSERT INTO workers (id, id_number, created_at) VALUES (1, '110101199003074514', {t});
         INSERT INTO payrolls (id, project_id, employer_id, period, revision, submitted_by, submitted_at,
             source_format, line_count, accepted_count, rejected_count, warning_count, total_net, accepted_net)
           VALUES (1, 1, 2, '2026-10', 1, 2, {t}, 'json', 1, 1, 0, 0, 5000, 5000);
         INSERT INTO payroll_lines (id, payroll_id, line_no, worker_id, id_number, name, card_number,
             days_worked, gross, deductions, net, status)
           VALUES (1, 1, 1, 1, '110101199003074514', '张三', '6222020200000000001', 22, 5000, 0, 5000, 'accepted');
         INSERT INTO payroll_approvals (id, payroll_id, approved_by, at, allow_unconfirmed, line_count, amount)
           VALUES (1, 1, 2, {t}, true, 1, 5000);
         INSERT INTO approved_lines (line_id, approval_id, unconfirmed) VALUES (1, 1, true);
         INSERT INTO bank_connections (id, bank_id, dialect, transport, utc_offset_minutes, revision,
             created_at, updated_at)
           VALUES (1, 3, '{{\"dialect\":\"iso20022\"}}', '{{\"kind\":\"file_exchange\",\"outbox\":\"/tmp/o\",\"inbox\":\"/tmp/i\"}}',
             480, 1, {t}, {t});
         INSERT INTO disbursement_batches (id, project_id, period, wage_account_id, connection_id,
             message_id, requested_by, created_at, requested_execution_date, line_count, amount,
             status, file_format, file_name, file_sha256, file_bytes)
           VALUES (1, 1, '2026-10', 1, 1, 'M1', 2, {t}, '2026-11-20', 1, 5000, 'released',
             'pain.001.001.09', 'M1.xml', repeat('0', 64), '\\x00');"
    ))
    .expect("the fixture rows");
    sql_query(format!(
        "INSERT INTO disbursement_lines (batch_id, line_id, seq, end_to_end_id, worker_id,
             creditor_name, card_number, amount, state, updated_at)
         VALUES (1, 1, 1, 'E1', 1, '张三', '6222020200000000001', 5000, 'reserved', {t})
         RETURNING id"
    ))
    .get_result::<Id>(conn)
    .expect("the attempt")
    .id
}
