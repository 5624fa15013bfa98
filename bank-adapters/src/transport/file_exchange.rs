//! File exchange (文件交换): per bank connection an outbox directory (files
//! we send, which the bank collects) and an inbox directory (files the bank
//! leaves for us).
//!
//! Crash safety rests on three rules:
//! - a file appears under its final name complete or not at all: it is
//!   written under a dot-prefixed temporary name in the same directory,
//!   fsynced, linked to its final name (a link never replaces an existing
//!   file, unlike a rename) and the directory is fsynced;
//! - a received file is copied raw into the archive, named by its SHA-256,
//!   before the caller parses it, so nothing the bank sent is ever lost;
//! - a received file leaves the inbox (for `processed/`) only when the
//!   caller confirms it, so a crash in between means it is read again.
//!
//! Names starting with a dot are temporary and never read; sub-directories
//! (`processed/`, `refused/`) are skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use super::{Receipt, ReceivedFile, RefusedFile, SendOutcome, Transport, TransportError};

/// Largest file read from an inbox unless configured otherwise (a month's
/// statement of a busy account fits; a runaway file does not).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// Longest message id used as a file name (ISO 20022 ids are ≤ 35).
const MAX_MESSAGE_ID: usize = 100;

/// Makes temporary names unique among threads of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// One connection's pair of directories and the archive raw files go to.
#[derive(Debug, Clone)]
pub struct FileExchange {
    outbox: PathBuf,
    inbox: PathBuf,
    archive: PathBuf,
    extension: String,
    max_file_bytes: u64,
}

impl FileExchange {
    /// Creates the directories if needed. Sent files are named
    /// `<message id>.xml`.
    pub fn new(
        outbox: impl Into<PathBuf>,
        inbox: impl Into<PathBuf>,
        archive: impl Into<PathBuf>,
    ) -> Result<Self, TransportError> {
        let exchange = FileExchange {
            outbox: outbox.into(),
            inbox: inbox.into(),
            archive: archive.into(),
            extension: ".xml".to_owned(),
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
        };
        for dir in [&exchange.outbox, &exchange.inbox, &exchange.archive] {
            fs::create_dir_all(dir).map_err(io_at(dir))?;
        }
        Ok(exchange)
    }

    /// The extension (with its dot) of sent files.
    pub fn with_extension(mut self, extension: &str) -> Self {
        extension.clone_into(&mut self.extension);
        self
    }

    /// Files larger than this are refused (moved to `refused/`) unread.
    pub fn with_max_file_bytes(mut self, max: u64) -> Self {
        self.max_file_bytes = max;
        self
    }

    pub fn outbox(&self) -> &Path {
        &self.outbox
    }

    pub fn inbox(&self) -> &Path {
        &self.inbox
    }

    /// The raw copy of content with this SHA-256 (lower-case hex), whether
    /// or not it exists: `<archive>/<first two hex digits>/<hex>`.
    pub fn archive_path(&self, sha256: &str) -> PathBuf {
        archive_path(&self.archive, sha256)
    }

    fn receive_one(
        &self,
        name: &str,
        path: &Path,
    ) -> Result<Result<ReceivedFile, String>, TransportError> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) => return Ok(Err(format!("cannot open: {e}"))),
        };
        let mut bytes = Vec::new();
        // One byte more than allowed tells "too large" from "exactly the limit".
        let read = file
            .take(self.max_file_bytes.saturating_add(1))
            .read_to_end(&mut bytes);
        if let Err(e) = read {
            return Ok(Err(format!("cannot read: {e}")));
        }
        if bytes.len() as u64 > self.max_file_bytes {
            return Ok(Err(format!(
                "larger than the limit of {} bytes",
                self.max_file_bytes
            )));
        }
        Ok(Ok(keep_raw(&self.archive, name, bytes)?))
    }

    /// Moves an inbox file into `inbox/<folder>/`, never over another file:
    /// a second file of the same name gets its hash as a suffix.
    fn move_aside(
        &self,
        name: &str,
        folder: &str,
        suffix: &str,
    ) -> Result<PathBuf, TransportError> {
        let from = self.inbox.join(name);
        let dir = self.inbox.join(folder);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let mut to = dir.join(name);
        if to.exists() {
            to = dir.join(format!("{name}.{suffix}"));
        }
        match fs::hard_link(&from, &to) {
            Ok(()) => {}
            // Confirmed twice, or a crash after linking: the copy is there.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(TransportError::NotInInbox(name.to_owned()))
            }
            Err(e) => return Err(io_at(&to)(e)),
        }
        sync_dir(&dir)?;
        fs::remove_file(&from).map_err(io_at(&from))?;
        sync_dir(&self.inbox)?;
        Ok(to)
    }
}

