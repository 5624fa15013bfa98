//! A small, fast XML text builder for the ISO 20022 writers.
//!
//! No DOM: elements go straight into one `String`, escaped by hand. Every
//! text value is checked against its schema facet before it is written, and
//! a value that does not fit is refused with a `WriteError` naming the field;
//! nothing is ever cut, trimmed or replaced.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;

use crate::error::WriteError;
use crate::model::{AccountRef, Amount, Direction};

/// Builds XML into a `String`, one element per line, indented or not.
pub(crate) struct Out {
    pub(crate) buf: String,
    depth: usize,
    /// Indent by nesting depth. Payment files go out flat: banks read them by
    /// machine, flat they are a third smaller and faster to build, and
    /// `xmllint --format` or `wagebridge bank-file inspect` shows them to people.
    indented: bool,
    /// Prefix of field names in errors, e.g. `lines[17].`; set per item.
    context: String,
    /// Or, cheaper to set per item: `lines` and 17 stand for `lines[17].`.
    item: Option<(&'static str, usize)>,
}

/// Indentation for up to 32 levels, sliced instead of pushed level by level.
const SPACES: &str = "                                                                ";

impl Out {
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Out {
            buf: String::with_capacity(capacity),
            depth: 0,
            indented: true,
            context: String::new(),
            item: None,
        }
    }

    /// Field names in later errors start with `context` (e.g. `lines[3].`).
    pub(crate) fn set_context(&mut self, context: impl FnOnce(&mut String)) {
        self.item = None;
        self.context.clear();
        context(&mut self.context);
    }

    /// Field names in later errors start with `list[index].`; nothing is
    /// formatted unless an error needs it.
    pub(crate) fn set_item(&mut self, list: &'static str, index: usize) {
        self.context.clear();
        self.item = Some((list, index));
    }

    pub(crate) fn clear_context(&mut self) {
        self.item = None;
        self.context.clear();
    }

    pub(crate) fn field(&self, name: &str) -> String {
        match self.item {
            Some((list, index)) => format!("{list}[{index}].{name}"),
            None => format!("{}{}", self.context, name),
        }
    }

    pub(crate) fn declaration(&mut self) {
        self.buf
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    }

    /// Without indentation (still one element per line).
    pub(crate) fn flat(mut self) -> Self {
        self.indented = false;
        self
    }

    #[inline]
    fn indent(&mut self) {
        if !self.indented {
            return;
        }
        match SPACES.get(..2 * self.depth) {
            Some(spaces) => self.buf.push_str(spaces),
            None => {
                for _ in 0..self.depth {
                    self.buf.push_str("  ");
                }
            }
        }
    }

    /// `<tag>` on its own line.
    pub(crate) fn open(&mut self, tag: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
        self.depth += 1;
    }

    /// `<tag attrs>` where `attrs` is already well formed (` k="v"`).
    pub(crate) fn open_with(&mut self, tag: &str, attrs: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(attrs);
        self.buf.push_str(">\n");
        self.depth += 1;
    }

    pub(crate) fn close(&mut self, tag: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
    }

    /// `<tag>value</tag>` for a value known to need no escaping or checking
    /// (codes, numbers, dates we formatted ourselves).
    pub(crate) fn raw(&mut self, tag: &str, value: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        self.buf.push_str(value);
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
    }

    /// `<tag>value</tag>` after checking `value` against a `MaxNText`
    /// facet (1..=max characters) and the characters XML can carry.
    pub(crate) fn text(
        &mut self,
        tag: &str,
        value: &str,
        max: usize,
        field: &str,
    ) -> Result<(), WriteError> {
        check_text(value, max).map_err(|problem| problem.into_error(self.field(field), max))?;
        self.checked_text(tag, value);
        Ok(())
    }

    /// `<tag>value</tag>` for a value that passed [`check_text`].
    fn checked_text(&mut self, tag: &str, value: &str) {
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push('>');
        escape_into(&mut self.buf, value);
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
    }

