//! Monthly payrolls (工资支付表): revisions, matched lines, the workers'
//! confirmations and the general contractor's approvals.
//!
//! Every table here is append-only (the database refuses UPDATE and DELETE):
//! a correction is a new revision, a confirmation or an approval a new row.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use rust_decimal::Decimal;

use super::schema::{
    approved_lines, line_confirmations, payroll_approvals, payroll_lines, payrolls, projects,
    roster_entries, workers,
};
use super::DbError;
use crate::domain::payroll::{Attendance, RosterWorker};
use crate::domain::Period;

/// One submission of one employer's payroll for a period.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payrolls, check_for_backend(Pg))]
pub struct Payroll {
    pub id: i64,
    pub project_id: i64,
    pub employer_id: i64,
    pub period: String,
    pub revision: i32,
    pub submitted_by: i64,
    pub submitted_at: DateTime<Utc>,
    pub source_format: String,
    pub line_count: i32,
    pub accepted_count: i32,
    pub rejected_count: i32,
    pub warning_count: i32,
    pub total_net: Decimal,
    pub accepted_net: Decimal,
    pub attended_but_unpaid: serde_json::Value,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = payrolls)]
pub struct NewPayroll<'a> {
    pub project_id: i64,
    pub employer_id: i64,
    pub period: &'a str,
    pub revision: i32,
    pub submitted_by: i64,
    pub source_format: &'a str,
    pub line_count: i32,
    pub accepted_count: i32,
    pub rejected_count: i32,
    pub warning_count: i32,
    pub total_net: Decimal,
    pub accepted_net: Decimal,
    pub attended_but_unpaid: serde_json::Value,
    pub submitted_at: DateTime<Utc>,
}

/// A line as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payroll_lines, check_for_backend(Pg))]
pub struct PayrollLine {
    pub id: i64,
    pub payroll_id: i64,
    pub line_no: i32,
    pub worker_id: Option<i64>,
    pub id_number: String,
    pub name: String,
    pub card_number: String,
    pub days_worked: Option<Decimal>,
    pub hours: Option<Decimal>,
    pub gross: Option<Decimal>,
    pub deductions: Option<Decimal>,
    pub net: Option<Decimal>,
    pub gross_items: serde_json::Value,
    pub deduction_items: serde_json::Value,
    pub status: String,
    pub reasons: serde_json::Value,
}

/// A line to store. Written with COPY, so every column is given.
#[derive(Debug, Insertable)]
#[diesel(table_name = payroll_lines, treat_none_as_default_value = false)]
pub struct NewLine {
    pub payroll_id: i64,
    pub line_no: i32,
    pub worker_id: Option<i64>,
    pub id_number: String,
    pub name: String,
    pub card_number: String,
    pub days_worked: Option<Decimal>,
    pub hours: Option<Decimal>,
    pub gross: Option<Decimal>,
    pub deductions: Option<Decimal>,
    pub net: Option<Decimal>,
    pub gross_items: serde_json::Value,
    pub deduction_items: serde_json::Value,
    pub status: &'static str,
    pub reasons: serde_json::Value,
}

/// 本人签字确认: the worker's answer to his line.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = line_confirmations, check_for_backend(Pg))]
pub struct Confirmation {
    pub id: i64,
    pub line_id: i64,
    pub action: String,
    pub channel: String,
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = payroll_approvals, check_for_backend(Pg))]
pub struct Approval {
    pub id: i64,
    pub payroll_id: i64,
    pub approved_by: i64,
    pub at: DateTime<Utc>,
    pub allow_unconfirmed: bool,
    pub line_count: i32,
    pub amount: Decimal,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = approved_lines, check_for_backend(Pg))]
pub struct ApprovedLine {
    pub line_id: i64,
    pub approval_id: i64,
    pub unconfirmed: bool,
}

/// A line with what has happened to it since.
#[derive(Debug, Clone)]
pub struct LineState {
    pub line: PayrollLine,
    pub confirmation: Option<Confirmation>,
    pub approved: Option<ApprovedLine>,
}

