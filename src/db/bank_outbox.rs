//! The bank outbox (`bank_outbox`, `bank_outbox_attempts`): claiming due
//! entries with a lease, what a send needs, recording each attempt and what
//! it does to the batch and its lines, and what the admin lists and revives.
//!
//! Every write to a batch's lines is set-based (one UPDATE, one INSERT …
//! SELECT for their events): a batch may hold 100,000 lines.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bytea, Int4, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;

use super::DbError;
use crate::domain::disbursement::AttemptState;

/// Where an outbox entry stands (`bank_outbox.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Its batch waits for the balance to cover it.
    Held,
    /// To be handed to the bank when due.
    Pending,
    /// The bank has it.
    Sent,
    /// Given up after the last failed attempt, until `wagebridge outbox retry`.
    Dead,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Held,
        OutboxState::Pending,
        OutboxState::Sent,
        OutboxState::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Held => "held",
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Dead => "dead",
        }
    }
}

impl fmt::Display for OutboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OutboxState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OutboxState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("{s:?} is not one of held, pending, sent, dead"))
    }
}

/// What one attempt to hand a file over came to (`bank_outbox_attempts.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttemptOutcome {
    /// Handed over.
    Sent,
    /// Our transport had handed this very file over before (a resend after a crash).
    AlreadySent,
    /// The bank answered that it has the message already (ICBC `B0012`):
    /// received, never failed.
    DuplicateAtBank,
    Failed,
}

impl AttemptOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptOutcome::Sent => "sent",
            AttemptOutcome::AlreadySent => "already_sent",
            AttemptOutcome::DuplicateAtBank => "duplicate_at_bank",
            AttemptOutcome::Failed => "failed",
        }
    }

    /// The bank has the file: the entry is sent.
    pub fn is_delivered(self) -> bool {
        self != AttemptOutcome::Failed
    }
}

/// An entry this instance leased: nobody else sends it until the lease ends.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub batch_id: i64,
    /// Counting this one.
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
}

/// Leases up to `limit` due pending entries until `lease_until`, counting an
/// attempt for each, and commits at once (one statement): a crash before the
/// attempt is recorded just lets the lease run out, and the entry is due again.
pub fn claim_due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Claimed>, DbError> {
    let claimed = diesel::sql_query(
        "WITH due AS ( \
             SELECT id FROM bank_outbox \
              WHERE state = 'pending' AND next_attempt_at <= $1 \
              ORDER BY next_attempt_at, id LIMIT $3 \
                FOR UPDATE SKIP LOCKED) \
         UPDATE bank_outbox o SET attempts = o.attempts + 1, next_attempt_at = $2 \
           FROM due WHERE o.id = due.id \
         RETURNING o.id, o.batch_id, o.attempts",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<Timestamptz, _>(lease_until)
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    Ok(claimed)
}

/// What sending an entry needs: the batch's file exactly as stored, its
/// message id, and the connection's transport configuration.
#[derive(Debug, Clone, QueryableByName)]
pub struct SendJob {
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Bytea)]
    pub file_bytes: Vec<u8>,
    #[diesel(sql_type = Jsonb)]
    pub transport: serde_json::Value,
}

pub fn send_job(conn: &mut PgConnection, outbox_id: i64) -> Result<Option<SendJob>, DbError> {
    let job = diesel::sql_query(
        "SELECT b.message_id, b.file_bytes, c.transport \
           FROM bank_outbox o \
           JOIN disbursement_batches b ON b.id = o.batch_id \
           JOIN bank_connections c ON c.id = o.connection_id \
          WHERE o.id = $1",
    )
    .bind::<BigInt, _>(outbox_id)
    .get_result(conn)
    .optional()?;
    Ok(job)
}

/// One attempt, appended.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    pub outbox_id: i64,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub instance: &'a str,
    pub outcome: AttemptOutcome,
    /// Already masked.
    pub error: Option<&'a str>,
}

