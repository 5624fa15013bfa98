//! Storing a parsed submission: choosing the employer, matching every line
//! against the roster and attendance, and writing the new revision, its
//! lines, the audit record and the idempotent answer in one transaction.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use super::parse::{Parsed, Submitted, Unreadable};
use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::payrolls::{NewLine, NewPayroll};
use crate::db::projects::Project;
use crate::db::{self, audit, idempotency};
use crate::domain::payroll::{
    self as rules, Context, LineMatch, PayItem, Thresholds, Totals, UnpaidWorker,
};
use crate::domain::{mask, Money, Period};
use crate::error::{AppError, ErrorCode};
use crate::payroll::views::*;
use crate::tabular::RowProblem;

/// Who submits, for which project, and when.
pub(crate) struct Submitter<'a> {
    pub(crate) project: &'a Project,
    pub(crate) caller: &'a Organization,
    pub(crate) role: ProjectRole,
    /// The business time the submission is recorded at.
    pub(crate) now: DateTime<Utc>,
    /// The key whose answer is recorded with the payroll, if any.
    pub(crate) idempotency_key: Option<&'a str>,
}

/// Which organisation's payroll this is, as the caller may name it.
pub(crate) fn resolve_employer(
    conn: &mut PgConnection,
    project: &Project,
    caller: &Organization,
    role: ProjectRole,
    employer_uscc: Option<&str>,
) -> Result<Organization, AppError> {
    if role == ProjectRole::Subcontractor {
        return match employer_uscc {
            Some(u) if u != caller.uscc => Err(AppError::forbidden(
                "a subcontractor submits only its own payroll",
            )
            .with_field("employer_uscc")),
            _ => Ok(caller.clone()),
        };
    }
    let Some(uscc) = employer_uscc else {
        return Ok(caller.clone());
    };
    if uscc == caller.uscc {
        return Ok(caller.clone());
    }
    let found = db::organizations::find_by_uscc(conn, uscc)?;
    match found {
        Some(org) if db::projects::is_subcontractor(conn, project.id, org.id)? => Ok(org),
        _ => Err(AppError::field(
            "employer_uscc",
            ErrorCode::EmployerNotOnProject,
            "the employer is neither the general contractor nor a subcontractor attached to this project",
        )),
    }
}

/// Matches and stores one submission in one transaction; returns the answer.
pub(crate) fn store_submission(
    conn: &mut PgConnection,
    who: &Submitter<'_>,
    parsed: Parsed,
) -> Result<serde_json::Value, AppError> {
    let employer = resolve_employer(
        conn,
        who.project,
        who.caller,
        who.role,
        parsed.employer_uscc.as_deref(),
    )?;
    let minimum_wage = Money::try_from(who.project.minimum_monthly_wage)
        .map_err(|_| AppError::Invariant("a project's minimum wage is a valid amount"))?;
    conn.transaction(|conn| {
        let period = parsed.period;
        db::payrolls::lock_period(conn, who.project.id, employer.id, period)?;
        if db::payrolls::has_approval(conn, who.project.id, employer.id, period)? {
            return Err(AppError::new(
                ErrorCode::PayrollApproved,
                format!(
                    "the {period} payroll of this employer has been approved, and approved lines are frozen; a new revision is not accepted"
                ),
            ));
        }
        let revision = db::payrolls::latest_revision(
            conn,
            who.project.id,
            employer.id,
            &period.to_string(),
        )? + 1;
        let matched = match_submission(conn, who.project, employer.id, period, minimum_wage, &parsed.lines)?;
        let (lines, answers, totals) = line_records(&parsed.lines, matched.matches, matched.unpaid.len())?;
        let stored = Stored {
            employer: &employer,
            period,
            revision,
            source_format: parsed.source_format,
            totals: &totals,
            unpaid: &matched.unpaid,
        };
        let payroll_id_and_time = insert_revision(conn, who, &stored, lines)?;
        let (answers, lines_omitted) = bounded_lines(answers);
        let view = SubmissionView {
            href: payroll_href(&who.project.code, &period.to_string(), &employer.uscc, revision),
            project: who.project.code.clone(),
            period: period.to_string(),
            employer: (&employer).into(),
            revision,
            submitted_at: payroll_id_and_time,
            totals: totals_view(&totals),
            attended_but_unpaid: matched.unpaid.iter().map(UnpaidView::from).collect(),
            lines: answers,
            lines_omitted,
        };
        let body = serde_json::to_value(&view)
            .map_err(|_| AppError::Invariant("a submission view serialises"))?;
        if let Some(key) = who.idempotency_key {
            idempotency::complete(conn, who.caller.id, key, 201, &body, who.now)?;
        }
        Ok(body)
    })
}

