//! Making a batch (代发): the approved lines not yet paid or in flight, to
//! the cards on the project's roster now, as one bank file, committed with
//! its lines, events and outbox entry in one transaction.

use bank_adapters::dialect::BankCodec;
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::{Connection as _, PgConnection};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::balance;
use super::read;
use super::views::{DisbursementCreated, SkippedView};
use crate::banking::connections::{self, Connection};
use crate::db::disbursements::{self as rows, Candidate, NewAttempt, NewBatch};
use crate::db::organizations::Organization;
use crate::db::projects::{Project, WageAccount};
use crate::db::{self, DbError};
use crate::domain::bank_ids::{new_id, IdKind};
use crate::domain::disbursement::AttemptState;
use crate::domain::Period;
use crate::error::{AppError, ErrorCode};
use crate::paging::{Page, DEFAULT_LIMIT};

/// The most lines one batch holds (a bank file of ~50 MB); more wait for the next call.
pub const MAX_BATCH_LINES: usize = 200_000;
/// Lines left out that an answer lists.
const SKIPPED_LISTED: usize = 1_000;
/// The index that keeps a payroll line in one live attempt.
const ONE_LIVE_ATTEMPT: &str = "disbursement_lines_one_live_attempt";

/// What a batch is made for.
pub struct Request<'a> {
    pub project: &'a Project,
    pub caller: &'a Organization,
    pub period: Period,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

/// The lines to pay and the lines left out.
struct Chosen {
    lines: Vec<Candidate>,
    skipped: Vec<SkippedView>,
}

fn choose(candidates: Vec<Candidate>) -> Chosen {
    let mut chosen = Chosen {
        lines: Vec::with_capacity(candidates.len()),
        skipped: Vec::new(),
    };
    for c in candidates {
        let skip = |code: &'static str, message: &str| SkippedView {
            payroll_line_id: c.line_id,
            employer_uscc: c.employer_uscc.clone(),
            line: c.line_no,
            worker_name: c.roster_name.clone().unwrap_or_else(|| c.line_name.clone()),
            code,
            message: message.to_owned(),
        };
        let has_card = c
            .card_number
            .as_deref()
            .is_some_and(|n| !n.trim().is_empty());
        if !has_card {
            chosen.skipped.push(skip(
                "NO_CARD_ON_ROSTER",
                "花名册上没有该工人的银行卡，请先在花名册登记 (no card on the roster)",
            ));
        } else if c.net.is_none_or(|n| n <= Decimal::ZERO) {
            chosen.skipped.push(skip(
                "NOT_POSITIVE",
                "实发工资不大于零，无需代发 (the net pay is not positive)",
            ));
        } else if chosen.lines.len() < MAX_BATCH_LINES {
            chosen.lines.push(c);
        }
    }
    chosen
}

fn unique_violation_on_live_attempt(e: &DieselError) -> bool {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            info.constraint_name() == Some(ONE_LIVE_ATTEMPT)
                || info.message().contains(ONE_LIVE_ATTEMPT)
        }
        _ => false,
    }
}

fn held_elsewhere() -> AppError {
    AppError::new(
        ErrorCode::NothingToDisburse,
        "这些工资行已在另一批次中代发 (another batch holds these lines); 请刷新后重试",
    )
}

/// The bank file for the chosen lines, and the attempts to store.
fn payment_batch(
    req: &Request,
    account: &WageAccount,
    message_id: &str,
    lines: &[Candidate],
) -> (PaymentBatch, Vec<NewAttempt>) {
    let remittance = format!("工资 {} {}", req.project.code, req.period);
    let mut payments = Vec::with_capacity(lines.len());
    let mut attempts = Vec::with_capacity(lines.len());
    for (i, c) in lines.iter().enumerate() {
        let end_to_end_id = new_id(IdKind::EndToEnd, req.now);
        let card = c.card_number.clone().unwrap_or_default().trim().to_owned();
        let name = c.roster_name.clone().unwrap_or_else(|| c.line_name.clone());
        let amount = c.net.unwrap_or_default();
        payments.push(PaymentLine {
            end_to_end_id: end_to_end_id.clone(),
            instruction_id: None,
            amount: Amount::cny(amount),
            creditor: AccountRef {
                number: card.clone(),
                name: Some(name.clone()),
                bank_code: None,
                bank_name: None,
            },
            remittance: Some(remittance.clone()),
        });
        attempts.push(NewAttempt {
            batch_id: 0,
            line_id: c.line_id,
            seq: i32::try_from(i + 1).unwrap_or(i32::MAX),
            end_to_end_id,
            worker_id: c.worker_id,
            creditor_name: name,
            card_number: card,
            card_bank: c.card_bank.clone(),
            amount,
            state: AttemptState::Reserved.as_str(),
            reason_code: None,
            reason_text: None,
            updated_at: req.now,
        });
    }
    let batch = PaymentBatch {
        message_id: message_id.to_owned(),
        created_at: req.now,
        requested_execution_date: req.today,
        initiating_party: req.caller.name.clone(),
        debtor: AccountRef {
            number: account.account_number.clone(),
            name: Some(account.account_name.clone()),
            bank_code: Some(account.bank_code.clone()),
            bank_name: None,
        },
        lines: payments,
    };
    (batch, attempts)
}

fn encode(connection: &Connection, batch: &PaymentBatch) -> Result<Vec<u8>, AppError> {
    BankCodec::plain(connection.dialect.clone())
        .encode_batch(batch)
        .map_err(|e| {
            // Our data did not fit the bank's format: say so, nothing is stored.
            AppError::new(
                ErrorCode::BankConnectionInvalid,
                format!("无法按该银行的格式生成代发文件 (the bank file cannot be written): {e}"),
            )
        })
}

