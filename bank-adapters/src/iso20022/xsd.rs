//! The official ISO 20022 XSDs, embedded, and validation with `xmllint`
//! (Debian `libxml2-utils`).
//!
//! We do not validate in-process: there is no maintained XSD validator in
//! Rust, and xmllint's line-numbered errors are what a bank's integration
//! engineer would quote anyway. Validation is for tests, the
//! `bank-file validate` command and the bank simulator, not for the hot path.

use std::io::{BufReader, Write as _};
use std::path::Path;
use std::process::Command;

use crate::error::ReadError;

use super::root_namespace;

/// Every embedded schema: message name and XSD text.
const SCHEMAS: [(&str, &str); 13] = [
    (
        "pain.001.001.03",
        include_str!("../../xsd/pain.001.001.03.xsd"),
    ),
    (
        "pain.001.001.09",
        include_str!("../../xsd/pain.001.001.09.xsd"),
    ),
    (
        "pain.002.001.03",
        include_str!("../../xsd/pain.002.001.03.xsd"),
    ),
    (
        "pain.002.001.10",
        include_str!("../../xsd/pain.002.001.10.xsd"),
    ),
    (
        "camt.052.001.02",
        include_str!("../../xsd/camt.052.001.02.xsd"),
    ),
    (
        "camt.052.001.04",
        include_str!("../../xsd/camt.052.001.04.xsd"),
    ),
    (
        "camt.052.001.08",
        include_str!("../../xsd/camt.052.001.08.xsd"),
    ),
    (
        "camt.053.001.02",
        include_str!("../../xsd/camt.053.001.02.xsd"),
    ),
    (
        "camt.053.001.04",
        include_str!("../../xsd/camt.053.001.04.xsd"),
    ),
    (
        "camt.053.001.08",
        include_str!("../../xsd/camt.053.001.08.xsd"),
    ),
    (
        "camt.054.001.02",
        include_str!("../../xsd/camt.054.001.02.xsd"),
    ),
    (
        "camt.054.001.04",
        include_str!("../../xsd/camt.054.001.04.xsd"),
    ),
    (
        "camt.054.001.08",
        include_str!("../../xsd/camt.054.001.08.xsd"),
    ),
];

const ISO_NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// The official XSD of a message (`"camt.053.001.02"`), if embedded.
pub fn xsd_for(message: &str) -> Option<&'static str> {
    SCHEMAS
        .iter()
        .find(|(name, _)| *name == message)
        .map(|(_, xsd)| *xsd)
}

/// The messages whose XSDs are embedded.
pub fn known_messages() -> impl Iterator<Item = &'static str> {
    SCHEMAS.iter().map(|(name, _)| *name)
}

/// Why a file did not validate.
#[derive(Debug, thiserror::Error)]
pub enum ValidationFailure {
    /// The file could not be read far enough to find its root namespace.
    #[error("cannot read the file: {0}")]
    Unreadable(#[from] ReadError),
    /// The root namespace is not an ISO 20022 message we have a schema for
    /// (national variants such as SIX `.ch.02` have their own namespace).
    #[error("no embedded ISO 20022 schema for namespace {0:?}")]
    NoSchema(Option<String>),
    /// xmllint could not be run (not installed: `apt-get install libxml2-utils`).
    #[error("cannot run xmllint (install libxml2-utils): {0}")]
    Tool(std::io::Error),
    /// The file is not valid against the schema; xmllint's messages, each
    /// naming the file, line and element.
    #[error("not valid against {message}:\n{}", errors.join("\n"))]
    Invalid {
        message: String,
        errors: Vec<String>,
    },
}

/// Validates a file against the official XSD picked from its root
/// namespace, by running `xmllint --noout --schema`.
pub fn validate_with_xmllint(xml_path: &Path) -> Result<(), ValidationFailure> {
    let file =
        std::fs::File::open(xml_path).map_err(|e| ValidationFailure::Unreadable(e.into()))?;
    let namespace = root_namespace(BufReader::new(file))?;
    let message = namespace
        .as_deref()
        .and_then(|ns| ns.strip_prefix(ISO_NAMESPACE_PREFIX))
        .filter(|name| xsd_for(name).is_some())
        .ok_or_else(|| ValidationFailure::NoSchema(namespace.clone()))?;
    let Some(xsd) = xsd_for(message) else {
        return Err(ValidationFailure::NoSchema(namespace));
    };
    let mut schema = tempfile::Builder::new()
        .prefix(message)
        .suffix(".xsd")
        .tempfile()
        .map_err(ValidationFailure::Tool)?;
    schema
        .write_all(xsd.as_bytes())
        .and_then(|()| schema.flush())
        .map_err(ValidationFailure::Tool)?;
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(schema.path())
        .arg(xml_path)
        .output()
        .map_err(ValidationFailure::Tool)?;
    if output.status.success() {
        return Ok(());
    }
    let errors = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    Err(ValidationFailure::Invalid {
        message: message.to_owned(),
        errors,
    })
}

/// Validates XML text (written by us) the same way, through a temporary file.
pub fn validate_xml_with_xmllint(xml: &str) -> Result<(), ValidationFailure> {
    let mut file = tempfile::Builder::new()
        .prefix("wagebridge-")
        .suffix(".xml")
        .tempfile()
        .map_err(ValidationFailure::Tool)?;
    file.write_all(xml.as_bytes())
        .and_then(|()| file.flush())
        .map_err(ValidationFailure::Tool)?;
    validate_with_xmllint(file.path())
}
