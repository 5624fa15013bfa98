//! `POST /v1/projects/{code}/disbursements/{id}/release`.

use actix_web::{post, web, HttpResponse};

use crate::api::auth::Caller;
use crate::api::error::{ApiError, Problem};
use crate::api::projects;
use crate::api::AppState;
use crate::banking::disburse::release as use_case;
use crate::banking::disburse::views::BatchView;
use crate::db;

/// Release a held batch by hand: the general contractor says the money is
/// there. Recorded with its name and the note `released by hand`.
#[utoipa::path(
    tag = "disbursements",
    params(("code" = String, Path), ("id" = i64, Path)),
    responses(
        (status = 200, body = BatchView),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "DISBURSEMENT_NOT_HELD", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/disbursements/{id}/release")]
pub async fn release(
    caller: Caller,
    path: web::Path<(String, String)>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, id) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let id = super::batch_id(&id)?;
    super::require_contractor(role)?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let view = db::run(&state.pool, move |conn| {
        use_case::release_by_hand(conn, &project, &caller_org, id, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
