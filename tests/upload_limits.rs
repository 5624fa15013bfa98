//! The attack files of the upload security review, each generated here, read
//! through `wagebridge::tabular` directly: every one is refused by a named
//! limit before calamine allocates anything, and an upload at the limit is
//! still accepted.

use std::io::{Cursor, Write};
use std::time::Instant;

use rust_xlsxwriter::Workbook;
use wagebridge::tabular::{columns, read_upload, Limit, Limits, Table, TableError, Upload, XLSX};
use zip::write::SimpleFileOptions;

fn read_xlsx(bytes: &[u8], schema: &columns::Schema) -> Result<Table, TableError> {
    read_upload(
        Upload {
            media_type: XLSX,
            charset: None,
            bytes,
        },
        schema,
        &Limits::default(),
    )
}

fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    read_upload(
        Upload {
            media_type: "text/csv",
            charset: None,
            bytes,
        },
        &columns::ATTENDANCE,
        &Limits::default(),
    )
}

/// Writes one part of a workbook.
type PartWriter<'a> = dyn Fn(&mut dyn Write) -> std::io::Result<()> + 'a;

/// A workbook written by hand, for what rust_xlsxwriter will not write (a
/// forged dimension, a million rows in a few KB). `sheet` writes the
/// worksheet XML; `strings` the shared strings part, if any.
fn hand_xlsx(
    sheet: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    strings: Option<&PartWriter<'_>>,
) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .large_file(true);
    let part = |zip: &mut zip::ZipWriter<_>, name: &str, text: &str| {
        zip.start_file(name, opts).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
    };
    part(
        &mut zip,
        "[Content_Types].xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#,
    );
    part(
        &mut zip,
        "_rels/.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
    );
    part(
        &mut zip,
        "xl/workbook.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
    );
    part(
        &mut zip,
        "xl/_rels/workbook.xml.rels",
        r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
    );
    zip.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    sheet(&mut zip).unwrap();
    if let Some(strings) = strings {
        zip.start_file("xl/sharedStrings.xml", opts).unwrap();
        strings(&mut zip).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

fn refused(result: Result<Table, TableError>) -> TableError {
    match result {
        Ok(t) => panic!("accepted {} rows", t.rows.len()),
        Err(e) => e,
    }
}

#[test]
fn a_far_cell_is_refused_before_calamine_allocates_the_bounding_box() {
    // Written by the library Excel files come from: A1, B1 and XFD1048576.
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "姓名").unwrap();
    sheet.write_string(0, 1, "身份证号").unwrap();
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!((e.status, e.code), (422, "UPLOAD_TOO_MANY_ROWS"));
    assert_eq!(e.limit, Some(Limit::Rows));

    // The 1.6 KB file of the attack: no dimension, three cells.
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>姓名</t></is></c><c r="B1" t="inlineStr"><is><t>身份证号</t></is></c></row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData></worksheet>"#
            )
        },
        None,
    );
    assert!(bytes.len() < 2000, "{} bytes", bytes.len());
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!(e.code, "UPLOAD_TOO_MANY_ROWS");

    // The far column alone, within the rows.
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>1</v></c></row></sheetData></worksheet>"#
            )
        },
        None,
    );
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!(
        (e.code, e.limit),
        ("UPLOAD_TOO_MANY_COLUMNS", Some(Limit::Columns))
    );

    // A cell without a reference takes the next column: counted the same.
    let cells = "<c><v>1</v></c>".repeat(65);
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<sheetData><row>{cells}</row></sheetData></worksheet>"#
            )
        },
        None,
    );
    assert_eq!(
        refused(read_xlsx(&bytes, &columns::ROSTER)).code,
        "UPLOAD_TOO_MANY_COLUMNS"
    );
}

#[test]
fn a_forged_dimension_is_refused() {
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<dimension ref="A1:XFD1048576"/><sheetData/></worksheet>"#
            )
        },
        None,
    );
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!(e.code, "UPLOAD_TOO_MANY_ROWS");
    assert!(e.detail.contains("dimension"), "{}", e.detail);
}

#[test]
fn a_million_one_cell_rows_in_a_small_file_are_refused() {
    let bytes = hand_xlsx(
        |w| {
            w.write_all(SHEET_HEAD.as_bytes())?;
            w.write_all(b"<sheetData>")?;
            // Rows and cells without references, as the attack had them:
            // each takes the next position, so the file packs to almost nothing.
            for _ in 0..1_048_576u32 {
                w.write_all(b"<row><c><v>1</v></c></row>")?;
            }
            w.write_all(b"</sheetData></worksheet>")
        },
        None,
    );
    assert!(bytes.len() < 1_000_000, "{} bytes", bytes.len());
    let started = Instant::now();
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!(
        (e.code, e.limit),
        ("UPLOAD_TOO_MANY_ROWS", Some(Limit::Rows))
    );
    eprintln!("{} bytes refused in {:?}", bytes.len(), started.elapsed());
}

