//! A bank simulator (`bank-sim`) that plays the bank over the file
//! exchange or HTTPS with mutual TLS ([`http`], [`exchange`]), for tests and
//! the demo: it reads pain.001 files from `DIR/to-bank/`, executes them
//! against its own durable ledger (`DIR/ledger.json`), and writes
//! pain.002.001.10 status reports, camt.053.001.08 statements and (when
//! configured) camt.054.001.08 notifications to `DIR/from-bank/`. It can be
//! told to misbehave ([`faults`]) and driven over an admin API ([`admin`]).
//!
//! Configured by `DIR/bank-sim.toml` (read every round, so faults can be
//! changed while it runs):
//!
//! ```toml
//! closed_cards = ["6222020200112233445"]        # rejected AC04
//! name_mismatch_cards = ["6222020200998877665"] # rejected BE01
//!
//! [[accounts]]                                  # dedicated wage accounts
//! number = "1234567890123456789"
//! name = "某项目农民工工资专用账户"
//! opening_balance = "500000.00"
//!
//! [faults]                                      # see `faults::Faults`
//! hold_rounds = 2
//! ```
//!
//! Exactly once on the bank's side: a message id it has executed is never
//! executed again (answered RJCT DU01), and every answer is stored in the
//! ledger before it is handed over, so a crash at any point neither loses
//! an answer nor books twice. Raw input files are kept under
//! `DIR/archive/` by SHA-256.

pub mod admin;
mod answer;
pub mod exchange;
pub mod faults;
pub mod http;
mod icbc;
pub mod ledger;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cn_icbc;
use crate::error::WriteError;
use crate::model::{AccountRef, Direction};
use crate::payment_read::read_payment_file;
use crate::transport::file_exchange::replace_file;
use crate::transport::{FileExchange, ReceivedFile, Transport, TransportError};

pub use answer::reason;
pub use faults::{FaultSet, Faults};
use ledger::{
    AccountKind, Booking, ExecutedMessage, Ledger, LedgerAccount, LedgerLock, RefusedInput,
};

const CONFIG_FILE: &str = "bank-sim.toml";

/// Why the simulator could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("ledger: {0}")]
    Ledger(String),
    /// An admin command the ledger cannot carry out (unknown account, ...).
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("cannot write an answer: {0}")]
    Write(#[from] WriteError),
}

impl SimError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        SimError::Transport(TransportError::Io {
            path: path.to_path_buf(),
            source,
        })
    }
}

/// `DIR/bank-sim.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub accounts: Vec<AccountConfig>,
    #[serde(default)]
    pub closed_cards: BTreeSet<String>,
    #[serde(default)]
    pub name_mismatch_cards: BTreeSet<String>,
    /// A camt.054 debit/credit notification per booking on a dedicated
    /// account, besides the statement.
    #[serde(default)]
    pub camt_notifications: bool,
    #[serde(default)]
    pub faults: Faults,
    /// What the connection speaks besides pain.001: `icbc_cms` sends no
    /// camt.053 (the client asks with QHISD). Requests are answered in the
    /// dialect they come in either way.
    #[serde(default)]
    pub dialect: SimDialect,
    /// End-to-end ids the payer's approver refuses to authorise: not
    /// booked, RJCT DS0G (ICBC: `Result` 8).
    #[serde(default)]
    pub authorisation_refused: BTreeSet<String>,
    /// ICBC: end-to-end ids whose first QPAYPER is answered `Result` 98.
    #[serde(default)]
    pub icbc_unknown_first: BTreeSet<String>,
    /// ICBC: rows per QHISD page (default 20).
    #[serde(default)]
    pub icbc_page_size: Option<usize>,
}

/// See [`Config::dialect`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimDialect {
    #[default]
    Iso20022,
    IcbcCms,
}

/// A dedicated account the bank holds, opened with its opening balance
/// the first time the simulator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub number: String,
    pub name: Option<String>,
    #[serde(with = "rust_decimal::serde::str")]
    pub opening_balance: Decimal,
}

impl Config {
    /// Reads `DIR/bank-sim.toml`; none means no accounts and no faults.
    pub fn load(dir: &Path) -> Result<Config, SimError> {
        let path = dir.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text)
                .map_err(|e| SimError::Config(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(SimError::io(&path, e)),
        }
    }

    /// Writes it as `DIR/bank-sim.toml` (for tests and `init`).
    pub fn save(&self, dir: &Path) -> Result<(), SimError> {
        let text = toml::to_string_pretty(self)
            .map_err(|e| SimError::Config(format!("cannot write the configuration: {e}")))?;
        std::fs::create_dir_all(dir).map_err(|e| SimError::io(dir, e))?;
        // Atomic: the servers read it while the admin API writes it.
        Ok(replace_file(dir, CONFIG_FILE, text.as_bytes())?)
    }
}

