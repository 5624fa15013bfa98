//! One interface over every bank dialect: write a payment batch, read a
//! status report, read statements, in the format a bank connection is
//! configured for; tell a file's format from its content ([`detect`]); and
//! describe any file as JSON ([`inspect`], what `wagebridge bank-file
//! inspect` prints).
//!
//! A bank connection names its dialect in configuration:
//! `{"dialect":"iso20022","pain001_version":"09"}` or
//! `{"dialect":"icbc_cms","cis":"…","bank_code":"102","id":"…"}`.
//!
//! Chinese banks sign and encrypt with the national algorithms (国密: SM2
//! signatures over SM3 digests, SM4 encryption); [`Envelope`] is where that
//! step goes, between the dialect's bytes and the transport, so neither the
//! dialects nor the transports change when it arrives. This module does no
//! I/O.

mod detect;
mod inspect;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::cn_icbc::{self, IcbcConnection};
use crate::error::{ReadError, WriteError};
use crate::iso20022::{self, Pain001Version};
use crate::model::{PaymentBatch, Statement, StatusReport};

pub use crate::read_options::ReadOptions;
pub use detect::{detect, Detected, DialectKind, MessageKind, SNIFF_BYTES};
pub use inspect::{inspect, inspect_to, InspectError, MAX_IN_MEMORY_BYTES};

/// The format a bank connection speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "dialect", rename_all = "snake_case")]
pub enum Dialect {
    /// ISO 20022: pain.001 out; pain.002 and camt.052/053/054 in.
    Iso20022 {
        #[serde(
            rename = "pain001_version",
            with = "pain001_version",
            default = "default_pain001"
        )]
        pain001: Pain001Version,
    },
    /// ICBC's CMS XML: PAYPER out; PAYPER/QPAYPER answers and QHISD in.
    IcbcCms(IcbcConnection),
}

fn default_pain001() -> Pain001Version {
    Pain001Version::V09
}

impl Dialect {
    pub fn kind(&self) -> DialectKind {
        match self {
            Dialect::Iso20022 { .. } => DialectKind::Iso20022,
            Dialect::IcbcCms(_) => DialectKind::IcbcCms,
        }
    }

    /// The message a batch is written as: `pain.001.001.09`, `icbc.PAYPER`.
    pub fn batch_message(&self) -> &'static str {
        match self {
            Dialect::Iso20022 { pain001 } => pain001.message_name(),
            Dialect::IcbcCms(_) => "icbc.PAYPER",
        }
    }

    /// The file for a payment batch: UTF-8 pain.001, or GBK PAYPER.
    pub fn write_batch(&self, batch: &PaymentBatch) -> Result<Vec<u8>, WriteError> {
        match self {
            Dialect::Iso20022 { pain001 } => {
                iso20022::write_pain001(batch, *pain001).map(String::into_bytes)
            }
            Dialect::IcbcCms(connection) => cn_icbc::write_payper(batch, connection),
        }
    }

    /// The bank's answer to a batch: pain.002, or ICBC's PAYPER / QPAYPER
    /// answer. A file of another dialect or another kind is refused.
    /// Offset-less times are read at +08:00 ([`ReadOptions::default`]).
    pub fn read_status(&self, bytes: &[u8]) -> Result<StatusReport, ReadError> {
        self.read_status_with(bytes, &ReadOptions::default())
    }

    /// [`Dialect::read_status`], offset-less times read at the connection's
    /// offset.
    pub fn read_status_with(
        &self,
        bytes: &[u8],
        options: &ReadOptions,
    ) -> Result<StatusReport, ReadError> {
        self.expect(bytes, MessageKind::StatusReport)?;
        match self {
            Dialect::Iso20022 { .. } => {
                let text = cn_icbc::charset::decode(bytes)?;
                iso20022::read_status_report_with(text.as_bytes(), options)
            }
            Dialect::IcbcCms(_) => cn_icbc::read_qpayper_with(bytes, options),
        }
    }

    /// The statements in a file: camt.052/053/054 (one or more), or one
    /// ICBC QHISD / QPD history page. Offset-less times at +08:00.
    pub fn read_statements(&self, bytes: &[u8]) -> Result<Vec<Statement>, ReadError> {
        self.read_statements_with(bytes, &ReadOptions::default())
    }

    /// [`Dialect::read_statements`], offset-less times read at the
    /// connection's offset.
    pub fn read_statements_with(
        &self,
        bytes: &[u8],
        options: &ReadOptions,
    ) -> Result<Vec<Statement>, ReadError> {
        self.expect(bytes, MessageKind::Statement)?;
        match self {
            Dialect::Iso20022 { .. } => {
                let text = cn_icbc::charset::decode(bytes)?;
                iso20022::read_cash_message_with(text.as_bytes(), options)
                    .map(|message| message.statements)
            }
            Dialect::IcbcCms(_) => {
                cn_icbc::read_qhisd_with(bytes, options).map(|statement| vec![statement])
            }
        }
    }

    fn expect(&self, bytes: &[u8], kind: MessageKind) -> Result<Detected, ReadError> {
        let detected = detect(bytes)?;
        if detected.dialect != self.kind() || detected.kind != kind {
            return Err(ReadError::UnknownFormat(format!(
                "expected a {} {} file, got {} ({})",
                self.kind().as_str(),
                kind_name(kind),
                detected.message,
                kind_name(detected.kind)
            )));
        }
        Ok(detected)
    }
}

