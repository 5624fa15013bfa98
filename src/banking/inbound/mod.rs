//! Every file a bank sends — over its connection's transport or uploaded
//! by the bank (`POST /v1/bank/files`) — is kept raw, recognised, applied
//! once, or quarantined with its reason; never dropped.
//!
//! [`take_in`] keeps the raw bytes first ([`raw`]), then in one transaction
//! records the file (by SHA-256: the same bytes again are one more receipt,
//! applied never again), reads it with its connection's dialect and applies
//! it: status reports to the attempts of the batch they answer
//! ([`status`]), statements stored with their continuity and linked to our
//! debits ([`statements`]). A file that cannot be read, or that names
//! nothing we know, is quarantined with the reason; the file row commits
//! either way. [`list`] reads the files back.
//!
//! Date-times a bank writes without an offset are read at its connection's
//! `utc_offset_minutes` (+08:00 for Chinese banks), not as UTC.

mod attempts;
pub mod list;
pub mod raw;
mod statements;
mod status;

use std::path::Path;

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};
use serde::Serialize;

use bank_adapters::dialect::{detect, BankCodec, Detected, Dialect, DialectKind, MessageKind};
use bank_adapters::read_options::ReadOptions;

use crate::clock::Clock;
use crate::db::bank_files::{self, ConnectionRow, Finding, NewBankFile};
use crate::error::AppError;

/// How a file arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Transport,
    Upload,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Transport => "transport",
            Channel::Upload => "upload",
        }
    }
}

/// A file as it arrived.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// The connection it came over (transport).
    pub connection_id: Option<i64>,
    /// The bank that sent it (an upload names the bank organisation).
    pub bank_id: Option<i64>,
    pub channel: Channel,
    pub name: Option<String>,
    pub bytes: Vec<u8>,
}

/// What became of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Intake {
    pub file_id: i64,
    pub sha256: String,
    /// `applied` or `quarantined` (`received` only while being processed).
    pub status: String,
    /// The same bytes came before: nothing was applied again.
    pub duplicate: bool,
    /// pain.002, camt.053, camt.054, camt.052, icbc_payper, icbc_qpayper, icbc_qhisd.
    pub kind: Option<String>,
    /// Why it was quarantined.
    pub reason: Option<String>,
    pub findings: Vec<Finding>,
}

/// Keeps, records, reads and applies one file; see the module doc.
pub fn take_in(
    conn: &mut PgConnection,
    clock: &Clock,
    data_dir: &Path,
    arrival: Arrival,
) -> Result<Intake, AppError> {
    let (sha, _) = raw::keep(data_dir, &arrival.bytes)?;
    let now = clock.now();
    // The bytes move down to the reader: a big statement is not copied.
    conn.transaction(move |conn| record_and_apply(conn, now, &sha, arrival))
}

fn record_and_apply(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    sha: &str,
    mut arrival: Arrival,
) -> Result<Intake, AppError> {
    let connection = find_connection(conn, &arrival)?;
    let bank_id = connection.as_ref().map(|c| c.bank_id).or(arrival.bank_id);
    let new = NewBankFile {
        sha256: sha,
        connection_id: connection.as_ref().map(|c| c.id),
        bank_id,
        name: arrival.name.as_deref(),
        size_bytes: i64::try_from(arrival.bytes.len()).unwrap_or(i64::MAX),
        received_at: now,
        status: "received",
    };
    let inserted = bank_files::insert_new(conn, &new)?;
    let Some(file_id) = inserted else {
        let known = bank_files::by_sha(conn, sha)?;
        bank_files::insert_receipt(
            conn,
            known.id,
            now,
            arrival.channel.as_str(),
            arrival.name.as_deref(),
        )?;
        let findings = bank_files::findings_of(conn, known.id)?;
        return Ok(Intake {
            file_id: known.id,
            sha256: known.sha256,
            status: known.status,
            duplicate: true,
            kind: known.kind,
            reason: known.reason,
            findings,
        });
    };
    bank_files::insert_receipt(
        conn,
        file_id,
        now,
        arrival.channel.as_str(),
        arrival.name.as_deref(),
    )?;
    let mut findings = Vec::new();
    let read = read_and_apply(
        conn,
        now,
        file_id,
        connection.as_ref(),
        std::mem::take(&mut arrival.bytes),
        &mut findings,
    );
    let (kind, reason) = match read {
        Ok(kind) => (Some(kind), None),
        Err(Quarantine { kind, reason }) => (kind, Some(reason)),
    };
    let status = if reason.is_some() {
        "quarantined"
    } else {
        "applied"
    };
    bank_files::mark_processed(
        conn,
        file_id,
        kind.as_deref(),
        status,
        reason.as_deref(),
        now,
    )?;
    bank_files::insert_findings(conn, file_id, &findings, now)?;
    Ok(Intake {
        file_id,
        sha256: sha.to_owned(),
        status: status.to_owned(),
        duplicate: false,
        kind,
        reason,
        findings,
    })
}

fn find_connection(
    conn: &mut PgConnection,
    arrival: &Arrival,
) -> Result<Option<ConnectionRow>, AppError> {
    Ok(match (arrival.connection_id, arrival.bank_id) {
        (Some(id), _) => bank_files::connection(conn, id)?,
        (None, Some(bank_id)) => bank_files::connection_of_bank(conn, bank_id)?,
        (None, None) => None,
    })
}

/// Why a file is quarantined, and what it was read as, if anything.
struct Quarantine {
    kind: Option<String>,
    reason: String,
}