/// What one poll round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoundSummary {
    pub executed_messages: usize,
    pub settled_lines: usize,
    pub rejected_lines: usize,
    pub duplicates: usize,
    pub unreadable: usize,
    pub statements: usize,
    /// Payment files held back by the `hold_rounds` fault.
    pub held: usize,
    pub notifications: usize,
    /// Garbage files written by the `malformed_next` fault.
    pub malformed: usize,
    /// ICBC QPAYPER / QHISD queries answered.
    pub queries: usize,
}

/// The simulator on one directory.
pub struct Sim {
    dir: PathBuf,
    /// Seen from the bank: its inbox is `to-bank/`, its outbox `from-bank/`.
    exchange: FileExchange,
}

impl Sim {
    pub fn open(dir: impl Into<PathBuf>) -> Result<Sim, SimError> {
        let dir = dir.into();
        let exchange = FileExchange::new(
            dir.join("from-bank"),
            dir.join("to-bank"),
            dir.join("archive"),
        )?;
        Ok(Sim { dir, exchange })
    }

    /// The client's side of this bank's file exchange: it sends to
    /// `to-bank/` and receives from `from-bank/`, archiving under `archive`.
    pub fn client_exchange(&self, archive: impl Into<PathBuf>) -> Result<FileExchange, SimError> {
        Ok(FileExchange::new(
            self.dir.join("to-bank"),
            self.dir.join("from-bank"),
            archive,
        )?)
    }

    /// The simulator's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Replaces the rejected cards and the faults in `bank-sim.toml`
    /// (accounts stay), under the ledger's lock like every writer of it.
    pub fn set_faults(&self, set: FaultSet) -> Result<(), SimError> {
        let _lock = Ledger::lock(&self.dir)?;
        let mut config = Config::load(&self.dir)?;
        config.closed_cards = set.closed_cards;
        config.name_mismatch_cards = set.name_mismatch_cards;
        config.faults = set.faults;
        config.save(&self.dir)
    }

    /// The ledger as it is now.
    pub fn ledger(&self) -> Result<Ledger, SimError> {
        let (_lock, ledger, _config) = self.begin()?;
        Ok(ledger)
    }

    /// Locks, loads the ledger and opens the accounts the configuration adds.
    fn begin(&self) -> Result<(LedgerLock, Ledger, Config), SimError> {
        let lock = Ledger::lock(&self.dir)?;
        let mut ledger = Ledger::load(&self.dir, &lock)?;
        let config = Config::load(&self.dir)?;
        for account in &config.accounts {
            ledger
                .accounts
                .entry(account.number.clone())
                .or_insert_with(|| LedgerAccount {
                    kind: AccountKind::Dedicated,
                    name: account.name.clone(),
                    balance: account.opening_balance,
                    statement_sequence: 0,
                    reported_balance: account.opening_balance,
                    reported_date: None,
                });
        }
        Ok((lock, ledger, config))
    }

    /// One round at `now`: answers every payment file in `to-bank/`, then
    /// sends a statement for each dedicated account with new bookings.
    pub fn round(&self, now: DateTime<Utc>) -> Result<RoundSummary, SimError> {
        let (lock, mut ledger, mut config) = self.begin()?;
        self.flush(&mut ledger, &lock)?;
        let mut summary = RoundSummary::default();
        let receipt = self.exchange.receive()?;
        summary.unreadable += receipt.refused.len();
        for file in &receipt.files {
            self.answer_file(&mut ledger, &lock, &config, file, now, &mut summary)?;
        }
        if config.camt_notifications {
            summary.notifications += answer::notifications(&mut ledger, now)?;
        }
        let dedicated: Vec<String> = ledger
            .accounts
            .iter()
            .filter(|(_, a)| a.kind == AccountKind::Dedicated)
            .map(|(number, _)| number.clone())
            .collect();
        let statements = config.dialect == SimDialect::Iso20022;
        for number in dedicated.into_iter().filter(|_| statements) {
            let news = ledger
                .bookings
                .iter()
                .any(|b| b.account == number && b.statement.is_none());
            if !news {
                continue;
            }
            let id = ledger.new_message_id("C53");
            if let Some(xml) = answer::next_statement(&mut ledger, &number, &id, now)? {
                ledger.pending_out.insert(id, xml);
                summary.statements += 1;
            }
        }
        self.write_garbage(&mut ledger, &lock, &mut config, &mut summary)?;
        ledger.save(&self.dir, &lock)?;
        self.flush(&mut ledger, &lock)?;
        Ok(summary)
    }

