//! `Idempotency-Key`: the first response to a key is kept and replayed to
//! every retry with the same request; a different request under the same key
//! is refused, and so is a retry while the first is still running.
//!
//! Whether the first request is still running is decided by PostgreSQL, not
//! by the clock: the request holds a session-level advisory lock on
//! (organisation, key) on its connection for as long as it runs. When the
//! process dies or the connection drops, PostgreSQL releases the lock, so a
//! retry that finds the key `running` and gets the lock knows at once that
//! the holder is gone, and takes the key over.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer};
use sha2::{Digest, Sha256};

use super::schema::idempotency_keys;
use super::DbError;

/// A stored key: request hash, state, response status and body.
type StoredKey = (Vec<u8>, String, Option<i16>, Option<serde_json::Value>);

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// First use, or a key whose holder is gone: go ahead while holding the
    /// key's lock on this connection, then [`complete`] or [`release`], then [`unlock`].
    Fresh,
    /// Already answered: send this again.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key is still running (it holds the lock).
    Running,
}

/// SHA-256 over the parts that make a request the same request.
pub fn request_hash(parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    for part in parts {
        // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}

/// The advisory lock of (organisation, key): 64 bits of a SHA-256, in the
/// two-integer key space, which never meets the one-bigint locks of payroll
/// periods. A collision only makes an unrelated key look busy for a while.
fn lock_key(organization_id: i64, key: &str) -> (i32, i32) {
    let digest = request_hash(&[
        b"wagebridge idempotency key",
        &organization_id.to_be_bytes(),
        key.as_bytes(),
    ]);
    let half =
        |i: usize| i32::from_be_bytes([digest[i], digest[i + 1], digest[i + 2], digest[i + 3]]);
    (half(0), half(4))
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Tries the key's session-level lock on `conn` without waiting.
fn try_lock(conn: &mut PgConnection, organization_id: i64, key: &str) -> Result<bool, DbError> {
    let (a, b) = lock_key(organization_id, key);
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1, $2) AS locked")
        .bind::<Integer, _>(a)
        .bind::<Integer, _>(b)
        .get_result(conn)?;
    Ok(row.locked)
}

/// Gives the key's lock up; `false` if this session did not hold it.
/// Every [`Claim::Fresh`] must end here (or with the connection closed):
/// a pooled connection keeps a session lock it was not asked to release.
pub fn unlock(conn: &mut PgConnection, organization_id: i64, key: &str) -> Result<bool, DbError> {
    let (a, b) = lock_key(organization_id, key);
    let row: Locked = diesel::sql_query("SELECT pg_advisory_unlock($1, $2) AS locked")
        .bind::<Integer, _>(a)
        .bind::<Integer, _>(b)
        .get_result(conn)?;
    Ok(row.locked)
}

/// Claims `key` for this request. Runs on its own (autocommit), so a
/// concurrent retry sees the claim at once. On [`Claim::Fresh`] this session
/// holds the key's lock; on any other answer it does not.
pub fn claim(
    conn: &mut PgConnection,
    organization_id: i64,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Claim, DbError> {
    let locked = try_lock(conn, organization_id, key)?;
    let claim = claim_locked(conn, organization_id, key, hash, now, locked);
    if locked && !matches!(claim, Ok(Claim::Fresh)) {
        unlock(conn, organization_id, key)?;
    }
    claim
}

/// Only a holder of the lock inserts or takes over a `running` row, so two
/// requests never both run under one key.
fn claim_locked(
    conn: &mut PgConnection,
    organization_id: i64,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
    locked: bool,
) -> Result<Claim, DbError> {
    if locked {
        let inserted = diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::organization_id.eq(organization_id),
                idempotency_keys::key.eq(key),
                idempotency_keys::request_hash.eq(hash),
                idempotency_keys::state.eq("running"),
                idempotency_keys::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 1 {
            return Ok(Claim::Fresh);
        }
    }
    let row: Option<StoredKey> = idempotency_keys::table
        .find((organization_id, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::state,
            idempotency_keys::response_status,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .optional()?;
    // No row without the lock: its holder is between taking the lock and
    // writing the row, or between giving the key up and unlocking.
    let Some((stored_hash, state, status, body)) = row else {
        return Ok(Claim::Running);
    };
    if stored_hash != hash {
        return Ok(Claim::Mismatch);
    }
    match (state.as_str(), status, body) {
        ("done", Some(status), Some(body)) => Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        }),
        _ if locked => {
            // `running`, and we hold its lock: the request that claimed it
            // is gone (its process died or its connection dropped).
            tracing::warn!(
                organization_id,
                "an idempotency key whose request is gone is taken over"
            );
            diesel::update(idempotency_keys::table.find((organization_id, key)))
                .set(idempotency_keys::created_at.eq(now))
                .execute(conn)?;
            Ok(Claim::Fresh)
        }
        _ => Ok(Claim::Running),
    }
}

/// Stores the answer. Call it inside the transaction that made the change,
/// so the change and its recorded answer commit together.
pub fn complete(
    conn: &mut PgConnection,
    organization_id: i64,
    key: &str,
    status: u16,
    body: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<(), DbError> {
    diesel::update(idempotency_keys::table.find((organization_id, key)))
        .set((
            idempotency_keys::state.eq("done"),
            idempotency_keys::response_status.eq(i16::try_from(status).unwrap_or(500)),
            idempotency_keys::response_body.eq(body),
            idempotency_keys::completed_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Gives the key up after a failure on our side, so a retry runs afresh.
pub fn release(conn: &mut PgConnection, organization_id: i64, key: &str) -> Result<(), DbError> {
    diesel::delete(idempotency_keys::table.find((organization_id, key)))
        .filter(idempotency_keys::state.eq("running"))
        .execute(conn)?;
    Ok(())
}

/// Deletes at most `limit` keys created before `cutoff`, answered or still
/// `running` (no request runs that long); returns how many went. Keys are not
/// business records, so they are purged rather than kept.
pub fn delete_created_before(
    conn: &mut PgConnection,
    cutoff: DateTime<Utc>,
    limit: i64,
) -> Result<usize, DbError> {
    let deleted = diesel::sql_query(
        "DELETE FROM idempotency_keys WHERE (organization_id, key) IN ( \
             SELECT organization_id, key FROM idempotency_keys \
              WHERE created_at < $1 ORDER BY created_at LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::BigInt, _>(limit)
    .execute(conn)?;
    Ok(deleted)
}