/// A roster row as matching reads it: ID number, worker id, name, employer,
/// card, entry and exit.
type RosterRow = (
    String,
    i64,
    String,
    i64,
    Option<String>,
    NaiveDate,
    Option<NaiveDate>,
);
type LineRow = (PayrollLine, Option<Confirmation>, Option<ApprovedLine>);
/// An accepted line as approval sees it: id, net, confirmation action, already approved.
type ApprovableRow = (i64, Option<Decimal>, Option<String>, Option<i64>);

/// Serialises submissions and approvals of one employer's payroll for one
/// period, until the end of the transaction.
pub fn lock_period(
    conn: &mut PgConnection,
    project_id: i64,
    employer_id: i64,
    period: Period,
) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("payroll:{project_id}:{employer_id}:{period}"))
        .execute(conn)?;
    Ok(())
}

/// The project's whole roster, by ID number, with what matching needs: the
/// name and card as this project's roster entry registered them.
pub fn roster_for_matching(
    conn: &mut PgConnection,
    project_id: i64,
) -> Result<HashMap<String, RosterWorker>, DbError> {
    let rows: Vec<RosterRow> = roster_entries::table
        .inner_join(workers::table)
        .filter(roster_entries::project_id.eq(project_id))
        .select((
            workers::id_number,
            workers::id,
            roster_entries::name,
            roster_entries::employer_id,
            roster_entries::card_number,
            roster_entries::entered_on,
            roster_entries::exited_on,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(id_number, worker_id, name, employer_id, card_number, entered_on, exited_on)| {
                (
                    id_number,
                    RosterWorker {
                        worker_id,
                        name,
                        employer_id,
                        card_number,
                        entered_on,
                        exited_on,
                    },
                )
            },
        )
        .collect())
}

#[derive(QueryableByName)]
struct AttendanceRow {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    worker_id: i64,
    #[diesel(sql_type = diesel::sql_types::Int8)]
    days: i64,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    hours: Decimal,
}

/// Live attendance of every worker of the project in the period, summed in
/// the database: days with hours > 0, and hours.
pub fn attendance_summary(
    conn: &mut PgConnection,
    project_id: i64,
    period: Period,
) -> Result<HashMap<i64, Attendance>, DbError> {
    let rows: Vec<AttendanceRow> = diesel::sql_query(
        "SELECT worker_id, count(*) FILTER (WHERE hours > 0) AS days, coalesce(sum(hours), 0) AS hours
           FROM attendance_records
          WHERE project_id = $1 AND work_date BETWEEN $2 AND $3 AND superseded_at IS NULL
          GROUP BY worker_id",
    )
    .bind::<diesel::sql_types::Int8, _>(project_id)
    .bind::<diesel::sql_types::Date, _>(period.first_day())
    .bind::<diesel::sql_types::Date, _>(period.last_day())
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.worker_id,
                Attendance {
                    days: u32::try_from(r.days).unwrap_or(0),
                    hours: r.hours,
                },
            )
        })
        .collect())
}

/// Every revision of the period's payrolls, by employer then revision.
pub fn for_period(
    conn: &mut PgConnection,
    project_id: i64,
    period: Period,
    employer_id: Option<i64>,
) -> Result<Vec<Payroll>, DbError> {
    let mut query = payrolls::table
        .filter(payrolls::project_id.eq(project_id))
        .filter(payrolls::period.eq(period.to_string()))
        .into_boxed();
    if let Some(employer) = employer_id {
        query = query.filter(payrolls::employer_id.eq(employer));
    }
    Ok(query
        .order((payrolls::employer_id, payrolls::revision))
        .select(Payroll::as_select())
        .load(conn)?)
}

/// The latest revision number of an employer's payroll for the period (0 when none).
pub fn latest_revision(
    conn: &mut PgConnection,
    project_id: i64,
    employer_id: i64,
    period: &str,
) -> Result<i32, DbError> {
    let latest: Option<i32> = payrolls::table
        .filter(payrolls::project_id.eq(project_id))
        .filter(payrolls::employer_id.eq(employer_id))
        .filter(payrolls::period.eq(period))
        .select(diesel::dsl::max(payrolls::revision))
        .first(conn)?;
    Ok(latest.unwrap_or(0))
}

/// Whether any revision of the employer's payroll for the period has been approved.
pub fn has_approval(
    conn: &mut PgConnection,
    project_id: i64,
    employer_id: i64,
    period: Period,
) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        payroll_approvals::table
            .inner_join(payrolls::table)
            .filter(payrolls::project_id.eq(project_id))
            .filter(payrolls::employer_id.eq(employer_id))
            .filter(payrolls::period.eq(period.to_string())),
    ))
    .get_result(conn)?)
}

