//! Reading batches back: the list, one batch with a page of its lines,
//! and the exceptions (rejected lines not paid since).

use std::collections::HashMap;

use diesel::PgConnection;

use super::views::*;
use crate::access::ProjectRole;
use crate::banking::reasons;
use crate::db::disbursements::{self as rows, Attempt, Batch};
use crate::db::projects::Project;
use crate::db::{self};
use crate::domain::{mask_middle, Period};
use crate::error::AppError;
use crate::paging::Page;

/// Who may read a project's disbursements: its general contractor, its
/// owner, a regulator of its region and the operators; not subcontractors
/// (a batch pays every employer's workers).
pub fn may_read(role: ProjectRole) -> bool {
    !matches!(role, ProjectRole::Subcontractor)
}

fn masked_card(card: &str) -> String {
    mask_middle(card.trim(), 4, 4)
}

pub(crate) fn summary(
    conn: &mut PgConnection,
    project: &Project,
    b: Batch,
) -> Result<BatchSummary, AppError> {
    let totals = rows::state_totals(conn, b.id)?
        .into_iter()
        .map(|t| StateTotalView {
            state: t.state,
            count: t.count,
            amount: t.amount,
        })
        .collect();
    let size_bytes = rows::file_size(conn, b.id)?;
    let outbox = rows::outbox_of(conn, b.id)?;
    Ok(BatchSummary {
        id: b.id,
        href: format!("/v1/projects/{}/disbursements/{}", project.code, b.id),
        period: b.period,
        message_id: b.message_id,
        status: b.status,
        hold_reason: b.hold_reason,
        hold_figures: b.hold_figures.and_then(|f| serde_json::from_value(f).ok()),
        created_at: b.created_at,
        sent_at: outbox.as_ref().and_then(|o| o.sent_at),
        requested_execution_date: b.requested_execution_date,
        amount: b.amount,
        line_count: b.line_count,
        previous_batch_id: b.previous_batch_id,
        totals,
        file: FileView {
            name: b.file_name,
            format: b.file_format,
            sha256: b.file_sha256,
            size_bytes,
        },
        outbox: outbox.map(|o| OutboxView {
            state: o.state,
            attempts: o.attempts,
            last_error: o.last_error,
            next_attempt_at: o.next_attempt_at,
            sent_at: o.sent_at,
        }),
    })
}

fn attempt_view(a: Attempt, events: Vec<LineEventView>) -> AttemptView {
    let reason = reasons::texts(a.reason_code.as_deref(), a.reason_text.as_deref());
    AttemptView {
        seq: a.seq,
        payroll_line_id: a.line_id,
        end_to_end_id: a.end_to_end_id,
        worker_name: a.creditor_name,
        card_number: masked_card(&a.card_number),
        amount: a.amount,
        state: a.state,
        reason_code: a.reason_code,
        reason_zh: reason.as_ref().map(|r| r.zh.clone()),
        reason_en: reason.map(|r| r.en),
        events,
    }
}

/// One batch of the project, with a page of its lines; 404 for another project's.
pub fn batch_view(
    conn: &mut PgConnection,
    project: &Project,
    batch_id: i64,
    page: Page,
) -> Result<BatchView, AppError> {
    let batch = rows::batch(conn, project.id, batch_id)?
        .ok_or_else(|| AppError::not_found("the disbursement batch"))?;
    let id = batch.id;
    let summary = summary(conn, project, batch)?;
    let mut actors: HashMap<i64, String> = HashMap::new();
    let mut events = Vec::new();
    for e in rows::batch_events(conn, id)? {
        let actor = match e.actor_id {
            Some(actor_id) => match actors.get(&actor_id) {
                Some(uscc) => Some(uscc.clone()),
                None => {
                    let uscc = db::organizations::find_by_id(conn, actor_id)?
                        .map(|o| o.uscc)
                        .unwrap_or_default();
                    actors.insert(actor_id, uscc.clone());
                    Some(uscc)
                }
            },
            None => None,
        };
        events.push(BatchEventView {
            status: e.status,
            at: e.at,
            actor,
            note: e.note,
        });
    }
    let attempts = rows::attempts_page(conn, id, page.after, page.fetch())?;
    let (attempts, next_cursor) = page.finish(attempts, |a| i64::from(a.seq));
    let ids: Vec<i64> = attempts.iter().map(|a| a.id).collect();
    let mut by_attempt: HashMap<i64, Vec<LineEventView>> = HashMap::new();
    for e in rows::line_events(conn, &ids)? {
        by_attempt
            .entry(e.attempt_id)
            .or_default()
            .push(LineEventView {
                from_state: e.from_state,
                to_state: e.to_state,
                at: e.at,
                cause: e.cause,
                reason_code: e.reason_code,
            });
    }
    let lines = attempts
        .into_iter()
        .map(|a| {
            let events = by_attempt.remove(&a.id).unwrap_or_default();
            attempt_view(a, events)
        })
        .collect();
    Ok(BatchView {
        summary,
        events,
        lines,
        next_cursor,
    })
}

/// The project's batches, newest first.
pub fn list(conn: &mut PgConnection, project: &Project, page: Page) -> Result<BatchList, AppError> {
    let batches = rows::batches_page(conn, project.id, page.after, page.fetch())?;
    let (batches, next_cursor) = page.finish(batches, |b| b.id);
    let mut views = Vec::with_capacity(batches.len());
    for b in batches {
        views.push(summary(conn, project, b)?);
    }
    Ok(BatchList {
        project: project.code.clone(),
        batches: views,
        next_cursor,
    })
}

/// Rejected lines not paid or in flight in a later attempt.
pub fn exceptions(
    conn: &mut PgConnection,
    project: &Project,
    period: Option<Period>,
    page: Page,
) -> Result<ExceptionList, AppError> {
    let period_text = period.map(|p| p.to_string());
    let found = rows::exceptions(
        conn,
        project.id,
        period_text.as_deref(),
        page.after,
        page.fetch(),
    )?;
    let (found, next_cursor) = page.finish(found, |e| e.attempt_id);
    let exceptions = found
        .into_iter()
        .map(|e| {
            let reason = reasons::texts(e.reason_code.as_deref(), e.reason_text.as_deref());
            ExceptionView {
                payroll_line_id: e.line_id,
                period: e.period,
                worker_name: e.creditor_name,
                card_number: masked_card(&e.card_number),
                amount: e.amount,
                reason_code: e.reason_code,
                reason_zh: reason.as_ref().map(|r| r.zh.clone()),
                reason_en: reason.map(|r| r.en),
                batch_id: e.batch_id,
                message_id: e.message_id,
                rejected_at: e.updated_at,
            }
        })
        .collect();
    Ok(ExceptionList {
        project: project.code.clone(),
        period: period_text,
        exceptions,
        next_cursor,
    })
}
