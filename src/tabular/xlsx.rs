//! XLSX uploads, read with calamine after a pre-scan that bounds what
//! calamine will build.
//!
//! calamine allocates rows × columns of a sheet's bounding box
//! (`Range::from_sparse`), so one far cell reference (`XFD1048576`) in a
//! 1.6 KB file asks for hundreds of gigabytes; it also holds every shared
//! string. The pre-scan reads the zip's central directory (entry count,
//! declared sizes, compression ratio), then streams every XML part once:
//! each token's size and attribute count, the sheet's declared dimension and
//! every cell position, and the shared strings' count and bytes. Only a file
//! within every limit reaches calamine.

use std::borrow::Cow;
use std::cell::RefCell;
use std::io::{BufReader, Cursor, Read};
use std::rc::Rc;

use calamine::{Data, Reader, Xlsx};
use quick_xml::events::{BytesStart, Event};

use super::error::{Limit, TableError};
use super::table::{Table, TableBuilder};
use super::{Limits, Schema};

/// Entries below this unpacked size are not checked for their ratio: small
/// parts of real files pack very well and cannot hurt.
const RATIO_FLOOR: u64 = 1 << 20;

/// Reads the first worksheet of an XLSX upload into a table.
pub fn read_xlsx(bytes: &[u8], schema: &Schema, limits: &Limits) -> Result<Table, TableError> {
    prescan(bytes, limits)?;
    // calamine 0.31 pins quick-xml 0.38, which still carries RUSTSEC-2026-0194
    // (quadratic duplicate-attribute check) and RUSTSEC-2026-0195 (namespace
    // handling). The pre-scan above bounds that risk until calamine has a
    // fixed release: every tag calamine reads is at most max_xml_token_bytes
    // with at most max_xml_attributes attributes, and every sheet's cells lie
    // within the row, column and cell limits.
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(|e| {
        malformed(format!(
            "the body is not an Excel workbook that can be read (XLSX): {}",
            short(&e.to_string())
        ))
    })?;
    let range = match workbook.worksheet_range_at(0) {
        Some(Ok(range)) => range,
        Some(Err(e)) => {
            return Err(malformed(format!(
                "the first worksheet cannot be read: {}",
                short(&e.to_string())
            )))
        }
        None => return Err(malformed("the workbook has no worksheet")),
    };
    let first_row = range.start().map_or(0, |(row, _)| row as usize);
    let mut builder = TableBuilder::new(schema, limits);
    for row in range.rows() {
        let cells: Vec<Cow<str>> = row.iter().map(cell_text).collect();
        builder.push(&cells)?;
    }
    let mut table = builder.finish()?;
    table.header_row += first_row;
    Ok(table)
}

/// calamine's messages may quote the file; keep them short and masked.
fn short(message: &str) -> String {
    super::error::mask_numbers(&message.chars().take(120).collect::<String>())
}

fn malformed(detail: impl Into<String>) -> TableError {
    TableError::malformed("MALFORMED_SPREADSHEET", detail)
}

fn too_large(limit: Limit, max: u64, what: impl std::fmt::Display) -> TableError {
    TableError::over_limit("SPREADSHEET_TOO_LARGE", limit, max, what)
}

/// A cell as the text a CSV export of it would hold.
fn cell_text(cell: &Data) -> Cow<'_, str> {
    match cell {
        Data::Empty => Cow::Borrowed(""),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cow::Borrowed(s),
        Data::Int(i) => Cow::Owned(i.to_string()),
        // The shortest text that reads back as the same number: 5500.5 stays
        // "5500.5", and a three-decimal amount stays three decimals (and is refused).
        Data::Float(f) => Cow::Owned(f.to_string()),
        Data::Bool(b) => Cow::Owned(b.to_string()),
        Data::DateTime(dt) => Cow::Owned(match dt.as_datetime() {
            Some(at) if at.time() == chrono::NaiveTime::MIN => at.date().to_string(),
            Some(at) => at.to_string(),
            None => dt.as_f64().to_string(),
        }),
        Data::Error(e) => Cow::Owned(format!("#ERROR {e}")),
    }
}

/// What a zip entry is to the pre-scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Sheet,
    SharedStrings,
    /// Relationships: their targets name further parts to scan.
    Relationships,
    /// Not XML (images, printer settings) and named by no relationship.
    Binary,
}

fn part_of(name: &str, targets: &[String]) -> Part {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".rels") {
        Part::Relationships
    } else if lower == "xl/sharedstrings.xml" {
        Part::SharedStrings
    } else if lower.ends_with(".xml")
        || lower.ends_with(".vml")
        || targets.iter().any(|t| lower.ends_with(t.as_str()))
    {
        // Scanned as a sheet: any XML part calamine may be pointed at as a
        // sheet must hold its cells within the limits.
        Part::Sheet
    } else {
        Part::Binary
    }
}