/// The match of every readable line, and who attended without a line.
struct Matched {
    matches: Vec<LineMatch>,
    unpaid: Vec<StoredUnpaid>,
}

fn match_submission(
    conn: &mut PgConnection,
    project: &Project,
    employer_id: i64,
    period: Period,
    minimum_wage: Money,
    lines: &[Submitted],
) -> Result<Matched, AppError> {
    let roster = db::payrolls::roster_for_matching(conn, project.id)?;
    let attendance = db::payrolls::attendance_summary(conn, project.id, period)?;
    let thresholds = Thresholds::with_minimum_wage(minimum_wage);
    let ctx = Context {
        period,
        employer_id,
        roster: &roster,
        attendance: &attendance,
        thresholds: &thresholds,
    };
    let readable: Vec<rules::Line> = lines
        .iter()
        .filter_map(|l| match l {
            Submitted::Readable(line) => Some(line.clone()),
            Submitted::Unreadable(_) => None,
        })
        .collect();
    let matches = rules::match_lines(&ctx, &readable);
    let with_lines: HashSet<String> = lines
        .iter()
        .map(|l| match l {
            Submitted::Readable(line) => line.id_number.as_str().to_owned(),
            Submitted::Unreadable(u) => u.id_number.trim().to_uppercase(),
        })
        .collect();
    let with_lines_ref: HashSet<&str> = with_lines.iter().map(String::as_str).collect();
    let unpaid = rules::attended_but_unpaid(&ctx, &with_lines_ref)
        .into_iter()
        .map(|u: UnpaidWorker| StoredUnpaid {
            worker_id: u.worker_id,
            id_number: u.id_number,
            name: u.name,
            attendance_days: u.attendance.days,
            attendance_hours: u.attendance.hours,
        })
        .collect();
    Ok(Matched { matches, unpaid })
}

/// The lines to store and to answer, in submission order, with the totals.
fn line_records(
    lines: &[Submitted],
    matches: Vec<LineMatch>,
    unpaid: usize,
) -> Result<(Vec<NewLine>, Vec<SubmittedLineView>, Totals), AppError> {
    let mut totals = Totals {
        attended_but_unpaid: unpaid,
        ..Totals::default()
    };
    let mut records = Vec::with_capacity(lines.len());
    let mut answers = Vec::with_capacity(lines.len());
    let mut matches = matches.into_iter();
    for submitted in lines {
        let (record, answer) = match submitted {
            Submitted::Readable(line) => {
                let m = matches
                    .next()
                    .ok_or(AppError::Invariant("every readable line has a match"))?;
                totals = totals
                    .add(m.accepted(), Some(line.net), m.warnings())
                    .ok_or_else(amounts_out_of_range)?;
                readable_line(line, &m)?
            }
            Submitted::Unreadable(u) => {
                totals = totals
                    .add(false, u.net, 0)
                    .ok_or_else(amounts_out_of_range)?;
                unreadable_line(u)?
            }
        };
        records.push(record);
        answers.push(answer);
    }
    Ok((records, answers, totals))
}

fn readable_line(
    line: &rules::Line,
    m: &LineMatch,
) -> Result<(NewLine, SubmittedLineView), AppError> {
    let accepted = m.accepted();
    let reasons = finding_views(m);
    let status = if accepted { "accepted" } else { "rejected" };
    let record = NewLine {
        payroll_id: 0,
        line_no: to_i32(line.line_no),
        worker_id: m.worker_id,
        id_number: line.id_number.as_str().to_owned(),
        name: line.name.clone(),
        card_number: line.card.as_str().to_owned(),
        days_worked: Some(line.days_worked),
        hours: line.hours,
        gross: m.gross.map(Money::as_decimal),
        deductions: m.deductions.map(Money::as_decimal),
        net: Some(line.net.as_decimal()),
        gross_items: items_json(&line.gross_items),
        deduction_items: items_json(&line.deduction_items),
        status,
        reasons: reasons_json(&reasons)?,
    };
    let answer = SubmittedLineView {
        line: line.line_no,
        status,
        id_number: line.id_number.masked(),
        name: line.name.clone(),
        net: Some(line.net.as_decimal()),
        reasons,
    };
    Ok((record, answer))
}

fn unreadable_line(u: &Unreadable) -> Result<(NewLine, SubmittedLineView), AppError> {
    let reasons = problem_views(&u.problems);
    let record = NewLine {
        payroll_id: 0,
        line_no: to_i32(u.line_no),
        worker_id: None,
        id_number: u.id_number.clone(),
        name: u.name.clone(),
        card_number: u.card_number.clone(),
        days_worked: u.days_worked,
        hours: u.hours,
        gross: u.gross.map(Money::as_decimal),
        deductions: u.deductions.map(Money::as_decimal),
        net: u.net.map(Money::as_decimal),
        gross_items: serde_json::Value::Array(Vec::new()),
        deduction_items: serde_json::Value::Array(Vec::new()),
        status: "rejected",
        reasons: reasons_json(&reasons)?,
    };
    let answer = SubmittedLineView {
        line: u.line_no,
        status: "rejected",
        id_number: mask::mask_middle(u.id_number.trim(), 4, 4),
        name: u.name.clone(),
        net: u.net.map(Money::as_decimal),
        reasons,
    };
    Ok((record, answer))
}

