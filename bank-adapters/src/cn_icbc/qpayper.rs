//! QPAYPER (企业财务室指令查询): the status query for a PAYPER package, and
//! reading the bank's answers to PAYPER and QPAYPER into a [`StatusReport`].
//!
//! Status rules (FIELDS.md section 0; S2 and U2 implement the same):
//! per-row `Result` 7 → Settled; 6 (rejected by bank), 8 (authorisation
//! refused) and 11 (scheduled instruction cancelled, U5) → Rejected; 98
//! (区域中心通讯可疑, communication doubtful) → Unknown: query again, never
//! pay again; 9 (银行正在处理, bank processing) → Accepted; every other code
//! → Pending. An empty or missing `Result` is Unknown, not a failure.
//!
//! `pub/RetCode` `0` means the package was accepted (or the query answered),
//! not that anyone was paid. `B0012` (指令包序列号为空或重复) on a PAYPER
//! means the package id was already used: the first submission exists, so
//! the group status is Unknown ("query it") and [`is_duplicate_submission`]
//! says so. Any other non-zero RetCode refuses a PAYPER package (Rejected),
//! but on a QPAYPER only means the query failed (Unknown).
//!
//! Rows find their line by `Ref` (our end-to-end id, which PAYPER sends);
//! when a row has no `Ref` (the public sample), the original row's
//! `QryiSeqno` (or `iSeqno`) stands in. `instruction_id` is always the
//! original `iSeqno` (`QryiSeqno`), which our PAYPER writer numbers 1, 2, …

use chrono::{DateTime, Utc};

use super::package::{self, Direction, ResponseStatus};
use super::tree::Element;
use super::write::CmsWriter;
use super::IcbcConnection;
use crate::error::{ReadError, WriteError};
use crate::model::{LineStatus, PaymentStatus, StatusReason, StatusReport};
use crate::read_options::ReadOptions;

/// `pub/RetCode` for a reused package id: "already submitted: query it".
pub const DUPLICATE_PACKAGE: &str = "B0012";

/// A QPAYPER query: which PAYPER package to report on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageQuery {
    /// This query's own package id (`fSeqno`).
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    /// `QryfSeqno`: the PAYPER package's `fSeqno` (our batch's message id).
    pub original_message_id: Option<String>,
    /// `QrySerialNo`: the `SerialNo` the bank returned for that package.
    pub serial_no: Option<String>,
}

/// The status an ICBC per-row `Result` code stands for.
pub fn result_status(code: &str) -> PaymentStatus {
    match code {
        "7" => PaymentStatus::Settled,
        "6" | "8" | "11" => PaymentStatus::Rejected,
        "9" => PaymentStatus::Accepted,
        "98" | "" => PaymentStatus::Unknown,
        code if code.bytes().all(|b| b.is_ascii_digit()) => PaymentStatus::Pending,
        _ => PaymentStatus::Unknown,
    }
}

/// The `Result` code we write for a status (the bank simulator's side).
pub fn result_code(status: PaymentStatus) -> &'static str {
    match status {
        PaymentStatus::Pending => "0",
        PaymentStatus::Accepted | PaymentStatus::PartlyAccepted => "9",
        PaymentStatus::Settled => "7",
        PaymentStatus::Rejected => "6",
        PaymentStatus::Unknown => "98",
    }
}

/// The bank refused the package because its `fSeqno` was used before
/// (`B0012`): the batch was already submitted, so query it; do not resubmit
/// it under a new id.
pub fn is_duplicate_submission(report: &StatusReport) -> bool {
    report.group_status_code.as_deref() == Some(DUPLICATE_PACKAGE)
}

/// Writes a QPAYPER request. At least one of `original_message_id` and
/// `serial_no` must be given.
pub fn write_qpayper_request(
    query: &PackageQuery,
    conn: &IcbcConnection,
) -> Result<Vec<u8>, WriteError> {
    let original = query.original_message_id.as_deref().unwrap_or("");
    let serial = query.serial_no.as_deref().unwrap_or("");
    if original.is_empty() && serial.is_empty() {
        return Err(WriteError::Invalid {
            field: "in/QryfSeqno".to_owned(),
            message: "name the package by its fSeqno or the bank's SerialNo".to_owned(),
        });
    }
    let mut w = CmsWriter::new();
    w.set_context("pub/".to_owned());
    package::write_pub(
        &mut w,
        conn,
        "QPAYPER",
        Some(query.created_at),
        &query.message_id,
        None,
    )?;
    w.set_context("in/".to_owned());
    w.open("in");
    w.field("QryfSeqno", original)?;
    w.field("QrySerialNo", serial)?;
    w.close("in");
    w.finish()
}

