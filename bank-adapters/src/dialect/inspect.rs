//! `wagebridge bank-file inspect FILE`: any bank file we read, described as
//! JSON for a person. Amounts are decimal strings (never floats), absent
//! values are `null`, and names of people are shown as the file has them:
//! the operator inspecting a file needs to see it.

use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::detect::{detect, Detected, DialectKind, MessageKind};
use crate::cn_icbc::{self, charset};
use crate::error::ReadError;
use crate::iso20022;
use crate::model::{
    AccountRef, Balance, Direction, Entry, LineStatus, PaymentBatch, PaymentLine, Statement,
    StatusReason, StatusReport,
};
use crate::payment_read::{self, PaymentFile};

/// Describes a bank file as JSON:
/// - statements, reports, notifications, ICBC history:
///   `{"dialect", "message", "statements": [{"account", "opening_balance",
///   "closing_balance", "entry_count", "total_credits", "total_debits",
///   "entries": [...]}]}` (ICBC adds `"next_tag"`);
/// - status reports: `{"dialect", "message", "original_message_id",
///   "group_status", "lines": [{"end_to_end_id", "status", "reason"}]}`;
/// - payment files: `{"dialect", "message", "message_id",
///   "number_of_transactions", "control_sum", "batches": [...]}`;
/// - ICBC queries: `{"dialect", "message", "query": {...}}`.
pub fn inspect(bytes: &[u8]) -> Result<Value, ReadError> {
    let detected = detect(bytes)?;
    let mut out = match (detected.kind, detected.dialect) {
        (MessageKind::PaymentBatch, _) => {
            payment_file_json(&payment_read::read_payment_file(bytes)?)
        }
        (MessageKind::StatusReport, DialectKind::IcbcCms) => {
            let report = cn_icbc::read_qpayper(bytes)?;
            let mut value = status_json(&report);
            value["duplicate_submission"] = json!(cn_icbc::is_duplicate_submission(&report));
            value
        }
        (MessageKind::StatusReport, DialectKind::Iso20022) => {
            let text = charset::decode(bytes)?;
            status_json(&iso20022::read_status_report(text.as_bytes())?)
        }
        (MessageKind::Statement, DialectKind::IcbcCms) => {
            let page = cn_icbc::read_qhisd_page(bytes)?;
            json!({
                "statements": [statement_json(&page.statement)],
                "next_tag": page.next_tag,
            })
        }
        (MessageKind::Statement, DialectKind::Iso20022) => {
            let text = charset::decode(bytes)?;
            let message = iso20022::read_cash_message(text.as_bytes())?;
            json!({
                "message_id": message.message_id,
                "created_at": message.created_at,
                "statements": message.statements.iter().map(statement_json).collect::<Vec<_>>(),
            })
        }
        (MessageKind::StatusQuery, _) => {
            let query = cn_icbc::read_qpayper_request(bytes)?;
            json!({"query": {
                "message_id": query.message_id,
                "created_at": query.created_at,
                "original_message_id": query.original_message_id,
                "serial_no": query.serial_no,
            }})
        }
        (MessageKind::HistoryQuery, _) => {
            let query = cn_icbc::read_qhisd_request(bytes)?;
            json!({"query": {
                "message_id": query.message_id,
                "created_at": query.created_at,
                "account": query.account,
                "begin_date": query.begin,
                "end_date": query.end,
                "next_tag": query.next_tag,
            }})
        }
        (MessageKind::Other, _) => {
            return Err(ReadError::UnknownFormat(format!(
                "{} is recognised but not a message we read",
                detected.message
            )))
        }
    };
    tag(&mut out, &detected);
    Ok(out)
}

/// Adds `dialect` and `message` to the object.
fn tag(value: &mut Value, detected: &Detected) {
    let mut tagged = serde_json::Map::new();
    tagged.insert("dialect".to_owned(), json!(detected.dialect.as_str()));
    tagged.insert("message".to_owned(), json!(detected.message));
    if let Value::Object(fields) = value.take() {
        tagged.extend(fields);
    }
    *value = Value::Object(tagged);
}

/// A decimal string with at least two decimals ("0.00", "8.85", "1.005" stays as is).
fn money(mut value: Decimal) -> Value {
    if value.scale() < 2 {
        value.rescale(2);
    }
    Value::String(value.to_string())
}

/// A balance's amount as a decimal string, or null when the file gives none.
fn balance(balance: Option<&Balance>) -> Value {
    balance.map_or(Value::Null, |b| money(b.amount.value))
}

fn balance_date(balance: Option<&Balance>) -> Value {
    balance
        .and_then(|b| b.date)
        .map_or(Value::Null, |d| json!(d))
}

