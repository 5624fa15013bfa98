//! camt.053.001.08 (bank-to-customer statement) out: what the bank simulator
//! sends back as the end-of-day statement of the dedicated wage account;
//! camt.054.001.08 (debit/credit notification) out: its message per booking.
//! Both share the entry type (`ReportEntry10`), so one writer does both.
//!
//! [`Camt053Writer`] writes piece by piece (header, entries one by one), so a
//! statement with millions of entries streams; [`write_camt053`] writes a
//! [`CashMessage`] in one go and is the inverse of
//! [`super::read_cash_message`] for camt.053.
//!
//! The counterparty goes on the debtor side for money in and on the
//! creditor side for money out (the reader's rule); the bank transaction code
//! is `PMNT/RCDT/DMCT` for credits and `PMNT/ICDT/DMCT` for debits (domestic
//! credit transfers).

use std::fmt::Write as _;
use std::io;

use chrono::{DateTime, Utc};

use crate::error::WriteError;
use crate::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, Statement, StatementKind,
    TransactionDetail,
};

use super::camt::CashMessage;
use super::out::Out;

/// The name [`super::read_cash_message`] reports for what this writes.
pub const CAMT053_MESSAGE: &str = "camt.053.001.08";

/// The name of the notifications [`write_camt054`] writes.
pub const CAMT054_MESSAGE: &str = "camt.054.001.08";

/// What differs between camt.053 and camt.054.
#[derive(Debug, Clone, Copy)]
struct Flavour {
    message: &'static str,
    root: &'static str,
    /// `Stmt` or `Ntfctn`.
    item: &'static str,
    kind: StatementKind,
}

const STATEMENT: Flavour = Flavour {
    message: CAMT053_MESSAGE,
    root: "BkToCstmrStmt",
    item: "Stmt",
    kind: StatementKind::Statement,
};

const NOTIFICATION: Flavour = Flavour {
    message: CAMT054_MESSAGE,
    root: "BkToCstmrDbtCdtNtfctn",
    item: "Ntfctn",
    kind: StatementKind::Notification,
};

/// Largest `Number` (totalDigits 18).
const MAX_NUMBER: u64 = 999_999_999_999_999_999;

/// Streams a camt.053.001.08 document: [`Camt053Writer::new`], then
/// `statement_start`, `entry`... , `statement_end` for each statement, then
/// [`Camt053Writer::finish`]. Take the text written so far with
/// [`Camt053Writer::take_chunk`] or [`Camt053Writer::drain_into`].
pub struct Camt053Writer {
    out: Out,
    flavour: Flavour,
    statements: usize,
    entries: usize,
    in_statement: bool,
}

impl Camt053Writer {
    /// Starts the document with its group header.
    pub fn new(message_id: &str, created_at: DateTime<Utc>) -> Result<Self, WriteError> {
        Self::with_flavour(STATEMENT, message_id, created_at)
    }

    fn with_flavour(
        flavour: Flavour,
        message_id: &str,
        created_at: DateTime<Utc>,
    ) -> Result<Self, WriteError> {
        let mut out = Out::with_capacity(64 * 1024);
        out.declaration();
        out.open_with(
            "Document",
            &format!(
                " xmlns=\"urn:iso:std:iso:20022:tech:xsd:{}\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
                flavour.message
            ),
        );
        out.open(flavour.root);
        out.open("GrpHdr");
        out.text("MsgId", message_id, 35, "message_id")?;
        out.date_time("CreDtTm", created_at);
        out.close("GrpHdr");
        Ok(Camt053Writer {
            out,
            flavour,
            statements: 0,
            entries: 0,
            in_statement: false,
        })
    }