    /// Like [`Out::text`] but writes nothing for `None`.
    pub(crate) fn opt_text(
        &mut self,
        tag: &str,
        value: Option<&str>,
        max: usize,
        field: &str,
    ) -> Result<(), WriteError> {
        match value {
            Some(value) => self.text(tag, value, max, field),
            None => Ok(()),
        }
    }

    /// `<tag Ccy="CNY">123.45</tag>`: a non-negative amount with at most
    /// `max_decimals` decimals (the ISO type allows 5, our payments 2) and
    /// at most 18 digits in all.
    pub(crate) fn amount(
        &mut self,
        tag: &str,
        amount: &Amount,
        max_decimals: u32,
        positive: bool,
        field: &str,
    ) -> Result<(), WriteError> {
        check_currency(&amount.currency).map_err(|message| WriteError::Invalid {
            field: self.field(field),
            message,
        })?;
        let value = checked_decimal(amount.value, max_decimals, positive).map_err(|message| {
            WriteError::Invalid {
                field: self.field(field),
                message,
            }
        })?;
        self.indent();
        self.buf.push('<');
        self.buf.push_str(tag);
        self.buf.push_str(" Ccy=\"");
        self.buf.push_str(&amount.currency);
        self.buf.push_str("\">");
        let _ = write!(self.buf, "{value}");
        self.buf.push_str("</");
        self.buf.push_str(tag);
        self.buf.push_str(">\n");
        Ok(())
    }

    /// A plain decimal (`CtrlSum`, `Sum`), printed with at least 2 decimals.
    pub(crate) fn decimal(&mut self, tag: &str, value: Decimal) {
        let mut value = value.normalize();
        if value.scale() < 2 {
            value.rescale(2);
        }
        self.indent();
        let _ = writeln!(self.buf, "<{tag}>{value}</{tag}>");
    }

    pub(crate) fn number(&mut self, tag: &str, value: u64) {
        self.indent();
        let _ = writeln!(self.buf, "<{tag}>{value}</{tag}>");
    }

    pub(crate) fn date(&mut self, tag: &str, date: NaiveDate) {
        self.indent();
        let _ = writeln!(self.buf, "<{tag}>{}</{tag}>", date.format("%Y-%m-%d"));
    }

