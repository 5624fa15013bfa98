//! The neutral table every upload becomes, and the one place where records
//! (CSV lines, sheet rows) are turned into it: the header row is searched
//! for below title rows, mapped onto a schema, and blank and total rows are
//! skipped, with every count checked against the limits as it grows.

use std::collections::BTreeMap;

use super::columns::{Need, Schema, IGNORED_HEADERS};
use super::error::{excerpt, Limit, TableError};
use super::report::RowProblem;
use super::Limits;

/// How many rows above the header a file may have (a title such as
/// "XX项目2026年10月农民工工资表", a "单位：元" line).
pub const HEADER_SEARCH_ROWS: usize = 20;

/// Rows whose first filled cell says this are totals, not lines.
const TOTAL_ROW_MARKERS: &[&str] = &["合计", "总计", "小计", "合 计", "total"];

/// One row as uploaded: its number (1-based, counted from the row after the
/// header; in JSON, the position in the list) and its values by field key.
#[derive(Debug, Clone, Default)]
pub struct RawRow {
    pub number: usize,
    values: BTreeMap<&'static str, String>,
    /// Faults found while reading the row itself (unknown or non-text fields).
    pub problems: Vec<RowProblem>,
}

impl RawRow {
    pub(crate) fn new(number: usize) -> Self {
        RawRow {
            number,
            ..RawRow::default()
        }
    }

    /// The trimmed value, or `None` when absent or blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The keys of the fields this row has a value for.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.keys().copied()
    }

    pub(crate) fn insert(&mut self, key: &'static str, value: String) {
        self.values.insert(key, value);
    }
}

/// An upload read as a table.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub rows: Vec<RawRow>,
    /// The field keys that have a column (CSV, XLSX) or appear in a row (JSON).
    /// A field not listed here was not in the file, which is not the same as
    /// an empty cell.
    pub columns: Vec<&'static str>,
    /// Headers that name no field of the upload, masked and shortened; ignored.
    pub ignored_columns: Vec<String>,
    /// Columns each row needs that the file does not have: every row gets the
    /// reason from the pipeline.
    pub missing_columns: Vec<&'static str>,
    /// The header's row in the file (1-based); 0 for JSON. A data row's row in
    /// the file is `header_row + number`.
    pub header_row: usize,
}

impl Table {
    pub fn has_column(&self, key: &str) -> bool {
        self.columns.contains(&key)
    }
}

/// Builds a [`Table`] from records fed one at a time.
pub(crate) struct TableBuilder<'a> {
    schema: &'a Schema,
    limits: &'a Limits,
    /// The header row's field keys, once found.
    mapping: Option<Vec<Option<&'static str>>>,
    /// Records seen so far (the header's position, then the row numbers).
    seen: usize,
    cells: u64,
    table: Table,
}

impl<'a> TableBuilder<'a> {
    pub fn new(schema: &'a Schema, limits: &'a Limits) -> Self {
        TableBuilder {
            schema,
            limits,
            mapping: None,
            seen: 0,
            cells: 0,
            table: Table::default(),
        }
    }

    /// Takes the next record of the file.
    pub fn push<S: AsRef<str>>(&mut self, record: &[S]) -> Result<(), TableError> {
        self.seen += 1;
        match &self.mapping {
            None => self.search_header(record),
            Some(_) => self.push_row(record),
        }
    }

    fn search_header<S: AsRef<str>>(&mut self, record: &[S]) -> Result<(), TableError> {
        let known = record
            .iter()
            .filter(|c| self.schema.find_header(clean_header(c.as_ref())).is_some())
            .count();
        let has_essentials = self.schema.essential().all(|e| {
            record
                .iter()
                .any(|c| e.column.matches(clean_header(c.as_ref())))
        });
        if known >= 2 || (known >= 1 && has_essentials) {
            self.table.header_row = self.seen;
            self.mapping = Some(self.map_header(record)?);
            return Ok(());
        }
        if self.seen >= HEADER_SEARCH_ROWS {
            return Err(missing_header());
        }
        Ok(())
    }