    /// Writes a statement's header: id, account, balances, stated summary
    /// (its `entries` are not written; pass them to [`Camt053Writer::entry`]).
    pub fn statement_start(&mut self, statement: &Statement) -> Result<(), WriteError> {
        let index = self.statements;
        self.statements += 1;
        self.entries = 0;
        self.in_statement = true;
        let out = &mut self.out;
        out.set_context(|c| {
            let _ = write!(c, "statements[{index}].");
        });
        let flavour = self.flavour;
        if statement.kind != flavour.kind {
            return Err(WriteError::Invalid {
                field: out.field("kind"),
                message: format!("{} carries {:?} only", flavour.message, flavour.kind),
            });
        }
        out.open(flavour.item);
        out.text("Id", &statement.statement_id, 35, "statement_id")?;
        if let Some(number) = statement.sequence_number {
            if number > MAX_NUMBER {
                return Err(WriteError::Invalid {
                    field: out.field("sequence_number"),
                    message: "more than 18 digits".to_owned(),
                });
            }
            out.number("ElctrncSeqNb", number);
        }
        if let Some(at) = statement.created_at {
            out.date_time("CreDtTm", at);
        }
        match (statement.from, statement.to) {
            (Some(from), Some(to)) => {
                out.open("FrToDt");
                out.date_time("FrDtTm", from);
                out.date_time("ToDtTm", to);
                out.close("FrToDt");
            }
            (None, None) => {}
            _ => {
                return Err(WriteError::Invalid {
                    field: out.field("from"),
                    message: "a statement period needs both its start and its end".to_owned(),
                })
            }
        }
        out.open("Acct");
        out.account_id(&statement.account.number, "account.number")?;
        if let Some(currency) = statement.currency.as_deref() {
            super::out::check_currency(currency).map_err(|message| WriteError::Invalid {
                field: out.field("currency"),
                message,
            })?;
            out.raw("Ccy", currency);
        }
        if let Some(name) = statement.account.name.as_deref() {
            out.open("Ownr");
            out.text("Nm", name, 140, "account.name")?;
            out.close("Ownr");
        }
        if has_bank(&statement.account) {
            out.agent("Svcr", "BICFI", &statement.account, "account")?;
        }
        out.close("Acct");
        let balances = [
            ("OPBD", &statement.opening_balance, "opening_balance"),
            ("CLBD", &statement.closing_balance, "closing_balance"),
            ("CLAV", &statement.available_balance, "available_balance"),
        ];
        if flavour.kind == StatementKind::Notification {
            // A notification carries no balances (the schema has no Bal).
        } else if balances.iter().all(|(_, balance, _)| balance.is_none()) {
            return Err(WriteError::Invalid {
                field: out.field("closing_balance"),
                message: "a camt.053 statement needs at least one balance".to_owned(),
            });
        }
        for (code, balance, field) in balances {
            if let (Some(balance), false) = (balance, flavour.kind == StatementKind::Notification) {
                write_balance(out, code, balance, field)?;
            }
        }
        if let Some(summary) = &statement.stated_summary {
            out.open("TxsSummry");
            if let Some(count) = summary.entry_count {
                out.open("TtlNtries");
                out.number("NbOfNtries", count);
                out.close("TtlNtries");
            }
            for (tag, count, sum) in [
                (
                    "TtlCdtNtries",
                    summary.total_credits_count,
                    summary.total_credits,
                ),
                (
                    "TtlDbtNtries",
                    summary.total_debits_count,
                    summary.total_debits,
                ),
            ] {
                if count.is_some() || sum.is_some() {
                    out.open(tag);
                    if let Some(count) = count {
                        out.number("NbOfNtries", count);
                    }
                    if let Some(sum) = sum {
                        if sum.is_sign_negative() && !sum.is_zero() {
                            return Err(WriteError::Invalid {
                                field: out.field("stated_summary"),
                                message: "sums are never negative".to_owned(),
                            });
                        }
                        out.decimal("Sum", sum);
                    }
                    out.close(tag);
                }
            }
            out.close("TxsSummry");
        }
        out.clear_context();
        Ok(())
    }

