//! Projects: registering one, reading it with its parties and account, and
//! attaching subcontractors (分包单位). Who may see a project is decided here
//! too: a caller with no standing is told it does not exist.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use super::views::{OrgSummary, ProjectView, RegionView};
use crate::access::{OrgKind, ProjectRole};
use crate::db::organizations::Organization;
use crate::db::projects::{NewProject, Project};
use crate::db::{self, audit};
use crate::domain::{minimum_wage, RegionCode, Regions};
use crate::error::{AppError, ErrorCode};
use crate::tabular::fields::{self, Text};

/// The project with this code and how `caller` stands to it; a caller with
/// no standing gets the same NOT_FOUND as for a project that does not exist.
pub fn find_for(
    conn: &mut PgConnection,
    caller: &Organization,
    code: &str,
) -> Result<(Project, ProjectRole), AppError> {
    let Some(project) = db::projects::find_by_code(conn, code)? else {
        return Err(AppError::not_found("the project"));
    };
    match db::projects::role_of(conn, caller, &project)? {
        Some(role) => Ok((project, role)),
        None => Err(AppError::not_found("the project")),
    }
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

/// The project as it is answered: its parties, subcontractors and account.
pub fn view(conn: &mut PgConnection, project: Project) -> Result<ProjectView, AppError> {
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

/// Reads a project the caller has already been found to stand to.
pub fn read(conn: &mut PgConnection, project: Project) -> Result<ProjectView, AppError> {
    view(conn, project)
}

/// The registered organisation with this USCC, if it is of the wanted kind;
/// otherwise the problem to answer, naming `field`.
pub(crate) fn registered(
    conn: &mut PgConnection,
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

/// A project code: 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit.
fn project_code(code: &str) -> Result<String, AppError> {
    let code = code.trim();
    let valid = !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && code.starts_with(|c: char| c.is_ascii_alphanumeric());
    if !valid {
        return Err(AppError::field(
            "code",
            ErrorCode::InvalidProjectCode,
            "code must be 1–64 letters, digits, '-', '_' or '.', starting with a letter or digit",
        ));
    }
    Ok(code.to_owned())
}

/// The contractor a request names: itself for a contractor, the one named for an admin.
fn contractor_named(
    caller: &Organization,
    given: Option<&str>,
) -> Result<Option<crate::domain::Uscc>, AppError> {
    let named = match (given, caller.kind()) {
        (Some(u), _) => Some(fields::uscc("contractor_uscc", u)?),
        (None, OrgKind::Admin) => {
            return Err(AppError::field(
                "contractor_uscc",
                ErrorCode::MissingField,
                "an admin must name the general contractor",
            ))
        }
        (None, _) => None,
    };
    if caller.kind() == OrgKind::Contractor
        && named.as_ref().is_some_and(|u| u.as_str() != caller.uscc)
    {
        return Err(
            AppError::forbidden("a contractor registers projects only for itself")
                .with_field("contractor_uscc"),
        );
    }
    Ok(named)
}

/// A project request with every field checked, before the database is asked.
struct CheckedProject {
    code: String,
    name: String,
    region: RegionCode,
    owner_uscc: crate::domain::Uscc,
    contractor_uscc: Option<crate::domain::Uscc>,
    contract_amount: Decimal,
    contract_signed_on: chrono::NaiveDate,
    share: Decimal,
    labour_cost_due_day: i16,
    payday: i16,
    planned_start_on: chrono::NaiveDate,
    planned_end_on: chrono::NaiveDate,
    minimum_monthly_wage: Decimal,
}

fn check(caller: &Organization, input: &CreateProject) -> Result<CheckedProject, AppError> {
    let code = project_code(&input.code)?;
    let name = fields::text("name", &input.name, 200)?;
    let region = fields::region("region_code", &input.region_code)?;
    let owner_uscc = fields::uscc("owner_uscc", &input.owner_uscc)?;
    let contractor_uscc = contractor_named(caller, input.contractor_uscc.as_deref())?;
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
        return Err(AppError::field(
            "planned_end_on",
            ErrorCode::EndBeforeStart,
            "planned_end_on is before planned_start_on",
        ));
    }
    let minimum_monthly_wage = match &input.minimum_monthly_wage {
        Some(v) => fields::positive_money("minimum_monthly_wage", &v.0)?,
        None => minimum_wage::monthly_minimum_wage(&region, contract_signed_on)
            .map(|w| w.monthly.as_decimal())
            .ok_or_else(|| {
                AppError::field(
                    "minimum_monthly_wage",
                    ErrorCode::MissingField,
                    "no published minimum wage is known for this region; give minimum_monthly_wage",
                )
            })?,
    };
    Ok(CheckedProject {
        code,
        name,
        region,
        owner_uscc,
        contractor_uscc,
        contract_amount,
        contract_signed_on,
        share,
        labour_cost_due_day,
        payday,
        planned_start_on,
        planned_end_on,
        minimum_monthly_wage,
    })
}

/// Registers a project for `caller` (a contractor, or an admin naming one).
pub fn create(
    conn: &mut PgConnection,
    caller: &Organization,
    input: CreateProject,
    now: DateTime<Utc>,
) -> Result<ProjectView, AppError> {
    let p = check(caller, &input)?;
    conn.transaction(|conn| {
        let owner = registered(conn, p.owner_uscc.as_str(), OrgKind::Owner, "owner_uscc")?;
        let contractor = match &p.contractor_uscc {
            Some(u) => registered(conn, u.as_str(), OrgKind::Contractor, "contractor_uscc")?,
            None => caller.clone(),
        };
        let new = NewProject {
            code: &p.code,
            name: &p.name,
            region_code: p.region.as_str(),
            owner_id: owner.id,
            contractor_id: contractor.id,
            contract_amount: p.contract_amount,
            contract_signed_on: p.contract_signed_on,
            labour_cost_share_percent: p.share,
            labour_cost_due_day: p.labour_cost_due_day,
            payday: p.payday,
            planned_start_on: p.planned_start_on,
            planned_end_on: p.planned_end_on,
            minimum_monthly_wage: p.minimum_monthly_wage,
            created_by: caller.id,
            created_at: now,
        };
        let Some(project) = db::projects::insert(conn, &new)? else {
            return Err(AppError::field(
                "code",
                ErrorCode::ProjectCodeTaken,
                format!("a project with code {:?} already exists", p.code),
            ));
        };
        audit::record(
            conn,
            now,
            Some(caller.id),
            "project",
            Some(project.id),
            "created",
            serde_json::json!({ "code": project.code }),
        )?;
        view(conn, project)
    })
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachSubcontractor {
    /// The subcontractor's USCC; it must be registered as a subcontractor.
    pub uscc: String,
}

/// Attaches a registered subcontractor to the project (again is no change).
pub fn attach_subcontractor(
    conn: &mut PgConnection,
    project: Project,
    by: i64,
    input: AttachSubcontractor,
    now: DateTime<Utc>,
) -> Result<ProjectView, AppError> {
    let uscc = fields::uscc("uscc", &input.uscc)?;
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
}
