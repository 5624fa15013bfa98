//! Purges `Idempotency-Key` records once they are a day old (by the
//! business clock): they are not business records (see the table's
//! comment), and nothing else ever deletes them.

use chrono::{DateTime, Duration, Utc};
use diesel::PgConnection;

use crate::db::idempotency;
use crate::error::AppError;

/// How long a key is kept: a retry a day later is a new request.
pub const KEEP_IDEMPOTENCY_KEYS: Duration = Duration::hours(24);
/// Rows one statement deletes, so no transaction grows long.
const CHUNK: i64 = 5_000;
/// Statements one round runs at most; the next round takes the rest.
const MAX_CHUNKS: usize = 100;

/// Deletes every key created more than 24 hours before `now`, answered or
/// still `running`; returns how many went.
pub fn purge_idempotency_keys(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<usize, AppError> {
    let cutoff = now - KEEP_IDEMPOTENCY_KEYS;
    let mut purged = 0;
    for _ in 0..MAX_CHUNKS {
        let deleted = idempotency::delete_created_before(conn, cutoff, CHUNK)?;
        purged += deleted;
        if deleted < CHUNK as usize {
            break;
        }
    }
    if purged > 0 {
        tracing::info!(purged, cutoff = %cutoff, "idempotency keys purged");
    }
    Ok(purged)
}
