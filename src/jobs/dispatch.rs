//! The bank outbox dispatcher: hands each released batch's file to its bank,
//! exactly once as far as the bank can tell.
//!
//! A round leases due entries (committed at once, so no other instance sends
//! them meanwhile), then for each: reads the file and the connection's
//! transport, sends outside any transaction, and records the outcome in one
//! transaction (the attempt; the entry, the batch and its `reserved` lines
//! `sent`). A crash anywhere in between only means the lease runs out and
//! the entry is sent again: with the same message id and bytes, which the
//! transport or the bank recognises (`AlreadySent`, ICBC `B0012`, ISO DU01).
//!
//! Scheduling (`next_attempt_at`, leases) reads the same business clock
//! that stamped the entries, so a simulated clock steps through back-off
//! deterministically; on the real clock it is the machine's time.

use std::path::PathBuf;

use chrono::{DateTime, Duration, Utc};
use diesel::{Connection, PgConnection};

use crate::banking::config::TransportConfig;
use crate::banking::transport;
use crate::clock::Clock;
use crate::db::bank_outbox::{self, Attempt, AttemptOutcome, Claimed, SendJob};
use crate::domain::disbursement::{next, AttemptState, Signal, Transition};
use crate::domain::excerpt;
use crate::error::AppError;
use bank_adapters::transport::SendOutcome;

/// How long a claimed entry is this instance's before another may send it.
pub const DEFAULT_LEASE: Duration = Duration::seconds(60);
/// Entries one round claims at most, so a round stays short.
pub const DEFAULT_PER_ROUND: i64 = 16;
/// First back-off; it doubles with every failure.
const BACKOFF_BASE_SECONDS: i64 = 2;
/// Longest back-off.
const BACKOFF_CAP_SECONDS: i64 = 600;
/// Longest error text kept per attempt.
const MAX_ERROR_CHARS: usize = 500;

/// How the dispatcher behaves.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// After this many failed attempts an entry is dead.
    pub max_attempts: u32,
    pub lease: Duration,
    pub per_round: i64,
}

impl DispatchSettings {
    pub fn new(max_attempts: u32) -> Self {
        DispatchSettings {
            max_attempts: max_attempts.max(1),
            lease: DEFAULT_LEASE,
            per_round: DEFAULT_PER_ROUND,
        }
    }
}

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DispatchRound {
    /// Handed over (including resends the transport or bank recognised).
    pub sent: usize,
    /// Failed and due again later.
    pub retrying: usize,
    /// Failed for the last time.
    pub dead: usize,
}

impl DispatchRound {
    pub fn handled(&self) -> usize {
        self.sent + self.retrying + self.dead
    }
}

/// One instance's dispatcher.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    clock: Clock,
    data_dir: PathBuf,
    /// Written on every attempt (host and process id).
    instance: String,
    settings: DispatchSettings,
}

impl Dispatcher {
    pub fn new(
        clock: Clock,
        data_dir: PathBuf,
        instance: String,
        settings: DispatchSettings,
    ) -> Self {
        Dispatcher {
            clock,
            data_dir,
            instance,
            settings,
        }
    }

    /// One round on a connection the caller holds: up to `per_round`
    /// entries, each claimed just before it is sent, so its lease is not
    /// spent waiting behind the others (recording a 100,000-line batch
    /// takes seconds).
    pub fn round(&self, conn: &mut PgConnection) -> Result<DispatchRound, AppError> {
        let mut round = DispatchRound::default();
        for _ in 0..self.settings.per_round {
            let now = self.clock.now();
            let claimed = bank_outbox::claim_due(conn, now, now + self.settings.lease, 1)?;
            let Some(entry) = claimed.first() else {
                break;
            };
            match self.dispatch(conn, entry)? {
                Delivered::Sent => round.sent += 1,
                Delivered::Retrying => round.retrying += 1,
                Delivered::Dead => round.dead += 1,
            }
        }
        Ok(round)
    }

    fn dispatch(&self, conn: &mut PgConnection, entry: &Claimed) -> Result<Delivered, AppError> {
        let job = bank_outbox::send_job(conn, entry.id)?
            .ok_or(AppError::Invariant("a claimed outbox entry has no batch"))?;
        let span = tracing::info_span!(
            "bank_send",
            outbox = entry.id,
            batch = entry.batch_id,
            message_id = %job.message_id,
            attempt = entry.attempts,
        );
        let _entered = span.enter();
        let sent = self.send(&job);
        let at = self.clock.now();
        match sent {
            Ok(outcome) => {
                self.record_delivered(conn, entry, &job, outcome, at)?;
                tracing::info!(outcome = outcome.as_str(), "bank file handed over");
                Ok(Delivered::Sent)
            }
            Err(error) => self.record_failed(conn, entry, &error, at),
        }
    }

    /// Sends outside any transaction; the error comes back masked and bounded.
    fn send(&self, job: &SendJob) -> Result<AttemptOutcome, String> {
        let config: TransportConfig =
            serde_json::from_value(job.transport.clone()).map_err(|e| {
                format!("连接的传输配置无法读取 (transport configuration unreadable): {e}")
            })?;
        let is_file_exchange = matches!(config, TransportConfig::FileExchange { .. });
        let sent = transport::open(&config, &self.data_dir)
            .map_err(|e| match e.problem() {
                Some(p) => p.detail.clone(),
                None => e.to_string(),
            })
            .and_then(|t| {
                t.send(&job.message_id, &job.file_bytes)
                    .map_err(|e| format!("发送失败 (send failed): {e}"))
            });
        sent.map(|outcome| outcome_of(outcome, is_file_exchange))
            .map_err(|e| excerpt(&e, MAX_ERROR_CHARS).into_owned())
    }

