//! The simulated bank speaking ICBC's CMS dialect (`dialect = "icbc_cms"`):
//! a PAYPER package is executed like any payment file and acknowledged with
//! the PAYPER answer (`RetCode` 0, or `B0012` for a reused `fSeqno`, with
//! nothing booked); QPAYPER is answered with each row's `Result` (7 settled,
//! 6 rejected, 8 authorisation refused, 98 "communication doubtful" the first time a line listed in
//! `icbc_unknown_first` is asked about); QHISD with the account's history,
//! `icbc_page_size` rows a page, `NextTag` the next row's offset.
//!
//! Answers are GBK bytes, owed in the ledger (hex) like every answer.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::cn_icbc::{
    self, write_payper_response, write_qhisd_response, write_qpayper_response, HistoryQuery,
    IcbcConnection, PackageQuery, DUPLICATE_PACKAGE,
};
use crate::model::{
    AccountRef, Amount, Balance, Direction, LineStatus, PaymentStatus, Statement, StatementKind,
    StatusReason, StatusReport,
};

use super::ledger::Ledger;
use super::{Config, SimError};

/// Rows per QHISD page unless configured.
pub const DEFAULT_PAGE_SIZE: usize = 20;

/// `RetCode` of a QPAYPER about a package the bank never took (the
/// simulator's own code: ICBC's is not public).
const UNKNOWN_PACKAGE: &str = "SIM404";

/// A CMS query the bank answers without booking anything.
pub(super) enum Query {
    Payments(PackageQuery),
    History(HistoryQuery),
}

/// Who asked, for the answer's `pub` header; and what, when it is a query.
/// `None` when the bytes are not a CMS package (or a PAYPER: the payment path).
pub(super) fn query_of(bytes: &[u8]) -> Option<(IcbcConnection, Result<Query, String>)> {
    let header = cn_icbc::read_header(bytes).ok()?;
    let conn = IcbcConnection::new(header.cis.clone(), header.id.clone());
    let query = match header.trans_code.as_str() {
        "QPAYPER" => cn_icbc::read_qpayper_request(bytes).map(Query::Payments),
        "QHISD" => cn_icbc::read_qhisd_request(bytes).map(Query::History),
        _ => return None,
    };
    Some((conn, query.map_err(|e| e.to_string())))
}

