//! What the registry use cases answer: projects with their parties and
//! account, as read back. Payroll views name organisations the same way.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::organizations::Organization;
use crate::db::projects::WageAccount;

/// An organisation as other views name it.
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
