//! QHISD (历史明细查询): account history, one page per request, and QPD
//! (当日明细, today's detail), which has the same rows with one `Amount`.
//!
//! Mapping of a history row (`rd`) to an [`Entry`]:
//!
//! | QHISD `rd`                        | Entry / TransactionDetail                     |
//! |-----------------------------------|-----------------------------------------------|
//! | `Drcrf` 1 / 2                     | direction Debit (money out) / Credit (money in) |
//! | `DebitAmount` / `CreditAmount` (fen; QPD: `Amount`) | `amount` of the side `Drcrf` names |
//! | `Balance` (fen)                   | running balance: gives the page's opening and closing balance |
//! | `Date` (QPD: `TimeStamp`)         | `booking_date`                               |
//! | `ValueDate`                       | `value_date`                                 |
//! | `OnlySequence` (QPD: `SequenceNo`) | `account_servicer_reference`: the bank's unique row id |
//! | `UpDtranf` ≠ 0                    | `reversal` (冲正, inferred)                   |
//! | `Summary` 摘要                    | `additional_info`                            |
//! | `Ref` / `Oref`                    | transaction `end_to_end_id` / `instruction_id` (our PAYPER `Ref`/`Oref` come back here) |
//! | `PostScript` 附言                 | transaction `remittance`                      |
//! | `RecipAccNo`, `RecipName`, `RecipBkNo1`/`RecipBkNo`, `RecipBkName1`/`RecipBkName` | transaction `counterparty` (the `…1` fields are authoritative) |
//! | `RefundMsg` 跨行退回原因          | transaction `return_reason`                  |
//!
//! QHISD states no opening or closing balance, only the balance after each
//! row. When the rows chain (each balance is the previous one plus this
//! row's credit or minus its debit), in either order (`DesByTime`), the page's
//! opening and closing balances follow; when they do not, both stay `None`
//! rather than guessed. Amounts are fen (inferred: FIELDS.md).
//!
//! At about 650 lines it keeps QHISD's request, answer and paging together, the
//! way the bank documents them.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::package::{self, Direction as CmsDirection, ResponseStatus};
use super::tree::Element;
use super::values::{self, CURRENCY_RMB};
use super::write::CmsWriter;
use super::IcbcConnection;
use crate::error::{ReadError, WriteError};
use crate::model::{
    AccountRef, Amount, Balance, Direction, Entry, EntryStatus, StatedSummary, Statement,
    StatementKind, TransactionDetail,
};
use crate::read_options::ReadOptions;

/// `MaxAmt` sent when we want every row (the samples' "no upper limit").
const MAX_AMOUNT_FEN: &str = "99999999999999999";

/// A QHISD request: one page of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// This query's package id (`fSeqno`).
    pub message_id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// 查询账号.
    pub account: String,
    /// 起始日期 and 截止日期, inclusive.
    pub begin: NaiveDate,
    pub end: NaiveDate,
    /// 查询下页标识: `None` for the first page, then the previous page's
    /// `NextTag`, sent back unchanged.
    pub next_tag: Option<String>,
}

/// One page of account history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPage {
    pub statement: Statement,
    /// `NextTag`: more rows follow; ask again with this tag. `None` on the
    /// last page. Opaque (one capture has a DB2 timestamp) and may hold `&`.
    pub next_tag: Option<String>,
}

