//! Bank connections and the bank codes that name them.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use super::schema::{bank_connection_codes, bank_connections};
use super::DbError;

/// How wagebridge talks to one bank, as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = bank_connections, check_for_backend(Pg))]
pub struct BankConnection {
    pub id: i64,
    pub bank_id: i64,
    pub dialect: serde_json::Value,
    pub transport: serde_json::Value,
    pub utc_offset_minutes: i32,
    pub revision: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The settings a PUT or `bank add` writes.
pub struct ConnectionSettings<'a> {
    pub dialect: &'a serde_json::Value,
    pub transport: &'a serde_json::Value,
    pub utc_offset_minutes: i32,
}

pub fn of_bank(conn: &mut PgConnection, bank_id: i64) -> Result<Option<BankConnection>, DbError> {
    Ok(bank_connections::table
        .filter(bank_connections::bank_id.eq(bank_id))
        .select(BankConnection::as_select())
        .first(conn)
        .optional()?)
}

pub fn find(conn: &mut PgConnection, id: i64) -> Result<Option<BankConnection>, DbError> {
    Ok(bank_connections::table
        .find(id)
        .select(BankConnection::as_select())
        .first(conn)
        .optional()?)
}

/// The connection a bank code names, if any.
pub fn for_bank_code(
    conn: &mut PgConnection,
    bank_code: &str,
) -> Result<Option<BankConnection>, DbError> {
    Ok(bank_connection_codes::table
        .inner_join(bank_connections::table)
        .filter(bank_connection_codes::bank_code.eq(bank_code))
        .select(BankConnection::as_select())
        .first(conn)
        .optional()?)
}

/// Creates the bank's connection, or replaces its settings and bumps its
/// revision; returns it and whether it was new. Locks the bank's row first
/// so two PUTs for one bank serialise.
pub fn upsert(
    conn: &mut PgConnection,
    bank_id: i64,
    settings: &ConnectionSettings,
    at: DateTime<Utc>,
) -> Result<(BankConnection, bool), DbError> {
    let existing: Option<i64> = bank_connections::table
        .filter(bank_connections::bank_id.eq(bank_id))
        .select(bank_connections::id)
        .for_update()
        .first(conn)
        .optional()?;
    let stored = diesel::insert_into(bank_connections::table)
        .values((
            bank_connections::bank_id.eq(bank_id),
            bank_connections::dialect.eq(settings.dialect),
            bank_connections::transport.eq(settings.transport),
            bank_connections::utc_offset_minutes.eq(settings.utc_offset_minutes),
            bank_connections::revision.eq(1),
            bank_connections::created_at.eq(at),
            bank_connections::updated_at.eq(at),
        ))
        .on_conflict(bank_connections::bank_id)
        .do_update()
        .set((
            bank_connections::dialect.eq(settings.dialect),
            bank_connections::transport.eq(settings.transport),
            bank_connections::utc_offset_minutes.eq(settings.utc_offset_minutes),
            bank_connections::revision.eq(bank_connections::revision + 1),
            bank_connections::updated_at.eq(at),
        ))
        .returning(BankConnection::as_returning())
        .get_result(conn)?;
    Ok((stored, existing.is_none()))
}

/// The bank codes of a connection, sorted.
pub fn codes(conn: &mut PgConnection, connection_id: i64) -> Result<Vec<String>, DbError> {
    Ok(bank_connection_codes::table
        .filter(bank_connection_codes::connection_id.eq(connection_id))
        .order(bank_connection_codes::bank_code)
        .select(bank_connection_codes::bank_code)
        .load(conn)?)
}

/// The first of `codes` that names another connection.
pub fn taken_code(
    conn: &mut PgConnection,
    connection_id: i64,
    codes: &[String],
) -> Result<Option<String>, DbError> {
    Ok(bank_connection_codes::table
        .filter(bank_connection_codes::bank_code.eq_any(codes))
        .filter(bank_connection_codes::connection_id.ne(connection_id))
        .order(bank_connection_codes::bank_code)
        .select(bank_connection_codes::bank_code)
        .first(conn)
        .optional()?)
}

/// Makes `codes` exactly the connection's codes.
pub fn replace_codes(
    conn: &mut PgConnection,
    connection_id: i64,
    codes: &[String],
) -> Result<(), DbError> {
    diesel::delete(
        bank_connection_codes::table
            .filter(bank_connection_codes::connection_id.eq(connection_id))
            .filter(bank_connection_codes::bank_code.ne_all(codes)),
    )
    .execute(conn)?;
    let rows: Vec<_> = codes
        .iter()
        .map(|code| {
            (
                bank_connection_codes::bank_code.eq(code),
                bank_connection_codes::connection_id.eq(connection_id),
            )
        })
        .collect();
    diesel::insert_into(bank_connection_codes::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}
