//! Daily attendance (考勤): `POST /v1/projects/{code}/attendance`
//! (`registry::attendance`).

use actix_web::{post, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::projects;
use super::workers::upload;
use super::AppState;
use crate::db;
use crate::registry::attendance::{self, AttendanceWrite};
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
