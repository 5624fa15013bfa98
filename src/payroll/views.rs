//! What the payroll use cases answer: submissions, periods, lines, approvals, pay slips.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::projects::OrgSummary;
use crate::domain::mask;
use crate::domain::payroll::{self as rules};

/// A finding about a line: a stable code, whether it holds the line back, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReasonView {
    /// e.g. `NOT_ON_ROSTER`, `NET_MISMATCH`, `TOO_MANY_DECIMALS`.
    pub code: String,
    /// `error` (the line is held back) or `warning` (it goes on).
    pub severity: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TotalsView {
    pub lines: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Number of warnings on all lines.
    pub warnings: usize,
    /// Net pay of every line whose net could be read.
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Net pay of the accepted lines.
    #[schema(value_type = String)]
    pub accepted_amount: Decimal,
    pub attended_but_unpaid: usize,
}

/// As stored with the payroll (full ID number, for the arrears checks).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredUnpaid {
    pub(crate) worker_id: i64,
    pub(crate) id_number: String,
    pub(crate) name: String,
    pub(crate) attendance_days: u32,
    #[serde(with = "rust_decimal::serde::str")]
    pub(crate) attendance_hours: Decimal,
}

/// ATTENDED_BUT_UNPAID: a worker with attendance in the period and no line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnpaidView {
    pub code: &'static str,
    /// Masked.
    pub id_number: String,
    pub name: String,
    pub attendance_days: u32,
    #[schema(value_type = String)]
    pub attendance_hours: Decimal,
    pub message: String,
}

impl From<&StoredUnpaid> for UnpaidView {
    fn from(u: &StoredUnpaid) -> Self {
        UnpaidView {
            code: rules::Code::AttendedButUnpaid.as_str(),
            id_number: mask::mask_middle(&u.id_number, 4, 4),
            name: u.name.clone(),
            attendance_days: u.attendance_days,
            attendance_hours: u.attendance_hours,
            message: format!(
                "attended on {} day(s) in the period and has no line in this payroll",
                u.attendance_days
            ),
        }
    }
}

/// One line of a submission's answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmittedLineView {
    pub line: usize,
    /// `accepted` or `rejected`.
    pub status: &'static str,
    /// Masked.
    pub id_number: String,
    pub name: String,
    #[schema(value_type = Option<String>)]
    pub net: Option<Decimal>,
    pub reasons: Vec<ReasonView>,
}

/// The answer to a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubmissionView {
    /// Where this revision can be read.
    pub href: String,
    pub project: String,
    pub period: String,
    pub employer: OrgSummary,
    pub revision: i32,
    pub submitted_at: DateTime<Utc>,
    pub totals: TotalsView,
    pub attended_but_unpaid: Vec<UnpaidView>,
    /// Every line of a payroll of at most 1,000 lines; of a larger one, the
    /// rejected and warned lines first (up to 1,000), then accepted lines while
    /// room remains, in line order. The rest are read, paged, at `href`.
    pub lines: Vec<SubmittedLineView>,
    /// Lines counted in `totals` but not listed in `lines` (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub lines_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The lines a submission answer lists, and how many it leaves out, so the