impl Transport for FileExchange {
    fn send(&self, message_id: &str, bytes: &[u8]) -> Result<SendOutcome, TransportError> {
        check_message_id(message_id)?;
        let name = format!("{message_id}{}", self.extension);
        if write_new_file(&self.outbox, &name, bytes)? {
            return Ok(SendOutcome::Sent);
        }
        let path = self.outbox.join(&name);
        let existing = fs::read(&path).map_err(io_at(&path))?;
        if existing == bytes {
            Ok(SendOutcome::AlreadySent)
        } else {
            Err(TransportError::Conflict {
                message_id: message_id.to_owned(),
            })
        }
    }

    fn receive(&self) -> Result<Receipt, TransportError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.inbox).map_err(io_at(&self.inbox))? {
            let entry = entry.map_err(io_at(&self.inbox))?;
            let is_file = entry.file_type().map_err(io_at(&entry.path()))?.is_file();
            // A name that is not UTF-8 cannot be reported; it stays for a person.
            if let (true, Some(name)) = (is_file, entry.file_name().to_str()) {
                if !name.starts_with('.') {
                    names.push(name.to_owned());
                }
            }
        }
        names.sort();
        let mut receipt = Receipt::default();
        for name in names {
            let path = self.inbox.join(&name);
            match self.receive_one(&name, &path)? {
                Ok(file) => receipt.files.push(file),
                Err(reason) => {
                    let moved_to = self.move_aside(&name, "refused", "dup")?;
                    receipt.refused.push(RefusedFile {
                        name,
                        reason,
                        moved_to,
                    });
                }
            }
        }
        Ok(receipt)
    }

    fn confirm(&self, file: &ReceivedFile) -> Result<(), TransportError> {
        let suffix = file.sha256.get(..16).unwrap_or(&file.sha256);
        self.move_aside(&file.name, "processed", suffix).map(|_| ())
    }
}

/// The raw copy of content with this SHA-256 under `archive`:
/// `<archive>/<first two hex digits>/<hex>`.
pub(crate) fn archive_path(archive: &Path, sha256: &str) -> PathBuf {
    let fan = sha256.get(..2).unwrap_or("00");
    archive.join(fan).join(sha256)
}

/// Keeps a received file's bytes raw under `archive`, content-addressed,
/// before anyone parses them; every transport receives through this.
pub(crate) fn keep_raw(
    archive: &Path,
    name: &str,
    bytes: Vec<u8>,
) -> Result<ReceivedFile, TransportError> {
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let path = archive_path(archive, &sha256);
    let dir = path.parent().unwrap_or(archive).to_path_buf();
    fs::create_dir_all(&dir).map_err(io_at(&dir))?;
    let created = write_new_file(&dir, &sha256, &bytes)?;
    Ok(ReceivedFile {
        name: name.to_owned(),
        sha256,
        bytes,
        archived_at: path,
        seen_before: !created,
    })
}

/// Writes `bytes` as `dir/name` unless that name exists: temporary file,
/// fsync, link, fsync of the directory. `false` when the name existed.
pub(crate) fn write_new_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<bool, TransportError> {
    let temp = temp_path(dir, name);
    let written = write_synced(&temp, bytes);
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(io_at(&temp)(e));
    }
    let target = dir.join(name);
    let linked = fs::hard_link(&temp, &target);
    let _ = fs::remove_file(&temp);
    match linked {
        Ok(()) => {
            sync_dir(dir)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_at(&target)(e)),
    }
}

