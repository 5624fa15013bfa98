//! ICBC's corporate-banking dialect (工行银企互联 "CMS" XML), modelled on its
//! publicly documented shape: GBK-encoded
//! `<CMS><eb><pub>…</pub><in>…</in></eb></CMS>`, answers with `<out>`.
//!
//! The whole field mapping of this bank lives here, one file per package
//! type, so another bank is one more module:
//! - [`payper`]: PAYPER batch payment (企业财务室指令提交) out, and read back;
//! - [`qpayper`]: QPAYPER result query and the answers to PAYPER/QPAYPER;
//! - [`qhisd`]: QHISD account history (历史明细) and QPD (当日明细).
//!
//! Facts and their sources are in `shared/cn-bank/FIELDS.md`. Amounts are
//! integer fen on the wire and yuan (`Decimal`) in the model. Signing
//! (ICBC's NetSafe Client signs PAYPER) and transport are not done here; see
//! `dialect::Envelope`.
//!
//! This module must not do I/O, must not replace characters it cannot encode,
//! and must not cut a value to fit a field.

pub(crate) mod charset;
mod package;
pub mod payper;
pub mod qhisd;
pub mod qpayper;
mod tree;
mod values;
mod write;

use serde::{Deserialize, Serialize};

use crate::error::ReadError;
use crate::read_options::ReadOptions;
use crate::xml::{Limits, Node, XmlReader};

pub use package::CmsHeader;
pub use payper::{read_payper, write_payper, write_payper_response};
pub use qhisd::{
    read_qhisd, read_qhisd_page, read_qhisd_page_with, read_qhisd_request, read_qhisd_with,
    write_qhisd_request, write_qhisd_response, HistoryPage, HistoryQuery,
};
pub use qpayper::{
    is_duplicate_submission, read_qpayper, read_qpayper_request, read_qpayper_with, result_status,
    write_qpayper_request, write_qpayper_response, PackageQuery, DUPLICATE_PACKAGE,
};

/// Largest CMS package we read. ICBC answers are paged; a PAYPER with a few
/// thousand rows is a few MB.
pub const MAX_PACKAGE_BYTES: u64 = 32 * 1024 * 1024;

/// One corporate connection to ICBC: who we are in the `pub` header, and
/// the per-customer choices PAYPER needs. Deserialises from the bank
/// connection's configuration, e.g.
/// `{"cis":"110290001987990","bank_code":"102","id":"FangYQHL191224.y.1102"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IcbcConnection {
    /// 集团CIS号: the group customer number ICBC assigned.
    pub cis: String,
    /// 归属银行编号: always `102` (ICBC).
    #[serde(default = "default_bank_code")]
    pub bank_code: String,
    /// 证书ID: the certificate / operator id (`xxx.y.1102`).
    pub id: String,
    /// 入账方式 for PAYPER.
    #[serde(default)]
    pub settle_mode: SettleMode,
    /// 记账处理方式 for PAYPER rows.
    #[serde(default)]
    pub pay_type: PayType,
    /// 用途 (`UseCN`, at most 20 GBK bytes) written on every PAYPER row.
    #[serde(default = "default_purpose")]
    pub purpose: String,
}

impl IcbcConnection {
    /// A connection with the defaults for everything but the identities.
    pub fn new(cis: impl Into<String>, id: impl Into<String>) -> Self {
        IcbcConnection {
            cis: cis.into(),
            bank_code: default_bank_code(),
            id: id.into(),
            settle_mode: SettleMode::default(),
            pay_type: PayType::default(),
            purpose: default_purpose(),
        }
    }
}

fn default_bank_code() -> String {
    "102".to_owned()
}

fn default_purpose() -> String {
    "工资".to_owned()
}

/// `SettleMode` 入账方式.
///
/// Both public PAYPER builders send `2`, and one says PAYPER uses 2 (PAYENT
/// uses 0), so that is the default. Ask ICBC whether `2` still returns one
/// history row per payee with its `Ref`; reconciliation relies on that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettleMode {
    /// `0` 逐笔记账: book each row.
    PerRow,
    /// `2` 并笔记账: book the package as one sum.
    #[default]
    Combined,
}

impl SettleMode {
    pub fn code(self) -> &'static str {
        match self {
            SettleMode::PerRow => "0",
            SettleMode::Combined => "2",
        }
    }
}

/// `PayType` 记账处理方式 of a PAYPER row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayType {
    /// `1` 加急: urgent (what the ICBC-provided simulator sends).
    #[default]
    Urgent,
    /// `2` 普通: normal.
    Normal,
    /// `3` 跨行快汇: fast inter-bank.
    FastInterbank,
}

impl PayType {
    pub fn code(self) -> &'static str {
        match self {
            PayType::Urgent => "1",
            PayType::Normal => "2",
            PayType::FastInterbank => "3",
        }
    }
}

/// Reads only the `pub` header of a package (for a simulator checking who
/// calls, or a log line), after decoding it like every reader does.
pub fn read_header(bytes: &[u8]) -> Result<CmsHeader, ReadError> {
    parse(bytes).map(|package| package.header)
}

/// Decodes a package in its declared encoding and parses it.
fn parse(bytes: &[u8]) -> Result<package::Package, ReadError> {
    parse_with(bytes, &ReadOptions::default())
}

/// [`parse`], local times read at the options' offset.
fn parse_with(bytes: &[u8], options: &ReadOptions) -> Result<package::Package, ReadError> {
    if bytes.len() as u64 > MAX_PACKAGE_BYTES {
        return Err(ReadError::Limit {
            position: Default::default(),
            message: format!("the package is larger than {MAX_PACKAGE_BYTES} bytes"),
        });
    }
    let text = charset::decode(bytes)?;
    let root = build_tree(text.as_bytes())?;
    package::Package::from_root_with(root, options)
}

/// Builds the element tree with the shared safe reader (no DTDs, no
/// entities, depth and size limits).
fn build_tree(utf8: &[u8]) -> Result<tree::Element, ReadError> {
    let limits = Limits {
        max_file_size: Some(MAX_PACKAGE_BYTES),
        ..Limits::default()
    };
    let mut reader = XmlReader::with_limits(utf8, limits);
    let mut open: Vec<tree::Element> = Vec::new();
    let mut root = None;
    loop {
        match reader.next()? {
            Node::Start => open.push(tree::Element {
                name: reader.name().to_owned(),
                position: reader.position(),
                ..tree::Element::default()
            }),
            Node::Text => {
                if let Some(current) = open.last_mut() {
                    current.text.push_str(reader.text());
                }
            }
            Node::End => {
                if let Some(mut done) = open.pop() {
                    let trimmed = done.text.trim();
                    if trimmed.len() != done.text.len() {
                        done.text = trimmed.to_owned();
                    }
                    match open.last_mut() {
                        Some(parent) => parent.children.push(done),
                        None => root = Some(done),
                    }
                }
            }
            Node::Eof => {
                return root.ok_or_else(|| ReadError::Malformed {
                    position: reader.position(),
                    message: "no root element".to_owned(),
                })
            }
        }
    }
}