    /// Maps the header row onto the schema: `None` for a header that names
    /// no field (listed as ignored). Fails on a repeated column, or when an
    /// essential column is missing.
    fn map_header<S: AsRef<str>>(
        &mut self,
        header: &[S],
    ) -> Result<Vec<Option<&'static str>>, TableError> {
        let width = header
            .iter()
            .rposition(|c| !clean_header(c.as_ref()).is_empty())
            .map_or(0, |last| last + 1);
        if width > self.limits.max_columns {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_COLUMNS",
                Limit::Columns,
                self.limits.max_columns as u64,
                format!("the header row has {width} columns"),
            ));
        }
        let mut mapping = Vec::with_capacity(header.len());
        for cell in header {
            let given = cell.as_ref().trim_start_matches('\u{feff}').trim();
            let wanted = clean_header(given);
            let column = self.schema.find_header(wanted);
            match column {
                Some(c) if mapping.contains(&Some(c.column.key)) => {
                    return Err(TableError::malformed(
                        "DUPLICATE_COLUMN",
                        format!("column {wanted:?} appears twice (as {:?})", c.column.key),
                    )
                    .with_field(c.column.key))
                }
                Some(c) => mapping.push(Some(c.column.key)),
                None => {
                    if !given.is_empty() {
                        self.table.ignored_columns.push(excerpt(given));
                    }
                    mapping.push(None);
                }
            }
        }
        for sc in self.schema.columns {
            if mapping.contains(&Some(sc.column.key)) {
                self.table.columns.push(sc.column.key);
                continue;
            }
            match sc.need {
                Need::Essential => {
                    return Err(TableError::malformed(
                        "MISSING_COLUMN",
                        format!(
                            "the header row has no {:?} column (also accepted: {})",
                            sc.column.key,
                            sc.column.aliases.join(", ")
                        ),
                    )
                    .with_field(sc.column.key))
                }
                Need::Expected => self.table.missing_columns.push(sc.column.key),
                Need::Optional => {}
            }
        }
        Ok(mapping)
    }

    fn push_row<S: AsRef<str>>(&mut self, record: &[S]) -> Result<(), TableError> {
        let number = self.seen - self.table.header_row;
        if record.iter().all(|v| v.as_ref().trim().is_empty()) || is_total_row(record) {
            return Ok(()); // Excel leaves blank lines at the end; totals are not lines
        }
        if self.table.rows.len() >= self.limits.max_rows {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_ROWS",
                Limit::Rows,
                self.limits.max_rows as u64,
                format!("the upload has more than {} rows", self.limits.max_rows),
            ));
        }
        let mapping = self.mapping.as_deref().unwrap_or_default();
        let mut row = RawRow::new(number);
        for (i, value) in record.iter().enumerate() {
            let value = value.as_ref();
            let key = mapping.get(i).copied().flatten();
            if value.len() > self.limits.max_cell_chars
                && value.chars().count() > self.limits.max_cell_chars
            {
                let e = TableError::over_limit(
                    "CELL_TOO_LONG",
                    Limit::CellChars,
                    self.limits.max_cell_chars as u64,
                    format!(
                        "row {number} has a cell of {} characters",
                        value.chars().count()
                    ),
                );
                return Err(match key {
                    Some(k) => e.with_field(k),
                    None => e,
                });
            }
            if let Some(key) = key.filter(|_| !value.trim().is_empty()) {
                self.cells += 1;
                row.insert(key, value.to_owned());
            }
        }
        if self.cells > self.limits.max_cells {
            return Err(TableError::over_limit(
                "UPLOAD_TOO_MANY_CELLS",
                Limit::Cells,
                self.limits.max_cells,
                format!(
                    "the upload has more than {} filled cells",
                    self.limits.max_cells
                ),
            ));
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
        self.table.rows.push(row);
        Ok(())
    }

    /// Adds a row that could not be read as cells (a broken CSV record).
    pub fn push_broken(&mut self, problem: RowProblem) -> Result<(), TableError> {
        self.seen += 1;
        if self.mapping.is_none() {
            return self.search_header::<&str>(&[]);
        }
        let mut row = RawRow::new(self.seen - self.table.header_row);
        row.problems.push(problem);
        self.table.rows.push(row);
        Ok(())
    }

    pub fn finish(self) -> Result<Table, TableError> {
        if self.mapping.is_none() {
            return Err(missing_header());
        }
        Ok(self.table)
    }
}

fn missing_header() -> TableError {
    TableError::malformed(
        "MISSING_HEADER",
        format!(
            "no header row found in the first {HEADER_SEARCH_ROWS} rows: the header row must name the columns (姓名, 身份证号, ...)"
        ),
    )
}

/// A header cell without a byte-order mark and surrounding blanks; the
/// conventional ignored headers (序号, 备注) become blank, so they never make
/// a row look like a header.
fn clean_header(cell: &str) -> &str {
    let cell = cell.trim_start_matches('\u{feff}').trim();
    if IGNORED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(cell)) {
        ""
    } else {
        cell
    }
}

fn is_total_row<S: AsRef<str>>(cells: &[S]) -> bool {
    cells
        .iter()
        .map(|c| c.as_ref().trim())
        .find(|c| !c.is_empty())
        .is_some_and(|first| {
            TOTAL_ROW_MARKERS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(first))
        })
}