/// A 工资表 of `rows` lines with a title row above the header, as
/// rust_xlsxwriter (like Excel) writes it.
fn payroll_xlsx(rows: u32) -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet
        .write_string(0, 0, "某项目2026年10月农民工工资表")
        .unwrap();
    for (c, h) in [
        "序号",
        "姓名",
        "身份证号",
        "银行卡号",
        "出勤天数",
        "应发工资",
        "实发工资",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *h).unwrap();
    }
    for i in 0..rows {
        let r = i + 2;
        sheet.write_number(r, 0, f64::from(i + 1)).unwrap();
        sheet.write_string(r, 1, "张三").unwrap();
        sheet.write_string(r, 2, "110105194912310021").unwrap();
        sheet.write_string(r, 3, "6222021234567890128").unwrap();
        sheet.write_number(r, 4, 22.0).unwrap();
        sheet.write_number(r, 5, 5500.5).unwrap();
        sheet.write_number(r, 6, 5500.5).unwrap();
    }
    sheet.write_string(rows + 2, 0, "合计").unwrap();
    workbook.save_to_buffer().unwrap()
}

#[test]
fn a_payroll_of_100k_rows_is_accepted_and_one_more_is_refused() {
    let limit = Limits::default().max_rows as u32;
    let bytes = payroll_xlsx(limit);
    let table = read_xlsx(&bytes, &columns::PAYROLL).unwrap();
    assert_eq!(table.rows.len(), limit as usize);
    assert_eq!(table.header_row, 2);
    assert_eq!(table.ignored_columns, ["序号"]);
    let last = &table.rows[limit as usize - 1];
    assert_eq!(last.get("net"), Some("5500.5"));
    assert_eq!(last.number, limit as usize);

    let e = refused(read_xlsx(&payroll_xlsx(limit + 1), &columns::PAYROLL));
    assert_eq!((e.status, e.code), (422, "UPLOAD_TOO_MANY_ROWS"));
}

#[test]
fn a_gigabyte_shared_string_in_a_megabyte_is_refused() {
    let strings = |w: &mut dyn Write| -> std::io::Result<()> {
        w.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>"#)?;
        let chunk = vec![b'a'; 1 << 20];
        for _ in 0..1024 {
            w.write_all(&chunk)?;
        }
        w.write_all(b"</t></si></sst>")
    };
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>"#
            )
        },
        Some(&strings),
    );
    assert!(bytes.len() < 8 << 20, "{} bytes", bytes.len());
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!((e.status, e.code), (413, "SPREADSHEET_TOO_LARGE"));
    assert!(matches!(
        e.limit,
        Some(Limit::EntryBytes | Limit::CompressionRatio)
    ));
}

#[test]
fn shared_strings_are_bounded_in_count_bytes_and_length() {
    let many = |w: &mut dyn Write| -> std::io::Result<()> {
        w.write_all(b"<sst>")?;
        for _ in 0..2_000_001 {
            w.write_all(b"<si><t>a</t></si>")?;
        }
        w.write_all(b"</sst>")
    };
    let sheet = |w: &mut dyn Write| write!(w, r#"{SHEET_HEAD}<sheetData/></worksheet>"#);
    let e = refused(read_xlsx(&hand_xlsx(sheet, Some(&many)), &columns::ROSTER));
    assert_eq!(
        (e.code, e.limit),
        ("SHARED_STRINGS_TOO_LARGE", Some(Limit::SharedStrings))
    );

    let long = |w: &mut dyn Write| {
        write!(
            w,
            "<sst><si><r><t>{}</t></r><r><t>{}</t></r></si></sst>",
            "字".repeat(3000),
            "字".repeat(3000)
        )
    };
    let e = refused(read_xlsx(&hand_xlsx(sheet, Some(&long)), &columns::ROSTER));
    assert_eq!((e.code, e.limit), ("CELL_TOO_LONG", Some(Limit::CellChars)));

    // One text longer than any XML token may be: refused before it is buffered.
    // Letters that do not repeat, so the compression ratio stays low.
    let mut seed = 1u32;
    let letters: String = (0..1 << 20)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + (seed >> 16) as u8 % 26)
        })
        .collect();
    let huge = |w: &mut dyn Write| write!(w, "<sst><si><t>{letters}</t></si></sst>");
    let e = refused(read_xlsx(&hand_xlsx(sheet, Some(&huge)), &columns::ROSTER));
    assert_eq!((e.status, e.limit), (413, Some(Limit::XmlToken)));
}

