//! Submitting a payroll (工资支付表), as one use case: read the body through
//! the bounded upload reader, match every line against the roster and
//! attendance, and store a new revision, all on the blocking pool; with an
//! `Idempotency-Key`, claim the key first, record the answer with the
//! payroll, and replay it to every retry.
//!
//! A keyed submission runs on one connection of its own from claim to end,
//! holding the key's session-level advisory lock ([`idempotency`]), so when
//! the process dies or the connection drops the key is free at once. No HTTP
//! here: the handler extracts, authorises, and renders the [`Outcome`].

mod parse;
/// Also how other reads take a `?period=`: well formed, and not after this month.
pub(crate) use parse::parse_period;
mod store;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::connection::TransactionManager;
use diesel::{Connection, PgConnection};

use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::db::{idempotency, PgPool};
use crate::error::{AppError, ErrorCode, Problem};

pub use parse::{Body, SubmitPayroll};

/// Who may submit: the general contractor (for itself or an attached
/// subcontractor) and subcontractors (for themselves).
pub(crate) fn may_submit(role: ProjectRole) -> bool {
    role.can_write_workers()
}

/// An `Idempotency-Key` and the parts of the request that make it the same
/// request (with the body's media type and bytes).
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub method: String,
    pub path: String,
    pub query: String,
}

/// Everything a submission needs, as the handler extracted it.
pub struct SubmitInput {
    pub project: Project,
    pub role: ProjectRole,
    pub caller: Organization,
    pub body: Body,
    pub idempotency_key: Option<IdempotencyKey>,
    /// The business time the submission is recorded at, and its date in China.
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    /// How a refusal is answered (the problem+json body), so the recorded
    /// answer is the one the client got.
    pub render_refusal: fn(&Problem) -> serde_json::Value,
}

/// What a submission comes to.
#[derive(Debug)]
pub enum Outcome {
    /// A new revision was stored; this is the answer (201).
    Created(serde_json::Value),
    /// The key's first answer, sent again.
    Replayed {
        status: u16,
        body: serde_json::Value,
    },
}

/// Submits a payroll. Blocking: run it on the blocking pool.
pub fn submit(pool: &PgPool, mut input: SubmitInput) -> Result<Outcome, AppError> {
    match input.idempotency_key.take() {
        Some(key) => {
            let mut conn = pool.get()?;
            submit_keyed(&mut conn, &key, &input)
        }
        None => {
            // Read first, so no connection waits on the parsing.
            let parsed = parse::read(&input.body, input.today)?;
            let mut conn = pool.get()?;
            store::store_submission(&mut conn, &submitter(&input, None), parsed)
                .map(Outcome::Created)
        }
    }
}

fn submitter<'a>(input: &'a SubmitInput, key: Option<&'a str>) -> store::Submitter<'a> {
    store::Submitter {
        project: &input.project,
        caller: &input.caller,
        role: input.role,
        now: input.now,
        idempotency_key: key,
    }
}

/// Claim, run, record or give up, unlock: the key's whole life in one
/// request, on one connection that holds the key's lock throughout.
fn submit_keyed(
    conn: &mut PgConnection,
    key: &IdempotencyKey,
    input: &SubmitInput,
) -> Result<Outcome, AppError> {
    let org = input.caller.id;
    let hash = idempotency::request_hash(&[
        key.method.as_bytes(),
        key.path.as_bytes(),
        key.query.as_bytes(),
        input.body.media_type.as_bytes(),
        &input.body.bytes,
    ]);
    match idempotency::claim(conn, org, &key.key, &hash, input.now)? {
        idempotency::Claim::Fresh => {}
        idempotency::Claim::Replay { status, body } => {
            return Ok(Outcome::Replayed { status, body })
        }
        idempotency::Claim::Mismatch => {
            return Err(AppError::field(
                "Idempotency-Key",
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for a different request; use a new key for a new request",
            ))
        }
        idempotency::Claim::Running => {
            return Err(AppError::new(
                ErrorCode::IdempotencyKeyInUse,
                "a request with this Idempotency-Key is still being processed; retry shortly",
            ))
        }
    }
    let result = parse::read(&input.body, input.today).and_then(|parsed| {
        store::store_submission(conn, &submitter(input, Some(&key.key)), parsed)
    });
    settle(conn, org, key, input, &result);
    result.map(Outcome::Created)
}

/// After the work: a refusal is recorded as the key's answer (a success was
/// recorded with the payroll, in its transaction); a failure on our side
/// gives the key up so a retry runs afresh. Then the lock is released. If the
/// database is gone, so is the session and with it the lock: the key stays
/// `running` only until a retry finds its lock free.
fn settle(
    conn: &mut PgConnection,
    org: i64,
    key: &IdempotencyKey,
    input: &SubmitInput,
    result: &Result<serde_json::Value, AppError>,
) {
    let recorded = match result {
        Ok(_) => Ok(()),
        Err(AppError::Problem(p)) if p.status < 500 => {
            let body = (input.render_refusal)(p);
            idempotency::complete(conn, org, &key.key, p.status, &body, input.now)
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
            // A pooled connection would keep the lock and block the key: an
            // open transaction makes the pool close it instead of reusing it.
            let _ = <PgConnection as Connection>::TransactionManager::begin_transaction(conn);
        }
    }
}
