//! 本人签字确认: the worker confirms or disputes his payroll line with the
//! token he was sent by SMS (the link `{public_url}/w/{token}`), and reads his
//! pay slip with it. No API key: the token is the credential. It is 256
//! random bits, stored only as a SHA-256 hash, answers a line once, expires,
//! and stops working when the general contractor has a new one sent. Every
//! token endpoint is rate-limited per client address.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::body;
use super::error::{ApiError, Problem};
use super::payrolls::{self, ConfirmationView, PaySlip, CHANNELS};
use super::AppState;
use crate::db::{self, audit};
use crate::error::{AppError, ErrorCode};
use crate::payroll::tokens::{self, TokenLine};
use crate::tabular::fields;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmLine {
    /// `confirm` (the default) or `dispute`.
    #[schema(example = "confirm")]
    pub action: Option<String>,
    /// How the worker answered: `sms`, `wechat`, `app`, `web` or `kiosk`
    /// (`paper` is recorded by the labour officer, not with the token).
    #[schema(example = "wechat")]
    pub channel: String,
    /// Required to dispute: what is wrong with the line.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationResponse {
    pub project: String,
    pub period: String,
    pub line: i32,
    pub confirmation: ConfirmationView,
}

/// A token as the path gives it; anything not shaped like one is simply not found.
fn token_from_path(token: &str) -> Result<&str, ApiError> {
    let ok = (20..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(token)
    } else {
        Err(ApiError::not_found("the confirmation link"))
    }
}

/// Confirm (or dispute) one's payroll line.
///
/// Records the time and channel. Works once per line: a second answer is a 409.
/// A line of a payroll that has since been revised cannot be answered (409
/// `LINE_SUPERSEDED`): the worker gets a new link for the new revision.
#[utoipa::path(
    tag = "confirmations",
    params(("token" = String, Path, description = "the confirmation token sent to the worker")),
    request_body = ConfirmLine,
    responses(
        (status = 200, body = ConfirmationResponse),
        (status = 404, description = "no such token", body = Problem),
        (status = 409, description = "ALREADY_ANSWERED or LINE_SUPERSEDED", body = Problem),
        (status = 410, description = "TOKEN_EXPIRED", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "RATE_LIMITED, with Retry-After", body = Problem),
    )
)]
#[post("/v1/confirmations/{token}")]
pub async fn confirm(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if let Some(limited) = state.token_limiter.check(&req) {
        return Ok(limited);
    }
    let hash = payrolls::token_hash(token_from_path(&path)?);
    let input: ConfirmLine = body::json(&req, &bytes)?;
    let action = match input.action.as_deref().map(str::trim) {
        None | Some("confirm") | Some("confirmed") => "confirmed",
        Some("dispute") | Some("disputed") => "disputed",
        Some(_) => {
            return Err(ApiError::invalid_field(
                "action",
                "INVALID_FIELD",
                "action must be confirm or dispute",
            ))
        }
    };
    let channel = input.channel.trim().to_ascii_lowercase();
    let worker_channels: Vec<&str> = CHANNELS.iter().copied().filter(|c| *c != "paper").collect();
    if !worker_channels.contains(&channel.as_str()) {
        return Err(ApiError::invalid_field(
            "channel",
            "INVALID_FIELD",
            format!(
                "channel must be one of {} (a signed paper sheet is recorded by the labour officer)",
                worker_channels.join(", ")
            ),
        ));
    }
    let reason = fields::optional_text("reason", input.reason.as_deref(), 500)?;
    if action == "disputed" && reason.is_none() {
        return Err(ApiError::invalid_field(
            "reason",
            "MISSING_FIELD",
            "say what is wrong with the line to dispute it",
        ));
    }

    let now = state.clock.now();
    let answer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let TokenLine { line, payroll, .. } = valid_token(conn, &hash, now, "the confirmation link")?;
            if let Some(existing) = &line.confirmation {
                return Err(already_answered(existing));
            }
            let latest = db::payrolls::latest_revision(
                conn,
                payroll.project_id,
                payroll.employer_id,
                &payroll.period,
            )?;
            if latest != payroll.revision {
                return Err(AppError::new(
                    ErrorCode::LineSuperseded,
                    format!(
                        "this line belongs to revision {} of the {} payroll, which has been replaced by revision {latest}; use the link sent for the new revision",
                        payroll.revision, payroll.period
                    ),
                ));
            }
            let Some(recorded) = db::payrolls::confirm(
                conn,
                line.line.id,
                action,
                &channel,
                reason.as_deref(),
                now,
            )?
            else {
                // Answered at the same moment by another request.
                return Err(AppError::new(
                    ErrorCode::AlreadyAnswered,
                    "this line has already been answered",
                ));
            };
            audit::record(
                conn,
                now,
                None,
                "payroll_line",
                Some(line.line.id),
                action,
                serde_json::json!({ "channel": recorded.channel, "payroll_id": payroll.id }),
            )?;
            let project = db::payrolls::project(conn, payroll.project_id)?
                .map(|p| p.code)
                .unwrap_or_default();
            Ok(ConfirmationResponse {
                project,
                period: payroll.period,
                line: line.line.line_no,
                confirmation: ConfirmationView {
                    state: action,
                    channel: Some(recorded.channel),
                    at: Some(recorded.at),
                    reason: recorded.reason,
                },
            })
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(answer))
}