/// Checks the zip and every XML part against the limits.
fn prescan(bytes: &[u8], limits: &Limits) -> Result<(), TableError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|_| malformed("the body is not an Excel workbook that can be read (XLSX)"))?;
    if zip.len() > limits.max_zip_entries {
        return Err(too_large(
            Limit::ZipEntries,
            limits.max_zip_entries as u64,
            format!("the workbook has {} entries", zip.len()),
        ));
    }
    let mut names = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip
            .by_index_raw(i)
            .map_err(|_| malformed("the workbook's zip directory cannot be read"))?;
        check_declared(entry.size(), entry.compressed_size(), limits)?;
        total = total.saturating_add(entry.size());
        if total > limits.max_unpacked_bytes {
            return Err(too_large(
                Limit::UnpackedBytes,
                limits.max_unpacked_bytes,
                "the workbook unpacks to more than allowed",
            ));
        }
        names.push(entry.name().to_owned());
    }
    if !names.iter().any(|n| n == "xl/workbook.xml") {
        return Err(malformed(
            "the body is not an XLSX workbook (no xl/workbook.xml); save the sheet as .xlsx",
        ));
    }
    let mut targets = Vec::new();
    // Relationships first: they say which further parts calamine may open.
    for pass in [true, false] {
        for (i, name) in names.iter().enumerate() {
            let part = part_of(name, &targets);
            if (part == Part::Relationships) != pass || part == Part::Binary {
                continue;
            }
            let entry = zip
                .by_index(i)
                .map_err(|_| malformed("a part of the workbook cannot be unpacked"))?;
            let declared = entry.size();
            let found = scan_part(entry, declared, part, limits)?;
            targets.extend(found);
        }
    }
    Ok(())
}

fn check_declared(size: u64, packed: u64, limits: &Limits) -> Result<(), TableError> {
    if size > limits.max_entry_bytes {
        return Err(too_large(
            Limit::EntryBytes,
            limits.max_entry_bytes,
            "a part of the workbook unpacks to more than allowed",
        ));
    }
    if size > RATIO_FLOOR && size / packed.max(1) > limits.max_compression_ratio {
        return Err(too_large(
            Limit::CompressionRatio,
            limits.max_compression_ratio,
            format!(
                "a part of the workbook unpacks {} times its packed size",
                size / packed.max(1)
            ),
        ));
    }
    Ok(())
}

/// Streams one XML part; returns the relationship targets it names.
fn scan_part<R: Read>(
    entry: R,
    declared: u64,
    part: Part,
    limits: &Limits,
) -> Result<Vec<String>, TableError> {
    let fault = Rc::new(RefCell::new(None));
    let guarded = TokenGuard::new(entry, declared, limits, fault.clone());
    let mut reader = quick_xml::Reader::from_reader(BufReader::new(guarded));
    let mut scan = Scan::new(part, limits);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(_) => {
                return Err(fault
                    .borrow_mut()
                    .take()
                    .unwrap_or_else(|| malformed("a part of the workbook is not well-formed XML")))
            }
        };
        match event {
            Event::Eof => return Ok(scan.targets),
            Event::Start(e) => scan.element(&e, true)?,
            Event::Empty(e) => scan.element(&e, false)?,
            Event::End(e) => scan.end(e.local_name().as_ref()),
            Event::Text(t) => scan.text(&t)?,
            Event::CData(t) => scan.text(&t)?,
            Event::GeneralRef(r) => scan.text(&r)?,
            _ => {}
        }
    }
}

/// Passes bytes through, refusing more than the entry declared (a forged
/// size) or than the limit, and any run of bytes longer than
/// `max_xml_token_bytes` that has not closed a tag or a text: so no XML
/// reader (ours or calamine's) buffers more than that at once.
struct TokenGuard<R> {
    inner: R,
    left: u64,
    max_token: usize,
    run: usize,
    in_tag: bool,
    quote: Option<u8>,
    limits: Limits,
    fault: Rc<RefCell<Option<TableError>>>,
}

impl<R: Read> TokenGuard<R> {
    fn new(
        inner: R,
        declared: u64,
        limits: &Limits,
        fault: Rc<RefCell<Option<TableError>>>,
    ) -> Self {
        TokenGuard {
            inner,
            left: declared.min(limits.max_entry_bytes),
            max_token: limits.max_xml_token_bytes,
            run: 0,
            in_tag: false,
            quote: None,
            limits: *limits,
            fault,
        }
    }

