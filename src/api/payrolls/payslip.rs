//! `GET /v1/projects/{code}/payrolls/{period}/payslips/{id_number}`.

use actix_web::{get, web, HttpResponse};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::projects::{self};
use crate::api::AppState;
use crate::db::{self};
use crate::domain::{Period, ResidentId};
use crate::error::AppError;
use crate::payroll::{payslip::*, read::*, views::*};

/// A worker's pay slip (工资清单) for the period, by his ID number: for the
/// general contractor, his employer, the owner and regulators. The worker
/// himself reads it with his token at `GET /v1/payslips/{token}`.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path), ("id_number" = String, Path)),
    responses((status = 200, body = PaySlip), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payrolls/{period}/payslips/{id_number}")]
pub async fn payslip(
    path: web::Path<(String, String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period, id_number) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let id_number = ResidentId::parse_on(&id_number, state.clock.today())
        .map_err(|e| ApiError::invalid_field("id_number", e.code(), e.to_string()))?;
    let caller_org = caller.0.clone();
    let slip = db::run(&state.pool, move |conn| {
        let all = visible_payrolls(conn, &project, role, &caller_org, period, None)?;
        for (payroll, _) in pick_revisions(all, None) {
            if let Some(state) =
                db::payrolls::line_state_of_worker(conn, payroll.id, id_number.as_str())?
            {
                return pay_slip(conn, &project, &payroll, &state);
            }
        }
        Err(AppError::not_found(format!(
            "a payroll line of this worker for {period}"
        )))
    })
    .await?;
    Ok(HttpResponse::Ok().json(slip))
}
