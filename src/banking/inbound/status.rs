//! Applying a status report (pain.002, ICBC PAYPER / QPAYPER answers) to
//! the batch it answers: each line's status becomes a [`Signal`] for its
//! attempt; what we never sent, or what contradicts a final state, becomes
//! a finding and changes nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use bank_adapters::dialect::DialectKind;
use bank_adapters::model::{LineStatus, PaymentStatus, StatusReason, StatusReport};

use super::attempts::{self, Cause, LineSignal};
use crate::db::bank_files::Finding;
use crate::db::schema::{disbursement_batches, disbursement_lines};
use crate::domain::disbursement::Signal;
use crate::error::AppError;

/// ISO 20022 reason "duplicate message": the bank already has the batch.
const DUPLICATE_MESSAGE: &str = "DU01";
/// ICBC: the package id was used before: "already submitted, query it".
const ICBC_DUPLICATE_PACKAGE: &str = bank_adapters::cn_icbc::qpayper::DUPLICATE_PACKAGE;

/// What a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReportOutcome {
    Applied {
        changed: usize,
        unchanged: usize,
    },
    /// No batch of this connection has the report's original message id:
    /// the file is quarantined with this reason.
    UnknownBatch(String),
}

/// Applies `report`, which came over connection `connection_id`.
pub(crate) fn apply_report(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection_id: i64,
    dialect: DialectKind,
    report: &StatusReport,
    findings: &mut Vec<Finding>,
) -> Result<ReportOutcome, AppError> {
    // A batch of another connection is as unknown as one never made: one
    // bank cannot change (or learn of) another bank's payments.
    let batch_id: Option<i64> = disbursement_batches::table
        .filter(disbursement_batches::message_id.eq(&report.original_message_id))
        .filter(disbursement_batches::connection_id.eq(connection_id))
        .select(disbursement_batches::id)
        .first(conn)
        .optional()?;
    let Some(batch_id) = batch_id else {
        let reason = format!(
            "没有报文编号为 {:?} 的代发批次 (no batch of this bank has the original message id)",
            report.original_message_id
        );
        findings.push(Finding::new("UNKNOWN_BATCH", reason.clone()));
        return Ok(ReportOutcome::UnknownBatch(reason));
    };
    if is_duplicate_submission(report) {
        findings.push(Finding::new(
            "DUPLICATE_SUBMISSION",
            format!(
                "银行已收到批次 {}，此为重复提交的回执；付款状态不变，请查询 (the bank already has the batch; nothing changes: query it)",
                report.original_message_id
            ),
        ));
        return Ok(ReportOutcome::Applied {
            changed: 0,
            unchanged: 0,
        });
    }
    let signals = if report.lines.is_empty() {
        whole_batch(conn, batch_id, report, dialect, findings)?
    } else {
        signals_of(report, dialect, findings)
    };
    let applied = attempts::apply(
        conn,
        now,
        file_id,
        Cause::StatusReport,
        batch_id,
        &signals,
        findings,
    )?;
    if applied.changed == 0 && applied.unchanged > 0 {
        findings.push(Finding::new(
            "REPEATED_REPORT",
            format!(
                "回执未带来新的状态 ({} 笔已是此状态) (the report changed nothing: {} lines already had these states)",
                applied.unchanged, applied.unchanged
            ),
        ));
    }
    Ok(ReportOutcome::Applied {
        changed: applied.changed,
        unchanged: applied.unchanged,
    })
}

fn is_duplicate_submission(report: &StatusReport) -> bool {
    let group_reason = report.group_reason.as_ref().and_then(|r| r.code.as_deref());
    let rejected = report.group_status == Some(PaymentStatus::Rejected);
    (rejected && group_reason == Some(DUPLICATE_MESSAGE))
        || report.group_status_code.as_deref() == Some(ICBC_DUPLICATE_PACKAGE)
}

