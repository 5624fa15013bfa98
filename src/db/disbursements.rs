//! Disbursement batches (代发), their line attempts, events and outbox
//! entries: the rows a batch is made of, and the reads behind its views.
//!
//! Events are appended (the database refuses to change them); a line's
//! state changes only as `domain::disbursement::next` allows, which the
//! database's trigger also guards.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bpchar, Nullable, Numeric, Text, Timestamptz};
use rust_decimal::Decimal;

use super::schema::{
    bank_outbox, disbursement_batch_events, disbursement_batches, disbursement_line_events,
    disbursement_lines, wage_accounts,
};
use super::DbError;
use crate::db::projects::WageAccount;

/// Locks the project's wage account row until the end of the transaction,
/// so two disbursements (or a disbursement and a release) from one account
/// take turns.
pub fn lock_wage_account(
    conn: &mut PgConnection,
    project_id: i64,
) -> Result<Option<WageAccount>, DbError> {
    Ok(wage_accounts::table
        .filter(wage_accounts::project_id.eq(project_id))
        .select(WageAccount::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

pub fn lock_wage_account_by_id(
    conn: &mut PgConnection,
    id: i64,
) -> Result<Option<WageAccount>, DbError> {
    Ok(wage_accounts::table
        .find(id)
        .select(WageAccount::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// An approved line waiting to be paid, with the card and name on the
/// project's roster now.
#[derive(Debug, Clone, QueryableByName)]
pub struct Candidate {
    #[diesel(sql_type = BigInt)]
    pub line_id: i64,
    #[diesel(sql_type = BigInt)]
    pub worker_id: i64,
    #[diesel(sql_type = Nullable<Numeric>)]
    pub net: Option<Decimal>,
    #[diesel(sql_type = Text)]
    pub line_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub roster_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub card_number: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub card_bank: Option<String>,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pub line_no: i32,
    #[diesel(sql_type = Text)]
    pub employer_uscc: String,
}

/// Every approved line of the period's current payrolls (the latest revision
/// of each employer) that no live or settled attempt holds, in employer and
/// line order. One statement, so an approval committing meanwhile is seen
/// whole or not at all.
pub fn candidates(
    conn: &mut PgConnection,
    project_id: i64,
    period: &str,
) -> Result<Vec<Candidate>, DbError> {
    Ok(diesel::sql_query(
        "SELECT l.id AS line_id, l.worker_id AS worker_id, l.net, l.name AS line_name,
                r.name AS roster_name, r.card_number, r.card_bank, l.line_no,
                o.uscc::text AS employer_uscc
           FROM payrolls p
           JOIN organizations o ON o.id = p.employer_id
           JOIN payroll_lines l ON l.payroll_id = p.id
           JOIN approved_lines a ON a.line_id = l.id
           LEFT JOIN roster_entries r ON r.project_id = p.project_id AND r.worker_id = l.worker_id
          WHERE p.project_id = $1 AND p.period = $2 AND l.worker_id IS NOT NULL
            AND p.revision = (SELECT max(q.revision) FROM payrolls q
                               WHERE q.project_id = p.project_id AND q.employer_id = p.employer_id
                                 AND q.period = p.period)
            AND NOT EXISTS (SELECT 1 FROM disbursement_lines d
                             WHERE d.line_id = l.id AND d.state <> 'rejected')
          ORDER BY p.employer_id, l.line_no",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Bpchar, _>(period)
    .load(conn)?)
}

/// The latest batch of the project and period, if any.
pub fn latest_batch_id(
    conn: &mut PgConnection,
    project_id: i64,
    period: &str,
) -> Result<Option<i64>, DbError> {
    Ok(disbursement_batches::table
        .filter(disbursement_batches::project_id.eq(project_id))
        .filter(disbursement_batches::period.eq(period))
        .select(diesel::dsl::max(disbursement_batches::id))
        .first(conn)?)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = disbursement_batches)]
pub struct NewBatch<'a> {
    pub project_id: i64,
    pub period: &'a str,
    pub wage_account_id: i64,
    pub connection_id: i64,
    pub message_id: &'a str,
    pub previous_batch_id: Option<i64>,
    pub requested_by: i64,
    pub created_at: DateTime<Utc>,
    pub requested_execution_date: NaiveDate,
    pub line_count: i32,
    pub amount: Decimal,
    pub status: &'a str,
    pub hold_reason: Option<&'a str>,
    pub hold_figures: Option<serde_json::Value>,
    pub file_format: &'a str,
    pub file_name: &'a str,
    pub file_sha256: &'a str,
    pub file_bytes: &'a [u8],
}

/// One line attempt to store. Written with COPY, so every column is given.
#[derive(Debug, Insertable)]
#[diesel(table_name = disbursement_lines, treat_none_as_default_value = false)]
pub struct NewAttempt {
    pub batch_id: i64,
    pub line_id: i64,
    pub seq: i32,
    pub end_to_end_id: String,
    pub worker_id: i64,
    pub creditor_name: String,
    pub card_number: String,
    pub card_bank: Option<String>,
    pub amount: Decimal,
    pub state: &'static str,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A batch as stored, without its file's bytes.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursement_batches, check_for_backend(Pg))]
pub struct Batch {
    pub id: i64,
    pub project_id: i64,
    pub period: String,
    pub wage_account_id: i64,
    pub connection_id: i64,
    pub message_id: String,
    pub previous_batch_id: Option<i64>,
    pub requested_by: i64,
    pub created_at: DateTime<Utc>,
    pub requested_execution_date: NaiveDate,
    pub line_count: i32,
    pub amount: Decimal,
    pub status: String,
    pub hold_reason: Option<String>,
    pub hold_figures: Option<serde_json::Value>,
    pub file_format: String,
    pub file_name: String,
    pub file_sha256: String,
}

pub fn insert_batch(conn: &mut PgConnection, new: &NewBatch) -> Result<Batch, DbError> {
    Ok(diesel::insert_into(disbursement_batches::table)
        .values(new)
        .returning(Batch::as_returning())
        .get_result(conn)?)
}

/// Stores the attempts with COPY, then one `created` event per attempt in
/// one statement.
pub fn insert_attempts(
    conn: &mut PgConnection,
    batch_id: i64,
    attempts: &[NewAttempt],
    at: DateTime<Utc>,
    copied: &mut dyn FnMut(),
) -> Result<usize, DbError> {
    let stored = diesel::copy_from(disbursement_lines::table)
        .from_insertable(attempts)
        .execute(conn)?;
    copied();
    diesel::sql_query(
        "INSERT INTO disbursement_line_events (attempt_id, from_state, to_state, at, cause)
         SELECT id, NULL, 'reserved', $2, 'created' FROM disbursement_lines WHERE batch_id = $1",
    )
    .bind::<BigInt, _>(batch_id)
    .bind::<Timestamptz, _>(at)
    .execute(conn)?;
    Ok(stored)
}

pub fn append_batch_event(
    conn: &mut PgConnection,
    batch_id: i64,
    status: &str,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    note: Option<&str>,
) -> Result<(), DbError> {
    diesel::insert_into(disbursement_batch_events::table)
        .values((
            disbursement_batch_events::batch_id.eq(batch_id),
            disbursement_batch_events::status.eq(status),
            disbursement_batch_events::at.eq(at),
            disbursement_batch_events::actor_id.eq(actor_id),
            disbursement_batch_events::note.eq(note),
        ))
        .execute(conn)?;
    Ok(())
}

/// The batch's outbox entry: `pending` and due now, or `held`.
pub fn insert_outbox(
    conn: &mut PgConnection,
    batch_id: i64,
    connection_id: i64,
    state: &str,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::insert_into(bank_outbox::table)
        .values((
            bank_outbox::batch_id.eq(batch_id),
            bank_outbox::connection_id.eq(connection_id),
            bank_outbox::state.eq(state),
            bank_outbox::attempts.eq(0),
            // Retry scheduling, not a business time: the dispatcher compares
            // it with the machine's clock. It is due at once.
            bank_outbox::next_attempt_at.eq(Utc::now()),
            bank_outbox::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Releases a held batch: batch `released`, its outbox entry `pending` and
/// due now. `false` when the batch was not held.
pub fn release(conn: &mut PgConnection, batch_id: i64) -> Result<bool, DbError> {
    let changed = diesel::update(
        disbursement_batches::table
            .find(batch_id)
            .filter(disbursement_batches::status.eq("held")),
    )
    .set(disbursement_batches::status.eq("released"))
    .execute(conn)?;
    if changed == 0 {
        return Ok(false);
    }
    diesel::update(
        bank_outbox::table
            .filter(bank_outbox::batch_id.eq(batch_id))
            .filter(bank_outbox::state.eq("held")),
    )
    // Retry scheduling: the machine's clock (see insert_outbox).
    .set((
        bank_outbox::state.eq("pending"),
        bank_outbox::next_attempt_at.eq(Utc::now()),
    ))
    .execute(conn)?;
    Ok(true)
}

/// The held batches of an account, oldest first.
pub fn held_batches(conn: &mut PgConnection, wage_account_id: i64) -> Result<Vec<Batch>, DbError> {
    Ok(disbursement_batches::table
        .filter(disbursement_batches::wage_account_id.eq(wage_account_id))
        .filter(disbursement_batches::status.eq("held"))
        .order(disbursement_batches::id)
        .select(Batch::as_select())
        .load(conn)?)
}

pub fn batch(conn: &mut PgConnection, project_id: i64, id: i64) -> Result<Option<Batch>, DbError> {
    Ok(disbursement_batches::table
        .find(id)
        .filter(disbursement_batches::project_id.eq(project_id))
        .select(Batch::as_select())
        .first(conn)
        .optional()?)
}

/// A page of a project's batches, newest first (`before`: ids below it).
pub fn batches_page(
    conn: &mut PgConnection,
    project_id: i64,
    before: Option<i64>,
    fetch: i64,
) -> Result<Vec<Batch>, DbError> {
    let mut query = disbursement_batches::table
        .filter(disbursement_batches::project_id.eq(project_id))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(disbursement_batches::id.lt(before));
    }
    Ok(query
        .order(disbursement_batches::id.desc())
        .limit(fetch)
        .select(Batch::as_select())
        .load(conn)?)
}

/// The size of a batch's file, read in the database (the bytes stay there).
pub fn file_size(conn: &mut PgConnection, batch_id: i64) -> Result<i64, DbError> {
    Ok(disbursement_batches::table
        .find(batch_id)
        .select(diesel::dsl::sql::<BigInt>("octet_length(file_bytes)::int8"))
        .first(conn)?)
}

/// The bytes of a batch's file.
pub fn file_bytes(conn: &mut PgConnection, batch_id: i64) -> Result<Vec<u8>, DbError> {
    Ok(disbursement_batches::table
        .find(batch_id)
        .select(disbursement_batches::file_bytes)
        .first(conn)?)
}

/// Count and amount of a batch's attempts in one state.
#[derive(Debug, Clone, QueryableByName)]
pub struct StateTotal {
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = BigInt)]
    pub count: i64,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
}

pub fn state_totals(conn: &mut PgConnection, batch_id: i64) -> Result<Vec<StateTotal>, DbError> {
    Ok(diesel::sql_query(
        "SELECT state, count(*) AS count, coalesce(sum(amount), 0) AS amount
           FROM disbursement_lines WHERE batch_id = $1 GROUP BY state ORDER BY state",
    )
    .bind::<BigInt, _>(batch_id)
    .load(conn)?)
}

/// A line attempt as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursement_lines, check_for_backend(Pg))]
pub struct Attempt {
    pub id: i64,
    pub batch_id: i64,
    pub line_id: i64,
    pub seq: i32,
    pub end_to_end_id: String,
    pub worker_id: i64,
    pub creditor_name: String,
    pub card_number: String,
    pub card_bank: Option<String>,
    pub amount: Decimal,
    pub state: String,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// A page of a batch's attempts in file order (`after`: seq above it).
pub fn attempts_page(
    conn: &mut PgConnection,
    batch_id: i64,
    after: Option<i64>,
    fetch: i64,
) -> Result<Vec<Attempt>, DbError> {
    let after = i32::try_from(after.unwrap_or(0)).unwrap_or(i32::MAX);
    Ok(disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .filter(disbursement_lines::seq.gt(after))
        .order(disbursement_lines::seq)
        .limit(fetch)
        .select(Attempt::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursement_line_events, check_for_backend(Pg))]
pub struct LineEvent {
    pub id: i64,
    pub attempt_id: i64,
    pub from_state: Option<String>,
    pub to_state: String,
    pub at: DateTime<Utc>,
    pub cause: String,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
}

pub fn line_events(
    conn: &mut PgConnection,
    attempt_ids: &[i64],
) -> Result<Vec<LineEvent>, DbError> {
    Ok(disbursement_line_events::table
        .filter(disbursement_line_events::attempt_id.eq_any(attempt_ids))
        .order(disbursement_line_events::id)
        .select(LineEvent::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = disbursement_batch_events, check_for_backend(Pg))]
pub struct BatchEvent {
    pub id: i64,
    pub batch_id: i64,
    pub status: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub note: Option<String>,
}

pub fn batch_events(conn: &mut PgConnection, batch_id: i64) -> Result<Vec<BatchEvent>, DbError> {
    Ok(disbursement_batch_events::table
        .filter(disbursement_batch_events::batch_id.eq(batch_id))
        .order(disbursement_batch_events::id)
        .select(BatchEvent::as_select())
        .load(conn)?)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bank_outbox, check_for_backend(Pg))]
pub struct OutboxEntry {
    pub id: i64,
    pub batch_id: i64,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

pub fn outbox_of(conn: &mut PgConnection, batch_id: i64) -> Result<Option<OutboxEntry>, DbError> {
    Ok(bank_outbox::table
        .filter(bank_outbox::batch_id.eq(batch_id))
        .select(OutboxEntry::as_select())
        .first(conn)
        .optional()?)
}

/// A rejected attempt whose line no later attempt holds: the contractor's to-do list.
#[derive(Debug, Clone, QueryableByName)]
pub struct Exception {
    #[diesel(sql_type = BigInt)]
    pub attempt_id: i64,
    #[diesel(sql_type = BigInt)]
    pub batch_id: i64,
    #[diesel(sql_type = Text)]
    pub message_id: String,
    #[diesel(sql_type = Bpchar)]
    pub period: String,
    #[diesel(sql_type = BigInt)]
    pub line_id: i64,
    #[diesel(sql_type = Text)]
    pub creditor_name: String,
    #[diesel(sql_type = Text)]
    pub card_number: String,
    #[diesel(sql_type = Numeric)]
    pub amount: Decimal,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason_text: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub updated_at: DateTime<Utc>,
}

/// The latest rejected attempt of each line not paid or in flight since,
/// by attempt id (`after`), at most `fetch`.
pub fn exceptions(
    conn: &mut PgConnection,
    project_id: i64,
    period: Option<&str>,
    after: Option<i64>,
    fetch: i64,
) -> Result<Vec<Exception>, DbError> {
    Ok(diesel::sql_query(
        "SELECT d.id AS attempt_id, b.id AS batch_id, b.message_id, b.period, d.line_id,
                d.creditor_name, d.card_number, d.amount, d.reason_code, d.reason_text, d.updated_at
           FROM disbursement_lines d
           JOIN disbursement_batches b ON b.id = d.batch_id
          WHERE b.project_id = $1 AND ($2::bpchar IS NULL OR b.period = $2) AND d.id > $3
            AND d.state = 'rejected'
            AND NOT EXISTS (SELECT 1 FROM disbursement_lines x
                             WHERE x.line_id = d.line_id AND (x.state <> 'rejected' OR x.id > d.id))
          ORDER BY d.id
          LIMIT $4",
    )
    .bind::<BigInt, _>(project_id)
    .bind::<Nullable<Bpchar>, _>(period)
    .bind::<BigInt, _>(after.unwrap_or(0))
    .bind::<BigInt, _>(fetch)
    .load(conn)?)
}

/// The latest attempt of each of these payroll lines: state, reason code and text.
#[derive(Debug, Clone, QueryableByName)]
pub struct LatestAttempt {
    #[diesel(sql_type = BigInt)]
    pub line_id: i64,
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason_code: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub reason_text: Option<String>,
}

pub fn latest_attempts(
    conn: &mut PgConnection,
    line_ids: &[i64],
) -> Result<Vec<LatestAttempt>, DbError> {
    Ok(diesel::sql_query(
        "SELECT DISTINCT ON (line_id) line_id, state, reason_code, reason_text
           FROM disbursement_lines WHERE line_id = ANY($1)
          ORDER BY line_id, id DESC",
    )
    .bind::<diesel::sql_types::Array<BigInt>, _>(line_ids)
    .load(conn)?)
}
