//! What the disbursement use cases answer: a batch with its lines, the
//! list of batches, the exceptions. Card numbers are always masked.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use super::balance::Figures;

/// The bank file a batch sends (its bytes stay in the database).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    pub name: String,
    /// `pain.001.001.09`, `pain.001.001.03` or `icbc.PAYPER`.
    pub format: String,
    pub sha256: String,
    pub size_bytes: i64,
}

/// The batch's entry in the bank outbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutboxView {
    /// `held` (waits for the balance), `pending`, `sent`, or `dead` (every
    /// attempt failed; `wagebridge outbox retry` makes it pending again).
    pub state: String,
    pub attempts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub next_attempt_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
}

/// Count and amount of the lines in one state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StateTotalView {
    /// reserved, sent, accepted, unknown, settled or rejected.
    pub state: String,
    pub count: i64,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineEventView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_state: Option<String>,
    pub to_state: String,
    pub at: DateTime<Utc>,
    /// created, dispatch, status_report or statement.
    pub cause: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
}

/// One line attempt of a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttemptView {
    pub seq: i32,
    pub payroll_line_id: i64,
    pub end_to_end_id: String,
    pub worker_name: String,
    /// Masked, e.g. `6222********1234`.
    pub card_number: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// reserved, sent, accepted, unknown, settled or rejected.
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The bank's reason in Chinese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
    /// The bank's reason in English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_en: Option<String>,
    pub events: Vec<LineEventView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchEventView {
    pub status: String,
    pub at: DateTime<Utc>,
    /// The organisation's USCC, when someone asked (a release by hand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A line left out of a batch, and why.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedView {
    pub payroll_line_id: i64,
    pub employer_uscc: String,
    pub line: i32,
    pub worker_name: String,
    /// NO_CARD_ON_ROSTER, or NOT_POSITIVE for a line without a positive net.
    pub code: &'static str,
    pub message: String,
}

/// A batch as listed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchSummary {
    pub id: i64,
    pub href: String,
    pub period: String,
    pub message_id: String,
    /// held, released, sent or completed.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hold_figures: Option<Figures>,
    pub created_at: DateTime<Utc>,
    /// When its file was handed to the bank.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<DateTime<Utc>>,
    pub requested_execution_date: NaiveDate,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub line_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_batch_id: Option<i64>,
    pub totals: Vec<StateTotalView>,
    pub file: FileView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxView>,
}

/// A batch with its lines (a page of them) and events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchView {
    #[serde(flatten)]
    pub summary: BatchSummary,
    pub events: Vec<BatchEventView>,
    /// In file order, a page at a time (`?limit=`, `?cursor=`).
    pub lines: Vec<AttemptView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The answer to a disbursement: the new batch, and the lines left out.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisbursementCreated {
    #[serde(flatten)]
    pub batch: BatchView,
    /// At most 1,000 lines left out; `skipped_count` counts all.
    pub skipped: Vec<SkippedView>,
    pub skipped_count: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchList {
    pub project: String,
    pub batches: Vec<BatchSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A rejected line not yet paid by a later attempt.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionView {
    pub payroll_line_id: i64,
    pub period: String,
    pub worker_name: String,
    /// Masked.
    pub card_number: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_zh: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_en: Option<String>,
    pub batch_id: i64,
    pub message_id: String,
    pub rejected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExceptionList {
    pub project: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    pub exceptions: Vec<ExceptionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
