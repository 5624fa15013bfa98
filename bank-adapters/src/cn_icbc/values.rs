//! ICBC value formats: integer fen (分) amounts, `yyyyMMdd` dates and
//! `HHmmssSSS` times in Beijing time, and the currency code `001`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::error::WriteError;

/// ICBC's currency code for renminbi (币种 `001`); the only one we pay in.
pub const CURRENCY_RMB: &str = "001";

/// Beijing time, UTC+8 all year (China has no daylight saving time), in
/// which ICBC's package dates and times are stated.
pub fn beijing() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("UTC+8 is inside FixedOffset's ±24 h range")
}

/// Yuan to integer fen, refusing amounts with more than two decimals
/// (1.005 yuan cannot be paid) and non-positive amounts when `positive`.
pub fn yuan_to_fen(value: Decimal, field: &str, positive: bool) -> Result<i64, WriteError> {
    let normalized = value.normalize();
    if normalized.scale() > 2 {
        return Err(WriteError::Invalid {
            field: field.to_owned(),
            message: format!("{value} has more than 2 decimals; ICBC counts in whole fen"),
        });
    }
    if positive && value <= Decimal::ZERO {
        return Err(WriteError::Invalid {
            field: field.to_owned(),
            message: format!("{value} is not a positive amount"),
        });
    }
    (normalized * Decimal::ONE_HUNDRED)
        .to_i64()
        .ok_or_else(|| WriteError::Invalid {
            field: field.to_owned(),
            message: format!("{value} is too large"),
        })
}

/// Integer fen as the bank writes it (`"100"`, optionally `"-5"`) to yuan.
/// Returns `None` for anything that is not an integer: ICBC amounts never
/// carry a decimal point, so `1.00` would be a misread unit.
pub fn fen_to_yuan(text: &str) -> Option<Decimal> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let fen: i64 = text.parse().ok()?;
    Some(Decimal::new(fen, 2))
}

/// `yyyyMMdd`.
pub fn format_date(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

/// A date as ICBC writes it: `yyyyMMdd`, or `yyyy-MM-dd` (the guessed QHISD
/// `Date` format), or the date part of a DB2 timestamp
/// `yyyy-MM-dd-HH.mm.ss.ffffff`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    if text.len() == 8 {
        return NaiveDate::parse_from_str(text, "%Y%m%d").ok();
    }
    let head = text.get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// `TranDate` and `TranTime` (`yyyyMMdd`, `HHmmssSSS`) of an instant.
pub fn format_tran_date_time(at: DateTime<Utc>) -> (String, String) {
    let local = at.with_timezone(&beijing());
    (
        local.format("%Y%m%d").to_string(),
        local.format("%H%M%S%3f").to_string(),
    )
}

/// `SignTime`: `yyyyMMddHHmmssSSS`.
pub fn format_sign_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&beijing())
        .format("%Y%m%d%H%M%S%3f")
        .to_string()
}