/// Writes a QHISD request for every row (`MinAmt` 0, no upper limit),
/// oldest first (`DesByTime` 0).
pub fn write_qhisd_request(
    query: &HistoryQuery,
    conn: &IcbcConnection,
) -> Result<Vec<u8>, WriteError> {
    if query.begin > query.end {
        return Err(WriteError::Invalid {
            field: "in/BeginDate".to_owned(),
            message: format!("{} is after the end date {}", query.begin, query.end),
        });
    }
    let mut w = CmsWriter::new();
    w.set_context("pub/".to_owned());
    package::write_pub(
        &mut w,
        conn,
        "QHISD",
        Some(query.created_at),
        &query.message_id,
        None,
    )?;
    w.set_context("in/".to_owned());
    w.open("in");
    w.required("AccNo", &query.account)?;
    w.field("BeginDate", &values::format_date(query.begin))?;
    w.field("EndDate", &values::format_date(query.end))?;
    w.field("MinAmt", "0")?;
    w.field("MaxAmt", MAX_AMOUNT_FEN)?;
    w.empty("BankType");
    w.field("NextTag", query.next_tag.as_deref().unwrap_or(""))?;
    w.field("CurrType", CURRENCY_RMB)?;
    w.empty("DueBillNo");
    w.empty("AcctSeq");
    w.field("ComplementFlag", "0")?;
    w.empty("CardAccNoDef");
    w.field("DesByTime", "0")?;
    w.close("in");
    w.finish()
}

/// Reads a QHISD request (the bank simulator's side).
pub fn read_qhisd_request(bytes: &[u8]) -> Result<HistoryQuery, ReadError> {
    let package = super::parse(bytes)?;
    package.expect(&["QHISD"], CmsDirection::Request)?;
    let body = package.require_body()?;
    let date = |name: &str| -> Result<NaiveDate, ReadError> {
        let text = body.require(name)?;
        values::parse_date(text)
            .ok_or_else(|| body.invalid_at(name, format!("{name} {text:?} is not yyyyMMdd")))
    };
    Ok(HistoryQuery {
        message_id: package.header.f_seqno.clone(),
        created_at: package
            .header
            .created_at
            .ok_or_else(|| ReadError::Invalid {
                position: package.pub_position.clone(),
                message: "QHISD needs TranDate and TranTime".to_owned(),
            })?,
        account: body.require("AccNo")?.to_owned(),
        begin: date("BeginDate")?,
        end: date("EndDate")?,
        next_tag: body.opt_string("NextTag"),
    })
}

/// Reads a QHISD (or QPD) answer into a [`StatementKind::History`]
/// statement; see [`read_qhisd_page`] for the paging tag.
pub fn read_qhisd(bytes: &[u8]) -> Result<Statement, ReadError> {
    read_qhisd_page(bytes).map(|page| page.statement)
}

/// [`read_qhisd`], local times read at the options' offset.
pub fn read_qhisd_with(bytes: &[u8], options: &ReadOptions) -> Result<Statement, ReadError> {
    read_qhisd_page_with(bytes, options).map(|page| page.statement)
}

/// Reads one page of a QHISD (or QPD) answer, with its `NextTag`.
///
/// `statement_id` is the package's `fSeqno`; `from`/`to` are the start of
/// `BeginDate` and the end of `EndDate` in Beijing time; `stated_summary`
/// holds `TotalNum`. A non-zero `RetCode` is an error: the bank did not
/// answer the query.
pub fn read_qhisd_page(bytes: &[u8]) -> Result<HistoryPage, ReadError> {
    read_qhisd_page_with(bytes, &ReadOptions::default())
}

