//! Storing checked roster rows: who may be named as employer, a
//! subcontractor kept to its own workers, a bank card kept to one person,
//! and the audit trail, each row in its own savepoint.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::result::Error as DieselError;
use diesel::{Connection, PgConnection};

use super::roster::ParsedRow;
use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::db::roster::{RosterError, RosterForm, Upserted};
use crate::db::{self, audit, DbError};
use crate::domain::mask;
use crate::error::AppError;
use crate::tabular::report::Pending;
use crate::tabular::{RowProblem, RowResult};

/// Who stores the rows, on which project, when.
pub(super) struct Writer<'a> {
    pub project: &'a Project,
    pub role: ProjectRole,
    pub caller: &'a Organization,
    pub now: DateTime<Utc>,
}

/// Stores the valid rows in one transaction, each in its own savepoint.
pub(super) fn store(
    conn: &mut PgConnection,
    w: &Writer<'_>,
    rows: Vec<(Pending, ParsedRow)>,
) -> Result<HashMap<Pending, RowResult>, AppError> {
    if rows.is_empty() {
        return Ok(HashMap::new());
    }
    conn.transaction(|conn| {
        let employers = employers(conn, w)?;
        let mut out = HashMap::with_capacity(rows.len());
        for (pending, row) in rows {
            out.insert(pending, store_row(conn, w, &employers, &row)?);
        }
        Ok(out)
    })
}

/// Who may be named as employer: a subcontractor only itself; the contractor
/// itself and the subcontractors attached to the project.
fn employers(conn: &mut PgConnection, w: &Writer<'_>) -> Result<HashMap<String, i64>, AppError> {
    let mut employers = HashMap::new();
    if w.role == ProjectRole::Subcontractor {
        employers.insert(w.caller.uscc.clone(), w.caller.id);
        return Ok(employers);
    }
    if let Some(c) = db::organizations::find_by_id(conn, w.project.contractor_id)? {
        employers.insert(c.uscc, c.id);
    }
    for s in db::projects::subcontractors(conn, w.project.id)? {
        employers.insert(s.uscc, s.id);
    }
    Ok(employers)
}

fn store_row(
    conn: &mut PgConnection,
    w: &Writer<'_>,
    employers: &HashMap<String, i64>,
    row: &ParsedRow,
) -> Result<RowResult, AppError> {
    let masked = Some(row.masked_id());
    let employer_id = match &row.employer_uscc {
        None if w.role == ProjectRole::Subcontractor => w.caller.id,
        None => w.project.contractor_id,
        Some(u) => match employers.get(u) {
            Some(id) => *id,
            None => {
                let reason = if w.role == ProjectRole::Subcontractor {
                    "a subcontractor registers only its own workers"
                } else {
                    "the employer is neither the general contractor nor a subcontractor attached to this project"
                };
                let problem = RowProblem::field("employer_uscc", "EMPLOYER_NOT_ON_PROJECT", reason);
                return Ok(RowResult::rejected(row.number, masked, vec![problem]));
            }
        },
    };
    let result = conn.transaction(|conn| upsert_row(conn, w, employer_id, row));
    Ok(match result {
        Ok(outcome) => RowResult::accepted(row.number, masked, outcome_text(outcome)),
        Err(RowFailure::Refused(problem)) => RowResult::rejected(row.number, masked, vec![problem]),
        Err(RowFailure::Db(e)) => return Err(e.into()),
        Err(RowFailure::Failed(e)) => return Err(e),
    })
}

fn outcome_text(outcome: Upserted) -> &'static str {
    match outcome {
        Upserted::Created => "created",
        Upserted::Updated => "updated",
        Upserted::Unchanged => "unchanged",
    }
}

/// Upserts the person and his roster entry, with its audit event.
fn upsert_row(
    conn: &mut PgConnection,
    w: &Writer<'_>,
    employer_id: i64,
    row: &ParsedRow,
) -> Result<Upserted, RowFailure> {
    // A subcontractor may not take over or change another employer's worker.
    if w.role == ProjectRole::Subcontractor {
        if let Some(existing) = find_worker_id(conn, &row.worker.id_number)? {
            if let Some(entry) = db::roster::entry(conn, w.project.id, existing)? {
                if entry.employer_id != w.caller.id {
                    return Err(RowFailure::Refused(RowProblem::field(
                        "id_number",
                        "EMPLOYED_BY_ANOTHER",
                        "this worker is on the project's roster for another employer",
                    )));
                }
            }
        }
    }
    let (worker, worker_change) = db::roster::upsert_worker(conn, &row.worker, w.now)?;
    let form = RosterForm {
        employer_id,
        team: row.team.clone(),
        trade: row.trade.clone(),
        contract_signed_on: row.contract_signed_on,
        entered_on: row.entered_on,
        exited_on: row.exited_on,
    };
    let (entry, entry_change) =
        db::roster::upsert_entry(conn, w.project.id, worker.id, &row.worker, &form, w.now)?;
    let outcome = match (worker_change, entry_change) {
        (_, Upserted::Created) => Upserted::Created,
        (Upserted::Unchanged, Upserted::Unchanged) => Upserted::Unchanged,
        _ => Upserted::Updated,
    };
    if outcome == Upserted::Unchanged {
        return Ok(outcome);
    }
    audit::record(
        conn,
        w.now,
        Some(w.caller.id),
        "roster_entry",
        Some(entry.id),
        outcome_text(outcome),
        serde_json::json!({
            "worker_id": worker.id,
            "name": entry.name,
            "card": entry.card_number.as_deref().map(|c| mask::mask_middle(c, 4, 4)),
            "employer_id": entry.employer_id,
            "team": entry.team,
            "trade": entry.trade,
            "contract_signed_on": entry.contract_signed_on,
            "entered_on": entry.entered_on,
            "exited_on": entry.exited_on,
        }),
    )?;
    Ok(outcome)
}

/// How storing one row ends when it does not succeed; a refusal rolls back
/// the row's savepoint like a database error does.
enum RowFailure {
    Refused(RowProblem),
    Db(DieselError),
    Failed(AppError),
}

impl From<DieselError> for RowFailure {
    fn from(e: DieselError) -> Self {
        RowFailure::Db(e)
    }
}

impl From<RosterError> for RowFailure {
    fn from(e: RosterError) -> Self {
        match e {
            // Says only that the card is someone else's: never whose, nor where.
            RosterError::CardBelongsToAnotherWorker => RowFailure::Refused(RowProblem::field(
                "card_number",
                "CARD_BELONGS_TO_ANOTHER_WORKER",
                "this bank card is registered to another person",
            )),
            RosterError::Db(e) => e.into(),
        }
    }
}

impl From<DbError> for RowFailure {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Query(e) => RowFailure::Db(e),
            other => RowFailure::Failed(other.into()),
        }
    }
}

fn find_worker_id(conn: &mut PgConnection, id_number: &str) -> Result<Option<i64>, DbError> {
    use crate::db::schema::workers;
    use diesel::prelude::*;
    Ok(workers::table
        .filter(workers::id_number.eq(id_number))
        .select(workers::id)
        .first(conn)
        .optional()?)
}
