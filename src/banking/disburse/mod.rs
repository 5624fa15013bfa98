//! Disbursement batches (代发): `POST …/payrolls/{period}/disburse` makes a
//! batch of the approved lines not yet paid or in flight ([`create`]),
//! held until the account's balance covers it ([`balance`]), released by a
//! statement that covers it or by hand ([`release`]); and the reads of
//! batches and exceptions ([`read`]).
//!
//! With an `Idempotency-Key` the call runs on one connection from claim to
//! end, holding the key's advisory lock (`db::idempotency`), and the answer
//! commits with the batch, so a retry gets the first answer again.

pub mod balance;
pub mod create;
pub mod read;
pub mod release;
pub mod views;

use diesel::connection::TransactionManager;
use diesel::{Connection as _, PgConnection};

pub use balance::release_covered;

use crate::access::ProjectRole;
use crate::db::{idempotency, PgPool};
use crate::error::{AppError, ErrorCode, Problem};
use crate::payroll::submit::IdempotencyKey;

/// Only the project's general contractor pays its workers (总包代发).
pub fn may_disburse(role: ProjectRole) -> bool {
    role == ProjectRole::Contractor
}

/// What a disbursement call comes to.
#[derive(Debug)]
pub enum Outcome {
    /// A new batch (201).
    Created(serde_json::Value),
    /// The key's first answer, sent again.
    Replayed {
        status: u16,
        body: serde_json::Value,
    },
}

/// Makes a batch, honouring an `Idempotency-Key`. Blocking: run it on the blocking pool.
pub fn disburse(
    pool: &PgPool,
    req: &create::Request,
    key: Option<&IdempotencyKey>,
    render_refusal: fn(&Problem) -> serde_json::Value,
) -> Result<Outcome, AppError> {
    let mut conn = pool.get()?;
    let Some(key) = key else {
        return create::create(&mut conn, req).map(Outcome::Created);
    };
    let org = req.caller.id;
    let hash = idempotency::request_hash(&[
        key.method.as_bytes(),
        key.path.as_bytes(),
        key.query.as_bytes(),
    ]);
    match idempotency::claim(&mut conn, org, &key.key, &hash, req.now)? {
        idempotency::Claim::Fresh => {}
        idempotency::Claim::Replay { status, body } => {
            return Ok(Outcome::Replayed { status, body })
        }
        idempotency::Claim::Mismatch => {
            return Err(AppError::field(
                "Idempotency-Key",
                ErrorCode::IdempotencyKeyReused,
                "该 Idempotency-Key 已用于另一请求 (used for a different request); 新请求请用新键",
            ))
        }
        idempotency::Claim::Running => {
            return Err(AppError::new(
                ErrorCode::IdempotencyKeyInUse,
                "使用该 Idempotency-Key 的请求仍在处理 (still running); 请稍后重试",
            ))
        }
    }
    let now = req.now;
    let result = conn.transaction(|conn| {
        create::create_in_transaction(conn, req, &mut |conn, answer| {
            Ok(idempotency::complete(
                conn, org, &key.key, 201, answer, now,
            )?)
        })
    });
    settle(&mut conn, org, key, now, &result, render_refusal);
    result.map(Outcome::Created)
}

/// After the work: a refusal is recorded as the key's answer; a failure on
/// our side gives the key up; then the key's lock is released.
fn settle(
    conn: &mut PgConnection,
    org: i64,
    key: &IdempotencyKey,
    now: chrono::DateTime<chrono::Utc>,
    result: &Result<serde_json::Value, AppError>,
    render_refusal: fn(&Problem) -> serde_json::Value,
) {
    let recorded = match result {
        Ok(_) => Ok(()),
        Err(AppError::Problem(p)) if p.status < 500 => {
            idempotency::complete(conn, org, &key.key, p.status, &render_refusal(p), now)
        }
        Err(_) => idempotency::release(conn, org, &key.key),
    };
    if let Err(e) = recorded {
        tracing::error!(error = %e, "recording the idempotent answer");
    }
    match idempotency::unlock(conn, org, &key.key) {
        Ok(true) => {}
        Ok(false) => tracing::error!("an idempotency key's lock was not held at the end"),
        Err(e) => {
            tracing::error!(error = %e, "releasing an idempotency key's lock");
            // An open transaction makes the pool close this connection rather
            // than reuse it with the lock still held.
            let _ =
                <PgConnection as diesel::Connection>::TransactionManager::begin_transaction(conn);
        }
    }
}