#[test]
fn an_element_with_thousands_of_attributes_is_refused() {
    let attrs: String = (0..5000).map(|i| format!(" a{i}=\"\"")).collect();
    let bytes = hand_xlsx(
        |w| {
            write!(
                w,
                r#"{SHEET_HEAD}<sheetData><row r="1"{attrs}/></sheetData></worksheet>"#
            )
        },
        None,
    );
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!(e.limit, Some(Limit::XmlAttributes));
}

#[test]
fn a_zip_bomb_is_refused_from_its_directory() {
    let bytes = hand_xlsx(
        |w| {
            w.write_all(SHEET_HEAD.as_bytes())?;
            let spaces = vec![b' '; 1 << 20];
            for _ in 0..200 {
                w.write_all(&spaces)?;
            }
            w.write_all(b"<sheetData/></worksheet>")
        },
        None,
    );
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let e = refused(read_xlsx(&bytes, &columns::ROSTER));
    assert_eq!((e.status, e.code), (413, "SPREADSHEET_TOO_LARGE"));
    assert_eq!(e.limit, Some(Limit::CompressionRatio));
}

#[test]
fn a_450k_line_csv_is_refused_by_the_row_limit_without_reading_it_all() {
    let mut csv = String::from("身份证号,日期,工时\n");
    for _ in 0..450_000 {
        csv.push_str("110105194912310021,2026-10-01,8\n");
    }
    assert!(csv.len() < 32 << 20);
    let started = Instant::now();
    let e = refused(read_csv(csv.as_bytes()));
    assert_eq!((e.status, e.code), (422, "UPLOAD_TOO_MANY_ROWS"));
    assert_eq!(e.limit, Some(Limit::Rows));
    assert!(!e.detail.contains("110105194912310021"));
    eprintln!("450k lines refused in {:?}", started.elapsed());
}

#[test]
fn not_an_xlsx_is_malformed_and_xls_is_unsupported() {
    for bytes in [&b""[..], b"PK\x03\x04 definitely not a workbook"] {
        assert_eq!(
            refused(read_xlsx(bytes, &columns::ROSTER)).code,
            "MALFORMED_SPREADSHEET"
        );
    }
    // A zip that calamine would open as another format (XLSB, ODS) is not let through.
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    zip.start_file("xl/workbook.bin", SimpleFileOptions::default())
        .unwrap();
    zip.write_all(b"\0\0").unwrap();
    let bytes = zip.finish().unwrap().into_inner();
    assert_eq!(
        refused(read_xlsx(&bytes, &columns::ROSTER)).code,
        "MALFORMED_SPREADSHEET"
    );

    let e = refused(read_upload(
        Upload {
            media_type: wagebridge::tabular::XLS,
            charset: None,
            bytes: b"",
        },
        &columns::ROSTER,
        &Limits::default(),
    ));
    assert_eq!((e.status, e.code), (415, "UNSUPPORTED_MEDIA_TYPE"));
}

#[test]
fn a_sheet_as_clerks_save_it_reads_like_the_same_csv() {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    let rows: [[&str; 3]; 5] = [
        ["2026年10月考勤表", "", ""],
        ["公民身份号码", "考勤日期", "工作时长"],
        ["110105194912310021", "2026-10-01", "8"],
        ["", "", ""],
        ["合计", "", "8"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            if !v.is_empty() {
                sheet.write_string(r as u32, c as u16, *v).unwrap();
            }
        }
    }
    let from_xlsx = read_xlsx(&workbook.save_to_buffer().unwrap(), &columns::ATTENDANCE).unwrap();
    let csv: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    let from_csv = read_csv(csv.as_bytes()).unwrap();
    for t in [&from_xlsx, &from_csv] {
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.header_row, 2);
        assert_eq!(t.rows[0].get("hours"), Some("8"));
        assert_eq!(t.rows[0].get("id_number"), Some("110105194912310021"));
    }

    let mut workbook = Workbook::new();
    workbook.add_worksheet().write_string(0, 0, "x").unwrap();
    let e = refused(read_xlsx(
        &workbook.save_to_buffer().unwrap(),
        &columns::ROSTER,
    ));
    assert_eq!((e.status, e.code), (400, "MISSING_HEADER"));
}
