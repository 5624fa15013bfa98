//! The bank's side of the HTTPS protocol, on the same directories as the
//! file exchange: a message PUT under an id becomes `to-bank/<id>.xml`
//! (executed in the next round like any file), the files the bank owes are
//! those in `from-bank/`, and an acknowledged one moves to
//! `from-bank/processed/`. So both transports feed one ledger and one round.
//!
//! Taking a message is idempotent by id: `taken/<id>` keeps the bytes the
//! id was first taken with, written only after the message is in
//! `to-bank/`, so a crash in between means the retry delivers it again
//! (and the ledger's executed ids keep it from being booked twice).

use std::fs;
use std::io::Read;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::transport::file_exchange::{check_message_id, write_new_file};
use crate::transport::{ReceivedFile, Transport, TransportError};

use super::{Sim, SimError};

/// Most names `GET /files` lists at once (the client asks again after
/// acknowledging them).
pub const MAX_LISTED: usize = 1000;

/// Largest message accepted by `PUT /messages/{id}`.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// What taking a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// New: it goes into the next round.
    New,
    /// The same id with the same bytes was taken before.
    Again,
    /// The same id was taken before with other bytes; nothing done.
    Conflict,
}

impl Sim {
    /// Takes a message sent under `id` (a plain file name).
    pub fn take_message(&self, id: &str, bytes: &[u8]) -> Result<Taken, SimError> {
        check_message_id(id)?;
        let taken_dir = self.dir.join("taken");
        fs::create_dir_all(&taken_dir).map_err(|e| SimError::io(&taken_dir, e))?;
        if let Some(first) = read_if_exists(taken_dir.join(id))? {
            return Ok(if first == bytes {
                Taken::Again
            } else {
                Taken::Conflict
            });
        }
        let inbox = self.exchange.inbox().to_path_buf();
        let name = format!("{id}.xml");
        if !write_new_file(&inbox, &name, bytes)? {
            let there = read_if_exists(inbox.join(&name))?;
            if there.is_some_and(|there| there != bytes) {
                return Ok(Taken::Conflict);
            }
        }
        // Two requests racing for one id: the loser compares with the winner.
        if write_new_file(&taken_dir, id, bytes)? {
            return Ok(Taken::New);
        }
        let first = read_if_exists(taken_dir.join(id))?;
        Ok(match first {
            Some(first) if first == bytes => Taken::Again,
            _ => Taken::Conflict,
        })
    }

    /// The names of the files waiting for the client, sorted, at most
    /// [`MAX_LISTED`].
    pub fn waiting_files(&self) -> Result<Vec<String>, SimError> {
        let outbox = self.exchange.outbox();
        let mut names = Vec::new();
        for entry in fs::read_dir(outbox).map_err(|e| SimError::io(outbox, e))? {
            let entry = entry.map_err(|e| SimError::io(outbox, e))?;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                if !name.starts_with('.') {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        names.truncate(MAX_LISTED);
        Ok(names)
    }

    /// A waiting file's bytes; `None` when no such file waits.
    pub fn waiting_file(&self, name: &str) -> Result<Option<Vec<u8>>, SimError> {
        if check_message_id(name).is_err() {
            return Ok(None);
        }
        read_if_exists(self.exchange.outbox().join(name))
    }

    /// The client has processed `name`: it leaves the waiting files.
    /// `false` when no such file waits.
    pub fn acknowledge(&self, name: &str) -> Result<bool, SimError> {
        let Some(bytes) = self.waiting_file(name)? else {
            return Ok(false);
        };
        // The client's view of the directories; its archive is the bank's.
        let client = self.client_exchange(self.dir.join("archive"))?;
        let file = ReceivedFile {
            name: name.to_owned(),
            sha256: hex::encode(Sha256::digest(&bytes)),
            bytes,
            archived_at: PathBuf::new(),
            seen_before: false,
        };
        match client.confirm(&file) {
            Ok(()) => Ok(true),
            Err(TransportError::NotInInbox(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

fn read_if_exists(path: PathBuf) -> Result<Option<Vec<u8>>, SimError> {
    match fs::File::open(&path) {
        Ok(file) => {
            let mut bytes = Vec::new();
            file.take(MAX_MESSAGE_BYTES as u64 * 4)
                .read_to_end(&mut bytes)
                .map_err(|e| SimError::io(&path, e))?;
            Ok(Some(bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SimError::io(&path, e)),
    }
}