fn already_answered(existing: &db::payrolls::Confirmation) -> AppError {
    AppError::new(
        ErrorCode::AlreadyAnswered,
        format!(
            "this line was already {} on {} (via {}); a line is answered once",
            existing.action,
            existing.at.format("%Y-%m-%d %H:%M UTC"),
            existing.channel
        ),
    )
}

/// The line whose current token this is, unless it has expired.
fn valid_token(
    conn: &mut diesel::PgConnection,
    hash: &[u8],
    now: chrono::DateTime<chrono::Utc>,
    what: &str,
) -> Result<TokenLine, AppError> {
    let Some(found) = tokens::find_by_hash(conn, hash)? else {
        return Err(AppError::not_found(what));
    };
    match found.expires_at {
        Some(expires) if expires > now => Ok(found),
        _ => Err(AppError::new(
            ErrorCode::TokenExpired,
            "此链接已过期；请联系总包单位劳资专管员重新发送。this link has expired; the general contractor can have a new one sent",
        )),
    }
}

/// The worker's pay slip (工资清单), read with his confirmation token.
#[utoipa::path(
    tag = "confirmations",
    params(("token" = String, Path)),
    responses(
        (status = 200, body = PaySlip), (status = 404, body = Problem),
        (status = 410, description = "TOKEN_EXPIRED", body = Problem),
        (status = 429, description = "RATE_LIMITED, with Retry-After", body = Problem),
    )
)]
#[get("/v1/payslips/{token}")]
pub async fn payslip(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    slip_answer(&req, &path, &state).await
}

/// The link the worker is sent: his pay slip, as at `/v1/payslips/{token}`;
/// he answers it with `POST /v1/confirmations/{token}`.
#[utoipa::path(
    tag = "confirmations",
    params(("token" = String, Path, description = "the token of the link sent to the worker")),
    responses(
        (status = 200, body = PaySlip), (status = 404, body = Problem),
        (status = 410, description = "TOKEN_EXPIRED", body = Problem),
        (status = 429, description = "RATE_LIMITED, with Retry-After", body = Problem),
    )
)]
#[get("/w/{token}")]
pub async fn worker_link(
    req: HttpRequest,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    slip_answer(&req, &path, &state).await
}

async fn slip_answer(
    req: &HttpRequest,
    token: &str,
    state: &AppState,
) -> Result<HttpResponse, ApiError> {
    if let Some(limited) = state.token_limiter.check(req) {
        return Ok(limited);
    }
    let hash = payrolls::token_hash(token_from_path(token)?);
    let now = state.clock.now();
    let slip = db::run(&state.pool, move |conn| {
        let TokenLine { line, payroll, .. } = valid_token(conn, &hash, now, "the pay slip")?;
        let Some(project) = db::payrolls::project(conn, payroll.project_id)? else {
            return Err(AppError::not_found("the pay slip"));
        };
        payrolls::pay_slip(conn, &project, &payroll, &line)
    })
    .await?;
    Ok(HttpResponse::Ok().json(slip))
}
