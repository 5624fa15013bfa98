//! The neutral model every bank dialect reads into and writes from.
//!
//! These types know nothing of XML, of a bank's dialect or of the database: a
//! dialect module turns them into files and back. Amounts are `rust_decimal`
//! with the currency next to them; a dialect that counts in fen converts at
//! its own edge.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// An amount with its ISO 4217 currency code (always `CNY` for our own payments,
/// anything for files from abroad).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amount {
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    pub currency: String,
}

impl Amount {
    pub fn cny(value: Decimal) -> Self {
        Amount {
            value,
            currency: "CNY".to_owned(),
        }
    }
}

/// An account as a bank names it: number (IBAN or domestic number), holder's
/// name and the bank that services it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountRef {
    /// IBAN, or the domestic account / card number.
    pub number: String,
    pub name: Option<String>,
    /// Bank identifier: BIC, or a domestic bank code (e.g. CNAPS 12-digit code).
    pub bank_code: Option<String>,
    pub bank_name: Option<String>,
}

/// 代发批次: one batch of credit transfers from the dedicated wage account to
/// workers' own cards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentBatch {
    /// Our message id; a resend carries the same id so the bank can drop duplicates.
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub requested_execution_date: NaiveDate,
    /// The initiating party (the general contractor) as printed in the file.
    pub initiating_party: String,
    /// The dedicated account the money leaves from.
    pub debtor: AccountRef,
    pub lines: Vec<PaymentLine>,
}

impl PaymentBatch {
    /// 控制总额: the sum of all line amounts.
    pub fn control_sum(&self) -> Decimal {
        self.lines.iter().map(|l| l.amount.value).sum()
    }

    pub fn number_of_transactions(&self) -> usize {
        self.lines.len()
    }
}

/// One credit transfer to one worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentLine {
    /// Our line id; it comes back in status reports and statements.
    pub end_to_end_id: String,
    /// Instruction id; defaults to the end-to-end id in dialects that need one.
    pub instruction_id: Option<String>,
    pub amount: Amount,
    /// The worker and his own card.
    pub creditor: AccountRef,
    /// Purpose / remittance text (e.g. "2026-10 工资").
    pub remittance: Option<String>,
}

/// Status of a whole message or of one line, in ISO 20022 terms; every dialect
/// maps its own codes onto these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Received, not yet checked (RCVD, PDNG and similar).
    Pending,
    /// Accepted technically / for execution, not yet settled (ACTC, ACCP, ACSP, ACWC).
    Accepted,
    /// Some transactions of the group or block accepted, others not (PART).
    /// Says nothing about any one line: a line under it stays unknown until
    /// its own status arrives. Only a group or a block can have it.
    PartlyAccepted,
    /// Settled on the creditor's account (ACSC, ACCC).
    Settled,
    /// Rejected (RJCT).
    Rejected,
    /// The bank does not know the outcome yet; ask again (ICBC Result 98).
    Unknown,
}

impl PaymentStatus {
    /// Map an ISO 20022 ExternalPaymentTransactionStatus / group status code.
    pub fn from_iso_code(code: &str) -> Self {
        match code {
            "ACSC" | "ACCC" => PaymentStatus::Settled,
            "RJCT" | "CANC" => PaymentStatus::Rejected,
            "ACTC" | "ACCP" | "ACSP" | "ACWC" | "ACWP" | "ACFC" => PaymentStatus::Accepted,
            "PART" => PaymentStatus::PartlyAccepted,
            // PATC: partially authorised, waiting for further signatures.
            "RCVD" | "PDNG" | "PATC" => PaymentStatus::Pending,
            _ => PaymentStatus::Unknown,
        }
    }

    /// The ISO 20022 code we write for this status.
    pub fn iso_code(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "PDNG",
            PaymentStatus::Accepted => "ACSP",
            PaymentStatus::PartlyAccepted => "PART",
            PaymentStatus::Settled => "ACSC",
            PaymentStatus::Rejected => "RJCT",
            PaymentStatus::Unknown => "PDNG",
        }
    }

    /// A final status: the line will not change any more.
    pub fn is_final(self) -> bool {
        matches!(self, PaymentStatus::Settled | PaymentStatus::Rejected)
    }

    /// The status a code gives one line: as [`PaymentStatus::from_iso_code`],
    /// but a line is never "partly" accepted, so `PART` (inherited from its
    /// block or group) leaves it `Unknown`; an empty code is `Unknown` too.
    pub fn for_line(code: &str) -> Self {
        match PaymentStatus::from_iso_code(code) {
            PaymentStatus::PartlyAccepted => PaymentStatus::Unknown,
            _ if code.is_empty() => PaymentStatus::Unknown,
            status => status,
        }
    }
}

