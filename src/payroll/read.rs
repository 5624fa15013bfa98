//! Reading a period: the payrolls the caller may see, at the revision asked for, with every
//! line's match result, confirmation and approval.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use diesel::PgConnection;

use crate::access::ProjectRole;
use crate::api::projects::OrgSummary;
use crate::banking::reasons;
use crate::db::disbursements::LatestAttempt;
use crate::db::organizations::Organization;
use crate::db::payrolls::{LineState, Payroll};
use crate::db::projects::Project;
use crate::db::{self};
use crate::domain::disbursement::AttemptState;
use crate::domain::{mask, Period};
use crate::error::AppError;
use crate::paging::Page;
use crate::payroll::views::*;

/// The payrolls of a period the caller may see: every employer's for the
/// contractor, owner and regulators, a subcontractor's own only.
pub(crate) fn visible_payrolls(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller: &Organization,
    period: Period,
    employer_uscc: Option<&str>,
) -> Result<Vec<Payroll>, AppError> {
    let mut employer_id = match employer_uscc {
        None => None,
        Some(uscc) => match db::organizations::find_by_uscc(conn, uscc)? {
            Some(org) => Some(org.id),
            None => return Err(AppError::not_found("a payroll of this employer")),
        },
    };
    if role == ProjectRole::Subcontractor {
        match employer_id {
            Some(id) if id != caller.id => {
                return Err(AppError::not_found("a payroll of this employer"))
            }
            _ => employer_id = Some(caller.id),
        }
    }
    Ok(db::payrolls::for_period(
        conn,
        project.id,
        period,
        employer_id,
    )?)
}

/// For each employer, the revision asked for (or the latest), with all revision numbers.
pub(crate) fn pick_revisions(all: Vec<Payroll>, revision: Option<i32>) -> Vec<(Payroll, Vec<i32>)> {
    let mut by_employer: BTreeMap<i64, Vec<Payroll>> = BTreeMap::new();
    for p in all {
        by_employer.entry(p.employer_id).or_default().push(p);
    }
    by_employer
        .into_values()
        .filter_map(|mut revisions| {
            let numbers: Vec<i32> = revisions.iter().map(|p| p.revision).collect();
            let index = match revision {
                Some(r) => revisions.iter().position(|p| p.revision == r)?,
                None => revisions.len().checked_sub(1)?,
            };
            Some((revisions.swap_remove(index), numbers))
        })
        .collect()
}

pub(crate) struct Orgs(pub(crate) HashMap<i64, OrgSummary>);

impl Orgs {
    pub(crate) fn get(&mut self, conn: &mut PgConnection, id: i64) -> Result<OrgSummary, AppError> {
        if let Some(o) = self.0.get(&id) {
            return Ok(OrgSummary {
                uscc: o.uscc.clone(),
                name: o.name.clone(),
            });
        }
        let org = db::organizations::find_by_id(conn, id)?
            .ok_or(AppError::Invariant("a payroll's organisations exist"))?;
        let summary = OrgSummary::from(&org);
        self.0.insert(
            id,
            OrgSummary {
                uscc: org.uscc,
                name: org.name,
            },
        );
        Ok(summary)
    }
}

