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
use diesel::PgConnection;

use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::projects::Project;
use crate::db::PgPool;
use crate::error::{AppError, Problem};
use crate::idempotent;

pub use parse::{Body, SubmitPayroll};

/// Who may submit: the general contractor (for itself or an attached
/// subcontractor) and subcontractors (for themselves).
pub(crate) fn may_submit(role: ProjectRole) -> bool {
    role.can_write_workers()
}

pub use crate::idempotent::IdempotencyKey;

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
    let hash = key.request_hash(&[input.body.media_type.as_bytes(), &input.body.bytes]);
    if let idempotent::Start::Replay { status, body } =
        idempotent::start(conn, org, key, &hash, input.now)?
    {
        return Ok(Outcome::Replayed { status, body });
    }
    let result = parse::read(&input.body, input.today).and_then(|parsed| {
        store::store_submission(conn, &submitter(input, Some(&key.key)), parsed)
    });
    idempotent::finish(conn, org, key, input.now, &result, input.render_refusal);
    result.map(Outcome::Created)
}
