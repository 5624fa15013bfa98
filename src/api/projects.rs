//! Projects, their subcontractors and their dedicated wage account: the
//! HTTP side of `registry::projects` and `registry::wage_account`.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::AppState;
use crate::access::{OrgKind, ProjectRole};
use crate::db::projects::Project;
use crate::db::{self};
use crate::registry::projects::{self as use_case, AttachSubcontractor, CreateProject};
use crate::registry::wage_account::{self, PutWageAccount, WageAccountResponse};
use crate::registry::ProjectView;

// The views moved to the registry; named here too for the payroll code.
pub use crate::registry::views::{OrgSummary, RegionView, WageAccountView};
pub use crate::registry::wage_account::{
    wage_account_warnings, Warning, ACCOUNT_NAME_SUFFIX, ACCOUNT_OPENING_DAYS,
};

/// Finds the project and how the caller stands to it. A caller with no
/// standing gets the same 404 as for a project that does not exist.
pub async fn load(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<(Project, ProjectRole), ApiError> {
    let code = code.to_owned();
    let org = caller.0.clone();
    Ok(db::run(&state.pool, move |conn| {
        use_case::find_for(conn, &org, &code)
    })
    .await?)
}

/// Register a project.
#[utoipa::path(
    tag = "projects",
    request_body = CreateProject,
    responses(
        (status = 201, body = ProjectView),
        (status = 409, description = "the code is taken", body = Problem),
        (status = 422, description = "a field is invalid", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects")]
pub async fn create(
    req: HttpRequest,
    bytes: body::Body,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    caller.require(&[OrgKind::Contractor, OrgKind::Admin])?;
    let input: CreateProject = body::json(&req, &bytes)?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let project = db::run(&state.pool, move |conn| {
        use_case::create(conn, &caller_org, input, now)
    })
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/v1/projects/{}", project.code)))
        .json(project))
}

/// Read a project.
#[utoipa::path(
    tag = "projects",
    params(("code" = String, Path, description = "the project's code")),
    responses((status = 200, body = ProjectView), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}")]
pub async fn get(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, _) = load(&state, &caller, &path).await?;
    let view = db::run(&state.pool, move |conn| use_case::read(conn, project)).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Attach a subcontractor to a project.
#[utoipa::path(
    tag = "projects",
    params(("code" = String, Path)),
    request_body = AttachSubcontractor,
    responses((status = 200, body = ProjectView), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/subcontractors")]
pub async fn attach_subcontractor(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = load(&state, &caller, &path).await?;
    if !role.can_manage() {
        return Err(ApiError::forbidden(
            "only the project's general contractor attaches subcontractors",
        ));
    }
    let input: AttachSubcontractor = body::json(&req, &bytes)?;
    let by = caller.id();
    let now = state.clock.now();
    let view = db::run(&state.pool, move |conn| {
        use_case::attach_subcontractor(conn, project, by, input, now)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Register or replace the project's dedicated wage account (农民工工资专用账户).
#[utoipa::path(
    tag = "projects",
    params(("code" = String, Path)),
    request_body = PutWageAccount,
    responses(
        (status = 200, description = "replaced", body = WageAccountResponse),
        (status = 201, description = "created", body = WageAccountResponse),
        (status = 409, description = "the account belongs to another project", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("api_key" = []))
)]
#[put("/v1/projects/{code}/wage-account")]
pub async fn put_wage_account(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = load(&state, &caller, &path).await?;
    if !role.can_manage() {
        return Err(ApiError::forbidden(
            "only the project's general contractor registers its account",
        ));
    }
    let input: PutWageAccount = body::json(&req, &bytes)?;
    let by = caller.id();
    let now = state.clock.now();
    let outcome = db::run(&state.pool, move |conn| {
        wage_account::put(conn, project, by, input, now)
    })
    .await?;
    Ok(if outcome.created {
        HttpResponse::Created().json(outcome.response)
    } else {
        HttpResponse::Ok().json(outcome.response)
    })
}
