//! What the simulated bank does with a payment message and what it writes
//! back: executing each line against the ledger, the pain.002.001.10
//! status report, and the camt.053.001.08 statement of an account.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::iso20022::{write_camt053, write_camt054, write_pain002, CashMessage, Pain002Version};
use crate::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, LineStatus, PaymentBatch,
    PaymentStatus, StatedSummary, Statement, StatementKind, StatusReason, StatusReport,
    TransactionDetail,
};
use crate::payment_read::PaymentFile;

use super::ledger::{AccountKind, Booking, ExecutedLine, Ledger};
use super::{Config, SimError};

/// External status reason codes the simulator answers with, and their
/// Chinese text.
pub mod reason {
    /// ClosedAccountNumber.
    pub const CLOSED_ACCOUNT: (&str, &str) = ("AC04", "收款账户已销户");
    /// InconsistentWithEndCustomer: the name does not match the account.
    pub const NAME_MISMATCH: (&str, &str) = ("BE01", "收款人户名与账号不符");
    /// InsufficientFunds.
    pub const INSUFFICIENT_FUNDS: (&str, &str) = ("AM04", "付款账户余额不足");
    /// InvalidDebtorAccountNumber.
    pub const UNKNOWN_DEBTOR: (&str, &str) = ("AC02", "付款账户不存在");
    /// NotAllowedCurrency.
    pub const CURRENCY: (&str, &str) = ("AM03", "不支持该币种");
    /// DuplicateMessageID: this message id was executed before.
    pub const DUPLICATE_MESSAGE: (&str, &str) = ("DU01", "报文标识重复，已处理，不再执行");
    /// InvalidNumberOfTransactions.
    pub const COUNT: (&str, &str) = ("AM18", "交易笔数与报文头不符");
    /// InvalidControlSum.
    pub const CONTROL_SUM: (&str, &str) = ("AM10", "总金额与报文头不符");
    /// NotAllowedPayment: the payer's approver refused to authorise it
    /// (ICBC answers it with `Result` 8).
    pub const AUTHORISATION_REFUSED: (&str, &str) = ("DS0G", "授权被拒绝");
}

/// The Chinese text of a reason code the simulator answers with.
pub(super) fn reason_text(code: &str) -> Option<&'static str> {
    use reason::*;
    [
        CLOSED_ACCOUNT,
        NAME_MISMATCH,
        INSUFFICIENT_FUNDS,
        UNKNOWN_DEBTOR,
        CURRENCY,
        DUPLICATE_MESSAGE,
        COUNT,
        CONTROL_SUM,
        AUTHORISATION_REFUSED,
    ]
    .into_iter()
    .find(|(c, _)| *c == code)
    .map(|(_, text)| text)
}

fn status_reason((code, text): (&str, &str)) -> StatusReason {
    StatusReason {
        code: Some(code.to_owned()),
        text: Some(text.to_owned()),
    }
}

/// Executes every line of `file` (already known not to be a duplicate) and
/// returns the status report's lines and what the ledger keeps of them.
pub(super) fn execute(
    ledger: &mut Ledger,
    config: &Config,
    file: &PaymentFile,
    at: DateTime<Utc>,
) -> (Vec<LineStatus>, Vec<ExecutedLine>) {
    let header_fault = header_fault(file);
    let mut statuses = Vec::new();
    let mut kept = Vec::new();
    for batch in &file.batches {
        for line in &batch.lines {
            let fault = header_fault.or_else(|| line_fault(ledger, config, batch, line));
            let booking_id = match fault {
                Some(_) => None,
                None => Some(book_line(ledger, batch, line, &file.message_id, at)),
            };
            let (status_code, reason) = match fault {
                Some(fault) => ("RJCT", Some(status_reason(fault))),
                None => ("ACSC", None),
            };
            kept.push(ExecutedLine {
                end_to_end_id: line.end_to_end_id.clone(),
                status_code: status_code.to_owned(),
                reason_code: fault.map(|(code, _)| code.to_owned()),
                booking_id,
            });
            statuses.push(LineStatus {
                end_to_end_id: line.end_to_end_id.clone(),
                instruction_id: line.instruction_id.clone(),
                status_code: status_code.to_owned(),
                status: PaymentStatus::from_iso_code(status_code),
                reason,
                payment_information_id: None,
            });
        }
    }
    (statuses, kept)
}

/// A header that disagrees with the lines rejects every line: the bank
/// cannot know which side is wrong.
fn header_fault(file: &PaymentFile) -> Option<(&'static str, &'static str)> {
    let count = file.number_of_transactions() as u64;
    if file
        .stated_number_of_transactions
        .is_some_and(|n| n != count)
    {
        return Some(reason::COUNT);
    }
    if file
        .stated_control_sum
        .is_some_and(|sum| sum != file.control_sum())
    {
        return Some(reason::CONTROL_SUM);
    }
    None
}