    /// Writes one entry of the statement last started.
    pub fn entry(&mut self, entry: &Entry) -> Result<(), WriteError> {
        let (statement, index) = (self.statements.saturating_sub(1), self.entries);
        self.entries += 1;
        let out = &mut self.out;
        out.set_context(|c| {
            let _ = write!(c, "statements[{statement}].entries[{index}].");
        });
        out.open("Ntry");
        out.opt_text(
            "NtryRef",
            entry.bank_reference.as_deref(),
            35,
            "bank_reference",
        )?;
        out.amount("Amt", &entry.amount, 5, false, "amount")?;
        out.direction(entry.direction);
        if entry.reversal {
            out.raw("RvslInd", "true");
        }
        out.open("Sts");
        out.raw(
            "Cd",
            match entry.status {
                EntryStatus::Booked => "BOOK",
                EntryStatus::Pending => "PDNG",
                EntryStatus::Info => "INFO",
            },
        );
        out.close("Sts");
        if let Some(date) = entry.booking_date {
            out.open("BookgDt");
            out.date("Dt", date);
            out.close("BookgDt");
        }
        if let Some(date) = entry.value_date {
            out.open("ValDt");
            out.date("Dt", date);
            out.close("ValDt");
        }
        out.opt_text(
            "AcctSvcrRef",
            entry.account_servicer_reference.as_deref(),
            35,
            "account_servicer_reference",
        )?;
        out.open("BkTxCd");
        out.open("Domn");
        out.raw("Cd", "PMNT");
        out.open("Fmly");
        out.raw(
            "Cd",
            match entry.direction {
                Direction::Credit => "RCDT",
                Direction::Debit => "ICDT",
            },
        );
        out.raw("SubFmlyCd", "DMCT");
        out.close("Fmly");
        out.close("Domn");
        out.close("BkTxCd");
        if !entry.transactions.is_empty() {
            out.open("NtryDtls");
            for (tx_index, tx) in entry.transactions.iter().enumerate() {
                out.set_context(|c| {
                    let _ = write!(
                        c,
                        "statements[{statement}].entries[{index}].transactions[{tx_index}]."
                    );
                });
                write_transaction(out, tx, entry.direction)?;
            }
            out.close("NtryDtls");
            out.set_context(|c| {
                let _ = write!(c, "statements[{statement}].entries[{index}].");
            });
        }
        out.opt_text(
            "AddtlNtryInf",
            entry.additional_info.as_deref(),
            500,
            "additional_info",
        )?;
        out.close("Ntry");
        out.clear_context();
        Ok(())
    }

    /// Closes the statement last started.
    pub fn statement_end(&mut self) {
        if self.in_statement {
            self.out.close(self.flavour.item);
            self.in_statement = false;
        }
    }

    /// The text written since the last call (the document continues).
    pub fn take_chunk(&mut self) -> String {
        self.out.take()
    }

    /// Writes the text written so far to `sink` and forgets it.
    pub fn drain_into(&mut self, sink: &mut impl io::Write) -> io::Result<()> {
        sink.write_all(self.out.buf.as_bytes())?;
        self.out.buf.clear();
        Ok(())
    }

    /// Closes the document and returns the rest of the text. A camt.053
    /// needs at least one statement.
    pub fn finish(mut self) -> Result<String, WriteError> {
        if self.statements == 0 {
            return Err(WriteError::Invalid {
                field: "statements".to_owned(),
                message: format!("a {} needs at least one statement", self.flavour.message),
            });
        }
        self.statement_end();
        self.out.close(self.flavour.root);
        self.out.close("Document");
        Ok(self.out.finish())
    }
}

/// Writes a whole message as camt.053.001.08; `message_id` and `created_at`
/// are required (the group header needs them).
pub fn write_camt053(message: &CashMessage) -> Result<String, WriteError> {
    write_flavour(STATEMENT, message)
}

/// Writes a whole message as camt.054.001.08 (debit/credit notifications:
/// statements of kind [`StatementKind::Notification`]; balances are not
/// written, the schema has none).
pub fn write_camt054(message: &CashMessage) -> Result<String, WriteError> {
    write_flavour(NOTIFICATION, message)
}

fn write_flavour(flavour: Flavour, message: &CashMessage) -> Result<String, WriteError> {
    let Some(message_id) = message.message_id.as_deref() else {
        return Err(WriteError::Invalid {
            field: "message_id".to_owned(),
            message: "a statement message needs its message id".to_owned(),
        });
    };
    let Some(created_at) = message.created_at else {
        return Err(WriteError::Invalid {
            field: "created_at".to_owned(),
            message: "a statement message needs its creation time".to_owned(),
        });
    };
    let mut writer = Camt053Writer::with_flavour(flavour, message_id, created_at)?;
    let mut text = String::new();
    for statement in &message.statements {
        writer.statement_start(statement)?;
        for entry in &statement.entries {
            writer.entry(entry)?;
        }
        writer.statement_end();
        text.push_str(&writer.take_chunk());
    }
    text.push_str(&writer.finish()?);
    Ok(text)
}