    /// The `malformed_next` fault: garbage files owed, the count reset.
    fn write_garbage(
        &self,
        ledger: &mut Ledger,
        lock: &LedgerLock,
        config: &mut Config,
        summary: &mut RoundSummary,
    ) -> Result<(), SimError> {
        if config.faults.malformed_next == 0 {
            return Ok(());
        }
        for _ in 0..config.faults.malformed_next {
            let id = ledger.new_message_id("BAD");
            let bytes = faults::garbage(ledger.next_message);
            ledger.pending_out.insert(id, bytes);
            summary.malformed += 1;
        }
        // Owed before the count is reset: a crash between writes them again
        // at worst, which is what a garbage-sending bank does anyway.
        ledger.save(&self.dir, lock)?;
        config.faults.malformed_next = 0;
        config.save(&self.dir)
    }

    /// The `hold_rounds` fault: `true` while the file must wait.
    fn hold(&self, ledger: &mut Ledger, config: &Config, file: &ReceivedFile) -> bool {
        let rounds = config.faults.hold_rounds;
        let seen = ledger.held.entry(file.sha256.clone()).or_insert(0);
        if *seen < rounds {
            *seen += 1;
            return true;
        }
        ledger.held.remove(&file.sha256);
        false
    }

    /// Owes a status report, as the faults say: never (`lose_answer`),
    /// twice (`duplicate_status`), or followed by an interim ACTC one
    /// (`out_of_order`).
    fn owe_report(
        ledger: &mut Ledger,
        faults: &Faults,
        original_message_id: &str,
        (id, xml): (String, String),
        now: DateTime<Utc>,
    ) -> Result<(), SimError> {
        if faults.lose_answer {
            ledger.lost_answers.push(id);
            return Ok(());
        }
        if faults.duplicate_status {
            ledger
                .pending_out
                .insert(format!("{id}-AGAIN"), xml.clone());
        }
        ledger.pending_out.insert(id, xml);
        if faults.out_of_order {
            let interim_id = ledger.new_message_id("P2");
            let interim = answer::interim_report(&interim_id, original_message_id, now)?;
            ledger.pending_out.insert(interim_id, interim);
        }
        Ok(())
    }

    /// Executes or refuses one payment file, stores the answer, hands it
    /// over, then lets the file leave the inbox.
    fn answer_file(
        &self,
        ledger: &mut Ledger,
        lock: &LedgerLock,
        config: &Config,
        file: &ReceivedFile,
        now: DateTime<Utc>,
        summary: &mut RoundSummary,
    ) -> Result<(), SimError> {
        if self.hold(ledger, config, file) {
            summary.held += 1;
            return ledger.save(&self.dir, lock);
        }
        if let Some(asked) = icbc::query_of(&file.bytes) {
            match icbc::answer_query(ledger, config, asked, now) {
                Ok(bytes) => {
                    let id = ledger.new_message_id("CMS");
                    ledger.pending_bytes.insert(id, hex::encode(bytes));
                    summary.queries += 1;
                }
                Err(e) => ledger.refused.push(RefusedInput {
                    name: file.name.clone(),
                    sha256: file.sha256.clone(),
                    reason: e.to_string(),
                }),
            }
            ledger.save(&self.dir, lock)?;
            self.flush(ledger, lock)?;
            return Ok(self.exchange.confirm(file)?);
        }
        let payment = match read_payment_file(&file.bytes) {
            Ok(payment) => payment,
            Err(e) => {
                ledger.refused.push(RefusedInput {
                    name: file.name.clone(),
                    sha256: file.sha256.clone(),
                    reason: e.to_string(),
                });
                summary.unreadable += 1;
                ledger.save(&self.dir, lock)?;
                return Ok(self.exchange.confirm(file)?);
            }
        };
        let message_id = payment.message_id.clone();
        let cms = (payment.message == "icbc.PAYPER")
            .then(|| icbc::connection_of(&file.bytes))
            .transpose()?;
        match (ledger.executed.get(&message_id), &cms) {
            // This very file was executed and answered before a crash kept
            // it in the inbox: the answer is out, only the move is left.
            (Some(done), _) if !done.confirmed && done.file_sha256 == file.sha256 => {}
            (Some(_), Some(conn)) => {
                let id = ledger.new_message_id("CMS");
                let bytes = icbc::payper_answer(conn, &message_id, &id, true, now)?;
                ledger.pending_bytes.insert(id, hex::encode(bytes));
                summary.duplicates += 1;
            }
            (Some(_), None) => {
                let id = ledger.new_message_id("P2");
                let xml = answer::status_report(
                    &id,
                    &message_id,
                    Vec::new(),
                    Some(reason::DUPLICATE_MESSAGE),
                    now,
                )?;
                Self::owe_report(ledger, &config.faults, &message_id, (id, xml), now)?;
                summary.duplicates += 1;
            }
            (None, _) => {
                Self::execute_new(ledger, config, file, &payment, cms.as_ref(), now, summary)?
            }
        }
        ledger.save(&self.dir, lock)?;
        self.flush(ledger, lock)?;
        self.exchange.confirm(file)?;
        if let Some(done) = ledger.executed.get_mut(&message_id) {
            done.confirmed = true;
        }
        ledger.save(&self.dir, lock)
    }

