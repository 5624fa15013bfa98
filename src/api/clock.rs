//! `GET|PUT /v1/admin/clock`: read and move the business clock (admin keys only,
//! and only when the service runs with a simulated clock).

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::AppState;
use crate::access::OrgKind;
use crate::clock::{shanghai, Clock};
use crate::error::{AppError, ErrorCode};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// RFC 3339 with an offset; not before the clock's current time.
    #[schema(value_type = String, example = "2026-11-04T10:00:00+08:00")]
    pub now: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    /// The business time, written in China's time zone.
    #[schema(value_type = String, example = "2026-11-04T10:00:00+08:00")]
    pub now: DateTime<FixedOffset>,
    /// The business date in China (Asia/Shanghai).
    pub today: NaiveDate,
    pub simulated: bool,
}

fn view(clock: &Clock, now: DateTime<Utc>) -> ClockView {
    let local = now.with_timezone(&shanghai());
    ClockView {
        today: local.date_naive(),
        now: local,
        simulated: clock.is_simulated(),
    }
}

/// The caller is an admin and the clock is simulated.
fn may_touch(caller: &Caller, clock: &Clock) -> Result<(), ApiError> {
    caller.require(&[OrgKind::Admin])?;
    if !clock.is_simulated() {
        return Err(AppError::new(
            ErrorCode::ClockNotSimulated,
            "业务时钟为真实时钟；以 --simulated-clock（或 WAGEBRIDGE_SIMULATED_CLOCK=true）启动服务后才能读取和设置",
        )
        .into());
    }
    Ok(())
}

/// Read the simulated business clock.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, body = ClockView),
        (status = 403, description = "not an admin key, or CLOCK_NOT_SIMULATED", body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/admin/clock")]
pub async fn get_clock(
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_touch(&caller, &state.clock)?;
    Ok(HttpResponse::Ok().json(view(&state.clock, state.clock.now())))
}

/// Move the simulated business clock forward.
#[utoipa::path(
    tag = "admin",
    request_body = SetClock,
    responses(
        (status = 200, body = ClockView),
        (status = 403, description = "not an admin key, or CLOCK_NOT_SIMULATED", body = Problem),
        (status = 409, description = "CLOCK_BACKWARDS", body = Problem),
    ),
    security(("api_key" = []))
)]
#[put("/v1/admin/clock")]
pub async fn put_clock(
    req: HttpRequest,
    bytes: body::Body,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    may_touch(&caller, &state.clock)?;
    let input: SetClock = body::json(&req, &bytes)?;
    let now = state.clock.set(input.now.with_timezone(&Utc))?;
    tracing::info!(now = %now, "business clock moved");
    Ok(HttpResponse::Ok().json(view(&state.clock, now)))
}
