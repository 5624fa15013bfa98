//! The simulated bank's own books, kept in `ledger.json` under its
//! directory: accounts with balances, every booking, the message ids it
//! has executed and the files it owes its client.
//!
//! The file is replaced atomically (temporary file, fsync, rename, fsync of
//! the directory) and guarded by an exclusive `flock` on `ledger.lock`, so
//! the polling process and the admin commands never lose each other's
//! changes.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::model::{AccountRef, Direction};
use crate::transport::file_exchange::replace_file;

use super::SimError;

const LEDGER_FILE: &str = "ledger.json";
const LOCK_FILE: &str = "ledger.lock";

/// What kind of account the bank holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// 农民工工资专用账户: a project's dedicated wage account, which gets statements.
    Dedicated,
    /// A worker's own card, credited by wage payments.
    Card,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerAccount {
    pub kind: AccountKind,
    pub name: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub balance: Decimal,
    /// Sequence number of the last statement sent (0: none yet).
    pub statement_sequence: u64,
    /// Closing balance of the last statement (the next one's opening).
    #[serde(with = "rust_decimal::serde::str")]
    pub reported_balance: Decimal,
    pub reported_date: Option<NaiveDate>,
}

/// One booking on one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    /// The bank's reference, unique per booking (AcctSvcrRef).
    pub booking_id: String,
    pub account: String,
    pub direction: Direction,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub booked_at: DateTime<Utc>,
    /// Business date in China time.
    pub booking_date: NaiveDate,
    pub counterparty: AccountRef,
    pub end_to_end_id: Option<String>,
    pub message_id: Option<String>,
    pub remittance: Option<String>,
    /// Sequence number of the statement that reported it.
    pub statement: Option<u64>,
    /// The camt.054 that notified it (dedicated accounts, when configured).
    #[serde(default)]
    pub notification: Option<String>,
}

/// A payment message the bank executed; its id is never executed again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutedMessage {
    pub file_sha256: String,
    pub executed_at: DateTime<Utc>,
    pub report_message_id: String,
    pub lines: Vec<ExecutedLine>,
    /// The file has left the inbox; until then a crash means it is seen
    /// again and must be recognised as this execution, not a resend.
    pub confirmed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutedLine {
    pub end_to_end_id: String,
    pub status_code: String,
    pub reason_code: Option<String>,
    pub booking_id: Option<String>,
}

/// An input file the bank could not read (kept in its archive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedInput {
    pub name: String,
    pub sha256: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    pub accounts: BTreeMap<String, LedgerAccount>,
    pub bookings: Vec<Booking>,
    /// By the executed message's id.
    pub executed: BTreeMap<String, ExecutedMessage>,
    pub refused: Vec<RefusedInput>,
    /// Files decided but maybe not yet handed over, by message id: written
    /// here first, then sent (idempotently) and dropped, so a crash loses none.
    pub pending_out: BTreeMap<String, String>,
    pub next_booking: u64,
    pub next_message: u64,
    /// Payment files held back by the `hold_rounds` fault: rounds seen, by SHA-256.
    #[serde(default)]
    pub held: BTreeMap<String, u32>,
    /// Status reports the `lose_answer` fault never wrote, by message id.
    #[serde(default)]
    pub lost_answers: Vec<String>,
    /// Like `pending_out`, for answers that are not UTF-8 (ICBC's GBK), hex.
    #[serde(default)]
    pub pending_bytes: BTreeMap<String, String>,
    /// ICBC: end-to-end ids a QPAYPER has asked about (98 only the first time).
    #[serde(default)]
    pub icbc_asked: std::collections::BTreeSet<String>,
}

/// The exclusive lock on a ledger; released when dropped.
pub struct LedgerLock {
    _file: File,
}

impl Ledger {
    /// Takes the exclusive lock, waiting for another process to release it.
    pub fn lock(dir: &Path) -> Result<LedgerLock, SimError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| SimError::io(&path, e))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| SimError::io(&path, e.into()))?;
        Ok(LedgerLock { _file: file })
    }

    /// The ledger under `dir`, empty when none was saved yet.
    pub fn load(dir: &Path, _lock: &LedgerLock) -> Result<Ledger, SimError> {
        let path = dir.join(LEDGER_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| SimError::Ledger(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ledger::default()),
            Err(e) => Err(SimError::io(&path, e)),
        }
    }

    pub fn save(&self, dir: &Path, _lock: &LedgerLock) -> Result<(), SimError> {
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| SimError::Ledger(format!("cannot serialise the ledger: {e}")))?;
        replace_file(dir, LEDGER_FILE, &json)?;
        Ok(())
    }

    /// A new message id for a file the bank sends (≤ 35 characters).
    pub fn new_message_id(&mut self, prefix: &str) -> String {
        self.next_message += 1;
        format!("SIM{prefix}{:010}", self.next_message)
    }

    /// Books `amount` on `account` (opened as a card in `holder`'s name if
    /// unknown) and returns the booking id.
    pub fn book(&mut self, mut booking: Booking, holder: Option<&str>) -> String {
        self.next_booking += 1;
        booking.booking_id = format!("SIMB{:012}", self.next_booking);
        let account = self
            .accounts
            .entry(booking.account.clone())
            .or_insert_with(|| LedgerAccount {
                kind: AccountKind::Card,
                name: holder.map(str::to_owned),
                balance: Decimal::ZERO,
                statement_sequence: 0,
                reported_balance: Decimal::ZERO,
                reported_date: None,
            });
        match booking.direction {
            Direction::Credit => account.balance += booking.amount,
            Direction::Debit => account.balance -= booking.amount,
        }
        let id = booking.booking_id.clone();
        self.bookings.push(booking);
        id
    }
}

impl Booking {
    /// A new booking; its id is given by [`Ledger::book`].
    pub fn new(
        account: &str,
        direction: Direction,
        amount: Decimal,
        at: DateTime<Utc>,
        counterparty: AccountRef,
    ) -> Self {
        Booking {
            booking_id: String::new(),
            account: account.to_owned(),
            direction,
            amount,
            booked_at: at,
            booking_date: super::china_date(at),
            counterparty,
            end_to_end_id: None,
            message_id: None,
            remittance: None,
            statement: None,
            notification: None,
        }
    }
}
