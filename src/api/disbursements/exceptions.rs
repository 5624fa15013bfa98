//! `GET /v1/projects/{code}/disbursements/exceptions?period=`.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::payrolls::query;
use crate::api::projects;
use crate::api::AppState;
use crate::banking::disburse::read as use_case;
use crate::banking::disburse::views::ExceptionList;
use crate::db;
use crate::paging::PageQuery;
use crate::payroll::submit::parse_period;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExceptionQuery {
    /// `YYYY-MM`; every period without it.
    pub period: Option<String>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// The contractor's to-do list: rejected lines not yet paid by a later
/// attempt, with the bank's reason in Chinese and English.
#[utoipa::path(
    tag = "disbursements",
    params(("code" = String, Path), ExceptionQuery),
    responses((status = 200, body = ExceptionList), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/disbursements/exceptions")]
pub async fn exceptions(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    super::require_reader(role)?;
    let q: ExceptionQuery = query(&req)?;
    let period = q
        .period
        .as_deref()
        .map(|p| parse_period(p, state.clock.today()))
        .transpose()?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let view = db::run(&state.pool, move |conn| {
        use_case::exceptions(conn, &project, period, page)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
