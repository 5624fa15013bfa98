//! pain.002 (customer payment status report): the bank's answer to our
//! pain.001, read into a [`StatusReport`]; and written, for the bank
//! simulator.
//!
//! Reading rules, chosen so an answer is never read as more final than it is:
//! - a transaction without its own `TxSts` takes its payment-information
//!   status (`PmtInfSts`), else the group status; with none at all it is
//!   `Unknown` (ask again) with an empty raw code;
//! - a transaction naming neither `OrgnlEndToEndId` nor `OrgnlInstrId` cannot
//!   be matched to a line and is left out (some banks echo only the
//!   original amount and parties);
//! - the group status is `GrpSts`, else the first `PmtInfSts` (we send one
//!   payment information per batch, so it is the batch's status); the group
//!   reason is the group's `StsRsnInf`, else the first payment-information one;
//! - several `StsRsnInf` blocks / `AddtlInf` lines are merged: the first
//!   reason code, and all additional texts joined by a space.

use std::io::BufRead;

use crate::error::{ReadError, WriteError};
use crate::model::{LineStatus, PaymentStatus, StatusReason, StatusReport};
use crate::xml::{Node, XmlReader};

use super::out::Out;
use super::read::{next_child, opt_text, parse_date_time, read_code};
use super::{message_from_namespace, MessageKind};

/// Reads a pain.002 (`.03`, `.10`, and national variants with the same
/// structure, such as SIX `pain.002.001.03.ch.02`).
pub fn read_status_report(input: impl BufRead) -> Result<StatusReport, ReadError> {
    let mut r = XmlReader::new(input);
    if r.next()? != Node::Start {
        return Err(r.invalid("no root element"));
    }
    if let Some(name) = r.root_namespace().and_then(message_from_namespace) {
        if name.kind != MessageKind::Pain002 {
            return Err(ReadError::UnknownFormat(format!(
                "{name} is not a payment status report (pain.002)"
            )));
        }
    }
    let mut report = None;
    while next_child(&mut r, 1)? {
        if r.name() == "CstmrPmtStsRpt" {
            report = Some(read_report(&mut r)?);
        } else {
            r.skip()?;
        }
    }
    report.ok_or_else(|| {
        ReadError::UnknownFormat("no CstmrPmtStsRpt: not a payment status report".to_owned())
    })
}

/// Reason texts and code collected from one or more `StsRsnInf`.
#[derive(Default)]
struct Reasons {
    code: Option<String>,
    text: Option<String>,
}

impl Reasons {
    fn into_reason(self) -> Option<StatusReason> {
        if self.code.is_none() && self.text.is_none() {
            None
        } else {
            Some(StatusReason {
                code: self.code,
                text: self.text,
            })
        }
    }
}

fn read_report<R: BufRead>(r: &mut XmlReader<R>) -> Result<StatusReport, ReadError> {
    let depth = r.depth();
    let mut message_id = None;
    let mut created_at = None;
    let mut original_message_id = None;
    let mut group_code: Option<String> = None;
    let mut group_reasons = Reasons::default();
    let mut payment_info_code: Option<String> = None;
    let mut payment_info_reasons = Reasons::default();
    let mut lines = Vec::new();
    while next_child(r, depth)? {
        match r.name() {
            "GrpHdr" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "MsgId" => message_id = opt_text(r)?,
                        "CreDtTm" => {
                            let text = r.read_text()?;
                            created_at = Some(parse_date_time(r, &text)?);
                        }
                        _ => r.skip()?,
                    }
                }
            }
            "OrgnlGrpInfAndSts" => {
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "OrgnlMsgId" => original_message_id = opt_text(r)?,
                        "GrpSts" => group_code = opt_text(r)?,
                        "StsRsnInf" => read_reason(r, &mut group_reasons)?,
                        _ => r.skip()?,
                    }
                }
            }
            "OrgnlPmtInfAndSts" => {
                let mut block_code = None;
                let mut block_reasons = Reasons::default();
                let level = r.depth();
                while next_child(r, level)? {
                    match r.name() {
                        "PmtInfSts" => block_code = opt_text(r)?,
                        "StsRsnInf" => read_reason(r, &mut block_reasons)?,
                        "TxInfAndSts" => {
                            let inherited = block_code.as_deref().or(group_code.as_deref());
                            if let Some(line) = read_transaction(r, inherited)? {
                                lines.push(line);
                            }
                        }
                        _ => r.skip()?,
                    }
                }
                if payment_info_code.is_none() {
                    payment_info_code = block_code;
                }
                if payment_info_reasons.code.is_none() && payment_info_reasons.text.is_none() {
                    payment_info_reasons = block_reasons;
                }
            }
            _ => r.skip()?,
        }
    }
    let Some(original_message_id) = original_message_id else {
        return Err(r.invalid("OrgnlGrpInfAndSts/OrgnlMsgId is missing"));
    };
    let group_status_code = group_code.or(payment_info_code);
    let group_reason = group_reasons
        .into_reason()
        .or_else(|| payment_info_reasons.into_reason());
    Ok(StatusReport {
        message_id,
        created_at,
        original_message_id,
        group_status: group_status_code
            .as_deref()
            .map(PaymentStatus::from_iso_code),
        group_status_code,
        group_reason,
        lines,
    })
}

