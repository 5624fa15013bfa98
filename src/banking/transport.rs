//! Opens a bank connection's transport from its stored configuration.
//!
//! Raw files received are kept under `<data_dir>/bank-files/<sha[..2]>/<sha>`,
//! the same content-addressed place an upload (`POST /v1/bank/files`) keeps
//! them, so a file is one file on disk however it came.

use std::path::{Path, PathBuf};

use bank_adapters::transport::{FileExchange, Transport};

use crate::banking::config::TransportConfig;
use crate::error::{AppError, ErrorCode};

/// Where raw bank files are kept, content-addressed.
pub fn raw_file_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("bank-files")
}

/// A connection's transport, ready to send and receive.
pub fn open(
    config: &TransportConfig,
    data_dir: &Path,
) -> Result<Box<dyn Transport + Send>, AppError> {
    match config {
        TransportConfig::FileExchange { outbox, inbox } => {
            let exchange = FileExchange::new(outbox, inbox, raw_file_dir(data_dir))
                .map_err(|e| AppError::new(ErrorCode::BankConnectionInvalid, e.to_string()))?;
            Ok(Box::new(exchange))
        }
        TransportConfig::Https { .. } => Err(AppError::new(
            ErrorCode::BankConnectionInvalid,
            "HTTPS 传输尚未接入 (HTTPS transport is not wired in yet)",
        )),
    }
}
