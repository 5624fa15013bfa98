//! `POST /v1/projects/{code}/payrolls/{period}/approve`.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::ProjectRole;
use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::projects::{self};
use crate::api::AppState;
use crate::db::{self};
use crate::domain::Period;
use crate::payroll::{approve::*, views::*};
use crate::tabular::fields;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovePayroll {
    /// Approve only this employer's payroll; all employers' by default.
    pub employer_uscc: Option<String>,
}

/// Approve the period's current payrolls (劳资专管员审核).
///
/// Freezes the accepted lines the workers have confirmed (and, when the project's
/// `allow_unconfirmed_approval` setting is on, the unconfirmed ones, marked so):
/// they are what will be paid. Disputed lines are never approved. May be called
/// again as more workers confirm. Only the project's general contractor approves.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM")),
    request_body(content = Option<ApprovePayroll>, description = "optional; an empty body approves every employer's payroll"),
    responses(
        (status = 200, body = ApprovalResponse),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "NOTHING_TO_APPROVE", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls/{period}/approve")]
pub async fn approve(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<(String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    if role != ProjectRole::Contractor {
        return Err(ApiError::forbidden(
            "only the project's general contractor approves payrolls",
        ));
    }
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let input: ApprovePayroll = if bytes.iter().all(u8::is_ascii_whitespace) {
        ApprovePayroll::default()
    } else {
        body::json(&req, &bytes)?
    };
    let employer_uscc = input
        .employer_uscc
        .map(|u| fields::uscc("employer_uscc", &u).map(|u| u.as_str().to_owned()))
        .transpose()?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let response = db::run(&state.pool, move |conn| {
        approve_period(
            conn,
            &project,
            role,
            &caller_org,
            period,
            employer_uscc,
            now,
        )
    })
    .await?;
    Ok(HttpResponse::Ok().json(response))
}
