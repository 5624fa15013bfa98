//! `GET|PUT /v1/projects/{code}/payroll-settings`.

use actix_web::{get, put, web, HttpRequest, HttpResponse};

use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::projects::{self};
use crate::api::AppState;
use crate::db;
use crate::payroll::settings;
use crate::payroll::views::*;

/// Read the project's payroll settings.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path)),
    responses((status = 200, body = PayrollSettings), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payroll-settings")]
pub async fn get_settings(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, _) = projects::load(&state, &caller, &path).await?;
    let allow = db::run(&state.pool, move |conn| {
        settings::allows_unconfirmed(conn, &project)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PayrollSettings {
        allow_unconfirmed_approval: allow,
    }))
}

/// Change the project's payroll settings (general contractor only; audited).
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path)),
    request_body = PayrollSettings,
    responses((status = 200, body = PayrollSettings), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[put("/v1/projects/{code}/payroll-settings")]
pub async fn put_settings(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !role.can_manage() {
        return Err(ApiError::forbidden(
            "only the project's general contractor changes its payroll settings",
        ));
    }
    let input: PayrollSettings = body::json(&req, &bytes)?;
    let by = caller.id();
    let allow = input.allow_unconfirmed_approval;
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        settings::set_allows_unconfirmed(conn, &project, by, allow, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PayrollSettings {
        allow_unconfirmed_approval: allow,
    }))
}
