//! The real-name roster (实名制花名册): rows upserted by ID number from JSON,
//! CSV or XLSX, every row answered accepted or rejected with its reasons;
//! and the roster read back with ID, card and phone numbers masked.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::PgConnection;
use serde::Serialize;
use utoipa::ToSchema;

use super::roster_store::{self, Writer};
use super::{resident_id_on, Upload};
use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::db::roster::WorkerForm;
use crate::db::{self};
use crate::domain::mask;
use crate::error::AppError;
use crate::paging::Page;
use crate::tabular::fields::{self, Collector, FieldError};
use crate::tabular::{columns, RawRow, ReportBuilder, RowProblem, UploadReport};

/// One valid roster row, ready to store.
pub(super) struct ParsedRow {
    pub number: usize,
    pub worker: WorkerForm,
    pub employer_uscc: Option<String>,
    pub team: Option<String>,
    pub trade: Option<String>,
    pub contract_signed_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
}

impl ParsedRow {
    pub fn masked_id(&self) -> String {
        mask::mask_middle(&self.worker.id_number, 4, 4)
    }
}

fn optional<T>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    value.map(parse).transpose()
}

/// Checks one row; every fault of the row comes back at once.
fn parse_row(row: &RawRow, today: NaiveDate) -> Result<ParsedRow, Vec<RowProblem>> {
    if !row.problems.is_empty() {
        return Err(row.problems.clone());
    }
    let mut c = Collector::default();
    let id_number = c.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| resident_id_on("id_number", v, today)),
    );
    let name =
        c.keep(fields::required("name", row.get("name")).and_then(|v| fields::text("name", v, 50)));
    let phone = c.keep(optional(row.get("phone"), parse_phone));
    let card = c.keep(optional(row.get("card_number"), |v| {
        fields::bank_card("card_number", v)
    }));
    let card_bank = c.keep(fields::optional_text(
        "card_bank",
        row.get("card_bank"),
        100,
    ));
    let employer_uscc = c.keep(optional(row.get("employer_uscc"), |v| {
        fields::uscc("employer_uscc", v).map(|u| u.as_str().to_owned())
    }));
    let team = c.keep(fields::optional_text("team", row.get("team"), 100));
    let trade = c.keep(fields::optional_text("trade", row.get("trade"), 100));
    let contract_signed_on = c.keep(
        fields::required("contract_signed_on", row.get("contract_signed_on"))
            .and_then(|v| fields::date("contract_signed_on", v)),
    );
    let entered_on = c.keep(
        fields::required("entered_on", row.get("entered_on"))
            .and_then(|v| fields::date("entered_on", v)),
    );
    let exited_on = c.keep(fields::optional_date("exited_on", row.get("exited_on")));
    let (
        Some(id_number),
        Some(name),
        Some(phone),
        Some(card),
        Some(card_bank),
        Some(employer_uscc),
        Some(team),
        Some(trade),
        Some(contract_signed_on),
        Some(entered_on),
        Some(exited_on),
    ) = (
        id_number,
        name,
        phone,
        card,
        card_bank,
        employer_uscc,
        team,
        trade,
        contract_signed_on,
        entered_on,
        exited_on,
    )
    else {
        return Err(c.into_problems());
    };
    if exited_on.is_some_and(|exit| exit < entered_on) {
        return Err(vec![RowProblem::field(
            "exited_on",
            "EXIT_BEFORE_ENTRY",
            "exited_on is before entered_on",
        )]);
    }
    Ok(ParsedRow {
        number: row.number,
        worker: WorkerForm {
            id_number: id_number.as_str().to_owned(),
            name,
            phone,
            card_number: card.map(|c| c.as_str().to_owned()),
            card_bank,
        },
        employer_uscc,
        team,
        trade,
        contract_signed_on,
        entered_on,
        exited_on,
    })
}

