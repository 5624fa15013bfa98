//! 居民身份证号码: resident identity numbers (GB 11643-1999).

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::mask::mask_middle;
use super::period::today_in_shanghai;
use super::ParseError;

const WHAT: &str = "resident ID number";

/// Weights of the first 17 digits: 2^(17-i) mod 11 (ISO 7064 MOD 11-2).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character by weighted sum mod 11.
const CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";

/// 居民身份证号码: resident identity number (GB 11643-1999).
///
/// 18 characters: the 6-digit code of the region that issued it, the birth
/// date as `YYYYMMDD`, a 3-digit sequence number and an ISO 7064 MOD 11-2
/// check character (`0`–`9` or `X`).
///
/// Holding a `ResidentId` means: the shape is right, the birth date is a real
/// date from 1900-01-01 up to today, and the check character matches. The
/// region prefix is not checked against the region table, because numbers
/// issued by since-abolished divisions remain valid.
///
/// This is personal data. `Debug` prints the masked form; `Display`,
/// [`ResidentId::as_str`] and serde give the full number, for storage, bank
/// files and the worker's own pages only. Log [`ResidentId::masked`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId {
    /// 18 ASCII characters, a final `x` upper-cased.
    text: String,
    birth_date: NaiveDate,
}

/// What is wrong with the birth date inside a resident ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BirthDateProblem {
    #[error("characters 7 to 14 are not a calendar date (YYYYMMDD)")]
    NotACalendarDate,
    #[error("it is in the future")]
    InTheFuture,
    #[error("it is before 1900")]
    Before1900,
}

impl ResidentId {
    /// Parses a resident ID number, judging "the future" by today's date in
    /// China. Surrounding whitespace is ignored and a final `x` is accepted
    /// as `X`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        Self::parse_on(s, today_in_shanghai())
    }

    /// Like [`ResidentId::parse`], with an explicit "today" for the
    /// birth-date check (deterministic tests, historical imports).
    pub fn parse_on(s: &str, today: NaiveDate) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        let length = s.chars().count();
        if length != 18 {
            return Err(ParseError::InvalidLength {
                what: WHAT,
                expected: "18",
                actual: length,
            });
        }

        let mut text = String::with_capacity(18);
        for (i, c) in s.chars().enumerate() {
            let allowed = if i < 17 {
                c.is_ascii_digit()
            } else {
                c.is_ascii_digit() || c == 'X' || c == 'x'
            };
            if !allowed {
                return Err(ParseError::InvalidCharacter {
                    what: WHAT,
                    position: i + 1,
                    found: c,
                    allowed: if i < 17 {
                        "the first 17 characters must be digits"
                    } else {
                        "the last character must be a digit or X"
                    },
                });
            }
            text.push(c.to_ascii_uppercase());
        }

        let bytes = text.as_bytes();
        let birth_date = birth_date_from_digits(&bytes[6..14], today)?;
        if check_character_of(&bytes[..17]) != bytes[17] {
            return Err(ParseError::InvalidCheckCharacter { what: WHAT });
        }
        Ok(ResidentId { text, birth_date })
    }

    /// The check character for the first 17 digits of a number, or `None`
    /// when `body` is not exactly 17 ASCII digits. Useful to build test data.
    pub fn check_character(body: &str) -> Option<char> {
        let bytes = body.as_bytes();
        if bytes.len() != 17 || !bytes.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(char::from(check_character_of(bytes)))
    }

    /// The full number, 18 characters, with an upper-case `X` if any.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The birth date encoded in characters 7–14.
    pub fn birth_date(&self) -> NaiveDate {
        self.birth_date
    }

    /// The number with only the first 4 and last 4 characters visible,
    /// `1101**********1234`: safe for logs and lists.
    pub fn masked(&self) -> String {
        mask_middle(&self.text, 4, 4)
    }
}

/// Weighted MOD 11-2 check character over 17 ASCII digits.
fn check_character_of(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit.wrapping_sub(b'0')) * weight)
        .sum();
    CHECK_CHARACTERS[(sum % 11) as usize]
}

