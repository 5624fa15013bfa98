//! camt.052 (account report), camt.053 (statement) and camt.054
//! (debit/credit notification), versions `.02`, `.04` and `.08` (others of
//! the same shape read too), streamed into the neutral [`Statement`] model.
//!
//! [`read_cash_stream`] hands a [`StatementSink`] the statement header, then
//! each entry as soon as it is read, then the final header: memory does not
//! grow with the number of entries. [`read_cash_message`] collects it all
//! for files that fit in memory.
//!
//! Mapping rules worth knowing:
//! - balances: `OPBD` is the opening balance, `PRCD` only when there is no
//!   `OPBD`; `CLBD` closing, `CLAV` available; a `DBIT` balance is negative;
//!   interim balances (`ITBD`, ...) are not kept;
//! - entry status `BOOK` is booked, `PDNG`/`FUTR` pending, anything else info;
//! - the counterparty of a transaction is the debtor side for money in and
//!   the creditor side for money out; when that side is missing or is the
//!   statement's own account, the other side is used;
//! - several `Ustrd` lines are joined with a space;
//! - a transaction amount is `TxDtls/Amt`, else `AmtDtls/TxAmt/Amt`, else
//!   `AmtDtls/InstdAmt/Amt`;
//! - `NtryDtls/Btch` (one booking for a whole batch) is the entry's
//!   [`BatchRef`]; a transaction inside that `NtryDtls` without its own
//!   `Refs/MsgId` / `Refs/PmtInfId` takes the batch's;
//! - a date-time without offset (`CreDtTm`, `FrToDt`, `BookgDt/DtTm`) is
//!   read at [`ReadOptions::utc_offset`]; dates stay as written.
//!
//! Longer than our usual ~600 lines: one streaming state machine serves three
//! messages in three versions, and splitting it would spread one element path
//! over several files.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::error::ReadError;
use crate::model::{
    AccountRef, Amount, Balance, BatchRef, Direction, Entry, EntryStatus, StatedSummary, Statement,
    StatementKind, TransactionDetail,
};
use crate::read_options::ReadOptions;
use crate::xml::{Node, XmlReader};

use super::read::{
    self, next_child, opt_text, read_account, read_agent, read_amount, read_code, read_date_choice,
    read_date_choice_at, read_parsed, read_party_name,
};
use super::{message_from_namespace, MessageKind};

/// The group header of a cash-management message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashHeader {
    /// `camt.053.001.02` from the namespace; just `camt.053` when the file
    /// has no namespace naming its version.
    pub message: String,
    pub message_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
}

/// A whole cash-management message in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CashMessage {
    pub message: String,
    pub message_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub statements: Vec<Statement>,
}

/// Receives a cash-management message piece by piece.
pub trait StatementSink {
    /// The message's group header, before the first statement.
    fn group_header(&mut self, _header: &CashHeader) {}
    /// A statement's header (everything but its entries: account, balances,
    /// stated summary), before its first entry.
    fn statement_start(&mut self, statement: &Statement);
    /// One entry of the statement last started.
    fn entry(&mut self, entry: Entry);
    /// The statement ended; `statement` is its final header (entries empty).
    fn statement_end(&mut self, statement: &Statement);
}

/// Streams a camt.052/053/054 message into `sink`; returns its group header.
/// Offset-less times are read at +08:00 ([`ReadOptions::default`]).
pub fn read_cash_stream<R: BufRead, S: StatementSink + ?Sized>(
    input: R,
    sink: &mut S,
) -> Result<CashHeader, ReadError> {
    read_cash_stream_with(input, sink, &ReadOptions::default())
}

