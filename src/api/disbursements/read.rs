//! `GET /v1/projects/{code}/disbursements` and `…/disbursements/{id}`.

use actix_web::{get, web, HttpRequest, HttpResponse};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::payrolls::query;
use crate::api::projects;
use crate::api::AppState;
use crate::banking::disburse::read as use_case;
use crate::banking::disburse::views::{BatchList, BatchView};
use crate::db;
use crate::paging::PageQuery;

/// List the project's disbursement batches, newest first (paged).
#[utoipa::path(
    tag = "disbursements",
    params(("code" = String, Path), PageQuery),
    responses((status = 200, body = BatchList), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/disbursements")]
pub async fn list(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    super::require_reader(role)?;
    let page = query::<PageQuery>(&req)?.page()?;
    let view = db::run(&state.pool, move |conn| {
        use_case::list(conn, &project, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Read one batch: status (held with its reason and figures), totals by line
/// state, the file sent, the outbox entry, and a page of its lines with the
/// bank's reasons in Chinese and English and their events.
#[utoipa::path(
    tag = "disbursements",
    params(("code" = String, Path), ("id" = i64, Path), PageQuery),
    responses((status = 200, body = BatchView), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/disbursements/{id}")]
pub async fn read(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let id = super::batch_id(&id)?;
    super::require_reader(role)?;
    let page = query::<PageQuery>(&req)?.page()?;
    let view = db::run(&state.pool, move |conn| {
        use_case::batch_view(conn, &project, id, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
