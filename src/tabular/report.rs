//! The per-row report of an upload, one builder for every upload kind: each
//! row's number, the name as given, the masked ID number, and its reasons;
//! duplicates of a key within the upload found on the way. The answer stays
//! bounded: every row is counted, at most [`DETAIL_ROWS`] are listed.

use std::collections::{BTreeMap, HashMap};

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

/// The most rows an upload's answer lists one by one. An upload may hold
/// 100,000 rows; listing each would make an answer of tens of megabytes that
/// no clerk reads, so beyond this the answer counts every row and lists the
/// rows that need a look first.
pub const DETAIL_ROWS: usize = 1000;

/// Totals, counts by outcome and by code, and the rows listed one by one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UploadReport {
    pub total: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Accepted rows by outcome (`created`, `updated`, `replaced`, `unchanged`).
    pub outcomes: BTreeMap<String, usize>,
    /// Rows rejected by each error code (a row with two codes counts under both).
    pub errors_by_code: BTreeMap<String, usize>,
    /// Accepted rows warned about, by warning code.
    pub warnings_by_code: BTreeMap<String, usize>,
    /// Headers of the file that name no field; they were not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignored_columns: Vec<String>,
    /// The rows listed one by one, in row order: every row of an upload of at
    /// most 1,000 rows; of a larger one, the rows with errors or warnings
    /// first (up to 1,000), then accepted rows while room remains.
    pub rows: Vec<RowResult>,
    /// Rows counted above but not listed in `rows`.
    pub rows_omitted: usize,
}

impl UploadReport {
    pub fn new(rows: Vec<RowResult>) -> Self {
        Self::bounded(rows, DETAIL_ROWS)
    }

    /// The report of `rows`, listing at most `limit` of them.
    pub fn bounded(rows: Vec<RowResult>, limit: usize) -> Self {
        let mut outcomes = BTreeMap::new();
        let mut errors_by_code = BTreeMap::new();
        let mut warnings_by_code = BTreeMap::new();
        let mut accepted = 0;
        let mut needing_a_look = 0;
        for r in &rows {
            if let Some(outcome) = r.outcome {
                *outcomes.entry(outcome.to_owned()).or_insert(0) += 1;
            }
            accepted += usize::from(r.status == "accepted");
            needing_a_look += usize::from(r.needs_a_look());
            count_codes(&mut errors_by_code, &r.errors);
            count_codes(&mut warnings_by_code, &r.warnings);
        }
        let total = rows.len();
        let mut room_for_looks = limit;
        let mut room_for_clean = limit.saturating_sub(needing_a_look);
        let listed: Vec<RowResult> = rows
            .into_iter()
            .filter(|r| {
                let room = if r.needs_a_look() {
                    &mut room_for_looks
                } else {
                    &mut room_for_clean
                };
                let keep = *room > 0;
                *room = room.saturating_sub(1);
                keep
            })
            .collect();
        UploadReport {
            total,
            accepted,
            rejected: total - accepted,
            outcomes,
            errors_by_code,
            warnings_by_code,
            ignored_columns: Vec::new(),
            rows_omitted: total - listed.len(),
            rows: listed,
        }
    }
}

impl RowResult {
    /// Rejected, or accepted with a warning: what a clerk has to look at.
    fn needs_a_look(&self) -> bool {
        !self.errors.is_empty() || !self.warnings.is_empty() || self.status != "accepted"
    }
}

/// Counts each code once per row, so a row with the same code on two fields
/// counts as one row.
fn count_codes(counts: &mut BTreeMap<String, usize>, problems: &[RowProblem]) {
    let mut codes: Vec<&str> = problems.iter().map(|p| p.code.as_str()).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        *counts.entry(code.to_owned()).or_insert(0) += 1;
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

    fn results(n: usize, rejected_every: usize) -> Vec<RowResult> {
        (1..=n)
            .map(|i| {
                if i % rejected_every == 0 {
                    let bad = RowProblem::field("hours", "INVALID_NUMBER", "not a number");
                    RowResult::rejected(i, None, vec![bad.clone(), bad])
                } else if i % 7 == 0 {
                    let warn = RowProblem::field("exited_on", "NO_EXIT", "x");
                    RowResult::accepted(i, None, "updated").with_warnings(vec![warn])
                } else {
                    RowResult::accepted(i, None, "created")
                }
            })
            .collect()
    }

    #[test]
    fn a_small_upload_lists_every_row_and_counts_them() {
        let r = UploadReport::bounded(results(30, 10), 100);
        assert_eq!((r.total, r.accepted, r.rejected), (30, 27, 3));
        assert_eq!(r.rows.len(), 30);
        assert_eq!(r.rows_omitted, 0);
        assert_eq!(r.errors_by_code["INVALID_NUMBER"], 3, "once per row");
        assert_eq!(r.warnings_by_code["NO_EXIT"], 4);
        assert_eq!(r.outcomes["created"] + r.outcomes["updated"], 27);
    }

    #[test]
    fn a_large_upload_lists_rows_needing_a_look_first_up_to_the_limit() {
        // 100 rejected and 142 warned of 1,000 rows, 300 listed.
        let r = UploadReport::bounded(results(1000, 10), 300);
        assert_eq!(r.total, 1000);
        assert_eq!(r.rows.len(), 300);
        assert_eq!(r.rows_omitted, 700);
        let looks = r.rows.iter().filter(|x| x.needs_a_look()).count();
        assert_eq!(looks, 100 + 142 - 14, "every rejected and warned row");
        assert!(r.rows.windows(2).all(|w| w[0].row < w[1].row), "row order");
        assert_eq!(r.rows[0].row, 1, "clean rows fill the room left");

        // More rows need a look than there is room: only they are listed.
        let r = UploadReport::bounded(results(1000, 2), 100);
        assert_eq!(r.rows.len(), 100);
        assert!(r.rows.iter().all(RowResult::needs_a_look));
        assert_eq!(r.errors_by_code["INVALID_NUMBER"], 500);
    }
}
