//! Daily attendance (考勤): `POST /v1/projects/{code}/attendance`.

use std::collections::{HashMap, HashSet};

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use diesel::Connection;
use rust_decimal::Decimal;

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::fields;
use super::projects;
use super::tabular::{self, Column, RawRow, RowProblem, RowResult, UploadReport};
use super::AppState;
use crate::access::ProjectRole;
use crate::db::attendance::Recorded;
use crate::db::{self, DbError};
use crate::domain::{mask, ResidentId};

pub const COLUMNS: &[Column] = &[
    Column {
        key: "id_number",
        aliases: &["身份证号", "身份证号码", "证件号码"],
        required: true,
    },
    Column {
        key: "date",
        aliases: &["日期", "考勤日期", "work_date"],
        required: true,
    },
    Column {
        key: "hours",
        aliases: &["工时", "出勤工时", "小时"],
        required: true,
    },
    Column {
        key: "source",
        aliases: &["来源", "设备号", "考勤设备"],
        required: false,
    },
    Column {
        key: "name",
        aliases: &["姓名"],
        required: false,
    },
];

struct ParsedRow {
    number: usize,
    id_number: ResidentId,
    date: NaiveDate,
    hours: Decimal,
    source: Option<String>,
}

fn parse_row(row: &RawRow) -> Result<ParsedRow, Vec<RowProblem>> {
    if !row.problems.is_empty() {
        return Err(row.problems.clone());
    }
    let mut problems = fields::Collector::default();
    let id_number = problems.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| fields::resident_id("id_number", v)),
    );
    let date = problems
        .keep(fields::required("date", row.get("date")).and_then(|v| fields::date("date", v)));
    let hours = problems.keep(
        fields::required("hours", row.get("hours"))
            .and_then(|v| fields::decimal("hours", v, 2, Decimal::ZERO, Decimal::from(24))),
    );
    let source = problems.keep(fields::optional_text("source", row.get("source"), 100));
    match (id_number, date, hours, source) {
        (Some(id_number), Some(date), Some(hours), Some(source)) if problems.is_empty() => {
            Ok(ParsedRow {
                number: row.number,
                id_number,
                date,
                hours,
                source,
            })
        }
        _ => Err(problems.into_problems()),
    }
}

/// Record daily attendance (JSON or CSV); idempotent per worker and day, the latest record winning.
#[utoipa::path(
    tag = "attendance",
    params(("code" = String, Path)),
    request_body(content = String, description = "`{\"records\": [{\"id_number\", \"date\", \"hours\", \"source\"}]}` as application/json, or text/csv with headers 身份证号,日期,工时,来源"),
    responses(
        (status = 200, description = "every row, accepted or rejected with reasons", body = UploadReport),
        (status = 400, body = Problem), (status = 404, body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/attendance")]
pub async fn post_attendance(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !role.can_write_workers() {
        return Err(ApiError::forbidden(
            "only the general contractor and its subcontractors record attendance",
        ));
    }
    let rows = tabular::read_rows(&req, &bytes, COLUMNS, "records")?;
    let today = state.clock.today();
    let now = state.clock.now();
    let caller_id = caller.id();

    let results = db::run(&state.pool, move |conn| {
        let roster: HashMap<String, db::roster::RosterRow> =
            db::roster::list(conn, project.id, None)?
                .into_iter()
                .map(|r| (r.worker.id_number.clone(), r))
                .collect();
        let mut seen: HashSet<(String, NaiveDate)> = HashSet::new();
        let mut out = Vec::with_capacity(rows.len());
        conn.transaction(|conn| -> Result<(), DbError> {
            for row in &rows {
                let parsed = match parse_row(row) {
                    Ok(p) => p,
                    Err(errors) => {
                        out.push(RowResult::rejected(
                            row.number,
                            row.get("id_number").map(|v| mask::mask_middle(v, 4, 4)),
                            errors,
                        ));
                        continue;
                    }
                };
                let masked = Some(parsed.id_number.masked());
                let problem = check(
                    &parsed,
                    roster.get(parsed.id_number.as_str()),
                    role,
                    caller_id,
                    today,
                )
                .or_else(|| {
                    (!seen.insert((parsed.id_number.as_str().to_owned(), parsed.date))).then(|| {
                        RowProblem::field(
                            "date",
                            "DUPLICATE_ROW",
                            "this worker and day already appear earlier in this upload",
                        )
                    })
                });
                if let Some(problem) = problem {
                    out.push(RowResult::rejected(parsed.number, masked, vec![problem]));
                    continue;
                }
                let Some(entry) = roster.get(parsed.id_number.as_str()) else {
                    continue;
                };
                let outcome = db::attendance::record(
                    conn,
                    &db::attendance::NewAttendance {
                        project_id: project.id,
                        worker_id: entry.worker.id,
                        work_date: parsed.date,
                        hours: parsed.hours,
                        source: parsed.source.as_deref(),
                        recorded_by: caller_id,
                        recorded_at: now,
                    },
                )?;
                out.push(RowResult {
                    row: parsed.number,
                    status: "accepted",
                    outcome: Some(match outcome {
                        Recorded::Created => "created",
                        Recorded::Replaced => "replaced",
                        Recorded::Unchanged => "unchanged",
                    }),
                    id_number: masked,
                    errors: Vec::new(),
                });
            }
            Ok(())
        })?;
        Ok::<_, crate::error::AppError>(out)
    })
    .await?;
    Ok(HttpResponse::Ok().json(UploadReport::new(results)))
}

/// Why a well-formed row cannot be recorded, if it cannot.
fn check(
    row: &ParsedRow,
    entry: Option<&db::roster::RosterRow>,
    role: ProjectRole,
    caller_id: i64,
    today: NaiveDate,
) -> Option<RowProblem> {
    let Some(entry) = entry else {
        return Some(RowProblem::field(
            "id_number",
            "NOT_ON_ROSTER",
            "this worker is not on the project's roster; register him first",
        ));
    };
    if role == ProjectRole::Subcontractor && entry.entry.employer_id != caller_id {
        return Some(RowProblem::field(
            "id_number",
            "EMPLOYED_BY_ANOTHER",
            "this worker is on the roster for another employer",
        ));
    }
    if row.date > today {
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