/// [`read_cash_stream`] with the caller's [`ReadOptions`].
pub fn read_cash_stream_with<R: BufRead, S: StatementSink + ?Sized>(
    input: R,
    sink: &mut S,
    options: &ReadOptions,
) -> Result<CashHeader, ReadError> {
    let mut r = XmlReader::new(input);
    // Every text is read trimmed (`read_text`, `read_code`): let indentation
    // make no events.
    r.trim_leading_whitespace();
    if r.next()? != Node::Start {
        return Err(r.invalid("no root element"));
    }
    let named = r.root_namespace().and_then(message_from_namespace);
    if let Some(name) = named {
        if !matches!(
            name.kind,
            MessageKind::Camt052 | MessageKind::Camt053 | MessageKind::Camt054
        ) {
            return Err(ReadError::UnknownFormat(format!(
                "{name} is not a cash-management report, statement or notification"
            )));
        }
    }
    while next_child(&mut r, 1)? {
        let (kind, statement_tag, prefix) = match r.name() {
            "BkToCstmrStmt" => (StatementKind::Statement, "Stmt", "camt.053"),
            "BkToCstmrAcctRpt" => (StatementKind::Report, "Rpt", "camt.052"),
            "BkToCstmrDbtCdtNtfctn" => (StatementKind::Notification, "Ntfctn", "camt.054"),
            _ => {
                r.skip()?;
                continue;
            }
        };
        let mut header = CashHeader {
            message: named
                .map(|name| name.to_string())
                .unwrap_or_else(|| prefix.to_owned()),
            message_id: None,
            created_at: None,
        };
        let mut announced = false;
        let depth = r.depth();
        while next_child(&mut r, depth)? {
            if r.name() == "GrpHdr" {
                read_group_header(&mut r, &mut header, options)?;
            } else if r.name() == statement_tag {
                if !announced {
                    sink.group_header(&header);
                    announced = true;
                }
                read_statement(&mut r, kind, sink, options)?;
            } else {
                r.skip()?;
            }
        }
        if !announced {
            sink.group_header(&header);
        }
        return Ok(header);
    }
    Err(ReadError::UnknownFormat(
        "no BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn: not a cash-management message"
            .to_owned(),
    ))
}

/// Reads a whole camt.052/053/054 message into memory (offset-less times
/// at +08:00).
pub fn read_cash_message(input: impl BufRead) -> Result<CashMessage, ReadError> {
    read_cash_message_with(input, &ReadOptions::default())
}

/// [`read_cash_message`] with the caller's [`ReadOptions`].
pub fn read_cash_message_with(
    input: impl BufRead,
    options: &ReadOptions,
) -> Result<CashMessage, ReadError> {
    let mut collect = Collect::default();
    let header = read_cash_stream_with(input, &mut collect, options)?;
    Ok(CashMessage {
        message: header.message,
        message_id: header.message_id,
        created_at: header.created_at,
        statements: collect.statements,
    })
}

#[derive(Default)]
struct Collect {
    statements: Vec<Statement>,
    entries: Vec<Entry>,
}

impl StatementSink for Collect {
    fn statement_start(&mut self, _statement: &Statement) {
        self.entries.clear();
    }