    fn fail(&self, e: TableError) -> std::io::Error {
        *self.fault.borrow_mut() = Some(e);
        std::io::Error::other("refused by the upload limits")
    }

    fn lex(&mut self, bytes: &[u8]) -> Result<(), TableError> {
        for &b in bytes {
            match (self.in_tag, self.quote, b) {
                (_, Some(q), _) if b == q => self.quote = None,
                (_, Some(_), _) => {}
                (false, None, b'<') => {
                    self.in_tag = true;
                    self.run = 0;
                }
                (true, None, b'"' | b'\'') => self.quote = Some(b),
                (true, None, b'>') => {
                    self.in_tag = false;
                    self.run = 0;
                }
                _ => {}
            }
            self.run += 1;
            if self.run > self.max_token {
                return Err(too_large(
                    Limit::XmlToken,
                    self.max_token as u64,
                    "a tag or text in the workbook is longer than allowed",
                ));
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for TokenGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            let e = too_large(
                Limit::EntryBytes,
                self.limits.max_entry_bytes,
                "a part of the workbook unpacks to more than it declares",
            );
            return Err(self.fail(e));
        }
        self.left -= n as u64;
        if let Err(e) = self.lex(&buf[..n]) {
            return Err(self.fail(e));
        }
        Ok(n)
    }
}

/// What the scan of one part has seen so far.
struct Scan<'a> {
    part: Part,
    limits: &'a Limits,
    row: u64,
    col: u64,
    strings: u64,
    string_bytes: u64,
    current_string: u64,
    in_string: bool,
    targets: Vec<String>,
}

impl<'a> Scan<'a> {
    fn new(part: Part, limits: &'a Limits) -> Self {
        Scan {
            part,
            limits,
            row: 1,
            col: 0,
            strings: 0,
            string_bytes: 0,
            current_string: 0,
            in_string: false,
            targets: Vec::new(),
        }
    }

    fn element(&mut self, e: &BytesStart, open: bool) -> Result<(), TableError> {
        let mut attributes = e.attributes();
        attributes.with_checks(false);
        let mut count = 0usize;
        let name = e.local_name();
        for attribute in attributes {
            count += 1;
            if count > self.limits.max_xml_attributes {
                return Err(too_large(
                    Limit::XmlAttributes,
                    self.limits.max_xml_attributes as u64,
                    "an element of the workbook has too many attributes",
                ));
            }
            let Ok(attribute) = attribute else {
                return Err(malformed("a part of the workbook is not well-formed XML"));
            };
            let key = attribute.key.local_name();
            // The parts of a workbook are UTF-8; anything else is not a workbook we read.
            let Ok(value) = std::str::from_utf8(&attribute.value) else {
                return Err(malformed("a part of the workbook is not UTF-8"));
            };
            match (self.part, name.as_ref(), key.as_ref()) {
                (Part::Sheet, b"dimension", b"ref") => self.dimension(value)?,
                (Part::Sheet, b"row", b"r") => self.row = parse_row(value)?,
                (Part::Sheet, b"c", b"r") => {
                    let (row, col) = parse_cell(value)?;
                    self.row = row;
                    self.col = col - 1; // `cell` below moves to it
                }
                (Part::Relationships, b"Relationship", b"Target") => {
                    let target = value
                        .trim_start_matches("../")
                        .trim_start_matches('/')
                        .to_ascii_lowercase();
                    if !target.is_empty() {
                        self.targets.push(target);
                    }
                }
                _ => {}
            }
        }
        match (self.part, name.as_ref()) {
            (Part::Sheet, b"c") => self.cell(),
            (Part::Sheet, b"row") if !open => {
                self.row += 1;
                self.col = 0;
                Ok(())
            }
            (Part::SharedStrings, b"si") => {
                self.strings += 1;
                if self.strings > self.limits.max_shared_strings {
                    return Err(TableError::over_limit(
                        "SHARED_STRINGS_TOO_LARGE",
                        Limit::SharedStrings,
                        self.limits.max_shared_strings,
                        "the workbook has more shared strings than allowed",
                    ));
                }
                self.in_string = open;
                self.current_string = 0;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn end(&mut self, name: &[u8]) {
        match (self.part, name) {
            (Part::Sheet, b"row") => {
                self.row += 1;
                self.col = 0;
            }
            (Part::SharedStrings, b"si") => self.in_string = false,
            _ => {}
        }
    }

    /// A cell at the next column of the current row.
    fn cell(&mut self) -> Result<(), TableError> {
        self.col += 1;
        self.check_extent(self.row, self.col, "a cell")
    }

    fn dimension(&mut self, text: &str) -> Result<(), TableError> {
        for corner in text.split(':') {
            let (row, col) = parse_cell(corner)?;
            self.check_extent(row, col, "the sheet's declared dimension")?;
        }
        Ok(())
    }

    fn check_extent(&self, row: u64, col: u64, what: &str) -> Result<(), TableError> {
        let limits = self.limits;
        if row > limits.max_sheet_rows() {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_ROWS",
                Limit::Rows,
                limits.max_rows as u64,
                format!("{what} reaches row {row}"),
            ));
        }
        if col > limits.max_columns as u64 {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_COLUMNS",
                Limit::Columns,
                limits.max_columns as u64,
                format!("{what} reaches column {col}"),
            ));
        }
        // The bounding box from A1, which is what calamine allocates (or more).
        if row.saturating_mul(col) > limits.max_cells {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_CELLS",
                Limit::Cells,
                limits.max_cells,
                format!("{what} makes the sheet {row} rows by {col} columns"),
            ));
        }
        Ok(())
    }

    fn text(&mut self, text: &[u8]) -> Result<(), TableError> {
        if self.part != Part::SharedStrings || !self.in_string {
            return Ok(());
        }
        let limits = self.limits;
        self.string_bytes += text.len() as u64;
        if self.string_bytes > limits.max_shared_string_bytes {
            return Err(TableError::over_limit(
                "SHARED_STRINGS_TOO_LARGE",
                Limit::SharedStringBytes,
                limits.max_shared_string_bytes,
                "the workbook's shared strings are larger than allowed",
            ));
        }
        // Characters, not bytes: count the bytes that start a UTF-8 sequence.
        self.current_string += text.iter().filter(|b| (**b & 0xC0) != 0x80).count() as u64;
        if self.current_string > limits.max_cell_chars as u64 {
            return Err(TableError::over_limit(
                "CELL_TOO_LONG",
                Limit::CellChars,
                limits.max_cell_chars as u64,
                format!("shared string {} is longer than allowed", self.strings),
            ));
        }
        Ok(())
    }
}

