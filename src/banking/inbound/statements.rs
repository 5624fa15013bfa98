//! Storing statements (camt.053/052/054, ICBC QHISD): one row per
//! statement with its continuity against the one before, its entries with
//! one COPY, and the debits of our attempts linked to them by end-to-end id.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use rust_decimal::Decimal;

use bank_adapters::model::{
    Direction, Entry, EntryStatus, Statement, StatementKind, TransactionDetail,
};

use super::attempts::{self, Cause, LineSignal};
use crate::db::bank_files::Finding;
use crate::db::statements::{self as db, NewEntry, NewStatement};
use crate::domain::disbursement::Signal;
use crate::domain::mask::mask_middle;
use crate::error::{AppError, ErrorCode};

/// What storing a file's statements did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub statements: usize,
    pub entries: usize,
    /// Statements whose account is no wage account of this connection.
    pub unknown_accounts: usize,
}

pub(crate) fn kind_text(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::Statement => "camt.053",
        StatementKind::Report => "camt.052",
        StatementKind::Notification => "camt.054",
        StatementKind::History => "icbc_qhisd",
    }
}

/// Stores every statement of a file that came over `connection_id`.
pub(crate) fn store_all(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection_id: i64,
    statements: Vec<Statement>,
    findings: &mut Vec<Finding>,
) -> Result<Stored, AppError> {
    let mut stored = Stored::default();
    for statement in statements {
        store_one(
            conn,
            now,
            file_id,
            connection_id,
            statement,
            findings,
            &mut stored,
        )?;
    }
    Ok(stored)
}

fn store_one(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection_id: i64,
    statement: Statement,
    findings: &mut Vec<Finding>,
    stored: &mut Stored,
) -> Result<(), AppError> {
    let kind = kind_text(statement.kind);
    let account = statement.account.number.trim().to_owned();
    let masked = mask_middle(&account, 4, 4);
    let sequence = statement
        .sequence_number
        .map(i64::try_from)
        .transpose()
        .map_err(|_| {
            invalid(
                "ElctrncSeqNb",
                "序号超出范围 (sequence number out of range)",
            )
        })?;
    if db::already_stored(conn, &account, kind, &statement.statement_id, sequence)? {
        findings.push(Finding::new(
            "DUPLICATE_STATEMENT",
            format!(
                "账户 {masked} 的 {kind} {:?} (序号 {sequence:?}) 已存储，不再重复 (already stored; not stored twice)",
                statement.statement_id
            ),
        ));
        return Ok(());
    }
    // The account counts as ours only when its bank code is served by the
    // connection the file came over: a bank cannot write into another
    // bank's accounts.
    let wage_account_id = match db::wage_account(conn, &account)? {
        Some((id, Some(via))) if via == connection_id => Some(id),
        _ => None,
    };
    if wage_account_id.is_none() {
        stored.unknown_accounts += 1;
        findings.push(Finding::new(
            "UNKNOWN_ACCOUNT",
            format!("账户 {masked} 不是本行任何项目的工资专户；对账单照存 (no wage account of this bank; the statement is kept)"),
        ));
    }
    let (continuity, detail) = continuity(conn, &statement, &account, kind, sequence)?;
    if let Some(detail) = &detail {
        findings.push(Finding::new(
            "CONTINUITY_BREAK",
            format!("账户 {masked} {kind}: {detail}"),
        ));
    }
    let rows = entry_rows(&statement, &account)?;
    let entry_count =
        i32::try_from(rows.len()).map_err(|_| invalid("Ntry", "条目过多 (too many entries)"))?;
    let row = NewStatement {
        file_id,
        account_number: &account,
        wage_account_id,
        kind,
        statement_id: &statement.statement_id,
        sequence_number: sequence,
        created_at: statement.created_at,
        from_at: statement.from,
        to_at: statement.to,
        currency: statement.currency.as_deref(),
        opening_balance: statement.opening_balance.as_ref().map(|b| b.amount.value),
        closing_balance: statement.closing_balance.as_ref().map(|b| b.amount.value),
        closing_date: statement.closing_balance.as_ref().and_then(|b| b.date),
        entry_count,
        continuity,
        continuity_detail: detail.as_deref(),
        stored_at: now,
    };
    let statement_row = db::insert(conn, &row)?;
    let debits = booked_debits(&rows);
    let returned = returned_payments(&rows);
    let rows = rows
        .into_iter()
        .map(|mut r| {
            r.statement_id = statement_row;
            r
        })
        .collect::<Vec<_>>();
    stored.entries += db::copy_entries(conn, rows)?;
    stored.statements += 1;
    for e2e in returned {
        findings.push(Finding::new(
            "PAYMENT_RETURNED",
            format!(
                "{e2e}: 已付款项被退回 (a payment came back); 请人工核对 (for a person to look at)"
            ),
        ));
    }
    link_debits(conn, now, file_id, connection_id, debits, findings)?;
    if let Some(account) = wage_account_id {
        // The statement may show the money a held batch was waiting for.
        let released = crate::banking::disburse::release_covered(conn, now, account)?;
        if !released.is_empty() {
            tracing::info!(wage_account_id = account, batches = ?released, "held batches released by a statement");
        }
    }
    Ok(())
}

