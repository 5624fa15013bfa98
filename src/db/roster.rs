//! Workers (people, by resident ID number) and projects' real-name rosters (实名制花名册).
//!
//! Only the person, his ID number, is shared between projects. Everything a
//! roster says about him (name as registered, phone, card and its bank, team,
//! trade, dates) lives on the project's roster entry, so one tenant's upload
//! never changes or reveals another project's. The one global rule is that a
//! bank card belongs to one person (条例 art. 31): the first person to use a card
//! claims it, and the database refuses an entry naming another person's card.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;

use super::schema::{card_claims, organizations, roster_entries, workers};
use super::DbError;
use crate::paging::Page;

/// A person, identified by the resident ID number; shared by every project he works on.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = workers)]
pub struct Worker {
    pub id: i64,
    pub id_number: String,
    pub created_at: DateTime<Utc>,
}

/// A worker on one project's roster, with what that project registered about him.
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
    /// The name as this project registered it.
    pub name: String,
    pub phone: Option<String>,
    pub card_number: Option<String>,
    pub card_bank: Option<String>,
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

/// What a roster upload says about one worker: the ID number names the
/// person; the rest is stored on the project's roster entry.
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

/// Why a roster entry was not stored.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The card is claimed by another person. Deliberately says nothing of who.
    #[error("the bank card is registered to another person")]
    CardBelongsToAnotherWorker,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for RosterError {
    fn from(e: diesel::result::Error) -> Self {
        RosterError::Db(DbError::Query(e))
    }
}

/// Finds the person by ID number, or registers him. Only the ID number of the
/// form is used: nothing else about a person is shared between projects, so
/// the outcome is `Created` or `Unchanged`.
pub fn upsert_worker(
    conn: &mut PgConnection,
    form: &WorkerForm,
    at: DateTime<Utc>,
) -> Result<(Worker, Upserted), DbError> {
    // ON CONFLICT rather than a unique violation: two uploads naming the same
    // new person at once both succeed, and nothing lands in the server's log.
    let created: Option<Worker> = diesel::insert_into(workers::table)
        .values((
            workers::id_number.eq(&form.id_number),
            workers::created_at.eq(at),
        ))
        .on_conflict(workers::id_number)
        .do_nothing()
        .returning(Worker::as_returning())
        .get_result(conn)
        .optional()?;
    if let Some(worker) = created {
        return Ok((worker, Upserted::Created));
    }
    let worker = workers::table
        .filter(workers::id_number.eq(&form.id_number))
        .select(Worker::as_select())
        .first(conn)?;
    Ok((worker, Upserted::Unchanged))
}

