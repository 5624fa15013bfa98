//! Excel workbooks out: exports written with rust_xlsxwriter. (Uploads are
//! read by `crate::tabular`, which bounds a workbook before calamine opens it.)

use std::borrow::Cow;

use rust_decimal::Decimal;
use rust_xlsxwriter::{Format, Workbook};

use super::error::ApiError;

/// The media type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

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
    use std::io::Cursor;

    use calamine::{Data, Reader};

    use super::*;

    fn read_back(bytes: Vec<u8>) -> calamine::Range<Data> {
        let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).unwrap();
        workbook.worksheet_range_at(0).unwrap().unwrap()
    }

    #[test]
    fn written_workbooks_carry_the_header_text_and_amounts_as_numbers() {
        let rows = vec![vec![
            Cell::Text("张三".into()),
            Cell::Money(Decimal::new(550050, 2)),
        ]];
        let range = read_back(write_xlsx("工资表", &["姓名", "实发工资"], &rows).unwrap());
        assert_eq!(range.get_value((0, 0)), Some(&Data::String("姓名".into())));
        assert_eq!(range.get_value((1, 0)), Some(&Data::String("张三".into())));
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(5500.5)));
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
        let range = read_back(write_xlsx("s", &["姓名", "实发工资"], &rows).unwrap());
        assert_eq!(
            range.get_value((1, 0)),
            Some(&Data::String(
                "'=HYPERLINK(\"http://evil.example/\",\"x\")".into()
            ))
        );
        assert_eq!(range.get_value((1, 1)), Some(&Data::Float(-500.0)));
    }
}