pub fn insert(conn: &mut PgConnection, new: &NewPayroll) -> Result<Payroll, DbError> {
    Ok(diesel::insert_into(payrolls::table)
        .values(new)
        .returning(Payroll::as_returning())
        .get_result(conn)?)
}

/// Stores lines with COPY (binary), the fastest way PostgreSQL takes rows in.
pub fn insert_lines(conn: &mut PgConnection, lines: &[NewLine]) -> Result<usize, DbError> {
    if lines.is_empty() {
        return Ok(0);
    }
    Ok(diesel::copy_from(payroll_lines::table)
        .from_insertable(lines)
        .execute(conn)?)
}

/// The lines of some payrolls with their confirmation and approval, in order.
pub fn line_states(
    conn: &mut PgConnection,
    payroll_ids: &[i64],
) -> Result<Vec<LineState>, DbError> {
    let rows: Vec<LineRow> = payroll_lines::table
        .left_join(line_confirmations::table)
        .left_join(approved_lines::table)
        .filter(payroll_lines::payroll_id.eq_any(payroll_ids))
        .order((payroll_lines::payroll_id, payroll_lines::line_no))
        .select((
            PayrollLine::as_select(),
            Option::<Confirmation>::as_select(),
            Option::<ApprovedLine>::as_select(),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(line, confirmation, approved)| LineState {
            line,
            confirmation,
            approved,
        })
        .collect())
}

/// One line of one payroll with its state, by the worker's ID number.
pub fn line_state_of_worker(
    conn: &mut PgConnection,
    payroll_id: i64,
    id_number: &str,
) -> Result<Option<LineState>, DbError> {
    let row: Option<LineRow> = payroll_lines::table
        .left_join(line_confirmations::table)
        .left_join(approved_lines::table)
        .filter(payroll_lines::payroll_id.eq(payroll_id))
        .filter(payroll_lines::id_number.eq(id_number))
        .order(payroll_lines::line_no)
        .select((
            PayrollLine::as_select(),
            Option::<Confirmation>::as_select(),
            Option::<ApprovedLine>::as_select(),
        ))
        .first(conn)
        .optional()?;
    Ok(row.map(|(line, confirmation, approved)| LineState {
        line,
        confirmation,
        approved,
    }))
}

/// Records the worker's answer; `None` when the line already has one.
pub fn confirm(
    conn: &mut PgConnection,
    line_id: i64,
    action: &str,
    channel: &str,
    reason: Option<&str>,
    at: DateTime<Utc>,
) -> Result<Option<Confirmation>, DbError> {
    Ok(diesel::insert_into(line_confirmations::table)
        .values((
            line_confirmations::line_id.eq(line_id),
            line_confirmations::action.eq(action),
            line_confirmations::channel.eq(channel),
            line_confirmations::reason.eq(reason),
            line_confirmations::at.eq(at),
        ))
        .on_conflict(line_confirmations::line_id)
        .do_nothing()
        .returning(Confirmation::as_returning())
        .get_result(conn)
        .optional()?)
}

/// The approvals of some payrolls, oldest first.
pub fn approvals(conn: &mut PgConnection, payroll_ids: &[i64]) -> Result<Vec<Approval>, DbError> {
    Ok(payroll_approvals::table
        .filter(payroll_approvals::payroll_id.eq_any(payroll_ids))
        .order(payroll_approvals::id)
        .select(Approval::as_select())
        .load(conn)?)
}

/// What one approval of one payroll did.
#[derive(Debug, Clone, Default)]
pub struct ApprovalOutcome {
    /// `None` when no line could be approved (nothing was written).
    pub approval: Option<Approval>,
    pub approved: usize,
    /// Of those, approved without the worker's confirmation.
    pub approved_unconfirmed: usize,
    pub amount: Decimal,
    /// Accepted lines left out: not yet confirmed (and the project does not allow it).
    pub left_unconfirmed: usize,
    /// Accepted lines left out: the worker disputes them.
    pub left_disputed: usize,
    /// Lines frozen by an earlier approval.
    pub already_approved: usize,
}

