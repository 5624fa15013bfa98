//! `wagebridge bank-file inspect FILE`: any bank file we read, described as
//! JSON for a person. Amounts are decimal strings (never floats), absent
//! values are `null`, and names of people are shown as the file has them:
//! the operator inspecting a file needs to see it.
//!
//! [`inspect_to`] streams: an ISO 20022 statement (camt.052/053/054, which
//! may be gigabytes) is read entry by entry and written as it is read, so
//! memory stays flat; every other file (at most [`MAX_IN_MEMORY_BYTES`]) is
//! described whole, as [`inspect`] does.

use std::cell::Cell;
use std::io::{self, Read, Write};
use std::rc::Rc;

use rust_decimal::Decimal;
use serde_json::{json, Map, Value};

use super::detect::{detect, Detected, DialectKind, MessageKind, SNIFF_BYTES};
use crate::cn_icbc::{self, charset};
use crate::error::{Position, ReadError};
use crate::iso20022::{self, CashHeader, StatementSink};
use crate::model::{
    AccountRef, Balance, BatchRef, Direction, Entry, LineStatus, PaymentBatch, PaymentBlockStatus,
    PaymentLine, Statement, StatusReason, StatusReport,
};
use crate::payment_read::{self, PaymentFile};
use crate::read_options::ReadOptions;

/// Largest file [`inspect_to`] reads into memory: everything but ISO 20022
/// statements, which it streams. Status reports for 100,000 lines are
/// about 40 MB.
pub const MAX_IN_MEMORY_BYTES: u64 = 256 * 1024 * 1024;

/// Describes a bank file as JSON:
/// - statements, reports, notifications, ICBC history:
///   `{"dialect", "message", "statements": [{"account", "opening_balance",
///   "closing_balance", "entry_count", "total_credits", "total_debits",
///   "entries": [...]}]}` (ICBC adds `"next_tag"`);
/// - status reports: `{"dialect", "message", "original_message_id",
///   "group_status", "blocks": [{"payment_information_id", "status",
///   "reason", "original_count", "line_count"}], "lines": [{"end_to_end_id",
///   "payment_information_id", "status", "reason"}]}`;
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
    let mut totals = Totals::default();
    statement.entries.iter().for_each(|e| totals.add(e));
    let mut fields = statement_head(statement);
    fields.extend(statement_tail(statement, &totals));
    fields.insert(
        "entries".to_owned(),
        Value::Array(statement.entries.iter().map(entry_json).collect()),
    );
    Value::Object(fields)
}

/// The fields of a `json!` object literal.
fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(fields) => fields,
        _ => Map::new(),
    }
}

/// What a statement says before its entries.
fn statement_head(statement: &Statement) -> Map<String, Value> {
    object(json!({
        "kind": statement.kind,
        "statement_id": statement.statement_id,
        "sequence_number": statement.sequence_number,
        "created_at": statement.created_at,
        "account": statement.account.number,
        "account_name": statement.account.name,
        "currency": statement.currency,
        "from": statement.from,
        "to": statement.to,
    }))
}

/// Balances, counts and sums: what is known once the entries are read.
fn statement_tail(statement: &Statement, totals: &Totals) -> Map<String, Value> {
    object(json!({
        "opening_balance": balance(statement.opening_balance.as_ref()),
        "closing_balance": balance(statement.closing_balance.as_ref()),
        "available_balance": balance(statement.available_balance.as_ref()),
        "opening_balance_date": balance_date(statement.opening_balance.as_ref()),
        "closing_balance_date": balance_date(statement.closing_balance.as_ref()),
        "entry_count": totals.count,
        "stated_entry_count": statement.stated_summary.as_ref().and_then(|s| s.entry_count),
        "total_credits": totals.credits.map_or_else(overflow, money),
        "total_debits": totals.debits.map_or_else(overflow, money),
    }))
}

/// Entry count and the sums of the entries in each direction, added with
/// overflow checks (unlike `Statement::total_credits`): a hostile file must
/// not crash inspection. A sum is `None` once it overflows.
struct Totals {
    count: u64,
    credits: Option<Decimal>,
    debits: Option<Decimal>,
}

impl Default for Totals {
    fn default() -> Self {
        Totals {
            count: 0,
            credits: Some(Decimal::ZERO),
            debits: Some(Decimal::ZERO),
        }
    }
}