/// `5` of `<row r="5">` (1-based).
fn parse_row(text: &str) -> Result<u64, TableError> {
    let bad = || malformed("a row number in the workbook is not valid");
    if text.is_empty() || text.len() > 10 {
        return Err(bad());
    }
    text.parse::<u64>().map_err(|_| bad())
}

/// (row, column), both 1-based, of a cell reference such as `XFD1048576`.
fn parse_cell(value: &str) -> Result<(u64, u64), TableError> {
    let bad = || malformed("a cell reference in the workbook is not valid");
    let value: Vec<u8> = value.bytes().filter(|b| *b != b'$').collect();
    let letters = value.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    if letters == 0 || letters > 3 {
        return Err(bad());
    }
    let col = value[..letters].iter().fold(0u64, |acc, b| {
        acc * 26 + u64::from(b.to_ascii_uppercase() - b'A' + 1)
    });
    let row = parse_row(std::str::from_utf8(&value[letters..]).map_err(|_| bad())?)?;
    Ok((row, col))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_references_parse_like_excel() {
        assert_eq!(parse_cell("A1").unwrap(), (1, 1));
        assert_eq!(parse_cell("XFD1048576").unwrap(), (1_048_576, 16_384));
        assert_eq!(parse_cell("$B$3").unwrap(), (3, 2));
        assert!(parse_cell("1A").is_err());
        assert!(parse_cell("AAAA1").is_err());
        assert!(parse_cell("A99999999999").is_err());
    }

    #[test]
    fn the_token_guard_bounds_tags_and_texts_but_not_files() {
        let limits = Limits {
            max_xml_token_bytes: 16,
            ..Limits::default()
        };
        let fault = Rc::new(RefCell::new(None));
        let mut ok = TokenGuard::new(
            &b"<a b='>'>x</a><a/><a/><a/><a/><a/>"[..],
            1000,
            &limits,
            fault.clone(),
        );
        assert!(std::io::copy(&mut ok, &mut std::io::sink()).is_ok());
        let long = format!("<a>{}</a>", "x".repeat(40));
        let mut bad = TokenGuard::new(long.as_bytes(), 1000, &limits, fault.clone());
        assert!(std::io::copy(&mut bad, &mut std::io::sink()).is_err());
        assert_eq!(
            fault.borrow().as_ref().map(|e| e.limit),
            Some(Some(Limit::XmlToken))
        );
        let mut forged = TokenGuard::new(&b"<a/><a/>"[..], 4, &limits, fault.clone());
        assert!(std::io::copy(&mut forged, &mut std::io::sink()).is_err());
    }
}
