//! The project's dedicated wage account (农民工工资专用账户): one account per
//! project and one project per account. An account that breaks a rule of the
//! 专户办法 (its name, a late opening) is stored with warnings, not refused.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::views::WageAccountView;
use crate::db::projects::{Project, WageAccountForm};
use crate::db::{self, audit};
use crate::error::{AppError, ErrorCode};
use crate::tabular::fields;

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

/// A rule the request breaks that the law cares about but that does not stop it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WageAccountResponse {
    pub wage_account: WageAccountView,
    /// Rules of the 专户办法 this account does not meet (it is stored all the same).
    pub warnings: Vec<Warning>,
}

/// What putting the account did.
#[derive(Debug)]
pub struct PutOutcome {
    pub response: WageAccountResponse,
    /// Whether the project had no account before.
    pub created: bool,
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

/// An account number: 6–40 letters, digits or '-', blanks dropped.
fn account_number(given: &str) -> Result<String, AppError> {
    let number: String = given.chars().filter(|c| !c.is_whitespace()).collect();
    if number.len() < 6
        || number.len() > 40
        || !number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(AppError::field(
            "account_number",
            ErrorCode::InvalidAccountNumber,
            "account_number must be 6–40 letters, digits or '-'",
        ));
    }
    Ok(number)
}

/// Registers or replaces the project's dedicated account.
pub fn put(
    conn: &mut PgConnection,
    project: Project,
    by: i64,
    input: PutWageAccount,
    now: DateTime<Utc>,
) -> Result<PutOutcome, AppError> {
    let bank_code = fields::text("bank_code", &input.bank_code, 40)?;
    let account_number = account_number(&input.account_number)?;
    let account_name = fields::text("account_name", &input.account_name, 200)?;
    let opened_on = fields::date("opened_on", &input.opened_on)?;
    let result = conn.transaction(|conn| {
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
        Ok(PutOutcome {
            response: WageAccountResponse {
                wage_account: account.into(),
                warnings,
            },
            created,
        })
    });
    match result {
        // Two requests raced for the same account number: the unique key decided.
        Err(AppError::Db(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        ))) => Err(account_in_use()),
        other => other,
    }
}
