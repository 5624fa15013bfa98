//! Where notifications go and what the link looks like, from the environment.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::sinks::{FileSink, HttpSink, LogSink};
use super::Sink;
use crate::config::ConfigError;
use crate::payroll::tokens::DEFAULT_TOKEN_DAYS;

pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// The transport notifications are handed to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// One JSON line per message appended to a file (development, demo, tests).
    File(PathBuf),
    /// One log line per message (INFO), link included: development only.
    Log,
    /// An SMS gateway: a JSON POST to `url` with `Authorization: Bearer key`.
    Http { url: String, key: String },
}

#[derive(Debug, Clone)]
pub struct NotifySettings {
    /// The links' base, without a trailing slash.
    pub public_url: String,
    /// How many days a token works.
    pub token_days: u32,
    pub transport: Transport,
}

impl NotifySettings {
    /// Defaults: the file sink under `data_dir`, links to http://127.0.0.1:8080, 60 days.
    pub fn new(data_dir: &Path) -> NotifySettings {
        NotifySettings {
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            token_days: DEFAULT_TOKEN_DAYS,
            transport: Transport::File(default_file(data_dir)),
        }
    }

    /// `WAGEBRIDGE_PUBLIC_URL`, `WAGEBRIDGE_TOKEN_DAYS`, `WAGEBRIDGE_NOTIFY`
    /// (`file`, `log` or `sms`), `WAGEBRIDGE_NOTIFY_FILE`, `WAGEBRIDGE_SMS_URL`,
    /// `WAGEBRIDGE_SMS_KEY`.
    pub fn from_env(data_dir: &Path) -> Result<NotifySettings, ConfigError> {
        let mut s = NotifySettings::new(data_dir);
        if let Some(url) = env("WAGEBRIDGE_PUBLIC_URL") {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(bad("WAGEBRIDGE_PUBLIC_URL", "is not an http(s) URL"));
            }
            s.public_url = url.trim_end_matches('/').to_owned();
        }
        if let Some(days) = env("WAGEBRIDGE_TOKEN_DAYS") {
            s.token_days = match days.parse::<u32>() {
                Ok(d) if (1..=366).contains(&d) => d,
                _ => {
                    return Err(bad(
                        "WAGEBRIDGE_TOKEN_DAYS",
                        "is not a number of days 1–366",
                    ))
                }
            };
        }
        let file = env("WAGEBRIDGE_NOTIFY_FILE").map(PathBuf::from);
        s.transport = match env("WAGEBRIDGE_NOTIFY").as_deref() {
            None | Some("file") => Transport::File(file.unwrap_or_else(|| default_file(data_dir))),
            Some("log") => Transport::Log,
            Some("sms") => Transport::Http {
                url: env("WAGEBRIDGE_SMS_URL")
                    .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
                    .ok_or_else(|| {
                        bad(
                            "WAGEBRIDGE_SMS_URL",
                            "is needed (an https URL) with WAGEBRIDGE_NOTIFY=sms",
                        )
                    })?,
                key: env("WAGEBRIDGE_SMS_KEY").ok_or_else(|| {
                    bad("WAGEBRIDGE_SMS_KEY", "is needed with WAGEBRIDGE_NOTIFY=sms")
                })?,
            },
            Some(_) => return Err(bad("WAGEBRIDGE_NOTIFY", "is neither file, log nor sms")),
        };
        Ok(s)
    }

    /// The sink the transport names.
    pub fn sink(&self) -> Arc<dyn Sink> {
        match &self.transport {
            Transport::File(path) => Arc::new(FileSink::new(path.clone())),
            Transport::Log => Arc::new(LogSink),
            Transport::Http { url, key } => Arc::new(HttpSink::new(url.clone(), key.clone())),
        }
    }
}

/// `<data_dir>/outbox/sms.jsonl`.
pub fn default_file(data_dir: &Path) -> PathBuf {
    data_dir.join("outbox").join("sms.jsonl")
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn bad(name: &'static str, reason: &str) -> ConfigError {
    ConfigError::Env {
        name,
        reason: reason.to_owned(),
    }
}
