//! Projects, their subcontractors and their dedicated wage account.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::fields::{self, Text};
use super::AppState;
use crate::access::{OrgKind, ProjectRole};
use crate::db::organizations::Organization;
use crate::db::projects::{NewProject, Project, WageAccount, WageAccountForm};
use crate::db::{self, audit};
use crate::domain::{RegionCode, Regions};
use crate::error::{AppError, ErrorCode};

/// Finds the project and how the caller stands to it. A caller with no
/// standing gets the same 404 as for a project that does not exist.
pub async fn load(
    state: &AppState,
    caller: &Caller,
    code: &str,
) -> Result<(Project, ProjectRole), ApiError> {
    let code = code.to_owned();
    let org = caller.0.clone();
    let found = db::run(&state.pool, move |conn| {
        let Some(project) = db::projects::find_by_code(conn, &code)? else {
            return Ok::<_, AppError>(None);
        };
        Ok(db::projects::role_of(conn, &org, &project)?.map(|role| (project, role)))
    })
    .await?;
    found.ok_or_else(|| ApiError::not_found("the project"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    /// Your code for the project, used in every URL (letters, digits, `-`, `_`, `.`).
    #[schema(example = "WH-2026-001")]
    pub code: String,
    #[schema(example = "光谷科创中心一期")]
    pub name: String,
    /// GB/T 2260 region code of the site.
    #[schema(example = "420111")]
    pub region_code: String,
    /// 建设单位: the owner's USCC; the owner must be registered.
    pub owner_uscc: String,
    /// 施工总承包单位: defaults to the calling contractor; required for an admin.
    pub contractor_uscc: Option<String>,
    pub contract_amount: Text,
    /// YYYY-MM-DD.
    pub contract_signed_on: String,
    /// Labour-cost share of each progress payment, in percent (e.g. 25).
    pub labour_cost_share_percent: Text,
    /// Day of the month by which the owner pays labour cost in.
    pub labour_cost_due_day: i64,
    /// Day of the month wages are paid.
    pub payday: i64,
    pub planned_start_on: String,
    pub planned_end_on: String,
    /// Local monthly minimum wage; defaults to the province's published figure.
    pub minimum_monthly_wage: Option<Text>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSummary {
    pub uscc: String,
    pub name: String,
}

impl From<&Organization> for OrgSummary {
    fn from(o: &Organization) -> Self {
        OrgSummary {
            uscc: o.uscc.clone(),
            name: o.name.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionView {
    pub code: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WageAccountView {
    pub bank_code: String,
    pub account_number: String,
    pub account_name: String,
    pub opened_on: NaiveDate,
    pub updated_at: DateTime<Utc>,
}

impl From<WageAccount> for WageAccountView {
    fn from(a: WageAccount) -> Self {
        WageAccountView {
            bank_code: a.bank_code,
            account_number: a.account_number,
            account_name: a.account_name,
            opened_on: a.opened_on,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectView {
    pub code: String,
    pub name: String,
    pub region: RegionView,
    pub owner: OrgSummary,
    pub contractor: OrgSummary,
    pub subcontractors: Vec<OrgSummary>,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub contract_amount: Decimal,
    pub contract_signed_on: NaiveDate,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub labour_cost_share_percent: Decimal,
    pub labour_cost_due_day: i16,
    pub payday: i16,
    pub planned_start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub minimum_monthly_wage: Decimal,
    pub wage_account: Option<WageAccountView>,
    pub created_at: DateTime<Utc>,
}

/// A rule the request breaks that the law cares about but that does not stop it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

fn view(conn: &mut diesel::PgConnection, project: Project) -> Result<ProjectView, AppError> {
    let owner = db::organizations::find_by_id(conn, project.owner_id)?;
    let contractor = db::organizations::find_by_id(conn, project.contractor_id)?;
    let (Some(owner), Some(contractor)) = (owner, contractor) else {
        return Err(AppError::Invariant(
            "a project's owner and contractor exist",
        ));
    };
    let subcontractors = db::projects::subcontractors(conn, project.id)?;
    let account = db::projects::wage_account(conn, project.id)?;
    Ok(ProjectView {
        region: RegionView {
            name: RegionCode::parse(&project.region_code)
                .ok()
                .and_then(|c| Regions::get().name(&c).map(str::to_owned)),
            code: project.region_code,
        },
        owner: (&owner).into(),
        contractor: (&contractor).into(),
        subcontractors: subcontractors.iter().map(OrgSummary::from).collect(),
        wage_account: account.map(Into::into),
        code: project.code,
        name: project.name,
        contract_amount: project.contract_amount,
        contract_signed_on: project.contract_signed_on,
        labour_cost_share_percent: project.labour_cost_share_percent,
        labour_cost_due_day: project.labour_cost_due_day,
        payday: project.payday,
        planned_start_on: project.planned_start_on,
        planned_end_on: project.planned_end_on,
        minimum_monthly_wage: project.minimum_monthly_wage,
        created_at: project.created_at,
    })
}

/// The registered organisation with this USCC, if it is of the wanted kind;
/// otherwise the problem to answer, naming `field`.
fn registered(
    conn: &mut diesel::PgConnection,
    uscc: &str,
    kind: OrgKind,
    field: &'static str,
) -> Result<Organization, AppError> {
    match db::organizations::find_by_uscc(conn, uscc)? {
        Some(org) if org.kind() == kind => Ok(org),
        Some(org) => Err(AppError::field(
            field,
            ErrorCode::WrongOrganizationKind,
            format!(
                "this organisation is a {}, not {} {kind}",
                org.kind(),
                if kind == OrgKind::Owner { "an" } else { "a" }
            ),
        )),
        None => Err(AppError::field(
            field,
            ErrorCode::UnknownOrganization,
            "no organisation with this USCC is registered",
        )),
    }
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

    let code = input.code.trim().to_owned();
    if code.is_empty()
        || code.len() > 64
        || !code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        || !code.starts_with(|c: char| c.is_ascii_alphanumeric())
    {
        return Err(ApiError::invalid_field(
            "code",
            "INVALID_PROJECT_CODE",
            "code must be 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        ));
    }
    let name = fields::text("name", &input.name, 200)?;
    let region = fields::region("region_code", &input.region_code)?;
    let owner_uscc = fields::uscc("owner_uscc", &input.owner_uscc)?;
    let contractor_uscc = match (&input.contractor_uscc, caller.kind()) {
        (Some(u), _) => Some(fields::uscc("contractor_uscc", u)?),
        (None, OrgKind::Admin) => {
            return Err(ApiError::invalid_field(
                "contractor_uscc",
                "MISSING_FIELD",
                "an admin must name the general contractor",
            ))
        }
        (None, _) => None,
    };
    if caller.kind() == OrgKind::Contractor {
        if let Some(u) = &contractor_uscc {
            if u.as_str() != caller.0.uscc {
                return Err(
                    ApiError::forbidden("a contractor registers projects only for itself")
                        .with_field("contractor_uscc"),
                );
            }
        }
    }
    let contract_amount = fields::positive_money("contract_amount", &input.contract_amount.0)?;
    let contract_signed_on = fields::date("contract_signed_on", &input.contract_signed_on)?;
    let share = fields::decimal(
        "labour_cost_share_percent",
        &input.labour_cost_share_percent.0,
        2,
        Decimal::new(1, 2),
        Decimal::ONE_HUNDRED,
    )?;
    let labour_cost_due_day =
        fields::day_of_month("labour_cost_due_day", input.labour_cost_due_day)?;
    let payday = fields::day_of_month("payday", input.payday)?;
    let planned_start_on = fields::date("planned_start_on", &input.planned_start_on)?;
    let planned_end_on = fields::date("planned_end_on", &input.planned_end_on)?;
    if planned_end_on < planned_start_on {
        return Err(ApiError::invalid_field(
            "planned_end_on",
            "END_BEFORE_START",
            "planned_end_on is before planned_start_on",
        ));
    }
    let minimum_monthly_wage = match &input.minimum_monthly_wage {
        Some(v) => fields::positive_money("minimum_monthly_wage", &v.0)?,
        None => crate::domain::minimum_wage::monthly_minimum_wage(&region, contract_signed_on)
            .map(|w| w.monthly.as_decimal())
            .ok_or_else(|| {
                ApiError::invalid_field(
                    "minimum_monthly_wage",
                    "MISSING_FIELD",
                    "no published minimum wage is known for this region; give minimum_monthly_wage",
                )
            })?,
    };

    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let project = db::run(&state.pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            let owner = registered(conn, owner_uscc.as_str(), OrgKind::Owner, "owner_uscc")?;
            let contractor = match &contractor_uscc {
                Some(u) => registered(conn, u.as_str(), OrgKind::Contractor, "contractor_uscc")?,
                None => caller_org.clone(),
            };
            let new = NewProject {
                code: &code,
                name: &name,
                region_code: region.as_str(),
                owner_id: owner.id,
                contractor_id: contractor.id,
                contract_amount,
                contract_signed_on,
                labour_cost_share_percent: share,
                labour_cost_due_day,
                payday,
                planned_start_on,
                planned_end_on,
                minimum_monthly_wage,
                created_by: caller_org.id,
                created_at: now,
            };
            let Some(project) = db::projects::insert(conn, &new)? else {
                return Err(AppError::field(
                    "code",
                    ErrorCode::ProjectCodeTaken,
                    format!("a project with code {code:?} already exists"),
                ));
            };
            audit::record(
                conn,
                now,
                Some(caller_org.id),
                "project",
                Some(project.id),
                "created",
                serde_json::json!({ "code": project.code }),
            )?;
            view(conn, project)
        })
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
    let view = db::run(&state.pool, move |conn| view(conn, project)).await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachSubcontractor {
    /// The subcontractor's USCC; it must be registered as a subcontractor.
    pub uscc: String,
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
    let uscc = fields::uscc("uscc", &input.uscc)?;
    let by = caller.id();
    let now = state.clock.now();
    let view = db::run(&state.pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            let sub = registered(conn, uscc.as_str(), OrgKind::Subcontractor, "uscc")?;
            if db::projects::attach_subcontractor(conn, project.id, sub.id, by, now)? {
                audit::record(
                    conn,
                    now,
                    Some(by),
                    "project",
                    Some(project.id),
                    "subcontractor_attached",
                    serde_json::json!({ "uscc": sub.uscc }),
                )?;
            }
            view(conn, project)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutWageAccount {
    /// The bank's code (e.g. CNAPS bank code or a short name agreed with wagebridge).
    #[schema(example = "102")]
    pub bank_code: String,
    #[schema(example = "3202000119200012345")]
    pub account_number: String,
    /// Should read: general contractor + project name + 农民工工资专用账户.
    pub account_name: String,
    /// YYYY-MM-DD.
    pub opened_on: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WageAccountResponse {
    pub wage_account: WageAccountView,
    /// Rules of the 专户办法 this account does not meet (it is stored all the same).
    pub warnings: Vec<Warning>,
}

/// The suffix the law asks every dedicated account name to end with.
pub const ACCOUNT_NAME_SUFFIX: &str = "农民工工资专用账户";
/// The account must be opened within this many days of the contract.
pub const ACCOUNT_OPENING_DAYS: i64 = 30;

/// The warnings a dedicated account deserves under the 专户办法.
pub fn wage_account_warnings(
    contractor_name: &str,
    project_name: &str,
    contract_signed_on: NaiveDate,
    account_name: &str,
    opened_on: NaiveDate,
) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let squash = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let expected = format!("{contractor_name}{project_name}{ACCOUNT_NAME_SUFFIX}");
    if squash(account_name) != squash(&expected) {
        warnings.push(Warning {
            code: "ACCOUNT_NAME_FORM",
            message: format!(
                "the account name should be the general contractor's name, the project name and {ACCOUNT_NAME_SUFFIX}: {expected:?}"
            ),
        });
    }
    let days = (opened_on - contract_signed_on).num_days();
    if days > ACCOUNT_OPENING_DAYS {
        warnings.push(Warning {
            code: "ACCOUNT_OPENED_LATE",
            message: format!(
                "the account was opened {days} days after the contract was signed ({contract_signed_on}); the rule is within {ACCOUNT_OPENING_DAYS} days"
            ),
        });
    }
    warnings
}

fn account_in_use() -> AppError {
    AppError::field(
        "account_number",
        ErrorCode::AccountInUse,
        "this account is already the dedicated account of another project",
    )
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
    let bank_code = fields::text("bank_code", &input.bank_code, 40)?;
    let account_number: String = input
        .account_number
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if account_number.len() < 6
        || account_number.len() > 40
        || !account_number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::invalid_field(
            "account_number",
            "INVALID_ACCOUNT_NUMBER",
            "account_number must be 6–40 letters, digits or '-'",
        ));
    }
    let account_name = fields::text("account_name", &input.account_name, 200)?;
    let opened_on = fields::date("opened_on", &input.opened_on)?;
    let by = caller.id();
    let now = state.clock.now();

    let result = db::run(&state.pool, move |conn| {
        use diesel::Connection;
        conn.transaction(|conn| {
            if let Some(other) = db::projects::project_of_account(conn, &account_number)? {
                if other != project.id {
                    return Err(account_in_use());
                }
            }
            let contractor = db::organizations::find_by_id(conn, project.contractor_id)?
                .ok_or(AppError::Invariant("a project's contractor exists"))?;
            let form = WageAccountForm {
                project_id: project.id,
                bank_code: &bank_code,
                account_number: &account_number,
                account_name: &account_name,
                opened_on,
            };
            let (account, created) = db::projects::put_wage_account(conn, &form, now)?;
            audit::record(
                conn,
                now,
                Some(by),
                "wage_account",
                Some(account.id),
                if created { "created" } else { "replaced" },
                serde_json::json!({
                    "project": project.code,
                    "bank_code": account.bank_code,
                    "account_number": account.account_number,
                    "account_name": account.account_name,
                    "opened_on": account.opened_on,
                }),
            )?;
            let warnings = wage_account_warnings(
                &contractor.name,
                &project.name,
                project.contract_signed_on,
                &account.account_name,
                account.opened_on,
            );
            Ok((account, created, warnings))
        })
    })
    .await;
    let (account, created, warnings) = match result {
        Ok(r) => r,
        // Two requests raced for the same account number: the unique key decided.
        Err(AppError::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => return Err(account_in_use().into()),
        Err(e) => return Err(e.into()),
    };
    let body = WageAccountResponse {
        wage_account: account.into(),
        warnings,
    };
    Ok(if created {
        HttpResponse::Created().json(body)
    } else {
        HttpResponse::Ok().json(body)
    })
}
