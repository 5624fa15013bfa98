//! The content-addressed store of raw bank files:
//! `<data_dir>/bank-files/<sha[..2]>/<sha>`, the same place the file-exchange
//! transport keeps what it receives. A file is written under a temporary
//! name, fsynced and linked to its final name (a link never replaces a
//! file), so the final name holds complete bytes or nothing.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha2::{Digest, Sha256};

use crate::banking::transport::raw_file_dir;
use crate::error::{AppError, ErrorCode};

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// SHA-256 of `bytes`, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where content with this SHA-256 is kept.
pub fn path_of(data_dir: &Path, sha256: &str) -> PathBuf {
    let fan = sha256.get(..2).unwrap_or("00");
    raw_file_dir(data_dir).join(fan).join(sha256)
}

/// Keeps `bytes`; returns their SHA-256 and where they are. Content that is
/// already there (the transport archived it, or it came before) is fine.
pub fn keep(data_dir: &Path, bytes: &[u8]) -> Result<(String, PathBuf), AppError> {
    let sha = sha256_hex(bytes);
    let path = path_of(data_dir, &sha);
    if path.is_file() {
        return Ok((sha, path));
    }
    write_once(&path, bytes).map_err(|e| {
        AppError::new(
            ErrorCode::Internal,
            format!(
                "无法保存原始文件 {} (cannot keep the raw file): {e}",
                path.display()
            ),
        )
    })?;
    Ok((sha, path))
}

fn write_once(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("a raw file path without a directory"))?;
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("raw");
    let counter = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".{name}.{}.{counter}.tmp", std::process::id()));
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    let linked = fs::hard_link(&temp, path);
    let _ = fs::remove_file(&temp);
    match linked {
        // Another writer of the same content won: its bytes are these bytes.
        Ok(()) | Err(_) if path.is_file() => File::open(dir)?.sync_all(),
        Ok(()) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_content_is_one_file_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let (sha, path) = keep(dir.path(), b"<Document/>").unwrap();
        assert_eq!(
            path,
            dir.path().join("bank-files").join(&sha[..2]).join(&sha)
        );
        let (again, same) = keep(dir.path(), b"<Document/>").unwrap();
        assert_eq!((again, same), (sha, path.clone()));
        assert_eq!(fs::read(&path).unwrap(), b"<Document/>");
        let leftovers = fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary file is left behind");
    }
}