/// A bank's answer to a payment batch (pain.002, ICBC QPAYPER, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    pub message_id: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// The batch this answers.
    pub original_message_id: String,
    /// The raw code as the file has it (e.g. "RJCT", or an ICBC RetCode).
    pub group_status_code: Option<String>,
    pub group_status: Option<PaymentStatus>,
    /// Group-level reason, when the whole batch was refused.
    pub group_reason: Option<StatusReason>,
    pub lines: Vec<LineStatus>,
    /// The payment blocks reported (pain.002 `OrgnlPmtInfAndSts`), in file
    /// order; empty for dialects without blocks (ICBC). A block without
    /// transactions names no line: its status is for all of that block's
    /// lines.
    #[serde(default)]
    pub blocks: Vec<PaymentBlockStatus>,
}

/// Status of one payment block (pain.001 `PmtInf`) as a pain.002 reports
/// it (`OrgnlPmtInfAndSts`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PaymentBlockStatus {
    /// `OrgnlPmtInfId`: the block's id as we sent it (our pain.001 writer
    /// uses the batch's message id).
    pub original_payment_information_id: Option<String>,
    /// `PmtInfSts` as the file has it.
    pub status_code: Option<String>,
    pub status: Option<PaymentStatus>,
    /// The block's `StsRsnInf`.
    pub reason: Option<StatusReason>,
    /// `OrgnlNbOfTxs`: the transactions the block had, as the bank states.
    pub original_count: Option<u64>,
    /// `OrgnlCtrlSum`, as the bank states.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub original_control_sum: Option<Decimal>,
    /// How many lines of this report belong to the block (0: a block status
    /// only).
    pub line_count: usize,
}

/// Status of one payment line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineStatus {
    pub end_to_end_id: String,
    pub instruction_id: Option<String>,
    /// The raw code as the file has it.
    pub status_code: String,
    pub status: PaymentStatus,
    pub reason: Option<StatusReason>,
    /// The block (`OrgnlPmtInfId`) the line was reported in; `None` when the
    /// dialect has no blocks or the block names no id.
    #[serde(default)]
    pub payment_information_id: Option<String>,
}

/// Why a payment was refused: a code (ISO external reason code such as AC01,
/// or a bank's own) and free text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatusReason {
    pub code: Option<String>,
    pub text: Option<String>,
}

/// The kind of bank-to-customer cash report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// camt.053: end-of-day statement (对账单).
    Statement,
    /// camt.052: intraday account report.
    Report,
    /// camt.054: debit/credit notification.
    Notification,
    /// A Chinese bank's account history query (ICBC QHISD, ...).
    History,
}

/// One statement / report / notification for one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub kind: StatementKind,
    /// The statement's own id (Stmt/Id).
    pub statement_id: String,
    /// Electronic sequence number (ElctrncSeqNb): gaps mean a statement is missing.
    pub sequence_number: Option<u64>,
    pub created_at: Option<DateTime<Utc>>,
    pub account: AccountRef,
    pub currency: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Opening booked balance (OPBD, or PRCD when only that is given).
    pub opening_balance: Option<Balance>,
    /// Closing booked balance (CLBD).
    pub closing_balance: Option<Balance>,
    /// Closing available balance (CLAV).
    pub available_balance: Option<Balance>,
    /// Entry count and sums as the file states them (TxsSummry), to check against.
    pub stated_summary: Option<StatedSummary>,
    pub entries: Vec<Entry>,
}

impl Statement {
    /// Sum of booked credits; `None` if a hostile file's amounts overflow.
    pub fn total_credits(&self) -> Option<Decimal> {
        self.booked_sum(Direction::Credit)
    }

    /// Sum of booked debits; `None` if a hostile file's amounts overflow.
    pub fn total_debits(&self) -> Option<Decimal> {
        self.booked_sum(Direction::Debit)
    }

