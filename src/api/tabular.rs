//! Row uploads: the same rows as a JSON array or a CSV file (UTF-8, or GBK as
//! Excel saves it in China), with English or Chinese column headers. Faults
//! in one row stay with that row; the request fails only when the file as a
//! whole cannot be read.

use std::collections::BTreeMap;

use actix_web::HttpRequest;
use serde::Serialize;

use super::body;
use super::error::ApiError;

/// A column: the key used in JSON and the headers accepted in CSV.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub key: &'static str,
    /// Other names accepted in a CSV header row (Chinese headers first).
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// CSV headers that carry nothing for us (row numbers, remarks) and are skipped.
const IGNORED_HEADERS: &[&str] = &["序号", "no", "no.", "#", "备注", "remark", "remarks"];

/// One row as uploaded: its number (1-based, in data rows) and raw text values.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub number: usize,
    values: BTreeMap<&'static str, String>,
    /// Faults found while reading the row itself (unknown or non-text fields).
    pub problems: Vec<RowProblem>,
}

impl RawRow {
    /// The trimmed value, or `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

/// Why a row (or one of its fields) was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RowProblem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Stable code, e.g. `INVALID_CHECK_CHARACTER`, `NOT_ON_ROSTER`.
    pub code: String,
    pub reason: String,
}

impl RowProblem {
    pub fn new(field: Option<&str>, code: impl Into<String>, reason: impl Into<String>) -> Self {
        RowProblem {
            field: field.map(str::to_owned),
            code: code.into(),
            reason: reason.into(),
        }
    }

    pub fn field(field: &str, code: impl Into<String>, reason: impl Into<String>) -> Self {
        RowProblem::new(Some(field), code, reason)
    }
}

/// Reads the rows of a JSON (`{"<list_key>": [...]}` or a bare array) or CSV body.
pub fn read_rows(
    req: &HttpRequest,
    bytes: &[u8],
    columns: &[Column],
    list_key: &str,
) -> Result<Vec<RawRow>, ApiError> {
    let media = body::media_type(req);
    if body::is_json(&media) {
        json_rows(bytes, columns, list_key)
    } else if media == "text/csv" || media == "application/csv" {
        let text = decode_text(bytes, body::charset(req).as_deref())?;
        csv_rows(&text, columns)
    } else if super::spreadsheet::is_spreadsheet(&media) {
        super::spreadsheet::read_rows(bytes, columns)
    } else {
        Err(body::unsupported(
            &media,
            &["application/json", "text/csv", super::spreadsheet::XLSX],
        ))
    }
}

fn json_rows(bytes: &[u8], columns: &[Column], list_key: &str) -> Result<Vec<RawRow>, ApiError> {
    let value: serde_json::Value = body::parse_json(bytes)?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(mut map) => {
            if let Some(unknown) = map.keys().find(|k| k.as_str() != list_key) {
                return Err(ApiError::invalid_field(
                    unknown.clone(),
                    "UNKNOWN_FIELD",
                    format!("unknown field {unknown:?}; the body holds only {list_key:?}"),
                ));
            }
            match map.remove(list_key) {
                Some(serde_json::Value::Array(items)) => items,
                _ => {
                    return Err(ApiError::invalid_field(
                        list_key,
                        "MISSING_FIELD",
                        format!("{list_key:?} must be an array of rows"),
                    ))
                }
            }
        }
        _ => {
            return Err(ApiError::bad_request(
                "MALFORMED_BODY",
                format!("the body must be an object with {list_key:?} or an array of rows"),
            ))
        }
    };
    Ok(rows_from_json_items(items, columns))
}

/// Rows from JSON objects already taken out of a body (one object a row).
pub fn rows_from_json_items(items: Vec<serde_json::Value>, columns: &[Column]) -> Vec<RawRow> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            let mut row = RawRow {
                number: i + 1,
                ..RawRow::default()
            };
            let serde_json::Value::Object(map) = item else {
                row.problems.push(RowProblem::new(
                    None,
                    "MALFORMED_ROW",
                    "a row must be a JSON object",
                ));
                return row;
            };
            for (key, value) in map {
                let Some(column) = columns.iter().find(|c| c.key == key) else {
                    row.problems.push(RowProblem::field(
                        &key,
                        "UNKNOWN_FIELD",
                        format!("unknown field {key:?}"),
                    ));
                    continue;
                };
                let text = match value {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Bool(b) => b.to_string(),
                    _ => {
                        row.problems.push(RowProblem::field(
                            column.key,
                            "INVALID_FIELD",
                            "must be text or a number, not a list or an object",
                        ));
                        continue;
                    }
                };
                row.values.insert(column.key, text);
            }
            row
        })
        .collect()
}