/// A mainland mobile number (11 digits starting with 1) or a landline with area code.
fn parse_phone(value: &str) -> Result<String, FieldError> {
    let digits: String = value
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '+'))
        .collect();
    let digits = digits
        .strip_prefix("86")
        .filter(|d| d.len() == 11)
        .unwrap_or(&digits)
        .to_owned();
    if digits.len() >= 7 && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit()) {
        Ok(digits)
    } else {
        Err(FieldError {
            field: "phone",
            code: "INVALID_PHONE",
            reason: format!("{:?} is not a phone number", mask::mask_phone(value)),
        })
    }
}

/// Who writes the roster and when, as the handler found them.
pub struct RosterWrite<'a> {
    pub project: &'a Project,
    pub role: ProjectRole,
    pub caller: &'a Organization,
    /// The business clock's today (for ID numbers' birth dates) and now.
    pub today: NaiveDate,
    pub now: DateTime<Utc>,
}

/// Upserts the rows of an upload by ID number. Rows are checked on their own
/// and against each other first; the valid ones are stored in one
/// transaction, each in its own savepoint, so one row's conflict does not
/// undo the others.
pub fn upsert(
    conn: &mut PgConnection,
    write: RosterWrite<'_>,
    upload: &Upload,
) -> Result<UploadReport, AppError> {
    let table = upload.read(&columns::ROSTER)?;
    let mut report = ReportBuilder::for_table(&table);
    let mut valid = Vec::new();
    for row in &table.rows {
        let parsed = match parse_row(row, write.today) {
            Ok(p) => p,
            Err(errors) => {
                report.reject(row, errors);
                continue;
            }
        };
        if let Some(first) = report.first_seen("id_number", &parsed.worker.id_number, row.number) {
            report.reject(
                row,
                vec![ReportBuilder::duplicate("id_number", "ID number", first)],
            );
            continue;
        }
        if let Some(card) = &parsed.worker.card_number {
            if let Some(first) = report.first_seen("card_number", card, row.number) {
                report.reject(
                    row,
                    vec![RowProblem::field(
                        "card_number",
                        "CARD_BELONGS_TO_ANOTHER_WORKER",
                        format!("the same card is given for another worker in row {first}"),
                    )],
                );
                continue;
            }
        }
        valid.push((report.pending(row), parsed));
    }
    let writer = Writer {
        project: write.project,
        role: write.role,
        caller: write.caller,
        now: write.now,
    };
    let outcomes = roster_store::store(conn, &writer, valid)?;
    Ok(report.finish(outcomes))
}

/// One roster row as read back; ID and card numbers masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterView {
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub card_bank: Option<String>,
    pub employer_uscc: String,
    pub employer_name: String,
    pub team: Option<String>,
    pub trade: Option<String>,
    pub contract_signed_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
    pub updated_at: DateTime<Utc>,
}

/// One page of the roster.
#[derive(Debug, Serialize, ToSchema)]
pub struct RosterList {
    pub workers: Vec<RosterView>,
    /// `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// One page of the project's roster, in the order workers were entered; a
/// subcontractor sees only its own workers.
pub fn list(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller_id: i64,
    page: Page,
) -> Result<RosterList, AppError> {
    let only = (role == ProjectRole::Subcontractor).then_some(caller_id);
    let rows = db::roster::page(conn, project.id, only, page)?;
    let (rows, next_cursor) = page.finish(rows, |r| r.entry.id);
    let workers = rows
        .into_iter()
        .map(|r| RosterView {
            id_number: mask::mask_middle(&r.worker.id_number, 4, 4),
            name: r.entry.name,
            phone: r.entry.phone.as_deref().map(mask::mask_phone),
            card_number: r
                .entry
                .card_number
                .as_deref()
                .map(|c| mask::mask_middle(c, 4, 4)),
            card_bank: r.entry.card_bank,
            employer_uscc: r.employer_uscc,
            employer_name: r.employer_name,
            team: r.entry.team,
            trade: r.entry.trade,
            contract_signed_on: r.entry.contract_signed_on,
            entered_on: r.entry.entered_on,
            exited_on: r.entry.exited_on,
            updated_at: r.entry.updated_at,
        })
        .collect();
    Ok(RosterList {
        workers,
        next_cursor,
    })
}
