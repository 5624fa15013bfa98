//! Reading a submitted payroll: the body (JSON, CSV or XLSX) through the
//! bounded upload reader [`crate::tabular`] with the payroll schema, the
//! period and employer it names, and each line parsed into what the matching
//! rules take, or kept as given with its faults.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::payroll::{self as rules, ItemKind, PayItem};
use crate::domain::{Money, Period};
use crate::error::{AppError, ErrorCode, Problem};
use crate::tabular::{
    self, columns, fields, Collector, FieldError, Limits, RawRow, RowProblem, Table, TableError,
    Upload,
};

/// A JSON submission. CSV and XLSX bodies carry only the lines; `period`
/// (and `employer_uscc`) then go in the query string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitPayroll {
    /// `YYYY-MM`.
    #[schema(example = "2026-10")]
    pub period: Option<String>,
    /// The employer whose payroll this is: a subcontractor's own USCC, or
    /// for the general contractor its own (the default) or an attached subcontractor's.
    pub employer_uscc: Option<String>,
    /// Lines: `id_number`, `name`, `card_number`, `days_worked`, `hours`,
    /// `gross` (or items `base_pay`, `piece_pay`, `overtime_pay`, `bonus`, `allowance`),
    /// `deductions` (or items `social_insurance`, `housing_fund`, `income_tax`,
    /// `advance`, `other_deductions`), `net`. Amounts as strings ("5500.00") or numbers.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
}

/// The body of a submission as received, with what the query string said.
#[derive(Debug, Clone)]
pub struct Body {
    /// Lower-case, without parameters (`text/csv`).
    pub media_type: String,
    pub charset: Option<String>,
    pub bytes: Vec<u8>,
    pub query_period: Option<String>,
    pub query_employer_uscc: Option<String>,
}

/// A submission read and parsed, before the database is asked anything.
pub(crate) struct Parsed {
    pub(crate) period: Period,
    pub(crate) employer_uscc: Option<String>,
    pub(crate) source_format: &'static str,
    pub(crate) lines: Vec<Submitted>,
}

/// A line as submitted: readable (every field parsed) or not.
pub(crate) enum Submitted {
    Readable(rules::Line),
    Unreadable(Unreadable),
}

/// What could be read of a line with faults, kept as given.
pub(crate) struct Unreadable {
    pub(crate) line_no: usize,
    pub(crate) id_number: String,
    pub(crate) name: String,
    pub(crate) card_number: String,
    pub(crate) days_worked: Option<Decimal>,
    pub(crate) hours: Option<Decimal>,
    pub(crate) gross: Option<Money>,
    pub(crate) deductions: Option<Money>,
    pub(crate) net: Option<Money>,
    pub(crate) problems: Vec<RowProblem>,
}

/// Reads the body, the period (not after `today`'s month) and every line.
pub(crate) fn read(body: &Body, today: NaiveDate) -> Result<Parsed, AppError> {
    let limits = Limits::configured();
    let (period, employer_uscc, table, source_format) =
        match tabular::Format::of_media_type(&body.media_type) {
            Some(tabular::Format::Json) => {
                let input: SubmitPayroll = parse_json(&body.bytes)?;
                let period = match (input.period, body.query_period.clone()) {
                    (Some(a), Some(b)) if a.trim() != b.trim() => {
                        return Err(AppError::field(
                            "period",
                            ErrorCode::PeriodMismatch,
                            "the body and the query string name different periods",
                        ))
                    }
                    (a, b) => a.or(b),
                };
                let table = tabular::rows_from_json_items(input.lines, &columns::PAYROLL, &limits)
                    .map_err(upload_problem)?;
                let employer = input.employer_uscc.or(body.query_employer_uscc.clone());
                (period, employer, table, "json")
            }
            format => {
                let upload = Upload {
                    media_type: &body.media_type,
                    charset: body.charset.as_deref(),
                    bytes: &body.bytes,
                };
                let table = tabular::read_upload(upload, &columns::PAYROLL, &limits)
                    .map_err(upload_problem)?;
                refuse_missing_columns(&table)?;
                let source_format = match format {
                    Some(tabular::Format::Xlsx) => "xlsx",
                    _ => "csv",
                };
                let employer = body.query_employer_uscc.clone();
                (body.query_period.clone(), employer, table, source_format)
            }
        };
    let period = period.ok_or_else(|| {
        AppError::field(
            "period",
            ErrorCode::MissingField,
            "period (YYYY-MM) is required: in the JSON body, or as ?period= with CSV and XLSX",
        )
    })?;
    let period = parse_period(&period, today)?;
    let employer_uscc = employer_uscc
        .map(|u| {
            fields::uscc("employer_uscc", &u)
                .map(|u| u.as_str().to_owned())
                .map_err(field_problem)
        })
        .transpose()?;
    if table.rows.is_empty() {
        return Err(AppError::field(
            "lines",
            ErrorCode::NoLines,
            "the payroll has no lines",
        ));
    }
    Ok(Parsed {
        period,
        employer_uscc,
        source_format,
        lines: table.rows.iter().map(parse_line).collect(),
    })
}

