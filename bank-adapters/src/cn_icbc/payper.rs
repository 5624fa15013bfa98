//! PAYPER (企业财务室指令提交): the batch payment package, used by ICBC
//! customers for 工资 (salary) payments.
//!
//! Mapping (one place, so a second bank is one more module):
//!
//! | PaymentBatch                     | PAYPER                                   |
//! |----------------------------------|------------------------------------------|
//! | `message_id`                     | `pub/fSeqno` (unique per package)         |
//! | `created_at` (Beijing time)      | `pub/TranDate`, `TranTime`, `in/SignTime` |
//! | number of lines / control sum    | `in/TotalNum`, `in/TotalAmt` (fen)        |
//! | `debtor.number` / `.name` (else `initiating_party`) | `rd/PayAccNo`, `rd/PayAccNameCN` |
//! | `initiating_party`               | read back from `PayAccNameCN` (no field)  |
//! | line index, 1-based              | `rd/iSeqno`                               |
//! | `end_to_end_id`                  | `rd/Ref` 业务编号: comes back in QHISD     |
//! | `instruction_id`                 | `rd/Oref` 相关业务编号                     |
//! | `amount` (CNY)                   | `rd/PayAmt` integer fen, `CurrType` 001   |
//! | `creditor` number/name           | `rd/RecAccNo`, `rd/RecAccNameCN`          |
//! | `creditor.bank_code` / `_name`   | `rd/RecBankNo`, `rd/RecBankName`; `SysIOFlg` 1 when the code is ICBC's (`102…`), 2 otherwise |
//! | `remittance`                     | `rd/PostScript` 附言 (≤ 60 GBK bytes): shown to the worker, echoed in history |
//! | connection's `purpose`           | `rd/UseCN` 用途 (≤ 20 GBK bytes), default 工资 |
//!
//! `Summary` 摘要 (≤ 20 bytes) is sent empty: the line's text goes to
//! `PostScript`, which has room for it.

use std::collections::HashSet;

use rust_decimal::Decimal;

use super::package::{self, Direction, ResponseStatus};
use super::tree::Element;
use super::values::{self, CURRENCY_RMB};
use super::write::CmsWriter;
use super::IcbcConnection;
use crate::error::{ReadError, WriteError};
use crate::model::{AccountRef, Amount, PaymentBatch, PaymentLine, StatusReport};

/// ICBC's limits, in GBK bytes (U3).
pub const USE_CN_MAX_BYTES: usize = 20;
/// `Summary` 摘要: we send it empty; the limit is here for a mapping that fills it.
pub const SUMMARY_MAX_BYTES: usize = 20;
pub const POSTSCRIPT_MAX_BYTES: usize = 60;

/// ICBC's bank code; CNAPS numbers of its branches start with it.
const ICBC_BANK_CODE: &str = "102";

/// Writes a PAYPER batch payment request as GBK bytes.
///
/// Refuses, rather than alters: an empty batch, a non-CNY line, an amount
/// with fractions of a fen or not positive, duplicate end-to-end ids (they
/// are how answers find their line), characters GBK cannot encode, fields
/// over ICBC's byte limits, and an execution date after the package date
/// (PAYPER pays on receipt; submit the batch on its execution date).
pub fn write_payper(batch: &PaymentBatch, conn: &IcbcConnection) -> Result<Vec<u8>, WriteError> {
    check_batch(batch)?;
    let total_fen = batch
        .lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            values::yuan_to_fen(line.amount.value, &format!("rd[{}]/PayAmt", i + 1), true)
        })
        .try_fold(0i64, |sum, fen| {
            fen.and_then(|f| {
                sum.checked_add(f).ok_or_else(|| WriteError::Invalid {
                    field: "in/TotalAmt".to_owned(),
                    message: "the batch total is too large".to_owned(),
                })
            })
        })?;
    // As in pain.001: the account holder's name, else the initiating party.
    let payer_name = batch
        .debtor
        .name
        .as_deref()
        .unwrap_or(&batch.initiating_party);

    let mut w = CmsWriter::new();
    w.set_context("pub/".to_owned());
    package::write_pub(
        &mut w,
        conn,
        "PAYPER",
        Some(batch.created_at),
        &batch.message_id,
        None,
    )?;
    w.set_context("in/".to_owned());
    w.open("in");
    w.field("OnlBatF", "1")?;
    w.field("SettleMode", conn.settle_mode.code())?;
    w.field("TotalNum", &batch.lines.len().to_string())?;
    w.field("TotalAmt", &total_fen.to_string())?;
    w.field("SignTime", &values::format_sign_time(batch.created_at))?;
    w.field("THBaseAccFlag", "0")?;
    w.empty("RegSerialNO");
    w.empty("PackageName");
    w.empty("TotalSummary");
    w.empty("BatchSumFlag");
    for (index, line) in batch.lines.iter().enumerate() {
        w.set_context(format!("rd[{}]/", index + 1));
        write_row(&mut w, conn, batch, payer_name, index, line)?;
    }
    w.close("in");
    w.finish()
}