impl Totals {
    fn add(&mut self, entry: &Entry) {
        self.count += 1;
        let sum = match entry.direction {
            Direction::Credit => &mut self.credits,
            Direction::Debit => &mut self.debits,
        };
        *sum = sum.and_then(|total| total.checked_add(entry.amount.value));
    }
}

/// `"overflow"`: the amounts cannot be added up.
fn overflow() -> Value {
    Value::String("overflow".to_owned())
}

fn entry_json(entry: &Entry) -> Value {
    json!({
        "direction": entry.direction,
        "amount": money(entry.amount.value),
        "currency": entry.amount.currency,
        "status": entry.status,
        "reversal": entry.reversal,
        "booking_date": entry.booking_date,
        "booked_at": entry.booked_at,
        "value_date": entry.value_date,
        "bank_reference": entry.bank_reference,
        "account_servicer_reference": entry.account_servicer_reference,
        "additional_info": entry.additional_info,
        "batch": entry.batch.as_ref().map(batch_ref_json),
        "transactions": entry.transactions.iter().map(|t| json!({
            "amount": t.amount.as_ref().map(|a| money(a.value)),
            "end_to_end_id": t.end_to_end_id,
            "message_id": t.message_id,
            "payment_information_id": t.payment_information_id,
            "instruction_id": t.instruction_id,
            "counterparty": t.counterparty.as_ref().map(account),
            "remittance": t.remittance,
            "return_reason": t.return_reason,
        })).collect::<Vec<_>>(),
    })
}

fn batch_ref_json(batch: &BatchRef) -> Value {
    json!({
        "message_id": batch.message_id,
        "payment_information_id": batch.payment_information_id,
        "count": batch.count,
        "total": batch.total.as_ref().map(|a| money(a.value)),
        "currency": batch.total.as_ref().map(|a| &a.currency),
        "direction": batch.direction,
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
        "blocks": report.blocks.iter().map(block_json).collect::<Vec<_>>(),
        "lines": report.lines.iter().map(line_status_json).collect::<Vec<_>>(),
    })
}

fn block_json(block: &PaymentBlockStatus) -> Value {
    json!({
        "payment_information_id": block.original_payment_information_id,
        "status": block.status,
        "status_code": block.status_code,
        "reason": reason(block.reason.as_ref()),
        "original_count": block.original_count,
        "original_control_sum": block.original_control_sum.map(money),
        "line_count": block.line_count,
    })
}

fn line_status_json(line: &LineStatus) -> Value {
    json!({
        "end_to_end_id": line.end_to_end_id,
        "instruction_id": line.instruction_id,
        "payment_information_id": line.payment_information_id,
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

/// Why [`inspect_to`] stopped.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// The file could not be read (or is not a bank file we read).
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The description could not be written (a closed pipe, a full disk).
    #[error("cannot write the description: {0}")]
    Write(io::Error),
}

/// Describes a bank file as [`inspect`] does, writing the JSON to `out` as
/// it goes: an ISO 20022 statement in UTF-8 is streamed (header, then each
/// entry as it is read, then balances and totals), so memory stays flat
/// whatever the file's size; any other file is read whole, up to
/// [`MAX_IN_MEMORY_BYTES`]. Offset-less times are read at +08:00.
///
/// The JSON parses to the same value as [`inspect`]'s. On a read error in
/// the middle of a statement, what was written so far stays written
/// (incomplete JSON) and the error is returned.
pub fn inspect_to<R: Read, W: Write>(mut input: R, out: &mut W) -> Result<(), InspectError> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    (&mut input)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(ReadError::Io)?;
    let detected = detect(&head)?;
    let streams = detected.kind == MessageKind::Statement
        && detected.dialect == DialectKind::Iso20022
        && charset::declared_encoding(&head)? == encoding_rs::UTF_8;
    let whole = io::Cursor::new(head).chain(input);
    if streams {
        return stream_statements(whole, &detected, out);
    }
    let mut bytes = Vec::new();
    whole
        .take(MAX_IN_MEMORY_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > MAX_IN_MEMORY_BYTES {
        return Err(ReadError::Limit {
            position: Position::default(),
            message: format!(
                "a {} file over {MAX_IN_MEMORY_BYTES} bytes is not inspected",
                detected.message
            ),
        }
        .into());
    }
    let value = inspect(&bytes)?;
    serde_json::to_writer_pretty(&mut *out, &value).map_err(|e| InspectError::Write(e.into()))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(InspectError::Write)
}

fn stream_statements<R: Read, W: Write>(
    input: R,
    detected: &Detected,
    out: &mut W,
) -> Result<(), InspectError> {
    let stop = Rc::new(Cell::new(false));
    let input = io::BufReader::with_capacity(
        256 * 1024,
        StopWhen {
            inner: input,
            stop: Rc::clone(&stop),
        },
    );
    let mut sink = JsonSink {
        out,
        message: &detected.message,
        dialect: detected.dialect.as_str(),
        failed: None,
        stop,
        statements: 0,
        entries: 0,
        totals: Totals::default(),
    };
    let read = iso20022::read_cash_stream_with(input, &mut sink, &ReadOptions::default());
    if let Some(error) = sink.failed.take() {
        return Err(InspectError::Write(error));
    }
    read?;
    let close: &[u8] = if sink.statements == 0 {
        b"]\n}\n"
    } else {
        b"\n  ]\n}\n"
    };
    sink.write(|out| out.write_all(close).and_then(|()| out.flush()));
    match sink.failed.take() {
        Some(error) => Err(InspectError::Write(error)),
        None => Ok(()),
    }
}

/// Ends the reading early once the output is gone (`| head`): the reader
/// gets an I/O error instead of parsing the rest of a gigabyte for nobody.
struct StopWhen<R> {
    inner: R,
    stop: Rc<Cell<bool>>,
}

impl<R: Read> Read for StopWhen<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.get() {
            return Err(io::Error::other("the description's output is closed"));
        }
        self.inner.read(buf)
    }
}