fn line_fault(
    ledger: &Ledger,
    config: &Config,
    batch: &PaymentBatch,
    line: &crate::model::PaymentLine,
) -> Option<(&'static str, &'static str)> {
    let debtor = ledger
        .accounts
        .get(&batch.debtor.number)
        .filter(|a| a.kind == AccountKind::Dedicated);
    let Some(debtor) = debtor else {
        return Some(reason::UNKNOWN_DEBTOR);
    };
    let card = &line.creditor.number;
    if line.amount.currency != "CNY" {
        Some(reason::CURRENCY)
    } else if config.closed_cards.contains(card) {
        Some(reason::CLOSED_ACCOUNT)
    } else if config.name_mismatch_cards.contains(card) {
        Some(reason::NAME_MISMATCH)
    } else if config.authorisation_refused.contains(&line.end_to_end_id) {
        Some(reason::AUTHORISATION_REFUSED)
    } else if debtor.balance < line.amount.value {
        Some(reason::INSUFFICIENT_FUNDS)
    } else {
        None
    }
}

/// Debits the dedicated account and credits the worker's card; returns the
/// debit's booking id (the one the client's statement shows).
fn book_line(
    ledger: &mut Ledger,
    batch: &PaymentBatch,
    line: &crate::model::PaymentLine,
    message_id: &str,
    at: DateTime<Utc>,
) -> String {
    let mut debit = Booking::new(
        &batch.debtor.number,
        Direction::Debit,
        line.amount.value,
        at,
        line.creditor.clone(),
    );
    debit.end_to_end_id = Some(line.end_to_end_id.clone());
    debit.message_id = Some(message_id.to_owned());
    debit.remittance.clone_from(&line.remittance);
    let mut credit = debit.clone();
    credit.account.clone_from(&line.creditor.number);
    credit.direction = Direction::Credit;
    credit.counterparty = batch.debtor.clone();
    let id = ledger.book(debit, None);
    ledger.book(credit, line.creditor.name.as_deref());
    id
}

/// The pain.002.001.10 answering `original_message_id`: group status ACSC
/// when every line settled, RJCT when none did, PART otherwise; a group
/// reason (and no lines) for a refused message.
pub(super) fn status_report(
    report_id: &str,
    original_message_id: &str,
    lines: Vec<LineStatus>,
    group_reason: Option<(&str, &str)>,
    at: DateTime<Utc>,
) -> Result<String, SimError> {
    let settled = lines
        .iter()
        .filter(|l| l.status == PaymentStatus::Settled)
        .count();
    let group = if group_reason.is_some() || settled == 0 {
        "RJCT"
    } else if settled == lines.len() {
        "ACSC"
    } else {
        "PART"
    };
    let report = StatusReport {
        message_id: Some(report_id.to_owned()),
        created_at: Some(at),
        original_message_id: original_message_id.to_owned(),
        group_status_code: Some(group.to_owned()),
        group_status: Some(PaymentStatus::from_iso_code(group)),
        group_reason: group_reason.map(status_reason),
        lines,
        blocks: Vec::new(),
    };
    Ok(write_pain002(&report, Pain002Version::V10)?)
}

/// An interim report: the message was accepted (ACTC), nothing settled yet.
/// The `out_of_order` fault writes it after the final one.
pub(super) fn interim_report(
    report_id: &str,
    original_message_id: &str,
    at: DateTime<Utc>,
) -> Result<String, SimError> {
    let report = StatusReport {
        message_id: Some(report_id.to_owned()),
        created_at: Some(at),
        original_message_id: original_message_id.to_owned(),
        group_status_code: Some("ACTC".to_owned()),
        group_status: Some(PaymentStatus::from_iso_code("ACTC")),
        group_reason: None,
        lines: Vec::new(),
        blocks: Vec::new(),
    };
    Ok(write_pain002(&report, Pain002Version::V10)?)
}