fn account(account: &AccountRef) -> Value {
    json!({
        "number": account.number,
        "name": account.name,
        "bank_code": account.bank_code,
        "bank_name": account.bank_name,
    })
}

fn reason(reason: Option<&StatusReason>) -> Value {
    let Some(reason) = reason else {
        return Value::Null;
    };
    let text = [reason.code.as_deref(), reason.text.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if text.is_empty() {
        Value::Null
    } else {
        Value::String(text)
    }
}

fn statement_json(statement: &Statement) -> Value {
    json!({
        "kind": statement.kind,
        "statement_id": statement.statement_id,
        "sequence_number": statement.sequence_number,
        "created_at": statement.created_at,
        "account": statement.account.number,
        "account_name": statement.account.name,
        "currency": statement.currency,
        "from": statement.from,
        "to": statement.to,
        "opening_balance": balance(statement.opening_balance.as_ref()),
        "closing_balance": balance(statement.closing_balance.as_ref()),
        "available_balance": balance(statement.available_balance.as_ref()),
        "opening_balance_date": balance_date(statement.opening_balance.as_ref()),
        "closing_balance_date": balance_date(statement.closing_balance.as_ref()),
        "entry_count": statement.entries.len(),
        "stated_entry_count": statement.stated_summary.as_ref().and_then(|s| s.entry_count),
        "total_credits": total(statement, Direction::Credit),
        "total_debits": total(statement, Direction::Debit),
        "entries": statement.entries.iter().map(entry_json).collect::<Vec<_>>(),
    })
}

/// Sum of the entries in one direction, added with overflow checks (unlike
/// `Statement::total_credits`): a hostile file must not crash inspection.
/// `"overflow"` when the amounts cannot be added up.
fn total(statement: &Statement, direction: Direction) -> Value {
    statement
        .entries
        .iter()
        .filter(|e| e.direction == direction)
        .try_fold(Decimal::ZERO, |sum, e| sum.checked_add(e.amount.value))
        .map_or_else(|| Value::String("overflow".to_owned()), money)
}

fn entry_json(entry: &Entry) -> Value {
    json!({
        "direction": entry.direction,
        "amount": money(entry.amount.value),
        "currency": entry.amount.currency,
        "status": entry.status,
        "reversal": entry.reversal,
        "booking_date": entry.booking_date,
        "value_date": entry.value_date,
        "bank_reference": entry.bank_reference,
        "account_servicer_reference": entry.account_servicer_reference,
        "additional_info": entry.additional_info,
        "transactions": entry.transactions.iter().map(|t| json!({
            "amount": t.amount.as_ref().map(|a| money(a.value)),
            "end_to_end_id": t.end_to_end_id,
            "instruction_id": t.instruction_id,
            "counterparty": t.counterparty.as_ref().map(account),
            "remittance": t.remittance,
            "return_reason": t.return_reason,
        })).collect::<Vec<_>>(),
    })
}

fn status_json(report: &StatusReport) -> Value {
    json!({
        "message_id": report.message_id,
        "created_at": report.created_at,
        "original_message_id": report.original_message_id,
        "group_status": report.group_status,
        "group_status_code": report.group_status_code,
        "group_reason": reason(report.group_reason.as_ref()),
        "lines": report.lines.iter().map(line_status_json).collect::<Vec<_>>(),
    })
}

fn line_status_json(line: &LineStatus) -> Value {
    json!({
        "end_to_end_id": line.end_to_end_id,
        "instruction_id": line.instruction_id,
        "status": line.status,
        "status_code": line.status_code,
        "reason": reason(line.reason.as_ref()),
    })
}

fn payment_file_json(file: &PaymentFile) -> Value {
    json!({
        "message_id": file.message_id,
        "number_of_transactions": file.number_of_transactions(),
        "control_sum": money(file.control_sum()),
        "stated_number_of_transactions": file.stated_number_of_transactions,
        "stated_control_sum": file.stated_control_sum.map(money),
        "batches": file.batches.iter().map(batch_json).collect::<Vec<_>>(),
    })
}

fn batch_json(batch: &PaymentBatch) -> Value {
    json!({
        "created_at": batch.created_at,
        "requested_execution_date": batch.requested_execution_date,
        "initiating_party": batch.initiating_party,
        "debtor": account(&batch.debtor),
        "number_of_transactions": batch.number_of_transactions(),
        "control_sum": money(batch.control_sum()),
        "lines": batch.lines.iter().map(payment_line_json).collect::<Vec<_>>(),
    })
}

fn payment_line_json(line: &PaymentLine) -> Value {
    json!({
        "end_to_end_id": line.end_to_end_id,
        "instruction_id": line.instruction_id,
        "amount": money(line.amount.value),
        "currency": line.amount.currency,
        "creditor": account(&line.creditor),
        "remittance": line.remittance,
    })
}
