//! Settings, from environment variables and an optional TOML file
//! (`--config FILE` or `WAGEBRIDGE_CONFIG`). The environment wins over the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Text,
    /// One JSON object per line, for a log collector.
    Json,
}

/// Everything the binary can be told.
#[derive(Debug, Clone)]
pub struct Settings {
    /// PostgreSQL URL; without one, a private cluster is started under `data_dir`.
    pub database_url: Option<String>,
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Server certificate and key (PEM); with both set, `serve` speaks HTTPS.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// CA bundle (PEM) that client certificates must chain to (banks' mutual TLS).
    pub tls_client_ca: Option<PathBuf>,
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most data rows one upload (roster, attendance, payroll) may hold.
    pub max_upload_rows: usize,
    /// Failed attempts to hand a bank file over before its outbox entry is dead.
    pub bank_max_attempts: u32,
    /// Whether `serve` runs the background jobs (bank outbox, purges);
    /// `WAGEBRIDGE_JOBS=off` makes an instance that only serves HTTP.
    pub jobs: bool,
}

/// The optional TOML file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    database_url: Option<String>,
    bind: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    tls_client_ca: Option<PathBuf>,
    log_format: Option<LogFormat>,
    max_body_bytes: Option<usize>,
    max_upload_rows: Option<usize>,
    bank_max_attempts: Option<u32>,
    jobs: Option<bool>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_MAX_BODY_BYTES: usize = 32 * 1024 * 1024;
pub const DEFAULT_BANK_MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("environment variable {name}: {reason}")]
    Env { name: &'static str, reason: String },
    #[error("{0}")]
    Tls(&'static str),
}

/// The files `serve` speaks HTTPS with.
#[derive(Debug, Clone, Copy)]
pub struct TlsFiles<'a> {
    pub cert: &'a Path,
    pub key: &'a Path,
    pub client_ca: Option<&'a Path>,
}

impl Settings {
    /// Reads the file (if any), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
        let file_path = file
            .map(Path::to_path_buf)
            .or_else(|| env("WAGEBRIDGE_CONFIG").map(PathBuf::from));
        let from_file = match file_path {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                toml::from_str(&text).map_err(|source| ConfigError::Parse { path, source })?
            }
            None => FileSettings::default(),
        };

        let bind = match env("WAGEBRIDGE_BIND") {
            Some(v) => v.parse().map_err(|e| ConfigError::Env {
                name: "WAGEBRIDGE_BIND",
                reason: format!("{v:?} is not an address such as 127.0.0.1:8080 ({e})"),
            })?,
            None => from_file
                .bind
                .unwrap_or_else(|| DEFAULT_BIND.parse().expect("default bind address parses")),
        };
        let log_format = match env("WAGEBRIDGE_LOG_FORMAT").as_deref() {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(ConfigError::Env {
                    name: "WAGEBRIDGE_LOG_FORMAT",
                    reason: format!("{other:?} is neither \"text\" nor \"json\""),
                })
            }
            None => from_file.log_format.unwrap_or(LogFormat::Text),
        };
        let max_body_bytes = match env("WAGEBRIDGE_MAX_BODY_BYTES") {
            Some(v) => v.parse().map_err(|_| ConfigError::Env {
                name: "WAGEBRIDGE_MAX_BODY_BYTES",
                reason: format!("{v:?} is not a number of bytes"),
            })?,
            None => from_file.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY_BYTES),
        };

        let max_upload_rows = match env("WAGEBRIDGE_MAX_UPLOAD_ROWS") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Env {
                    name: "WAGEBRIDGE_MAX_UPLOAD_ROWS",
                    reason: format!("{v:?} is not a positive number of rows"),
                })?,
            None => from_file
                .max_upload_rows
                .unwrap_or(crate::tabular::Limits::default().max_rows),
        };

        let bank_max_attempts = match env("WAGEBRIDGE_BANK_MAX_ATTEMPTS") {
            Some(v) => v
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ConfigError::Env {
                    name: "WAGEBRIDGE_BANK_MAX_ATTEMPTS",
                    reason: format!("{v:?} is not a positive number of attempts"),
                })?,
            None => from_file
                .bank_max_attempts
                .unwrap_or(DEFAULT_BANK_MAX_ATTEMPTS),
        };
        let jobs = match env("WAGEBRIDGE_JOBS").as_deref() {
            Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(ConfigError::Env {
                    name: "WAGEBRIDGE_JOBS",
                    reason: format!("{other:?} is neither \"on\" nor \"off\""),
                })
            }
            None => from_file.jobs.unwrap_or(true),
        };

        Ok(Settings {
            database_url: env("DATABASE_URL").or(from_file.database_url),
            bind,
            data_dir: env("WAGEBRIDGE_DATA_DIR")
                .map(PathBuf::from)
                .or(from_file.data_dir)
                .unwrap_or_else(|| PathBuf::from("./var")),
            tls_cert: env("WAGEBRIDGE_TLS_CERT")
                .map(PathBuf::from)
                .or(from_file.tls_cert),
            tls_key: env("WAGEBRIDGE_TLS_KEY")
                .map(PathBuf::from)
                .or(from_file.tls_key),
            tls_client_ca: env("WAGEBRIDGE_TLS_CLIENT_CA")
                .map(PathBuf::from)
                .or(from_file.tls_client_ca),
            log_format,
            max_body_bytes,
            max_upload_rows,
            bank_max_attempts,
            jobs,
        })
    }
}

impl Settings {
    /// The TLS files, when HTTPS is configured. A client CA without a server
    /// certificate is refused: it would otherwise serve plain HTTP and verify nobody.
    pub fn tls(&self) -> Result<Option<TlsFiles<'_>>, ConfigError> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert,
                key,
                client_ca: self.tls_client_ca.as_deref(),
            })),
            (None, None) if self.tls_client_ca.is_some() => Err(ConfigError::Tls(
                "WAGEBRIDGE_TLS_CLIENT_CA (tls_client_ca) is set, but WAGEBRIDGE_TLS_CERT and \
                 WAGEBRIDGE_TLS_KEY are not: client certificates are verified only over HTTPS, \
                 so set the server certificate and key too (certs/README.md), or unset the client CA",
            )),
            (None, None) => Ok(None),
            _ => Err(ConfigError::Tls(
                "set both WAGEBRIDGE_TLS_CERT and WAGEBRIDGE_TLS_KEY (tls_cert, tls_key), or neither",
            )),
        }
    }
}

/// A non-empty environment variable.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}