/// Approves what can be approved of one payroll: confirmed accepted lines,
/// and unconfirmed ones too when `allow_unconfirmed`; never disputed ones.
/// Call inside a transaction holding [`lock_period`].
pub fn approve(
    conn: &mut PgConnection,
    payroll_id: i64,
    approved_by: i64,
    allow_unconfirmed: bool,
    at: DateTime<Utc>,
) -> Result<ApprovalOutcome, DbError> {
    let lines: Vec<ApprovableRow> = payroll_lines::table
        .left_join(line_confirmations::table)
        .left_join(approved_lines::table)
        .filter(payroll_lines::payroll_id.eq(payroll_id))
        .filter(payroll_lines::status.eq("accepted"))
        .order(payroll_lines::line_no)
        .select((
            payroll_lines::id,
            payroll_lines::net,
            line_confirmations::action.nullable(),
            approved_lines::line_id.nullable(),
        ))
        .load(conn)?;
    let mut outcome = ApprovalOutcome::default();
    let mut chosen: Vec<(i64, bool)> = Vec::new();
    for (line_id, net, action, approved) in lines {
        if approved.is_some() {
            outcome.already_approved += 1;
            continue;
        }
        let unconfirmed = match action.as_deref() {
            Some("confirmed") => false,
            Some(_) => {
                outcome.left_disputed += 1;
                continue;
            }
            None if allow_unconfirmed => true,
            None => {
                outcome.left_unconfirmed += 1;
                continue;
            }
        };
        outcome.amount += net.unwrap_or_default();
        outcome.approved += 1;
        if unconfirmed {
            outcome.approved_unconfirmed += 1;
        }
        chosen.push((line_id, unconfirmed));
    }
    if chosen.is_empty() {
        return Ok(outcome);
    }
    let approval = diesel::insert_into(payroll_approvals::table)
        .values((
            payroll_approvals::payroll_id.eq(payroll_id),
            payroll_approvals::approved_by.eq(approved_by),
            payroll_approvals::allow_unconfirmed.eq(allow_unconfirmed),
            payroll_approvals::line_count.eq(i32::try_from(chosen.len()).unwrap_or(i32::MAX)),
            payroll_approvals::amount.eq(outcome.amount),
            payroll_approvals::at.eq(at),
        ))
        .returning(Approval::as_returning())
        .get_result(conn)?;
    // 3 parameters a row: well under PostgreSQL's 65,535 per statement.
    for chunk in chosen.chunks(10_000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|(line_id, unconfirmed)| {
                (
                    approved_lines::line_id.eq(*line_id),
                    approved_lines::approval_id.eq(approval.id),
                    approved_lines::unconfirmed.eq(*unconfirmed),
                )
            })
            .collect();
        diesel::insert_into(approved_lines::table)
            .values(&rows)
            .execute(conn)?;
    }
    outcome.approval = Some(approval);
    Ok(outcome)
}

/// The project's setting: may unconfirmed lines be approved?
pub fn allows_unconfirmed(conn: &mut PgConnection, project_id: i64) -> Result<bool, DbError> {
    Ok(projects::table
        .find(project_id)
        .select(projects::allow_unconfirmed_approval)
        .first(conn)?)
}

pub fn set_allows_unconfirmed(
    conn: &mut PgConnection,
    project_id: i64,
    allow: bool,
) -> Result<(), DbError> {
    diesel::update(projects::table.find(project_id))
        .set(projects::allow_unconfirmed_approval.eq(allow))
        .execute(conn)?;
    Ok(())
}

/// The worker's phone on the project's roster, for the pay slip.
pub fn worker_phone(
    conn: &mut PgConnection,
    project_id: i64,
    worker_id: i64,
) -> Result<Option<String>, DbError> {
    Ok(roster_entries::table
        .filter(roster_entries::project_id.eq(project_id))
        .filter(roster_entries::worker_id.eq(worker_id))
        .select(roster_entries::phone)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

/// The project a payroll belongs to.
pub fn project(
    conn: &mut PgConnection,
    project_id: i64,
) -> Result<Option<super::projects::Project>, DbError> {
    Ok(projects::table
        .find(project_id)
        .select(super::projects::Project::as_select())
        .first(conn)
        .optional()?)
}
