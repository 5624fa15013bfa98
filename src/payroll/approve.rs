//! Approval (劳资专管员审核): the general contractor freezes the lines that will be paid.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;

use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::db::{self, audit};
use crate::domain::Period;
use crate::error::{AppError, ErrorCode};
use crate::payroll::{read::*, views::*};

/// Approves the period's current payrolls of every employer the caller
/// names (all by default), in one transaction.
pub(crate) fn approve_period(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller: &Organization,
    period: Period,
    employer_uscc: Option<String>,
    now: DateTime<Utc>,
) -> Result<ApprovalResponse, AppError> {
    conn.transaction(|conn| {
        approve_in_transaction(conn, project, role, caller, period, employer_uscc, now)
    })
}

fn approve_in_transaction(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller: &Organization,
    period: Period,
    employer_uscc: Option<String>,
    now: DateTime<Utc>,
) -> Result<ApprovalResponse, AppError> {
    let all = visible_payrolls(
        conn,
        project,
        role,
        caller,
        period,
        employer_uscc.as_deref(),
    )?;
    let mut employers: Vec<i64> = all.iter().map(|p| p.employer_id).collect();
    employers.dedup();
    if employers.is_empty() {
        return Err(AppError::not_found(format!("a payroll for {period}")));
    }
    let allow_unconfirmed = db::payrolls::allows_unconfirmed(conn, project.id)?;
    let period_text = period.to_string();
    let mut orgs = Orgs(HashMap::new());
    let mut views = Vec::new();
    let (mut approved, mut amount) = (0usize, Decimal::ZERO);
    // One employer at a time, in id order, each under its submission lock,
    // so a revision submitted meanwhile is either wholly before or after.
    for employer_id in employers {
        db::payrolls::lock_period(conn, project.id, employer_id, period)?;
        let latest = db::payrolls::latest_revision(conn, project.id, employer_id, &period_text)?;
        let Some(current) = db::payrolls::for_period(conn, project.id, period, Some(employer_id))?
            .into_iter()
            .find(|p| p.revision == latest)
        else {
            continue;
        };
        let outcome = db::payrolls::approve(conn, current.id, caller.id, allow_unconfirmed, now)?;
        if let Some(approval) = &outcome.approval {
            audit::record(
                conn,
                now,
                Some(caller.id),
                "payroll",
                Some(current.id),
                "approved",
                serde_json::json!({
                    "approval_id": approval.id,
                    "period": period_text,
                    "revision": current.revision,
                    "lines": outcome.approved,
                    "unconfirmed": outcome.approved_unconfirmed,
                    "amount": outcome.amount.to_string(),
                    "allow_unconfirmed": allow_unconfirmed,
                }),
            )?;
        }
        approved += outcome.approved;
        amount += outcome.amount;
        views.push(EmployerApprovalView {
            employer: orgs.get(conn, employer_id)?,
            revision: current.revision,
            approved: outcome.approved,
            approved_unconfirmed: outcome.approved_unconfirmed,
            amount: outcome.amount,
            left_unconfirmed: outcome.left_unconfirmed,
            left_disputed: outcome.left_disputed,
            already_approved: outcome.already_approved,
        });
    }
    if approved == 0 {
        let (unconfirmed, disputed, already): (usize, usize, usize) =
            views.iter().fold((0, 0, 0), |(u, d, a), v| {
                (
                    u + v.left_unconfirmed,
                    d + v.left_disputed,
                    a + v.already_approved,
                )
            });
        return Err(AppError::new(
            ErrorCode::NothingToApprove,
            format!(
                "no line of {period_text} can be approved now: {unconfirmed} accepted line(s) wait for the worker's confirmation, {disputed} are disputed, {already} were approved before"
            ),
        ));
    }
    Ok(ApprovalResponse {
        project: project.code.clone(),
        period: period_text,
        allow_unconfirmed,
        approved,
        amount,
        payrolls: views,
    })
}