pub(crate) fn item_views(value: &serde_json::Value) -> Vec<ItemView> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some(ItemView {
                        item: i.get("item")?.as_str()?.to_owned(),
                        label: i.get("label")?.as_str()?.to_owned(),
                        amount: i.get("amount")?.as_str()?.parse().ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn reason_views(value: &serde_json::Value) -> Vec<ReasonView> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

/// The latest disbursement attempt of each of these lines.
pub(crate) fn payments(
    conn: &mut PgConnection,
    states: &[LineState],
) -> Result<HashMap<i64, LatestAttempt>, AppError> {
    let ids: Vec<i64> = states
        .iter()
        .filter(|s| s.approved.is_some())
        .map(|s| s.line.id)
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(db::disbursements::latest_attempts(conn, &ids)?
        .into_iter()
        .map(|a| (a.line_id, a))
        .collect())
}

/// Where an approved line's money stands, from its latest attempt.
fn payment_of(latest: Option<&LatestAttempt>) -> (&'static str, Option<String>) {
    match latest.map(|a| a.state.parse::<AttemptState>()) {
        None => ("awaiting_disbursement", None),
        Some(Ok(AttemptState::Settled)) => ("paid", None),
        Some(Ok(AttemptState::Rejected)) => {
            let reason = latest.and_then(|a| {
                reasons::texts(a.reason_code.as_deref(), a.reason_text.as_deref()).map(|r| r.zh)
            });
            ("failed", reason)
        }
        Some(_) => ("in_flight", None),
    }
}

pub(crate) fn line_view(
    state: &LineState,
    approvals: &HashMap<i64, DateTime<Utc>>,
    payments: &HashMap<i64, LatestAttempt>,
) -> LineView {
    let line = &state.line;
    let accepted = line.status == "accepted";
    let confirmation = match (&state.confirmation, accepted) {
        (Some(c), _) => ConfirmationView {
            state: if c.action == "confirmed" {
                "confirmed"
            } else {
                "disputed"
            },
            channel: Some(c.channel.clone()),
            at: Some(c.at),
            reason: c.reason.clone(),
        },
        (None, true) => ConfirmationView {
            state: "pending",
            channel: None,
            at: None,
            reason: None,
        },
        (None, false) => ConfirmationView {
            state: "not_applicable",
            channel: None,
            at: None,
            reason: None,
        },
    };
    let approval = match &state.approved {
        Some(a) => LineApprovalView {
            state: "approved",
            unconfirmed: a.unconfirmed,
            at: approvals.get(&a.approval_id).copied(),
        },
        None => LineApprovalView {
            state: "not_approved",
            unconfirmed: false,
            at: None,
        },
    };
    let (payment_status, payment_reason) = match (accepted, &state.approved) {
        (false, _) => ("not_payable", None),
        (true, None) => ("awaiting_approval", None),
        (true, Some(_)) => payment_of(payments.get(&line.id)),
    };
    LineView {
        line: line.line_no,
        status: line.status.clone(),
        id_number: mask::mask_middle(line.id_number.trim(), 4, 4),
        name: line.name.clone(),
        card_number: mask::mask_middle(line.card_number.trim(), 4, 4),
        days_worked: line.days_worked,
        hours: line.hours,
        gross: line.gross,
        gross_items: item_views(&line.gross_items),
        deductions: line.deductions,
        deduction_items: item_views(&line.deduction_items),
        net: line.net,
        reasons: reason_views(&line.reasons),
        confirmation,
        payment_status,
        payment_reason,
        approval,
    }
}

pub(crate) fn period_view(
    conn: &mut PgConnection,
    project: &Project,
    period: Period,
    chosen: Vec<(Payroll, Vec<i32>)>,
    page: Option<Page>,
) -> Result<PeriodView, AppError> {
    let ids: Vec<i64> = chosen.iter().map(|(p, _)| p.id).collect();
    let states = db::payrolls::line_states(conn, &ids)?;
    let approvals = db::payrolls::approvals(conn, &ids)?;
    let approval_at: HashMap<i64, DateTime<Utc>> = approvals.iter().map(|a| (a.id, a.at)).collect();
    let payments = payments(conn, &states)?;
    let mut lines_by_payroll: HashMap<i64, Vec<LineView>> = HashMap::new();
    for s in &states {
        lines_by_payroll
            .entry(s.line.payroll_id)
            .or_default()
            .push(line_view(s, &approval_at, &payments));
    }
    let mut orgs = Orgs(HashMap::new());
    let mut payrolls = Vec::with_capacity(chosen.len());
    for (p, revisions) in chosen {
        let lines = lines_by_payroll.remove(&p.id).unwrap_or_default();
        let current = revisions.last() == Some(&p.revision);
        let confirmations = ConfirmationTotals {
            confirmed: lines
                .iter()
                .filter(|l| l.confirmation.state == "confirmed")
                .count(),
            disputed: lines
                .iter()
                .filter(|l| l.confirmation.state == "disputed")
                .count(),
            pending: lines
                .iter()
                .filter(|l| l.confirmation.state == "pending")
                .count(),
        };
        let approved_lines: Vec<&LineView> = lines
            .iter()
            .filter(|l| l.approval.state == "approved")
            .collect();
        let approved = ApprovedTotals {
            lines: approved_lines.len(),
            unconfirmed: approved_lines
                .iter()
                .filter(|l| l.approval.unconfirmed)
                .count(),
            amount: approved_lines.iter().filter_map(|l| l.net).sum(),
        };
        let accepted = usize::try_from(p.accepted_count).unwrap_or(0);
        let status = if !current {
            "superseded"
        } else if approved.lines == 0 {
            "submitted"
        } else if approved.lines < accepted {
            "partly_approved"
        } else {
            "approved"
        };
        // Totals count every line; only the page's lines are listed.
        let (lines, next_cursor) = page_of_lines(lines, page);
        let unpaid: Vec<StoredUnpaid> =
            serde_json::from_value(p.attended_but_unpaid.clone()).unwrap_or_default();
        let mut approval_views = Vec::new();
        for a in approvals.iter().filter(|a| a.payroll_id == p.id) {
            approval_views.push(ApprovalView {
                approved_by: orgs.get(conn, a.approved_by)?,
                at: a.at,
                allow_unconfirmed: a.allow_unconfirmed,
                lines: a.line_count,
                amount: a.amount,
            });
        }
        payrolls.push(PayrollView {
            employer: orgs.get(conn, p.employer_id)?,
            revision: p.revision,
            revisions,
            current,
            status,
            submitted_by: orgs.get(conn, p.submitted_by)?,
            submitted_at: p.submitted_at,
            source_format: p.source_format.clone(),
            totals: TotalsView {
                lines: usize::try_from(p.line_count).unwrap_or(0),
                accepted,
                rejected: usize::try_from(p.rejected_count).unwrap_or(0),
                warnings: usize::try_from(p.warning_count).unwrap_or(0),
                amount: p.total_net,
                accepted_amount: p.accepted_net,
                attended_but_unpaid: unpaid.len(),
            },
            confirmations,
            approved,
            attended_but_unpaid: unpaid.iter().map(UnpaidView::from).collect(),
            approvals: approval_views,
            lines,
            next_cursor,
        });
    }
    Ok(PeriodView {
        project: project.code.clone(),
        period: period.to_string(),
        payrolls,
    })
}

/// The lines of one payroll on `page` (after its cursor, a line number), in
/// line order, and the cursor of the next page; every line without a page.
fn page_of_lines(lines: Vec<LineView>, page: Option<Page>) -> (Vec<LineView>, Option<String>) {
    let Some(page) = page else {
        return (lines, None);
    };
    let after = page.after.unwrap_or(0);
    let rest: Vec<LineView> = lines
        .into_iter()
        .filter(|l| i64::from(l.line) > after)
        .take(page.limit as usize + 1)
        .collect();
    page.finish(rest, |l| i64::from(l.line))
}
