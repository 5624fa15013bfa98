//! The outbox table: what is to be sent to whom, and what became of it.
//! Rows hold no token, link or message, and only a masked phone.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Int4, Int8, Nullable, Text, Timestamptz};

use crate::db::schema::notifications;
use crate::db::DbError;
use crate::payroll::tokens;

/// Queues a link for every accepted line of a just-stored payroll, and
/// creates their (still empty) token rows. Call inside the submission's transaction.
pub fn enqueue_accepted(
    conn: &mut PgConnection,
    payroll_id: i64,
    now: DateTime<Utc>,
) -> Result<usize, DbError> {
    tokens::create_for_payroll(conn, payroll_id)?;
    Ok(diesel::sql_query(
        "INSERT INTO notifications (line_id, channel, reason, status, created_at, next_attempt_at)
         SELECT id, 'sms', 'submitted', 'pending', $2, $2
           FROM payroll_lines WHERE payroll_id = $1 AND status = 'accepted'
          ORDER BY line_no",
    )
    .bind::<Int8, _>(payroll_id)
    .bind::<Timestamptz, _>(now)
    .execute(conn)?)
}

/// Queues a new link for one line, replacing any still pending. Returns the row's id.
pub fn enqueue_resend(
    conn: &mut PgConnection,
    line_id: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbError> {
    diesel::update(
        notifications::table
            .filter(notifications::line_id.eq(line_id))
            .filter(notifications::status.eq("pending")),
    )
    .set(notifications::status.eq("superseded"))
    .execute(conn)?;
    Ok(diesel::insert_into(notifications::table)
        .values((
            notifications::line_id.eq(line_id),
            notifications::channel.eq("sms"),
            notifications::reason.eq("resent"),
            notifications::status.eq("pending"),
            notifications::created_at.eq(now),
            notifications::next_attempt_at.eq(now),
        ))
        .returning(notifications::id)
        .get_result(conn)?)
}

/// A pending row, claimed (locked) for this transaction.
#[derive(Debug, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = Int8)]
    pub id: i64,
    #[diesel(sql_type = Int8)]
    pub line_id: i64,
    #[diesel(sql_type = Text)]
    pub reason: String,
    #[diesel(sql_type = Int4)]
    pub attempts: i32,
}

/// The oldest row due, locked; rows another dispatcher holds are skipped.
pub fn claim_next(conn: &mut PgConnection, now: DateTime<Utc>) -> Result<Option<Claimed>, DbError> {
    Ok(diesel::sql_query(
        "SELECT id, line_id, reason, attempts FROM notifications
          WHERE status = 'pending' AND next_attempt_at <= $1
          ORDER BY next_attempt_at, id
          LIMIT 1
          FOR UPDATE SKIP LOCKED",
    )
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .optional()?)
}

/// What became of a claimed row.
#[derive(Debug, Clone, Copy)]
pub struct Finish<'a> {
    pub status: &'a str,
    pub phone_masked: Option<&'a str>,
    pub error: Option<&'a str>,
    pub attempts: i32,
    pub at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
}

/// Records what became of a claimed row.
pub fn finish(conn: &mut PgConnection, id: i64, f: Finish<'_>) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE notifications
            SET status = $2, phone_masked = coalesce($3, phone_masked), last_error = $4,
                attempts = $5, next_attempt_at = $7,
                sent_at = CASE WHEN $2 = 'sent' THEN $6 ELSE sent_at END
          WHERE id = $1",
    )
    .bind::<Int8, _>(id)
    .bind::<Text, _>(f.status)
    .bind::<Nullable<Text>, _>(f.phone_masked)
    .bind::<Nullable<Text>, _>(f.error)
    .bind::<Int4, _>(f.attempts)
    .bind::<Timestamptz, _>(f.at)
    .bind::<Timestamptz, _>(f.next_attempt_at)
    .execute(conn)?;
    Ok(())
}

/// What a line's message is composed from.
#[derive(Debug, QueryableByName)]
pub struct Target {
    #[diesel(sql_type = Nullable<Int8>)]
    pub worker_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub worker_name: String,
    #[diesel(sql_type = Nullable<diesel::sql_types::Numeric>)]
    pub net: Option<rust_decimal::Decimal>,
    #[diesel(sql_type = Text)]
    pub project_name: String,
    #[diesel(sql_type = Text)]
    pub period: String,
    #[diesel(sql_type = Int4)]
    pub revision: i32,
    #[diesel(sql_type = Int4)]
    pub latest_revision: i32,
    /// The project whose roster holds the worker's phone.
    #[diesel(sql_type = Int8)]
    pub project_id: i64,
}

pub fn target(conn: &mut PgConnection, line_id: i64) -> Result<Option<Target>, DbError> {
    Ok(diesel::sql_query(
        "SELECT l.worker_id, l.name AS worker_name, l.net, j.name AS project_name,
                p.period::text AS period, p.revision,
                (SELECT max(q.revision) FROM payrolls q
                  WHERE q.project_id = p.project_id AND q.employer_id = p.employer_id
                    AND q.period = p.period) AS latest_revision,
                p.project_id
           FROM payroll_lines l
           JOIN payrolls p ON p.id = l.payroll_id
           JOIN projects j ON j.id = p.project_id
          WHERE l.id = $1",
    )
    .bind::<Int8, _>(line_id)
    .get_result(conn)
    .optional()?)
}

/// A row of the outbox as the tests and operators read it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications, check_for_backend(diesel::pg::Pg))]
pub struct Notification {
    pub id: i64,
    pub line_id: i64,
    pub channel: String,
    pub reason: String,
    pub status: String,
    pub phone_masked: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Every row about one line, oldest first.
pub fn for_line(conn: &mut PgConnection, line_id: i64) -> Result<Vec<Notification>, DbError> {
    Ok(notifications::table
        .filter(notifications::line_id.eq(line_id))
        .order(notifications::id)
        .select(Notification::as_select())
        .load(conn)?)
}
