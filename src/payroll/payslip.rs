//! A worker's pay slip (工资清单) for one payroll line, and the day it is paid.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;

use crate::db::payrolls::{LineState, Payroll};
use crate::db::projects::Project;
use crate::db::{self};
use crate::domain::{mask, Period};
use crate::error::AppError;
use crate::payroll::{read::*, views::*};

/// The scheduled pay date: the payday (clamped to the month's length) of the month after the period.
pub fn pay_date(period: Period, payday: i16) -> Option<NaiveDate> {
    let next = period.next()?;
    let day = u32::try_from(payday).ok()?.clamp(1, next.days());
    NaiveDate::from_ymd_opt(next.year(), next.month(), day)
}

/// Builds a pay slip for one line.
pub fn pay_slip(
    conn: &mut PgConnection,
    project: &Project,
    payroll: &Payroll,
    state: &LineState,
) -> Result<PaySlip, AppError> {
    let period = Period::parse(&payroll.period)
        .map_err(|_| AppError::Invariant("a stored period is YYYY-MM"))?;
    let latest = db::payrolls::latest_revision(
        conn,
        payroll.project_id,
        payroll.employer_id,
        &payroll.period,
    )?;
    let approval_at: HashMap<i64, DateTime<Utc>> = db::payrolls::approvals(conn, &[payroll.id])?
        .into_iter()
        .map(|a| (a.id, a.at))
        .collect();
    let payments = payments(conn, std::slice::from_ref(state))?;
    let view = line_view(state, &approval_at, &payments);
    let phone = match state.line.worker_id {
        Some(id) => db::payrolls::worker_phone(conn, payroll.project_id, id)?,
        None => None,
    };
    let mut orgs = Orgs(HashMap::new());
    Ok(PaySlip {
        title: "工资清单",
        project: OrgSummaryProject {
            code: project.code.clone(),
            name: project.name.clone(),
        },
        employer: orgs.get(conn, payroll.employer_id)?,
        period: payroll.period.clone(),
        revision: payroll.revision,
        current: payroll.revision == latest,
        pay_date: pay_date(period, project.payday),
        worker: PaySlipWorker {
            name: view.name,
            id_number: view.id_number,
            phone: phone.as_deref().map(mask::mask_phone),
        },
        working_time: WorkingTime {
            days_worked: view.days_worked,
            hours: view.hours,
        },
        gross_items: view.gross_items,
        gross: view.gross,
        deduction_items: view.deduction_items,
        deductions: view.deductions,
        net: view.net,
        card_number: view.card_number,
        status: view.status,
        reasons: view.reasons,
        confirmation: view.confirmation,
        approval: view.approval,
        payment_status: view.payment_status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pay_date_is_next_months_payday_clamped() {
        let p = Period::parse("2026-01").unwrap();
        assert_eq!(pay_date(p, 15), NaiveDate::from_ymd_opt(2026, 2, 15));
        assert_eq!(pay_date(p, 31), NaiveDate::from_ymd_opt(2026, 2, 28));
        let dec = Period::parse("2026-12").unwrap();
        assert_eq!(pay_date(dec, 10), NaiveDate::from_ymd_opt(2027, 1, 10));
    }
}
