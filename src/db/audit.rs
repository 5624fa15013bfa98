//! The append-only audit trail: who changed what, and when.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::schema::audit_events;
use super::DbError;

/// Records one change at `at` (the business clock's time). Call it inside the
/// transaction that makes the change.
pub fn record(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    actor_id: Option<i64>,
    entity: &str,
    entity_id: Option<i64>,
    action: &str,
    data: serde_json::Value,
) -> Result<(), DbError> {
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::actor_id.eq(actor_id),
            audit_events::entity.eq(entity),
            audit_events::entity_id.eq(entity_id),
            audit_events::action.eq(action),
            audit_events::data.eq(data),
            audit_events::at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}
