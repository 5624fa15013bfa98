//! Telling a bank file's dialect, message and version from its first
//! elements: the root element, the ISO 20022 namespace, or ICBC's
//! `pub/TransCode`. Reads at most [`SNIFF_BYTES`] of the file.

use serde::Serialize;

use crate::cn_icbc::charset;
use crate::error::ReadError;
use crate::iso20022;
use crate::xml::{Node, XmlReader};

/// How much of a file detection looks at. ISO 20022 files name their
/// message in the root's namespace; ICBC's `pub` header is a few hundred
/// bytes; comments before the root are allowed for.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// The family of formats a file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DialectKind {
    Iso20022,
    IcbcCms,
}

impl DialectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DialectKind::Iso20022 => "iso20022",
            DialectKind::IcbcCms => "icbc_cms",
        }
    }
}

/// What a file holds, in terms of the neutral model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// pain.001, ICBC PAYPER request.
    PaymentBatch,
    /// pain.002, ICBC PAYPER / QPAYPER answers.
    StatusReport,
    /// camt.052/053/054, ICBC QHISD / QPD answers.
    Statement,
    /// ICBC QPAYPER request.
    StatusQuery,
    /// ICBC QHISD / QPD request.
    HistoryQuery,
    /// A message of a known dialect we have no reader for (ICBC PAYENT, ...).
    Other,
}

/// The result of [`detect`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    pub dialect: DialectKind,
    /// `camt.053.001.02`, `pain.002.001.10`, `pain.001.001.09`,
    /// `icbc.QPAYPER`, ...; `pain.001` etc. when an ISO file names no
    /// namespace.
    pub message: String,
    pub kind: MessageKind,
    /// ICBC: the bank's answer (`<out>`, or `pub/RetCode`) rather than a
    /// request. ISO: whether the message type goes from bank to customer.
    pub response: bool,
}

/// Detects a file's dialect and message type from its content.
///
/// Errors: `UnknownFormat` for files of other banks (CMB `CMBSDKPGK`, CCB
/// `TX`) and non-bank XML; `Invalid` for an ICBC template whose values are
/// field descriptions; `Malformed` for bad bytes or XML in the part read.
pub fn detect(bytes: &[u8]) -> Result<Detected, ReadError> {
    let text = charset::decode_prefix(bytes, SNIFF_BYTES)?;
    let mut reader = XmlReader::new(text.as_bytes());
    if reader.next()? != Node::Start {
        return Err(ReadError::UnknownFormat("no root element".to_owned()));
    }
    match reader.name() {
        "Document" => detect_iso(&mut reader),
        "CMS" => detect_icbc(&mut reader),
        "CMBSDKPGK" => Err(ReadError::UnknownFormat(
            "a CMB (招商银行) CMBSDKPGK message: not a dialect we read yet".to_owned(),
        )),
        "TX" => Err(ReadError::UnknownFormat(
            "a CCB (建设银行) TX message: not a dialect we read yet".to_owned(),
        )),
        other => Err(ReadError::UnknownFormat(format!(
            "root element <{other}> is not a bank format we read"
        ))),
    }
}

/// The ISO 20022 message a namespace names (`camt.053.001.02`), also
/// inside national variants (SIX's `…/pain.002.001.03.ch.02.xsd`).
fn iso_message_name(namespace: &str) -> Option<String> {
    iso20022::message_from_namespace(namespace).map(|name| name.to_string())
}

