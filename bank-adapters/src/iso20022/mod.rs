//! ISO 20022 payment and cash-management messages: pain.001 out (payment
//! batches), pain.002 and camt.052/053/054 in (status reports, reports,
//! statements, notifications), plus pain.002 and camt.053 out for the bank
//! simulator that plays the bank.
//!
//! Readers stream over `BufRead` through the safe [`crate::xml`] reader, so
//! memory does not grow with the file and hostile XML is refused. Writers
//! build one string without a DOM and refuse, never cut, values the schema
//! cannot carry. The official XSDs are embedded ([`xsd`]) for validation.
//!
//! This module maps to and from [`crate::model`] only; it knows nothing of
//! the database or of how files travel.

mod out;
mod read;

pub mod camt;
pub mod camt_write;
pub mod generate;
pub mod pain001;
pub mod pain002;
pub mod xsd;

use std::fmt;
use std::io::BufRead;

pub use crate::read_options::ReadOptions;
pub use camt::{
    check_balances, read_cash_message, read_cash_message_with, read_cash_stream,
    read_cash_stream_with, summary_mismatches, BalanceCheck, CashHeader, CashMessage,
    StatementSink,
};
pub use camt_write::{write_camt053, write_camt054, Camt053Writer};
pub use generate::{camt053_source, generate_camt053, generate_payment_batch};
pub use pain001::{write_pain001, write_pain001_into, Pain001Version};
pub use pain002::{read_status_report, read_status_report_with, write_pain002, Pain002Version};
pub use xsd::{validate_with_xmllint, validate_xml_with_xmllint, xsd_for, ValidationFailure};

use crate::error::ReadError;
use crate::xml::{Node, XmlReader};

/// The ISO 20022 message families this crate knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Customer credit transfer initiation.
    Pain001,
    /// Customer payment status report.
    Pain002,
    /// Bank-to-customer account report (intraday).
    Camt052,
    /// Bank-to-customer statement (end of day).
    Camt053,
    /// Bank-to-customer debit/credit notification.
    Camt054,
}

impl MessageKind {
    /// `pain.001`, `camt.053`, ...
    pub fn prefix(self) -> &'static str {
        match self {
            MessageKind::Pain001 => "pain.001",
            MessageKind::Pain002 => "pain.002",
            MessageKind::Camt052 => "camt.052",
            MessageKind::Camt053 => "camt.053",
            MessageKind::Camt054 => "camt.054",
        }
    }

    const ALL: [MessageKind; 5] = [
        MessageKind::Pain001,
        MessageKind::Pain002,
        MessageKind::Camt052,
        MessageKind::Camt053,
        MessageKind::Camt054,
    ];
}

/// A message and version, e.g. `camt.053.001.02`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageName {
    pub kind: MessageKind,
    /// The version (`02` in `camt.053.001.02`).
    pub version: u8,
}

impl fmt::Display for MessageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.001.{:02}", self.kind.prefix(), self.version)
    }
}

impl MessageName {
    /// The official namespace, `urn:iso:std:iso:20022:tech:xsd:camt.053.001.02`.
    pub fn namespace(&self) -> String {
        format!("urn:iso:std:iso:20022:tech:xsd:{self}")
    }
}

/// The message a namespace names: the ISO one
/// (`urn:iso:std:iso:20022:tech:xsd:pain.002.001.10`) or a national variant
/// that embeds the ISO name (SIX's
/// `http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd`
/// gives `pain.002.001.03`).
pub fn message_from_namespace(namespace: &str) -> Option<MessageName> {
    MessageKind::ALL.into_iter().find_map(|kind| {
        let at = namespace.find(kind.prefix())?;
        let rest = namespace.get(at + kind.prefix().len()..)?;
        let version = rest.strip_prefix(".001.")?.get(..2)?;
        if !version.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(MessageName {
            kind,
            version: version.parse().ok()?,
        })
    })
}

/// The root element's namespace of an XML document, reading no further
/// than the root start tag (safe: DOCTYPEs are refused).
pub fn root_namespace(input: impl BufRead) -> Result<Option<String>, ReadError> {
    let mut reader = XmlReader::new(input);
    match reader.next()? {
        Node::Start => Ok(reader.root_namespace().map(str::to_owned)),
        _ => Err(reader.invalid("no root element")),
    }
}

/// The ISO 20022 message an XML document is, from its root namespace;
/// `None` when the namespace names none.
pub fn message_of(input: impl BufRead) -> Result<Option<MessageName>, ReadError> {
    Ok(root_namespace(input)?
        .as_deref()
        .and_then(message_from_namespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_namespaces() {
        let name =
            message_from_namespace("urn:iso:std:iso:20022:tech:xsd:camt.053.001.08").unwrap();
        assert_eq!(name.kind, MessageKind::Camt053);
        assert_eq!(name.to_string(), "camt.053.001.08");
        let six = "http://www.six-interbank-clearing.com/de/pain.002.001.03.ch.02.xsd";
        assert_eq!(
            message_from_namespace(six).unwrap().to_string(),
            "pain.002.001.03"
        );
        assert_eq!(message_from_namespace("urn:other"), None);
        assert_eq!(message_from_namespace("camt.053.001."), None);
    }
}