    fn entry(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    fn statement_end(&mut self, statement: &Statement) {
        let mut statement = statement.clone();
        statement.entries = std::mem::take(&mut self.entries);
        self.statements.push(statement);
    }
}

fn read_group_header<R: BufRead>(
    r: &mut XmlReader<R>,
    header: &mut CashHeader,
    options: &ReadOptions,
) -> Result<(), ReadError> {
    let depth = r.depth();
    while next_child(r, depth)? {
        match r.name() {
            "MsgId" => header.message_id = opt_text(r)?,
            "CreDtTm" => {
                header.created_at = Some(read_parsed(r, |t| read::date_time_at(t, options))?);
            }
            _ => r.skip()?,
        }
    }
    Ok(())
}

fn read_statement<R: BufRead, S: StatementSink + ?Sized>(
    r: &mut XmlReader<R>,
    kind: StatementKind,
    sink: &mut S,
    options: &ReadOptions,
) -> Result<(), ReadError> {
    let mut statement = Statement {
        kind,
        statement_id: String::new(),
        sequence_number: None,
        created_at: None,
        account: AccountRef::default(),
        currency: None,
        from: None,
        to: None,
        opening_balance: None,
        closing_balance: None,
        available_balance: None,
        stated_summary: None,
        entries: Vec::new(),
    };
    let mut has_id = false;
    let mut previous_closing = None;
    let mut started = false;
    let depth = r.depth();
    while next_child(r, depth)? {
        match r.name() {
            "Id" => {
                statement.statement_id = r.read_text()?;
                has_id = !statement.statement_id.is_empty();
            }
            "ElctrncSeqNb" => {
                statement.sequence_number = Some(read_parsed(r, read::count)?);
            }
            "CreDtTm" => {
                statement.created_at = Some(read_parsed(r, |t| read::date_time_at(t, options))?);
            }
            "FrToDt" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "FrDtTm" => {
                            statement.from =
                                Some(read_parsed(r, |t| read::date_time_at(t, options))?);
                        }
                        "ToDtTm" => {
                            statement.to =
                                Some(read_parsed(r, |t| read::date_time_at(t, options))?);
                        }
                        _ => r.skip()?,
                    }
                }
            }
            "Acct" => statement.currency = read_account(r, &mut statement.account)?,
            "Bal" => {
                let (code, balance) = read_balance(r)?;
                let slot = match code.as_deref() {
                    Some("OPBD") => &mut statement.opening_balance,
                    Some("PRCD") => &mut previous_closing,
                    Some("CLBD") => &mut statement.closing_balance,
                    Some("CLAV") => &mut statement.available_balance,
                    _ => continue,
                };
                if slot.is_none() {
                    *slot = Some(balance);
                }
            }
            "TxsSummry" => statement.stated_summary = Some(read_summary(r)?),
            "Ntry" => {
                if !started {
                    if !has_id {
                        return Err(r.invalid("statement without Id"));
                    }
                    if statement.opening_balance.is_none() {
                        statement.opening_balance = previous_closing.take();
                    }
                    sink.statement_start(&statement);
                    started = true;
                }
                let entry = read_entry(r, &statement.account.number, options)?;
                sink.entry(entry);
            }
            _ => r.skip()?,
        }
    }
    if !has_id {
        return Err(r.invalid("statement without Id"));
    }
    if statement.opening_balance.is_none() {
        statement.opening_balance = previous_closing;
    }
    if !started {
        sink.statement_start(&statement);
    }
    sink.statement_end(&statement);
    Ok(())
}

/// `Bal`: its type code and the signed balance.
fn read_balance<R: BufRead>(r: &mut XmlReader<R>) -> Result<(Option<String>, Balance), ReadError> {
    let depth = r.depth();
    let mut code = None;
    let mut amount = None;
    let mut direction = None;
    let mut date = None;
    while next_child(r, depth)? {
        match r.name() {
            "Tp" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "CdOrPrtry" => code = read_code(r)?,
                        _ => r.skip()?,
                    }
                }
            }
            "Amt" => amount = Some(read_amount(r)?),
            "CdtDbtInd" => {
                direction = Some(read_parsed(r, read::direction)?);
            }
            "Dt" => date = read_date_choice(r)?,
            _ => r.skip()?,
        }
    }
    let Some(mut amount) = amount else {
        return Err(r.invalid("balance without Amt"));
    };
    match direction {
        Some(Direction::Debit) => amount.value = -amount.value,
        Some(Direction::Credit) => {}
        None => return Err(r.invalid("balance without CdtDbtInd")),
    }
    Ok((code, Balance { amount, date }))
}

fn read_summary<R: BufRead>(r: &mut XmlReader<R>) -> Result<StatedSummary, ReadError> {
    let depth = r.depth();
    let mut summary = StatedSummary::default();
    while next_child(r, depth)? {
        let which = match r.name() {
            "TtlNtries" => 0,
            "TtlCdtNtries" => 1,
            "TtlDbtNtries" => 2,
            _ => {
                r.skip()?;
                continue;
            }
        };
        let level = r.depth();
        while next_child(r, level)? {
            match r.name() {
                "NbOfNtries" => {
                    let count = Some(read_parsed(r, read::count)?);
                    match which {
                        0 => summary.entry_count = count,
                        1 => summary.total_credits_count = count,
                        _ => summary.total_debits_count = count,
                    }
                }
                "Sum" if which > 0 => {
                    let sum = Some(read_parsed(r, read::decimal)?);
                    if which == 1 {
                        summary.total_credits = sum;
                    } else {
                        summary.total_debits = sum;
                    }
                }
                _ => r.skip()?,
            }
        }
    }
    Ok(summary)
}

