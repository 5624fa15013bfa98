//! Attendance read back (考勤查询): per worker the days and hours of one
//! period and the daily records behind them, a page of workers at a time,
//! so that what an upload's bounded answer leaves out can still be read.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::ProjectRole;
use crate::db::attendance::{AttendanceRecord, PeriodFilter};
use crate::db::projects::Project;
use crate::db::{self};
use crate::domain::{mask, Period, ResidentId};
use crate::error::{AppError, ErrorCode};
use crate::paging::Page;

/// One live daily record.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceDayView {
    pub date: NaiveDate,
    #[schema(value_type = String, example = "8.00")]
    #[serde(with = "rust_decimal::serde::str")]
    pub hours: Decimal,
    /// The device or file the record came from, as the upload named it.
    pub source: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// One worker's attendance in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct WorkerAttendanceView {
    /// Masked.
    pub id_number: String,
    /// The name on this project's roster.
    pub name: String,
    pub employer_uscc: String,
    pub employer_name: String,
    /// Days with a live record in the period.
    pub days: u32,
    #[schema(value_type = String, example = "16.00")]
    #[serde(with = "rust_decimal::serde::str")]
    pub hours: Decimal,
    /// The live records, by day.
    pub records: Vec<AttendanceDayView>,
}

/// One page of a period's attendance, by worker.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceList {
    #[schema(value_type = String, example = "2026-10")]
    pub period: Period,
    pub workers: Vec<WorkerAttendanceView>,
    /// `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// What the read asks for, as the query string gave it.
pub struct AttendanceQuery<'a> {
    pub period: Option<&'a str>,
    pub id_number: Option<&'a str>,
    pub page: Page,
    /// The business clock's today: a period after its month is refused.
    pub today: NaiveDate,
}

/// The period asked for: required here, then read as a payroll's period is.
fn parse_period(value: Option<&str>, today: NaiveDate) -> Result<Period, AppError> {
    let value = value.ok_or_else(|| {
        AppError::field(
            "period",
            ErrorCode::InvalidQuery,
            "period is required, as YYYY-MM (e.g. 2026-10)",
        )
    })?;
    crate::payroll::submit::parse_period(value, today)
}

/// One page of the period's attendance. Only live records count: a record
/// replaced by a later upload (superseded) is neither listed nor summed.
/// A subcontractor sees only its own workers; every other role that may
/// see the project sees all of them.
pub fn list(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller_id: i64,
    query: AttendanceQuery<'_>,
) -> Result<AttendanceList, AppError> {
    let period = parse_period(query.period, query.today)?;
    let id_number = query
        .id_number
        .map(|v| {
            ResidentId::parse_on(v, query.today)
                .map_err(|e| AppError::field("id_number", ErrorCode::from(e.code()), e.to_string()))
        })
        .transpose()?;
    let filter = PeriodFilter {
        project_id: project.id,
        from: period.first_day(),
        to: period.last_day(),
        employer_id: (role == ProjectRole::Subcontractor).then_some(caller_id),
        id_number: id_number.as_ref().map(ResidentId::as_str),
    };
    let page = query.page;
    let rows = db::attendance::workers_with_records(conn, &filter, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.entry.id);
    let ids: Vec<i64> = rows.iter().map(|r| r.worker.id).collect();
    let mut by_worker: HashMap<i64, Vec<AttendanceRecord>> = HashMap::new();
    for record in db::attendance::live_of_workers(conn, project.id, &ids, filter.from, filter.to)? {
        by_worker.entry(record.worker_id).or_default().push(record);
    }
    let workers = rows
        .into_iter()
        .map(|r| {
            let records = by_worker.remove(&r.worker.id).unwrap_or_default();
            WorkerAttendanceView {
                id_number: mask::mask_middle(&r.worker.id_number, 4, 4),
                name: r.entry.name,
                employer_uscc: r.employer_uscc,
                employer_name: r.employer_name,
                // One live record per worker and day, so records count days.
                days: u32::try_from(records.len()).unwrap_or(u32::MAX),
                hours: records.iter().map(|d| d.hours).sum::<Decimal>().round_dp(2),
                records: records.into_iter().map(day_view).collect(),
            }
        })
        .collect();
    Ok(AttendanceList {
        period,
        workers,
        next_cursor,
    })
}

fn day_view(r: AttendanceRecord) -> AttendanceDayView {
    AttendanceDayView {
        date: r.work_date,
        hours: r.hours.round_dp(2),
        source: r.source,
        recorded_at: r.recorded_at,
    }
}
