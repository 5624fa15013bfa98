//! Reading helpers shared by the pain.002 and camt readers: walking an
//! element's children, and parsing ISO 20022 values (dates, amounts, codes)
//! with errors that point into the file.

use std::io::BufRead;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;

use crate::error::ReadError;
use crate::model::{AccountRef, Amount, Direction};
use crate::read_options::ReadOptions;
use crate::xml::{Node, XmlReader};

/// Advances to the next direct child of the element at `depth` (the depth
/// of the element whose children are walked). `true`: positioned on the
/// child's `Start`; `false`: the element ended. Stray text is ignored.
/// The caller must consume each child (read it, or `skip` it).
pub(crate) fn next_child<R: BufRead>(
    r: &mut XmlReader<R>,
    depth: usize,
) -> Result<bool, ReadError> {
    loop {
        match r.next()? {
            Node::Start => return Ok(true),
            Node::End if r.depth() <= depth => return Ok(false),
            Node::End | Node::Text => {}
            Node::Eof => return Err(r.invalid("unexpected end of document")),
        }
    }
}

/// A code given either as text (`<Sts>BOOK</Sts>`, up to `.04`) or as one
/// child (`<Sts><Cd>BOOK</Cd></Sts>`, `.08`; also `Prtry`).
pub(crate) fn read_code<R: BufRead>(r: &mut XmlReader<R>) -> Result<Option<String>, ReadError> {
    let depth = r.depth();
    let mut code = None;
    loop {
        match r.next()? {
            Node::Text => {
                let text = r.text().trim();
                if !text.is_empty() {
                    code = Some(text.to_owned());
                }
            }
            Node::Start => match r.name() {
                "Cd" | "Prtry" => code = non_empty(r.read_text()?),
                _ => r.skip()?,
            },
            Node::End if r.depth() <= depth => return Ok(code),
            Node::End => {}
            Node::Eof => return Err(r.invalid("unexpected end of document")),
        }
    }
}

pub(crate) fn non_empty(text: String) -> Option<String> {
    if text.is_empty() {
        None
    } else {
        Some(text)
    }
}

/// Reads the element's text as an optional value (empty → `None`).
pub(crate) fn opt_text<R: BufRead>(r: &mut XmlReader<R>) -> Result<Option<String>, ReadError> {
    let text = r.read_text_str()?;
    Ok((!text.is_empty()).then(|| text.to_owned()))
}

/// Reads the element's text and parses it without keeping the text; a
/// parse failure is `Invalid` at the element's end.
pub(crate) fn read_parsed<R: BufRead, T>(
    r: &mut XmlReader<R>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, ReadError> {
    let parsed = parse(r.read_text_str()?);
    parsed.map_err(|message| r.invalid(message))
}

/// `xs:dateTime`, with or without offset; a time without offset is read at
/// `options.utc_offset` (ISO 20022 leaves it to bilateral agreement: the
/// connection's time zone). One with an offset or `Z` is read as written.
pub(crate) fn date_time_at(text: &str, options: &ReadOptions) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(options.instant(at));
    }
    Err(format!("{text:?} is not a date and time"))
}

pub(crate) fn parse_date_time<R: BufRead>(
    r: &XmlReader<R>,
    text: &str,
    options: &ReadOptions,
) -> Result<DateTime<Utc>, ReadError> {
    date_time_at(text, options).map_err(|message| r.invalid(message))
}

/// `xs:date` (an offset after the date is ignored), or the date part of an
/// `xs:dateTime` as written (the bank's local date).
pub(crate) fn date(text: &str) -> Result<NaiveDate, String> {
    let day = text.get(..10).unwrap_or(text);
    // The usual `YYYY-MM-DD` without going through a format string.
    if let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *day.as_bytes() {
        let digits = [y1, y2, y3, y4, m1, m2, d1, d2];
        if digits.iter().all(u8::is_ascii_digit) {
            let number = |ds: &[u8]| ds.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
            let year = number(&digits[..4]) as i32;
            if let Some(date) =
                NaiveDate::from_ymd_opt(year, number(&digits[4..6]), number(&digits[6..]))
            {
                return Ok(date);
            }
        }
    }
    NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| format!("{text:?} is not a date"))
}

pub(crate) fn decimal(text: &str) -> Result<Decimal, String> {
    Decimal::from_str(text).map_err(|_| format!("{text:?} is not a decimal number"))
}

pub(crate) fn count(text: &str) -> Result<u64, String> {
    if let Ok(n) = text.parse::<u64>() {
        return Ok(n);
    }
    // `Number` is an xs:decimal with no fraction digits; accept "3.0".
    match Decimal::from_str(text) {
        Ok(d) if d.fract().is_zero() && !d.is_sign_negative() => {
            u64::try_from(d.trunc()).map_err(|_| format!("{text:?} is not a count"))
        }
        _ => Err(format!("{text:?} is not a count")),
    }
}

pub(crate) fn direction(text: &str) -> Result<Direction, String> {
    match text {
        "CRDT" => Ok(Direction::Credit),
        "DBIT" => Ok(Direction::Debit),
        other => Err(format!("{other:?} is neither CRDT nor DBIT")),
    }
}

pub(crate) fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!("{other:?} is not true or false")),
    }
}

/// Call on an amount element's `Start`: `<Amt Ccy="EUR">1.00</Amt>`.
pub(crate) fn read_amount<R: BufRead>(r: &mut XmlReader<R>) -> Result<Amount, ReadError> {
    let currency = r.attribute("Ccy")?.unwrap_or_default();
    let value = read_parsed(r, decimal)?;
    if currency.is_empty() {
        return Err(r.invalid("amount without currency (Ccy)"));
    }
    Ok(Amount { value, currency })
}

