//! 银行卡号: bank card numbers that wages are paid to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::mask::mask_middle;
use super::ParseError;

const WHAT: &str = "bank card number";

/// 银行卡号: the number of the worker's own bank card (工资卡), 12–19
/// digits ending in a Luhn check digit (ISO/IEC 7812).
///
/// Whitespace anywhere in the input is ignored, since card numbers are
/// usually written in groups of four. Only the shape and the check digit are
/// verified; whether the account exists is the bank's answer.
///
/// This is personal data. `Debug` prints the masked form; `Display`,
/// [`BankCard::as_str`] and serde give the full number, for storage and bank
/// files only. Log [`BankCard::masked`].
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BankCard(String);

impl BankCard {
    /// Parses a card number, dropping whitespace.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let mut digits = String::with_capacity(19);
        for (i, c) in s.trim().chars().enumerate() {
            if c.is_whitespace() {
                continue;
            }
            if !c.is_ascii_digit() {
                return Err(ParseError::InvalidCharacter {
                    what: WHAT,
                    position: i + 1,
                    found: c,
                    allowed: "only digits and spaces may be used",
                });
            }
            digits.push(c);
        }
        if digits.is_empty() {
            return Err(ParseError::Empty { what: WHAT });
        }
        if !(12..=19).contains(&digits.len()) {
            return Err(ParseError::InvalidLength {
                what: WHAT,
                expected: "12 to 19",
                actual: digits.len(),
            });
        }
        if luhn_sum(digits.as_bytes()) % 10 != 0 {
            return Err(ParseError::InvalidCheckCharacter { what: WHAT });
        }
        Ok(BankCard(digits))
    }

    /// The Luhn check digit to append to `body` (all digits of a card
    /// number but the last), or `None` when `body` is empty or not ASCII
    /// digits. Useful to build test data.
    pub fn check_digit(body: &str) -> Option<char> {
        if body.is_empty() || !body.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let mut with_zero = body.as_bytes().to_vec();
        with_zero.push(b'0');
        let check = (10 - luhn_sum(&with_zero) % 10) % 10;
        char::from_digit(check, 10)
    }

    /// The digits, without spaces.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, as shown to the worker ("card ending 1234").
    pub fn last_four(&self) -> &str {
        // At least 12 ASCII digits, so the slice exists.
        self.0.get(self.0.len() - 4..).unwrap_or_default()
    }

    /// The number with only the first 4 and last 4 digits visible and the
    /// length kept, `6222***********1234`: safe for logs and lists.
    pub fn masked(&self) -> String {
        mask_middle(&self.0, 4, 4)
    }
}

/// Luhn sum of ASCII digits, the last one being the check digit: every second
/// digit from the right is doubled, and 9 subtracted when that exceeds 9.
fn luhn_sum(digits: &[u8]) -> u32 {
    digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d.wrapping_sub(b'0'));
            match (i % 2 == 1, d * 2) {
                (false, _) => d,
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
            }
        })
        .sum()
}

impl fmt::Debug for BankCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("BankCard").field(&self.masked()).finish()
    }
}

/// The full number: use [`BankCard::masked`] for anything that is logged.
impl fmt::Display for BankCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for BankCard {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for BankCard {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BankCard {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl TryFrom<&str> for BankCard {
    type Error = ParseError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<BankCard> for String {
    fn from(card: BankCard) -> String {
        card.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Independent reference: the Luhn check digit computed left to right
    /// with a digit-sum table for the doubled positions.
    fn reference_check_digit(body: &str) -> char {
        const DOUBLED: [u32; 10] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
        let n = body.len();
        let sum: u32 = body
            .chars()
            .enumerate()
            .map(|(i, c)| {
                let d = c.to_digit(10).unwrap();
                // Counting from the right after the check digit is appended,
                // the body's last digit is in position 2, which is doubled.
                if (n - i) % 2 == 1 {
                    DOUBLED[d as usize]
                } else {
                    d
                }
            })
            .sum();
        char::from_digit((10 - sum % 10) % 10, 10).unwrap()
    }

    #[test]
    fn valid_cards_parse_and_spaces_are_dropped() {
        for card in [
            "4111111111111111",
            "6222 0212 3456 7891 234",
            "79927398713",
            "6228480402564890018",
            "621700000000000",
        ] {
            let digits: String = card.chars().filter(|c| !c.is_whitespace()).collect();
            let body = &digits[..digits.len() - 1];
            let expected_ok = (12..=19).contains(&digits.len())
                && reference_check_digit(body).to_string() == digits[digits.len() - 1..];
            assert_eq!(BankCard::parse(card).is_ok(), expected_ok, "{card}");
        }
        let card = BankCard::parse(" 4111 1111 1111 1111 ").unwrap();
        assert_eq!(card.as_str(), "4111111111111111");
        assert_eq!(card.last_four(), "1111");
    }

    #[test]
    fn invalid_cards_are_rejected_with_a_code() {
        let cases = [
            ("", "EMPTY"),
            ("    ", "EMPTY"),
            ("4111-1111-1111-1111", "INVALID_CHARACTER"),
            ("411111111111111a", "INVALID_CHARACTER"),
            ("４111111111111111", "INVALID_CHARACTER"),
            ("79927398713", "INVALID_LENGTH"),
            ("41111111111111111111", "INVALID_LENGTH"),
            ("4111111111111112", "INVALID_CHECK_CHARACTER"),
            ("1111111111111111", "INVALID_CHECK_CHARACTER"),
        ];
        for (input, code) in cases {
            let err = BankCard::parse(input).expect_err(input);
            assert_eq!(err.code(), code, "{input}: {err}");
        }
    }

    #[test]
    fn debug_and_masked_hide_the_middle() {
        let card = BankCard::parse("6228480402564890018").unwrap();
        assert_eq!(card.masked(), "6228***********0018");
        assert_eq!(format!("{card:?}"), "BankCard(\"6228***********0018\")");
    }

    #[test]
    fn serde_round_trip_goes_through_parse() {
        let card: BankCard = serde_json::from_str("\"4111 1111 1111 1111\"").unwrap();
        assert_eq!(
            serde_json::to_string(&card).unwrap(),
            "\"4111111111111111\""
        );
        assert!(serde_json::from_str::<BankCard>("\"4111111111111112\"").is_err());
    }

    fn body() -> impl Strategy<Value = String> {
        "[0-9]{11,18}"
    }

    proptest! {
        #[test]
        fn any_body_with_its_check_digit_parses(body in body()) {
            let card = format!("{body}{}", reference_check_digit(&body));
            prop_assert_eq!(BankCard::parse(&card).map(String::from), Ok(card.clone()));
            prop_assert_eq!(BankCard::check_digit(&body), Some(reference_check_digit(&body)));
            let masked = BankCard::parse(&card).map(|c| c.masked()).unwrap_or_default();
            prop_assert_eq!(masked.len(), card.len());
            prop_assert_eq!(&masked[..4], &card[..4]);
        }

        #[test]
        fn any_single_digit_substitution_is_detected(
            body in body(),
            position in 0usize..19,
            replacement in proptest::char::range('0', '9'),
        ) {
            let card = format!("{body}{}", reference_check_digit(&body));
            let position = position % card.len();
            let mut digits: Vec<char> = card.chars().collect();
            prop_assume!(digits[position] != replacement);
            digits[position] = replacement;
            let changed: String = digits.into_iter().collect();
            prop_assert_eq!(
                BankCard::parse(&changed).map_err(|e| e.code()),
                Err("INVALID_CHECK_CHARACTER")
            );
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = BankCard::parse(&s);
        }
    }
}
