//! `POST /v1/projects/{code}/payrolls`, with `Idempotency-Key` replays.

use actix_web::http::{header, StatusCode};
use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::query;
use crate::access::ProjectRole;
use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::fields::{self};
use crate::api::projects::{self};
use crate::api::spreadsheet::{self};
use crate::api::tabular::{self};
use crate::api::AppState;
use crate::db::projects::Project;
use crate::db::{self, idempotency};
use crate::payroll::{submit::*, views::*};

/// A JSON submission. CSV and XLSX bodies carry only the lines; `period`
/// (and `employer_uscc`) then go in the query string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitPayroll {
    /// `YYYY-MM`.
    #[schema(example = "2026-10")]
    pub period: Option<String>,
    /// The employer whose payroll this is: a subcontractor's own USCC, or
    /// for the general contractor its own (the default) or an attached subcontractor's.
    pub employer_uscc: Option<String>,
    /// Lines: `id_number`, `name`, `card_number`, `days_worked`, `hours`,
    /// `gross` (or items `base_pay`, `piece_pay`, `overtime_pay`, `bonus`, `allowance`),
    /// `deductions` (or items `social_insurance`, `housing_fund`, `income_tax`,
    /// `advance`, `other_deductions`), `net`. Amounts as strings ("5500.00") or numbers.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
}

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
    let key = idempotency_key(&req)?;
    if let Some(key) = &key {
        let hash = idempotency::request_hash(&[
            req.method().as_str().as_bytes(),
            req.path().as_bytes(),
            req.query_string().as_bytes(),
            body::media_type(&req).as_bytes(),
            &bytes,
        ]);
        let (org, key, now) = (caller.id(), key.clone(), state.clock.now());
        let claim = db::run(&state.pool, move |conn| {
            idempotency::claim(conn, org, &key, &hash, now)
        })
        .await?;
        match claim {
            idempotency::Claim::Fresh => {}
            idempotency::Claim::Replay { status, body } => return Ok(replay(status, body)),
            idempotency::Claim::Mismatch => {
                return Err(ApiError::invalid_field(
                    "Idempotency-Key",
                    "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used for a different request; use a new key for a new request",
                ))
            }
            idempotency::Claim::Running => {
                return Err(ApiError::conflict(
                    "IDEMPOTENCY_KEY_IN_USE",
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                ))
            }
        }
    }

    let result = submit_claimed(&req, &bytes, project, role, &caller, &state, key.clone()).await;
    if let Some(key) = key {
        // A success was recorded with the payroll, in its transaction.
        if let Err(e) = &result {
            let (org, status, body) = (
                caller.id(),
                e.status,
                serde_json::to_value(e.problem()).unwrap_or_default(),
            );
            let now = state.clock.now();
            let recorded = db::run(&state.pool, move |conn| {
                if status.is_client_error() {
                    idempotency::complete(conn, org, &key, status.as_u16(), &body, now)
                } else {
                    idempotency::release(conn, org, &key)
                }
            })
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "recording the idempotent answer");
            }
        }
    }
    let body = result?;
    let mut response = HttpResponse::Created();
    if let Some(href) = body.get("href").and_then(|h| h.as_str()) {
        response.insert_header((header::LOCATION, href.to_owned()));
    }
    Ok(response.json(body))
}

pub(crate) async fn submit_claimed(
    req: &HttpRequest,
    bytes: &[u8],
    project: Project,
    role: ProjectRole,
    caller: &Caller,
    state: &AppState,
    idempotency_key: Option<String>,
) -> Result<serde_json::Value, ApiError> {
    let q: SubmitQuery = query(req)?;
    let media = body::media_type(req);
    let (period, employer_uscc, rows, source_format) = if body::is_json(&media) {
        let input: SubmitPayroll = body::parse_json(bytes)?;
        let period = match (input.period, q.period) {
            (Some(a), Some(b)) if a.trim() != b.trim() => {
                return Err(ApiError::invalid_field(
                    "period",
                    "PERIOD_MISMATCH",
                    "the body and the query string name different periods",
                ))
            }
            (a, b) => a.or(b),
        };
        let rows = tabular::rows_from_json_items(input.lines, COLUMNS);
        (
            period,
            input.employer_uscc.or(q.employer_uscc),
            rows,
            "json",
        )
    } else {
        let rows = tabular::read_rows(req, bytes, COLUMNS, "lines")?;
        let format = if spreadsheet::is_spreadsheet(&media) {
            "xlsx"
        } else {
            "csv"
        };
        (q.period, q.employer_uscc, rows, format)
    };
    let period = period.ok_or_else(|| {
        ApiError::invalid_field(
            "period",
            "MISSING_FIELD",
            "period (YYYY-MM) is required: in the JSON body, or as ?period= with CSV and XLSX",
        )
    })?;
    let period = parse_period(&period, state.clock.today())?;
    let employer_uscc = employer_uscc
        .map(|u| fields::uscc("employer_uscc", &u).map(|u| u.as_str().to_owned()))
        .transpose()?;
    if rows.is_empty() {
        return Err(ApiError::invalid_field(
            "lines",
            "NO_LINES",
            "the payroll has no lines",
        ));
    }
    let lines: Vec<Submitted> = rows.iter().map(parse_line).collect();
    let submission = Submission {
        project,
        employer_uscc,
        period,
        source_format,
        lines,
        caller: caller.0.clone(),
        role,
        idempotency_key,
        now: state.clock.now(),
    };
    Ok(db::run(&state.pool, move |conn| store_submission(conn, submission)).await?)
}
