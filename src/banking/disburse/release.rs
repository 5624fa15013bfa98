//! `POST …/disbursements/{id}/release`: the general contractor releases a
//! held batch by hand (it says the money is there), recorded with its name.

use chrono::{DateTime, Utc};
use diesel::{Connection as _, PgConnection};

use super::balance::{self, release_one};
use super::read;
use super::views::BatchView;
use crate::db::disbursements as rows;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::error::{AppError, ErrorCode};
use crate::paging::{Page, DEFAULT_LIMIT};

pub const RELEASED_BY_HAND: &str = "released by hand";

pub fn release_by_hand(
    conn: &mut PgConnection,
    project: &Project,
    caller: &Organization,
    batch_id: i64,
    now: DateTime<Utc>,
) -> Result<BatchView, AppError> {
    conn.transaction(|conn| {
        let batch = rows::batch(conn, project.id, batch_id)?
            .ok_or_else(|| AppError::not_found("the disbursement batch"))?;
        // The account's lock orders this after any disbursement running on it.
        rows::lock_wage_account_by_id(conn, batch.wage_account_id)?;
        let figures = balance::figures(conn, batch.wage_account_id, Some(batch.id), batch.amount)?;
        if !release_one(
            conn,
            batch.id,
            now,
            Some(caller.id),
            RELEASED_BY_HAND,
            &figures,
        )? {
            return Err(AppError::new(
                ErrorCode::DisbursementNotHeld,
                "该批次未被暂停，无需放行 (the batch is not held)",
            ));
        }
        read::batch_view(
            conn,
            project,
            batch.id,
            Page {
                limit: DEFAULT_LIMIT,
                after: None,
            },
        )
    })
}