    fn record_delivered(
        &self,
        conn: &mut PgConnection,
        entry: &Claimed,
        job: &SendJob,
        outcome: AttemptOutcome,
        at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        conn.transaction(|conn| {
            self.append(conn, entry, outcome, None, at)?;
            // Not pending any more: another instance recorded it after this
            // one's lease ran out, and moved the batch then.
            if bank_outbox::mark_sent(conn, entry.id, at)? {
                let note = format!("handed to the bank as {}", job.message_id);
                bank_outbox::mark_batch_sent(conn, entry.batch_id, at, &note)?;
                dispatch_lines(conn, entry.batch_id, at)?;
            }
            Ok(())
        })
    }

    fn record_failed(
        &self,
        conn: &mut PgConnection,
        entry: &Claimed,
        error: &str,
        at: DateTime<Utc>,
    ) -> Result<Delivered, AppError> {
        let attempts = u32::try_from(entry.attempts).unwrap_or(u32::MAX);
        let dead = attempts >= self.settings.max_attempts;
        let next_attempt_at = if dead {
            // A revived entry is due at once on any clock (see `bank_outbox::revive`).
            at
        } else {
            at + backoff(attempts, rand::random::<f64>())
        };
        conn.transaction(|conn| {
            self.append(conn, entry, AttemptOutcome::Failed, Some(error), at)?;
            bank_outbox::mark_failed(conn, entry.id, error, next_attempt_at, dead)?;
            Ok::<_, AppError>(())
        })?;
        if dead {
            tracing::error!(attempts, error, "a bank file could not be handed over: the outbox entry is dead (wagebridge outbox retry)");
            Ok(Delivered::Dead)
        } else {
            tracing::warn!(attempts, error, next_attempt_at = %next_attempt_at, "a bank file could not be handed over; it will be retried");
            Ok(Delivered::Retrying)
        }
    }

    fn append(
        &self,
        conn: &mut PgConnection,
        entry: &Claimed,
        outcome: AttemptOutcome,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<(), AppError> {
        let attempt = Attempt {
            outbox_id: entry.id,
            attempt: entry.attempts,
            at,
            instance: &self.instance,
            outcome,
            error,
        };
        Ok(bank_outbox::append_attempt(conn, &attempt)?)
    }
}

enum Delivered {
    Sent,
    Retrying,
    Dead,
}

/// Every line the dispatch moves (those `reserved`), set-based, by the state
/// machine's own rule: a line a status already moved past `sent` stays.
fn dispatch_lines(
    conn: &mut PgConnection,
    batch_id: i64,
    at: DateTime<Utc>,
) -> Result<usize, AppError> {
    let mut moved = 0;
    for from in AttemptState::ALL {
        if let Transition::To(to) = next(from, Signal::Dispatched) {
            moved += bank_outbox::move_batch_lines(conn, batch_id, from, to, at, "dispatch")?;
        }
    }
    Ok(moved)
}

/// The file exchange's `AlreadySent` is our own earlier hand-over; over a
/// bank's API it is the bank's "duplicate" answer (ICBC `B0012`).
fn outcome_of(outcome: SendOutcome, is_file_exchange: bool) -> AttemptOutcome {
    match outcome {
        SendOutcome::Sent => AttemptOutcome::Sent,
        SendOutcome::AlreadySent if is_file_exchange => AttemptOutcome::AlreadySent,
        SendOutcome::AlreadySent => AttemptOutcome::DuplicateAtBank,
    }
}

/// The wait after the `attempts`-th failure: 2 s doubling, at most 10 min,
/// with jitter (`jitter` in [0, 1) picks between half and all of it) so
/// instances retrying after one outage spread out.
pub fn backoff(attempts: u32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(20);
    let full_ms = (BACKOFF_BASE_SECONDS * 1000)
        .saturating_mul(1 << doublings)
        .min(BACKOFF_CAP_SECONDS * 1000);
    let jitter = jitter.clamp(0.0, 1.0);
    let half = full_ms / 2;
    Duration::milliseconds(half + (half as f64 * jitter) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_two_seconds_up_to_ten_minutes_with_jitter_below_it() {
        assert_eq!(backoff(1, 0.0), Duration::seconds(1));
        assert_eq!(backoff(1, 1.0), Duration::seconds(2));
        assert_eq!(backoff(2, 1.0), Duration::seconds(4));
        assert_eq!(backoff(5, 1.0), Duration::seconds(32));
        assert_eq!(backoff(30, 1.0), Duration::seconds(600));
        assert_eq!(backoff(30, 0.0), Duration::seconds(300));
        assert_eq!(backoff(u32::MAX, 0.5), Duration::seconds(450));
        for attempts in 1..40 {
            assert!(backoff(attempts, 0.999) <= Duration::seconds(BACKOFF_CAP_SECONDS));
        }
    }

    #[test]
    fn a_resend_the_bank_recognises_counts_as_delivered() {
        assert_eq!(outcome_of(SendOutcome::Sent, true), AttemptOutcome::Sent);
        assert_eq!(
            outcome_of(SendOutcome::AlreadySent, true),
            AttemptOutcome::AlreadySent
        );
        let duplicate = outcome_of(SendOutcome::AlreadySent, false);
        assert_eq!(duplicate, AttemptOutcome::DuplicateAtBank);
        assert!(duplicate.is_delivered());
        assert!(!AttemptOutcome::Failed.is_delivered());
    }
}