/// The answer to a query [`query_of`] found.
pub(super) fn answer_query(
    ledger: &mut Ledger,
    config: &Config,
    (conn, query): (IcbcConnection, Result<Query, String>),
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SimError> {
    match query {
        Ok(Query::Payments(q)) => qpayper_answer(ledger, config, &conn, &q, at),
        Ok(Query::History(q)) => qhisd_answer(ledger, config, &conn, &q, at),
        Err(reason) => Err(SimError::Refused(reason)),
    }
}

/// The connection a PAYPER came from (its header), for the acknowledgement.
pub(super) fn connection_of(bytes: &[u8]) -> Result<IcbcConnection, SimError> {
    let header = cn_icbc::read_header(bytes).map_err(|e| SimError::Refused(e.to_string()))?;
    Ok(IcbcConnection::new(header.cis, header.id))
}

/// The PAYPER acknowledgement: taken (`0`, `SerialNo` = `serial_no`) or a
/// reused `fSeqno` (`B0012`).
pub(super) fn payper_answer(
    conn: &IcbcConnection,
    f_seqno: &str,
    serial_no: &str,
    duplicate: bool,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SimError> {
    let (code, text) = if duplicate {
        (DUPLICATE_PACKAGE, "指令包序列号为空或重复")
    } else {
        ("0", "成功")
    };
    let report = StatusReport {
        message_id: Some(serial_no.to_owned()),
        created_at: Some(at),
        original_message_id: f_seqno.to_owned(),
        group_status_code: Some(code.to_owned()),
        group_status: None,
        group_reason: Some(StatusReason {
            code: None,
            text: Some(text.to_owned()),
        }),
        lines: Vec::new(),
        blocks: Vec::new(),
    };
    Ok(write_payper_response(&report, conn)?)
}

/// The QPAYPER answer from what the ledger executed for the package.
pub(super) fn qpayper_answer(
    ledger: &mut Ledger,
    config: &Config,
    conn: &IcbcConnection,
    query: &PackageQuery,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SimError> {
    let original = query.original_message_id.clone().unwrap_or_default();
    let mut report = StatusReport {
        message_id: Some(query.message_id.clone()),
        created_at: Some(at),
        original_message_id: original.clone(),
        group_status_code: Some("0".to_owned()),
        group_status: None,
        group_reason: None,
        lines: Vec::new(),
        blocks: Vec::new(),
    };
    let Some(done) = ledger.executed.get(&original) else {
        report.group_status_code = Some(UNKNOWN_PACKAGE.to_owned());
        report.group_reason = Some(StatusReason {
            code: None,
            text: Some("指令包不存在 (no such package)".to_owned()),
        });
        return Ok(write_qpayper_response(&report, conn)?);
    };
    let mut first_asked = Vec::new();
    for (index, line) in done.lines.iter().enumerate() {
        let doubtful = config.icbc_unknown_first.contains(&line.end_to_end_id)
            && !ledger.icbc_asked.contains(&line.end_to_end_id);
        let (code, status) = if doubtful {
            first_asked.push(line.end_to_end_id.clone());
            ("98", PaymentStatus::Unknown)
        } else if line.booking_id.is_some() {
            ("7", PaymentStatus::Settled)
        } else if line.reason_code.as_deref() == Some(super::reason::AUTHORISATION_REFUSED.0) {
            ("8", PaymentStatus::Rejected)
        } else {
            ("6", PaymentStatus::Rejected)
        };
        let reason = match (&line.reason_code, doubtful) {
            (Some(code), false) => Some(StatusReason {
                code: Some(code.clone()),
                text: super::answer::reason_text(code).map(str::to_owned),
            }),
            _ => None,
        };
        report.lines.push(LineStatus {
            end_to_end_id: line.end_to_end_id.clone(),
            instruction_id: Some((index + 1).to_string()),
            status_code: code.to_owned(),
            status,
            reason,
            payment_information_id: None,
        });
    }
    ledger.icbc_asked.extend(first_asked);
    Ok(write_qpayper_response(&report, conn)?)
}

/// One QHISD page: the account's bookings dated within the query, oldest
/// first, from the offset in `NextTag`.
pub(super) fn qhisd_answer(
    ledger: &Ledger,
    config: &Config,
    conn: &IcbcConnection,
    query: &HistoryQuery,
    at: DateTime<Utc>,
) -> Result<Vec<u8>, SimError> {
    let page_size = config.icbc_page_size.unwrap_or(DEFAULT_PAGE_SIZE).max(1);
    let offset: usize = query
        .next_tag
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let account = ledger.accounts.get(&query.account);
    let rows: Vec<usize> = ledger
        .bookings
        .iter()
        .enumerate()
        .filter(|(_, b)| b.account == query.account)
        .filter(|(_, b)| (query.begin..=query.end).contains(&b.booking_date))
        .map(|(i, _)| i)
        .collect();
    let page: Vec<usize> = rows.iter().copied().skip(offset).take(page_size).collect();
    let next_tag = (offset + page.len() < rows.len()).then(|| (offset + page.len()).to_string());
    let signed = |i: usize| {
        let b = &ledger.bookings[i];
        match b.direction {
            Direction::Credit => b.amount,
            Direction::Debit => -b.amount,
        }
    };
    // The balance before the page's first row: today's less all it and later moved.
    let later: Decimal = match page.first() {
        Some(&first) => (first..ledger.bookings.len())
            .filter(|&i| ledger.bookings[i].account == query.account)
            .map(signed)
            .sum(),
        None => Decimal::ZERO,
    };
    let balance = account.map(|a| a.balance).unwrap_or_default();
    let opening = balance - later;
    let closing = opening + page.iter().map(|&i| signed(i)).sum::<Decimal>();
    let statement = Statement {
        kind: StatementKind::History,
        statement_id: query.message_id.clone(),
        sequence_number: None,
        created_at: Some(at),
        account: AccountRef {
            number: query.account.clone(),
            name: account.and_then(|a| a.name.clone()),
            bank_code: None,
            bank_name: None,
        },
        currency: Some("CNY".to_owned()),
        from: None,
        to: None,
        opening_balance: Some(Balance {
            amount: Amount::cny(opening),
            date: Some(query.begin),
        }),
        closing_balance: Some(Balance {
            amount: Amount::cny(closing),
            date: Some(query.end),
        }),
        available_balance: None,
        stated_summary: None,
        entries: page
            .iter()
            .map(|&i| super::answer::entry(&ledger.bookings[i]))
            .collect(),
    };
    Ok(write_qhisd_response(&statement, next_tag.as_deref(), conn)?)
}
