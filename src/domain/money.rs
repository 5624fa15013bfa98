//! 金额: amounts of money in yuan (CNY), exact to the fen.
//!
//! Amounts are [`Decimal`]s with exactly two decimal places, never floats.
//! Input with more decimals is rejected, not rounded: a payroll that does
//! not add up to the fen must be corrected by whoever wrote it.

use std::fmt;
use std::iter::Sum;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

use super::ParseError;

const WHAT: &str = "amount";
const EXPECTED_FORMAT: &str =
    "a plain decimal number of yuan such as 1234.50 (no thousands separators or exponents)";
/// The largest amount in fen: 9,999,999,999,999,999.99 yuan, what fits
/// PostgreSQL `NUMERIC(18,2)`.
const MAX_FEN: i64 = 999_999_999_999_999_999;
const OUT_OF_RANGE: ParseError = ParseError::OutOfRange {
    what: WHAT,
    allowed: "at most 16 digits before the decimal point (NUMERIC(18,2))",
};

/// 金额: an amount of money in yuan (CNY), with exactly two decimal places
/// (fen), of either sign and at most 16 digits before the point.
///
/// Text form `1234.50` / `-5.00`; serde writes it as a JSON string and reads
/// a string or a JSON integer. JSON numbers with a fraction (`12.5`) are
/// rejected, because serde_json hands them over as `f64` and that could
/// silently change the amount: send decimals as strings.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Money(Decimal);

impl Money {
    /// 0.00 yuan.
    pub const ZERO: Money = Money(Decimal::from_parts(0, 0, 0, false, 2));

    /// Parses `[+-]digits[.d[d]]` with optional surrounding whitespace.
    ///
    /// Decimals beyond the second are allowed only when they are zeros
    /// (`1.230` is 1.23); `1.234` is rejected, not rounded. Thousands
    /// separators, exponents, `NaN`/`inf`, a bare `.5` or `5.` are rejected.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        let (negative, unsigned) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "00"));
        let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || !all_digits(fraction) {
            return Err(ParseError::InvalidFormat {
                what: WHAT,
                expected: EXPECTED_FORMAT,
            });
        }
        let (fen_part, extra) = fraction.split_at(fraction.len().min(2));
        if extra.bytes().any(|b| b != b'0') {
            return Err(ParseError::TooManyDecimals);
        }
        let whole = whole.trim_start_matches('0');
        if whole.len() > 16 {
            return Err(OUT_OF_RANGE);
        }
        // At most 16 + 2 digits: fits an i64 with room to spare.
        let digits = format!("{whole}{fen_part:0<2}");
        let fen: i64 = digits.parse().map_err(|_| ParseError::InvalidFormat {
            what: WHAT,
            expected: EXPECTED_FORMAT,
        })?;
        Self::from_fen(if negative { -fen } else { fen })
    }

    /// The amount of this many fen (分, hundredths of a yuan).
    pub fn from_fen(fen: i64) -> Result<Self, ParseError> {
        if fen.unsigned_abs() > MAX_FEN.unsigned_abs() {
            return Err(OUT_OF_RANGE);
        }
        Ok(Money(Decimal::new(fen, 2)))
    }

    /// The amount in fen, e.g. for banks that take integer fen (ICBC).
    pub fn to_fen(self) -> i64 {
        // Scale is always 2 and |fen| <= MAX_FEN, so the mantissa fits.
        i64::try_from(self.0.mantissa()).unwrap_or(0)
    }

    /// The amount as a decimal with scale 2, e.g. for `NUMERIC(18,2)`.
    pub fn as_decimal(self) -> Decimal {
        self.0
    }

    /// `self + other`, or `None` beyond the allowed range.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        Self::from_fen(self.to_fen().checked_add(other.to_fen())?).ok()
    }

    /// `self - other`, or `None` beyond the allowed range.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        Self::from_fen(self.to_fen().checked_sub(other.to_fen())?).ok()
    }

    /// `-self` (always in range).
    pub fn negated(self) -> Money {
        Money(Decimal::new(-self.to_fen(), 2))
    }

    /// Whether the amount is 0.00.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// Whether the amount is greater than zero.
    pub fn is_positive(self) -> bool {
        self.to_fen() > 0
    }

    /// Whether the amount is less than zero.
    pub fn is_negative(self) -> bool {
        self.to_fen() < 0
    }
}