pub fn append_attempt(conn: &mut PgConnection, a: &Attempt<'_>) -> Result<(), DbError> {
    diesel::sql_query(
        "INSERT INTO bank_outbox_attempts (outbox_id, attempt, at, instance, outcome, error) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind::<BigInt, _>(a.outbox_id)
    .bind::<Int4, _>(a.attempt)
    .bind::<Timestamptz, _>(a.at)
    .bind::<Text, _>(a.instance)
    .bind::<Text, _>(a.outcome.as_str())
    .bind::<Nullable<Text>, _>(a.error)
    .execute(conn)?;
    Ok(())
}

/// Marks a pending entry sent; `false` when it no longer is pending (another
/// instance recorded it after this one's lease ran out).
pub fn mark_sent(conn: &mut PgConnection, id: i64, at: DateTime<Utc>) -> Result<bool, DbError> {
    let updated = diesel::sql_query(
        "UPDATE bank_outbox SET state = 'sent', sent_at = $2, last_error = NULL \
          WHERE id = $1 AND state = 'pending'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)?;
    Ok(updated == 1)
}

/// After a failed attempt: due again at `next_attempt_at`, or dead.
pub fn mark_failed(
    conn: &mut PgConnection,
    id: i64,
    error: &str,
    next_attempt_at: DateTime<Utc>,
    dead: bool,
) -> Result<bool, DbError> {
    let state = if dead {
        OutboxState::Dead
    } else {
        OutboxState::Pending
    };
    let updated = diesel::sql_query(
        "UPDATE bank_outbox SET state = $2, last_error = $3, next_attempt_at = $4 \
          WHERE id = $1 AND state = 'pending'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Text, _>(state.as_str())
    .bind::<Text, _>(error)
    .bind::<Timestamptz, _>(next_attempt_at)
    .execute(conn)?;
    Ok(updated == 1)
}

/// A released batch becomes `sent`, with its event; a batch already past
/// that (completed by statuses that came first) stays. `true` if it moved.
pub fn mark_batch_sent(
    conn: &mut PgConnection,
    batch_id: i64,
    at: DateTime<Utc>,
    note: &str,
) -> Result<bool, DbError> {
    let moved = diesel::sql_query(
        "WITH moved AS ( \
             UPDATE disbursement_batches SET status = 'sent' \
              WHERE id = $1 AND status = 'released' RETURNING id) \
         INSERT INTO disbursement_batch_events (batch_id, status, at, actor_id, note) \
         SELECT id, 'sent', $2, NULL, $3 FROM moved",
    )
    .bind::<BigInt, _>(batch_id)
    .bind::<Timestamptz, _>(at)
    .bind::<Text, _>(note)
    .execute(conn)?;
    Ok(moved == 1)
}

/// Moves every line of the batch in state `from` to `to`, appending one
/// event each with `cause`, in one statement; returns how many moved.
pub fn move_batch_lines(
    conn: &mut PgConnection,
    batch_id: i64,
    from: AttemptState,
    to: AttemptState,
    at: DateTime<Utc>,
    cause: &str,
) -> Result<usize, DbError> {
    let moved = diesel::sql_query(
        "WITH moved AS ( \
             UPDATE disbursement_lines SET state = $3, updated_at = $4 \
              WHERE batch_id = $1 AND state = $2 RETURNING id) \
         INSERT INTO disbursement_line_events (attempt_id, from_state, to_state, at, cause) \
         SELECT id, $2, $3, $4, $5 FROM moved",
    )
    .bind::<BigInt, _>(batch_id)
    .bind::<Text, _>(from.as_str())
    .bind::<Text, _>(to.as_str())
    .bind::<Timestamptz, _>(at)
    .bind::<Text, _>(cause)
    .execute(conn)?;
    Ok(moved)
}

/// One entry as the admin sees it.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct OutboxEntry {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub batch_id: i64,
    #[diesel(sql_type = Text)]
    pub project_code: String,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub next_attempt_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sent_at: Option<DateTime<Utc>>,
}

const ENTRY_COLUMNS: &str = "o.id, o.batch_id, p.code AS project_code, b.period::text AS period, \
     b.message_id, o.state, o.attempts, o.last_error, o.next_attempt_at, o.created_at, o.sent_at \
     FROM bank_outbox o \
     JOIN disbursement_batches b ON b.id = o.batch_id \
     JOIN projects p ON p.id = b.project_id";

/// Entries in id order, of one state or all, at most `limit`.
pub fn list(
    conn: &mut PgConnection,
    state: Option<OutboxState>,
    limit: i64,
) -> Result<Vec<OutboxEntry>, DbError> {
    let entries = diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} WHERE ($1::text IS NULL OR o.state = $1) ORDER BY o.id LIMIT $2"
    ))
    .bind::<Nullable<Text>, _>(state.map(OutboxState::as_str))
    .bind::<BigInt, _>(limit)
    .load(conn)?;
    Ok(entries)
}

/// The entries of these batches (at most one each), in batch order.
pub fn for_batches(
    conn: &mut PgConnection,
    batch_ids: &[i64],
) -> Result<Vec<OutboxEntry>, DbError> {
    let entries = diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} WHERE o.batch_id = ANY($1) ORDER BY o.batch_id"
    ))
    .bind::<diesel::sql_types::Array<BigInt>, _>(batch_ids)
    .load(conn)?;
    Ok(entries)
}

/// One entry, locked for the caller's transaction.
pub fn find_for_update(conn: &mut PgConnection, id: i64) -> Result<Option<OutboxEntry>, DbError> {
    let entry = diesel::sql_query(format!(
        "SELECT {ENTRY_COLUMNS} WHERE o.id = $1 FOR UPDATE OF o"
    ))
    .bind::<BigInt, _>(id)
    .get_result(conn)
    .optional()?;
    Ok(entry)
}

/// Makes a dead entry pending, due at once whichever clock reads the table:
/// at the earlier of `now` and the time it died. Attempts are kept.
pub fn revive(conn: &mut PgConnection, id: i64, now: DateTime<Utc>) -> Result<bool, DbError> {
    let updated = diesel::sql_query(
        "UPDATE bank_outbox SET state = 'pending', next_attempt_at = LEAST(next_attempt_at, $2) \
          WHERE id = $1 AND state = 'dead'",
    )
    .bind::<BigInt, _>(id)
    .bind::<Timestamptz, _>(now)
    .execute(conn)?;
    Ok(updated == 1)
}
