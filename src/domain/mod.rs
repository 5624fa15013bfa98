//! Pure domain types: identifiers and values that are valid once constructed.
//!
//! Handlers turn raw request text into these types at the edge ("parse, don't
//! validate"); code further in can rely on a [`ResidentId`] having a correct
//! check character or a [`Money`] having at most two decimal places.
//!
//! This module is pure: no database, no web framework, no banks, no network.
//! Reference data (regions, minimum wages) is compiled into the binary.
//! The only impure call is [`today_in_shanghai`], which reads the clock;
//! everything that depends on "today" also has a variant taking the date.

pub mod bank_card;
pub mod bank_ids;
pub mod disbursement;
pub mod mask;
pub mod minimum_wage;
pub mod money;
pub mod payroll;
pub mod period;
pub mod region;
pub mod resident_id;
pub mod uscc;

pub use bank_card::BankCard;
pub use mask::{excerpt, mask_middle, mask_numbers, mask_phone, truncate_chars};
pub use minimum_wage::{monthly_minimum_wage, MinimumWage, MinimumWageTable, TierBasis};
pub use money::{Money, NonNegativeMoney, PositiveMoney};
pub use period::{today_in_shanghai, Period};
pub use region::{Region, RegionCode, RegionLevel, Regions};
pub use resident_id::{BirthDateProblem, ResidentId};
pub use uscc::Uscc;

/// Why a piece of text is not a valid domain value.
///
/// [`ParseError::code`] is a stable machine code for API clients (the `code`
/// of a problem+json response); `Display` is a human explanation in English.
/// Messages never repeat the rejected value, because it may be personal data
/// (an ID or card number) and errors end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("{what} is empty")]
    Empty { what: &'static str },

    #[error("{what} must have {expected} characters, not {actual}")]
    InvalidLength {
        what: &'static str,
        expected: &'static str,
        actual: usize,
    },

    #[error("{what} has an invalid character {found:?} at position {position}: {allowed}")]
    InvalidCharacter {
        what: &'static str,
        /// 1-based position in the (trimmed) input, counted in characters.
        position: usize,
        found: char,
        allowed: &'static str,
    },

    #[error("{what} is not valid: its check character does not match the other characters (probably a mistyped character)")]
    InvalidCheckCharacter { what: &'static str },

    #[error("resident ID number has an invalid birth date: {0}")]
    InvalidBirthDate(BirthDateProblem),

    #[error("{what} must be written as {expected}")]
    InvalidFormat {
        what: &'static str,
        expected: &'static str,
    },

    #[error("{what} is out of range: {allowed}")]
    OutOfRange {
        what: &'static str,
        allowed: &'static str,
    },

    #[error("amount has more than 2 decimal places: amounts are in yuan, to the fen")]
    TooManyDecimals,

    #[error("amount must be greater than zero")]
    NotPositive,

    #[error("amount must not be negative")]
    Negative,

    #[error(
        "region code {0} is not a known administrative division (GB/T 2260, as of 2024-12-31)"
    )]
    UnknownRegion(RegionCode),
}

impl ParseError {
    /// Stable machine-readable code, e.g. `INVALID_CHECK_CHARACTER`.
    pub fn code(&self) -> &'static str {
        match self {
            ParseError::Empty { .. } => "EMPTY",
            ParseError::InvalidLength { .. } => "INVALID_LENGTH",
            ParseError::InvalidCharacter { .. } => "INVALID_CHARACTER",
            ParseError::InvalidCheckCharacter { .. } => "INVALID_CHECK_CHARACTER",
            ParseError::InvalidBirthDate(_) => "INVALID_BIRTH_DATE",
            ParseError::InvalidFormat { .. } => "INVALID_FORMAT",
            ParseError::OutOfRange { .. } => "OUT_OF_RANGE",
            ParseError::TooManyDecimals => "TOO_MANY_DECIMALS",
            ParseError::NotPositive => "NOT_POSITIVE",
            ParseError::Negative => "NEGATIVE",
            ParseError::UnknownRegion(_) => "UNKNOWN_REGION",
        }
    }
}

/// An embedded reference data file (regions, minimum wages) is malformed.
///
/// Only raised when loading data, never for user input; the embedded files
/// are checked by unit tests, so in a built binary this cannot happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {reason}")]
pub struct ReferenceDataError {
    pub file: &'static str,
    pub line: u64,
    pub reason: String,
}

/// Reads a reference CSV file, checking its header, and returns the
/// deserialised rows with their line numbers.
fn read_reference_csv<T: serde::de::DeserializeOwned>(
    file: &'static str,
    text: &str,
    expected_header: &[&str],
) -> Result<Vec<(u64, T)>, ReferenceDataError> {
    let error = |line: u64, reason: String| ReferenceDataError { file, line, reason };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| error(1, e.to_string()))?
        .clone();
    if header.iter().ne(expected_header.iter().copied()) {
        return Err(error(
            1,
            format!("header must be {:?}", expected_header.join(",")),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            error(line, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let row = record
            .deserialize(Some(&header))
            .map_err(|e| error(line, e.to_string()))?;
        rows.push((line, row));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable_upper_snake_case() {
        let errors = [
            ParseError::Empty { what: "x" },
            ParseError::InvalidLength {
                what: "x",
                expected: "18",
                actual: 3,
            },
            ParseError::InvalidCheckCharacter { what: "x" },
            ParseError::InvalidBirthDate(BirthDateProblem::InTheFuture),
            ParseError::TooManyDecimals,
        ];
        for e in errors {
            let code = e.code();
            assert!(code.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
            assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn messages_read_as_plain_english() {
        let e = ParseError::InvalidLength {
            what: "resident ID number",
            expected: "18",
            actual: 15,
        };
        assert_eq!(
            e.to_string(),
            "resident ID number must have 18 characters, not 15"
        );
        assert_eq!(e.code(), "INVALID_LENGTH");
    }
}
