//! The transports: a file of JSON lines, the log, and an SMS gateway over HTTPS.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::{Message, SendError, Sink};
use crate::domain::mask;

/// Appends one JSON object per message to a file: what a gateway would get.
/// For development, the demo and tests; the README reads links from it.
pub struct FileSink {
    path: PathBuf,
    // One writer at a time, so lines never interleave.
    lock: Mutex<()>,
}

impl FileSink {
    pub fn new(path: PathBuf) -> FileSink {
        FileSink {
            path,
            lock: Mutex::new(()),
        }
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn send(&self, message: &Message) -> Result<(), SendError> {
        let mut line = serde_json::to_vec(message).map_err(|e| SendError(e.to_string()))?;
        line.push(b'\n');
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| SendError(format!("creating {}: {e}", dir.display())))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|e| SendError(format!("opening {}: {e}", self.path.display())))?;
        // One write of the whole line: appends of one line do not interleave.
        file.write_all(&line)
            .and_then(|()| file.flush())
            .map_err(|e| SendError(format!("writing {}: {e}", self.path.display())))
    }
}

/// Writes each message as an INFO log line, link included: development only.
pub struct LogSink;

impl Sink for LogSink {
    fn name(&self) -> &'static str {
        "log"
    }

    fn send(&self, message: &Message) -> Result<(), SendError> {
        tracing::info!(
            notification = message.notification_id,
            to = %mask::mask_phone(&message.to),
            text = %message.text,
            "notification (log sink)"
        );
        Ok(())
    }
}

/// A generic SMS gateway: `POST url` with `{"to", "text", "reference"}` as
/// JSON and `Authorization: Bearer key`; any 2xx answer means it took the message.
pub struct HttpSink {
    url: String,
    key: String,
    // Built on first use, on the dispatcher's blocking thread: reqwest's
    // blocking client must not be built or dropped on an async worker.
    client: OnceLock<reqwest::blocking::Client>,
}

impl HttpSink {
    pub fn new(url: String, key: String) -> HttpSink {
        HttpSink {
            url,
            key,
            client: OnceLock::new(),
        }
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, SendError> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let built = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| SendError(format!("SMS gateway client: {}", e.without_url())))?;
        Ok(self.client.get_or_init(|| built))
    }
}

impl Sink for HttpSink {
    fn name(&self) -> &'static str {
        "sms-gateway"
    }

    fn send(&self, message: &Message) -> Result<(), SendError> {
        let body = serde_json::json!({
            "to": message.to,
            "text": message.text,
            "reference": format!("wagebridge-{}", message.notification_id),
        });
        let answer = self
            .client()?
            .post(&self.url)
            .bearer_auth(&self.key)
            .json(&body)
            .send()
            // Without the URL: the error is recorded in the outbox.
            .map_err(|e| SendError(format!("SMS gateway: {}", e.without_url())))?;
        let status = answer.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError(format!(
                "SMS gateway answered {}",
                status.as_u16()
            )))
        }
    }
}
