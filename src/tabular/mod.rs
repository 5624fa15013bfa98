//! Uploads as they come, made into one neutral table.
//!
//! Roster, attendance and payroll uploads arrive as CSV (UTF-8, or GBK/GB18030
//! as Excel saves it, with or without a byte-order mark, or in the charset the
//! request declares), XLSX (the first worksheet) or JSON. Each becomes a
//! [`Table`] of [`RawRow`]s keyed by canonical field (`id_number`, `name`,
//! ...), whatever headers the file used:
//!
//! - the header row is searched among the first rows, below title rows such
//!   as "XX项目2026年10月农民工工资表"; total rows (合计, 总计) and blank rows are
//!   skipped;
//! - every field has one [`Column`] definition with all the headers accepted
//!   for it, and each upload kind a [`Schema`] built from them
//!   ([`columns::ROSTER`], [`columns::ATTENDANCE`], [`columns::PAYROLL`]);
//! - unknown columns (序号, 性别, 备注, ...) are ignored and listed in
//!   [`Table::ignored_columns`]; a missing column that every row needs is
//!   listed in [`Table::missing_columns`] for the per-row reasons; only a
//!   missing essential column (the ID number; for payroll also net pay)
//!   refuses the file;
//! - everything is bounded by [`Limits`]; each refusal is a [`TableError`]
//!   naming the limit.
//!
//! [`fields`] parses raw values into domain types; [`report`] builds the
//! per-row answer. This module knows nothing of HTTP or the database: the
//! API maps a [`TableError`] to a problem (its `status`), and the caller runs
//! the reading off the async workers (it is CPU work on up to a few MB).

pub mod columns;
mod csv;
mod error;
pub mod fields;
mod json;
mod limits;
pub mod report;
mod table;
mod xlsx;

pub use self::csv::{decode_text, read_csv};
pub use columns::{Column, Need, Schema, SchemaColumn};
pub use error::{excerpt, mask_numbers, Limit, TableError};
pub use fields::{Collector, FieldError, Text};
pub use json::{read_json, rows_from_json_items};
pub use limits::Limits;
pub use report::{ReportBuilder, RowProblem, RowResult, UploadReport};
pub use table::{RawRow, Table, HEADER_SEARCH_ROWS};
pub use xlsx::read_xlsx;

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of an Excel 97–2003 workbook, which is not read: its cells
/// cannot be bounded before calamine allocates them.
pub const XLS: &str = "application/vnd.ms-excel";

/// The formats an upload may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Xlsx,
}

impl Format {
    /// The format of a media type (lower-case, without parameters).
    pub fn of_media_type(media: &str) -> Option<Format> {
        match media {
            "application/json" => Some(Format::Json),
            m if m.ends_with("+json") => Some(Format::Json),
            "text/csv" | "application/csv" => Some(Format::Csv),
            XLSX => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// An upload as received: the body and what its content type said.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// Lower-case, without parameters (`text/csv`).
    pub media_type: &'a str,
    /// The `charset` parameter, if any.
    pub charset: Option<&'a str>,
    pub bytes: &'a [u8],
}

/// Reads an upload of any accepted format into a table.
pub fn read_upload(
    upload: Upload<'_>,
    schema: &Schema,
    limits: &Limits,
) -> Result<Table, TableError> {
    match Format::of_media_type(upload.media_type) {
        Some(Format::Json) => read_json(upload.bytes, schema, limits),
        Some(Format::Csv) => read_csv(upload.bytes, upload.charset, schema, limits),
        Some(Format::Xlsx) => read_xlsx(upload.bytes, schema, limits),
        None => {
            let mut e =
                TableError::unsupported(upload.media_type, &["application/json", "text/csv", XLSX]);
            if upload.media_type == XLS {
                e.detail.push_str(" (save an .xls workbook as .xlsx)");
            }
            Err(e)
        }
    }
}