/// Writes the description of a cash message as the reader hands it over.
struct JsonSink<'a, W: Write> {
    out: &'a mut W,
    message: &'a str,
    dialect: &'a str,
    /// The first write error; nothing more is written after it.
    failed: Option<io::Error>,
    stop: Rc<Cell<bool>>,
    statements: usize,
    entries: usize,
    totals: Totals,
}

impl<W: Write> JsonSink<'_, W> {
    fn write(&mut self, step: impl FnOnce(&mut W) -> io::Result<()>) {
        if self.failed.is_some() {
            return;
        }
        if let Err(error) = step(self.out) {
            self.failed = Some(error);
            self.stop.set(true);
        }
    }

    /// One `"key": value` line per field, each followed by a comma.
    fn fields(&mut self, fields: Map<String, Value>, indent: &str) {
        self.write(|out| {
            for (key, value) in fields {
                write!(out, "{indent}{}: ", Value::String(key))?;
                serde_json::to_writer(&mut *out, &value)?;
                out.write_all(b",\n")?;
            }
            Ok(())
        });
    }
}

impl<W: Write> StatementSink for JsonSink<'_, W> {
    fn group_header(&mut self, header: &CashHeader) {
        let fields = object(json!({
            "dialect": self.dialect,
            "message": self.message,
            "message_id": header.message_id,
            "created_at": header.created_at,
        }));
        self.write(|out| out.write_all(b"{\n"));
        self.fields(fields, "  ");
        self.write(|out| out.write_all(b"  \"statements\": ["));
    }

    fn statement_start(&mut self, statement: &Statement) {
        let separator: &[u8] = if self.statements == 0 { b"\n" } else { b",\n" };
        self.statements += 1;
        self.entries = 0;
        self.totals = Totals::default();
        self.write(|out| {
            out.write_all(separator)
                .and_then(|()| out.write_all(b"    {\n"))
        });
        self.fields(statement_head(statement), "      ");
        self.write(|out| out.write_all(b"      \"entries\": ["));
    }

    fn entry(&mut self, entry: Entry) {
        self.totals.add(&entry);
        let separator: &[u8] = if self.entries == 0 { b"\n" } else { b",\n" };
        self.entries += 1;
        let value = entry_json(&entry);
        self.write(|out| {
            out.write_all(separator)?;
            out.write_all(b"        ")?;
            serde_json::to_writer(&mut *out, &value).map_err(io::Error::from)
        });
    }

    fn statement_end(&mut self, statement: &Statement) {
        let close: &[u8] = if self.entries == 0 {
            b"],\n"
        } else {
            b"\n      ],\n"
        };
        self.write(|out| out.write_all(close));
        let mut tail = statement_tail(statement, &self.totals);
        // The last field closes the object, without a comma after it.
        let last = tail.remove("total_debits").unwrap_or(Value::Null);
        self.fields(tail, "      ");
        self.write(|out| {
            out.write_all(b"      \"total_debits\": ")?;
            serde_json::to_writer(&mut *out, &last)?;
            out.write_all(b"\n    }")
        });
    }
}