fn kind_name(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::PaymentBatch => "payment",
        MessageKind::StatusReport => "status report",
        MessageKind::Statement => "statement",
        MessageKind::StatusQuery => "status query",
        MessageKind::HistoryQuery => "history query",
        MessageKind::Other => "other",
    }
}

/// `pain001_version` in configuration: `"09"` / `"03"`, or the full
/// `"pain.001.001.09"`.
mod pain001_version {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::iso20022::Pain001Version;

    pub fn serialize<S: Serializer>(
        version: &Pain001Version,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(match version {
            Pain001Version::V03 => "03",
            Pain001Version::V09 => "09",
        })
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Pain001Version, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.strip_prefix("pain.001.001.").unwrap_or(&text) {
            "03" | "3" => Ok(Pain001Version::V03),
            "09" | "9" => Ok(Pain001Version::V09),
            other => Err(serde::de::Error::custom(format!(
                "pain001_version {other:?}: we write 03 or 09"
            ))),
        }
    }
}

/// The signing / encryption step around a dialect's bytes (国密 SM2/SM3/SM4,
/// or a bank's own scheme). Outgoing files are sealed after the dialect
/// writes them; incoming files are opened before the dialect reads them.
pub trait Envelope: Send + Sync + fmt::Debug {
    /// Sign and/or encrypt a file for the bank.
    fn seal(&self, bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError>;
    /// Verify and/or decrypt a file from the bank, giving the plain file.
    /// A signature that does not verify must be an error, never a pass.
    fn open(&self, bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError>;
}

/// No signing, no encryption: files travel as the dialect writes them
/// (ISO 20022 over mutual TLS, the simulator, and ICBC until its NetSafe
/// Client signing is wired in).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlainEnvelope;

impl Envelope for PlainEnvelope {
    fn seal(&self, bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        Ok(bytes)
    }

    fn open(&self, bytes: Vec<u8>) -> Result<Vec<u8>, EnvelopeError> {
        Ok(bytes)
    }
}

/// The envelope could not seal or open a file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("could not sign or encrypt the file: {0}")]
    Seal(String),
    #[error("could not verify or decrypt the file: {0}")]
    Open(String),
}

/// A failure anywhere between the model and the bank's bytes.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(transparent)]
    Envelope(#[from] EnvelopeError),
}

/// A bank connection's codec: its dialect and its envelope. Transports hand
/// it models and bytes and never see either step.
#[derive(Debug)]
pub struct BankCodec {
    pub dialect: Dialect,
    pub envelope: Box<dyn Envelope>,
}

impl BankCodec {
    /// A codec without signing or encryption.
    pub fn plain(dialect: Dialect) -> Self {
        BankCodec {
            dialect,
            envelope: Box::new(PlainEnvelope),
        }
    }

    /// Write and seal a payment batch.
    pub fn encode_batch(&self, batch: &PaymentBatch) -> Result<Vec<u8>, CodecError> {
        Ok(self.envelope.seal(self.dialect.write_batch(batch)?)?)
    }

    /// Open and read the bank's answer to a batch.
    pub fn decode_status(&self, bytes: Vec<u8>) -> Result<StatusReport, CodecError> {
        self.decode_status_with(bytes, &ReadOptions::default())
    }

    /// [`BankCodec::decode_status`] with the connection's [`ReadOptions`].
    pub fn decode_status_with(
        &self,
        bytes: Vec<u8>,
        options: &ReadOptions,
    ) -> Result<StatusReport, CodecError> {
        Ok(self
            .dialect
            .read_status_with(&self.envelope.open(bytes)?, options)?)
    }

    /// Open and read the statements in a file from the bank.
    pub fn decode_statements(&self, bytes: Vec<u8>) -> Result<Vec<Statement>, CodecError> {
        self.decode_statements_with(bytes, &ReadOptions::default())
    }

    /// [`BankCodec::decode_statements`] with the connection's [`ReadOptions`].
    pub fn decode_statements_with(
        &self,
        bytes: Vec<u8>,
        options: &ReadOptions,
    ) -> Result<Vec<Statement>, CodecError> {
        Ok(self
            .dialect
            .read_statements_with(&self.envelope.open(bytes)?, options)?)
    }
}
