//! Excel workbooks in and out: uploads read with calamine (XLSX, and the
//! older XLS many offices still save), exports written with rust_xlsxwriter.
//!
//! Reading hands the first worksheet to [`tabular::rows_from_records`], so a
//! workbook is checked exactly like the same table sent as CSV.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader};
use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook};

use super::error::ApiError;
use super::tabular::{self, Column, RawRow};

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The media type of an Excel 97–2003 workbook.
pub const XLS: &str = "application/vnd.ms-excel";

/// How many rows above the header a sheet may have (a title such as
/// "XX项目2026年10月农民工工资表", a "单位：元" line).
const HEADER_SEARCH_ROWS: usize = 20;

/// Rows whose first filled cell says this are totals, not lines.
const TOTAL_ROW_MARKERS: &[&str] = &["合计", "总计", "小计", "合 计", "total"];

pub fn is_spreadsheet(media_type: &str) -> bool {
    media_type == XLSX || media_type == XLS
}

/// Reads the first worksheet's rows. The header row is the first row (among
/// the first 20) that names at least two known columns; rows above it are
/// titles, and total rows (合计) at the end are skipped.
pub fn read_rows(bytes: &[u8], columns: &[Column]) -> Result<Vec<RawRow>, ApiError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        ApiError::bad_request(
            "MALFORMED_SPREADSHEET",
            format!("the body is not an Excel workbook that can be read (XLSX or XLS): {e}"),
        )
    })?;
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => {
            return Err(ApiError::bad_request(
                "MALFORMED_SPREADSHEET",
                format!("the first worksheet cannot be read: {e}"),
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                "MALFORMED_SPREADSHEET",
                "the workbook has no worksheet",
            ))
        }
    };

    let mut rows = range.rows();
    let mut header: Option<Vec<String>> = None;
    for row in rows.by_ref().take(HEADER_SEARCH_ROWS) {
        let cells: Vec<String> = row.iter().map(cell_text).collect();
        let known = cells.iter().filter(|c| is_known_header(c, columns)).count();
        if known >= 2 {
            header = Some(cells);
            break;
        }
    }
    let Some(header) = header else {
        return Err(ApiError::bad_request(
            "MISSING_HEADER",
            "no header row found in the first worksheet: the header row must name the columns (姓名, 身份证号, ...)",
        ));
    };

    let records: Vec<Vec<String>> = rows
        .map(|row| row.iter().map(cell_text).collect::<Vec<_>>())
        .filter(|cells| !is_total_row(cells))
        .collect();
    tabular::rows_from_records(&header, records, columns)
}

fn is_known_header(cell: &str, columns: &[Column]) -> bool {
    let wanted = cell.trim();
    !wanted.is_empty()
        && columns.iter().any(|c| {
            c.key.eq_ignore_ascii_case(wanted)
                || c.aliases.iter().any(|a| a.eq_ignore_ascii_case(wanted))
        })
}

fn is_total_row(cells: &[String]) -> bool {
    cells
        .iter()
        .map(|c| c.trim())
        .find(|c| !c.is_empty())
        .is_some_and(|first| {
            TOTAL_ROW_MARKERS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(first))
        })
}

/// A cell as the text a CSV export of it would hold.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // The shortest text that reads back as the same number: 5500.5 stays
        // "5500.5", and a three-decimal amount stays three decimals (and is refused).
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::Error(e) => format!("#ERROR {e}"),
    }
}

/// A cell to write.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// An amount of money, shown with two decimals.
    Money(Decimal),
    /// A quantity (days, hours).
    Number(Decimal),
    Empty,
}