fn check_batch(batch: &PaymentBatch) -> Result<(), WriteError> {
    if batch.lines.is_empty() {
        return Err(invalid("in/rd", "a batch needs at least one line"));
    }
    if batch.message_id.trim().is_empty() {
        return Err(invalid("pub/fSeqno", "the message id must not be empty"));
    }
    let package_date = values::beijing_date(batch.created_at);
    if batch.requested_execution_date > package_date {
        return Err(invalid(
            "requested_execution_date",
            &format!(
                "{} is after the package date {package_date}: PAYPER pays on receipt, \
                 so submit the batch on its execution date",
                batch.requested_execution_date
            ),
        ));
    }
    let mut seen = HashSet::new();
    for (i, line) in batch.lines.iter().enumerate() {
        if !seen.insert(line.end_to_end_id.as_str()) {
            return Err(invalid(
                &format!("rd[{}]/Ref", i + 1),
                &format!(
                    "end-to-end id {:?} is used twice in the batch",
                    line.end_to_end_id
                ),
            ));
        }
        if line.amount.currency != "CNY" {
            return Err(invalid(
                &format!("rd[{}]/CurrType", i + 1),
                &format!(
                    "ICBC PAYPER pays renminbi only, not {}",
                    line.amount.currency
                ),
            ));
        }
    }
    Ok(())
}

fn write_row(
    w: &mut CmsWriter,
    conn: &IcbcConnection,
    batch: &PaymentBatch,
    payer_name: &str,
    index: usize,
    line: &PaymentLine,
) -> Result<(), WriteError> {
    let fen = values::yuan_to_fen(
        line.amount.value,
        &format!("rd[{}]/PayAmt", index + 1),
        true,
    )?;
    let bank_code = line.creditor.bank_code.as_deref().unwrap_or("");
    let inside_icbc = match bank_code {
        "" => "",
        code if code.starts_with(ICBC_BANK_CODE) => "1",
        _ => "2",
    };
    w.open("rd");
    w.field("iSeqno", &(index + 1).to_string())?;
    w.empty("ReimburseNo");
    w.empty("ReimburseNum");
    w.empty("StartDate");
    w.empty("StartTime");
    w.field("PayType", conn.pay_type.code())?;
    w.required("PayAccNo", &batch.debtor.number)?;
    w.required("PayAccNameCN", payer_name)?;
    w.empty("PayAccNameEN");
    w.required("RecAccNo", &line.creditor.number)?;
    w.required("RecAccNameCN", line.creditor.name.as_deref().unwrap_or(""))?;
    w.empty("RecAccNameEN");
    w.field("SysIOFlg", inside_icbc)?;
    w.empty("IsSameCity");
    w.empty("RecICBCCode");
    w.empty("RecCityName");
    w.field("RecBankNo", bank_code)?;
    w.field(
        "RecBankName",
        line.creditor.bank_name.as_deref().unwrap_or(""),
    )?;
    w.field("CurrType", CURRENCY_RMB)?;
    w.field("PayAmt", &fen.to_string())?;
    w.empty("UseCode");
    w.limited("UseCN", &conn.purpose, USE_CN_MAX_BYTES)?;
    w.empty("EnSummary");
    w.limited(
        "PostScript",
        line.remittance.as_deref().unwrap_or(""),
        POSTSCRIPT_MAX_BYTES,
    )?;
    w.empty("Summary");
    w.required("Ref", &line.end_to_end_id)?;
    w.field("Oref", line.instruction_id.as_deref().unwrap_or(""))?;
    for tag in [
        "ERPSqn",
        "BusCode",
        "ERPcheckno",
        "CrvouhType",
        "CrvouhName",
        "CrvouhNo",
        "MCardNo",
        "MCardName",
    ] {
        w.empty(tag);
    }
    w.close("rd");
    Ok(())
}