/// A transaction as read, with both sides kept until the entry's direction
/// says which one is the counterparty.
struct RawTransaction {
    detail: TransactionDetail,
    debtor: AccountRef,
    creditor: AccountRef,
}

fn read_entry<R: BufRead>(
    r: &mut XmlReader<R>,
    own_account: &str,
    options: &ReadOptions,
) -> Result<Entry, ReadError> {
    let depth = r.depth();
    let mut amount = None;
    let mut direction = None;
    let mut status = None;
    let mut reversal = false;
    let mut booking_date = None;
    let mut booked_at = None;
    let mut value_date = None;
    let mut batch = None;
    let mut bank_reference = None;
    let mut account_servicer_reference = None;
    let mut additional_info = None;
    let mut raw = Vec::new();
    while next_child(r, depth)? {
        match r.name() {
            "NtryRef" => bank_reference = opt_text(r)?,
            "Amt" => amount = Some(read_amount(r)?),
            "CdtDbtInd" => {
                direction = Some(read_parsed(r, read::direction)?);
            }
            "RvslInd" => {
                reversal = read_parsed(r, read::boolean)?;
            }
            "Sts" => {
                status = Some(match read_code(r)?.as_deref() {
                    Some("BOOK") => EntryStatus::Booked,
                    Some("PDNG" | "FUTR") => EntryStatus::Pending,
                    _ => EntryStatus::Info,
                })
            }
            "BookgDt" => (booking_date, booked_at) = read_date_choice_at(r, options)?,
            "ValDt" => value_date = read_date_choice(r)?,
            "AcctSvcrRef" => account_servicer_reference = opt_text(r)?,
            "AddtlNtryInf" => additional_info = opt_text(r)?,
            "NtryDtls" => read_entry_details(r, &mut raw, &mut batch)?,
            _ => r.skip()?,
        }
    }
    let Some(amount) = amount else {
        return Err(r.invalid("entry without Amt"));
    };
    let Some(direction) = direction else {
        return Err(r.invalid("entry without CdtDbtInd"));
    };
    let Some(status) = status else {
        return Err(r.invalid("entry without Sts"));
    };
    let transactions = raw
        .into_iter()
        .map(|tx| {
            let mut detail = tx.detail;
            let money_in = detail.direction.unwrap_or(direction) == Direction::Credit;
            let (preferred, other) = if money_in {
                (tx.debtor, tx.creditor)
            } else {
                (tx.creditor, tx.debtor)
            };
            detail.counterparty = [preferred, other].into_iter().find(|side| {
                !is_empty(side) && (own_account.is_empty() || side.number != own_account)
            });
            detail
        })
        .collect();
    Ok(Entry {
        amount,
        direction,
        status,
        reversal,
        booking_date,
        value_date,
        booked_at,
        bank_reference,
        account_servicer_reference,
        additional_info,
        transactions,
        batch,
    })
}

/// Call on `NtryDtls`: its transactions into `raw`; its `Btch` into `batch`
/// (the first one of the entry), and the batch's ids into its transactions
/// that name none.
fn read_entry_details<R: BufRead>(
    r: &mut XmlReader<R>,
    raw: &mut Vec<RawTransaction>,
    batch: &mut Option<BatchRef>,
) -> Result<(), ReadError> {
    let first_here = raw.len();
    let mut this_batch = None;
    let level = r.depth();
    while next_child(r, level)? {
        match r.name() {
            "TxDtls" => raw.push(read_transaction(r)?),
            "Btch" => this_batch = Some(read_batch(r)?),
            _ => r.skip()?,
        }
    }
    let Some(this_batch) = this_batch else {
        return Ok(());
    };
    for tx in &mut raw[first_here..] {
        let detail = &mut tx.detail;
        if detail.message_id.is_none() {
            detail.message_id.clone_from(&this_batch.message_id);
        }
        if detail.payment_information_id.is_none() {
            detail
                .payment_information_id
                .clone_from(&this_batch.payment_information_id);
        }
    }
    if batch.is_none() {
        *batch = Some(this_batch);
    }
    Ok(())
}