/// Each line's signal; when the report has no line statuses, the group
/// status stands for every line of the batch — never a partial one (PART).
fn signals_of(
    report: &StatusReport,
    dialect: DialectKind,
    findings: &mut Vec<Finding>,
) -> Vec<LineSignal> {
    let mut signals = Vec::with_capacity(report.lines.len());
    for line in &report.lines {
        match line_signal(line, dialect) {
            Some(signal) => signals.push(LineSignal {
                end_to_end_id: line.end_to_end_id.clone(),
                signal,
                reason_code: reason_part(line.reason.as_ref(), |r| r.code.clone()),
                reason_text: reason_part(line.reason.as_ref(), |r| r.text.clone()),
            }),
            None => findings.push(Finding::new(
                "UNKNOWN_STATUS",
                format!(
                    "{}: 无法识别的状态码 {:?}，未更改 (a status code we do not know; nothing changed)",
                    line.end_to_end_id, line.status_code
                ),
            )),
        }
    }
    signals
}

/// A report without line statuses: its group status for every attempt of
/// the batch, with the group's reason.
fn whole_batch(
    conn: &mut PgConnection,
    batch_id: i64,
    report: &StatusReport,
    dialect: DialectKind,
    findings: &mut Vec<Finding>,
) -> Result<Vec<LineSignal>, AppError> {
    let Some(signal) = group_signal(report, dialect, findings) else {
        return Ok(Vec::new());
    };
    let ids: Vec<String> = disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .order(disbursement_lines::seq)
        .select(disbursement_lines::end_to_end_id)
        .load(conn)?;
    let reason = report.group_reason.as_ref();
    Ok(ids
        .into_iter()
        .map(|end_to_end_id| LineSignal {
            end_to_end_id,
            signal,
            reason_code: reason_part(reason, |r| r.code.clone()),
            reason_text: reason_part(reason, |r| r.text.clone()),
        })
        .collect())
}

/// The group's signal for each line, or `None` (with a finding) when the
/// group status says nothing per line.
fn group_signal(
    report: &StatusReport,
    dialect: DialectKind,
    findings: &mut Vec<Finding>,
) -> Option<Signal> {
    let code = report.group_status_code.as_deref().unwrap_or("");
    let signal = match dialect {
        DialectKind::Iso20022 if code == "PART" => None,
        DialectKind::Iso20022 => iso_signal(code, report.group_status),
        // RetCode 0: the package is accepted (not paid); a refused PAYPER is
        // rejected; a failed query says nothing about the payments.
        DialectKind::IcbcCms => match report.group_status {
            Some(PaymentStatus::Accepted) => Some(Signal::Accepted),
            Some(PaymentStatus::Rejected) => Some(Signal::Rejected),
            _ => None,
        },
    };
    if signal.is_none() {
        findings.push(Finding::new(
            "GROUP_STATUS_WITHOUT_LINES",
            format!(
                "整批状态 {code:?} 未列出各笔付款，无法据此更改 (a group status without line statuses that says nothing per line; nothing changed)"
            ),
        ));
    }
    signal
}

fn line_signal(line: &LineStatus, dialect: DialectKind) -> Option<Signal> {
    match dialect {
        DialectKind::Iso20022 => iso_signal(&line.status_code, Some(line.status)),
        DialectKind::IcbcCms => Some(icbc_signal(&line.status_code)),
    }
}

fn iso_signal(code: &str, status: Option<PaymentStatus>) -> Option<Signal> {
    match code {
        "ACSC" | "ACCC" => Some(Signal::Settled),
        "ACTC" | "ACCP" | "ACSP" | "ACWC" | "PDNG" | "RCVD" => Some(Signal::Accepted),
        "RJCT" => Some(Signal::Rejected),
        _ => match status {
            Some(PaymentStatus::Settled) => Some(Signal::Settled),
            Some(PaymentStatus::Rejected) => Some(Signal::Rejected),
            _ => None,
        },
    }
}

/// ICBC per-row `Result`: 7 paid; 6, 8 refused; 98 unknown (query again);
/// anything else still in the bank's hands.
fn icbc_signal(result: &str) -> Signal {
    match result {
        "7" => Signal::Settled,
        "6" | "8" => Signal::Rejected,
        "98" => Signal::Unknown,
        _ => Signal::Accepted,
    }
}

fn reason_part(
    reason: Option<&StatusReason>,
    part: impl Fn(&StatusReason) -> Option<String>,
) -> Option<String> {
    reason.and_then(part).filter(|s| !s.trim().is_empty())
}
