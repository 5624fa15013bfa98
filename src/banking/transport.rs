//! Opens a bank connection's transport from its stored configuration.
//!
//! Raw files received are kept under `<data_dir>/bank-files/<sha[..2]>/<sha>`,
//! the same content-addressed place an upload (`POST /v1/bank/files`) keeps
//! them, so a file is one file on disk however it came.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bank_adapters::transport::{FileExchange, HttpsExchange, HttpsSettings, Transport};

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
        TransportConfig::Https {
            url,
            client_certificate,
            client_key,
            ca_certificate,
            timeout_ms,
        } => {
            let settings = HttpsSettings {
                url: url.clone(),
                client_certificate: client_certificate.clone(),
                client_key: client_key.clone(),
                ca_certificate: ca_certificate.clone(),
                timeout: Duration::from_millis(*timeout_ms),
            };
            let exchange = HttpsExchange::new(settings, raw_file_dir(data_dir))
                .map_err(|e| AppError::new(ErrorCode::BankConnectionInvalid, e.to_string()))?;
            Ok(Box::new(exchange))
        }
    }
}
