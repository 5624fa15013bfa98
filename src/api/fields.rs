//! Parsing raw request fields into domain types at the edge, so a handler
//! holds only valid values and every fault names its field.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use super::error::ApiError;
use super::tabular::RowProblem;
use crate::domain::{excerpt, BankCard, Money, RegionCode, Regions, ResidentId, Uscc};
use crate::tabular::fields::invisible_character;

/// A JSON value given as a string or a number, kept as its exact text
/// (so `1.005` stays `1.005` and is refused, never rounded).
#[derive(Debug, Clone, PartialEq, Eq, utoipa::ToSchema)]
#[schema(value_type = String, example = "1200000.00")]
pub struct Text(pub String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            N(serde_json::Number),
        }
        Ok(Text(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::N(n) => n.to_string(),
        }))
    }
}

/// A field fault, usable for a whole request (ApiError) or a row (RowProblem).
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub reason: String,
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::invalid_field(e.field, e.code, e.reason)
    }
}

impl From<FieldError> for RowProblem {
    fn from(e: FieldError) -> Self {
        RowProblem::field(e.field, e.code, e.reason)
    }
}

fn fault(field: &'static str, code: &'static str, reason: impl Into<String>) -> FieldError {
    FieldError {
        field,
        code,
        reason: reason.into(),
    }
}

pub fn required<'a>(field: &'static str, value: Option<&'a str>) -> Result<&'a str, FieldError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| fault(field, "MISSING_FIELD", format!("{field} is required")))
}

pub fn text(field: &'static str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(fault(
            field,
            "MISSING_FIELD",
            format!("{field} must not be empty"),
        ));
    }
    if value.chars().count() > max_chars {
        return Err(fault(
            field,
            "TOO_LONG",
            format!("{field} is longer than {max_chars} characters"),
        ));
    }
    if let Some((position, c)) = invisible_character(value) {
        return Err(fault(
            field,
            "INVALID_CHARACTER",
            format!(
                "{field} contains the invisible character U+{:04X} at character {position}; remove it",
                u32::from(c)
            ),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(fault(
            field,
            "INVALID_CHARACTER",
            format!("{field} contains control characters"),
        ));
    }
    Ok(value.to_owned())
}

pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max_chars: usize,
) -> Result<Option<String>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(field, v, max_chars).map(Some),
        None => Ok(None),
    }
}

pub fn resident_id(field: &'static str, value: &str) -> Result<ResidentId, FieldError> {
    ResidentId::parse(value).map_err(|e| fault(field, e.code(), e.to_string()))
}

pub fn uscc(field: &'static str, value: &str) -> Result<Uscc, FieldError> {
    Uscc::parse(value).map_err(|e| fault(field, e.code(), e.to_string()))
}

pub fn bank_card(field: &'static str, value: &str) -> Result<BankCard, FieldError> {
    BankCard::parse(value).map_err(|e| fault(field, e.code(), e.to_string()))
}

/// A region code that exists in GB/T 2260.
pub fn region(field: &'static str, value: &str) -> Result<RegionCode, FieldError> {
    let code = RegionCode::parse(value).map_err(|e| fault(field, e.code(), e.to_string()))?;
    if !Regions::get().exists(&code) {
        return Err(fault(
            field,
            "UNKNOWN_REGION",
            format!("{} is not a region code in GB/T 2260", code.as_str()),
        ));
    }
    Ok(code)
}

/// A positive amount of money with at most two decimals.
pub fn positive_money(field: &'static str, value: &str) -> Result<Decimal, FieldError> {
    let money = Money::parse(value).map_err(|e| fault(field, e.code(), e.to_string()))?;
    let amount = money.as_decimal();
    if amount <= Decimal::ZERO {
        return Err(fault(
            field,
            "NOT_POSITIVE",
            format!("{field} must be greater than zero"),
        ));
    }
    Ok(amount)
}

/// A decimal (not money) with at most `scale` decimals, within bounds.
pub fn decimal(
    field: &'static str,
    value: &str,
    scale: u32,
    min: Decimal,
    max: Decimal,
) -> Result<Decimal, FieldError> {
    let v: Decimal = value.trim().parse().map_err(|_| {
        fault(
            field,
            "INVALID_NUMBER",
            format!("{:?} is not a number", excerpt(value, 24)),
        )
    })?;
    if v.normalize().scale() > scale {
        return Err(fault(
            field,
            "TOO_MANY_DECIMALS",
            format!("{field} has more than {scale} decimals"),
        ));
    }
    if v < min || v > max {
        return Err(fault(
            field,
            "OUT_OF_RANGE",
            format!("{field} must be between {min} and {max}"),
        ));
    }
    Ok(v)
}

/// A calendar date: `2026-03-01`, `2026/3/1` (as spreadsheets write it) or `20260301`.
pub fn date(field: &'static str, value: &str) -> Result<NaiveDate, FieldError> {
    let v = value.trim();
    ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(v, f).ok())
        .ok_or_else(|| {
            fault(
                field,
                "INVALID_DATE",
                format!("{:?} is not a valid date (use YYYY-MM-DD)", excerpt(v, 24)),
            )
        })
}

pub fn optional_date(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<NaiveDate>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => date(field, v).map(Some),
        None => Ok(None),
    }
}

/// A day of the month, 1–31.
pub fn day_of_month(field: &'static str, value: i64) -> Result<i16, FieldError> {
    if (1..=31).contains(&value) {
        Ok(value as i16)
    } else {
        Err(fault(
            field,
            "OUT_OF_RANGE",
            format!("{field} must be a day of the month, 1 to 31"),
        ))
    }
}

/// Collects every field fault of a row, so the row comes back with all of them at once.
#[derive(Debug, Default)]
pub struct Collector(Vec<RowProblem>);

impl Collector {
    /// The value, or `None` with its fault noted.
    pub fn keep<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        result.map_err(|e| self.0.push(e.into())).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_problems(self) -> Vec<RowProblem> {
        self.0
    }
}
