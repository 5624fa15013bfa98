//! The job runner: background rounds `serve` runs next to the HTTP server,
//! as crates.io's worker does, on PostgreSQL alone (no broker).
//!
//! Each [`Job`] is a loop on tokio's runtime: a round runs on the blocking
//! pool with a pooled connection, then the loop sleeps (less when the round
//! found work). A failed round (the database away, a bug, even a panic) is
//! logged and the loop goes on. Several instances may run against one
//! database: rounds claim their work with `FOR UPDATE SKIP LOCKED` or are
//! harmless to run twice. `WAGEBRIDGE_JOBS=off` runs an instance that only
//! serves HTTP.
//!
//! - [`dispatch`]: the bank outbox.
//! - [`inbound`]: polling the bank connections' transports for files.
//! - [`purge`]: idempotency records older than a day.
//! - [`instance`]: which instance did the work.
//!
//! A new round is one line in [`standard_jobs`].

pub mod dispatch;
pub mod inbound;
pub mod instance;
pub mod purge;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use diesel::PgConnection;

use crate::clock::Clock;
use crate::db::{self, PgPool};
use crate::error::AppError;

/// One round of work on a connection; returns how many things it handled.
pub type RoundFn = dyn Fn(&mut PgConnection) -> Result<usize, AppError> + Send + Sync;

/// A named round and how often it runs.
#[derive(Clone)]
pub struct Job {
    pub name: &'static str,
    /// The pause after a round that found nothing (or failed).
    pub idle: Duration,
    /// The pause after a round that found work: more may be waiting.
    pub busy: Duration,
    /// The pause after a failed round: an outage is logged every few
    /// seconds, not in a tight loop.
    pub failed: Duration,
    round: Arc<RoundFn>,
}

impl Job {
    /// A round run every `idle`, and again at once when it found work.
    pub fn every(
        name: &'static str,
        idle: Duration,
        round: impl Fn(&mut PgConnection) -> Result<usize, AppError> + Send + Sync + 'static,
    ) -> Job {
        Job {
            name,
            idle,
            busy: Duration::ZERO,
            failed: idle.max(AFTER_FAILURE),
            round: Arc::new(round),
        }
    }

    /// The pause after a round that found work.
    pub fn busy_pause(mut self, busy: Duration) -> Job {
        self.busy = busy;
        self
    }

    /// The pause after a failed round.
    pub fn failure_pause(mut self, failed: Duration) -> Job {
        self.failed = failed;
        self
    }
}

/// What every job may need.
#[derive(Debug, Clone)]
pub struct JobContext {
    pub clock: Clock,
    pub data_dir: PathBuf,
    pub instance: String,
    pub bank_max_attempts: u32,
}

/// The rounds `serve` runs. The arrears evaluation joins here, one line.
pub fn standard_jobs(ctx: &JobContext) -> Vec<Job> {
    let dispatcher = dispatch::Dispatcher::new(
        ctx.clock.clone(),
        ctx.data_dir.clone(),
        ctx.instance.clone(),
        dispatch::DispatchSettings::new(ctx.bank_max_attempts),
    );
    let clock = ctx.clock.clone();
    let (inbox_clock, data_dir) = (ctx.clock.clone(), ctx.data_dir.clone());
    vec![
        Job::every("bank_outbox", Duration::from_secs(1), move |conn| {
            dispatcher.round(conn).map(|r| r.handled())
        })
        .busy_pause(Duration::from_millis(50)),
        Job::every("bank_inbox", Duration::from_secs(1), move |conn| {
            inbound::poll_connections(conn, &inbox_clock, &data_dir).map(|r| r.files_taken_in)
        }),
        Job::every("idempotency_purge", Duration::from_secs(600), move |conn| {
            purge::purge_idempotency_keys(conn, clock.now())
        }),
    ]
}

/// Starts one loop per job on the current tokio runtime; they run until the
/// runtime stops.
pub fn start(pool: &PgPool, jobs: Vec<Job>) -> Vec<tokio::task::JoinHandle<()>> {
    jobs.into_iter()
        .map(|job| {
            tracing::info!(job = job.name, every = ?job.idle, "background job started");
            tokio::spawn(run_loop(pool.clone(), job))
        })
        .collect()
}

/// The shortest pause after a failed round unless a job says otherwise.
const AFTER_FAILURE: Duration = Duration::from_secs(5);

async fn run_loop(pool: PgPool, job: Job) {
    loop {
        let pause = match run_round(&pool, &job).await {
            Some(0) => job.idle,
            Some(_) => job.busy,
            None => job.failed,
        };
        tokio::time::sleep(pause).await;
    }
}

/// One round of `job` on the blocking pool: how many things it handled, or
/// `None` when it failed (logged).
pub async fn run_round(pool: &PgPool, job: &Job) -> Option<usize> {
    let round = job.round.clone();
    let pool = pool.clone();
    // A panic in the round ends its blocking task, not this loop.
    let outcome = tokio::task::spawn_blocking(move || {
        let mut conn = pool
            .get_timeout(db::REQUEST_CHECKOUT_TIMEOUT)
            .map_err(|e| AppError::from(db::DbError::from(e)))?;
        round(&mut conn)
    })
    .await;
    match outcome {
        Ok(Ok(handled)) => {
            if handled > 0 {
                tracing::debug!(job = job.name, handled, "background round");
            }
            Some(handled)
        }
        Ok(Err(e)) => {
            tracing::warn!(job = job.name, error = %e, "background round failed; it runs again");
            None
        }
        Err(e) => {
            tracing::error!(job = job.name, error = %e, "background round panicked; it runs again");
            None
        }
    }
}
