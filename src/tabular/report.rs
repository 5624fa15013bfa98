//! The per-row report of an upload, one builder for every upload kind: each
//! row's number, the name as given, the masked ID number, and its reasons;
//! duplicates of a key within the upload found on the way.

use std::collections::HashMap;

use serde::Serialize;

use super::error::mask_numbers;
use super::table::{RawRow, Table};
use crate::domain::mask_middle;

/// Why a row (or one of its fields) was not accepted, or what to warn about.
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

/// Outcome of one uploaded row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RowResult {
    pub row: usize,
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// What happened to an accepted row: `created`, `updated`, `replaced` or `unchanged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    /// The worker's name as given in the row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The row's ID number, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowProblem>,
    /// Accepted, but worth a look (e.g. `NO_LABOUR_CONTRACT_DATE`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<RowProblem>,
}

impl RowResult {
    pub fn accepted(row: usize, id_number: Option<String>, outcome: &'static str) -> Self {
        RowResult {
            row,
            status: "accepted",
            outcome: Some(outcome),
            name: None,
            id_number,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub fn rejected(row: usize, id_number: Option<String>, errors: Vec<RowProblem>) -> Self {
        RowResult {
            row,
            status: "rejected",
            outcome: None,
            name: None,
            id_number,
            errors,
            warnings: Vec::new(),
        }
    }

    pub fn with_name(mut self, name: Option<String>) -> Self {
        self.name = name;
        self
    }

    pub fn with_warnings(mut self, warnings: Vec<RowProblem>) -> Self {
        self.warnings = warnings;
        self
    }
}

/// Totals and per-row outcomes of an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadReport {
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Headers of the file that name no field; they were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
    pub rows: Vec<RowResult>,
}

impl UploadReport {
    pub fn new(rows: Vec<RowResult>) -> Self {
        let accepted = rows.iter().filter(|r| r.status == "accepted").count();
        UploadReport {
            total: rows.len(),
            accepted,
            rejected: rows.len() - accepted,
            ignored_columns: Vec::new(),
            rows,
        }
    }
}

/// The longest name a report repeats, in characters.
const NAME_CHARS: usize = 50;

/// The masked ID number of a row as given (valid or not).
pub fn masked_id(row: &RawRow) -> Option<String> {
    row.get("id_number").map(|v| mask_middle(v, 4, 4))
}

/// The name of a row as given, shortened, with any number in it masked.
pub fn name_as_given(row: &RawRow) -> Option<String> {
    row.get("name")
        .map(|n| mask_numbers(&n.chars().take(NAME_CHARS).collect::<String>()))
}

/// A row whose outcome is decided later (after the database work), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pending(usize);

/// Collects the report of one upload in row order.
#[derive(Debug, Default)]
pub struct ReportBuilder {
    slots: Vec<Slot>,
    seen: HashMap<(&'static str, String), usize>,
    ignored_columns: Vec<String>,
}

#[derive(Debug)]
enum Slot {
    Done(RowResult),
    Pending {
        row: usize,
        name: Option<String>,
        id: Option<String>,
    },
}

impl ReportBuilder {
    /// A report for the rows of `table` (its ignored columns are listed).
    pub fn for_table(table: &Table) -> Self {
        ReportBuilder {
            ignored_columns: table.ignored_columns.clone(),
            ..ReportBuilder::default()
        }
    }

    /// Notes `value` of field `key` for `row`; if an earlier row had the same
    /// value, its number.
    pub fn first_seen(&mut self, key: &'static str, value: &str, row: usize) -> Option<usize> {
        match self.seen.get(&(key, value.to_owned())) {
            Some(first) => Some(*first),
            None => {
                self.seen.insert((key, value.to_owned()), row);
                None
            }
        }
    }

    /// The problem for a key that repeats an earlier row's.
    pub fn duplicate(field: &str, what: &str, first: usize) -> RowProblem {
        RowProblem::field(
            field,
            "DUPLICATE_ROW",
            format!("the same {what} is already in row {first} of this upload"),
        )
    }

    pub fn reject(&mut self, row: &RawRow, errors: Vec<RowProblem>) {
        let result =
            RowResult::rejected(row.number, masked_id(row), errors).with_name(name_as_given(row));
        self.slots.push(Slot::Done(result));
    }

    pub fn accept(&mut self, row: &RawRow, outcome: &'static str, warnings: Vec<RowProblem>) {
        let result = RowResult::accepted(row.number, masked_id(row), outcome)
            .with_name(name_as_given(row))
            .with_warnings(warnings);
        self.slots.push(Slot::Done(result));
    }

    /// Keeps the row's place; its outcome comes with [`ReportBuilder::finish`].
    pub fn pending(&mut self, row: &RawRow) -> Pending {
        self.slots.push(Slot::Pending {
            row: row.number,
            name: name_as_given(row),
            id: masked_id(row),
        });
        Pending(self.slots.len() - 1)
    }

    /// The report, with the outcomes of the pending rows filled in. A pending
    /// row without an outcome is reported rejected, never dropped.
    pub fn finish(self, mut outcomes: HashMap<Pending, RowResult>) -> UploadReport {
        let rows = self
            .slots
            .into_iter()
            .enumerate()
            .map(|(i, slot)| match slot {
                Slot::Done(r) => r,
                Slot::Pending { row, name, id } => match outcomes.remove(&Pending(i)) {
                    Some(mut r) => {
                        r.row = row;
                        r.name = r.name.or(name);
                        r.id_number = r.id_number.or(id);
                        r
                    }
                    None => RowResult::rejected(
                        row,
                        id,
                        vec![RowProblem::new(
                            None,
                            "NOT_PROCESSED",
                            "the row was not processed",
                        )],
                    )
                    .with_name(name),
                },
            })
            .collect();
        let mut report = UploadReport::new(rows);
        report.ignored_columns = self.ignored_columns;
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: usize, id: &str, name: &str) -> RawRow {
        let mut r = RawRow::new(number);
        r.insert("id_number", id.to_owned());
        r.insert("name", name.to_owned());
        r
    }

    #[test]
    fn rows_keep_their_order_name_and_masked_id() {
        let first = row(1, "110105194912310021", "张三");
        let second = row(2, "110105194912310021", "张三");
        let third = row(3, "420111198503120012", "李四");
        let mut report = ReportBuilder::default();
        let pending = report.pending(&first);
        assert_eq!(
            report.first_seen("id_number", "110105194912310021", 1),
            None
        );
        let dup = report.first_seen("id_number", "110105194912310021", 2);
        assert_eq!(dup, Some(1));
        report.reject(
            &second,
            vec![ReportBuilder::duplicate("id_number", "ID number", 1)],
        );
        report.pending(&third); // no outcome given: must not vanish
        let outcomes = HashMap::from([(pending, RowResult::accepted(0, None, "created"))]);
        let r = report.finish(outcomes);
        assert_eq!((r.total, r.accepted, r.rejected), (3, 1, 2));
        assert_eq!(r.rows[0].row, 1);
        assert_eq!(r.rows[0].name.as_deref(), Some("张三"));
        assert_eq!(r.rows[0].id_number.as_deref(), Some("1101**********0021"));
        assert_eq!(r.rows[1].errors[0].code, "DUPLICATE_ROW");
        assert_eq!(r.rows[2].errors[0].code, "NOT_PROCESSED");
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("110105194912310021"));
        assert!(!json.contains("420111198503120012"));
    }

    #[test]
    fn a_number_typed_into_the_name_is_masked() {
        let r = row(1, "x", "6228480000000015");
        assert_eq!(name_as_given(&r).as_deref(), Some("6228********0015"));
    }
}
