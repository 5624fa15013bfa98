//! `Idempotency-Key`: the first response to a key is kept and replayed to
//! every retry with the same request; a different request under the same key
//! is refused, and so is a retry while the first is still running.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::idempotency_keys;
use super::DbError;

/// A request still `running` after this long is taken to have died (the
/// process crashed before answering); a retry may then take the key over.
pub const ABANDONED_AFTER_SECONDS: i64 = 600;

/// A stored key: request hash, state, response status and body.
type StoredKey = (Vec<u8>, String, Option<i16>, Option<serde_json::Value>);

/// What a key says about a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// First use (or an abandoned one): go ahead, then [`complete`] or [`release`].
    Fresh,
    /// Already answered: send this again.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
    /// The key was used for a different request.
    Mismatch,
    /// The first request with this key has not finished.
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

/// Claims `key` for this request. Runs on its own (autocommit), so a
/// concurrent retry sees the claim at once.
pub fn claim(
    conn: &mut PgConnection,
    organization_id: i64,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Claim, DbError> {
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
    let Some((stored_hash, state, status, body)) = row else {
        // Released between our insert and read: try once more.
        return claim_once_more(conn, organization_id, key, hash, now);
    };
    if stored_hash != hash {
        return Ok(Claim::Mismatch);
    }
    match (state.as_str(), status, body) {
        ("done", Some(status), Some(body)) => Ok(Claim::Replay {
            status: u16::try_from(status).unwrap_or(500),
            body,
        }),
        _ => {
            let taken_over = diesel::update(idempotency_keys::table.find((organization_id, key)))
                .filter(idempotency_keys::state.eq("running"))
                .filter(
                    idempotency_keys::created_at
                        .lt(now - chrono::Duration::seconds(ABANDONED_AFTER_SECONDS)),
                )
                .set(idempotency_keys::created_at.eq(now))
                .execute(conn)?;
            Ok(if taken_over == 1 {
                Claim::Fresh
            } else {
                Claim::Running
            })
        }
    }
}

fn claim_once_more(
    conn: &mut PgConnection,
    organization_id: i64,
    key: &str,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Claim, DbError> {
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
    Ok(if inserted == 1 {
        Claim::Fresh
    } else {
        Claim::Running
    })
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