/// A camt.054.001.08 for each booking on a dedicated account not yet
/// notified nor stated; marks them. Returns how many were owed.
pub(super) fn notifications(ledger: &mut Ledger, at: DateTime<Utc>) -> Result<usize, SimError> {
    let due: Vec<usize> = ledger
        .bookings
        .iter()
        .enumerate()
        .filter(|(_, b)| b.notification.is_none() && b.statement.is_none())
        .filter(|(_, b)| {
            ledger
                .accounts
                .get(&b.account)
                .is_some_and(|a| a.kind == AccountKind::Dedicated)
        })
        .map(|(i, _)| i)
        .collect();
    for &index in &due {
        let id = ledger.new_message_id("C54");
        let booking = &ledger.bookings[index];
        let name = ledger
            .accounts
            .get(&booking.account)
            .and_then(|a| a.name.clone());
        let notification = Statement {
            kind: StatementKind::Notification,
            statement_id: id.clone(),
            sequence_number: None,
            created_at: Some(at),
            account: AccountRef {
                number: booking.account.clone(),
                name,
                bank_code: None,
                bank_name: None,
            },
            currency: Some("CNY".to_owned()),
            from: None,
            to: None,
            opening_balance: None,
            closing_balance: None,
            available_balance: None,
            stated_summary: None,
            entries: vec![entry(booking)],
        };
        let message = CashMessage {
            message: crate::iso20022::camt_write::CAMT054_MESSAGE.to_owned(),
            message_id: Some(id.clone()),
            created_at: Some(at),
            statements: vec![notification],
        };
        let xml = write_camt054(&message)?;
        ledger.bookings[index].notification = Some(id.clone());
        ledger.pending_out.insert(id, xml);
    }
    Ok(due.len())
}

/// The next statement of `account`: every booking not yet reported, the
/// opening balance the last statement closed with, the sequence number one
/// more. Marks the bookings as reported; `None` when there is nothing new.
pub(super) fn next_statement(
    ledger: &mut Ledger,
    account_number: &str,
    message_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<String>, SimError> {
    let today = super::china_date(at);
    let Some(account) = ledger.accounts.get_mut(account_number) else {
        return Ok(None);
    };
    let sequence = account.statement_sequence + 1;
    let mut entries = Vec::new();
    let (mut credits, mut debits) = (Decimal::ZERO, Decimal::ZERO);
    let mut counts = (0u64, 0u64);
    for booking in ledger
        .bookings
        .iter_mut()
        .filter(|b| b.account == account_number && b.statement.is_none())
    {
        booking.statement = Some(sequence);
        match booking.direction {
            Direction::Credit => (credits += booking.amount, counts.0 += 1),
            Direction::Debit => (debits += booking.amount, counts.1 += 1),
        };
        entries.push(entry(booking));
    }
    if entries.is_empty() {
        return Ok(None);
    }
    let opening = Balance {
        amount: Amount::cny(account.reported_balance),
        date: Some(account.reported_date.unwrap_or(today)),
    };
    let closing = Balance {
        amount: Amount::cny(account.balance),
        date: Some(today),
    };
    let statement = Statement {
        kind: StatementKind::Statement,
        statement_id: message_id.to_owned(),
        sequence_number: Some(sequence),
        created_at: Some(at),
        account: AccountRef {
            number: account_number.to_owned(),
            name: account.name.clone(),
            bank_code: None,
            bank_name: None,
        },
        currency: Some("CNY".to_owned()),
        from: None,
        to: None,
        opening_balance: Some(opening),
        closing_balance: Some(closing),
        available_balance: None,
        stated_summary: Some(StatedSummary {
            entry_count: Some(entries.len() as u64),
            total_credits_count: Some(counts.0),
            total_credits: Some(credits),
            total_debits_count: Some(counts.1),
            total_debits: Some(debits),
        }),
        entries,
    };
    account.statement_sequence = sequence;
    account.reported_balance = account.balance;
    account.reported_date = Some(today);
    let message = CashMessage {
        message: crate::iso20022::camt_write::CAMT053_MESSAGE.to_owned(),
        message_id: Some(message_id.to_owned()),
        created_at: Some(at),
        statements: vec![statement],
    };
    Ok(Some(write_camt053(&message)?))
}

pub(super) fn entry(booking: &Booking) -> Entry {
    let amount = Amount::cny(booking.amount);
    Entry {
        amount: amount.clone(),
        direction: booking.direction,
        status: EntryStatus::Booked,
        reversal: false,
        booking_date: Some(booking.booking_date),
        value_date: Some(booking.booking_date),
        booked_at: None,
        bank_reference: Some(booking.booking_id.clone()),
        account_servicer_reference: Some(booking.booking_id.clone()),
        additional_info: None,
        transactions: vec![TransactionDetail {
            amount: Some(amount),
            direction: Some(booking.direction),
            end_to_end_id: booking.end_to_end_id.clone(),
            message_id: booking.message_id.clone(),
            payment_information_id: None,
            instruction_id: None,
            account_servicer_reference: Some(booking.booking_id.clone()),
            counterparty: Some(booking.counterparty.clone()),
            remittance: booking.remittance.clone(),
            return_reason: None,
        }],
        batch: None,
    }
}
