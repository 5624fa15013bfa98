//! The real-name roster (实名制花名册): `PUT /v1/projects/{code}/workers`
//! upserts rows by ID number, `GET` reads the roster (`registry::roster`).

use actix_web::{get, put, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::projects;
use super::AppState;
use crate::db;
use crate::paging::PageQuery;
use crate::registry::roster::{self, RosterList, RosterWrite};
use crate::registry::Upload;
use crate::tabular::UploadReport;

pub use crate::registry::roster::RosterView;

/// The upload as the request carries it, for the use case to read.
pub(super) fn upload(req: &HttpRequest, bytes: body::Body) -> Upload {
    Upload {
        media_type: body::media_type(req),
        charset: body::charset(req),
        bytes: bytes.0.to_vec(),
    }
}

/// Upsert roster rows by ID number (JSON, CSV or XLSX; Chinese headers accepted).
#[utoipa::path(
    tag = "roster",
    params(("code" = String, Path)),
    request_body(content = String, description = "`{\"workers\": [...]}` as application/json, text/csv (UTF-8 or GBK) or an XLSX workbook, with headers such as 姓名,身份证号,手机号,银行卡号,开户行,班组,工种,劳动合同签订日期,进场日期,退场日期; other columns (序号, 性别, 备注) are ignored and listed in `ignored_columns`"),
    responses(
        (status = 200, description = "every row counted by outcome and code; at most 1,000 listed, those rejected or warned about first", body = UploadReport),
        (status = 400, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem),
        (status = 422, description = "the upload goes over a limit (rows, columns, cells)", body = Problem),
    ),
    security(("api_key" = []))
)]
#[put("/v1/projects/{code}/workers")]
pub async fn put_workers(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !role.can_write_workers() {
        return Err(ApiError::forbidden(
            "only the general contractor and its subcontractors write the roster",
        ));
    }
    let upload = upload(&req, bytes);
    let caller_org = caller.0.clone();
    let (today, now) = (state.clock.today(), state.clock.now());
    let report = db::run(&state.pool, move |conn| {
        let write = RosterWrite {
            project: &project,
            role,
            caller: &caller_org,
            today,
            now,
        };
        roster::upsert(conn, write, &upload)
    })
    .await?;
    Ok(HttpResponse::Ok().json(report))
}

/// Read the roster a page at a time (a subcontractor sees only its own workers).
#[utoipa::path(
    tag = "roster",
    params(("code" = String, Path), PageQuery),
    responses(
        (status = 200, body = RosterList),
        (status = 400, description = "INVALID_QUERY: a limit outside 1–1,000 or a cursor not given out", body = Problem),
        (status = 404, body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/workers")]
pub async fn list_workers(
    req: HttpRequest,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let page = super::payrolls::query::<PageQuery>(&req)?.page()?;
    let (project, role) = projects::load(&state, &caller, &path).await?;
    let caller_id = caller.id();
    let list = db::run(&state.pool, move |conn| {
        roster::list(conn, &project, role, caller_id, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}
