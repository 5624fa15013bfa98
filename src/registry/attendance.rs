//! Daily attendance (考勤): records from JSON, CSV or XLSX as gate devices
//! export them, each checked against the roster. Recording the same day
//! again is idempotent; different hours replace the record and keep the
//! earlier one.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;

use super::{resident_id_on, Upload};
use crate::access::ProjectRole;
use crate::db::attendance::{NewAttendance, Recorded};
use crate::db::projects::Project;
use crate::db::roster::RosterRow;
use crate::db::{self};
use crate::domain::ResidentId;
use crate::error::AppError;
use crate::tabular::fields::{self, Collector};
use crate::tabular::{columns, RawRow, ReportBuilder, RowProblem, UploadReport};

struct ParsedRow {
    id_number: ResidentId,
    date: NaiveDate,
    hours: Decimal,
    source: Option<String>,
}

fn parse_row(row: &RawRow, today: NaiveDate) -> Result<ParsedRow, Vec<RowProblem>> {
    if !row.problems.is_empty() {
        return Err(row.problems.clone());
    }
    let mut c = Collector::default();
    let id_number = c.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| resident_id_on("id_number", v, today)),
    );
    let date =
        c.keep(fields::required("date", row.get("date")).and_then(|v| fields::date("date", v)));
    let hours = c.keep(
        fields::required("hours", row.get("hours"))
            .and_then(|v| fields::decimal("hours", v, 2, Decimal::ZERO, Decimal::from(24))),
    );
    let source = c.keep(fields::optional_text("source", row.get("source"), 100));
    match (id_number, date, hours, source) {
        (Some(id_number), Some(date), Some(hours), Some(source)) => Ok(ParsedRow {
            id_number,
            date,
            hours,
            source,
        }),
        _ => Err(c.into_problems()),
    }
}

/// Who records attendance and when, as the handler found them.
pub struct AttendanceWrite<'a> {
    pub project: &'a Project,
    pub role: ProjectRole,
    pub caller_id: i64,
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Records the rows of an upload, in one transaction.
pub fn record(
    conn: &mut PgConnection,
    write: AttendanceWrite<'_>,
    upload: &Upload,
) -> Result<UploadReport, AppError> {
    let table = upload.read(&columns::ATTENDANCE)?;
    let roster: HashMap<String, RosterRow> = db::roster::list(conn, write.project.id, None)?
        .into_iter()
        .map(|r| (r.worker.id_number.clone(), r))
        .collect();
    let mut report = ReportBuilder::for_table(&table);
    let mut seen: HashSet<(String, NaiveDate)> = HashSet::new();
    conn.transaction(|conn| {
        db::attendance::lock_project(conn, write.project.id)?;
        for row in &table.rows {
            let parsed = match parse_row(row, write.today) {
                Ok(p) => p,
                Err(errors) => {
                    report.reject(row, errors);
                    continue;
                }
            };
            let entry = roster.get(parsed.id_number.as_str());
            let problem = check(&parsed, entry, &write).or_else(|| {
                let key = (parsed.id_number.as_str().to_owned(), parsed.date);
                (!seen.insert(key)).then(|| {
                    RowProblem::field(
                        "date",
                        "DUPLICATE_ROW",
                        "this worker and day already appear earlier in this upload",
                    )
                })
            });
            match (problem, entry) {
                (Some(problem), _) => report.reject(row, vec![problem]),
                (None, Some(entry)) => {
                    let outcome = store(conn, &write, entry, &parsed)?;
                    report.accept(row, outcome, Vec::new());
                }
                (None, None) => return Err(AppError::Invariant("a checked row is on the roster")),
            }
        }
        Ok::<_, AppError>(())
    })?;
    Ok(report.finish(HashMap::new()))
}

fn store(
    conn: &mut PgConnection,
    write: &AttendanceWrite<'_>,
    entry: &RosterRow,
    row: &ParsedRow,
) -> Result<&'static str, AppError> {
    let outcome = db::attendance::record(
        conn,
        &NewAttendance {
            project_id: write.project.id,
            worker_id: entry.worker.id,
            work_date: row.date,
            hours: row.hours,
            source: row.source.as_deref(),
            recorded_by: write.caller_id,
            recorded_at: write.now,
        },
    )?;
    Ok(match outcome {
        Recorded::Created => "created",
        Recorded::Replaced => "replaced",
        Recorded::Unchanged => "unchanged",
    })
}

/// Why a well-formed row cannot be recorded, if it cannot.
fn check(
    row: &ParsedRow,
    entry: Option<&RosterRow>,
    write: &AttendanceWrite<'_>,
) -> Option<RowProblem> {
    let Some(entry) = entry else {
        return Some(RowProblem::field(
            "id_number",
            "NOT_ON_ROSTER",
            "this worker is not on the project's roster; register him first",
        ));
    };
    if write.role == ProjectRole::Subcontractor && entry.entry.employer_id != write.caller_id {
        return Some(RowProblem::field(
            "id_number",
            "EMPLOYED_BY_ANOTHER",
            "this worker is on the roster for another employer",
        ));
    }
    if row.date > write.today {
        return Some(RowProblem::field(
            "date",
            "DATE_IN_FUTURE",
            "attendance cannot be recorded for a future day",
        ));
    }
    if !entry.entry.employed_on(row.date) {
        let until = entry
            .entry
            .exited_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "now".to_owned());
        return Some(RowProblem::field(
            "date",
            "OUTSIDE_EMPLOYMENT",
            format!(
                "the worker was on site from {} to {until}, not on {}",
                entry.entry.entered_on, row.date
            ),
        ));
    }
    None
}