/// answer to a 100,000-line payroll stays a few hundred kilobytes.
pub fn bounded_lines(mut lines: Vec<SubmittedLineView>) -> (Vec<SubmittedLineView>, usize) {
    let limit = crate::tabular::report::DETAIL_ROWS;
    if lines.len() <= limit {
        return (lines, 0);
    }
    let total = lines.len();
    let needs_look = |l: &SubmittedLineView| l.status != "accepted" || !l.reasons.is_empty();
    // Stable: lines that need a look keep their order before the others.
    lines.sort_by_key(|l| !needs_look(l));
    lines.truncate(limit);
    lines.sort_by_key(|l| l.line);
    (lines, total - limit)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemView {
    /// `base_pay`, `overtime_pay`, `social_insurance`, ...
    pub item: String,
    /// 基本工资, 加班工资, 社会保险个人缴费, ...
    pub label: String,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfirmationView {
    /// `pending`, `confirmed` or `disputed`; `not_applicable` for a rejected line.
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The worker's reason for a dispute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineApprovalView {
    /// `approved` (frozen: this is what will be paid) or `not_approved`.
    pub state: &'static str,
    /// Approved without the worker's confirmation (the project allows it).
    pub unconfirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

/// One line as read back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LineView {
    pub line: i32,
    /// `accepted` or `rejected`.
    pub status: String,
    /// Masked.
    pub id_number: String,
    pub name: String,
    /// Masked.
    pub card_number: String,
    #[schema(value_type = Option<String>)]
    pub days_worked: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub hours: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub gross: Option<Decimal>,
    pub gross_items: Vec<ItemView>,
    #[schema(value_type = Option<String>)]
    pub deductions: Option<Decimal>,
    pub deduction_items: Vec<ItemView>,
    #[schema(value_type = Option<String>)]
    pub net: Option<Decimal>,
    pub reasons: Vec<ReasonView>,
    pub confirmation: ConfirmationView,
    pub approval: LineApprovalView,
    /// `not_payable` (rejected), `awaiting_approval`, `awaiting_disbursement`
    /// (approved, in no live attempt), `in_flight` (with the bank), `paid`
    /// (settled), or `failed` (the last attempt was rejected; see `payment_reason`).
    pub payment_status: &'static str,
    /// Why the last attempt failed, as the bank said (Chinese).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    pub approved_by: OrgSummary,
    pub at: DateTime<Utc>,
    pub allow_unconfirmed: bool,
    pub lines: i32,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConfirmationTotals {
    pub confirmed: usize,
    pub disputed: usize,
    pub pending: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApprovedTotals {
    pub lines: usize,
    pub unconfirmed: usize,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

/// One employer's payroll for the period, at one revision.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayrollView {
    pub employer: OrgSummary,
    pub revision: i32,
    /// Every revision submitted; the last is the current one.
    pub revisions: Vec<i32>,
    pub current: bool,
    /// `submitted`, `partly_approved`, `approved`; `superseded` for an earlier revision.
    pub status: &'static str,
    pub submitted_by: OrgSummary,
    pub submitted_at: DateTime<Utc>,
    /// `json`, `csv` or `xlsx`.
    pub source_format: String,
    pub totals: TotalsView,
    pub confirmations: ConfirmationTotals,
    pub approved: ApprovedTotals,
    pub attended_but_unpaid: Vec<UnpaidView>,
    pub approvals: Vec<ApprovalView>,
    /// The page's lines, in line order (`?limit=`, `?cursor=`); the totals
    /// above count every line.
    pub lines: Vec<LineView>,
    /// `cursor` for this payroll's next lines; null when none follow.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub project: String,
    pub period: String,
    pub payrolls: Vec<PayrollView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployerApprovalView {
    pub employer: OrgSummary,
    pub revision: i32,
    /// Lines frozen by this approval.
    pub approved: usize,
    /// Of those, approved without the worker's confirmation.
    pub approved_unconfirmed: usize,
    #[schema(value_type = String)]
    pub amount: Decimal,
    /// Accepted lines left out, waiting for the worker's confirmation.
    pub left_unconfirmed: usize,
    /// Accepted lines left out because the worker disputes them.
    pub left_disputed: usize,
    /// Lines frozen by an earlier approval.
    pub already_approved: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalResponse {
    pub project: String,
    pub period: String,
    /// The project's setting in force.
    pub allow_unconfirmed: bool,
    pub approved: usize,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub payrolls: Vec<EmployerApprovalView>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayrollSettings {
    /// Whether approval may freeze lines the worker has not confirmed (they are
    /// marked `unconfirmed`). Off by default: the law asks for the worker's signature.
    pub allow_unconfirmed_approval: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PaySlipWorker {
    pub name: String,
    /// Masked.
    pub id_number: String,
    /// Masked.
    pub phone: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WorkingTime {
    #[schema(value_type = Option<String>)]
    pub days_worked: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub hours: Option<Decimal>,
}

/// 工资清单: what the worker is told about his pay (条例 art. 15 fields).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaySlip {
    pub title: &'static str,
    pub project: OrgSummaryProject,
    /// 用人单位.
    pub employer: OrgSummary,
    /// 工资所属期 (YYYY-MM).
    pub period: String,
    pub revision: i32,
    /// Whether this is the payroll's current revision.
    pub current: bool,
    /// 发放日期: the project's payday in the month after the period.
    pub pay_date: Option<NaiveDate>,
    pub worker: PaySlipWorker,
    /// 工作时间.
    pub working_time: WorkingTime,
    /// 应发工资项目和数额.
    pub gross_items: Vec<ItemView>,
    #[schema(value_type = Option<String>)]
    pub gross: Option<Decimal>,
    /// 代扣、代缴、扣除项目和数额.
    pub deduction_items: Vec<ItemView>,
    #[schema(value_type = Option<String>)]
    pub deductions: Option<Decimal>,
    /// 实发工资.
    #[schema(value_type = Option<String>)]
    pub net: Option<Decimal>,
    /// The card paid to, masked.
    pub card_number: String,
    /// `accepted` or `rejected` by matching.
    pub status: String,
    pub reasons: Vec<ReasonView>,
    /// 本人签字确认.
    pub confirmation: ConfirmationView,
    pub approval: LineApprovalView,
    pub payment_status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgSummaryProject {
    pub code: String,
    pub name: String,
}

#[cfg(test)]
mod bounded_tests {
    use super::*;

    fn line(n: usize, status: &'static str) -> SubmittedLineView {
        SubmittedLineView {
            line: n,
            status,
            id_number: String::new(),
            name: format!("工人{n}"),
            net: None,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn a_large_answer_lists_every_rejected_line_and_fills_up_with_accepted_ones() {
        let lines: Vec<_> = (1..=1500)
            .map(|n| line(n, if n % 500 == 0 { "rejected" } else { "accepted" }))
            .collect();
        let (listed, omitted) = bounded_lines(lines);
        assert_eq!((listed.len(), omitted), (1000, 500));
        for n in [500, 1000, 1500] {
            assert!(
                listed.iter().any(|l| l.line == n),
                "rejected line {n} listed"
            );
        }
        assert!(
            listed.windows(2).all(|w| w[0].line < w[1].line),
            "in line order"
        );
    }

    #[test]
    fn a_small_answer_is_whole() {
        let lines: Vec<_> = (1..=14).map(|n| line(n, "accepted")).collect();
        let (listed, omitted) = bounded_lines(lines);
        assert_eq!((listed.len(), omitted), (14, 0));
    }
}