/// [`read_qhisd_page`] with the caller's [`ReadOptions`]: `TranDate`/
/// `TranTime`, `BeginDate`/`EndDate` and each row's `Date`+`Time` are local
/// times at `utc_offset` (Beijing time by default).
pub fn read_qhisd_page_with(bytes: &[u8], options: &ReadOptions) -> Result<HistoryPage, ReadError> {
    let package = super::parse_with(bytes, options)?;
    package.expect(&["QHISD", "QPD"], CmsDirection::Response)?;
    let header = &package.header;
    let ret_code = header.ret_code.as_deref().unwrap_or("");
    if ret_code != "0" {
        return Err(ReadError::Invalid {
            position: package.pub_position.clone(),
            message: format!(
                "the bank refused the {} query: RetCode {ret_code:?} {}",
                header.trans_code,
                header.ret_msg.as_deref().unwrap_or("")
            ),
        });
    }
    let body = package.require_body()?;
    let currency = body.text_of("CurrType");
    if !currency.is_empty() && currency != CURRENCY_RMB {
        return Err(body.invalid_at(
            "CurrType",
            format!("CurrType {currency:?} is not renminbi (001)"),
        ));
    }
    let rows = body
        .children_named("rd")
        .map(|row| read_row(row, options))
        .collect::<Result<Vec<_>, _>>()?;
    let (opening, closing) = balances_from_chain(&rows);
    let entry_count = match body.opt("TotalNum") {
        Some(text) => Some(text.parse::<u64>().map_err(|_| {
            body.invalid_at("TotalNum", format!("TotalNum {text:?} is not a number"))
        })?),
        None => None,
    };
    let optional_date = |name: &str| -> Result<Option<NaiveDate>, ReadError> {
        body.opt(name)
            .map(|text| {
                values::parse_date(text).ok_or_else(|| {
                    body.invalid_at(name, format!("{name} {text:?} is not yyyyMMdd"))
                })
            })
            .transpose()
    };
    let statement = Statement {
        kind: StatementKind::History,
        statement_id: header.f_seqno.clone(),
        sequence_number: None,
        created_at: header.created_at,
        account: AccountRef {
            number: body.require("AccNo")?.to_owned(),
            name: body.opt_string("AccName"),
            bank_code: None,
            bank_name: None,
        },
        currency: (!currency.is_empty()).then(|| "CNY".to_owned()),
        from: optional_date("BeginDate")?
            .and_then(|day| values::start_of_day_at(day, options.utc_offset)),
        to: optional_date("EndDate")?
            .and_then(|day| values::end_of_day_at(day, options.utc_offset)),
        opening_balance: opening.map(cny_balance),
        closing_balance: closing.map(cny_balance),
        available_balance: None,
        stated_summary: entry_count.map(|n| StatedSummary {
            entry_count: Some(n),
            ..StatedSummary::default()
        }),
        entries: rows.into_iter().map(|row| row.entry).collect(),
    };
    Ok(HistoryPage {
        statement,
        next_tag: body.opt_string("NextTag"),
    })
}

fn cny_balance(value: Decimal) -> Balance {
    Balance {
        amount: Amount::cny(value),
        date: None,
    }
}

/// A row with the balance after it (QHISD has one, QPD does not).
struct Row {
    entry: Entry,
    balance_after: Option<Decimal>,
}

impl Row {
    /// What the row does to the balance.
    fn effect(&self) -> Decimal {
        match self.entry.direction {
            Direction::Credit => self.entry.amount.value,
            Direction::Debit => -self.entry.amount.value,
        }
    }
}