/// `TranDate` + `TranTime` back to an instant, the local time read at
/// `offset` (Beijing time for ICBC); `TranTime` may be `HHmmss` or
/// `HHmmssSSS`.
pub fn parse_tran_date_time_at(
    date: &str,
    time: &str,
    offset: FixedOffset,
) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    if !time.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hms, millis) = match time.len() {
        6 => (time, "0"),
        9 => (time.get(..6)?, time.get(6..)?),
        _ => return None,
    };
    let clock = NaiveTime::parse_from_str(hms, "%H%M%S").ok()?;
    let millis: i64 = millis.parse().ok()?;
    let local = NaiveDateTime::new(day, clock) + chrono::Duration::milliseconds(millis);
    offset
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// A history row's booking time, read at `offset`: `Time` as a DB2
/// timestamp `yyyy-MM-dd-HH.mm.ss[.ffffff]` (QPD `TimeStamp`; inferred for
/// QHISD, FIELDS.md), or `HHmmss` / `HH:mm:ss` on the row's `Date`.
pub fn parse_row_time(
    date: Option<NaiveDate>,
    time: &str,
    offset: FixedOffset,
) -> Option<DateTime<Utc>> {
    let local = if time.len() >= 19 {
        let (head, fraction) = time.split_at(19);
        let at = NaiveDateTime::parse_from_str(head, "%Y-%m-%d-%H.%M.%S").ok()?;
        let micros = match fraction.strip_prefix('.') {
            None if fraction.is_empty() => 0,
            Some(digits)
                if (1..=6).contains(&digits.len())
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                // "123" is 123 000 µs: pad to six digits.
                format!("{digits:0<6}").parse::<i64>().ok()?
            }
            _ => return None,
        };
        at + chrono::Duration::microseconds(micros)
    } else {
        let clock = NaiveTime::parse_from_str(time, "%H%M%S")
            .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M:%S"))
            .ok()?;
        date?.and_time(clock)
    };
    offset
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Start of a calendar day at `offset`, as an instant.
pub fn start_of_day_at(date: NaiveDate, offset: FixedOffset) -> Option<DateTime<Utc>> {
    offset
        .from_local_datetime(&date.and_time(NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// Last second of a calendar day at `offset`, as an instant: a history
/// query's `EndDate` includes that whole day.
pub fn end_of_day_at(date: NaiveDate, offset: FixedOffset) -> Option<DateTime<Utc>> {
    let last = NaiveTime::from_hms_opt(23, 59, 59)?;
    offset
        .from_local_datetime(&date.and_time(last))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// The Beijing calendar day of an instant.
pub fn beijing_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn yuan_converts_to_whole_fen() {
        let one = Decimal::from_str("1.00").unwrap();
        assert_eq!(yuan_to_fen(one, "PayAmt", true), Ok(100));
        let cents = Decimal::from_str("3500.5").unwrap();
        assert_eq!(yuan_to_fen(cents, "PayAmt", true), Ok(350050));
        let trailing = Decimal::from_str("2.100").unwrap();
        assert_eq!(yuan_to_fen(trailing, "PayAmt", true), Ok(210));
        assert!(yuan_to_fen(Decimal::from_str("1.005").unwrap(), "PayAmt", true).is_err());
        assert!(yuan_to_fen(Decimal::ZERO, "PayAmt", true).is_err());
        assert!(yuan_to_fen(Decimal::from_str("-1").unwrap(), "PayAmt", true).is_err());
    }

    #[test]
    fn fen_text_reads_back_as_yuan() {
        assert_eq!(fen_to_yuan("1"), Some(Decimal::from_str("0.01").unwrap()));
        assert_eq!(
            fen_to_yuan("-250"),
            Some(Decimal::from_str("-2.50").unwrap())
        );
        assert_eq!(fen_to_yuan("1.00"), None);
        assert_eq!(fen_to_yuan(""), None);
        assert_eq!(fen_to_yuan("借方发生额"), None);
        assert_eq!(fen_to_yuan("9999999999999999999999"), None);
    }

    #[test]
    fn package_times_are_beijing_time() {
        let at = Utc.with_ymd_and_hms(2020, 7, 1, 16, 15, 11).unwrap()
            + chrono::Duration::milliseconds(234);
        let (date, time) = format_tran_date_time(at);
        assert_eq!(date, "20200702");
        assert_eq!(time, "001511234");
        assert_eq!(parse_tran_date_time_at(&date, &time, beijing()), Some(at));
        assert_eq!(format_sign_time(at), "20200702001511234");
        assert_eq!(
            parse_date("2020-09-18"),
            NaiveDate::from_ymd_opt(2020, 9, 18)
        );
        assert_eq!(
            parse_date("2020-09-18-09.12.30.123456"),
            NaiveDate::from_ymd_opt(2020, 9, 18)
        );
        assert_eq!(parse_date("20200918"), NaiveDate::from_ymd_opt(2020, 9, 18));
        assert_eq!(parse_date("交易日期"), None);
    }
}
