//! `POST /v1/projects/{code}/payrolls/{period}/disburse`, with `Idempotency-Key`.

use actix_web::http::header;
use actix_web::{post, web, HttpRequest, HttpResponse};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::payrolls::submit::{idempotency_key, replay};
use crate::api::projects;
use crate::api::AppState;
use crate::banking::disburse::{
    self as use_case, create::Request, views::DisbursementCreated, Outcome,
};
use crate::error::AppError;
use crate::payroll::submit::{parse_period, IdempotencyKey};

/// Disburse the period's approved payroll lines (代发) as one bank batch.
///
/// Takes every approved line of the period's current payrolls that is not
/// paid or in flight, pays it to the worker's card on the project's roster
/// now, and commits the batch, its bank file and its outbox entry together.
/// When the account's available balance does not cover it, the batch is
/// `held` (`INSUFFICIENT_BALANCE`, with the figures) until a statement covers
/// it or the contractor releases it. Lines without a card on the roster are
/// listed in `skipped`. Called again after rejected cards were corrected, it
/// makes a new batch of only those lines, linked to the one before.
#[utoipa::path(
    tag = "disbursements",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM"),
        ("Idempotency-Key" = Option<String>, Header, description = "the same key with the same request returns the first answer")),
    responses(
        (status = 201, body = DisbursementCreated),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "NOTHING_TO_DISBURSE, NO_WAGE_ACCOUNT, BANK_NOT_CONNECTED, IDEMPOTENCY_KEY_IN_USE", body = Problem),
        (status = 422, description = "bad period, IDEMPOTENCY_KEY_REUSED", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls/{period}/disburse")]
pub async fn disburse(
    req: HttpRequest,
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    super::require_contractor(role)?;
    let period = parse_period(&period, state.clock.today())?;
    let key = idempotency_key(&req)?.map(|key| IdempotencyKey {
        key,
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
    });
    let caller_org = caller.0.clone();
    let (now, today) = (state.clock.now(), state.clock.today());
    let pool = state.pool.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        let request = Request {
            project: &project,
            caller: &caller_org,
            period,
            now,
            today,
        };
        use_case::disburse(&pool, &request, key.as_ref(), render_refusal)
    })
    .await
    .map_err(|_| AppError::Invariant("the disbursement task ended without an answer"))??;
    Ok(match outcome {
        Outcome::Replayed { status, body } => replay(status, body),
        Outcome::Created(body) => {
            let mut response = HttpResponse::Created();
            if let Some(href) = body.get("href").and_then(|h| h.as_str()) {
                response.insert_header((header::LOCATION, href.to_owned()));
            }
            response.json(body)
        }
    })
}

fn render_refusal(p: &crate::error::Problem) -> serde_json::Value {
    let e = ApiError::from(AppError::Problem(p.clone()));
    serde_json::to_value(e.problem()).unwrap_or_default()
}
