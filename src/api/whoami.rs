//! `GET /v1/whoami`: the calling organisation and how it authenticated, so a
//! bank can check its certificate or key before it exchanges files.

use actix_web::{get, HttpResponse};
use serde::Serialize;

use super::auth::{AuthMethod, Caller};
use super::error::ApiError;

/// The caller as the service sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WhoAmI {
    /// owner, contractor, subcontractor, bank, regulator or admin.
    pub kind: String,
    pub name: String,
    /// 统一社会信用代码.
    pub uscc: String,
    /// `key` (Authorization: Bearer) or `certificate` (a registered client certificate).
    pub authenticated_by: AuthMethod,
}

/// Who is calling, by API key or by a bank's registered client certificate.
#[utoipa::path(
    tag = "organizations",
    responses(
        (status = 200, body = WhoAmI),
        (status = 401, description = "no credential, an unknown one, or a key and a certificate of different organisations (CREDENTIALS_DISAGREE)", body = super::error::Problem),
    ),
    security(("api_key" = []), ())
)]
#[get("/v1/whoami")]
pub async fn whoami(caller: Caller) -> Result<HttpResponse, ApiError> {
    let authenticated_by = caller.authenticated_by();
    let Caller(org, _) = caller;
    Ok(HttpResponse::Ok().json(WhoAmI {
        kind: org.kind().to_string(),
        name: org.name,
        uscc: org.uscc,
        authenticated_by,
    }))
}
