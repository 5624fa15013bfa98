//! `PUT|GET /v1/bank-connections/{bank_uscc}`: an admin sets how wagebridge
//! talks to a bank (`banking::connections`; `wagebridge bank add` does the same).

use actix_web::{get, put, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::AppState;
use crate::access::OrgKind;
use crate::banking::connections::{self as use_case, ConnectionView, PutConnection};
use crate::db;

/// Set a bank's connection: dialect, transport (key files by path), bank codes (admin keys only).
///
/// A second PUT replaces the settings, bumps `revision` and rewrites the codes.
/// Directories of a file exchange are created; the certificate, key and CA of
/// an HTTPS transport must be readable PEM. Contents of key files are never stored.
#[utoipa::path(
    tag = "bank connections",
    params(("bank_uscc" = String, Path, description = "the bank's USCC")),
    request_body = PutConnection,
    responses(
        (status = 200, description = "replaced", body = ConnectionView),
        (status = 201, description = "created", body = ConnectionView),
        (status = 403, body = Problem),
        (status = 409, description = "BANK_CODE_TAKEN", body = Problem),
        (status = 422, description = "BANK_CONNECTION_INVALID (field names the file or setting), WRONG_ORGANIZATION_KIND", body = Problem),
    ),
    security(("api_key" = []))
)]
#[put("/v1/bank-connections/{bank_uscc}")]
pub async fn put_connection(
    req: HttpRequest,
    bytes: body::Body,
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[OrgKind::Admin])?;
    let input: PutConnection = body::json(&req, &bytes)?;
    let uscc = path.into_inner().trim().to_ascii_uppercase();
    let actor = caller.id();
    let now = state.clock.now();
    let outcome = db::run(&state.pool, move |conn| {
        use_case::put(conn, &uscc, Some(actor), &input, now)
    })
    .await?;
    Ok(if outcome.created {
        HttpResponse::Created().json(outcome.view)
    } else {
        HttpResponse::Ok().json(outcome.view)
    })
}

/// Read a bank's connection (admin keys only).
#[utoipa::path(
    tag = "bank connections",
    params(("bank_uscc" = String, Path, description = "the bank's USCC")),
    responses(
        (status = 200, body = ConnectionView),
        (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/bank-connections/{bank_uscc}")]
pub async fn get_connection(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[OrgKind::Admin])?;
    let uscc = path.into_inner().trim().to_ascii_uppercase();
    let view = db::run(&state.pool, move |conn| use_case::get(conn, &uscc)).await?;
    Ok(HttpResponse::Ok().json(view))
}
