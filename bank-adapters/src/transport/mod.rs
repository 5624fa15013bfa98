//! How bank files travel: a [`Transport`] sends our files under their
//! message id and hands over the files the bank sent, each already kept raw
//! (content-addressed, SHA-256) before anything parses it.
//!
//! [`file_exchange`] is a pair of directories per bank connection;
//! [`https`] is HTTPS with mutual TLS (the client presents the connection's
//! certificate and checks the bank's against the configured CA). Both
//! implement the same trait with the same guarantees.
//!
//! This module moves bytes only: it knows no dialect and no database.

pub mod file_exchange;
pub mod https;

use std::path::PathBuf;

pub use file_exchange::FileExchange;
pub use https::{HttpsExchange, HttpsSettings};

/// What sending a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The file was handed over.
    Sent,
    /// The same message id with the same bytes was already handed over: a
    /// retry after a crash or a lost answer, nothing done.
    AlreadySent,
}

/// A file the bank sent, read and kept raw; confirm it once it is processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFile {
    /// The name the bank gave it (unique within the inbox).
    pub name: String,
    /// SHA-256 of the bytes, lower-case hex: the raw copy's name.
    pub sha256: String,
    pub bytes: Vec<u8>,
    /// Where the raw copy is kept.
    pub archived_at: PathBuf,
    /// The same content was received before (a resent file); whether to
    /// apply it again is the caller's decision, made on this flag.
    pub seen_before: bool,
}

/// A file the transport would not take (too large, unreadable); it is moved
/// aside, never dropped, and reported so the caller can list it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedFile {
    pub name: String,
    pub reason: String,
    /// Where it was moved.
    pub moved_to: PathBuf,
}

/// One look at the inbox.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// In a stable order (by name).
    pub files: Vec<ReceivedFile>,
    pub refused: Vec<RefusedFile>,
}

/// Why a transport operation failed.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// A message id that cannot name a file (empty, too long, or characters
    /// outside `A-Z a-z 0-9 . _ -`, or starting with a dot).
    #[error("message id {0:?} cannot be used as a file name")]
    BadMessageId(String),
    /// The same message id was already sent with other bytes: never
    /// overwritten, since the bank may already have read the first.
    #[error("message id {message_id:?} was already sent with different content")]
    Conflict { message_id: String },
    /// The file to confirm is no longer in the inbox.
    #[error("{0:?} is not in the inbox")]
    NotInInbox(String),
    /// The bank cannot be reached now (connection refused, time-out, TLS
    /// failure, a 5xx answer): retry later; sending is idempotent.
    #[error("the bank at {url} is unavailable: {reason}")]
    Unavailable { url: String, reason: String },
    /// The bank answered something the protocol does not allow (an
    /// unexpected status, a malformed list): a person must look.
    #[error("the bank at {url} answered outside the protocol: {reason}")]
    Protocol { url: String, reason: String },
    /// A setting cannot be used: `what` names the file or value, never its
    /// contents.
    #[error("{what}: {reason}")]
    Setup { what: String, reason: String },
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// A bank connection's way of moving files. Sending is idempotent by
/// message id, so a dispatcher may resend after any crash.
pub trait Transport {
    /// Hands `bytes` to the bank as the message `message_id`.
    fn send(&self, message_id: &str, bytes: &[u8]) -> Result<SendOutcome, TransportError>;
    /// Reads what the bank has sent and not yet been confirmed, keeping each
    /// raw file first.
    fn receive(&self) -> Result<Receipt, TransportError>;
    /// The caller has processed `file` (its outcome is stored): it leaves
    /// the inbox.
    fn confirm(&self, file: &ReceivedFile) -> Result<(), TransportError>;
}