/// Writes `bytes` as `dir/name`, replacing what was there, atomically
/// (temporary file, fsync, rename, fsync of the directory).
pub(crate) fn replace_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), TransportError> {
    let temp = temp_path(dir, name);
    if let Err(e) = write_synced(&temp, bytes) {
        let _ = fs::remove_file(&temp);
        return Err(io_at(&temp)(e));
    }
    let target = dir.join(name);
    fs::rename(&temp, &target).map_err(io_at(&target))?;
    sync_dir(dir)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.{}.{counter}.tmp", std::process::id()))
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn sync_dir(dir: &Path) -> Result<(), TransportError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_at(dir))
}

pub(crate) fn check_message_id(message_id: &str) -> Result<(), TransportError> {
    let fine = !message_id.is_empty()
        && message_id.len() <= MAX_MESSAGE_ID
        && !message_id.starts_with('.')
        && message_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if fine {
        Ok(())
    } else {
        Err(TransportError::BadMessageId(message_id.to_owned()))
    }
}

pub(crate) fn io_at(path: &Path) -> impl Fn(io::Error) -> TransportError + '_ {
    move |source| TransportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(root: &Path) -> FileExchange {
        FileExchange::new(root.join("out"), root.join("in"), root.join("archive")).unwrap()
    }

    #[test]
    fn sending_twice_is_a_no_op_and_other_bytes_a_conflict() {
        let dir = tempfile::tempdir().unwrap();
        let fx = exchange(dir.path());
        assert_eq!(fx.send("MSG-1", b"<a/>").unwrap(), SendOutcome::Sent);
        assert_eq!(fx.send("MSG-1", b"<a/>").unwrap(), SendOutcome::AlreadySent);
        assert!(matches!(
            fx.send("MSG-1", b"<b/>"),
            Err(TransportError::Conflict { .. })
        ));
        assert_eq!(fs::read(dir.path().join("out/MSG-1.xml")).unwrap(), b"<a/>");
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("out")).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn message_ids_that_are_not_plain_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fx = exchange(dir.path());
        for id in ["", "../x", ".hidden", "a/b", "报文"] {
            assert!(
                matches!(fx.send(id, b"x"), Err(TransportError::BadMessageId(_))),
                "{id:?}"
            );
        }
    }

    #[test]
    fn received_files_come_in_name_order_archived_and_leave_on_confirm() {
        let dir = tempfile::tempdir().unwrap();
        let fx = exchange(dir.path()).with_max_file_bytes(10);
        fs::write(dir.path().join("in/b.xml"), b"second").unwrap();
        fs::write(dir.path().join("in/a.xml"), b"first").unwrap();
        fs::write(dir.path().join("in/.a.xml.1.0.tmp"), b"half").unwrap();
        fs::write(dir.path().join("in/c.xml"), b"far too large").unwrap();
        let receipt = fx.receive().unwrap();
        let names: Vec<_> = receipt.files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["a.xml", "b.xml"]);
        assert_eq!(receipt.refused.len(), 1);
        assert!(receipt.refused[0].moved_to.ends_with("refused/c.xml"));
        let first = &receipt.files[0];
        assert_eq!(fs::read(&first.archived_at).unwrap(), b"first");
        assert!(!first.seen_before);
        fx.confirm(first).unwrap();
        assert!(dir.path().join("in/processed/a.xml").exists());
        // Unconfirmed files are read again; the same content is recognised.
        fs::write(dir.path().join("in/a.xml"), b"first").unwrap();
        let again = fx.receive().unwrap();
        assert_eq!(again.files.len(), 2);
        assert!(again.files.iter().all(|f| f.seen_before));
        fx.confirm(&again.files[0]).unwrap();
        assert!(matches!(
            fx.confirm(&again.files[0]),
            Err(TransportError::NotInInbox(_))
        ));
        let processed = fs::read_dir(dir.path().join("in/processed"))
            .unwrap()
            .count();
        assert_eq!(
            processed, 2,
            "a second file of the same name is kept beside the first"
        );
    }
}