fn read_row(row: &Element, options: &ReadOptions) -> Result<Row, ReadError> {
    let flag = row.require("Drcrf")?;
    let (direction, amount_field) = match flag {
        "1" => (Direction::Debit, "DebitAmount"),
        "2" => (Direction::Credit, "CreditAmount"),
        other => {
            return Err(row.invalid_at(
                "Drcrf",
                format!("Drcrf {other:?} is neither 1 (debit, money out) nor 2 (credit, money in)"),
            ))
        }
    };
    // QPD rows state a single Amount; QHISD rows one column per side.
    let amount_field = if row.child(amount_field).is_none() && row.child("Amount").is_some() {
        "Amount"
    } else {
        amount_field
    };
    let amount_text = row.require(amount_field)?;
    let amount = values::fen_to_yuan(amount_text)
        .filter(|v| *v >= Decimal::ZERO)
        .ok_or_else(|| {
            row.invalid_at(
                amount_field,
                format!("{amount_field} {amount_text:?} is not a whole number of fen"),
            )
        })?;
    let balance_after = match row.opt("Balance") {
        Some(text) => Some(values::fen_to_yuan(text).ok_or_else(|| {
            row.invalid_at(
                "Balance",
                format!("Balance {text:?} is not a whole number of fen"),
            )
        })?),
        None => None,
    };
    let date_field = if row.child("Date").is_some() {
        "Date"
    } else {
        "TimeStamp"
    };
    let booking_date = parse_optional_date(row, date_field)?;
    let booked_at = booking_time(row, date_field, booking_date, options)?;
    let value_date = parse_optional_date(row, "ValueDate")?;
    let counterparty = AccountRef {
        number: row.text_of("RecipAccNo").to_owned(),
        name: row.opt_string("RecipName"),
        bank_code: row
            .opt_string("RecipBkNo1")
            .or_else(|| row.opt_string("RecipBkNo")),
        bank_name: row
            .opt_string("RecipBkName1")
            .or_else(|| row.opt_string("RecipBkName")),
    };
    let has_counterparty = !counterparty.number.is_empty()
        || counterparty.name.is_some()
        || counterparty.bank_code.is_some()
        || counterparty.bank_name.is_some();
    let amount = Amount::cny(amount);
    let detail = TransactionDetail {
        amount: Some(amount.clone()),
        direction: Some(direction),
        end_to_end_id: row.opt_string("Ref"),
        message_id: None,
        payment_information_id: None,
        instruction_id: row.opt_string("Oref"),
        account_servicer_reference: None,
        counterparty: has_counterparty.then_some(counterparty),
        remittance: row.opt_string("PostScript"),
        return_reason: row.opt_string("RefundMsg"),
    };
    let entry = Entry {
        amount,
        direction,
        status: EntryStatus::Booked,
        reversal: row.opt("UpDtranf").is_some_and(|flag| flag != "0"),
        booking_date,
        value_date,
        booked_at,
        bank_reference: None,
        account_servicer_reference: row
            .opt_string("OnlySequence")
            .or_else(|| row.opt_string("SequenceNo")),
        additional_info: row.opt_string("Summary"),
        transactions: vec![detail],
        batch: None,
    };
    Ok(Row {
        entry,
        balance_after,
    })
}

/// The row's booking instant: QHISD `Time` (a DB2 timestamp, or a time on
/// `Date`), or QPD's `TimeStamp`; `None` when the row gives no time.
fn booking_time(
    row: &Element,
    date_field: &str,
    date: Option<NaiveDate>,
    options: &ReadOptions,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ReadError> {
    let name = if date_field == "TimeStamp" {
        "TimeStamp"
    } else {
        "Time"
    };
    let Some(text) = row.opt(name) else {
        return Ok(None);
    };
    values::parse_row_time(date, text, options.utc_offset)
        .map(Some)
        .ok_or_else(|| {
            row.invalid_at(
                name,
                format!("{name} {text:?} is not a time (yyyy-MM-dd-HH.mm.ss.ffffff or HHmmss)"),
            )
        })
}

fn parse_optional_date(row: &Element, name: &str) -> Result<Option<NaiveDate>, ReadError> {
    row.opt(name)
        .map(|text| {
            values::parse_date(text).ok_or_else(|| {
                row.invalid_at(
                    name,
                    format!("{name} {text:?} is not a date (yyyyMMdd or yyyy-MM-dd)"),
                )
            })
        })
        .transpose()
}

/// Opening and closing balance of a page whose rows chain, oldest first or
/// newest first; `(None, None)` when they do not or a balance is missing.
fn balances_from_chain(rows: &[Row]) -> (Option<Decimal>, Option<Decimal>) {
    let Some(balances) = rows
        .iter()
        .map(|r| r.balance_after)
        .collect::<Option<Vec<_>>>()
    else {
        return (None, None);
    };
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return (None, None);
    };
    let ascending = (1..rows.len()).all(|i| balances[i] == balances[i - 1] + rows[i].effect());
    if ascending {
        return (Some(balances[0] - first.effect()), balances.last().copied());
    }
    let descending = (1..rows.len()).all(|i| balances[i - 1] == balances[i] + rows[i - 1].effect());
    if descending {
        let oldest = balances[rows.len() - 1];
        return (Some(oldest - last.effect()), Some(balances[0]));
    }
    (None, None)
}