/// Call on `Btch`.
fn read_batch<R: BufRead>(r: &mut XmlReader<R>) -> Result<BatchRef, ReadError> {
    let mut batch = BatchRef::default();
    let depth = r.depth();
    while next_child(r, depth)? {
        match r.name() {
            "MsgId" => batch.message_id = opt_text(r)?,
            "PmtInfId" => batch.payment_information_id = opt_text(r)?,
            "NbOfTxs" => batch.count = Some(read_parsed(r, read::count)?),
            "TtlAmt" => batch.total = Some(read_amount(r)?),
            "CdtDbtInd" => batch.direction = Some(read_parsed(r, read::direction)?),
            _ => r.skip()?,
        }
    }
    Ok(batch)
}

fn is_empty(side: &AccountRef) -> bool {
    side.number.is_empty()
        && side.name.is_none()
        && side.bank_code.is_none()
        && side.bank_name.is_none()
}

fn read_transaction<R: BufRead>(r: &mut XmlReader<R>) -> Result<RawTransaction, ReadError> {
    let depth = r.depth();
    let mut detail = TransactionDetail::default();
    let mut debtor = AccountRef::default();
    let mut creditor = AccountRef::default();
    let mut transaction_amount = None;
    let mut instructed_amount = None;
    while next_child(r, depth)? {
        match r.name() {
            "Refs" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "MsgId" => detail.message_id = opt_text(r)?,
                        "PmtInfId" => detail.payment_information_id = opt_text(r)?,
                        "AcctSvcrRef" => detail.account_servicer_reference = opt_text(r)?,
                        "InstrId" => detail.instruction_id = opt_text(r)?,
                        "EndToEndId" => detail.end_to_end_id = opt_text(r)?,
                        _ => r.skip()?,
                    }
                }
            }
            "Amt" => detail.amount = Some(read_amount(r)?),
            "CdtDbtInd" => {
                detail.direction = Some(read_parsed(r, read::direction)?);
            }
            "AmtDtls" => {
                let level = r.depth();
                while next_child(r, level)? {
                    let target = match r.name() {
                        "TxAmt" => &mut transaction_amount,
                        "InstdAmt" => &mut instructed_amount,
                        _ => {
                            r.skip()?;
                            continue;
                        }
                    };
                    *target = read_inner_amount(r)?;
                }
            }
            "RltdPties" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "Dbtr" => debtor.name = read_party_name(r)?,
                        "Cdtr" => creditor.name = read_party_name(r)?,
                        "DbtrAcct" => {
                            read_account(r, &mut debtor)?;
                        }
                        "CdtrAcct" => {
                            read_account(r, &mut creditor)?;
                        }
                        _ => r.skip()?,
                    }
                }
            }
            "RltdAgts" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "DbtrAgt" => read_agent(r, &mut debtor)?,
                        "CdtrAgt" => read_agent(r, &mut creditor)?,
                        _ => r.skip()?,
                    }
                }
            }
            "RmtInf" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "Ustrd" => {
                            if let Some(line) = opt_text(r)? {
                                match &mut detail.remittance {
                                    Some(all) => {
                                        all.push(' ');
                                        all.push_str(&line);
                                    }
                                    None => detail.remittance = Some(line),
                                }
                            }
                        }
                        _ => r.skip()?,
                    }
                }
            }
            "RtrInf" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "Rsn" => detail.return_reason = read_code(r)?,
                        _ => r.skip()?,
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    if detail.amount.is_none() {
        detail.amount = transaction_amount.or(instructed_amount);
    }
    Ok(RawTransaction {
        detail,
        debtor,
        creditor,
    })
}

/// `TxAmt`/`InstdAmt`: the `Amt` inside.
fn read_inner_amount<R: BufRead>(r: &mut XmlReader<R>) -> Result<Option<Amount>, ReadError> {
    let depth = r.depth();
    let mut amount = None;
    while next_child(r, depth)? {
        match r.name() {
            "Amt" => amount = Some(read_amount(r)?),
            _ => r.skip()?,
        }
    }
    Ok(amount)
}