/// What the revision row records besides who submitted it.
struct Stored<'a> {
    employer: &'a Organization,
    period: Period,
    revision: i32,
    source_format: &'static str,
    totals: &'a Totals,
    unpaid: &'a [StoredUnpaid],
}

/// Inserts the revision, its lines and the audit record; returns when it was submitted.
fn insert_revision(
    conn: &mut PgConnection,
    who: &Submitter<'_>,
    s: &Stored<'_>,
    mut lines: Vec<NewLine>,
) -> Result<DateTime<Utc>, AppError> {
    let period = s.period.to_string();
    let payroll = db::payrolls::insert(
        conn,
        &NewPayroll {
            project_id: who.project.id,
            employer_id: s.employer.id,
            period: &period,
            revision: s.revision,
            submitted_by: who.caller.id,
            source_format: s.source_format,
            line_count: to_i32(s.totals.lines),
            accepted_count: to_i32(s.totals.accepted),
            rejected_count: to_i32(s.totals.rejected),
            warning_count: to_i32(s.totals.warnings),
            total_net: s.totals.amount.as_decimal(),
            accepted_net: s.totals.accepted_amount.as_decimal(),
            attended_but_unpaid: serde_json::to_value(s.unpaid)
                .map_err(|_| AppError::Invariant("unpaid workers serialise"))?,
            submitted_at: who.now,
        },
    )?;
    for line in &mut lines {
        line.payroll_id = payroll.id;
    }
    db::payrolls::insert_lines(conn, &lines)?;
    // Tokens go to the workers' phones through the outbox, never into this answer.
    crate::notify::outbox::enqueue_accepted(conn, payroll.id, who.now)?;
    audit::record(
        conn,
        who.now,
        Some(who.caller.id),
        "payroll",
        Some(payroll.id),
        "submitted",
        serde_json::json!({
            "project": who.project.code,
            "employer_uscc": s.employer.uscc,
            "period": period,
            "revision": s.revision,
            "lines": s.totals.lines,
            "accepted": s.totals.accepted,
            "rejected": s.totals.rejected,
            "accepted_net": s.totals.accepted_amount.to_string(),
        }),
    )?;
    Ok(payroll.submitted_at)
}

fn reasons_json(reasons: &[ReasonView]) -> Result<serde_json::Value, AppError> {
    serde_json::to_value(reasons).map_err(|_| AppError::Invariant("reasons serialise"))
}

pub(crate) fn items_json(items: &[PayItem]) -> serde_json::Value {
    serde_json::Value::Array(
        items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "item": i.kind.key(),
                    "label": i.kind.label(),
                    "amount": i.amount.to_string(),
                })
            })
            .collect(),
    )
}

pub(crate) fn finding_views(m: &LineMatch) -> Vec<ReasonView> {
    m.findings
        .iter()
        .map(|f| ReasonView {
            code: f.code.as_str().to_owned(),
            severity: f.severity().as_str().to_owned(),
            field: f.field.map(str::to_owned),
            message: f.message.clone(),
        })
        .collect()
}

pub(crate) fn problem_views(problems: &[RowProblem]) -> Vec<ReasonView> {
    problems
        .iter()
        .map(|p| ReasonView {
            code: p.code.clone(),
            severity: "error".to_owned(),
            field: p.field.clone(),
            message: p.reason.clone(),
        })
        .collect()
}

pub(crate) fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(crate) fn payroll_href(code: &str, period: &str, employer_uscc: &str, revision: i32) -> String {
    format!(
        "/v1/projects/{code}/payrolls/{period}?employer_uscc={employer_uscc}&revision={revision}"
    )
}

pub(crate) fn amounts_out_of_range() -> AppError {
    AppError::field(
        "lines",
        ErrorCode::OutOfRange,
        "the payroll's amounts add up to more than can be paid",
    )
}

pub(crate) fn totals_view(t: &Totals) -> TotalsView {
    TotalsView {
        lines: t.lines,
        accepted: t.accepted,
        rejected: t.rejected,
        warnings: t.warnings,
        amount: t.amount.as_decimal(),
        accepted_amount: t.accepted_amount.as_decimal(),
        attended_but_unpaid: t.attended_but_unpaid,
    }
}