    pub(crate) fn date_time(&mut self, tag: &str, at: DateTime<Utc>) {
        self.raw(tag, &at.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }

    pub(crate) fn direction(&mut self, direction: Direction) {
        self.raw(
            "CdtDbtInd",
            match direction {
                Direction::Credit => "CRDT",
                Direction::Debit => "DBIT",
            },
        );
    }

    /// `<tag><Id><IBAN>…</IBAN></Id></tag>` when the number looks like an
    /// IBAN, else `<Id><Othr><Id>…</Id></Othr></Id>` (domestic account or
    /// card number, at most 34 characters).
    pub(crate) fn account(
        &mut self,
        tag: &str,
        number: &str,
        currency: Option<&str>,
        field: &str,
    ) -> Result<(), WriteError> {
        self.open(tag);
        self.account_id(number, field)?;
        if let Some(currency) = currency {
            check_currency(currency).map_err(|message| WriteError::Invalid {
                field: self.field(field),
                message,
            })?;
            self.raw("Ccy", currency);
        }
        self.close(tag);
        Ok(())
    }

    pub(crate) fn account_id(&mut self, number: &str, field: &str) -> Result<(), WriteError> {
        self.open("Id");
        if looks_like_iban(number) {
            self.raw("IBAN", number);
        } else {
            self.open("Othr");
            self.text("Id", number, 34, field)?;
            self.close("Othr");
        }
        self.close("Id");
        Ok(())
    }

    /// `<tag><FinInstnId>…</FinInstnId></tag>` for a bank: a BIC as `BIC`
    /// (`.03`) or `BICFI` (`.08`/`.09`), a 12-digit CNAPS bank code as a
    /// clearing-system member of `CNAPS`, any other code as `Othr/Id`; the
    /// name as `Nm`. With neither code nor name, `Othr/Id` is `NOTPROVIDED`
    /// (the EPC convention) so a mandatory agent is still valid.
    pub(crate) fn agent(
        &mut self,
        tag: &str,
        bic_tag: &str,
        bank: &AccountRef,
        field: &str,
    ) -> Result<(), WriteError> {
        self.open(tag);
        self.open("FinInstnId");
        let code = bank.bank_code.as_deref();
        let mut other = None;
        match code {
            Some(code) if looks_like_bic(code) => self.raw(bic_tag, code),
            Some(code) if looks_like_cnaps(code) => {
                self.open("ClrSysMmbId");
                self.open("ClrSysId");
                self.raw("Cd", "CNAPS");
                self.close("ClrSysId");
                self.raw("MmbId", code);
                self.close("ClrSysMmbId");
            }
            Some(code) => other = Some(code),
            None if bank.bank_name.is_none() => other = Some("NOTPROVIDED"),
            None => {}
        }
        if let Some(name) = bank.bank_name.as_deref() {
            check_text(name, 140).map_err(|problem| {
                problem.into_error(self.field(&format!("{field}.bank_name")), 140)
            })?;
            self.checked_text("Nm", name);
        }
        if let Some(other) = other {
            check_text(other, 35).map_err(|problem| {
                problem.into_error(self.field(&format!("{field}.bank_code")), 35)
            })?;
            self.open("Othr");
            self.checked_text("Id", other);
            self.close("Othr");
        }
        self.close("FinInstnId");
        self.close(tag);
        Ok(())
    }

    /// Writes after what `buf` already holds (a buffer kept from an
    /// earlier document, so its memory is reused).
    pub(crate) fn appending_to(buf: String) -> Self {
        Out {
            buf,
            depth: 0,
            indented: true,
            context: String::new(),
            item: None,
        }
    }

    pub(crate) fn finish(self) -> String {
        self.buf
    }

    /// Takes what was written so far (the nesting is kept), for writers
    /// that stream chunk by chunk.
    pub(crate) fn take(&mut self) -> String {
        std::mem::take(&mut self.buf)
    }
}

/// Why a text cannot be written.
pub(crate) enum TextProblem {
    Empty,
    TooLong(usize),
    BadCharacter(char),
    Padded,
}

impl TextProblem {
    pub(crate) fn into_error(self, field: String, max: usize) -> WriteError {
        match self {
            TextProblem::Empty => WriteError::Invalid {
                field,
                message: "must not be empty".to_owned(),
            },
            TextProblem::TooLong(length) => WriteError::TooLong { field, length, max },
            TextProblem::BadCharacter(character) => WriteError::BadCharacter { field, character },
            TextProblem::Padded => WriteError::Invalid {
                field,
                message: "must not start or end with whitespace".to_owned(),
            },
        }
    }
}

/// Checks a text against `MaxNText` (1..=max characters, counted as Unicode
/// scalar values like XSD does, so 张三 is 2) and refuses characters a bank
/// file cannot carry: C0/C1 control characters (tab and newline included:
/// they do not survive the banks' whitespace handling) and U+FFFE/U+FFFF.
/// Leading or trailing whitespace is refused because readers trim it and an
/// id must come back exactly as sent.
pub(crate) fn check_text(value: &str, max: usize) -> Result<(), TextProblem> {
    if value.is_empty() {
        return Err(TextProblem::Empty);
    }
    let mut count = 0usize;
    if value.is_ascii() {
        if let Some(&b) = value.as_bytes().iter().find(|&&b| b < 0x20 || b == 0x7f) {
            return Err(TextProblem::BadCharacter(char::from(b)));
        }
        count = value.len();
    } else {
        for c in value.chars() {
            if is_bad_char(c) {
                return Err(TextProblem::BadCharacter(c));
            }
            count += 1;
        }
    }
    if count > max {
        return Err(TextProblem::TooLong(count));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(TextProblem::Padded);
    }
    Ok(())
}

fn is_bad_char(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}')
}