    fn booked_sum(&self, direction: Direction) -> Option<Decimal> {
        self.entries
            .iter()
            .filter(|e| e.status == EntryStatus::Booked && e.direction == direction)
            .try_fold(Decimal::ZERO, |sum, e| sum.checked_add(e.amount.value))
    }
}

/// A balance as stated by the bank; the sign is already applied (a debit
/// balance is negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    pub amount: Amount,
    pub date: Option<NaiveDate>,
}

/// What the file says about its own entries (TxsSummry).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StatedSummary {
    pub entry_count: Option<u64>,
    pub total_credits_count: Option<u64>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub total_credits: Option<Decimal>,
    pub total_debits_count: Option<u64>,
    #[serde(with = "rust_decimal::serde::str_option")]
    pub total_debits: Option<Decimal>,
}

/// Money in or out of the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Money in (CRDT; ICBC Drcrf 2).
    Credit,
    /// Money out (DBIT; ICBC Drcrf 1).
    Debit,
}

/// Booking status of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    Booked,
    Pending,
    Info,
}

/// One statement entry: one booking, possibly a batch with many transactions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub amount: Amount,
    pub direction: Direction,
    pub status: EntryStatus,
    /// RvslInd: this entry reverses an earlier one (a returned payment).
    pub reversal: bool,
    /// The bank's booking date as written (its own business day).
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    /// The booking instant, when the file gives a time (camt `BookgDt/DtTm`,
    /// ICBC `Date`+`Time`); a time without offset is read at
    /// [`crate::read_options::ReadOptions::utc_offset`].
    #[serde(default)]
    pub booked_at: Option<DateTime<Utc>>,
    /// NtryRef: the bank's entry reference.
    pub bank_reference: Option<String>,
    /// AcctSvcrRef: the account servicer's reference, unique per booking.
    pub account_servicer_reference: Option<String>,
    /// Free text the bank adds (AddtlNtryInf).
    pub additional_info: Option<String>,
    /// Transaction details; a single payment has one, a batch booking many
    /// (or none: then only [`Entry::batch`] says what was paid).
    pub transactions: Vec<TransactionDetail>,
    /// `NtryDtls/Btch`: the entry books a batch, one debit for many payments.
    /// Split it by `transactions` when present, else by the batch's message
    /// or payment-information id. When an entry holds several `NtryDtls`
    /// with a `Btch` (rare), this is the first; each transaction still
    /// carries its own batch's ids.
    #[serde(default)]
    pub batch: Option<BatchRef>,
}

impl Entry {
    /// The entry books several payments at once (a batch reference, or
    /// more than one transaction).
    pub fn is_batch(&self) -> bool {
        self.batch.is_some() || self.transactions.len() > 1
    }
}

/// A batch booked as one entry (camt `NtryDtls/Btch`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BatchRef {
    /// `MsgId`: the message the batch was sent in (our pain.001's id).
    pub message_id: Option<String>,
    /// `PmtInfId`: the payment block.
    pub payment_information_id: Option<String>,
    /// `NbOfTxs`: how many payments the batch holds.
    pub count: Option<u64>,
    /// `TtlAmt`.
    pub total: Option<Amount>,
    /// `CdtDbtInd` of the batch.
    pub direction: Option<Direction>,
}

/// One transaction inside an entry (NtryDtls/TxDtls).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TransactionDetail {
    /// The transaction's own amount, when the file gives it.
    pub amount: Option<Amount>,
    pub direction: Option<Direction>,
    pub end_to_end_id: Option<String>,
    /// `Refs/MsgId`, else the `MsgId` of the batch the transaction is in.
    pub message_id: Option<String>,
    /// `Refs/PmtInfId`, else the `PmtInfId` of the batch the transaction is in.
    #[serde(default)]
    pub payment_information_id: Option<String>,
    pub instruction_id: Option<String>,
    pub account_servicer_reference: Option<String>,
    /// The other side: the creditor for a debit, the debtor for a credit.
    pub counterparty: Option<AccountRef>,
    pub remittance: Option<String>,
    /// Return reason, for reversals (RtrInf/Rsn/Cd).
    pub return_reason: Option<String>,
}