fn read_reason<R: BufRead>(r: &mut XmlReader<R>, reasons: &mut Reasons) -> Result<(), ReadError> {
    let depth = r.depth();
    while next_child(r, depth)? {
        match r.name() {
            "Rsn" => {
                let code = read_code(r)?;
                if reasons.code.is_none() {
                    reasons.code = code;
                }
            }
            "AddtlInf" => {
                if let Some(text) = opt_text(r)? {
                    match &mut reasons.text {
                        Some(all) => {
                            all.push(' ');
                            all.push_str(&text);
                        }
                        None => reasons.text = Some(text),
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(())
}

fn read_transaction<R: BufRead>(
    r: &mut XmlReader<R>,
    inherited_code: Option<&str>,
) -> Result<Option<LineStatus>, ReadError> {
    let depth = r.depth();
    let mut end_to_end_id = None;
    let mut instruction_id = None;
    let mut code = None;
    let mut reasons = Reasons::default();
    while next_child(r, depth)? {
        match r.name() {
            "OrgnlEndToEndId" => end_to_end_id = opt_text(r)?,
            "OrgnlInstrId" => instruction_id = opt_text(r)?,
            "TxSts" => code = opt_text(r)?,
            "StsRsnInf" => read_reason(r, &mut reasons)?,
            _ => r.skip()?,
        }
    }
    let Some(end_to_end_id) = end_to_end_id.or_else(|| instruction_id.clone()) else {
        return Ok(None);
    };
    let status_code = code
        .or_else(|| inherited_code.map(str::to_owned))
        .unwrap_or_default();
    let status = if status_code.is_empty() {
        PaymentStatus::Unknown
    } else {
        PaymentStatus::from_iso_code(&status_code)
    };
    Ok(Some(LineStatus {
        end_to_end_id,
        instruction_id,
        status_code,
        status,
        reason: reasons.into_reason(),
    }))
}

/// Which pain.002 version to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pain002Version {
    /// pain.002.001.03: answers pain.001.001.03; status codes are a closed list.
    V03,
    /// pain.002.001.10: answers pain.001.001.09; any external status code.
    V10,
}

impl Pain002Version {
    pub fn namespace(self) -> &'static str {
        match self {
            Pain002Version::V03 => "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03",
            Pain002Version::V10 => "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10",
        }
    }

    /// The pain.001 this version answers (`OrgnlMsgNmId`).
    fn original_message_name(self) -> &'static str {
        match self {
            Pain002Version::V03 => "pain.001.001.03",
            Pain002Version::V10 => "pain.001.001.09",
        }
    }

    fn check_code(self, code: &str, group: bool, field: &str) -> Result<(), WriteError> {
        const GROUP_03: [&str; 9] = [
            "ACTC", "RCVD", "PART", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC",
        ];
        const TRANSACTION_03: [&str; 7] = ["ACTC", "RJCT", "PDNG", "ACCP", "ACSP", "ACSC", "ACWC"];
        let allowed = match self {
            Pain002Version::V03 if group => GROUP_03.contains(&code),
            Pain002Version::V03 => TRANSACTION_03.contains(&code),
            Pain002Version::V10 => {
                (1..=4).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric())
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(WriteError::Invalid {
                field: field.to_owned(),
                message: format!("status code {code:?} cannot be written in this pain.002 version"),
            })
        }
    }
}

/// Writes a status report as pain.002, as a bank would: the group status and
/// reason, then one payment information (id = the original message id, as
/// our pain.001 writes it) with a status per line. The raw code is written
/// when present, else the model status's ISO code.
///
/// `message_id` and `created_at` are required (the schema requires them and
/// a writer must not invent them).
pub fn write_pain002(report: &StatusReport, version: Pain002Version) -> Result<String, WriteError> {
    let Some(message_id) = report.message_id.as_deref() else {
        return Err(WriteError::Invalid {
            field: "message_id".to_owned(),
            message: "a status report needs its own message id".to_owned(),
        });
    };
    let Some(created_at) = report.created_at else {
        return Err(WriteError::Invalid {
            field: "created_at".to_owned(),
            message: "a status report needs its creation time".to_owned(),
        });
    };
    let mut out = Out::with_capacity(1024 + report.lines.len() * 400);
    out.declaration();
    out.open_with(
        "Document",
        &format!(
            " xmlns=\"{}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
            version.namespace()
        ),
    );
    out.open("CstmrPmtStsRpt");
    out.open("GrpHdr");
    out.text("MsgId", message_id, 35, "message_id")?;
    out.date_time("CreDtTm", created_at);
    out.close("GrpHdr");

    out.open("OrgnlGrpInfAndSts");
    out.text(
        "OrgnlMsgId",
        &report.original_message_id,
        35,
        "original_message_id",
    )?;
    out.raw("OrgnlMsgNmId", version.original_message_name());
    let group_code = report
        .group_status_code
        .as_deref()
        .or(report.group_status.map(PaymentStatus::iso_code));
    if let Some(code) = group_code {
        version.check_code(code, true, "group_status_code")?;
        out.raw("GrpSts", code);
    }
    write_reason(&mut out, report.group_reason.as_ref(), "group_reason")?;
    out.close("OrgnlGrpInfAndSts");

    if !report.lines.is_empty() {
        out.open("OrgnlPmtInfAndSts");
        out.text(
            "OrgnlPmtInfId",
            &report.original_message_id,
            35,
            "original_message_id",
        )?;
        for (index, line) in report.lines.iter().enumerate() {
            let field = |name: &str| format!("lines[{index}].{name}");
            out.open("TxInfAndSts");
            out.opt_text(
                "OrgnlInstrId",
                line.instruction_id.as_deref(),
                35,
                &field("instruction_id"),
            )?;
            out.text(
                "OrgnlEndToEndId",
                &line.end_to_end_id,
                35,
                &field("end_to_end_id"),
            )?;
            let code = if line.status_code.is_empty() {
                line.status.iso_code()
            } else {
                &line.status_code
            };
            version.check_code(code, false, &field("status_code"))?;
            out.raw("TxSts", code);
            write_reason(&mut out, line.reason.as_ref(), &field("reason"))?;
            out.close("TxInfAndSts");
        }
        out.close("OrgnlPmtInfAndSts");
    }
    out.close("CstmrPmtStsRpt");
    out.close("Document");
    Ok(out.finish())
}

/// `StsRsnInf` with `Rsn/Cd` (codes of up to 4 characters, the external
/// code list) or `Rsn/Prtry` (a bank's own longer code), and `AddtlInf`.
fn write_reason(
    out: &mut Out,
    reason: Option<&StatusReason>,
    field: &str,
) -> Result<(), WriteError> {
    let Some(reason) = reason else {
        return Ok(());
    };
    if reason.code.is_none() && reason.text.is_none() {
        return Ok(());
    }
    out.open("StsRsnInf");
    if let Some(code) = reason.code.as_deref() {
        out.open("Rsn");
        if code.chars().count() <= 4 {
            out.text("Cd", code, 4, &format!("{field}.code"))?;
        } else {
            out.text("Prtry", code, 35, &format!("{field}.code"))?;
        }
        out.close("Rsn");
    }
    out.opt_text(
        "AddtlInf",
        reason.text.as_deref(),
        105,
        &format!("{field}.text"),
    )?;
    out.close("StsRsnInf");
    Ok(())
}