fn has_bank(account: &AccountRef) -> bool {
    account.bank_code.is_some() || account.bank_name.is_some()
}

fn write_balance(
    out: &mut Out,
    code: &str,
    balance: &Balance,
    field: &str,
) -> Result<(), WriteError> {
    let Some(date) = balance.date else {
        return Err(WriteError::Invalid {
            field: out.field(field),
            message: "a balance needs its date".to_owned(),
        });
    };
    out.open("Bal");
    out.open("Tp");
    out.open("CdOrPrtry");
    out.raw("Cd", code);
    out.close("CdOrPrtry");
    out.close("Tp");
    let negative = balance.amount.value.is_sign_negative() && !balance.amount.value.is_zero();
    let magnitude = Amount {
        value: balance.amount.value.abs(),
        currency: balance.amount.currency.clone(),
    };
    out.amount("Amt", &magnitude, 5, false, field)?;
    out.direction(if negative {
        Direction::Debit
    } else {
        Direction::Credit
    });
    out.open("Dt");
    out.date("Dt", date);
    out.close("Dt");
    out.close("Bal");
    Ok(())
}

fn write_transaction(
    out: &mut Out,
    tx: &TransactionDetail,
    entry_direction: Direction,
) -> Result<(), WriteError> {
    out.open("TxDtls");
    let refs = [
        ("MsgId", tx.message_id.as_deref(), "message_id"),
        (
            "AcctSvcrRef",
            tx.account_servicer_reference.as_deref(),
            "account_servicer_reference",
        ),
        ("InstrId", tx.instruction_id.as_deref(), "instruction_id"),
        ("EndToEndId", tx.end_to_end_id.as_deref(), "end_to_end_id"),
    ];
    if refs.iter().any(|(_, value, _)| value.is_some()) {
        out.open("Refs");
        for (tag, value, field) in refs {
            out.opt_text(tag, value, 35, field)?;
        }
        out.close("Refs");
    }
    if let Some(amount) = &tx.amount {
        out.amount("Amt", amount, 5, false, "amount")?;
    }
    if let Some(direction) = tx.direction {
        out.direction(direction);
    }
    if let Some(party) = &tx.counterparty {
        let money_in = tx.direction.unwrap_or(entry_direction) == Direction::Credit;
        let (party_tag, account_tag, agent_tag) = if money_in {
            ("Dbtr", "DbtrAcct", "DbtrAgt")
        } else {
            ("Cdtr", "CdtrAcct", "CdtrAgt")
        };
        if party.name.is_some() || !party.number.is_empty() {
            out.open("RltdPties");
            if let Some(name) = party.name.as_deref() {
                out.open(party_tag);
                out.open("Pty");
                out.text("Nm", name, 140, "counterparty.name")?;
                out.close("Pty");
                out.close(party_tag);
            }
            if !party.number.is_empty() {
                out.account(account_tag, &party.number, None, "counterparty.number")?;
            }
            out.close("RltdPties");
        }
        if has_bank(party) {
            out.open("RltdAgts");
            out.agent(agent_tag, "BICFI", party, "counterparty")?;
            out.close("RltdAgts");
        }
    }
    if let Some(remittance) = tx.remittance.as_deref() {
        out.open("RmtInf");
        out.text("Ustrd", remittance, 140, "remittance")?;
        out.close("RmtInf");
    }
    if let Some(reason) = tx.return_reason.as_deref() {
        out.open("RtrInf");
        out.open("Rsn");
        if reason.chars().count() <= 4 {
            out.text("Cd", reason, 4, "return_reason")?;
        } else {
            out.text("Prtry", reason, 35, "return_reason")?;
        }
        out.close("Rsn");
        out.close("RtrInf");
    }
    out.close("TxDtls");
    Ok(())
}
