//! The life of one `Idempotency-Key` in a use case: claim it (or answer
//! with its first answer, or refuse it), do the work while this
//! connection holds the key's lock, record a refusal as the key's answer
//! or give the key up after a failure on our side, and unlock. Payroll
//! submission and disbursement both go through here; the work itself
//! records a success inside its own transaction (`db::idempotency::complete`).

use chrono::{DateTime, Utc};
use diesel::connection::TransactionManager;
use diesel::{Connection, PgConnection};

use crate::db::idempotency;
use crate::error::{AppError, ErrorCode, Problem};

/// An `Idempotency-Key` and the parts of the request that make it the same
/// request (a use case adds the body to the hash when it has one).
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub method: String,
    pub path: String,
    pub query: String,
}

impl IdempotencyKey {
    /// The request's hash: method, path, query and whatever else `extra` adds.
    pub fn request_hash(&self, extra: &[&[u8]]) -> Vec<u8> {
        let mut parts: Vec<&[u8]> = vec![
            self.method.as_bytes(),
            self.path.as_bytes(),
            self.query.as_bytes(),
        ];
        parts.extend_from_slice(extra);
        idempotency::request_hash(&parts)
    }
}

/// Whether to go ahead.
pub enum Start {
    /// First use (or a key whose holder is gone): do the work, then [`finish`].
    Fresh,
    /// Already answered: send this again; nothing else to do.
    Replay {
        status: u16,
        body: serde_json::Value,
    },
}

/// Claims the key for organisation `org`; a key used for another request,
/// or one whose first request still runs, is refused.
pub fn start(
    conn: &mut PgConnection,
    org: i64,
    key: &IdempotencyKey,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Start, AppError> {
    match idempotency::claim(conn, org, &key.key, hash, now)? {
        idempotency::Claim::Fresh => Ok(Start::Fresh),
        idempotency::Claim::Replay { status, body } => Ok(Start::Replay { status, body }),
        idempotency::Claim::Mismatch => Err(AppError::field(
            "Idempotency-Key",
            ErrorCode::IdempotencyKeyReused,
            "该 Idempotency-Key 已用于另一请求 (used for a different request); 新请求请用新键",
        )),
        idempotency::Claim::Running => Err(AppError::new(
            ErrorCode::IdempotencyKeyInUse,
            "使用该 Idempotency-Key 的请求仍在处理 (still running); 请稍后重试",
        )),
    }
}

/// After the work: a refusal is recorded as the key's answer (a success was
/// recorded with the work, in its transaction); a failure on our side gives
/// the key up so a retry runs afresh. Then the lock is released. If the
/// database is gone, so is the session and with it the lock: the key stays
/// `running` only until a retry finds its lock free.
pub fn finish(
    conn: &mut PgConnection,
    org: i64,
    key: &IdempotencyKey,
    now: DateTime<Utc>,
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
            // A pooled connection would keep the lock and block the key: an
            // open transaction makes the pool close it instead of reusing it.
            let _ = <PgConnection as Connection>::TransactionManager::begin_transaction(conn);
        }
    }
}