/// Call on a date choice's `Start`: `<X><Dt>…</Dt></X>` or `<X><DtTm>…</DtTm></X>`.
pub(crate) fn read_date_choice<R: BufRead>(
    r: &mut XmlReader<R>,
) -> Result<Option<NaiveDate>, ReadError> {
    read_date_choice_at(r, &ReadOptions::default()).map(|(date, _)| date)
}

/// A date choice's date as written (the bank's own day) and, for `DtTm`,
/// the instant (an offset-less time read at `options.utc_offset`).
pub(crate) fn read_date_choice_at<R: BufRead>(
    r: &mut XmlReader<R>,
    options: &ReadOptions,
) -> Result<(Option<NaiveDate>, Option<DateTime<Utc>>), ReadError> {
    let depth = r.depth();
    let mut date = None;
    let mut at = None;
    while next_child(r, depth)? {
        match r.name() {
            "Dt" => date = Some(read_parsed(r, self::date)?),
            "DtTm" => {
                let (day, instant) = read_parsed(r, |text| {
                    Ok::<_, String>((self::date(text)?, date_time_at(text, options)?))
                })?;
                date = Some(day);
                at = Some(instant);
            }
            _ => r.skip()?,
        }
    }
    Ok((date, at))
}

/// Call on an account's `Start` (`CashAccount*`): fills the number from
/// `Id/IBAN` or `Id/Othr/Id`, the name from `Nm` (or `Ownr/Nm`), the bank
/// from `Svcr`; returns the account currency (`Ccy`) too.
pub(crate) fn read_account<R: BufRead>(
    r: &mut XmlReader<R>,
    account: &mut AccountRef,
) -> Result<Option<String>, ReadError> {
    let depth = r.depth();
    let mut currency = None;
    let mut own_name = None;
    while next_child(r, depth)? {
        match r.name() {
            "Id" => {
                if let Some(number) = read_account_id(r)? {
                    account.number = number;
                }
            }
            "Ccy" => currency = opt_text(r)?,
            "Nm" => own_name = opt_text(r)?,
            "Ownr" => {
                if let Some(name) = read_party_name(r)? {
                    account.name = Some(name);
                }
            }
            "Svcr" => read_agent(r, account)?,
            _ => r.skip()?,
        }
    }
    if account.name.is_none() {
        account.name = own_name;
    }
    Ok(currency)
}

/// Call on `Id` of an account: `IBAN` or `Othr/Id`.
pub(crate) fn read_account_id<R: BufRead>(
    r: &mut XmlReader<R>,
) -> Result<Option<String>, ReadError> {
    let depth = r.depth();
    let mut number = None;
    while next_child(r, depth)? {
        match r.name() {
            "IBAN" => number = opt_text(r)?,
            "Othr" => {
                let inner = r.depth();
                while next_child(r, inner)? {
                    match r.name() {
                        "Id" => number = opt_text(r)?,
                        _ => r.skip()?,
                    }
                }
            }
            _ => r.skip()?,
        }
    }
    Ok(number)
}

/// Call on a party's `Start`: its name, from `Nm` (`PartyIdentification`,
/// up to `.04`) or `Pty/Nm` (`Party40Choice`, `.08`), or an agent's
/// `Agt/FinInstnId/Nm`.
pub(crate) fn read_party_name<R: BufRead>(
    r: &mut XmlReader<R>,
) -> Result<Option<String>, ReadError> {
    let depth = r.depth();
    let mut name = None;
    while next_child(r, depth)? {
        match r.name() {
            "Nm" => name = opt_text(r)?,
            "Pty" => name = read_party_name(r)?,
            "Agt" => {
                let mut bank = AccountRef::default();
                read_agent(r, &mut bank)?;
                name = bank.bank_name;
            }
            _ => r.skip()?,
        }
    }
    Ok(name)
}

/// Call on an agent's `Start` (`BranchAndFinancialInstitutionIdentification*`):
/// bank code from `BIC`/`BICFI`, else `ClrSysMmbId/MmbId`, else `Othr/Id`;
/// bank name from `Nm`.
pub(crate) fn read_agent<R: BufRead>(
    r: &mut XmlReader<R>,
    bank: &mut AccountRef,
) -> Result<(), ReadError> {
    let depth = r.depth();
    let (mut bic, mut member, mut other) = (None, None, None);
    while next_child(r, depth)? {
        if r.name() != "FinInstnId" {
            r.skip()?;
            continue;
        }
        let inner = r.depth();
        while next_child(r, inner)? {
            match r.name() {
                "BIC" | "BICFI" => bic = opt_text(r)?,
                "Nm" => bank.bank_name = opt_text(r)?,
                "ClrSysMmbId" | "Othr" => {
                    let is_member = r.name() == "ClrSysMmbId";
                    let level = r.depth();
                    while next_child(r, level)? {
                        match r.name() {
                            "MmbId" | "Id" => {
                                let value = opt_text(r)?;
                                if is_member {
                                    member = value;
                                } else {
                                    other = value;
                                }
                            }
                            _ => r.skip()?,
                        }
                    }
                }
                _ => r.skip()?,
            }
        }
    }
    // `NOTPROVIDED` is the EPC placeholder for "no identifier", not a code.
    let other = other.filter(|code| code != "NOTPROVIDED");
    bank.bank_code = bic.or(member).or(other);
    Ok(())
}
