//! `GET /v1/projects/{code}/payrolls/{period}`: JSON, or an export by `?format=` or `Accept`.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{export::*, query};
use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::projects::{self};
use crate::api::spreadsheet::{self};
use crate::api::AppState;
use crate::db::{self};
use crate::domain::Period;
use crate::error::AppError;
use crate::paging::PageQuery;
use crate::payroll::{read::*, views::*};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// Only this employer's payroll.
    pub employer_uscc: Option<String>,
    /// An earlier revision instead of the current one.
    pub revision: Option<i32>,
    /// `json` (default), `csv` or `xlsx`; the Accept header works too.
    pub format: Option<String>,
    /// Lines listed per payroll in JSON, 1 to 1,000 (default 200); an export holds every line.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `next_cursor` of a payroll's previous page of lines (with several
    /// employers, name one by `employer_uscc`).
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
    Xlsx,
}

pub(crate) fn format_of(req: &HttpRequest, asked: Option<&str>) -> Result<Format, ApiError> {
    match asked.map(str::to_ascii_lowercase).as_deref() {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALID_FORMAT",
                format!("format {other:?} is not offered; use json, csv or xlsx"),
            )
            .with_field("format"))
        }
        None => {}
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(if accept.contains(spreadsheet::XLSX) {
        Format::Xlsx
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

/// Read a period's payrolls: every line's match result, confirmation, approval and
/// payment status (JSON), or the same as CSV or XLSX (`?format=` or `Accept`).
/// ID and card numbers are masked. A subcontractor sees only its own payroll.
/// JSON lists each payroll's lines a page at a time (`next_cursor`); totals count every line.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM"), ReadQuery),
    responses(
        (status = 200, description = "the period's payrolls (JSON, the default), or their export as CSV (UTF-8 with BOM) or XLSX",
            content(
                (PeriodView = "application/json"),
                (String = "text/csv"),
                (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            )),
        (status = 400, description = "INVALID_QUERY: a limit outside 1–1,000 or a cursor not given out", body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payrolls/{period}")]
pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let q: ReadQuery = query(&req)?;
    let format = format_of(&req, q.format.as_deref())?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
    }
    .page()?;
    // An export is the whole payroll, as a file: only JSON pages.
    let page = (format == Format::Json).then_some(page);
    let caller_org = caller.0.clone();
    let view = db::run(&state.pool, move |conn| {
        let all = visible_payrolls(
            conn,
            &project,
            role,
            &caller_org,
            period,
            q.employer_uscc.as_deref(),
        )?;
        let chosen = pick_revisions(all, q.revision);
        if chosen.is_empty() {
            return Err(AppError::not_found(match q.revision {
                Some(r) => format!("revision {r} of a payroll for {period}"),
                None => format!("a payroll for {period}"),
            }));
        }
        period_view(conn, &project, period, chosen, page)
    })
    .await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(view),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", export_name(&view, "csv")),
            ))
            .body(csv_export(&view)?),
        Format::Xlsx => {
            let bytes = spreadsheet::write_xlsx("工资表", EXPORT_HEADER, &export_rows(&view))?;
            HttpResponse::Ok()
                .content_type(spreadsheet::XLSX)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", export_name(&view, "xlsx")),
                ))
                .body(bytes)
        }
    })
}