/// first / continuous / break (with what was expected) / not_checked.
fn continuity(
    conn: &mut PgConnection,
    statement: &Statement,
    account: &str,
    kind: &str,
    sequence: Option<i64>,
) -> Result<(&'static str, Option<String>), AppError> {
    if statement.kind == StatementKind::Notification {
        return Ok(("not_checked", None));
    }
    let Some(previous) = db::previous(conn, account, kind, sequence)? else {
        return Ok(("first", None));
    };
    let opening = statement.opening_balance.as_ref().map(|b| b.amount.value);
    let mut problems = Vec::new();
    let mut checked = false;
    if let (Some(seq), Some(prev)) = (sequence, previous.sequence_number) {
        checked = true;
        if seq != prev + 1 {
            problems.push(format!(
                "序号应为 {}，实为 {seq} (sequence number expected {}, got {seq})",
                prev + 1,
                prev + 1
            ));
        }
    }
    if let (Some(open), Some(close)) = (opening, previous.closing_balance) {
        checked = true;
        if open != close {
            problems.push(format!(
                "期初余额应为 {close}（上一对账单 {:?} 的期末余额），实为 {open} (opening balance expected {close}, got {open})",
                previous.statement_id
            ));
        }
    }
    Ok(match (checked, problems.is_empty()) {
        (false, _) => ("not_checked", None),
        (true, true) => ("continuous", None),
        (true, false) => ("break", Some(problems.join("; "))),
    })
}

/// One row per entry; a batch entry whose transactions name their own
/// end-to-end ids is one row per transaction.
fn entry_rows(statement: &Statement, account: &str) -> Result<Vec<NewEntry>, AppError> {
    let mut rows = Vec::with_capacity(statement.entries.len());
    for entry in &statement.entries {
        let split = entry.transactions.len() > 1
            && entry
                .transactions
                .iter()
                .all(|t| t.end_to_end_id.is_some() && t.amount.is_some());
        if split {
            for tx in &entry.transactions {
                rows.push(entry_row(entry, Some(tx), true, account, rows.len())?);
            }
        } else {
            let tx = entry.transactions.first();
            rows.push(entry_row(entry, tx, false, account, rows.len())?);
        }
    }
    Ok(rows)
}