/// Times the steps of one batch, logged at debug level (what the bench
/// reports as where the time goes).
struct Phases {
    last: std::time::Instant,
    took: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn new() -> Self {
        Phases {
            last: std::time::Instant::now(),
            took: Vec::new(),
        }
    }

    fn done(&mut self, phase: &'static str) {
        let now = std::time::Instant::now();
        self.took.push((phase, now - self.last));
        self.last = now;
    }

    fn log(&self, lines: usize) {
        let text: Vec<String> = self
            .took
            .iter()
            .map(|(phase, took)| format!("{phase} {:.1} ms", took.as_secs_f64() * 1e3))
            .collect();
        tracing::debug!(lines, phases = %text.join(", "), "disbursement batch made");
    }
}

/// Makes the batch inside the caller's transaction; the answer is the new
/// batch's view. `record` stores an idempotent answer in the same transaction.
pub(crate) fn create_in_transaction(
    conn: &mut PgConnection,
    req: &Request,
    record: &mut dyn FnMut(&mut PgConnection, &serde_json::Value) -> Result<(), AppError>,
) -> Result<serde_json::Value, AppError> {
    let mut phases = Phases::new();
    let account = rows::lock_wage_account(conn, req.project.id)?.ok_or_else(|| {
        AppError::new(
            ErrorCode::NoWageAccount,
            "项目尚未登记农民工工资专用账户 (the project has no wage account)",
        )
    })?;
    let connection = connections::for_wage_account(conn, &account)?;
    let period = req.period.to_string();
    let chosen = choose(rows::candidates(conn, req.project.id, &period)?);
    phases.done("candidates");
    if chosen.lines.is_empty() {
        return Err(AppError::new(
            ErrorCode::NothingToDisburse,
            format!(
                "{period} 没有待代发的已审核工资行 (no approved line is waiting to be paid); {} 行因缺少银行卡等原因未能代发",
                chosen.skipped.len()
            ),
        ));
    }
    let message_id = new_id(IdKind::Message, req.now);
    let (payment, mut attempts) = payment_batch(req, &account, &message_id, &chosen.lines);
    let amount = payment.control_sum();
    let bytes = encode(&connection, &payment)?;
    drop(payment);
    let sha256 = hex::encode(Sha256::digest(&bytes));
    phases.done("file");
    let figures = balance::figures(conn, account.id, None, amount)?;
    phases.done("balance");
    let held = !figures.covers();
    let previous_batch_id = rows::latest_batch_id(conn, req.project.id, &period)?;
    let status = if held { "held" } else { "released" };
    let batch = rows::insert_batch(
        conn,
        &NewBatch {
            project_id: req.project.id,
            period: &period,
            wage_account_id: account.id,
            connection_id: connection.id,
            message_id: &message_id,
            previous_batch_id,
            requested_by: req.caller.id,
            created_at: req.now,
            requested_execution_date: req.today,
            line_count: i32::try_from(attempts.len()).unwrap_or(i32::MAX),
            amount,
            status,
            hold_reason: held.then_some("INSUFFICIENT_BALANCE"),
            hold_figures: held
                .then(|| serde_json::to_value(&figures))
                .transpose()
                .map_err(|_| AppError::Invariant("figures serialise"))?,
            file_format: connection.dialect.batch_message(),
            file_name: &format!("{message_id}.xml"),
            file_sha256: &sha256,
            file_bytes: &bytes,
        },
    )?;
    drop(bytes);
    phases.done("batch row");
    for a in &mut attempts {
        a.batch_id = batch.id;
    }
    match rows::insert_attempts(conn, batch.id, &attempts, req.now, &mut || {
        phases.done("lines")
    }) {
        Ok(_) => {}
        Err(DbError::Query(e)) if unique_violation_on_live_attempt(&e) => {
            return Err(held_elsewhere())
        }
        Err(e) => return Err(e.into()),
    }
    phases.done("events");
    let note = held.then_some("余额不足，等待入账 (INSUFFICIENT_BALANCE)");
    rows::append_batch_event(conn, batch.id, status, req.now, Some(req.caller.id), note)?;
    rows::insert_outbox(
        conn,
        batch.id,
        connection.id,
        if held { "held" } else { "pending" },
        req.now,
    )?;
    db::audit::record(
        conn,
        req.now,
        Some(req.caller.id),
        "disbursement_batch",
        Some(batch.id),
        "created",
        serde_json::json!({
            "project": req.project.code,
            "period": period,
            "message_id": message_id,
            "lines": attempts.len(),
            "amount": amount.to_string(),
            "status": status,
            "previous_batch_id": previous_batch_id,
        }),
    )?;
    let first_page = Page {
        limit: DEFAULT_LIMIT,
        after: None,
    };
    phases.done("outbox and audit");
    let view = read::batch_view(conn, req.project, batch.id, first_page)?;
    let skipped_count = chosen.skipped.len();
    let mut skipped = chosen.skipped;
    skipped.truncate(SKIPPED_LISTED);
    let answer = serde_json::to_value(DisbursementCreated {
        batch: view,
        skipped,
        skipped_count,
    })
    .map_err(|_| AppError::Invariant("a batch view serialises"))?;
    record(conn, &answer)?;
    phases.done("answer");
    phases.log(attempts.len());
    Ok(answer)
}

/// Makes the batch in a transaction of its own.
pub fn create(conn: &mut PgConnection, req: &Request) -> Result<serde_json::Value, AppError> {
    conn.transaction(|conn| create_in_transaction(conn, req, &mut |_, _| Ok(())))
}
