//! Daily attendance (考勤): `POST /v1/projects/{code}/attendance` records it
//! (`registry::attendance`), `GET` reads a period back a page of workers at a
//! time (`registry::attendance_read`).

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::projects;
use super::workers::upload;
use super::AppState;
use crate::db;
use crate::paging::PageQuery;
use crate::registry::attendance::{self, AttendanceWrite};
use crate::registry::attendance_read::{self, AttendanceList, AttendanceQuery};
use crate::tabular::UploadReport;

/// Record daily attendance (JSON, CSV or XLSX); idempotent per worker and day, the latest record winning.
#[utoipa::path(
    tag = "attendance",
    params(("code" = String, Path)),
    request_body(content = String, description = "`{\"records\": [{\"id_number\", \"date\", \"hours\", \"source\"}]}` as application/json, text/csv or an XLSX workbook with headers such as 身份证号,日期,工时,设备编号; other columns are ignored and listed in `ignored_columns`"),
    responses(
        (status = 200, description = "every row counted by outcome and code; at most 1,000 listed, those rejected or warned about first", body = UploadReport),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, description = "the upload goes over a limit (rows, columns, cells)", body = Problem),
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
    let upload = upload(&req, bytes);
    let caller_id = caller.id();
    let (today, now) = (state.clock.today(), state.clock.now());
    let report = db::run(&state.pool, move |conn| {
        let write = AttendanceWrite {
            project: &project,
            role,
            caller_id,
            today,
            now,
        };
        attendance::record(conn, write, &upload)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// The query string of the attendance read.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// The month, `YYYY-MM`; not after the current one.
    #[param(required = true, example = "2026-10")]
    pub period: Option<String>,
    /// Only this worker (his full resident ID number).
    pub id_number: Option<String>,
    /// Workers per page, 1 to 1,000 (default 200).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

/// Read a period's attendance a page of workers at a time: per worker (ID
/// number masked) the days and hours and the live daily records with their
/// source. Records replaced by a later upload are not included. A
/// subcontractor sees only its own workers.
#[utoipa::path(
    tag = "attendance",
    params(("code" = String, Path), ReadQuery),
    responses(
        (status = 200, body = AttendanceList),
        (status = 400, description = "INVALID_QUERY: no period, an unknown parameter, a limit outside 1–1,000 or a cursor not given out; a malformed period or ID number", body = Problem),
        (status = 404, body = Problem),
        (status = 422, description = "PERIOD_IN_FUTURE", body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/attendance")]
pub async fn list_attendance(
    req: HttpRequest,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let q: ReadQuery = super::payrolls::query(&req)?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .page()?;
    let (project, role) = projects::load(&state, &caller, &path).await?;
    let caller_id = caller.id();
    let today = state.clock.today();
    let list = db::run(&state.pool, move |conn| {
        let query = AttendanceQuery {
            period: q.period.as_deref(),
            id_number: q.id_number.as_deref(),
            page,
            today,
        };
        attendance_read::list(conn, &project, role, caller_id, query)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}
