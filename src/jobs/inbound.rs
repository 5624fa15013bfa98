//! Polling the connections' transports: every file a bank left is taken in
//! ([`crate::banking::inbound::take_in`]) and only then confirmed, so a
//! crash in between means the file is read again and recognised as a
//! duplicate. One instance polls a connection at a time (a PostgreSQL
//! advisory lock on its id); several instances may run.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};

use bank_adapters::transport::RefusedFile;
use sha2::{Digest, Sha256};

use crate::banking::config::TransportConfig;
use crate::banking::inbound::{take_in, Arrival, Channel};
use crate::banking::transport;
use crate::clock::Clock;
use crate::db::bank_files::{self, ConnectionRow, NewBankFile};
use crate::db::PgPool;
use crate::domain::mask_numbers;
use crate::error::{AppError, ErrorCode};

/// The advisory-lock class of inbox polling (the object is the connection id).
const POLL_LOCK_CLASS: i32 = 0x1B0D;

/// What one round over every connection did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PollRound {
    pub connections_polled: usize,
    /// Another instance was polling these.
    pub connections_busy: usize,
    pub files_taken_in: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    /// Files the transport would not read (too large), recorded as quarantined.
    pub refused: usize,
    /// One line per connection that failed (the others still ran).
    pub errors: Vec<String>,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Polls every connection once.
pub fn poll_once(pool: &PgPool, clock: &Clock, data_dir: &Path) -> Result<PollRound, AppError> {
    let mut conn = pool.get()?;
    poll_connections(&mut conn, clock, data_dir)
}

/// Polls every connection once on `conn` (the job runner's round). The
/// per-connection lock is a session lock, released right after that
/// connection's files are handled (and by PostgreSQL if the process dies).
pub fn poll_connections(
    conn: &mut PgConnection,
    clock: &Clock,
    data_dir: &Path,
) -> Result<PollRound, AppError> {
    let mut round = PollRound::default();
    for connection_id in bank_files::all_connection_ids(conn)? {
        let Ok(lock_id) = i32::try_from(connection_id) else {
            round
                .errors
                .push(format!("connection {connection_id}: id too large to lock"));
            continue;
        };
        let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1, $2) AS locked")
            .bind::<Integer, _>(POLL_LOCK_CLASS)
            .bind::<Integer, _>(lock_id)
            .get_result(conn)?;
        if !locked.locked {
            round.connections_busy += 1;
            continue;
        }
        let polled = poll_connection(conn, clock, data_dir, connection_id, &mut round);
        diesel::sql_query("SELECT pg_advisory_unlock($1, $2)")
            .bind::<Integer, _>(POLL_LOCK_CLASS)
            .bind::<Integer, _>(lock_id)
            .execute(conn)?;
        round.connections_polled += 1;
        if let Err(e) = polled {
            let line = format!(
                "connection {connection_id}: {}",
                mask_numbers(&e.to_string())
            );
            tracing::warn!(connection_id, error = %line, "polling a bank connection failed");
            round.errors.push(line);
        }
    }
    Ok(round)
}

fn poll_connection(
    conn: &mut PgConnection,
    clock: &Clock,
    data_dir: &Path,
    connection_id: i64,
    round: &mut PollRound,
) -> Result<(), AppError> {
    let Some(connection) = bank_files::connection(conn, connection_id)? else {
        return Ok(());
    };
    let config: TransportConfig = serde_json::from_value(connection.transport.clone())
        .map_err(|e| AppError::new(ErrorCode::BankConnectionInvalid, e.to_string()))?;
    let transport = transport::open(&config, data_dir)?;
    let receipt = transport.receive().map_err(transport_error)?;
    for refused in &receipt.refused {
        record_refused(conn, clock, &connection, refused)?;
        round.refused += 1;
    }
    for mut file in receipt.files {
        // Confirming needs the name and hash only: the bytes move on.
        let arrival = Arrival {
            connection_id: Some(connection_id),
            bank_id: None,
            channel: Channel::Transport,
            name: Some(file.name.clone()),
            bytes: std::mem::take(&mut file.bytes),
        };
        let intake = take_in(conn, clock, data_dir, arrival)?;
        round.files_taken_in += 1;
        round.duplicates += usize::from(intake.duplicate);
        round.quarantined += usize::from(intake.status == "quarantined");
        // Only now does the file leave the inbox: its outcome is committed.
        transport.confirm(&file).map_err(transport_error)?;
    }
    Ok(())
}

fn transport_error(e: bank_adapters::transport::TransportError) -> AppError {
    AppError::new(ErrorCode::BankConnectionInvalid, e.to_string())
}

/// A file the transport moved aside unread: a quarantined file row, named
/// by the SHA-256 of the moved file (streamed, so its size does not matter).
fn record_refused(
    conn: &mut PgConnection,
    clock: &Clock,
    connection: &ConnectionRow,
    refused: &RefusedFile,
) -> Result<(), AppError> {
    let now = clock.now();
    let (sha, size) = match hash_file(&refused.moved_to) {
        Ok(found) => found,
        // Unreadable even now: name it by where it lies, so it is listed once.
        Err(_) => (
            hex::encode(Sha256::digest(
                refused.moved_to.to_string_lossy().as_bytes(),
            )),
            0,
        ),
    };
    let reason = format!(
        "传输拒收 (refused by the transport): {}; 文件保存在 (kept at) {}",
        refused.reason,
        refused.moved_to.display()
    );
    conn.transaction(|conn| {
        let new = NewBankFile {
            sha256: &sha,
            connection_id: Some(connection.id),
            bank_id: Some(connection.bank_id),
            name: Some(&refused.name),
            size_bytes: size,
            received_at: now,
            status: "received",
        };
        let file_id = match bank_files::insert_new(conn, &new)? {
            Some(id) => {
                bank_files::mark_processed(conn, id, None, "quarantined", Some(&reason), now)?;
                id
            }
            None => bank_files::by_sha(conn, &sha)?.id,
        };
        bank_files::insert_receipt(conn, file_id, now, "transport", Some(&refused.name))?;
        Ok(())
    })
}

fn hash_file(path: &Path) -> io::Result<(String, i64)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size: i64 = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size = size.saturating_add(n as i64);
    }
    Ok((hex::encode(hasher.finalize()), size))
}
