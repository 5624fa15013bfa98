//! `wagebridge outbox list|retry`: the binary's side of
//! [`wagebridge::banking::outbox_admin`] (argument parsing and printing only).

use anyhow::Context;
use clap::Subcommand;

use wagebridge::banking::outbox_admin;
use wagebridge::clock::{shanghai, Clock};
use wagebridge::config::Settings;
use wagebridge::db::bank_outbox::{OutboxEntry, OutboxState};
use wagebridge::domain::truncate_chars;
use wagebridge::server::Database;

#[derive(Subcommand)]
pub enum OutboxCommand {
    /// List entries (id, batch, project, period, message id, state, attempts, last error, next attempt).
    List {
        /// Only entries in this state.
        #[arg(long, value_parser = parse_state)]
        state: Option<OutboxState>,
        /// At most this many (1–10000).
        #[arg(long, default_value_t = outbox_admin::DEFAULT_LIST_LIMIT)]
        limit: i64,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make a dead entry pending again (attempts kept, due now); refused for any other state.
    Retry { id: i64 },
}

fn parse_state(s: &str) -> Result<OutboxState, String> {
    s.parse()
}

pub fn run(command: OutboxCommand, settings: &Settings) -> anyhow::Result<()> {
    let database = Database::open(settings)?;
    let pool = database.migrated_pool(1)?;
    let mut conn = pool.get().context("connecting to PostgreSQL")?;
    match command {
        OutboxCommand::List { state, limit, json } => {
            let entries = outbox_admin::list(&mut conn, state, limit).map_err(problem)?;
            if json {
                crate::print_stdout(&serde_json::to_string_pretty(&entries)?)
            } else {
                crate::print_stdout(&table(&entries))
            }
        }
        OutboxCommand::Retry { id } => {
            // The command line records real times: the simulated clock lives in a server.
            let entry =
                outbox_admin::retry(&mut conn, id, None, Clock::real().now()).map_err(problem)?;
            eprintln!(
                "outbox entry {} (batch {}, {} {}) is pending again after {} attempts",
                entry.id, entry.batch_id, entry.project_code, entry.period, entry.attempts
            );
            Ok(())
        }
    }
}

/// A refusal as the operator reads it: the detail alone.
fn problem(e: wagebridge::error::AppError) -> anyhow::Error {
    match e.problem() {
        Some(p) => anyhow::anyhow!("{}", p.detail),
        None => anyhow::Error::new(e),
    }
}

/// Longest last error a table row shows; `--json` shows it whole.
const ERROR_COLUMN_CHARS: usize = 60;

fn table(entries: &[OutboxEntry]) -> String {
    let header = [
        "ID",
        "BATCH",
        "PROJECT",
        "PERIOD",
        "MESSAGE ID",
        "STATE",
        "ATTEMPTS",
        "NEXT ATTEMPT",
        "LAST ERROR",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for e in entries {
        rows.push(vec![
            e.id.to_string(),
            e.batch_id.to_string(),
            e.project_code.clone(),
            e.period.clone(),
            e.message_id.clone(),
            e.state.clone(),
            e.attempts.to_string(),
            e.next_attempt_at
                .with_timezone(&shanghai())
                .format("%Y-%m-%d %H:%M:%S%:z")
                .to_string(),
            e.last_error
                .as_deref()
                .map(|t| truncate_chars(&t.replace('\n', " "), ERROR_COLUMN_CHARS).into_owned())
                .unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let lines: Vec<String> = rows
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
                .collect();
            cells.join("  ").trim_end().to_owned()
        })
        .collect();
    if entries.is_empty() {
        return format!("{}\n(no entries)", lines.join("\n"));
    }
    lines.join("\n")
}
