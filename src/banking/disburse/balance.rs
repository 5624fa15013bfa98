//! The balance hold (two-phase, as TigerBeetle's pending transfers): before
//! a batch goes to the bank, the account's available balance must cover it.
//!
//! available = the closing balance of the last end-of-day statement
//! (camt.053 or ICBC QHISD) + booked credits − booked debits of the
//! notifications and intraday reports (camt.054/052) that came after it −
//! the amounts of attempts not yet final whose debit no statement shows
//! (linked by end-to-end id, so a debit is never subtracted twice).
//!
//! Reserved amounts count every released batch and every held batch ahead
//! in the queue (older), so batches are released strictly oldest first.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Numeric};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::{self, disbursements};
use crate::error::AppError;

/// Why a batch waits, with the figures it was decided on (`hold_figures`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Figures {
    /// Closing booked balance of the last end-of-day statement (0 without one).
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub last_booked_balance: Decimal,
    /// The date that balance stands at.
    pub as_of: Option<NaiveDate>,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub credits_since: Decimal,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub debits_since: Decimal,
    /// Attempts not yet debited, of released batches and of held batches ahead.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub reserved: Decimal,
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub available: Decimal,
    /// The batch's amount.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub needed: Decimal,
}

impl Figures {
    pub fn covers(&self) -> bool {
        self.available >= self.needed
    }
}

#[derive(QueryableByName)]
struct Raw {
    #[diesel(sql_type = Nullable<Numeric>)]
    last_booked_balance: Option<Decimal>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    as_of: Option<NaiveDate>,
    #[diesel(sql_type = Numeric)]
    credits_since: Decimal,
    #[diesel(sql_type = Numeric)]
    debits_since: Decimal,
    #[diesel(sql_type = Numeric)]
    reserved: Decimal,
}

/// The account's figures for a batch of `needed`; `batch_id` is the held
/// batch being weighed (its own lines and younger held batches do not
/// count), `None` for a batch not yet stored (every held batch is ahead).
pub fn figures(
    conn: &mut PgConnection,
    wage_account_id: i64,
    batch_id: Option<i64>,
    needed: Decimal,
) -> Result<Figures, AppError> {
    let raw: Raw = diesel::sql_query(
        "WITH last AS (
             SELECT id, closing_balance, closing_date FROM bank_statements
              WHERE wage_account_id = $1 AND kind IN ('camt.053', 'icbc_qhisd')
                AND closing_balance IS NOT NULL
              ORDER BY closing_date DESC NULLS LAST, id DESC LIMIT 1),
         since AS (
             SELECT e.amount, (e.direction = 'credit') <> e.reversal AS credit
               FROM bank_statement_entries e JOIN bank_statements s ON s.id = e.statement_id
              WHERE s.wage_account_id = $1 AND s.kind IN ('camt.054', 'camt.052')
                AND e.status = 'booked'
                AND s.id > coalesce((SELECT id FROM last), 0))
         SELECT (SELECT closing_balance FROM last) AS last_booked_balance,
                (SELECT closing_date FROM last) AS as_of,
                coalesce((SELECT sum(amount) FROM since WHERE credit), 0) AS credits_since,
                coalesce((SELECT sum(amount) FROM since WHERE NOT credit), 0) AS debits_since,
                coalesce((SELECT sum(d.amount)
                            FROM disbursement_lines d JOIN disbursement_batches b ON b.id = d.batch_id
                           WHERE b.wage_account_id = $1
                             AND d.state IN ('reserved', 'sent', 'accepted', 'unknown')
                             AND (b.status <> 'held' OR b.id < $2)
                             AND NOT EXISTS (
                                 SELECT 1 FROM bank_statement_entries e
                                   JOIN bank_statements s ON s.id = e.statement_id
                                  WHERE s.wage_account_id = $1 AND e.end_to_end_id = d.end_to_end_id
                                    AND e.direction = 'debit' AND e.status = 'booked'
                                    AND NOT e.reversal)), 0) AS reserved",
    )
    .bind::<BigInt, _>(wage_account_id)
    .bind::<BigInt, _>(batch_id.unwrap_or(i64::MAX))
    .get_result(conn)?;
    let last = raw.last_booked_balance.unwrap_or(Decimal::ZERO);
    let available = last + raw.credits_since - raw.debits_since - raw.reserved;
    Ok(Figures {
        last_booked_balance: money(last),
        as_of: raw.as_of,
        credits_since: money(raw.credits_since),
        debits_since: money(raw.debits_since),
        reserved: money(raw.reserved),
        available: money(available),
        needed: money(needed),
    })
}

/// Two decimals, as every amount is shown: the SQL's `coalesce(…, 0)` is a bare `0`.
fn money(mut amount: Decimal) -> Decimal {
    amount.rescale(2);
    amount
}

/// Releases (held → released, outbox held → pending, an event each) every
/// held batch of the account, oldest first, while the available balance
/// covers it; stops at the first it does not cover. Returns the ids
/// released. Called after a statement is stored.
pub fn release_covered(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    wage_account_id: i64,
) -> Result<Vec<i64>, AppError> {
    conn.transaction(|conn| {
        if disbursements::lock_wage_account_by_id(conn, wage_account_id)?.is_none() {
            return Ok(Vec::new());
        }
        let mut released = Vec::new();
        for batch in disbursements::held_batches(conn, wage_account_id)? {
            let figures = figures(conn, wage_account_id, Some(batch.id), batch.amount)?;
            if !figures.covers() {
                break;
            }
            release_one(
                conn,
                batch.id,
                now,
                None,
                "余额已覆盖 (covered by the balance)",
                &figures,
            )?;
            released.push(batch.id);
        }
        Ok(released)
    })
}

/// Releases one held batch with an event and an audit row.
pub(crate) fn release_one(
    conn: &mut PgConnection,
    batch_id: i64,
    now: DateTime<Utc>,
    actor: Option<i64>,
    note: &str,
    figures: &Figures,
) -> Result<bool, AppError> {
    if !disbursements::release(conn, batch_id)? {
        return Ok(false);
    }
    disbursements::append_batch_event(conn, batch_id, "released", now, actor, Some(note))?;
    db::audit::record(
        conn,
        now,
        actor,
        "disbursement_batch",
        Some(batch_id),
        "released",
        serde_json::json!({ "note": note, "figures": figures }),
    )?;
    Ok(true)
}