/// `YYYYMMDD` (already known to be ASCII digits) as a date in 1900..=today.
fn birth_date_from_digits(digits: &[u8], today: NaiveDate) -> Result<NaiveDate, ParseError> {
    let number = |range: std::ops::Range<usize>| {
        digits[range]
            .iter()
            .fold(0u32, |n, d| n * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let date = i32::try_from(year)
        .ok()
        .and_then(|year| NaiveDate::from_ymd_opt(year, month, day))
        .ok_or(ParseError::InvalidBirthDate(
            BirthDateProblem::NotACalendarDate,
        ))?;
    if year < 1900 {
        return Err(ParseError::InvalidBirthDate(BirthDateProblem::Before1900));
    }
    if date > today {
        return Err(ParseError::InvalidBirthDate(BirthDateProblem::InTheFuture));
    }
    Ok(date)
}

impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResidentId").field(&self.masked()).finish()
    }
}

/// The full number: use [`ResidentId::masked`] for anything that is logged.
impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl AsRef<str> for ResidentId {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl FromStr for ResidentId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for ResidentId {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for ResidentId {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<ResidentId> for String {
    fn from(id: ResidentId) -> String {
        id.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Fixed "today" so the tests do not depend on the clock.
    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 24).unwrap()
    }

    fn parse(s: &str) -> Result<ResidentId, ParseError> {
        ResidentId::parse_on(s, today())
    }

    /// Independent reference: ISO 7064 MOD 11-2 computed from its definition,
    /// weights 2^(n-1) mod 11 from the right and check value
    /// (12 - sum mod 11) mod 11, 10 written as X.
    fn reference_check(body: &str) -> char {
        let mut sum = 0u64;
        for (i, c) in body.chars().enumerate() {
            let position_from_right = 18 - i as u32; // check character is position 1
            let weight = 2u64.pow(position_from_right - 1) % 11;
            sum += u64::from(c.to_digit(10).unwrap()) * weight;
        }
        match (12 - sum % 11) % 11 {
            10 => 'X',
            v => char::from_digit(v as u32, 10).unwrap(),
        }
    }

    fn with_reference_check(body: &str) -> String {
        format!("{body}{}", reference_check(body))
    }

    const VALID_BODIES: [&str; 22] = [
        "11010519491231002", // the standard's own example: 11010519491231002X
        "44052419800101001",
        "11010119900307001",
        "11010119900307002",
        "31011519850615123",
        "42010219700101456",
        "42011120001231789",
        "51010719751008333",
        "65010219620707777",
        "35020319991111000",
        "50022919880229246", // leap day
        "23010219000101005", // first allowed year
        "44030420261124001", // born today
        "13010220000229111", // leap day in a century leap year
        "81000019950505050",
        "37010219600229123",
        "61010319810303030",
        "22010219770707070",
        "43010419691111999",
        "46000120200101222",
        "21010219550505123",
        "53010219330315009",
    ];

    #[test]
    fn valid_numbers_parse() {
        for body in VALID_BODIES {
            let id = with_reference_check(body);
            let parsed = parse(&id).unwrap_or_else(|e| panic!("{id}: {e}"));
            assert_eq!(parsed.as_str(), id);
        }
    }

    #[test]
    fn the_standards_example_has_check_character_x() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(ResidentId::check_character("11010519491231002"), Some('X'));
    }

    #[test]
    fn lowercase_x_and_surrounding_whitespace_are_normalised() {
        let id = parse(" 11010519491231002x\n").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.to_string(), "11010519491231002X");
    }

    #[test]
    fn invalid_numbers_are_rejected_with_a_code() {
        let cases: [(&str, &str); 24] = [
            ("", "EMPTY"),
            ("   ", "EMPTY"),
            ("11010519491231002", "INVALID_LENGTH"),
            ("11010519491231002X1", "INVALID_LENGTH"),
            ("110105491231002", "INVALID_LENGTH"), // first-generation 15 digits
            ("1101051949123100２X", "INVALID_CHARACTER"), // full-width digit
            ("11010519491231002Y", "INVALID_CHARACTER"),
            ("X10105194912310021", "INVALID_CHARACTER"),
            ("110105 19491231002", "INVALID_CHARACTER"),
            ("11010519491231002-", "INVALID_CHARACTER"),
            ("1101051949123100X2", "INVALID_CHARACTER"),
            ("11010519491231002１", "INVALID_CHARACTER"),
            ("110105194912310021", "INVALID_CHECK_CHARACTER"),
            ("110105194912310020", "INVALID_CHECK_CHARACTER"),
            ("11010519491231003X", "INVALID_CHECK_CHARACTER"),
            ("01010519491231002X", "INVALID_CHECK_CHARACTER"),
            ("11010519941231002X", "INVALID_CHECK_CHARACTER"), // transposed year digits
            ("440524188001010014", "INVALID_BIRTH_DATE"),      // the standard's 1880 example
            ("110105199902300001", "INVALID_BIRTH_DATE"),
            ("110105199913010001", "INVALID_BIRTH_DATE"),
            ("110105199900100001", "INVALID_BIRTH_DATE"),
            ("110105202102290001", "INVALID_BIRTH_DATE"),
            ("110105203001010001", "INVALID_BIRTH_DATE"),
            ("110105000001010001", "INVALID_BIRTH_DATE"),
        ];
        for (input, code) in cases {
            let err = parse(input).expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
    }

    #[test]
    fn birth_date_problems_are_distinguished() {
        let future = with_reference_check("44030420261125001");
        assert_eq!(
            parse(&future),
            Err(ParseError::InvalidBirthDate(BirthDateProblem::InTheFuture))
        );
        let old = with_reference_check("44030418991231001");
        assert_eq!(
            parse(&old),
            Err(ParseError::InvalidBirthDate(BirthDateProblem::Before1900))
        );
        let not_a_date = with_reference_check("11010519990230001");
        assert_eq!(
            parse(&not_a_date),
            Err(ParseError::InvalidBirthDate(
                BirthDateProblem::NotACalendarDate
            ))
        );
    }

    #[test]
    fn debug_and_masked_never_show_the_whole_number() {
        let id = parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "ResidentId(\"1101**********002X\")");
        assert!(!format!("{:?}", Some(&id)).contains("19491231"));
    }

    #[test]
    fn errors_do_not_repeat_the_number() {
        let err = parse("110105194912310021").unwrap_err();
        assert!(!err.to_string().contains("1949"));
    }

    #[test]
    fn serde_round_trip_goes_through_parse() {
        let id = parse("11010519491231002x").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"11010519491231002X\"");
        let back: ResidentId = serde_json::from_str(&json).unwrap();
        assert_eq!(back, id);
        assert!(serde_json::from_str::<ResidentId>("\"110105194912310021\"").is_err());
    }

    #[test]
    fn check_character_rejects_non_bodies() {
        assert_eq!(ResidentId::check_character("1234"), None);
        assert_eq!(ResidentId::check_character("1101051949123100X"), None);
    }

    fn valid_body() -> impl Strategy<Value = String> {
        let first = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
        let span = (today() - first).num_days();
        ("[0-9]{6}", 0..=span, "[0-9]{3}").prop_map(move |(region, offset, sequence)| {
            let birth = first + chrono::Days::new(offset as u64);
            format!("{region}{}{sequence}", birth.format("%Y%m%d"))
        })
    }

    proptest! {
        #[test]
        fn any_body_with_a_valid_date_and_its_check_character_parses(body in valid_body()) {
            let id = with_reference_check(&body);
            let parsed = parse(&id).map_err(|e| TestCaseError::fail(format!("{id}: {e}")))?;
            prop_assert_eq!(parsed.as_str(), id.as_str());
            prop_assert_eq!(parsed.birth_date().format("%Y%m%d").to_string(), &body[6..14]);
            prop_assert_eq!(ResidentId::check_character(&body), reference_check(&body).into());
        }

        #[test]
        fn any_single_character_substitution_is_detected(
            body in valid_body(),
            position in 0usize..18,
            replacement in proptest::sample::select("0123456789X".chars().collect::<Vec<_>>()),
        ) {
            let id = with_reference_check(&body);
            let mut chars: Vec<char> = id.chars().collect();
            prop_assume!(chars[position] != replacement);
            chars[position] = replacement;
            let changed: String = chars.into_iter().collect();
            prop_assert!(parse(&changed).is_err(), "{} was accepted", changed);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = parse(&s);
        }
    }
}