/// Reads a QPAYPER request (the bank simulator's side).
pub fn read_qpayper_request(bytes: &[u8]) -> Result<PackageQuery, ReadError> {
    let package = super::parse(bytes)?;
    package.expect(&["QPAYPER"], Direction::Request)?;
    let body = package.require_body()?;
    let query = PackageQuery {
        message_id: package.header.f_seqno.clone(),
        created_at: package
            .header
            .created_at
            .ok_or_else(|| ReadError::Invalid {
                position: package.pub_position.clone(),
                message: "QPAYPER needs TranDate and TranTime".to_owned(),
            })?,
        original_message_id: body.opt_string("QryfSeqno"),
        serial_no: body.opt_string("QrySerialNo"),
    };
    if query.original_message_id.is_none() && query.serial_no.is_none() {
        return Err(body
            .invalid("QPAYPER names no package: QryfSeqno and QrySerialNo are empty".to_owned()));
    }
    Ok(query)
}

/// Reads the bank's answer about a PAYPER package: the PAYPER
/// acknowledgement or a QPAYPER result.
///
/// * PAYPER: `original_message_id` = `fSeqno` (our batch), `message_id` =
///   `SerialNo` (the bank's serial, to query by), usually no rows.
/// * QPAYPER: `original_message_id` = `QryfSeqno`, or `QrySerialNo` when the
///   query named the package by serial only; `message_id` = the query's own
///   `fSeqno`; one line per `rd`.
///
/// `group_status_code` is `RetCode` as sent; `group_reason` carries
/// `RetMsg` when RetCode is not `0`.
pub fn read_qpayper(bytes: &[u8]) -> Result<StatusReport, ReadError> {
    read_qpayper_with(bytes, &ReadOptions::default())
}

