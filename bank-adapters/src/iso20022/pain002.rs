//! pain.002 (customer payment status report): the bank's answer to our
//! pain.001, read into a [`StatusReport`]; and written, for the bank
//! simulator.
//!
//! Reading rules, chosen so an answer is never read as more final than it is:
//! - every `OrgnlPmtInfAndSts` is kept as a block ([`PaymentBlockStatus`]:
//!   its id, `PmtInfSts`, reason and counts); a block without transactions
//!   is a status for all of that block's lines, which the caller applies;
//! - every line carries its block's id (`payment_information_id`);
//! - a transaction without its own `TxSts` takes its block's status and
//!   reason, else the group's; with none at all it is `Unknown` (ask again)
//!   with an empty raw code. An inherited `PART` leaves the line `Unknown`:
//!   "some were accepted" says nothing about this one;
//! - a transaction naming neither `OrgnlEndToEndId` nor `OrgnlInstrId` cannot
//!   be matched to a line and is left out (some banks echo only the
//!   original amount and parties);
//! - the group status is `GrpSts`; without one, the blocks' status when they
//!   all have the same one (one block: the batch's status), else none. The
//!   group reason is the group's `StsRsnInf`, else that of the block whose
//!   status stands for the group;
//! - `PART` (group or block) is [`PaymentStatus::PartlyAccepted`], never
//!   accepted;
//! - several `StsRsnInf` blocks / `AddtlInf` lines are merged: the first
//!   reason code, and all additional texts joined by a space;
//! - a date-time without offset is read at [`ReadOptions::utc_offset`].

use std::io::BufRead;

use crate::error::{ReadError, WriteError};
use crate::model::{LineStatus, PaymentBlockStatus, PaymentStatus, StatusReason, StatusReport};
use crate::read_options::ReadOptions;
use crate::xml::{Node, XmlReader};

use super::out::Out;
use super::read::{self, next_child, opt_text, parse_date_time, read_code, read_parsed};
use super::{message_from_namespace, MessageKind};

/// Reads a pain.002 (`.03`, `.10`, and national variants with the same
/// structure, such as SIX `pain.002.001.03.ch.02`), offset-less times at
/// +08:00 ([`ReadOptions::default`]).
pub fn read_status_report(input: impl BufRead) -> Result<StatusReport, ReadError> {
    read_status_report_with(input, &ReadOptions::default())
}

/// [`read_status_report`] with the caller's [`ReadOptions`].
pub fn read_status_report_with(
    input: impl BufRead,
    options: &ReadOptions,
) -> Result<StatusReport, ReadError> {
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
            report = Some(read_report(&mut r, options)?);
        } else {
            r.skip()?;
        }
    }
    report.ok_or_else(|| {
        ReadError::UnknownFormat("no CstmrPmtStsRpt: not a payment status report".to_owned())
    })
}

/// Reason texts and code collected from one or more `StsRsnInf`.
#[derive(Default, Clone)]
struct Reasons {
    code: Option<String>,
    text: Option<String>,
}

impl Reasons {
    /// These reasons, else (when they say nothing) a copy of `inherited`.
    fn or(self, inherited: &Reasons) -> Reasons {
        if self.code.is_none() && self.text.is_none() {
            inherited.clone()
        } else {
            self
        }
    }

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

/// A transaction as read, before it inherits from its block or group.
struct RawLine {
    end_to_end_id: String,
    instruction_id: Option<String>,
    code: Option<String>,
    reasons: Reasons,
    block: usize,
}

/// A block as read, with its reasons kept apart for its lines.
struct RawBlock {
    status: PaymentBlockStatus,
    reasons: Reasons,
}

fn read_report<R: BufRead>(
    r: &mut XmlReader<R>,
    options: &ReadOptions,
) -> Result<StatusReport, ReadError> {
    let depth = r.depth();
    let mut message_id = None;
    let mut created_at = None;
    let mut original_message_id = None;
    let mut group_code: Option<String> = None;
    let mut group_reasons = Reasons::default();
    let mut blocks: Vec<RawBlock> = Vec::new();
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
                            created_at = Some(parse_date_time(r, &text, options)?);
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
                let block = read_block(r, blocks.len(), &mut lines)?;
                blocks.push(block);
            }
            _ => r.skip()?,
        }
    }
    let Some(original_message_id) = original_message_id else {
        return Err(r.invalid("OrgnlGrpInfAndSts/OrgnlMsgId is missing"));
    };
    let lines = resolve_lines(lines, &mut blocks, group_code.as_deref(), &group_reasons);
    let common = common_block_status(&blocks);
    let group_reason = group_reasons
        .into_reason()
        .or_else(|| common.and_then(|block| block.reasons.clone().into_reason()));
    let group_status_code =
        group_code.or_else(|| common.and_then(|b| b.status.status_code.clone()));
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
        blocks: blocks.into_iter().map(|block| block.status).collect(),
    })
}

/// Call on `OrgnlPmtInfAndSts`: the block, and its transactions into `lines`.
fn read_block<R: BufRead>(
    r: &mut XmlReader<R>,
    index: usize,
    lines: &mut Vec<RawLine>,
) -> Result<RawBlock, ReadError> {
    let mut block = RawBlock {
        status: PaymentBlockStatus::default(),
        reasons: Reasons::default(),
    };
    let level = r.depth();
    while next_child(r, level)? {
        match r.name() {
            "OrgnlPmtInfId" => block.status.original_payment_information_id = opt_text(r)?,
            "OrgnlNbOfTxs" => block.status.original_count = Some(read_parsed(r, read::count)?),
            "OrgnlCtrlSum" => {
                block.status.original_control_sum = Some(read_parsed(r, read::decimal)?)
            }
            "PmtInfSts" => block.status.status_code = opt_text(r)?,
            "StsRsnInf" => read_reason(r, &mut block.reasons)?,
            "TxInfAndSts" => {
                if let Some(line) = read_transaction(r, index)? {
                    lines.push(line);
                }
            }
            _ => r.skip()?,
        }
    }
    block.status.status = block
        .status
        .status_code
        .as_deref()
        .map(PaymentStatus::from_iso_code);
    block.status.reason = block.reasons.clone().into_reason();
    Ok(block)
}

