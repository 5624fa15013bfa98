//! Applying the bank's signals to one batch's attempts, set-based: the
//! batch's attempts are loaded once under the batch's row lock, every
//! transition is decided in Rust by [`next`], and the changes are written
//! with one UPDATE and one INSERT of events, whatever the batch's size.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamptz};

use crate::db::bank_files::Finding;
use crate::db::schema::{disbursement_batch_events, disbursement_batches, disbursement_lines};
use crate::domain::disbursement::{next, AttemptState, Signal, Transition};
use crate::error::AppError;

/// What the bank said about one attempt, by its end-to-end id.
#[derive(Debug, Clone)]
pub(crate) struct LineSignal {
    pub end_to_end_id: String,
    pub signal: Signal,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
}

/// How a file's signals landed on a batch.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Applied {
    pub changed: usize,
    pub unchanged: usize,
    pub completed: bool,
}

/// Why an attempt changed: `status_report` or `statement`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cause {
    StatusReport,
    Statement,
}

impl Cause {
    fn as_str(self) -> &'static str {
        match self {
            Cause::StatusReport => "status_report",
            Cause::Statement => "statement",
        }
    }
}

struct Attempt {
    id: i64,
    state: AttemptState,
}

/// Applies `signals` to batch `batch_id`; what cannot be applied becomes a
/// finding. The batch becomes `completed` when every attempt is final.
pub(crate) fn apply(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    file_id: i64,
    cause: Cause,
    batch_id: i64,
    signals: &[LineSignal],
    findings: &mut Vec<Finding>,
) -> Result<Applied, AppError> {
    // Two files about one batch are applied one after the other.
    let batch_status: String = disbursement_batches::table
        .find(batch_id)
        .select(disbursement_batches::status)
        .for_update()
        .first(conn)?;
    let mut attempts = load_attempts(conn, batch_id)?;
    let mut seen = HashSet::with_capacity(signals.len());
    let mut changes = Changes::default();
    let mut applied = Applied::default();
    for line in signals {
        if !seen.insert(line.end_to_end_id.as_str()) {
            findings.push(Finding::new(
                "DUPLICATE_LINE_STATUS",
                format!("同一文件对 {} 给出了多个状态，只采用第一个 (the file gives this line more than one status; the first is used)", line.end_to_end_id),
            ));
            continue;
        }
        let Some(attempt) = attempts.get_mut(&line.end_to_end_id) else {
            findings.push(Finding::new(
                "UNKNOWN_LINE",
                format!("批次中没有端到端编号 {} 的付款 (no attempt of this batch has this end-to-end id)", line.end_to_end_id),
            ));
            continue;
        };
        match next(attempt.state, line.signal) {
            Transition::To(to) => {
                changes.push(attempt.id, attempt.state, to, line);
                attempt.state = to;
                applied.changed += 1;
            }
            Transition::Unchanged => applied.unchanged += 1,
            Transition::Conflict(code) => findings.push(Finding::new(
                code,
                format!(
                    "{}: 付款已是 {}，银行的 {:?} 与之矛盾，未更改 (the attempt is {}; {:?} contradicts it; nothing changed)",
                    line.end_to_end_id, attempt.state, line.signal, attempt.state, line.signal
                ),
            )),
        }
    }
    changes.write(conn, now, file_id, cause)?;
    let all_final = attempts.values().all(|a| a.state.is_final());
    if all_final && batch_status != "completed" {
        complete_batch(conn, batch_id, now)?;
        applied.completed = true;
    }
    Ok(applied)
}

fn load_attempts(
    conn: &mut PgConnection,
    batch_id: i64,
) -> Result<HashMap<String, Attempt>, AppError> {
    let rows: Vec<(i64, String, String)> = disbursement_lines::table
        .filter(disbursement_lines::batch_id.eq(batch_id))
        .select((
            disbursement_lines::id,
            disbursement_lines::end_to_end_id,
            disbursement_lines::state,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, e2e, state)| {
            let state = state
                .parse::<AttemptState>()
                .map_err(|_| AppError::Invariant("an attempt state outside the CHECK"))?;
            Ok((e2e, Attempt { id, state }))
        })
        .collect()
}

/// The transitions decided, as columns for `unnest`.
#[derive(Default)]
struct Changes {
    ids: Vec<i64>,
    from: Vec<&'static str>,
    to: Vec<&'static str>,
    reason_code: Vec<Option<String>>,
    reason_text: Vec<Option<String>>,
}

impl Changes {
    fn push(&mut self, id: i64, from: AttemptState, to: AttemptState, line: &LineSignal) {
        self.ids.push(id);
        self.from.push(from.as_str());
        self.to.push(to.as_str());
        self.reason_code.push(line.reason_code.clone());
        self.reason_text.push(line.reason_text.clone());
    }

    fn write(
        self,
        conn: &mut PgConnection,
        now: DateTime<Utc>,
        file_id: i64,
        cause: Cause,
    ) -> Result<(), AppError> {
        if self.ids.is_empty() {
            return Ok(());
        }
        // An attempt appears once per file (duplicates were refused above),
        // so each row is updated once.
        diesel::sql_query(
            "UPDATE disbursement_lines AS d \
                SET state = v.to_state, reason_code = v.reason_code, reason_text = v.reason_text, \
                    updated_at = $5 \
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) \
                    AS v(id, to_state, reason_code, reason_text) \
              WHERE d.id = v.id",
        )
        .bind::<Array<BigInt>, _>(&self.ids)
        .bind::<Array<Text>, _>(&self.to)
        .bind::<Array<Nullable<Text>>, _>(&self.reason_code)
        .bind::<Array<Nullable<Text>>, _>(&self.reason_text)
        .bind::<Timestamptz, _>(now)
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO disbursement_line_events \
                    (attempt_id, from_state, to_state, at, cause, bank_file_id, reason_code, reason_text) \
             SELECT v.id, v.from_state, v.to_state, $6, $7, $8, v.reason_code, v.reason_text \
               FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[]) \
                    AS v(id, from_state, to_state, reason_code, reason_text)",
        )
        .bind::<Array<BigInt>, _>(&self.ids)
        .bind::<Array<Text>, _>(&self.from)
        .bind::<Array<Text>, _>(&self.to)
        .bind::<Array<Nullable<Text>>, _>(&self.reason_code)
        .bind::<Array<Nullable<Text>>, _>(&self.reason_text)
        .bind::<Timestamptz, _>(now)
        .bind::<Text, _>(cause.as_str())
        .bind::<BigInt, _>(file_id)
        .execute(conn)?;
        Ok(())
    }
}

fn complete_batch(
    conn: &mut PgConnection,
    batch_id: i64,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    diesel::update(disbursement_batches::table.find(batch_id))
        .set(disbursement_batches::status.eq("completed"))
        .execute(conn)?;
    diesel::insert_into(disbursement_batch_events::table)
        .values((
            disbursement_batch_events::batch_id.eq(batch_id),
            disbursement_batch_events::status.eq("completed"),
            disbursement_batch_events::at.eq(now),
            disbursement_batch_events::note.eq(Some(
                "每笔付款均已入账或被拒 (every line settled or rejected)",
            )),
        ))
        .execute(conn)?;
    Ok(())
}
