//! What an operator does with the bank outbox (`wagebridge outbox list|retry`),
//! and what the disbursement API may show of it: list entries, and make a
//! dead entry pending again once its cause is fixed.

use chrono::{DateTime, Utc};
use diesel::{Connection, PgConnection};

use crate::db::audit;
use crate::db::bank_outbox::{self, OutboxEntry, OutboxState};
use crate::error::{AppError, ErrorCode};

/// Entries a list shows unless told otherwise, and at most.
pub const DEFAULT_LIST_LIMIT: i64 = 100;
pub const MAX_LIST_LIMIT: i64 = 10_000;

/// Entries in id order, of one state or all; `limit` is capped at [`MAX_LIST_LIMIT`].
pub fn list(
    conn: &mut PgConnection,
    state: Option<OutboxState>,
    limit: i64,
) -> Result<Vec<OutboxEntry>, AppError> {
    let limit = limit.clamp(1, MAX_LIST_LIMIT);
    Ok(bank_outbox::list(conn, state, limit)?)
}

/// The outbox entries of these batches, for a disbursement view that shows
/// whether (and how often) each batch's file was handed over. The caller
/// has checked the batches are the caller's to see; at most
/// [`MAX_LIST_LIMIT`] batches at once.
pub fn for_batches(
    conn: &mut PgConnection,
    batch_ids: &[i64],
) -> Result<Vec<OutboxEntry>, AppError> {
    let ids = &batch_ids[..batch_ids.len().min(MAX_LIST_LIMIT as usize)];
    Ok(bank_outbox::for_batches(conn, ids)?)
}

/// Makes dead entry `id` pending again, due at once, its attempts kept, and
/// records who did it in the audit trail. An entry that is not dead is
/// refused: a pending one will be sent anyway, a sent one never again.
pub fn retry(
    conn: &mut PgConnection,
    id: i64,
    actor_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<OutboxEntry, AppError> {
    conn.transaction(|conn| {
        let entry = bank_outbox::find_for_update(conn, id)?.ok_or_else(|| {
            AppError::new(
                ErrorCode::NotFound,
                format!("没有编号为 {id} 的发送队列条目 (no outbox entry {id})"),
            )
        })?;
        if entry.state != OutboxState::Dead.as_str() {
            return Err(AppError::new(
                ErrorCode::OutboxEntryNotDead,
                format!(
                    "发送队列条目 {id} 的状态为 {}，只有 dead 的条目可以重试 \
                     (outbox entry {id} is {}; only a dead entry can be retried)",
                    entry.state, entry.state
                ),
            ));
        }
        bank_outbox::revive(conn, id, now)?;
        audit::record(
            conn,
            now,
            actor_id,
            "bank_outbox",
            Some(id),
            "retried",
            serde_json::json!({
                "batch_id": entry.batch_id,
                "message_id": entry.message_id,
                "attempts": entry.attempts,
                "last_error": entry.last_error,
            }),
        )?;
        bank_outbox::find_for_update(conn, id)?
            .ok_or(AppError::Invariant("a revived outbox entry vanished"))
    })
}
