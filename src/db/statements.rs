//! Statements read from bank files and their entries (entries are written
//! with COPY: a month's statement of a busy account is a million rows).

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use rust_decimal::Decimal;

use crate::db::schema::{
    bank_connection_codes, bank_statement_entries, bank_statements, wage_accounts,
};

#[derive(Debug, Insertable)]
#[diesel(table_name = bank_statements)]
pub struct NewStatement<'a> {
    pub file_id: i64,
    pub account_number: &'a str,
    pub wage_account_id: Option<i64>,
    pub kind: &'a str,
    pub statement_id: &'a str,
    pub sequence_number: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub from_at: Option<DateTime<Utc>>,
    pub to_at: Option<DateTime<Utc>>,
    pub currency: Option<&'a str>,
    pub opening_balance: Option<Decimal>,
    pub closing_balance: Option<Decimal>,
    pub closing_date: Option<NaiveDate>,
    pub entry_count: i32,
    pub continuity: &'a str,
    pub continuity_detail: Option<&'a str>,
    pub stored_at: DateTime<Utc>,
}

/// One entry row, as COPY writes it (binary format, every column given).
#[derive(Debug, Insertable)]
#[diesel(table_name = bank_statement_entries)]
#[diesel(treat_none_as_default_value = false)]
pub struct NewEntry {
    pub statement_id: i64,
    pub entry_no: i32,
    pub account_number: String,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub booked_at: Option<DateTime<Utc>>,
    pub amount: Decimal,
    pub currency: Option<String>,
    pub direction: &'static str,
    pub status: &'static str,
    pub reversal: bool,
    pub counterparty_account: Option<String>,
    pub counterparty_name: Option<String>,
    pub end_to_end_id: Option<String>,
    pub batch_message_id: Option<String>,
    pub payment_information_id: Option<String>,
    pub bank_reference: Option<String>,
    pub remittance: Option<String>,
}

/// The statement before this one for the same account and kind: by
/// sequence number when there is one (so a late statement is checked
/// against its own predecessor), else the last stored.
#[derive(Debug, Clone, Queryable)]
pub struct Previous {
    pub statement_id: String,
    pub sequence_number: Option<i64>,
    pub closing_balance: Option<Decimal>,
}

pub fn previous(
    conn: &mut PgConnection,
    account_number: &str,
    kind: &str,
    sequence_number: Option<i64>,
) -> QueryResult<Option<Previous>> {
    let base = bank_statements::table
        .filter(bank_statements::account_number.eq(account_number))
        .filter(bank_statements::kind.eq(kind))
        .select((
            bank_statements::statement_id,
            bank_statements::sequence_number,
            bank_statements::closing_balance,
        ));
    match sequence_number {
        Some(seq) => base
            .filter(bank_statements::sequence_number.lt(seq))
            .order(bank_statements::sequence_number.desc())
            .first(conn)
            .optional(),
        None => base
            .order(bank_statements::id.desc())
            .first(conn)
            .optional(),
    }
}

/// Whether a statement with this id, or this sequence number, is stored.
pub fn already_stored(
    conn: &mut PgConnection,
    account_number: &str,
    kind: &str,
    statement_id: &str,
    sequence_number: Option<i64>,
) -> QueryResult<bool> {
    let same_id = bank_statements::table
        .filter(bank_statements::account_number.eq(account_number))
        .filter(bank_statements::kind.eq(kind))
        .filter(
            bank_statements::statement_id
                .eq(statement_id)
                .or(bank_statements::sequence_number
                    .eq(sequence_number)
                    .and(bank_statements::sequence_number.is_not_null())),
        )
        .select(bank_statements::id)
        .first::<i64>(conn)
        .optional()?;
    Ok(same_id.is_some())
}

pub fn insert(conn: &mut PgConnection, statement: &NewStatement<'_>) -> QueryResult<i64> {
    diesel::insert_into(bank_statements::table)
        .values(statement)
        .returning(bank_statements::id)
        .get_result(conn)
}

/// Writes the entries with one COPY.
pub fn copy_entries(conn: &mut PgConnection, entries: Vec<NewEntry>) -> QueryResult<usize> {
    if entries.is_empty() {
        return Ok(0);
    }
    diesel::copy_from(bank_statement_entries::table)
        .from_insertable(entries)
        .execute(conn)
}

/// The wage account with this number and the connection its bank code
/// names (`None` when no connection serves that code).
pub fn wage_account(
    conn: &mut PgConnection,
    account_number: &str,
) -> QueryResult<Option<(i64, Option<i64>)>> {
    wage_accounts::table
        .left_join(
            bank_connection_codes::table
                .on(bank_connection_codes::bank_code.eq(wage_accounts::bank_code)),
        )
        .filter(wage_accounts::account_number.eq(account_number))
        .select((
            wage_accounts::id,
            bank_connection_codes::connection_id.nullable(),
        ))
        .first(conn)
        .optional()
}

/// An attempt named by an end-to-end id, whose batch went over this connection.
#[derive(Debug, QueryableByName)]
pub struct NamedAttempt {
    #[diesel(sql_type = Text)]
    pub end_to_end_id: String,
    #[diesel(sql_type = BigInt)]
    pub batch_id: i64,
    #[diesel(sql_type = diesel::sql_types::Numeric)]
    pub amount: Decimal,
}

pub fn batches_of_attempts(
    conn: &mut PgConnection,
    connection_id: i64,
    end_to_end_ids: &[String],
) -> QueryResult<Vec<NamedAttempt>> {
    diesel::sql_query(
        // A join, not `= ANY($1)`: with a million ids against many attempts
        // the planner hashes instead of scanning the array per row.
        "SELECT l.end_to_end_id, l.batch_id, l.amount \
           FROM unnest($1::text[]) AS d(end_to_end_id) \
           JOIN disbursement_lines l ON l.end_to_end_id = d.end_to_end_id \
           JOIN disbursement_batches b ON b.id = l.batch_id \
          WHERE b.connection_id = $2",
    )
    .bind::<diesel::sql_types::Array<Text>, _>(end_to_end_ids)
    .bind::<BigInt, _>(connection_id)
    .load(conn)
}