    /// Executes a payment message not seen before and owes its answer: a
    /// pain.002, or the PAYPER acknowledgement for a CMS package.
    fn execute_new(
        ledger: &mut Ledger,
        config: &Config,
        file: &ReceivedFile,
        payment: &crate::payment_read::PaymentFile,
        cms: Option<&cn_icbc::IcbcConnection>,
        now: DateTime<Utc>,
        summary: &mut RoundSummary,
    ) -> Result<(), SimError> {
        let message_id = payment.message_id.clone();
        let (statuses, lines) = answer::execute(ledger, config, payment, now);
        let settled = lines.iter().filter(|l| l.booking_id.is_some()).count();
        summary.settled_lines += settled;
        summary.rejected_lines += lines.len() - settled;
        summary.executed_messages += 1;
        let id = ledger.new_message_id(if cms.is_some() { "CMS" } else { "P2" });
        if let Some(conn) = &cms {
            let bytes = icbc::payper_answer(conn, &message_id, &id, false, now)?;
            ledger.pending_bytes.insert(id.clone(), hex::encode(bytes));
        } else {
            let xml = answer::status_report(&id, &message_id, statuses, None, now)?;
            let report = (id.clone(), xml);
            Self::owe_report(ledger, &config.faults, &message_id, report, now)?;
        }
        ledger.executed.insert(
            message_id.clone(),
            ExecutedMessage {
                file_sha256: file.sha256.clone(),
                executed_at: now,
                report_message_id: id,
                lines,
                confirmed: false,
            },
        );
        Ok(())
    }

    /// Hands over every answer the ledger owes (sending is idempotent, so
    /// one sent before a crash is not sent twice) and forgets them.
    fn flush(&self, ledger: &mut Ledger, lock: &LedgerLock) -> Result<(), SimError> {
        if ledger.pending_out.is_empty() && ledger.pending_bytes.is_empty() {
            return Ok(());
        }
        for (id, xml) in &ledger.pending_out {
            self.exchange.send(id, xml.as_bytes())?;
        }
        for (id, hex_bytes) in &ledger.pending_bytes {
            let bytes = hex::decode(hex_bytes).map_err(|e| SimError::Ledger(e.to_string()))?;
            self.exchange.send(id, &bytes)?;
        }
        ledger.pending_out.clear();
        ledger.pending_bytes.clear();
        ledger.save(&self.dir, lock)
    }

    /// Books money into or out of a dedicated account from outside (the
    /// owner's labour-cost transfer in; a misuse out); it shows on the next
    /// statement. Returns the booking id.
    pub fn transfer(
        &self,
        account: &str,
        direction: Direction,
        amount: Decimal,
        other: AccountRef,
        now: DateTime<Utc>,
    ) -> Result<String, SimError> {
        if amount <= Decimal::ZERO || amount.scale() > 2 {
            return Err(SimError::Refused(format!(
                "金额必须为正数且最多两位小数: {amount}"
            )));
        }
        let (lock, mut ledger, _config) = self.begin()?;
        let Some(held) = ledger.accounts.get(account) else {
            return Err(SimError::Refused(format!(
                "账户 {} 不存在（在 bank-sim.toml 中配置）",
                mask(account)
            )));
        };
        if direction == Direction::Debit && held.balance < amount {
            return Err(SimError::Refused(format!(
                "账户 {} 余额不足: {} < {amount}",
                mask(account),
                held.balance
            )));
        }
        let id = ledger.book(Booking::new(account, direction, amount, now, other), None);
        ledger.save(&self.dir, &lock)?;
        Ok(id)
    }
}

/// The business date in China (UTC+8, no daylight saving).
pub fn china_date(at: DateTime<Utc>) -> NaiveDate {
    match FixedOffset::east_opt(8 * 3600) {
        Some(china) => at.with_timezone(&china).date_naive(),
        None => at.date_naive(),
    }
}

/// An account number as messages show it: the last four digits.
pub fn mask(number: &str) -> String {
    let count = number.chars().count();
    let tail: String = number.chars().skip(count.saturating_sub(4)).collect();
    format!("****{tail}")
}
