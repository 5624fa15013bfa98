//! 工资支付周期: payroll periods (one calendar month, `YYYY-MM`), and the
//! business date in China.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, FixedOffset, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::ParseError;

const WHAT: &str = "period";
const FIRST_YEAR: i32 = 2000;
const LAST_YEAR: i32 = 2100;

/// Today's date in China (Asia/Shanghai, UTC+8 all year since 1991), the
/// date business rules count in.
pub fn today_in_shanghai() -> NaiveDate {
    const CHINA_STANDARD_TIME_SECONDS: i32 = 8 * 3600;
    match FixedOffset::east_opt(CHINA_STANDARD_TIME_SECONDS) {
        Some(offset) => Utc::now().with_timezone(&offset).date_naive(),
        None => Utc::now().date_naive(),
    }
}

/// 工资支付周期: a payroll period, one calendar month, written `YYYY-MM`
/// (e.g. `2026-10`), years 2000–2100.
///
/// Periods order chronologically.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    /// Always the first day of the month, within the allowed years.
    first_day: NaiveDate,
}

impl Period {
    /// Parses exactly `YYYY-MM` (surrounding whitespace trimmed).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        let bytes = s.as_bytes();
        let shape_ok = bytes.len() == 7
            && bytes[4] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || b.is_ascii_digit());
        if !shape_ok {
            return Err(ParseError::InvalidFormat {
                what: WHAT,
                expected: "YYYY-MM, e.g. 2026-10",
            });
        }
        let number = |digits: &[u8]| {
            digits
                .iter()
                .fold(0u32, |n, d| n * 10 + u32::from(d - b'0'))
        };
        let year = i32::try_from(number(&bytes[..4])).unwrap_or(i32::MAX);
        Self::new(year, number(&bytes[5..]))
    }

    /// The period of a year and month (1–12).
    pub fn new(year: i32, month: u32) -> Result<Self, ParseError> {
        if !(1..=12).contains(&month) {
            return Err(ParseError::OutOfRange {
                what: "period month",
                allowed: "the month must be 01 to 12",
            });
        }
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return Err(ParseError::OutOfRange {
                what: "period year",
                allowed: "the year must be 2000 to 2100",
            });
        }
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first_day| Period { first_day })
            .ok_or(ParseError::InvalidFormat {
                what: WHAT,
                expected: "YYYY-MM, e.g. 2026-10",
            })
    }

    /// The period a date falls in; `None` outside the years 2000–2100.
    pub fn containing(date: NaiveDate) -> Option<Self> {
        Self::new(date.year(), date.month()).ok()
    }

    /// The year, 2000–2100.
    pub fn year(self) -> i32 {
        self.first_day.year()
    }

    /// The month, 1–12.
    pub fn month(self) -> u32 {
        self.first_day.month()
    }

    /// The 1st of the month.
    pub fn first_day(self) -> NaiveDate {
        self.first_day
    }

    /// The last day of the month (28th–31st).
    pub fn last_day(self) -> NaiveDate {
        self.first_day + Days::new(u64::from(self.days() - 1))
    }

    /// Number of days in the month (28–31).
    pub fn days(self) -> u32 {
        let year = self.year();
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        match self.month() {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }

    /// The following month; `None` after 2100-12.
    pub fn next(self) -> Option<Self> {
        Self::containing(self.first_day + Months::new(1))
    }

    /// The preceding month; `None` before 2000-01.
    pub fn prev(self) -> Option<Self> {
        Self::containing(self.first_day - Months::new(1))
    }

    /// Whether the date falls in this month.
    pub fn contains(self, date: NaiveDate) -> bool {
        date.year() == self.year() && date.month() == self.month()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year(), self.month())
    }
}

impl fmt::Debug for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Period({self})")
    }
}

impl FromStr for Period {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Period {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for Period {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<Period> for String {
    fn from(period: Period) -> String {
        period.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn period(s: &str) -> Period {
        Period::parse(s).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn parses_and_displays_year_month() {
        let p = period(" 2026-10 ");
        assert_eq!((p.year(), p.month()), (2026, 10));
        assert_eq!(p.to_string(), "2026-10");
        assert_eq!(format!("{p:?}"), "Period(2026-10)");
    }

    #[test]
    fn rejects_anything_but_yyyy_mm_in_range() {
        for (input, code) in [
            ("", "INVALID_FORMAT"),
            ("2026-1", "INVALID_FORMAT"),
            ("2026/10", "INVALID_FORMAT"),
            ("202610", "INVALID_FORMAT"),
            ("2026-10-01", "INVALID_FORMAT"),
            ("+026-10", "INVALID_FORMAT"),
            ("２０２６-10", "INVALID_FORMAT"),
            ("2026-00", "OUT_OF_RANGE"),
            ("2026-13", "OUT_OF_RANGE"),
            ("1999-12", "OUT_OF_RANGE"),
            ("2101-01", "OUT_OF_RANGE"),
        ] {
            assert_eq!(Period::parse(input).unwrap_err().code(), code, "{input}");
        }
    }

    #[test]
    fn knows_its_days() {
        let feb = period("2028-02");
        assert_eq!(feb.days(), 29);
        assert_eq!(feb.first_day(), date(2028, 2, 1));
        assert_eq!(feb.last_day(), date(2028, 2, 29));
        assert_eq!(period("2100-02").days(), 28);
        assert_eq!(period("2000-02").days(), 29);
        assert_eq!(period("2026-04").days(), 30);
        assert_eq!(period("2026-12").last_day(), date(2026, 12, 31));
        assert!(feb.contains(date(2028, 2, 29)));
        assert!(!feb.contains(date(2028, 3, 1)));
        assert!(!feb.contains(date(2027, 2, 1)));
    }

    #[test]
    fn steps_across_years_and_stops_at_the_ends() {
        assert_eq!(period("2026-12").next(), Some(period("2027-01")));
        assert_eq!(period("2027-01").prev(), Some(period("2026-12")));
        assert_eq!(period("2100-12").next(), None);
        assert_eq!(period("2000-01").prev(), None);
        assert!(period("2026-12") < period("2027-01"));
        assert_eq!(
            Period::containing(date(2026, 10, 31)),
            Some(period("2026-10"))
        );
        assert_eq!(Period::containing(date(1999, 10, 31)), None);
    }

    #[test]
    fn serde_uses_the_text_form() {
        let p: Period = serde_json::from_str("\"2026-10\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-10\"");
        assert!(serde_json::from_str::<Period>("\"2026-13\"").is_err());
    }

    #[test]
    fn today_in_shanghai_is_close_to_utc_today() {
        let utc = Utc::now().date_naive();
        let diff = (today_in_shanghai() - utc).num_days();
        assert!((0..=1).contains(&diff));
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(year in 2000i32..=2100, month in 1u32..=12) {
            let p = Period::new(year, month).unwrap();
            prop_assert_eq!(Period::parse(&p.to_string()), Ok(p));
            prop_assert_eq!(p.days(), (p.last_day() - p.first_day()).num_days() as u32 + 1);
        }

        #[test]
        fn next_and_prev_are_inverse(year in 2000i32..=2100, month in 1u32..=12) {
            let p = Period::new(year, month).unwrap();
            if let Some(next) = p.next() {
                prop_assert!(next > p);
                prop_assert_eq!(next.prev(), Some(p));
                prop_assert_eq!(next.first_day(), p.last_day().succ_opt().unwrap());
            }
            if let Some(prev) = p.prev() {
                prop_assert!(prev < p);
                prop_assert_eq!(prev.next(), Some(p));
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,12}") {
            let _ = Period::parse(&s);
        }
    }
}
