//! `POST /v1/projects/{code}/payrolls`, with `Idempotency-Key` replays: the
//! handler extracts and authorises; [`crate::payroll::submit`] does the rest.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

use super::query;
use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::projects::{self};
use crate::api::AppState;
use crate::error::AppError;
use crate::payroll::submit::{self as use_case, may_submit, IdempotencyKey, Outcome};
use crate::payroll::views::*;

pub use crate::payroll::submit::SubmitPayroll;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// `YYYY-MM`; required for CSV and XLSX bodies.
    pub period: Option<String>,
    pub employer_uscc: Option<String>,
}

pub(crate) fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ApiError::bad_request(
            "INVALID_IDEMPOTENCY_KEY",
            "Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice)",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// The answer stored under an idempotency key, sent again.
pub(crate) fn replay(status: u16, body: serde_json::Value) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header(("Idempotent-Replayed", "true"));
    if status.is_client_error() || status.is_server_error() {
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
    } else {
        response.content_type("application/json");
        if let Some(href) = body.get("href").and_then(|h| h.as_str()) {
            response.insert_header((header::LOCATION, href.to_owned()));
        }
    }
    response.body(body.to_string())
}

/// Submit a monthly payroll (工资支付表) for matching.
///
/// JSON: `{"period": "2026-10", "employer_uscc": "...", "lines": [...]}`. CSV or XLSX: the
/// lines as a table with English keys or the Chinese headers of a usual 工资表 (姓名,
/// 身份证号, 银行卡号, 出勤天数, 应发工资, 扣款, 实发工资; a title row above the header
/// and a 合计 row are fine in XLSX), with `?period=YYYY-MM`. Every line comes back
/// accepted or rejected with stable reason codes; each accepted line's worker is sent
/// his confirmation link by SMS (never in this answer). A later submission for the same
/// employer and period is a new revision. With `Idempotency-Key`, a retry of the same
/// request gets the first answer again.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), SubmitQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; the same key with the same request returns the first answer")),
    request_body(content = SubmitPayroll, description = "application/json; or text/csv, or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet with ?period="),
    responses(
        (status = 201, description = "stored as a new revision, every line matched", body = SubmissionView),
        (status = 400, description = "unreadable body, missing column", body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "PAYROLL_APPROVED, or IDEMPOTENCY_KEY_IN_USE while the first request runs", body = Problem),
        (status = 415, body = Problem),
        (status = 422, description = "bad or future period, IDEMPOTENCY_KEY_REUSED with another request", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls")]
pub async fn submit(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !may_submit(role) {
        return Err(ApiError::forbidden(
            "only the general contractor and its subcontractors submit payrolls",
        ));
    }
    let idempotency_key = idempotency_key(&req)?.map(|key| IdempotencyKey {
        key,
        method: req.method().as_str().to_owned(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
    });
    let q: SubmitQuery = query(&req)?;
    let input = use_case::SubmitInput {
        project,
        role,
        caller: caller.0.clone(),
        body: use_case::Body {
            media_type: body::media_type(&req),
            charset: body::charset(&req),
            bytes: bytes.0.to_vec(),
            query_period: q.period,
            query_employer_uscc: q.employer_uscc,
        },
        idempotency_key,
        now: state.clock.now(),
        today: state.clock.today(),
        render_refusal,
    };
    let pool = state.pool.clone();
    let outcome = tokio::task::spawn_blocking(move || use_case::submit(&pool, input))
        .await
        .map_err(|_| AppError::Invariant("the submission task ended without an answer"))??;
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

/// A refusal as its problem+json body, the same as [`ApiError`] answers it.
fn render_refusal(p: &crate::error::Problem) -> serde_json::Value {
    let e = ApiError::from(AppError::Problem(p.clone()));
    serde_json::to_value(e.problem()).unwrap_or_default()
}