/// A whole-upload refusal of the reader as the problem it answers, with the
/// reader's own status (400, 413, 415 or 422), code, field and detail.
pub(crate) fn upload_problem(e: TableError) -> AppError {
    AppError::Problem(Problem {
        code: ErrorCode::from(e.code),
        status: e.status,
        detail: e.detail,
        field: e.field,
    })
}

fn field_problem(e: FieldError) -> AppError {
    AppError::field(e.field, ErrorCode::from(e.code), e.reason)
}

/// A 工资表 file without a column every line needs is refused as a whole, as
/// it always was; gross pay may instead come as its items.
fn refuse_missing_columns(table: &Table) -> Result<(), AppError> {
    let has_gross_items = ItemKind::GROSS.iter().any(|k| table.has_column(k.key()));
    let missing = table
        .missing_columns
        .iter()
        .find(|&&key| !(key == "gross" && has_gross_items));
    let Some(&key) = missing else {
        return Ok(());
    };
    let aliases = columns::PAYROLL
        .find_key(key)
        .map(|c| c.column.aliases.join(", "))
        .unwrap_or_default();
    Err(AppError::field(
        key,
        ErrorCode::MissingColumn,
        format!("the header row has no {key:?} column (also accepted: {aliases})"),
    ))
}

/// The JSON envelope, with the path of a bad field named.
fn parse_json(bytes: &[u8]) -> Result<SubmitPayroll, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de)
        .map_err(|e| json_problem(&e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| json_problem("", &e))?;
    Ok(value)
}

fn json_problem(path: &str, e: &serde_json::Error) -> AppError {
    use serde_json::error::Category;
    // serde's message may quote input: masked and cut short.
    let message = tabular::mask_numbers(&e.to_string().chars().take(200).collect::<String>());
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => AppError::new(
            ErrorCode::MalformedJson,
            format!("the body is not valid JSON: {message}"),
        ),
        Category::Data => {
            let code = if message.starts_with("unknown field") {
                ErrorCode::UnknownField
            } else if message.starts_with("missing field") {
                ErrorCode::MissingField
            } else {
                ErrorCode::InvalidField
            };
            let named = message
                .split('`')
                .nth(1)
                .filter(|_| message.contains("field"));
            let field = match (path, named) {
                ("." | "", Some(named)) => named.to_owned(),
                (path, _) => path.to_owned(),
            };
            AppError::field(field, code, message)
        }
    }
}

/// A period in `YYYY-MM`, not after the current month in China.
pub(crate) fn parse_period(value: &str, today: NaiveDate) -> Result<Period, AppError> {
    let period = Period::parse(value)
        .map_err(|e| AppError::field("period", ErrorCode::from(e.code()), e.to_string()))?;
    match Period::containing(today) {
        Some(current) if period > current => Err(AppError::field(
            "period",
            ErrorCode::PeriodInFuture,
            format!("{period} has not begun yet; the current period is {current}"),
        )),
        _ => Ok(period),
    }
}

pub(crate) fn amount(
    field: &'static str,
    value: &str,
    allow_negative: bool,
) -> Result<Money, FieldError> {
    let money = Money::parse(value).map_err(|e| FieldError {
        field,
        code: e.code(),
        reason: format!("{field}: {e}"),
    })?;
    if money.is_negative() && !allow_negative {
        return Err(FieldError {
            field,
            code: "NEGATIVE",
            reason: format!("{field} must not be negative"),
        });
    }
    Ok(money)
}

fn optional_amount(field: &'static str, value: Option<&str>) -> Result<Option<Money>, FieldError> {
    value.map(|v| amount(field, v, false)).transpose()
}

fn clip(value: Option<&str>, max_chars: usize) -> String {
    value.unwrap_or("").chars().take(max_chars).collect()
}

/// The fields of a line, each parsed, with every fault collected.
struct LineFields {
    id_number: Option<crate::domain::ResidentId>,
    name: Option<String>,
    card: Option<crate::domain::BankCard>,
    days_worked: Option<Decimal>,
    hours: Option<Option<Decimal>>,
    gross_items: Vec<PayItem>,
    deduction_items: Vec<PayItem>,
    gross: Option<Option<Money>>,
    deductions: Option<Option<Money>>,
    net: Option<Money>,
}