/// Gives each line its block's id, and its block's (else the group's)
/// status and reason when it has no status of its own; counts each block's
/// lines. Done after the whole report is read, so the order of elements in
/// a lenient file does not matter.
fn resolve_lines(
    raw: Vec<RawLine>,
    blocks: &mut [RawBlock],
    group_code: Option<&str>,
    group_reasons: &Reasons,
) -> Vec<LineStatus> {
    raw.into_iter()
        .map(|line| {
            let block = &mut blocks[line.block];
            block.status.line_count += 1;
            let (code, reasons) = match line.code {
                Some(code) => (code, line.reasons),
                None => match (block.status.status_code.as_deref(), group_code) {
                    (Some(code), _) => (code.to_owned(), line.reasons.or(&block.reasons)),
                    (None, Some(code)) => (code.to_owned(), line.reasons.or(group_reasons)),
                    (None, None) => (String::new(), line.reasons),
                },
            };
            LineStatus {
                end_to_end_id: line.end_to_end_id,
                instruction_id: line.instruction_id,
                status: PaymentStatus::for_line(&code),
                status_code: code,
                reason: reasons.into_reason(),
                payment_information_id: block.status.original_payment_information_id.clone(),
            }
        })
        .collect()
}

/// The block whose status stands for the group when there is no `GrpSts`:
/// the first one, when every block that states a status states the same.
fn common_block_status(blocks: &[RawBlock]) -> Option<&RawBlock> {
    let mut stated = blocks.iter().filter(|b| b.status.status_code.is_some());
    let first = stated.next()?;
    stated
        .all(|b| b.status.status_code == first.status.status_code)
        .then_some(first)
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
    block: usize,
) -> Result<Option<RawLine>, ReadError> {
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
    Ok(Some(RawLine {
        end_to_end_id,
        instruction_id,
        code,
        reasons,
        block,
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
/// reason, then each of `report.blocks` (its id, counts, status and reason)
/// with the lines that name it, and the lines that name no block in one
/// last payment information (id = the original message id, as our pain.001
/// writes it; without blocks, that is every line). Each line gets a
/// status: the raw code when present, else the model status's ISO code.
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

    write_blocks(&mut out, report, version)?;
    out.close("CstmrPmtStsRpt");
    out.close("Document");
    Ok(out.finish())
}

/// The `OrgnlPmtInfAndSts` blocks (see [`write_pain002`]).
fn write_blocks(
    out: &mut Out,
    report: &StatusReport,
    version: Pain002Version,
) -> Result<(), WriteError> {
    let block_id = |block: &PaymentBlockStatus| {
        block
            .original_payment_information_id
            .clone()
            .unwrap_or_else(|| report.original_message_id.clone())
    };
    let ids: Vec<String> = report.blocks.iter().map(block_id).collect();
    // A line goes into the first block with its id; the others into the last one.
    let home = |line: &LineStatus| {
        line.payment_information_id
            .as_deref()
            .and_then(|id| ids.iter().position(|b| b == id))
    };
    for (index, block) in report.blocks.iter().enumerate() {
        let field = |name: &str| format!("blocks[{index}].{name}");
        out.open("OrgnlPmtInfAndSts");
        out.text(
            "OrgnlPmtInfId",
            &ids[index],
            35,
            &field("original_payment_information_id"),
        )?;
        if let Some(count) = block.original_count {
            out.raw("OrgnlNbOfTxs", &count.to_string());
        }
        if let Some(sum) = block.original_control_sum {
            out.raw("OrgnlCtrlSum", &sum.to_string());
        }
        let code = block
            .status_code
            .as_deref()
            .or(block.status.map(PaymentStatus::iso_code));
        if let Some(code) = code {
            version.check_code(code, true, &field("status_code"))?;
            out.raw("PmtInfSts", code);
        }
        write_reason(out, block.reason.as_ref(), &field("reason"))?;
        let lines = report.lines.iter().enumerate();
        for (line_index, line) in lines.filter(|(_, line)| home(line) == Some(index)) {
            write_line(out, line, line_index, version)?;
        }
        out.close("OrgnlPmtInfAndSts");
    }
    let mut rest = report
        .lines
        .iter()
        .enumerate()
        .filter(|(_, line)| home(line).is_none())
        .peekable();
    if rest.peek().is_some() {
        out.open("OrgnlPmtInfAndSts");
        out.text(
            "OrgnlPmtInfId",
            &report.original_message_id,
            35,
            "original_message_id",
        )?;
        for (index, line) in rest {
            write_line(out, line, index, version)?;
        }
        out.close("OrgnlPmtInfAndSts");
    }
    Ok(())
}

fn write_line(
    out: &mut Out,
    line: &LineStatus,
    index: usize,
    version: Pain002Version,
) -> Result<(), WriteError> {
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
    write_reason(out, line.reason.as_ref(), &field("reason"))?;
    out.close("TxInfAndSts");
    Ok(())
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