/// Whether a statement's balances chain with its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalanceCheck {
    /// opening + booked credits − booked debits = closing.
    Holds,
    /// Nothing to check; the reason says why (a balance is missing, the
    /// balances are in different currencies, or entries are in another
    /// currency than the balances).
    NotApplicable(&'static str),
    /// The stated closing balance is not what the entries give.
    Fails {
        opening: Decimal,
        booked_credits: Decimal,
        booked_debits: Decimal,
        expected_closing: Decimal,
        stated_closing: Decimal,
    },
}

/// Checks opening + booked credits − booked debits = closing.
///
/// Only booked entries move the booked balance: pending and information
/// entries are left out. A reversal counts in its own direction (a returned
/// payment is booked as a credit). The check applies only when both the
/// opening (`OPBD`, else `PRCD`) and closing (`CLBD`) balances are present
/// and in one currency, and every booked entry is in that currency.
pub fn check_balances(statement: &Statement) -> BalanceCheck {
    let (Some(opening), Some(closing)) = (&statement.opening_balance, &statement.closing_balance)
    else {
        return BalanceCheck::NotApplicable("opening or closing balance missing");
    };
    if opening.amount.currency != closing.amount.currency {
        return BalanceCheck::NotApplicable("opening and closing balances in different currencies");
    }
    let mut booked_credits = Decimal::ZERO;
    let mut booked_debits = Decimal::ZERO;
    for entry in &statement.entries {
        if entry.status != EntryStatus::Booked {
            continue;
        }
        if entry.amount.currency != opening.amount.currency {
            return BalanceCheck::NotApplicable("entries in another currency than the balances");
        }
        match entry.direction {
            Direction::Credit => booked_credits += entry.amount.value,
            Direction::Debit => booked_debits += entry.amount.value,
        }
    }
    let expected_closing = opening.amount.value + booked_credits - booked_debits;
    if expected_closing == closing.amount.value {
        BalanceCheck::Holds
    } else {
        BalanceCheck::Fails {
            opening: opening.amount.value,
            booked_credits,
            booked_debits,
            expected_closing,
            stated_closing: closing.amount.value,
        }
    }
}

/// The figures of the stated summary (`TxsSummry`) that the entries do not
/// bear out, described for a person; empty when all agree or none is stated.
/// Counts and sums are over all entries, whatever their status (that is how
/// banks fill `TxsSummry`).
pub fn summary_mismatches(statement: &Statement) -> Vec<String> {
    let Some(summary) = &statement.stated_summary else {
        return Vec::new();
    };
    let count = |direction| {
        statement
            .entries
            .iter()
            .filter(|e| e.direction == direction)
            .count() as u64
    };
    let sum = |direction| -> Decimal {
        statement
            .entries
            .iter()
            .filter(|e| e.direction == direction)
            .map(|e| e.amount.value)
            .sum()
    };
    let mut problems = Vec::new();
    let mut compare = |what: &str, stated: Option<String>, actual: String| {
        if let Some(stated) = stated {
            if stated != actual {
                problems.push(format!("{what}: stated {stated}, entries give {actual}"));
            }
        }
    };
    compare(
        "entry count",
        summary.entry_count.map(|n| n.to_string()),
        (statement.entries.len() as u64).to_string(),
    );
    compare(
        "credit entry count",
        summary.total_credits_count.map(|n| n.to_string()),
        count(Direction::Credit).to_string(),
    );
    compare(
        "debit entry count",
        summary.total_debits_count.map(|n| n.to_string()),
        count(Direction::Debit).to_string(),
    );
    compare(
        "credit sum",
        summary.total_credits.map(|d| d.normalize().to_string()),
        sum(Direction::Credit).normalize().to_string(),
    );
    compare(
        "debit sum",
        summary.total_debits.map(|d| d.normalize().to_string()),
        sum(Direction::Debit).normalize().to_string(),
    );
    problems
}
