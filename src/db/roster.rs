//! Workers (people, by resident ID number) and projects' real-name rosters (实名制花名册).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::schema::{organizations, roster_entries, workers};
use super::DbError;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workers)]
pub struct Worker {
    pub id: i64,
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub card_bank: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = roster_entries)]
pub struct RosterEntry {
    pub id: i64,
    pub project_id: i64,
    pub worker_id: i64,
    pub employer_id: i64,
    pub team: Option<String>,
    pub trade: Option<String>,
    pub contract_signed_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RosterEntry {
    /// Whether the worker was on site (between entry and exit) on `day`.
    pub fn employed_on(&self, day: NaiveDate) -> bool {
        day >= self.entered_on && self.exited_on.is_none_or(|exit| day <= exit)
    }
}

/// A roster row with its worker and employer, as read back.
#[derive(Debug, Clone)]
pub struct RosterRow {
    pub entry: RosterEntry,
    pub worker: Worker,
    pub employer_uscc: String,
    pub employer_name: String,
}

/// What a roster upload says about one worker.
#[derive(Debug, Clone)]
pub struct WorkerForm {
    pub id_number: String,
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub card_bank: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RosterForm {
    pub employer_id: i64,
    pub team: Option<String>,
    pub trade: Option<String>,
    pub contract_signed_on: NaiveDate,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
}

/// What an upsert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// Inserts the person or brings his details up to date. Fields the upload
/// leaves out (phone, card) keep their stored values.
pub fn upsert_worker(
    conn: &mut PgConnection,
    form: &WorkerForm,
    at: DateTime<Utc>,
) -> Result<(Worker, Upserted), DbError> {
    let existing: Option<Worker> = workers::table
        .filter(workers::id_number.eq(&form.id_number))
        .select(Worker::as_select())
        .for_update()
        .first(conn)
        .optional()?;
    match existing {
        None => {
            let worker = diesel::insert_into(workers::table)
                .values((
                    workers::id_number.eq(&form.id_number),
                    workers::name.eq(&form.name),
                    workers::phone.eq(&form.phone),
                    workers::card_number.eq(&form.card_number),
                    workers::card_bank.eq(&form.card_bank),
                    workers::created_at.eq(at),
                    workers::updated_at.eq(at),
                ))
                .returning(Worker::as_returning())
                .get_result(conn)?;
            Ok((worker, Upserted::Created))
        }
        Some(w) => {
            let phone = form.phone.clone().or_else(|| w.phone.clone());
            let card_number = form.card_number.clone().or_else(|| w.card_number.clone());
            let card_bank = form.card_bank.clone().or_else(|| w.card_bank.clone());
            if w.name == form.name
                && w.phone == phone
                && w.card_number == card_number
                && w.card_bank == card_bank
            {
                return Ok((w, Upserted::Unchanged));
            }
            let worker = diesel::update(workers::table.find(w.id))
                .set((
                    workers::name.eq(&form.name),
                    workers::phone.eq(phone),
                    workers::card_number.eq(card_number),
                    workers::card_bank.eq(card_bank),
                    workers::updated_at.eq(at),
                ))
                .returning(Worker::as_returning())
                .get_result(conn)?;
            Ok((worker, Upserted::Updated))
        }
    }
}

/// The worker's roster entry on the project, if any.
pub fn entry(
    conn: &mut PgConnection,
    project_id: i64,
    worker_id: i64,
) -> Result<Option<RosterEntry>, DbError> {
    Ok(roster_entries::table
        .filter(roster_entries::project_id.eq(project_id))
        .filter(roster_entries::worker_id.eq(worker_id))
        .select(RosterEntry::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// Puts the worker on the project's roster or updates his entry.
pub fn upsert_entry(
    conn: &mut PgConnection,
    project_id: i64,
    worker_id: i64,
    form: &RosterForm,
    at: DateTime<Utc>,
) -> Result<(RosterEntry, Upserted), DbError> {
    match entry(conn, project_id, worker_id)? {
        None => {
            let entry = diesel::insert_into(roster_entries::table)
                .values((
                    roster_entries::project_id.eq(project_id),
                    roster_entries::worker_id.eq(worker_id),
                    roster_entries::employer_id.eq(form.employer_id),
                    roster_entries::team.eq(&form.team),
                    roster_entries::trade.eq(&form.trade),
                    roster_entries::contract_signed_on.eq(form.contract_signed_on),
                    roster_entries::entered_on.eq(form.entered_on),
                    roster_entries::exited_on.eq(form.exited_on),
                    roster_entries::created_at.eq(at),
                    roster_entries::updated_at.eq(at),
                ))
                .returning(RosterEntry::as_returning())
                .get_result(conn)?;
            Ok((entry, Upserted::Created))
        }
        Some(e) => {
            if e.employer_id == form.employer_id
                && e.team == form.team
                && e.trade == form.trade
                && e.contract_signed_on == form.contract_signed_on
                && e.entered_on == form.entered_on
                && e.exited_on == form.exited_on
            {
                return Ok((e, Upserted::Unchanged));
            }
            let entry = diesel::update(roster_entries::table.find(e.id))
                .set((
                    roster_entries::employer_id.eq(form.employer_id),
                    roster_entries::team.eq(&form.team),
                    roster_entries::trade.eq(&form.trade),
                    roster_entries::contract_signed_on.eq(form.contract_signed_on),
                    roster_entries::entered_on.eq(form.entered_on),
                    roster_entries::exited_on.eq(form.exited_on),
                    roster_entries::updated_at.eq(at),
                ))
                .returning(RosterEntry::as_returning())
                .get_result(conn)?;
            Ok((entry, Upserted::Updated))
        }
    }
}

/// The project's whole roster, optionally only one employer's workers, in ID-number order.
pub fn list(
    conn: &mut PgConnection,
    project_id: i64,
    employer_id: Option<i64>,
) -> Result<Vec<RosterRow>, DbError> {
    let mut query = roster_entries::table
        .inner_join(workers::table)
        .inner_join(organizations::table.on(organizations::id.eq(roster_entries::employer_id)))
        .filter(roster_entries::project_id.eq(project_id))
        .into_boxed();
    if let Some(employer) = employer_id {
        query = query.filter(roster_entries::employer_id.eq(employer));
    }
    let rows: Vec<(RosterEntry, Worker, String, String)> = query
        .order(workers::id_number)
        .select((
            RosterEntry::as_select(),
            Worker::as_select(),
            organizations::uscc,
            organizations::name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(entry, worker, employer_uscc, employer_name)| RosterRow {
            entry,
            worker,
            employer_uscc,
            employer_name,
        })
        .collect())
}
