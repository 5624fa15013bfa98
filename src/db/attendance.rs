//! Daily attendance (考勤). A correction supersedes the live record; the old
//! one stays, marked with when it was superseded.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::roster::{RosterEntry, RosterRow, Worker};
use super::schema::{attendance_records, organizations, roster_entries, workers};
use super::DbError;
use crate::paging::Page;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attendance_records)]
pub struct AttendanceRecord {
    pub id: i64,
    pub project_id: i64,
    pub worker_id: i64,
    pub work_date: NaiveDate,
    pub hours: Decimal,
    pub source: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub recorded_by: i64,
    pub superseded_at: Option<DateTime<Utc>>,
}

/// What recording a day did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created,
    /// An earlier record for the day was superseded (and kept).
    Replaced,
    /// The same hours and source were already recorded.
    Unchanged,
}

/// One worker's day on a project, as an upload states it.
#[derive(Debug, Clone, Copy)]
pub struct NewAttendance<'a> {
    pub project_id: i64,
    pub worker_id: i64,
    pub work_date: NaiveDate,
    pub hours: Decimal,
    pub source: Option<&'a str>,
    pub recorded_by: i64,
    /// The business time of the upload.
    pub recorded_at: DateTime<Utc>,
}

/// Records one worker's day on a project: the latest record wins, the earlier one is kept.
/// Serialises attendance uploads of one project until the end of the
/// transaction: two devices posting the same days at once must see each
/// other's records (the second is then a no-op or a replacement), not race
/// to the live-record unique index.
pub fn lock_project(conn: &mut PgConnection, project_id: i64) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("attendance:{project_id}"))
        .execute(conn)?;
    Ok(())
}

pub fn record(conn: &mut PgConnection, new: &NewAttendance) -> Result<Recorded, DbError> {
    let NewAttendance {
        project_id,
        worker_id,
        work_date,
        hours,
        source,
        recorded_by,
        recorded_at: at,
    } = *new;
    let live: Option<AttendanceRecord> = attendance_records::table
        .filter(attendance_records::project_id.eq(project_id))
        .filter(attendance_records::worker_id.eq(worker_id))
        .filter(attendance_records::work_date.eq(work_date))
        .filter(attendance_records::superseded_at.is_null())
        .select(AttendanceRecord::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    let outcome = match &live {
        Some(r) if r.hours == hours && r.source.as_deref() == source => {
            return Ok(Recorded::Unchanged)
        }
        Some(r) => {
            diesel::update(attendance_records::table.find(r.id))
                .set(attendance_records::superseded_at.eq(at))
                .execute(conn)?;
            Recorded::Replaced
        }
        None => Recorded::Created,
    };
    diesel::insert_into(attendance_records::table)
        .values((
            attendance_records::project_id.eq(project_id),
            attendance_records::worker_id.eq(worker_id),
            attendance_records::work_date.eq(work_date),
            attendance_records::hours.eq(hours),
            attendance_records::source.eq(source),
            attendance_records::recorded_by.eq(recorded_by),
            attendance_records::recorded_at.eq(at),
        ))
        .execute(conn)?;
    Ok(outcome)
}

/// Live records of a project between two dates (inclusive).
pub fn live_between(
    conn: &mut PgConnection,
    project_id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AttendanceRecord>, DbError> {
    Ok(attendance_records::table
        .filter(attendance_records::project_id.eq(project_id))
        .filter(attendance_records::work_date.between(from, to))
        .filter(attendance_records::superseded_at.is_null())
        .order((attendance_records::worker_id, attendance_records::work_date))
        .select(AttendanceRecord::as_select())
        .load(conn)?)
}

/// Every record (live and superseded) of one worker's day, oldest first.
pub fn history(
    conn: &mut PgConnection,
    project_id: i64,
    worker_id: i64,
    work_date: NaiveDate,
) -> Result<Vec<AttendanceRecord>, DbError> {
    Ok(attendance_records::table
        .filter(attendance_records::project_id.eq(project_id))
        .filter(attendance_records::worker_id.eq(worker_id))
        .filter(attendance_records::work_date.eq(work_date))
        .order(attendance_records::id)
        .select(AttendanceRecord::as_select())
        .load(conn)?)
}

/// What a read of a period's attendance is narrowed to.
#[derive(Debug, Clone, Copy)]
pub struct PeriodFilter<'a> {
    pub project_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only this employer's workers (a subcontractor's read).
    pub employer_id: Option<i64>,
    /// Only this person.
    pub id_number: Option<&'a str>,
}

/// One page of the roster entries with at least one live record between
/// the filter's dates, in the order workers were entered (the page's key is
/// the roster entry's id).
pub fn workers_with_records(
    conn: &mut PgConnection,
    filter: &PeriodFilter<'_>,
    page: Page,
) -> Result<Vec<RosterRow>, DbError> {
    let live = attendance_records::table
        .filter(attendance_records::project_id.eq(roster_entries::project_id))
        .filter(attendance_records::worker_id.eq(roster_entries::worker_id))
        .filter(attendance_records::work_date.between(filter.from, filter.to))
        .filter(attendance_records::superseded_at.is_null());
    let mut query = roster_entries::table
        .inner_join(workers::table)
        .inner_join(organizations::table.on(organizations::id.eq(roster_entries::employer_id)))
        .filter(roster_entries::project_id.eq(filter.project_id))
        .filter(diesel::dsl::exists(live))
        .into_boxed();
    if let Some(employer) = filter.employer_id {
        query = query.filter(roster_entries::employer_id.eq(employer));
    }
    if let Some(id_number) = filter.id_number {
        query = query.filter(workers::id_number.eq(id_number));
    }
    if let Some(after) = page.after {
        query = query.filter(roster_entries::id.gt(after));
    }
    let rows: Vec<(RosterEntry, Worker, String, String)> = query
        .order(roster_entries::id)
        .limit(page.fetch())
        .select((
            RosterEntry::as_select(),
            Worker::as_select(),
            organizations::uscc,
            organizations::name,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(RosterRow::from).collect())
}

/// Live records of some workers on a project between two dates (inclusive),
/// by worker and day.
pub fn live_of_workers(
    conn: &mut PgConnection,
    project_id: i64,
    worker_ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<AttendanceRecord>, DbError> {
    Ok(attendance_records::table
        .filter(attendance_records::project_id.eq(project_id))
        .filter(attendance_records::worker_id.eq_any(worker_ids))
        .filter(attendance_records::work_date.between(from, to))
        .filter(attendance_records::superseded_at.is_null())
        .order((attendance_records::worker_id, attendance_records::work_date))
        .select(AttendanceRecord::as_select())
        .load(conn)?)
}