/// Writes a QHISD answer page (the bank simulator's side).
///
/// Rows are written in the statement's order, oldest first, each with the
/// running balance from `opening_balance` (required when there are entries;
/// a stated `closing_balance` must agree with it). `fSeqno` =
/// `statement_id`. Each entry may carry at most one transaction (a history
/// row is one booking); `bank_reference` has no QHISD field and is not
/// written.
pub fn write_qhisd_response(
    statement: &Statement,
    next_tag: Option<&str>,
    conn: &IcbcConnection,
) -> Result<Vec<u8>, WriteError> {
    let currency = match statement.currency.as_deref() {
        None => "",
        Some("CNY") => CURRENCY_RMB,
        Some(other) => {
            return Err(invalid(
                "out/CurrType",
                &format!("QHISD here carries renminbi only, not {other}"),
            ))
        }
    };
    let balances = running_balances(statement)?;
    let mut w = CmsWriter::new();
    w.set_context("pub/".to_owned());
    package::write_pub(
        &mut w,
        conn,
        "QHISD",
        statement.created_at,
        &statement.statement_id,
        Some(ResponseStatus {
            serial_no: None,
            ret_code: "0",
            ret_msg: "",
        }),
    )?;
    w.set_context("out/".to_owned());
    w.open("out");
    w.required("AccNo", &statement.account.number)?;
    w.field("AccName", statement.account.name.as_deref().unwrap_or(""))?;
    w.field("CurrType", currency)?;
    let day = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|t| values::format_date(values::beijing_date(t)))
            .unwrap_or_default()
    };
    w.field("BeginDate", &day(statement.from))?;
    w.field("EndDate", &day(statement.to))?;
    w.field("MinAmt", "0")?;
    w.field("MaxAmt", MAX_AMOUNT_FEN)?;
    w.empty("BankType");
    w.field("NextTag", next_tag.unwrap_or(""))?;
    w.field("TotalNum", &statement.entries.len().to_string())?;
    w.empty("DueBillNo");
    w.empty("AcctSeq");
    w.field("ComplementFlag", "0")?;
    for (index, (entry, balance)) in statement.entries.iter().zip(balances).enumerate() {
        w.set_context(format!("out/rd[{}]/", index + 1));
        write_row(&mut w, index, entry, balance)?;
    }
    w.close("out");
    w.finish()
}

/// The balance after each entry, from the opening balance.
fn running_balances(statement: &Statement) -> Result<Vec<i64>, WriteError> {
    if statement.entries.is_empty() {
        return Ok(Vec::new());
    }
    let opening = statement.opening_balance.as_ref().ok_or_else(|| {
        invalid(
            "opening_balance",
            "QHISD rows carry the balance after each booking; give the opening balance",
        )
    })?;
    let mut balance = values::yuan_to_fen(opening.amount.value, "opening_balance", false)?;
    let mut out = Vec::with_capacity(statement.entries.len());
    for (i, entry) in statement.entries.iter().enumerate() {
        let field = format!("out/rd[{}]/amount", i + 1);
        let fen = values::yuan_to_fen(entry.amount.value, &field, false)?;
        if fen < 0 {
            return Err(invalid(
                &field,
                "amounts are positive; the direction gives the sign",
            ));
        }
        let next = match entry.direction {
            Direction::Credit => balance.checked_add(fen),
            Direction::Debit => balance.checked_sub(fen),
        };
        balance = next.ok_or_else(|| invalid(&field, "the balance overflows"))?;
        out.push(balance);
    }
    if let Some(closing) = &statement.closing_balance {
        let stated = values::yuan_to_fen(closing.amount.value, "closing_balance", false)?;
        if stated != balance {
            return Err(invalid(
                "closing_balance",
                &format!(
                    "{} does not follow from the opening balance and the entries ({})",
                    closing.amount.value,
                    Decimal::new(balance, 2)
                ),
            ));
        }
    }
    Ok(out)
}