/// [`read_qpayper`], `TranDate`/`TranTime` read at the options' offset
/// (Beijing time by default).
pub fn read_qpayper_with(bytes: &[u8], options: &ReadOptions) -> Result<StatusReport, ReadError> {
    let package = super::parse_with(bytes, options)?;
    package.expect(&["QPAYPER", "PAYPER"], Direction::Response)?;
    let header = &package.header;
    let submit = header.trans_code == "PAYPER";
    let ret_code = header.ret_code.clone().unwrap_or_default();
    let group_status = if ret_code == "0" {
        PaymentStatus::Accepted
    } else if ret_code == DUPLICATE_PACKAGE || !submit {
        PaymentStatus::Unknown
    } else {
        PaymentStatus::Rejected
    };
    let group_reason = (ret_code != "0").then(|| StatusReason {
        code: Some(ret_code.clone()).filter(|c| !c.is_empty()),
        text: header.ret_msg.clone(),
    });

    let (message_id, original_message_id) = if submit {
        (header.serial_no.clone(), header.f_seqno.clone())
    } else {
        let body = package.body.as_ref();
        let original = body
            .and_then(|b| {
                b.opt_string("QryfSeqno")
                    .or_else(|| b.opt_string("QrySerialNo"))
            })
            .unwrap_or_default();
        (
            Some(header.f_seqno.clone()).filter(|s| !s.is_empty()),
            original,
        )
    };
    if original_message_id.is_empty() && ret_code == "0" {
        return Err(ReadError::Invalid {
            position: package.pub_position.clone(),
            message: "the answer does not say which package it is about (no fSeqno, QryfSeqno or QrySerialNo)"
                .to_owned(),
        });
    }
    let lines = match package.body.as_ref() {
        Some(body) => body
            .children_named("rd")
            .map(read_row)
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(StatusReport {
        message_id,
        created_at: header.created_at,
        original_message_id,
        group_status_code: Some(ret_code),
        group_status: Some(group_status),
        group_reason,
        lines,
        blocks: Vec::new(),
    })
}

fn read_row(row: &Element) -> Result<LineStatus, ReadError> {
    let original_seqno = row.opt("QryiSeqno").or_else(|| row.opt("iSeqno"));
    let end_to_end_id = row.opt("Ref").or(original_seqno).ok_or_else(|| {
        row.invalid("a result row has neither Ref nor QryiSeqno/iSeqno".to_owned())
    })?;
    let status_code = row.text_of("Result").to_owned();
    // QPAYPER captures use instrRetCode/instrRetMsg; S2's parser reads iRetCode/iRetMsg.
    let code = row
        .opt_string("instrRetCode")
        .or_else(|| row.opt_string("iRetCode"));
    let text = row
        .opt_string("instrRetMsg")
        .or_else(|| row.opt_string("iRetMsg"));
    let reason = (code.is_some() || text.is_some()).then_some(StatusReason { code, text });
    Ok(LineStatus {
        end_to_end_id: end_to_end_id.to_owned(),
        instruction_id: original_seqno.map(str::to_owned),
        status: result_status(&status_code),
        status_code,
        reason,
        payment_information_id: None,
    })
}

/// Writes a QPAYPER answer (the bank simulator's side).
///
/// `fSeqno` = `message_id` (the query's id), `QryfSeqno` =
/// `original_message_id`, `RetCode` = `group_status_code` (default `0`),
/// `RetMsg` = the group reason text. Each line becomes an `rd` with `Ref` =
/// end-to-end id, `QryiSeqno` = instruction id (else the row number),
/// `Result` = the line's code when it stands for the line's status (else
/// [`result_code`]), `instrRetCode`/`instrRetMsg` = the reason.
pub fn write_qpayper_response(
    report: &StatusReport,
    conn: &IcbcConnection,
) -> Result<Vec<u8>, WriteError> {
    let ret_code = report.group_status_code.as_deref().unwrap_or("0");
    let ret_msg = report
        .group_reason
        .as_ref()
        .and_then(|r| r.text.as_deref())
        .unwrap_or("");
    let mut w = CmsWriter::new();
    w.set_context("pub/".to_owned());
    package::write_pub(
        &mut w,
        conn,
        "QPAYPER",
        report.created_at,
        report.message_id.as_deref().unwrap_or(""),
        Some(ResponseStatus {
            serial_no: None,
            ret_code,
            ret_msg,
        }),
    )?;
    w.set_context("out/".to_owned());
    w.open("out");
    w.field("QryfSeqno", &report.original_message_id)?;
    w.empty("QrySerialNo");
    w.field("OnlBatF", "1")?;
    w.field("SettleMode", conn.settle_mode.code())?;
    w.empty("BusType");
    w.field("THBaseAccFlag", "0")?;
    for tag in ["RegSerialNO", "PackageName", "TotalSummary", "BatchSumFlag"] {
        w.empty(tag);
    }
    w.field("BatRetCode", "0")?;
    w.empty("BatRetMsg");
    for (index, line) in report.lines.iter().enumerate() {
        w.set_context(format!("out/rd[{}]/", index + 1));
        write_row(&mut w, index, line)?;
    }
    w.close("out");
    w.finish()
}

fn write_row(w: &mut CmsWriter, index: usize, line: &LineStatus) -> Result<(), WriteError> {
    let number = (index + 1).to_string();
    let result = if !line.status_code.is_empty() && result_status(&line.status_code) == line.status
    {
        line.status_code.as_str()
    } else {
        result_code(line.status)
    };
    let reason = line.reason.clone().unwrap_or_default();
    w.open("rd");
    w.field("iSeqno", &number)?;
    w.field(
        "QryiSeqno",
        line.instruction_id.as_deref().unwrap_or(&number),
    )?;
    w.field("QryOrderNo", &number)?;
    for tag in [
        "ReimburseNo",
        "ReimburseNum",
        "StartDate",
        "StartTime",
        "PayType",
        "PayAccNo",
        "PayAccNameCN",
        "PayAccNameEN",
        "RecAccNo",
        "RecAccNameCN",
        "RecAccNameEN",
        "SysIOFlg",
        "IsSameCity",
        "RecICBCCode",
        "RecCityName",
        "RecBankNo",
        "RecBankName",
        "CurrType",
        "PayAmt",
        "UseCode",
        "UseCN",
        "EnSummary",
        "PostScript",
        "Summary",
    ] {
        w.empty(tag);
    }
    w.required("Ref", &line.end_to_end_id)?;
    for tag in [
        "Oref",
        "ERPSqn",
        "BusCode",
        "ERPcheckno",
        "CrvouhType",
        "CrvouhName",
        "CrvouhNo",
    ] {
        w.empty(tag);
    }
    w.field("Result", result)?;
    w.field("instrRetCode", reason.code.as_deref().unwrap_or(""))?;
    w.field("instrRetMsg", reason.text.as_deref().unwrap_or(""))?;
    for tag in ["BankRetTime", "MCardNo", "MCardName"] {
        w.empty(tag);
    }
    w.close("rd");
    Ok(())
}