fn detect_iso<R: std::io::BufRead>(reader: &mut XmlReader<R>) -> Result<Detected, ReadError> {
    let from_namespace = reader.root_namespace().and_then(iso_message_name);
    // The message element under Document names the type when there is no
    // namespace, and confirms it when there is.
    let body = loop {
        match reader.next()? {
            Node::Start => break reader.name().to_owned(),
            Node::Text => continue,
            Node::End | Node::Eof => {
                return Err(ReadError::UnknownFormat("an empty <Document>".to_owned()))
            }
        }
    };
    let family = match body.as_str() {
        "CstmrCdtTrfInitn" => "pain.001",
        "CstmrPmtStsRpt" => "pain.002",
        "BkToCstmrAcctRpt" => "camt.052",
        "BkToCstmrStmt" => "camt.053",
        "BkToCstmrDbtCdtNtfctn" => "camt.054",
        other => {
            return Err(ReadError::UnknownFormat(format!(
                "an ISO 20022 <{other}> ({}) is not a message we read",
                from_namespace.as_deref().unwrap_or("no namespace")
            )))
        }
    };
    let message = match from_namespace {
        Some(name) if name.starts_with(family) => name,
        Some(name) => {
            return Err(reader.invalid(format!(
                "the namespace says {name} but the message element is <{body}> ({family})"
            )))
        }
        None => family.to_owned(),
    };
    let (kind, response) = match family {
        "pain.001" => (MessageKind::PaymentBatch, false),
        "pain.002" => (MessageKind::StatusReport, true),
        _ => (MessageKind::Statement, true),
    };
    Ok(Detected {
        dialect: DialectKind::Iso20022,
        message,
        kind,
        response,
    })
}

fn detect_icbc<R: std::io::BufRead>(reader: &mut XmlReader<R>) -> Result<Detected, ReadError> {
    let mut trans_code = None;
    let mut has_ret_code = false;
    let mut body = None;
    loop {
        match reader.next()? {
            Node::Start => match reader.path() {
                "/CMS/eb/pub/TransCode" => trans_code = Some(reader.read_text()?),
                "/CMS/eb/pub/RetCode" => {
                    has_ret_code = true;
                    reader.skip()?;
                }
                "/CMS/eb/in" | "/CMS/eb/out" => {
                    body = Some(reader.name().to_owned());
                    break;
                }
                "/CMS/eb" | "/CMS/eb/pub" => {}
                _ => reader.skip()?,
            },
            Node::End if reader.path() == "/CMS/eb" => break,
            Node::Eof => break,
            Node::End | Node::Text => {}
        }
    }
    let code = trans_code.ok_or_else(|| ReadError::Invalid {
        position: reader.position(),
        message: "an ICBC CMS package without pub/TransCode".to_owned(),
    })?;
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ReadError::Invalid {
            position: reader.position(),
            message: format!(
                "TransCode {code:?} is not a transaction code; this looks like a \
                 field-description template, not a message"
            ),
        });
    }
    let response = match body.as_deref() {
        Some("out") => true,
        Some(_) => false,
        None => has_ret_code,
    };
    let kind = match (code.as_str(), response) {
        ("PAYPER", false) => MessageKind::PaymentBatch,
        ("PAYPER" | "QPAYPER", true) => MessageKind::StatusReport,
        ("QPAYPER", false) => MessageKind::StatusQuery,
        ("QHISD" | "QPD", true) => MessageKind::Statement,
        ("QHISD" | "QPD", false) => MessageKind::HistoryQuery,
        _ => MessageKind::Other,
    };
    Ok(Detected {
        dialect: DialectKind::IcbcCms,
        message: format!("icbc.{code}"),
        kind,
        response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_reads_only_the_head_of_a_file() {
        // A package cut off after its header is still detected.
        let head =
            "<?xml version=\"1.0\" encoding=\"GBK\"?><CMS><eb><pub><TransCode>QHISD</TransCode>\
                    <RetCode>0</RetCode></pub><out><AccNo>1";
        let detected = detect(head.as_bytes()).unwrap();
        assert_eq!(detected.message, "icbc.QHISD");
        assert_eq!(detected.kind, MessageKind::Statement);
        let iso = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\"><CstmrCdtTrfInitn><GrpHdr>";
        let detected = detect(iso.as_bytes()).unwrap();
        assert_eq!(detected.message, "pain.001.001.09");
        assert_eq!(detected.kind, MessageKind::PaymentBatch);
    }

    #[test]
    fn other_banks_and_other_xml_are_unknown_formats() {
        assert!(matches!(
            detect(b"<CMBSDKPGK><INFO/></CMBSDKPGK>"),
            Err(ReadError::UnknownFormat(_))
        ));
        assert!(matches!(
            detect(b"<html/>"),
            Err(ReadError::UnknownFormat(_))
        ));
        assert!(detect(b"").is_err());
        assert!(detect(b"\xff\xfe<").is_err());
    }
}