fn write_row(
    w: &mut CmsWriter,
    index: usize,
    entry: &Entry,
    balance: i64,
) -> Result<(), WriteError> {
    if entry.amount.currency != "CNY" {
        return Err(invalid(
            &format!("out/rd[{}]/amount", index + 1),
            &format!(
                "QHISD here carries renminbi only, not {}",
                entry.amount.currency
            ),
        ));
    }
    if entry.transactions.len() > 1 {
        return Err(invalid(
            &format!("out/rd[{}]", index + 1),
            "a history row is one booking; split batch bookings into one entry per transaction",
        ));
    }
    let detail = entry.transactions.first().cloned().unwrap_or_default();
    let counterparty = detail.counterparty.clone().unwrap_or_default();
    let fen = values::yuan_to_fen(entry.amount.value, "amount", false)?.to_string();
    let (flag, debit, credit) = match entry.direction {
        Direction::Debit => ("1", fen.as_str(), "0"),
        Direction::Credit => ("2", "0", fen.as_str()),
    };
    let bank_no = counterparty.bank_code.as_deref().unwrap_or("");
    let bank_name = counterparty.bank_name.as_deref().unwrap_or("");
    w.open("rd");
    w.field("Drcrf", flag)?;
    w.field("VouhNo", "0")?;
    w.field("DebitAmount", debit)?;
    w.field("CreditAmount", credit)?;
    w.field("Balance", &balance.to_string())?;
    w.field("RecipBkNo", bank_no)?;
    w.field("RecipBkName", bank_name)?;
    w.field("RecipAccNo", &counterparty.number)?;
    w.field("RecipName", counterparty.name.as_deref().unwrap_or(""))?;
    w.field("Summary", entry.additional_info.as_deref().unwrap_or(""))?;
    w.empty("UseCN");
    w.field("PostScript", detail.remittance.as_deref().unwrap_or(""))?;
    w.empty("BusCode");
    w.field(
        "Date",
        &entry
            .booking_date
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
    )?;
    w.empty("Time");
    w.field("Ref", detail.end_to_end_id.as_deref().unwrap_or(""))?;
    w.field("Oref", detail.instruction_id.as_deref().unwrap_or(""))?;
    for tag in ["EnSummary", "BusType", "VouhType", "AddInfo", "Toutfo"] {
        w.empty(tag);
    }
    w.field(
        "OnlySequence",
        entry.account_servicer_reference.as_deref().unwrap_or(""),
    )?;
    w.empty("AgentAcctName");
    w.empty("AgentAcctNo");
    w.field("UpDtranf", if entry.reversal { "1" } else { "0" })?;
    w.field(
        "ValueDate",
        &entry
            .value_date
            .map(values::format_date)
            .unwrap_or_default(),
    )?;
    for tag in [
        "TrxCode",
        "Ref1",
        "Oref1",
        "CASHF",
        "BusiDate",
        "BusiTime",
        "SeqNo",
        "MgNo",
        "MgAccNo",
        "MgCurrType",
        "CashExf",
        "DetailNo",
        "Remark",
        "TradeTime",
        "TradeFee",
        "TradeLocation",
        "ExRate",
        "ForCurrtype",
        "EnAbstract",
        "OpenBankNo",
        "OpenBankBIC",
        "OpenBankName",
        "SubAcctSeq",
        "THCurrency",
    ] {
        w.empty(tag);
    }
    w.field("RecipBkName1", bank_name)?;
    w.field("RecipBkNo1", bank_no)?;
    w.empty("TInfoNew");
    w.field("RefundMsg", detail.return_reason.as_deref().unwrap_or(""))?;
    for tag in [
        "BusTypNo",
        "ReceiptInfo",
        "TelNo",
        "MDCARDNO",
        "TrxAmt",
        "TrxCurr",
    ] {
        w.empty(tag);
    }
    w.close("rd");
    Ok(())
}

fn invalid(field: &str, message: &str) -> WriteError {
    WriteError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}