/// Text as an export cell holds it: text a spreadsheet would take for a
/// formula (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) is
/// prefixed with `'`, so `=HYPERLINK(..)` in a worker's name shows as text in
/// the clerk's Excel instead of running (OWASP "CSV injection"). Used by every
/// CSV and XLSX export, for text cells only: amounts are written as numbers.
pub fn neutralise_formula(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// One worksheet with a bold, frozen header row, as an XLSX file.
pub fn write_xlsx(sheet: &str, header: &[&str], rows: &[Vec<Cell>]) -> Result<Vec<u8>, ApiError> {
    let failed = |e: rust_xlsxwriter::XlsxError| {
        tracing::error!(error = %e, "writing an XLSX export");
        ApiError::internal()
    };
    let mut workbook = Workbook::new();
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let worksheet = workbook.add_worksheet();
    worksheet.set_name(sheet).map_err(failed)?;
    for (col, title) in header.iter().enumerate() {
        let col = u16::try_from(col).map_err(|_| ApiError::internal())?;
        worksheet
            .write_string_with_format(0, col, *title, &bold)
            .map_err(failed)?;
        worksheet
            .set_column_width(col, column_width(title))
            .map_err(failed)?;
    }
    worksheet.set_freeze_panes(1, 0).map_err(failed)?;
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|_| ApiError::internal())?;
        for (col, cell) in row.iter().enumerate() {
            let col = u16::try_from(col).map_err(|_| ApiError::internal())?;
            match cell {
                Cell::Text(s) => {
                    worksheet
                        .write_string(r, col, neutralise_formula(s))
                        .map_err(failed)?;
                }
                Cell::Money(d) => {
                    worksheet
                        .write_with_format(r, col, *d, &money)
                        .map_err(failed)?;
                }
                Cell::Number(d) => {
                    worksheet.write(r, col, *d).map_err(failed)?;
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

/// Wide enough for the header, counting a Chinese character as two.
fn column_width(title: &str) -> f64 {
    let width: usize = title
        .chars()
        .map(|c| if c.is_ascii() { 1 } else { 2 })
        .sum();
    (width.max(10) + 2) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMNS: &[Column] = &[
        Column {
            key: "name",
            aliases: &["姓名"],
            required: true,
        },
        Column {
            key: "net",
            aliases: &["实发工资"],
            required: true,
        },
    ];

    #[test]
    fn written_workbooks_read_back_with_title_and_total_rows_skipped() {
        // A title row above the header, as a usual 工资表 has, and a total row.
        let rows = vec![
            vec![Cell::Text("姓名".into()), Cell::Text("实发工资".into())],
            vec![
                Cell::Text("张三".into()),
                Cell::Money(Decimal::new(550050, 2)),
            ],
            vec![
                Cell::Text("李四".into()),
                Cell::Number(Decimal::new(4200, 0)),
            ],
            vec![Cell::Empty, Cell::Empty],
            vec![
                Cell::Text("合计".into()),
                Cell::Money(Decimal::new(970050, 2)),
            ],
        ];
        let bytes = write_xlsx("工资表", &["2026年10月工资表", ""], &rows).unwrap();
        let read = read_rows(&bytes, COLUMNS).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].get("name"), Some("张三"));
        assert_eq!(read[0].get("net"), Some("5500.5"));
        assert_eq!(read[1].get("net"), Some("4200"));
    }

    #[test]
    fn text_that_would_be_a_formula_is_written_as_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise_formula(formula), format!("'{formula}"));
        }
        for text in ["张三", "1-2", "", "'already"] {
            assert_eq!(neutralise_formula(text), text);
        }
        let rows = vec![vec![
            Cell::Text("=HYPERLINK(\"http://evil.example/\",\"x\")".into()),
            Cell::Money(Decimal::new(-50000, 2)),
        ]];
        let bytes = write_xlsx("s", &["姓名", "实发工资"], &rows).unwrap();
        let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
        let range = workbook.worksheet_range_at(0).unwrap().unwrap();
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String(
                "'=HYPERLINK(\"http://evil.example/\",\"x\")".into()
            ))
        );
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(-500.0)));
    }

    #[test]
    fn garbage_is_a_problem_not_a_panic() {
        let e = read_rows(b"PK\x03\x04 definitely not a workbook", COLUMNS).unwrap_err();
        assert_eq!(e.code, "MALFORMED_SPREADSHEET");
        let e = read_rows(b"", COLUMNS).unwrap_err();
        assert_eq!(e.code, "MALFORMED_SPREADSHEET");
    }

    #[test]
    fn a_sheet_without_a_header_row_is_refused() {
        let rows = vec![vec![Cell::Text("x".into())]];
        let bytes = write_xlsx("s", &["a", "b"], &rows).unwrap();
        assert_eq!(
            read_rows(&bytes, COLUMNS).unwrap_err().code,
            "MISSING_HEADER"
        );
    }
}
