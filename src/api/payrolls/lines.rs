//! `POST /v1/projects/{code}/payrolls/{period}/lines/{line}/token` and
//! `.../paper-confirmation`: the general contractor's actions on one worker's line.

use actix_web::{post, web, HttpRequest, HttpResponse};
use diesel::Connection;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::query;
use crate::access::ProjectRole;
use crate::api::auth::Caller;
use crate::api::body;
use crate::api::error::{ApiError, Problem};
use crate::api::projects;
use crate::api::AppState;
use crate::db;
use crate::domain::Period;
use crate::payroll::lines::{self, LineRef, PaperConfirmation, TokenReissued};
use crate::tabular::fields;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LineQuery {
    /// The employer whose payroll the line is in; needed when more than one has a payroll that month.
    pub employer_uscc: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPaper {
    /// Where the signed sheet is filed (e.g. its number in the site office's binder).
    #[schema(example = "2026-10 工资表 第3页")]
    pub sheet_reference: String,
}

/// Parses what both actions share and checks that the caller is the general contractor.
async fn line_ref_parts(
    req: &HttpRequest,
    path: (String, String, String),
    caller: &Caller,
    state: &AppState,
) -> Result<
    (
        crate::db::projects::Project,
        ProjectRole,
        Period,
        Option<String>,
        String,
    ),
    ApiError,
> {
    let (code, period, line_no) = path;
    let (project, role) = projects::load(state, caller, &code).await?;
    if role != ProjectRole::Contractor {
        return Err(ApiError::forbidden(
            "only the project's general contractor (its labour officer) acts on a worker's line",
        ));
    }
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let q: LineQuery = query(req)?;
    let employer_uscc = q
        .employer_uscc
        .map(|u| fields::uscc("employer_uscc", &u).map(|u| u.as_str().to_owned()))
        .transpose()?;
    Ok((project, role, period, employer_uscc, line_no))
}

/// The line number of the path, read once the caller and the body are known,
/// so a caller learns nothing from the path before he may act.
fn line_number(text: &str) -> Result<i32, ApiError> {
    match text.parse() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(ApiError::not_found(format!(
            "line {}",
            text.chars().take(12).collect::<String>()
        ))),
    }
}

/// Re-issue a worker's confirmation link.
///
/// The line's current token stops working at once; a new one is sent to the
/// phone on the roster with the dispatcher's next round. General contractor only; audited.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM"),
        ("line" = i32, Path, description = "the line number in the current revision"), LineQuery),
    responses(
        (status = 202, body = TokenReissued),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "LINE_NOT_ACCEPTED", body = Problem),
        (status = 422, description = "MISSING_FIELD employer_uscc", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls/{period}/lines/{line}/token")]
pub async fn reissue_token(
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role, period, employer_uscc, line_no) =
        line_ref_parts(&req, path.into_inner(), &caller, &state).await?;
    let line_no = line_number(&line_no)?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let answer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let r = LineRef {
                project: &project,
                role,
                caller: &caller_org,
                period,
                employer_uscc: employer_uscc.as_deref(),
                line_no,
            };
            lines::reissue(conn, &r, now)
        })
    })
    .await?;
    Ok(HttpResponse::Accepted().json(answer))
}

/// Record a worker's signature on the paper payroll sheet as his confirmation.
///
/// Channel `paper`, marked with the labour officer's organisation and the
/// sheet's reference. A line is answered once. General contractor only; audited.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM"),
        ("line" = i32, Path, description = "the line number in the current revision"), LineQuery),
    request_body = RecordPaper,
    responses(
        (status = 201, body = PaperConfirmation),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "ALREADY_ANSWERED or LINE_NOT_ACCEPTED", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls/{period}/lines/{line}/paper-confirmation")]
pub async fn paper_confirmation(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<(String, String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role, period, employer_uscc, line_no) =
        line_ref_parts(&req, path.into_inner(), &caller, &state).await?;
    let input: RecordPaper = body::json(&req, &bytes)?;
    let sheet = fields::optional_text("sheet_reference", Some(&input.sheet_reference), 200)?
        .ok_or_else(|| {
            ApiError::invalid_field(
                "sheet_reference",
                "MISSING_FIELD",
                "say where the signed sheet is filed",
            )
        })?;
    let line_no = line_number(&line_no)?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let answer = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let r = LineRef {
                project: &project,
                role,
                caller: &caller_org,
                period,
                employer_uscc: employer_uscc.as_deref(),
                line_no,
            };
            lines::record_paper(conn, &r, &sheet, now)
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(answer))
}