/// Appends `value` with `&`, `<`, `>` and `"` escaped (valid in text and
/// in double-quoted attributes).
pub(crate) fn escape_into(buf: &mut String, value: &str) {
    let bytes = value.as_bytes();
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let replacement = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            _ => continue,
        };
        buf.push_str(&value[from..i]);
        buf.push_str(replacement);
        from = i + 1;
    }
    buf.push_str(&value[from..]);
}

/// ISO 4217 shape: three capital letters.
pub(crate) fn check_currency(currency: &str) -> Result<(), String> {
    if currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "currency {currency:?} is not a three-letter ISO 4217 code"
        ))
    }
}

/// The amount as the file should print it, or why it cannot be written.
pub(crate) fn checked_decimal(
    value: Decimal,
    max_decimals: u32,
    positive: bool,
) -> Result<Decimal, String> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(format!("amount {value} is negative"));
    }
    if positive && value.is_zero() {
        return Err("amount must be greater than zero".to_owned());
    }
    let normalized = value.normalize();
    if normalized.scale() > max_decimals {
        return Err(format!(
            "amount {value} has more than {max_decimals} decimals"
        ));
    }
    // Print at least two decimals, as banks expect (12.50, not 12.5).
    let scale = normalized.scale().max(2);
    // totalDigits 18: integer digits plus the decimals we print ("0" for
    // an amount under one counts one digit).
    let integer = normalized.mantissa().unsigned_abs() / 10u128.pow(normalized.scale());
    let integer_digits = integer.checked_ilog10().map_or(1, |log| log + 1);
    if integer_digits + scale > 18 {
        return Err(format!("amount {value} has more than 18 digits"));
    }
    let mut printed = normalized;
    printed.rescale(scale);
    Ok(printed)
}

/// `[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}`, the IBAN2007Identifier pattern.
pub(crate) fn looks_like_iban(value: &str) -> bool {
    let b = value.as_bytes();
    b.len() >= 5
        && b.len() <= 34
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// `[A-Z]{6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3})?`, the `.03` BIC pattern (which
/// the later BICFI pattern also accepts).
pub(crate) fn looks_like_bic(value: &str) -> bool {
    let b = value.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// A CNAPS (中国现代化支付系统) bank code: 12 digits.
pub(crate) fn looks_like_cnaps(value: &str) -> bool {
    value.len() == 12 && value.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn text_checks() {
        assert!(check_text("张三", 2).is_ok());
        assert!(matches!(
            check_text("张三丰", 2),
            Err(TextProblem::TooLong(3))
        ));
        assert!(matches!(
            check_text("a\u{7}b", 9),
            Err(TextProblem::BadCharacter('\u{7}'))
        ));
        assert!(matches!(
            check_text("a\nb", 9),
            Err(TextProblem::BadCharacter('\n'))
        ));
        assert!(matches!(check_text("", 9), Err(TextProblem::Empty)));
        assert!(matches!(check_text(" a", 9), Err(TextProblem::Padded)));
        let mut s = String::new();
        escape_into(&mut s, "a<b & \"c\">");
        assert_eq!(s, "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn amounts() {
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(
            checked_decimal(d("12.5"), 2, true).unwrap().to_string(),
            "12.50"
        );
        assert_eq!(
            checked_decimal(d("12.500"), 2, true).unwrap().to_string(),
            "12.50"
        );
        assert!(checked_decimal(d("12.505"), 2, true).is_err());
        assert!(checked_decimal(d("0"), 2, true).is_err());
        assert!(checked_decimal(d("0"), 2, false).is_ok());
        assert!(checked_decimal(d("-1"), 2, false).is_err());
        assert!(checked_decimal(d("9999999999999999.99"), 2, true).is_ok());
        assert!(checked_decimal(d("99999999999999999.99"), 2, true).is_err());
    }

    #[test]
    fn identifiers() {
        assert!(looks_like_iban("DE12345678901234567890"));
        assert!(!looks_like_iban("6222020200112233445"));
        assert!(looks_like_bic("ICBKCNBJ"));
        assert!(looks_like_bic("ICBKCNBJXXX"));
        assert!(!looks_like_bic("ICBKCNBJX"));
        assert!(looks_like_cnaps("102100099996"));
    }
}