impl TryFrom<Decimal> for Money {
    type Error = ParseError;

    /// Accepts a decimal with at most two significant decimal places
    /// (`1.230` is fine, `1.234` is [`ParseError::TooManyDecimals`]).
    fn try_from(value: Decimal) -> Result<Self, Self::Error> {
        let value = value.normalize();
        if value.scale() > 2 {
            return Err(ParseError::TooManyDecimals);
        }
        // mantissa * 10^(2 - scale), checked: the Decimal may be huge.
        let factor = 10i128.pow(2 - value.scale());
        let fen = value
            .mantissa()
            .checked_mul(factor)
            .and_then(|fen| i64::try_from(fen).ok())
            .ok_or(OUT_OF_RANGE)?;
        Self::from_fen(fen)
    }
}

impl From<Money> for Decimal {
    fn from(money: Money) -> Decimal {
        money.0
    }
}

impl Default for Money {
    fn default() -> Self {
        Money::ZERO
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({})", self.0)
    }
}

impl FromStr for Money {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for Money {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Money {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Money> for String {
    fn from(money: Money) -> String {
        money.to_string()
    }
}

/// Checked sum: `None` if the total leaves the allowed range.
/// `lines.iter().map(|l| l.net).sum::<Option<Money>>()`.
impl Sum<Money> for Option<Money> {
    fn sum<I: Iterator<Item = Money>>(mut iter: I) -> Self {
        iter.try_fold(Money::ZERO, Money::checked_add)
    }
}

impl<'a> Sum<&'a Money> for Option<Money> {
    fn sum<I: Iterator<Item = &'a Money>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl de::Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount in yuan as a string such as \"1234.50\", or an integer")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        Money::parse(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        v.checked_mul(100)
            .ok_or(OUT_OF_RANGE)
            .and_then(Money::from_fen)
            .map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        i64::try_from(v)
            .map_err(|_| E::custom(OUT_OF_RANGE))
            .and_then(|v| self.visit_i64(v))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Money, E> {
        Err(E::custom(
            "amounts with decimals must be sent as a string such as \"1234.50\", not as a JSON number",
        ))
    }
}

macro_rules! money_with_sign_rule {
    ($(#[$doc:meta])* $name:ident, $accepts:expr, $error:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "Money", into = "Money")]
        pub struct $name(Money);

        impl $name {
            /// Parses like [`Money::parse`], then applies the sign rule.
            pub fn parse(s: &str) -> Result<Self, ParseError> {
                Self::try_from(Money::parse(s)?)
            }

            /// The amount.
            pub fn get(self) -> Money {
                self.0
            }
        }

        impl TryFrom<Money> for $name {
            type Error = ParseError;
            fn try_from(money: Money) -> Result<Self, Self::Error> {
                let accepts: fn(Money) -> bool = $accepts;
                if accepts(money) {
                    Ok($name(money))
                } else {
                    Err($error)
                }
            }
        }

        impl From<$name> for Money {
            fn from(value: $name) -> Money {
                value.0
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

money_with_sign_rule!(
    /// An amount greater than zero: a payment, a payroll line's net pay.
    PositiveMoney,
    Money::is_positive,
    ParseError::NotPositive
);

money_with_sign_rule!(
    /// An amount of zero or more: a balance, a deduction.
    NonNegativeMoney,
    |m: Money| !m.is_negative(),
    ParseError::Negative
);

impl From<PositiveMoney> for NonNegativeMoney {
    fn from(value: PositiveMoney) -> Self {
        NonNegativeMoney(value.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    #[test]
    fn parses_plain_decimals_and_always_keeps_two_places() {
        for (input, shown) in [
            ("1234.5", "1234.50"),
            ("1234.50", "1234.50"),
            ("  1234  ", "1234.00"),
            ("0", "0.00"),
            ("-0.00", "0.00"),
            ("+7.1", "7.10"),
            ("-5", "-5.00"),
            ("007.05", "7.05"),
            ("1.230", "1.23"),
            ("9999999999999999.99", "9999999999999999.99"),
            ("-9999999999999999.99", "-9999999999999999.99"),
        ] {
            let m = money(input);
            assert_eq!(m.to_string(), shown, "{input}");
            assert_eq!(m.as_decimal().scale(), 2, "{input}");
        }
    }

    #[test]
    fn rejects_rounding_separators_and_float_notations() {
        for (input, code) in [
            ("", "EMPTY"),
            ("1.234", "TOO_MANY_DECIMALS"),
            ("0.001", "TOO_MANY_DECIMALS"),
            ("1,234.50", "INVALID_FORMAT"),
            ("1 234.50", "INVALID_FORMAT"),
            ("1e3", "INVALID_FORMAT"),
            ("1.5E2", "INVALID_FORMAT"),
            ("NaN", "INVALID_FORMAT"),
            ("inf", "INVALID_FORMAT"),
            ("-", "INVALID_FORMAT"),
            (".5", "INVALID_FORMAT"),
            ("5.", "INVALID_FORMAT"),
            ("--5", "INVALID_FORMAT"),
            ("¥5", "INVALID_FORMAT"),
            ("５", "INVALID_FORMAT"),
            ("0x10", "INVALID_FORMAT"),
            ("1.2.3", "INVALID_FORMAT"),
            ("10000000000000000", "OUT_OF_RANGE"),
        ] {
            assert_eq!(Money::parse(input).unwrap_err().code(), code, "{input:?}");
        }
    }

    #[test]
    fn fen_conversions_are_exact() {
        assert_eq!(Money::from_fen(123_450).unwrap(), money("1234.50"));
        assert_eq!(money("-0.01").to_fen(), -1);
        assert_eq!(Money::from_fen(MAX_FEN).unwrap().to_fen(), MAX_FEN);
        assert!(Money::from_fen(MAX_FEN + 1).is_err());
        assert!(Money::from_fen(i64::MIN).is_err());
    }

    #[test]
    fn decimals_from_the_database_are_checked() {
        use std::str::FromStr;
        let d = |s| Decimal::from_str(s).unwrap();
        assert_eq!(Money::try_from(d("12.3")).unwrap().to_string(), "12.30");
        assert_eq!(Money::try_from(d("12.300")).unwrap().to_string(), "12.30");
        assert_eq!(Money::try_from(d("1E+2")).unwrap().to_string(), "100.00");
        assert_eq!(
            Money::try_from(d("12.345")).unwrap_err().code(),
            "TOO_MANY_DECIMALS"
        );
        assert_eq!(
            Money::try_from(Decimal::MAX).unwrap_err().code(),
            "OUT_OF_RANGE"
        );
    }

    #[test]
    fn arithmetic_is_checked() {
        let max = Money::from_fen(MAX_FEN).unwrap();
        assert_eq!(max.checked_add(money("0.01")), None);
        assert_eq!(max.negated().checked_sub(money("0.01")), None);
        assert_eq!(
            money("0.10").checked_add(money("0.20")),
            Some(money("0.30"))
        );
        assert_eq!(money("1").checked_sub(money("1.01")), Some(money("-0.01")));
        assert!(money("5").checked_sub(money("5")).unwrap().is_zero());
    }

    #[test]
    fn sums_are_checked() {
        let lines = [money("0.10"), money("0.20"), money("1000")];
        assert_eq!(lines.iter().sum::<Option<Money>>(), Some(money("1000.30")));
        assert_eq!(
            std::iter::empty::<Money>().sum::<Option<Money>>(),
            Some(Money::ZERO)
        );
        let max = Money::from_fen(MAX_FEN).unwrap();
        assert_eq!([max, max].into_iter().sum::<Option<Money>>(), None);
    }

    #[test]
    fn json_is_a_string_and_integers_are_accepted() {
        assert_eq!(
            serde_json::to_string(&money("1234.5")).unwrap(),
            "\"1234.50\""
        );
        let from_string: Money = serde_json::from_str("\"1234.50\"").unwrap();
        assert_eq!(from_string, money("1234.50"));
        let from_integer: Money = serde_json::from_str("1234").unwrap();
        assert_eq!(from_integer, money("1234"));
        let negative: Money = serde_json::from_str("-3").unwrap();
        assert_eq!(negative, money("-3"));
        assert!(serde_json::from_str::<Money>("12.5").is_err());
        assert!(serde_json::from_str::<Money>("\"1.234\"").is_err());
        assert!(serde_json::from_str::<Money>("18446744073709551615").is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
    }

    #[test]
    fn sign_rules() {
        assert_eq!(PositiveMoney::parse("0.01").unwrap().get(), money("0.01"));
        assert_eq!(
            PositiveMoney::parse("0").unwrap_err().code(),
            "NOT_POSITIVE"
        );
        assert_eq!(
            PositiveMoney::parse("-1").unwrap_err().code(),
            "NOT_POSITIVE"
        );
        assert_eq!(NonNegativeMoney::parse("0").unwrap().get(), Money::ZERO);
        assert_eq!(
            NonNegativeMoney::parse("-0.01").unwrap_err().code(),
            "NEGATIVE"
        );
        assert_eq!(
            PositiveMoney::parse("1.234").unwrap_err().code(),
            "TOO_MANY_DECIMALS"
        );

        let p: PositiveMoney = serde_json::from_str("\"10\"").unwrap();
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"10.00\"");
        assert!(serde_json::from_str::<PositiveMoney>("\"0\"").is_err());
        assert!(serde_json::from_str::<NonNegativeMoney>("-1").is_err());
        assert_eq!(format!("{p:?}"), "PositiveMoney(10.00)");
        assert_eq!(NonNegativeMoney::from(p).get(), money("10"));
    }

    fn fen() -> impl Strategy<Value = i64> {
        -MAX_FEN..=MAX_FEN
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(fen in fen()) {
            let m = Money::from_fen(fen).unwrap();
            prop_assert_eq!(Money::parse(&m.to_string()), Ok(m));
            prop_assert_eq!(m.to_fen(), fen);
            prop_assert_eq!(m.as_decimal().scale(), 2);
            let json = serde_json::to_string(&m).unwrap();
            prop_assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        }

        #[test]
        fn add_and_sub_never_lose_a_fen(a in fen(), b in fen()) {
            let (ma, mb) = (Money::from_fen(a).unwrap(), Money::from_fen(b).unwrap());
            match ma.checked_add(mb) {
                Some(sum) => {
                    prop_assert_eq!(sum.to_fen(), a + b);
                    prop_assert_eq!(sum.checked_sub(mb), Some(ma));
                }
                None => prop_assert!((a + b).abs() > MAX_FEN),
            }
            match ma.checked_sub(mb) {
                Some(difference) => {
                    prop_assert_eq!(difference.to_fen(), a - b);
                    prop_assert_eq!(difference.checked_add(mb), Some(ma));
                }
                None => prop_assert!((a - b).abs() > MAX_FEN),
            }
        }

        #[test]
        fn parsing_two_decimals_is_exact(whole in 0u64..10_000_000_000_000_000, cents in 0u8..100) {
            let m = Money::parse(&format!("{whole}.{cents:02}")).unwrap();
            prop_assert_eq!(m.to_fen(), whole as i64 * 100 + i64::from(cents));
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,25}") {
            let _ = Money::parse(&s);
        }
    }
}
