//! What the general contractor does for one worker's line: have his link
//! re-sent (a new token; the old one stops working at once) and record a
//! signed paper sheet as his confirmation (channel `paper`, marked with who
//! recorded it and the sheet's reference). Both audited.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::payrolls::{LineState, Payroll};
use crate::db::projects::Project;
use crate::db::schema::line_confirmations;
use crate::db::{self, audit};
use crate::domain::Period;
use crate::error::{AppError, ErrorCode};
use crate::notify::outbox;
use crate::payroll::read::visible_payrolls;
use crate::payroll::tokens;

/// Which line: of the current revision of one employer's payroll for a period.
pub(crate) struct LineRef<'a> {
    pub project: &'a Project,
    pub role: ProjectRole,
    pub caller: &'a Organization,
    pub period: Period,
    pub employer_uscc: Option<&'a str>,
    pub line_no: i32,
}

/// The line, its payroll (the current revision) and its state; only accepted lines.
fn current_line(conn: &mut PgConnection, r: &LineRef) -> Result<(Payroll, LineState), AppError> {
    let all = visible_payrolls(conn, r.project, r.role, r.caller, r.period, r.employer_uscc)?;
    let mut employers: Vec<i64> = all.iter().map(|p| p.employer_id).collect();
    employers.dedup();
    if employers.len() > 1 {
        return Err(AppError::field(
            "employer_uscc",
            ErrorCode::MissingField,
            "more than one employer has a payroll for this period: name the employer with ?employer_uscc=",
        ));
    }
    let Some(current) = all.into_iter().max_by_key(|p| p.revision) else {
        return Err(AppError::not_found(format!("a payroll for {}", r.period)));
    };
    let Some(line) = db::payrolls::line_states(conn, &[current.id])?
        .into_iter()
        .find(|l| l.line.line_no == r.line_no)
    else {
        return Err(AppError::not_found(format!("line {}", r.line_no)));
    };
    if line.line.status != "accepted" {
        return Err(AppError::new(
            ErrorCode::LineNotAccepted,
            format!(
                "line {} was rejected: it has no link and nothing to confirm",
                r.line_no
            ),
        ));
    }
    Ok((current, line))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenReissued {
    pub period: String,
    pub revision: i32,
    pub line: i32,
    /// `pending`: the new link goes out with the dispatcher's next round.
    pub notification_status: &'static str,
    pub notification_id: i64,
}

/// Withdraws the line's token and queues a new link for the worker.
pub(crate) fn reissue(
    conn: &mut PgConnection,
    r: &LineRef,
    now: DateTime<Utc>,
) -> Result<TokenReissued, AppError> {
    let (payroll, line) = current_line(conn, r)?;
    tokens::withdraw(conn, line.line.id)?;
    let notification_id = outbox::enqueue_resend(conn, line.line.id, now)?;
    audit::record(
        conn,
        now,
        Some(r.caller.id),
        "payroll_line",
        Some(line.line.id),
        "token_reissue_requested",
        serde_json::json!({ "payroll_id": payroll.id, "notification_id": notification_id }),
    )?;
    Ok(TokenReissued {
        period: payroll.period,
        revision: payroll.revision,
        line: line.line.line_no,
        notification_status: "pending",
        notification_id,
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaperConfirmation {
    pub period: String,
    pub revision: i32,
    pub line: i32,
    /// `confirmed`.
    pub state: &'static str,
    /// `paper`.
    pub channel: &'static str,
    pub sheet_reference: String,
    /// The labour officer's organisation (the general contractor), by USCC.
    pub recorded_by: String,
    pub at: DateTime<Utc>,
}

/// Records the worker's signature on the paper sheet as his confirmation.
pub(crate) fn record_paper(
    conn: &mut PgConnection,
    r: &LineRef,
    sheet_reference: &str,
    now: DateTime<Utc>,
) -> Result<PaperConfirmation, AppError> {
    let (payroll, line) = current_line(conn, r)?;
    let already = || {
        AppError::new(
            ErrorCode::AlreadyAnswered,
            "this line has already been answered",
        )
    };
    if line.confirmation.is_some() {
        return Err(already());
    }
    let inserted = diesel::insert_into(line_confirmations::table)
        .values((
            line_confirmations::line_id.eq(line.line.id),
            line_confirmations::action.eq("confirmed"),
            line_confirmations::channel.eq("paper"),
            line_confirmations::at.eq(now),
            line_confirmations::sheet_reference.eq(sheet_reference),
            line_confirmations::recorded_by.eq(r.caller.id),
        ))
        .on_conflict(line_confirmations::line_id)
        .do_nothing()
        .execute(conn)?;
    if inserted == 0 {
        return Err(already());
    }
    audit::record(
        conn,
        now,
        Some(r.caller.id),
        "payroll_line",
        Some(line.line.id),
        "confirmed",
        serde_json::json!({
            "channel": "paper",
            "payroll_id": payroll.id,
            "sheet_reference": sheet_reference,
            "recorded_by": r.caller.uscc,
        }),
    )?;
    Ok(PaperConfirmation {
        period: payroll.period,
        revision: payroll.revision,
        line: line.line.line_no,
        state: "confirmed",
        channel: "paper",
        sheet_reference: sheet_reference.to_owned(),
        recorded_by: r.caller.uscc.clone(),
        at: now,
    })
}