fn line_fields(row: &RawRow, c: &mut Collector) -> LineFields {
    let id_number = c.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| fields::resident_id("id_number", v)),
    );
    let name =
        c.keep(fields::required("name", row.get("name")).and_then(|v| fields::text("name", v, 50)));
    let card = c.keep(
        fields::required("card_number", row.get("card_number"))
            .and_then(|v| fields::bank_card("card_number", v)),
    );
    let days_worked = c.keep(
        fields::required("days_worked", row.get("days_worked"))
            .and_then(|v| fields::decimal("days_worked", v, 2, Decimal::ZERO, Decimal::from(31))),
    );
    let hours = c.keep(
        row.get("hours")
            .map(|v| fields::decimal("hours", v, 2, Decimal::ZERO, Decimal::from(744)))
            .transpose(),
    );
    let items = |kinds: [ItemKind; 5], c: &mut Collector| -> Vec<PayItem> {
        kinds
            .into_iter()
            .filter_map(|kind| {
                let value = row.get(kind.key())?;
                c.keep(amount(kind.key(), value, false))
                    .map(|amount| PayItem { kind, amount })
            })
            .collect()
    };
    let gross_items = items(ItemKind::GROSS, c);
    let deduction_items = items(ItemKind::DEDUCTIONS, c);
    let gross = c.keep(optional_amount("gross", row.get("gross")));
    if row.get("gross").is_none() && ItemKind::GROSS.iter().all(|k| row.get(k.key()).is_none()) {
        c.keep::<()>(Err(FieldError {
            field: "gross",
            code: "MISSING_FIELD",
            reason: "gross (应发工资) is required, or its items (base_pay, overtime_pay, ...)"
                .to_owned(),
        }));
    }
    let deductions = c.keep(optional_amount("deductions", row.get("deductions")));
    let net = c.keep(fields::required("net", row.get("net")).and_then(|v| amount("net", v, true)));
    LineFields {
        id_number,
        name,
        card,
        days_worked,
        hours,
        gross_items,
        deduction_items,
        gross,
        deductions,
        net,
    }
}

pub(crate) fn parse_line(row: &RawRow) -> Submitted {
    let mut c = Collector::default();
    let f = line_fields(row, &mut c);
    let mut problems = row.problems.clone();
    let clean = c.is_empty() && problems.is_empty();
    problems.extend(c.into_problems());
    match f {
        LineFields {
            id_number: Some(id_number),
            name: Some(name),
            card: Some(card),
            days_worked: Some(days_worked),
            hours: Some(hours),
            gross: Some(gross),
            deductions: Some(deductions),
            net: Some(net),
            gross_items,
            deduction_items,
        } if clean => Submitted::Readable(rules::Line {
            line_no: row.number,
            id_number,
            name,
            card,
            days_worked,
            hours,
            gross,
            gross_items,
            deductions,
            deduction_items,
            net,
        }),
        f => Submitted::Unreadable(Unreadable {
            line_no: row.number,
            id_number: clip(row.get("id_number"), 40),
            name: clip(row.get("name"), 100),
            card_number: clip(row.get("card_number"), 40),
            days_worked: f.days_worked,
            hours: f.hours.flatten(),
            gross: f.gross.flatten(),
            deductions: f.deductions.flatten(),
            net: f.net,
            problems,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn future_periods_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        let code = |p: &str| {
            parse_period(p, today)
                .unwrap_err()
                .problem()
                .map(|p| p.code)
        };
        assert!(parse_period("2026-11", today).is_ok());
        assert!(parse_period("2026-10", today).is_ok());
        assert_eq!(code("2026-12"), Some(ErrorCode::PeriodInFuture));
        assert_eq!(code("2026-1"), Some(ErrorCode::InvalidFormat));
        assert_eq!(code("2026-13"), Some(ErrorCode::OutOfRange));
    }

    #[test]
    fn a_reader_refusal_keeps_its_status_code_and_field() {
        let e = TableError::over_limit("UPLOAD_TOO_MANY_ROWS", tabular::Limit::Rows, 10, "11 rows");
        let p = upload_problem(e.with_field("lines"));
        let p = p.problem().unwrap();
        assert_eq!((p.status, p.code), (422, ErrorCode::UploadTooManyRows));
        assert_eq!(p.field.as_deref(), Some("lines"));
        assert!(p.detail.contains("max_rows"));
    }
}
