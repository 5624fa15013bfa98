//! The CMS envelope: `<CMS><eb><pub>…</pub><in|out>…</in|out></eb></CMS>`,
//! and the `pub` header every package carries.

use chrono::{DateTime, Utc};

use super::tree::Element;
use super::values;
use super::write::CmsWriter;
use super::IcbcConnection;
use crate::error::{Position, ReadError, WriteError};
use crate::read_options::ReadOptions;

/// The `pub` header (公共部分) of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmsHeader {
    /// 交易代码: `PAYPER`, `QPAYPER`, `QHISD`, ...
    pub trans_code: String,
    /// 集团CIS号: the group customer number.
    pub cis: String,
    /// 归属银行编号: `102` for ICBC.
    pub bank_code: String,
    /// 证书ID: the certificate / operator id.
    pub id: String,
    /// `TranDate` + `TranTime` (local time at the reader's offset, Beijing
    /// time by default), when both are given.
    pub created_at: Option<DateTime<Utc>>,
    /// 指令包序列号: the package id, unique per package.
    pub f_seqno: String,
    /// 平台交易序列号: the bank's serial for a submitted package (responses only).
    pub serial_no: Option<String>,
    /// 交易返回码: `0` = package accepted / query OK (responses only).
    pub ret_code: Option<String>,
    /// 交易返回描述 (responses only).
    pub ret_msg: Option<String>,
}

/// Whether a package is our request (`<in>`) or the bank's answer (`<out>`,
/// or a `pub` with `RetCode` and no body, as the PAYPER acknowledgement is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Request,
    Response,
}

/// A parsed package: header, direction and the `in`/`out` body if any.
pub struct Package {
    pub header: CmsHeader,
    pub direction: Direction,
    pub body: Option<Element>,
    /// Position of the `pub` element, for header-level errors.
    pub pub_position: Position,
}

impl Package {
    /// Splits a parsed `<CMS>` tree into header and body; the header's local
    /// time is read at the options' offset.
    pub fn from_root_with(root: Element, options: &ReadOptions) -> Result<Package, ReadError> {
        if root.name != "CMS" {
            return Err(ReadError::UnknownFormat(format!(
                "root element <{}> is not an ICBC CMS package (<CMS>)",
                root.name
            )));
        }
        let mut root = root;
        let eb_index = root
            .children
            .iter()
            .position(|c| c.name == "eb")
            .ok_or_else(|| root.invalid("missing element <eb>".to_owned()))?;
        let eb = root.children.swap_remove(eb_index);
        let pub_el = eb.require_child("pub")?;
        let header = read_header(pub_el, options)?;
        let pub_position = pub_el.position.clone();
        let mut body = None;
        let mut direction = if header.ret_code.is_some() {
            Direction::Response
        } else {
            Direction::Request
        };
        for child in eb.children {
            match child.name.as_str() {
                "in" => {
                    direction = Direction::Request;
                    body = Some(child);
                }
                "out" => {
                    direction = Direction::Response;
                    body = Some(child);
                }
                _ => {}
            }
        }
        Ok(Package {
            header,
            direction,
            body,
            pub_position,
        })
    }

    /// Checks the transaction code and direction a reader expects.
    pub fn expect(&self, codes: &[&str], direction: Direction) -> Result<(), ReadError> {
        if !codes.contains(&self.header.trans_code.as_str()) {
            return Err(ReadError::Invalid {
                position: self.pub_position.clone(),
                message: format!(
                    "this is an ICBC {} package; expected {}",
                    self.header.trans_code,
                    codes.join(" or ")
                ),
            });
        }
        if self.direction != direction {
            let (is, wanted) = match direction {
                Direction::Request => ("the bank's response", "a request"),
                Direction::Response => ("a request", "the bank's response"),
            };
            return Err(ReadError::Invalid {
                position: self.pub_position.clone(),
                message: format!(
                    "this {} package is {is}; expected {wanted}",
                    self.header.trans_code
                ),
            });
        }
        Ok(())
    }

    /// The `in`/`out` body, which this package type must have.
    pub fn require_body(&self) -> Result<&Element, ReadError> {
        self.body.as_ref().ok_or_else(|| ReadError::Invalid {
            position: self.pub_position.clone(),
            message: format!(
                "this {} package has no <in>/<out> body",
                self.header.trans_code
            ),
        })
    }
}

fn read_header(pub_el: &Element, options: &ReadOptions) -> Result<CmsHeader, ReadError> {
    let trans_code = pub_el.require("TransCode")?;
    if !trans_code.bytes().all(|b| b.is_ascii_alphanumeric()) {
        // The public QHISD "template" holds 交易代码 here: field meanings, not data.
        return Err(pub_el.invalid_at(
            "TransCode",
            format!(
                "TransCode {trans_code:?} is not a transaction code; this looks like a \
                 field-description template, not a message"
            ),
        ));
    }
    let created_at = match (pub_el.opt("TranDate"), pub_el.opt("TranTime")) {
        (Some(date), Some(time)) => {
            let at = values::parse_tran_date_time_at(date, time, options.utc_offset);
            Some(at.ok_or_else(|| {
                pub_el.invalid_at(
                    "TranDate",
                    format!("TranDate/TranTime {date:?}/{time:?} is not yyyyMMdd/HHmmssSSS"),
                )
            })?)
        }
        _ => None,
    };
    Ok(CmsHeader {
        trans_code: trans_code.to_owned(),
        cis: pub_el.text_of("CIS").to_owned(),
        bank_code: pub_el.text_of("BankCode").to_owned(),
        id: pub_el.text_of("ID").to_owned(),
        created_at,
        f_seqno: pub_el.text_of("fSeqno").to_owned(),
        serial_no: pub_el.opt_string("SerialNo"),
        ret_code: pub_el.child("RetCode").map(|c| c.text.clone()),
        ret_msg: pub_el.opt_string("RetMsg"),
    })
}

/// What a response's `pub` adds to a request's.
pub struct ResponseStatus<'a> {
    /// `SerialNo`, written only for submit-type packages (PAYPER).
    pub serial_no: Option<&'a str>,
    pub ret_code: &'a str,
    pub ret_msg: &'a str,
}

/// Writes `<pub>…</pub>` in the samples' order.
pub fn write_pub(
    w: &mut CmsWriter,
    conn: &IcbcConnection,
    trans_code: &str,
    created_at: Option<DateTime<Utc>>,
    f_seqno: &str,
    response: Option<ResponseStatus<'_>>,
) -> Result<(), WriteError> {
    w.open("pub");
    w.field("TransCode", trans_code)?;
    // An empty identity is a misconfigured connection: catch it here, not at the bank.
    w.required("CIS", &conn.cis)?;
    w.required("BankCode", &conn.bank_code)?;
    w.required("ID", &conn.id)?;
    let (date, time) = created_at
        .map(values::format_tran_date_time)
        .unwrap_or_default();
    w.field("TranDate", &date)?;
    w.field("TranTime", &time)?;
    if response.is_none() {
        // Every request package needs its own id; answers echo what they got.
        w.required("fSeqno", f_seqno)?;
    } else {
        w.field("fSeqno", f_seqno)?;
    }
    if let Some(status) = response {
        if let Some(serial) = status.serial_no {
            w.field("SerialNo", serial)?;
        }
        w.field("RetCode", status.ret_code)?;
        w.field("RetMsg", status.ret_msg)?;
    }
    w.close("pub");
    Ok(())
}
