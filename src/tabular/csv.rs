//! CSV uploads: UTF-8 (with or without a byte-order mark), or GBK/GB18030 as
//! Excel saves CSV on Chinese Windows, or the charset the request declares.
//! Lines and records are bounded before the CSV reader buffers them.

use super::error::{Limit, TableError};
use super::report::RowProblem;
use super::table::{Table, TableBuilder};
use super::{Limits, Schema};

/// Text from bytes: the declared charset, else UTF-8 (BOM dropped), else
/// GB18030 (a superset of GBK, the encoding Excel uses for CSV in China).
pub fn decode_text(bytes: &[u8], charset: Option<&str>) -> Result<String, TableError> {
    let declared = charset.and_then(|c| encoding_rs::Encoding::for_label(c.trim().as_bytes()));
    let encoding = match declared {
        Some(enc) => enc,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::GB18030,
    };
    // `decode` drops a BOM of the encoding (and follows a BOM of another).
    let (text, _, had_errors) = encoding.decode(bytes);
    if had_errors {
        return Err(TableError::malformed(
            "BAD_ENCODING",
            format!(
                "the body is not valid {}; send UTF-8 or GBK",
                encoding.name()
            ),
        ));
    }
    Ok(text.into_owned())
}

/// Reads a CSV upload into a table.
pub fn read_csv(
    bytes: &[u8],
    charset: Option<&str>,
    schema: &Schema,
    limits: &Limits,
) -> Result<Table, TableError> {
    check_lines(bytes, limits)?;
    let text = decode_text(bytes, charset)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut builder = TableBuilder::new(schema, limits);
    let mut record = csv::StringRecord::new();
    let mut start = 0u64;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let end = reader.position().byte();
                // A quoted cell may hold line breaks: bound the whole record too.
                if end.saturating_sub(start) > limits.max_line_bytes as u64 {
                    return Err(line_too_long(reader.position().line()));
                }
                start = end;
                let cells: Vec<&str> = record.iter().collect();
                builder.push(&cells)?;
            }
            Err(e) => {
                start = reader.position().byte();
                let detail = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the line is not valid text",
                    _ => "the line cannot be read as CSV",
                };
                builder.push_broken(RowProblem::new(None, "MALFORMED_ROW", detail))?;
            }
        }
    }
    builder.finish()
}

/// Refuses a body with a physical line longer than the limit, before any
/// record is buffered. Counted in bytes of the body as sent.
fn check_lines(bytes: &[u8], limits: &Limits) -> Result<(), TableError> {
    for (line, chunk) in (1u64..).zip(bytes.split(|b| *b == b'\n')) {
        if chunk.len() > limits.max_line_bytes {
            return Err(line_too_long(line));
        }
    }
    Ok(())
}

