//! `POST /v1/organizations`: an admin registers owners, contractors,
//! subcontractors, banks and regulators (`registry::organizations`; the
//! command line's `wagebridge org add` does the same).

use actix_web::{post, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::AppState;
use crate::access::OrgKind;
use crate::db;
use crate::registry::organizations::{self as use_case, CreateOrganization};

pub use crate::registry::organizations::{OrganizationInput, OrganizationView};

/// Register an organisation (admin keys only).
#[utoipa::path(
    tag = "organizations",
    request_body = CreateOrganization,
    responses(
        (status = 201, body = OrganizationView),
        (status = 403, body = Problem),
        (status = 409, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/organizations")]
pub async fn create(
    req: HttpRequest,
    bytes: body::Body,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[OrgKind::Admin])?;
    let input: CreateOrganization = body::json(&req, &bytes)?;
    let actor = caller.id();
    let now = state.clock.now();
    let org = db::run(&state.pool, move |conn| {
        use_case::create(conn, actor, input, now)
    })
    .await?;
    Ok(HttpResponse::Created().json(org))
}