/// Reads a PAYPER request back into a batch: the bank simulator's side, and
/// `bank-file inspect`.
///
/// A row without `Ref` (the public samples leave it empty) gets its
/// `iSeqno` as end-to-end id. `TotalNum` and `TotalAmt` must match the rows.
pub fn read_payper(bytes: &[u8]) -> Result<PaymentBatch, ReadError> {
    let package = super::parse(bytes)?;
    package.expect(&["PAYPER"], Direction::Request)?;
    let body = package.require_body()?;
    let created_at = package
        .header
        .created_at
        .ok_or_else(|| ReadError::Invalid {
            position: package.pub_position.clone(),
            message: "PAYPER needs TranDate and TranTime".to_owned(),
        })?;
    if package.header.f_seqno.is_empty() {
        return Err(ReadError::Invalid {
            position: package.pub_position.clone(),
            message: "PAYPER needs an fSeqno".to_owned(),
        });
    }

    let rows: Vec<&Element> = body.children_named("rd").collect();
    let first = rows
        .first()
        .ok_or_else(|| body.invalid("a PAYPER package needs at least one <rd>".to_owned()))?;
    let debtor = AccountRef {
        number: first.require("PayAccNo")?.to_owned(),
        name: first.opt_string("PayAccNameCN"),
        bank_code: None,
        bank_name: None,
    };
    let mut lines = Vec::with_capacity(rows.len());
    let mut total = Decimal::ZERO;
    let mut start_date = None;
    for row in &rows {
        if row.require("PayAccNo")? != debtor.number {
            return Err(row.invalid_at(
                "PayAccNo",
                "rows pay from different accounts; a batch has one debtor account".to_owned(),
            ));
        }
        let line = read_row(row)?;
        total += line.amount.value;
        if start_date.is_none() {
            start_date = row.opt("StartDate");
        }
        lines.push(line);
    }
    check_totals(body, rows.len(), total)?;
    let requested_execution_date = match start_date {
        Some(text) => values::parse_date(text).ok_or_else(|| {
            first.invalid_at("StartDate", format!("StartDate {text:?} is not yyyyMMdd"))
        })?,
        None => values::beijing_date(created_at),
    };
    Ok(PaymentBatch {
        message_id: package.header.f_seqno.clone(),
        created_at,
        requested_execution_date,
        initiating_party: debtor.name.clone().unwrap_or_default(),
        debtor,
        lines,
    })
}

fn read_row(row: &Element) -> Result<PaymentLine, ReadError> {
    let currency = row.text_of("CurrType");
    if !currency.is_empty() && currency != CURRENCY_RMB {
        return Err(row.invalid_at(
            "CurrType",
            format!("CurrType {currency:?} is not renminbi (001)"),
        ));
    }
    let amount_text = row.require("PayAmt")?;
    let value = values::fen_to_yuan(amount_text)
        .filter(|v| *v > Decimal::ZERO)
        .ok_or_else(|| {
            row.invalid_at(
                "PayAmt",
                format!("PayAmt {amount_text:?} is not a positive whole number of fen"),
            )
        })?;
    let end_to_end_id = match row.opt("Ref") {
        Some(reference) => reference.to_owned(),
        None => row.require("iSeqno")?.to_owned(),
    };
    Ok(PaymentLine {
        end_to_end_id,
        instruction_id: row.opt_string("Oref"),
        amount: Amount::cny(value),
        creditor: AccountRef {
            number: row.require("RecAccNo")?.to_owned(),
            name: row.opt_string("RecAccNameCN"),
            bank_code: row.opt_string("RecBankNo"),
            bank_name: row.opt_string("RecBankName"),
        },
        remittance: row.opt_string("PostScript"),
    })
}

fn check_totals(body: &Element, rows: usize, total: Decimal) -> Result<(), ReadError> {
    if let Some(count) = body.opt("TotalNum") {
        if count.parse::<usize>().ok() != Some(rows) {
            return Err(body.invalid_at(
                "TotalNum",
                format!("TotalNum is {count} but the package has {rows} rows"),
            ));
        }
    }
    if let Some(stated) = body.opt("TotalAmt") {
        if values::fen_to_yuan(stated) != Some(total) {
            return Err(body.invalid_at(
                "TotalAmt",
                format!("TotalAmt is {stated} fen but the rows add up to {total} yuan"),
            ));
        }
    }
    Ok(())
}

/// Writes the bank's PAYPER acknowledgement (the simulator's side): `pub`
/// only, as the one public capture shows, with `fSeqno` = the report's
/// `original_message_id`, `SerialNo` = its `message_id`, `RetCode` = its
/// `group_status_code` (default `0`) and `RetMsg` = the group reason text.
///
/// Row outcomes are not part of this answer; report them with QPAYPER.
pub fn write_payper_response(
    report: &StatusReport,
    conn: &IcbcConnection,
) -> Result<Vec<u8>, WriteError> {
    if !report.lines.is_empty() {
        return Err(invalid(
            "out/rd",
            "a PAYPER acknowledgement carries no row status; answer rows with QPAYPER",
        ));
    }
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
        "PAYPER",
        report.created_at,
        &report.original_message_id,
        Some(ResponseStatus {
            serial_no: Some(report.message_id.as_deref().unwrap_or("")),
            ret_code,
            ret_msg,
        }),
    )?;
    w.finish()
}

fn invalid(field: &str, message: &str) -> WriteError {
    WriteError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}
