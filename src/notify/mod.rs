//! Notifications to workers: the outbox their confirmation links go through.
//!
//! A submission records one outbox row per accepted line ([`outbox`]). The
//! [`dispatch::Dispatcher`] claims pending rows, issues the line's token,
//! composes the (Chinese) message with the worker's link and hands it to a
//! [`Sink`] — the file sink for development, the demo and tests, the log sink,
//! or an SMS gateway — all in one transaction that records the row as sent.
//! The plain token exists only in memory during that step: the database holds
//! its SHA-256 and a masked phone, never the link or the message.

pub mod dispatch;
pub mod outbox;
pub mod settings;
pub mod sinks;

pub use dispatch::{Dispatcher, Round};
pub use settings::{NotifySettings, Transport};

/// One message to one worker's phone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Message {
    /// The outbox row it delivers.
    pub notification_id: i64,
    pub line_id: i64,
    pub channel: &'static str,
    /// The phone on the roster, in full: the transport needs it.
    pub to: String,
    /// The worker's link, `{public_url}/w/{token}`; also inside `text`.
    pub link: String,
    pub text: String,
}

/// Why a transport did not take a message. Never holds the message or the link.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SendError(pub String);

/// A transport messages are handed to. Called on a blocking thread, inside
/// the transaction that records the delivery: `Ok` means the transport took it.
pub trait Sink: Send + Sync {
    /// For the outbox's records and the logs: `file`, `log`, `sms-gateway`.
    fn name(&self) -> &'static str;
    fn send(&self, message: &Message) -> Result<(), SendError>;
}