fn entry_row(
    entry: &Entry,
    tx: Option<&TransactionDetail>,
    split: bool,
    account: &str,
    index: usize,
) -> Result<NewEntry, AppError> {
    let entry_no =
        i32::try_from(index + 1).map_err(|_| invalid("Ntry", "条目过多 (too many entries)"))?;
    let amount = match (split, tx.and_then(|t| t.amount.as_ref())) {
        (true, Some(amount)) => amount,
        _ => &entry.amount,
    };
    if amount.value.is_sign_negative() {
        return Err(invalid(
            "Ntry/Amt",
            format!(
                "第 {entry_no} 条金额为负 ({}) (a negative amount)",
                amount.value
            ),
        ));
    }
    let counterparty = tx.and_then(|t| t.counterparty.as_ref());
    Ok(NewEntry {
        statement_id: 0,
        entry_no,
        account_number: account.to_owned(),
        booking_date: entry.booking_date,
        value_date: entry.value_date,
        booked_at: None,
        amount: amount.value.round_dp(2),
        currency: Some(amount.currency.clone()),
        direction: match entry.direction {
            Direction::Credit => "credit",
            Direction::Debit => "debit",
        },
        status: match entry.status {
            EntryStatus::Booked => "booked",
            EntryStatus::Pending => "pending",
            EntryStatus::Info => "info",
        },
        reversal: entry.reversal,
        counterparty_account: counterparty
            .map(|c| c.number.clone())
            .filter(|n| !n.is_empty()),
        counterparty_name: counterparty.and_then(|c| c.name.clone()),
        end_to_end_id: tx.and_then(|t| t.end_to_end_id.clone()),
        batch_message_id: if split {
            tx.and_then(|t| t.message_id.clone())
        } else {
            None
        },
        payment_information_id: None,
        bank_reference: entry
            .account_servicer_reference
            .clone()
            .or_else(|| entry.bank_reference.clone()),
        remittance: tx
            .and_then(|t| t.remittance.clone())
            .or_else(|| entry.additional_info.clone()),
    })
}

/// Booked debits that name an end-to-end id, with their amounts.
fn booked_debits(rows: &[NewEntry]) -> HashMap<String, Decimal> {
    rows.iter()
        .filter(|r| r.direction == "debit" && r.status == "booked" && !r.reversal)
        .filter_map(|r| r.end_to_end_id.clone().map(|id| (id, r.amount)))
        .collect()
}

fn returned_payments(rows: &[NewEntry]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.reversal && r.direction == "credit")
        .filter_map(|r| r.end_to_end_id.clone())
        .collect()
}

/// A booked debit of one of our attempts settles it (if no status came).
fn link_debits(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection_id: i64,
    debits: HashMap<String, Decimal>,
    findings: &mut Vec<Finding>,
) -> Result<(), AppError> {
    if debits.is_empty() {
        return Ok(());
    }
    let ids: Vec<String> = debits.keys().cloned().collect();
    let mut by_batch: BTreeMap<i64, Vec<LineSignal>> = BTreeMap::new();
    for named in db::batches_of_attempts(conn, connection_id, &ids)? {
        let booked = debits.get(&named.end_to_end_id).copied();
        if booked != Some(named.amount) {
            // Not what we asked the bank to pay: for a person, not for the state machine.
            findings.push(Finding::new(
                "AMOUNT_MISMATCH",
                format!(
                    "{}: 借记 {} 与付款金额 {} 不符，未更改 (the debit differs from the attempt's amount; nothing changed)",
                    named.end_to_end_id,
                    booked.unwrap_or_default(),
                    named.amount
                ),
            ));
            continue;
        }
        by_batch
            .entry(named.batch_id)
            .or_default()
            .push(LineSignal {
                end_to_end_id: named.end_to_end_id,
                signal: Signal::Debited,
                reason_code: None,
                reason_text: None,
            });
    }
    // In batch id order, so two files never lock two batches crosswise.
    for (batch_id, signals) in by_batch {
        attempts::apply(
            conn,
            now,
            file_id,
            Cause::Statement,
            batch_id,
            &signals,
            findings,
        )?;
    }
    Ok(())
}

fn invalid(field: &str, detail: impl Into<String>) -> AppError {
    AppError::field(field, ErrorCode::InvalidFormat, detail)
}
