//! Daily attendance (考勤). A correction supersedes the live record; the old
//! one stays, marked with when it was superseded.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::schema::attendance_records;
use super::DbError;

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