/// Claims the card for the worker on its first use; refuses a card another
/// person has claimed. The claim lasts while a roster entry names the card.
pub fn claim_card(
    conn: &mut PgConnection,
    card_number: &str,
    worker_id: i64,
    at: DateTime<Utc>,
) -> Result<(), RosterError> {
    // A concurrent claim of the same card waits here for the other
    // transaction, then reads whoever won.
    diesel::insert_into(card_claims::table)
        .values((
            card_claims::card_number.eq(card_number),
            card_claims::worker_id.eq(worker_id),
            card_claims::claimed_at.eq(at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    let holder: i64 = card_claims::table
        .find(card_number)
        .select(card_claims::worker_id)
        .first(conn)?;
    if holder == worker_id {
        Ok(())
    } else {
        Err(RosterError::CardBelongsToAnotherWorker)
    }
}

/// Gives up the worker's claim on a card no roster entry names any more, so a
/// mistyped card does not stay blocked for its real owner.
fn release_card(conn: &mut PgConnection, card_number: &str, worker_id: i64) -> Result<(), DbError> {
    let in_use = roster_entries::table.filter(roster_entries::card_number.eq(card_number));
    diesel::delete(
        card_claims::table
            .filter(card_claims::card_number.eq(card_number))
            .filter(card_claims::worker_id.eq(worker_id))
            .filter(diesel::dsl::not(diesel::dsl::exists(in_use))),
    )
    .execute(conn)?;
    Ok(())
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

/// The entry's own name, phone and card as an upload leaves them: fields the
/// upload leaves out (phone, card, bank) keep what this project stored.
struct Details {
    name: String,
    phone: Option<String>,
    card_number: Option<String>,
    card_bank: Option<String>,
}

impl Details {
    fn merged(form: &WorkerForm, stored: Option<&RosterEntry>) -> Details {
        let keep = |given: &Option<String>, old: Option<&Option<String>>| {
            given.clone().or_else(|| old.cloned().flatten())
        };
        Details {
            name: form.name.clone(),
            phone: keep(&form.phone, stored.map(|e| &e.phone)),
            card_number: keep(&form.card_number, stored.map(|e| &e.card_number)),
            card_bank: keep(&form.card_bank, stored.map(|e| &e.card_bank)),
        }
    }

    fn same_as(&self, e: &RosterEntry) -> bool {
        self.name == e.name
            && self.phone == e.phone
            && self.card_number == e.card_number
            && self.card_bank == e.card_bank
    }
}

/// Serialises writers of one worker's entry on one project until the end of
/// the transaction, so two uploads naming a new worker at once do not both
/// insert. Other projects' writers for the same person never wait on it.
fn lock_entry(conn: &mut PgConnection, project_id: i64, worker_id: i64) -> Result<(), DbError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind::<diesel::sql_types::Text, _>(format!("roster:{project_id}:{worker_id}"))
        .execute(conn)?;
    Ok(())
}

/// Puts the worker on the project's roster or updates his entry there, with
/// what this upload says about him (`details`). A new card is claimed for him
/// first; another person's card is refused and nothing is written.
pub fn upsert_entry(
    conn: &mut PgConnection,
    project_id: i64,
    worker_id: i64,
    details: &WorkerForm,
    form: &RosterForm,
    at: DateTime<Utc>,
) -> Result<(RosterEntry, Upserted), RosterError> {
    lock_entry(conn, project_id, worker_id)?;
    let stored = entry(conn, project_id, worker_id)?;
    let own = Details::merged(details, stored.as_ref());
    if let Some(card) = &own.card_number {
        if stored.as_ref().and_then(|e| e.card_number.as_ref()) != Some(card) {
            claim_card(conn, card, worker_id, at)?;
        }
    }
    match stored {
        None => {
            let entry = diesel::insert_into(roster_entries::table)
                .values((
                    roster_entries::project_id.eq(project_id),
                    roster_entries::worker_id.eq(worker_id),
                    roster_entries::employer_id.eq(form.employer_id),
                    roster_entries::name.eq(&own.name),
                    roster_entries::phone.eq(&own.phone),
                    roster_entries::card_number.eq(&own.card_number),
                    roster_entries::card_bank.eq(&own.card_bank),
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
            if own.same_as(&e)
                && e.employer_id == form.employer_id
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
                    roster_entries::name.eq(&own.name),
                    roster_entries::phone.eq(&own.phone),
                    roster_entries::card_number.eq(&own.card_number),
                    roster_entries::card_bank.eq(&own.card_bank),
                    roster_entries::team.eq(&form.team),
                    roster_entries::trade.eq(&form.trade),
                    roster_entries::contract_signed_on.eq(form.contract_signed_on),
                    roster_entries::entered_on.eq(form.entered_on),
                    roster_entries::exited_on.eq(form.exited_on),
                    roster_entries::updated_at.eq(at),
                ))
                .returning(RosterEntry::as_returning())
                .get_result(conn)?;
            if let Some(old) = e.card_number.as_deref() {
                if entry.card_number.as_deref() != Some(old) {
                    release_card(conn, old, worker_id)?;
                }
            }
            Ok((entry, Upserted::Updated))
        }
    }
}

/// One page of the project's roster, optionally only one employer's workers,
/// in the order the entries were made (their key is the page's cursor: it
/// says nothing about a worker, unlike the ID number).
pub fn page(
    conn: &mut PgConnection,
    project_id: i64,
    employer_id: Option<i64>,
    page: Page,
) -> Result<Vec<RosterRow>, DbError> {
    let mut query = roster_entries::table
        .inner_join(workers::table)
        .inner_join(organizations::table.on(organizations::id.eq(roster_entries::employer_id)))
        .filter(roster_entries::project_id.eq(project_id))
        .into_boxed();
    if let Some(employer) = employer_id {
        query = query.filter(roster_entries::employer_id.eq(employer));
    }
    if let Some(after) = page.after {
        query = query.filter(roster_entries::id.gt(after));
    }
    let rows: Vec<(RosterEntry, Worker, String, String)> = query
        .order(roster_entries::id)
        .limit(page.fetch())
        .select((
            RosterEntry::as_select(),
            Worker::as_select(),
            organizations::uscc,
            organizations::name,
        ))
        .load(conn)?;
    Ok(rows.into_iter().map(RosterRow::from).collect())
}

impl From<(RosterEntry, Worker, String, String)> for RosterRow {
    fn from(
        (entry, worker, employer_uscc, employer_name): (RosterEntry, Worker, String, String),
    ) -> Self {
        RosterRow {
            entry,
            worker,
            employer_uscc,
            employer_name,
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
