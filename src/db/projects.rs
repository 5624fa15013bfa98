//! Projects, their subcontractors and their dedicated wage account.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::organizations::Organization;
use super::schema::{organizations, project_subcontractors, projects, wage_accounts};
use super::DbError;
use crate::access::{OrgKind, ProjectRole};
use crate::domain::{RegionCode, Regions};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct Project {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub region_code: String,
    pub owner_id: i64,
    pub contractor_id: i64,
    pub contract_amount: Decimal,
    pub contract_signed_on: NaiveDate,
    pub labour_cost_share_percent: Decimal,
    pub labour_cost_due_day: i16,
    pub payday: i16,
    pub planned_start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    pub minimum_monthly_wage: Decimal,
    pub created_at: DateTime<Utc>,
    pub created_by: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = projects)]
pub struct NewProject<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub region_code: &'a str,
    pub owner_id: i64,
    pub contractor_id: i64,
    pub contract_amount: Decimal,
    pub contract_signed_on: NaiveDate,
    pub labour_cost_share_percent: Decimal,
    pub labour_cost_due_day: i16,
    pub payday: i16,
    pub planned_start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    pub minimum_monthly_wage: Decimal,
    pub created_by: i64,
    pub created_at: DateTime<Utc>,
}

/// Inserts a project; `Ok(None)` when the code is taken.
pub fn insert(conn: &mut PgConnection, new: &NewProject) -> Result<Option<Project>, DbError> {
    Ok(diesel::insert_into(projects::table)
        .values(new)
        .on_conflict(projects::code)
        .do_nothing()
        .returning(Project::as_returning())
        .get_result(conn)
        .optional()?)
}

pub fn find_by_code(conn: &mut PgConnection, code: &str) -> Result<Option<Project>, DbError> {
    Ok(projects::table
        .filter(projects::code.eq(code))
        .select(Project::as_select())
        .first(conn)
        .optional()?)
}

/// How `caller` stands to `project`; `None` means it must not even learn the project exists.
pub fn role_of(
    conn: &mut PgConnection,
    caller: &Organization,
    project: &Project,
) -> Result<Option<ProjectRole>, DbError> {
    Ok(match caller.kind() {
        OrgKind::Admin => Some(ProjectRole::Admin),
        OrgKind::Contractor if project.contractor_id == caller.id => Some(ProjectRole::Contractor),
        OrgKind::Owner if project.owner_id == caller.id => Some(ProjectRole::Owner),
        OrgKind::Subcontractor if is_subcontractor(conn, project.id, caller.id)? => {
            Some(ProjectRole::Subcontractor)
        }
        OrgKind::Regulator => caller
            .region_code
            .as_deref()
            .and_then(|region| RegionCode::parse(region).ok())
            .zip(RegionCode::parse(&project.region_code).ok())
            .filter(|(region, code)| Regions::get().is_within(code, region))
            .map(|_| ProjectRole::Regulator),
        _ => None,
    })
}

pub fn is_subcontractor(
    conn: &mut PgConnection,
    project_id: i64,
    org_id: i64,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        project_subcontractors::table
            .filter(project_subcontractors::project_id.eq(project_id))
            .filter(project_subcontractors::organization_id.eq(org_id)),
    ))
    .get_result(conn)?)
}

/// Attaches a subcontractor; returns false when it already was.
pub fn attach_subcontractor(
    conn: &mut PgConnection,
    project_id: i64,
    org_id: i64,
    by: i64,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    let inserted = diesel::insert_into(project_subcontractors::table)
        .values((
            project_subcontractors::project_id.eq(project_id),
            project_subcontractors::organization_id.eq(org_id),
            project_subcontractors::attached_by.eq(by),
            project_subcontractors::attached_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(inserted == 1)
}

pub fn subcontractors(
    conn: &mut PgConnection,
    project_id: i64,
) -> Result<Vec<Organization>, DbError> {
    Ok(project_subcontractors::table
        .inner_join(organizations::table)
        .filter(project_subcontractors::project_id.eq(project_id))
        .order(organizations::name)
        .select(Organization::as_select())
        .load(conn)?)
}

/// 农民工工资专用账户.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = wage_accounts)]
pub struct WageAccount {
    pub id: i64,
    pub project_id: i64,
    pub bank_code: String,
    pub account_number: String,
    pub account_name: String,
    pub opened_on: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = wage_accounts)]
pub struct WageAccountForm<'a> {
    pub project_id: i64,
    pub bank_code: &'a str,
    pub account_number: &'a str,
    pub account_name: &'a str,
    pub opened_on: NaiveDate,
}

pub fn wage_account(
    conn: &mut PgConnection,
    project_id: i64,
) -> Result<Option<WageAccount>, DbError> {
    Ok(wage_accounts::table
        .filter(wage_accounts::project_id.eq(project_id))
        .select(WageAccount::as_select())
        .first(conn)
        .optional()?)
}

/// The project that holds this account number, if any.
pub fn project_of_account(
    conn: &mut PgConnection,
    account_number: &str,
) -> Result<Option<i64>, DbError> {
    Ok(wage_accounts::table
        .filter(wage_accounts::account_number.eq(account_number))
        .select(wage_accounts::project_id)
        .first(conn)
        .optional()?)
}

/// Creates or replaces the project's account. Returns the account and whether it was new.
pub fn put_wage_account(
    conn: &mut PgConnection,
    form: &WageAccountForm,
    at: DateTime<Utc>,
) -> Result<(WageAccount, bool), DbError> {
    let existing = wage_account(conn, form.project_id)?;
    let account = diesel::insert_into(wage_accounts::table)
        .values((
            form,
            wage_accounts::created_at.eq(at),
            wage_accounts::updated_at.eq(at),
        ))
        .on_conflict(wage_accounts::project_id)
        .do_update()
        .set((form, wage_accounts::updated_at.eq(at)))
        .returning(WageAccount::as_returning())
        .get_result(conn)?;
    Ok((account, existing.is_none()))
}