impl Quarantine {
    fn new(kind: Option<&str>, reason: impl Into<String>) -> Self {
        Quarantine {
            kind: kind.map(str::to_owned),
            reason: reason.into(),
        }
    }
}

/// Reads and applies the file inside a savepoint: a refusal half-way
/// leaves nothing of it applied. A database failure is not a quarantine:
/// it aborts the whole intake, and the file is taken in again later.
fn read_and_apply(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection: Option<&ConnectionRow>,
    bytes: Vec<u8>,
    findings: &mut Vec<Finding>,
) -> Result<String, Quarantine> {
    let detected = detect(&bytes).map_err(|e| {
        Quarantine::new(
            None,
            format!("无法识别文件格式 (cannot tell the file's format): {e}"),
        )
    })?;
    let kind = kind_of(&detected);
    let Some(connection) = connection else {
        return Err(Quarantine::new(
            Some(&kind),
            "文件不属于任何已配置的银行连接 (the file came from no configured bank connection)",
        ));
    };
    let dialect: Dialect = serde_json::from_value(connection.dialect.clone()).map_err(|e| {
        Quarantine::new(
            Some(&kind),
            format!("银行连接的格式配置无法读取 (the connection's dialect cannot be read): {e}"),
        )
    })?;
    if detected.dialect != dialect.kind() {
        return Err(Quarantine::new(
            Some(&kind),
            format!(
                "文件是 {}，但此银行连接使用 {} (the file is {}, the connection speaks {})",
                detected.message,
                dialect.kind().as_str(),
                detected.message,
                dialect.kind().as_str()
            ),
        ));
    }
    let options = read_options(connection.utc_offset_minutes);
    let mut local = Vec::new();
    let applied = conn.transaction(|conn| {
        apply_detected(
            conn,
            now,
            file_id,
            connection.id,
            (dialect, &options),
            &detected,
            bytes,
            &mut local,
        )
    });
    // Findings stay, also when the savepoint rolled back: they say why.
    findings.append(&mut local);
    match applied {
        Ok(()) => Ok(kind),
        Err(ApplyError::Quarantine(reason)) => Err(Quarantine::new(Some(&kind), reason)),
        Err(ApplyError::App(AppError::Problem(p))) => Err(Quarantine::new(
            Some(&kind),
            format!(
                "文件内容无法采用 (the file's content cannot be used): {}",
                p.detail
            ),
        )),
        Err(ApplyError::App(e)) => Err(Quarantine::new(
            Some(&kind),
            format!("内部错误 (internal error): {e}"),
        )),
    }
}

/// Why applying stopped: the file is quarantined with the reason, and what
/// it changed so far is rolled back with the savepoint.
enum ApplyError {
    Quarantine(String),
    App(AppError),
}

impl From<diesel::result::Error> for ApplyError {
    fn from(e: diesel::result::Error) -> Self {
        ApplyError::App(e.into())
    }
}

impl From<AppError> for ApplyError {
    fn from(e: AppError) -> Self {
        ApplyError::App(e)
    }
}

#[allow(clippy::too_many_arguments)]
fn apply_detected(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    connection_id: i64,
    (dialect, options): (Dialect, &ReadOptions),
    detected: &Detected,
    bytes: Vec<u8>,
    findings: &mut Vec<Finding>,
) -> Result<(), ApplyError> {
    let dialect_kind = dialect.kind();
    let codec = BankCodec::plain(dialect);
    match detected.kind {
        MessageKind::StatusReport => {
            let report = codec
                .decode_status_with(bytes, options)
                .map_err(|e| ApplyError::Quarantine(unreadable(&e)))?;
            match status::apply_report(
                conn,
                now,
                file_id,
                connection_id,
                dialect_kind,
                &report,
                findings,
            )? {
                status::ReportOutcome::Applied { .. } => Ok(()),
                status::ReportOutcome::UnknownBatch(reason) => Err(ApplyError::Quarantine(reason)),
            }
        }
        MessageKind::Statement => {
            let read = codec
                .decode_statements_with(bytes, options)
                .map_err(|e| ApplyError::Quarantine(unreadable(&e)))?;
            statements::store_all(conn, now, file_id, connection_id, read, findings)?;
            Ok(())
        }
        _ => Err(ApplyError::Quarantine(format!(
            "{} 不是银行发来的回执或对账单 (not a status report or statement from a bank)",
            detected.message
        ))),
    }
}

/// How the connection's files are read: offset-less date-times at its offset
/// (validated to ±12/+14 h by the table's CHECK, so always representable).
fn read_options(utc_offset_minutes: i32) -> ReadOptions {
    chrono::FixedOffset::east_opt(utc_offset_minutes * 60)
        .map(|utc_offset| ReadOptions { utc_offset })
        .unwrap_or_default()
}

fn unreadable(e: &bank_adapters::dialect::CodecError) -> String {
    format!("文件无法读取 (the file cannot be read): {e}")
}

/// The kind stored for a detected file: `pain.002`, `camt.053`, ...,
/// `icbc_qpayper`, `icbc_qhisd`.
fn kind_of(detected: &Detected) -> String {
    match detected.dialect {
        DialectKind::Iso20022 => detected
            .message
            .get(..8)
            .unwrap_or(&detected.message)
            .to_owned(),
        DialectKind::IcbcCms => {
            let code = detected.message.trim_start_matches("icbc.");
            match code {
                "QPD" => "icbc_qhisd".to_owned(),
                other => format!("icbc_{}", other.to_ascii_lowercase()),
            }
        }
    }
}