fn csv_rows(text: &str, columns: &[Column]) -> Result<Vec<RawRow>, ApiError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            ApiError::bad_request("MALFORMED_CSV", format!("cannot read the header row: {e}"))
        })?
        .clone();
    let mapping = map_header(headers.iter(), columns)?;

    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let mut row = RawRow {
            number: i + 1,
            ..RawRow::default()
        };
        match record {
            Ok(record) => {
                if record.iter().all(|v| v.trim().is_empty()) {
                    continue; // Excel leaves blank lines at the end
                }
                for (value, key) in record.iter().zip(&mapping) {
                    if let Some(key) = key {
                        row.values.insert(key, value.to_owned());
                    }
                }
                if record.len() > mapping.len() {
                    row.problems.push(RowProblem::new(
                        None,
                        "MALFORMED_ROW",
                        format!(
                            "the row has {} cells; the header has {}",
                            record.len(),
                            mapping.len()
                        ),
                    ));
                }
            }
            Err(e) => row
                .problems
                .push(RowProblem::new(None, "MALFORMED_ROW", e.to_string())),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Maps a header row onto the columns: `None` for ignored headers. Fails on
/// an unknown or repeated column, or when a required one is missing.
fn map_header<'a>(
    headers: impl Iterator<Item = &'a str>,
    columns: &[Column],
) -> Result<Vec<Option<&'static str>>, ApiError> {
    let mut mapping: Vec<Option<&'static str>> = Vec::new();
    for header in headers {
        let wanted = header.trim_start_matches('\u{feff}').trim();
        if wanted.is_empty()
            || IGNORED_HEADERS
                .iter()
                .any(|h| h.eq_ignore_ascii_case(wanted))
        {
            mapping.push(None);
            continue;
        }
        let column = columns.iter().find(|c| {
            c.key.eq_ignore_ascii_case(wanted)
                || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
        });
        match column {
            Some(c) if mapping.contains(&Some(c.key)) => {
                return Err(ApiError::bad_request(
                    "DUPLICATE_COLUMN",
                    format!("column {wanted:?} appears twice (as {:?})", c.key),
                ))
            }
            Some(c) => mapping.push(Some(c.key)),
            None => {
                return Err(ApiError::bad_request(
                    "UNKNOWN_COLUMN",
                    format!(
                        "column {wanted:?} is not known; known columns: {}",
                        column_list(columns)
                    ),
                )
                .with_field(wanted))
            }
        }
    }
    if let Some(missing) = columns
        .iter()
        .find(|c| c.required && !mapping.contains(&Some(c.key)))
    {
        return Err(ApiError::bad_request(
            "MISSING_COLUMN",
            format!(
                "the header row has no {:?} column (also accepted: {})",
                missing.key,
                missing.aliases.join(", ")
            ),
        )
        .with_field(missing.key));
    }

    Ok(mapping)
}

/// Rows from a table already split into cells (a spreadsheet): the header
/// row, then the data rows. Blank rows are skipped.
pub fn rows_from_records(
    header: &[String],
    records: Vec<Vec<String>>,
    columns: &[Column],
) -> Result<Vec<RawRow>, ApiError> {
    let mapping = map_header(header.iter().map(String::as_str), columns)?;
    let mut rows = Vec::with_capacity(records.len());
    for (i, record) in records.into_iter().enumerate() {
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let mut row = RawRow {
            number: i + 1,
            ..RawRow::default()
        };
        let cells = record.len();
        for (value, key) in record.into_iter().zip(&mapping) {
            if let Some(key) = key {
                row.values.insert(key, value);
            }
        }
        if cells > mapping.len() {
            row.problems.push(RowProblem::new(
                None,
                "MALFORMED_ROW",
                format!(
                    "the row has {cells} cells; the header has {}",
                    mapping.len()
                ),
            ));
        }
        rows.push(row);
    }
    Ok(rows)
}

fn column_list(columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| {
            if c.aliases.is_empty() {
                c.key.to_owned()
            } else {
                format!("{} ({})", c.key, c.aliases.join("/"))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Text from bytes: the declared charset, else UTF-8 (BOM dropped), else GBK
/// (the encoding Excel uses for CSV on Chinese Windows).
pub fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, ApiError> {
    let declared = charset.and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()));
    let encoding = match declared {
        Some(enc) => enc,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::GB18030,
    };
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(ApiError::bad_request(
            "BAD_ENCODING",
            format!(
                "the body is not valid {}; send UTF-8 or GBK",
                encoding.name()
            ),
        ));
    }
    Ok(text.into_owned())
}

/// Outcome of one uploaded row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowResult {
    pub row: usize,
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// What happened to an accepted row: `created`, `updated`, `replaced` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    /// The row's ID number, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowProblem>,
}

impl RowResult {
    pub fn accepted(row: usize, id_number: Option<String>, outcome: &'static str) -> Self {
        RowResult {
            row,
            status: "accepted",
            outcome: Some(outcome),
            id_number,
            errors: Vec::new(),
        }
    }

    pub fn rejected(row: usize, id_number: Option<String>, errors: Vec<RowProblem>) -> Self {
        RowResult {
            row,
            status: "rejected",
            outcome: None,
            id_number,
            errors,
        }
    }
}

/// Totals and per-row outcomes of an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadReport {
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub rows: Vec<RowResult>,
}

impl UploadReport {
    pub fn new(rows: Vec<RowResult>) -> Self {
        let accepted = rows.iter().filter(|r| r.status == "accepted").count();
        UploadReport {
            total: rows.len(),
            accepted,
            rejected: rows.len() - accepted,
            rows,
        }
    }
}
