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

use diesel::Connection as _;

pub use balance::release_covered;

use crate::access::ProjectRole;
use crate::db::{idempotency, PgPool};
use crate::error::{AppError, Problem};
use crate::idempotent::{self, IdempotencyKey};

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
    let hash = key.request_hash(&[]);
    if let idempotent::Start::Replay { status, body } =
        idempotent::start(&mut conn, org, key, &hash, req.now)?
    {
        return Ok(Outcome::Replayed { status, body });
    }
    let now = req.now;
    let result = conn.transaction(|conn| {
        create::create_in_transaction(conn, req, &mut |conn, answer| {
            Ok(idempotency::complete(
                conn, org, &key.key, 201, answer, now,
            )?)
        })
    });
    idempotent::finish(&mut conn, org, key, now, &result, render_refusal);
    result.map(Outcome::Created)
}