fn line_too_long(line: u64) -> TableError {
    TableError {
        status: Limit::LineBytes.status(),
        code: "CSV_LINE_TOO_LONG",
        field: None,
        detail: format!("line {line} is longer than the limit (max_line_bytes)"),
        limit: Some(Limit::LineBytes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tabular::columns::{ATTENDANCE, PAYROLL, ROSTER};

    fn read(text: &str) -> Result<Table, TableError> {
        read_csv(text.as_bytes(), None, &ROSTER, &Limits::default())
    }

    #[test]
    fn chinese_headers_unknown_columns_and_blank_lines() {
        let t = read(
            "序号,姓名,身份证号,性别,民族,进场日期\n1,张三,110105194912310021,男,汉,2026-03-01\n,,,,,\n",
        )
        .unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].number, 1);
        assert_eq!(t.rows[0].get("name"), Some("张三"));
        assert_eq!(t.rows[0].get("entered_on"), Some("2026-03-01"));
        assert_eq!(t.ignored_columns, ["序号", "性别", "民族"]);
        assert_eq!(t.missing_columns, ["contract_signed_on"]);
        assert!(t.has_column("name") && !t.has_column("phone"));
        assert_eq!(t.header_row, 1);
    }

    #[test]
    fn gbk_as_excel_saves_it_with_or_without_bom_and_declared() {
        let text = "姓名,身份证号\r\n张三,110105194912310021\r\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        for bytes in [
            gbk.to_vec(),
            [b"\xef\xbb\xbf".as_slice(), text.as_bytes()].concat(),
        ] {
            let t = read_csv(&bytes, None, &ROSTER, &Limits::default()).unwrap();
            assert_eq!(t.rows[0].get("name"), Some("张三"));
        }
        let t = read_csv(&gbk, Some("GBK"), &ROSTER, &Limits::default()).unwrap();
        assert_eq!(t.rows[0].get("name"), Some("张三"));
        let e = read_csv(&gbk, Some("utf-8"), &ROSTER, &Limits::default()).unwrap_err();
        assert_eq!((e.status, e.code), (400, "BAD_ENCODING"));
    }

    #[test]
    fn title_rows_above_the_header_and_total_rows_are_skipped() {
        let t = read_csv(
            "某项目2026年10月工资表,,\n单位：元,,\n姓名,身份证号,实发工资\n张三,110105194912310021,5500.50\n合计,,5500.50\n"
                .as_bytes(),
            None,
            &PAYROLL,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(t.header_row, 3);
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].get("net"), Some("5500.50"));
    }

    #[test]
    fn a_headerless_file_is_refused_without_echoing_the_id() {
        let e = read_csv(
            b"420111198503120012,2026-10-01,8\n",
            None,
            &ATTENDANCE,
            &Limits::default(),
        )
        .unwrap_err();
        assert_eq!((e.status, e.code), (400, "MISSING_HEADER"));
        assert!(!format!("{e:?}").contains("420111198503120012"));
    }

    #[test]
    fn a_shifted_header_lists_masked_ignored_columns() {
        let t = read("姓名,身份证号,420111198503120012\n张三,110105194912310021,x\n").unwrap();
        assert_eq!(t.ignored_columns, ["4201**********0012"]);
    }

    #[test]
    fn missing_essential_column_and_duplicate_column_refuse_the_file() {
        let e = read("姓名,进场日期\n张三,2026-03-01\n").unwrap_err();
        assert_eq!(e.code, "MISSING_COLUMN");
        assert_eq!(e.field.as_deref(), Some("id_number"));
        let e = read("姓名,身份证号,公民身份号码\n张三,1,2\n").unwrap_err();
        assert_eq!(e.code, "DUPLICATE_COLUMN");
    }

    #[test]
    fn rows_with_more_cells_than_the_header_are_row_problems() {
        let t = read("姓名,身份证号\n张三,110105194912310021,extra\n").unwrap();
        assert_eq!(t.rows[0].problems[0].code, "MALFORMED_ROW");
    }

    #[test]
    fn limits_on_rows_lines_cells_and_columns() {
        let limits = Limits {
            max_rows: 2,
            max_line_bytes: 100,
            max_cell_chars: 10,
            max_columns: 3,
            ..Limits::default()
        };
        let read = |t: &str| read_csv(t.as_bytes(), None, &ROSTER, &limits);
        assert!(read("姓名,身份证号\na,1\nb,2\n").is_ok());
        let e = read("姓名,身份证号\na,1\nb,2\nc,3\n").unwrap_err();
        assert_eq!((e.status, e.code), (422, "UPLOAD_TOO_MANY_ROWS"));
        assert_eq!(e.limit, Some(Limit::Rows));
        let e = read(&format!("姓名,身份证号\n{},1\n", "x".repeat(200))).unwrap_err();
        assert_eq!((e.status, e.code), (413, "CSV_LINE_TOO_LONG"));
        let e = read(&format!("姓名,身份证号\n\"{}\",1\n", "x\n".repeat(60))).unwrap_err();
        assert_eq!(e.code, "CSV_LINE_TOO_LONG");
        let e = read("姓名,身份证号\n张三丰张三丰张三丰张三丰,1\n").unwrap_err();
        assert_eq!(
            (e.code, e.field.as_deref()),
            ("CELL_TOO_LONG", Some("name"))
        );
        let e = read("姓名,身份证号,a,b\n").unwrap_err();
        assert_eq!(e.code, "UPLOAD_TOO_MANY_COLUMNS");
    }
}
