//! Monthly payrolls (工资支付表):
//!
//! - `POST /v1/projects/{code}/payrolls`: submit (JSON, CSV, XLSX), with `Idempotency-Key`;
//!   every line is matched against the roster and attendance
//!   ([`crate::domain::payroll`]) and each accepted line gets a confirmation token.
//! - `GET /v1/projects/{code}/payrolls/{period}`: the period's payrolls with every
//!   line's match result, confirmation and approval; `?format=csv|xlsx` exports.
//! - `POST /v1/projects/{code}/payrolls/{period}/approve`: the general contractor
//!   freezes the lines that will be paid.
//! - `GET /v1/projects/{code}/payrolls/{period}/payslips/{id_number}`: a worker's pay slip.
//! - `GET|PUT /v1/projects/{code}/payroll-settings`: whether unconfirmed lines may be approved.

use std::collections::{BTreeMap, HashMap, HashSet};

use actix_web::http::{header, StatusCode};
use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use rand::RngCore;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::body;
use super::error::{ApiError, Problem};
use super::fields::{self, Collector, FieldError};
use super::projects::{self, OrgSummary};
use super::spreadsheet::{self, Cell};
use super::tabular::{self, Column, RawRow, RowProblem};
use super::AppState;
use crate::access::ProjectRole;
use crate::db::organizations::Organization;
use crate::db::payrolls::{LineState, NewLine, NewPayroll, Payroll};
use crate::db::projects::Project;
use crate::db::{self, audit, idempotency};
use crate::domain::payroll::{
    self as rules, Context, ItemKind, LineMatch, PayItem, Thresholds, Totals, UnpaidWorker,
};
use crate::domain::{mask, Money, Period, ResidentId};
use crate::error::{AppError, ErrorCode};

/// Payroll columns: JSON keys, and the headers of a usual 工资表 accepted in CSV and XLSX.
pub const COLUMNS: &[Column] = &[
    Column {
        key: "id_number",
        aliases: &["身份证号", "身份证号码", "证件号码", "公民身份号码"],
        required: true,
    },
    Column {
        key: "name",
        aliases: &["姓名"],
        required: true,
    },
    Column {
        key: "card_number",
        aliases: &[
            "银行卡号",
            "工资卡号",
            "卡号",
            "银行账号",
            "bank_card_number",
        ],
        required: true,
    },
    Column {
        key: "days_worked",
        aliases: &[
            "出勤天数",
            "出勤天数(天)",
            "出勤天数（天）",
            "工作天数",
            "天数",
        ],
        required: true,
    },
    Column {
        key: "hours",
        aliases: &["工时", "出勤工时", "工作时长", "小时"],
        required: false,
    },
    Column {
        key: "base_pay",
        aliases: &["基本工资", "计时工资", "岗位工资"],
        required: false,
    },
    Column {
        key: "piece_pay",
        aliases: &["计件工资"],
        required: false,
    },
    Column {
        key: "overtime_pay",
        aliases: &["加班工资", "加班费"],
        required: false,
    },
    Column {
        key: "bonus",
        aliases: &["奖金", "绩效工资", "绩效"],
        required: false,
    },
    Column {
        key: "allowance",
        aliases: &["津贴", "补贴", "津贴补贴", "津补贴"],
        required: false,
    },
    Column {
        key: "gross",
        aliases: &[
            "应发工资",
            "应发金额",
            "应发合计",
            "应发工资(元)",
            "应发工资（元）",
        ],
        required: true,
    },
    Column {
        key: "social_insurance",
        aliases: &["社保", "社会保险", "代扣社保", "社保个人部分"],
        required: false,
    },
    Column {
        key: "housing_fund",
        aliases: &["公积金", "住房公积金"],
        required: false,
    },
    Column {
        key: "income_tax",
        aliases: &["个税", "个人所得税", "代扣个税"],
        required: false,
    },
    Column {
        key: "advance",
        aliases: &["借支", "预支", "已预支"],
        required: false,
    },
    Column {
        key: "other_deductions",
        aliases: &["其他扣款"],
        required: false,
    },
    Column {
        key: "deductions",
        aliases: &[
            "扣款",
            "扣款合计",
            "应扣合计",
            "代扣款",
            "扣款(元)",
            "扣款（元）",
        ],
        required: false,
    },
    Column {
        key: "net",
        aliases: &[
            "实发工资",
            "实发金额",
            "实发合计",
            "实发工资(元)",
            "实发工资（元）",
        ],
        required: true,
    },
    // Columns a paper 工资表 has that the roster already holds or that only
    // mean something on paper: accepted and not used.
    Column {
        key: "team",
        aliases: &["班组"],
        required: false,
    },
    Column {
        key: "trade",
        aliases: &["工种"],
        required: false,
    },
    Column {
        key: "card_bank",
        aliases: &["开户行", "开户银行"],
        required: false,
    },
    Column {
        key: "phone",
        aliases: &["联系电话", "手机号", "手机号码"],
        required: false,
    },
    Column {
        key: "daily_rate",
        aliases: &["日工资", "日工资标准", "工价", "单价"],
        required: false,
    },
    Column {
        key: "signature",
        aliases: &["本人签字", "签字", "签名", "领款人签字", "工人签字"],
        required: false,
    },
];

/// Who may submit: the general contractor (for itself or an attached
/// subcontractor) and subcontractors (for themselves).
fn may_submit(role: ProjectRole) -> bool {
    role.can_write_workers()
}

// ---------------------------------------------------------------- views

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
struct StoredUnpaid {
    worker_id: i64,
    id_number: String,
    name: String,
    attendance_days: u32,
    #[serde(with = "rust_decimal::serde::str")]
    attendance_hours: Decimal,
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
    /// For accepted lines: the worker's confirmation token, shown only here and
    /// only once (only its hash is stored). In a real deployment it goes to the
    /// worker by SMS or WeChat as a link; he confirms with `POST /v1/confirmations/{token}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation_token: Option<String>,
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
    pub lines: Vec<SubmittedLineView>,
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
    /// `not_payable` (rejected), `awaiting_approval`, or `awaiting_disbursement`
    /// (approved; disbursement comes with the bank batches).
    pub payment_status: &'static str,
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
    pub lines: Vec<LineView>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodView {
    pub project: String,
    pub period: String,
    pub payrolls: Vec<PayrollView>,
}

// ---------------------------------------------------------------- submission

/// A JSON submission. CSV and XLSX bodies carry only the lines; `period`
/// (and `employer_uscc`) then go in the query string.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitPayroll {
    /// `YYYY-MM`.
    #[schema(example = "2026-10")]
    pub period: Option<String>,
    /// The employer whose payroll this is: a subcontractor's own USCC, or
    /// for the general contractor its own (the default) or an attached subcontractor's.
    pub employer_uscc: Option<String>,
    /// Lines: `id_number`, `name`, `card_number`, `days_worked`, `hours`,
    /// `gross` (or items `base_pay`, `piece_pay`, `overtime_pay`, `bonus`, `allowance`),
    /// `deductions` (or items `social_insurance`, `housing_fund`, `income_tax`,
    /// `advance`, `other_deductions`), `net`. Amounts as strings ("5500.00") or numbers.
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubmitQuery {
    /// `YYYY-MM`; required for CSV and XLSX bodies.
    pub period: Option<String>,
    pub employer_uscc: Option<String>,
}

fn query<T: serde::de::DeserializeOwned + Default>(req: &HttpRequest) -> Result<T, ApiError> {
    if req.query_string().is_empty() {
        return Ok(T::default());
    }
    web::Query::<T>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .map_err(|e| ApiError::bad_request("INVALID_QUERY", e.to_string()))
}

/// A period in `YYYY-MM`, not after the current month in China.
fn parse_period(value: &str, today: NaiveDate) -> Result<Period, ApiError> {
    let period = Period::parse(value)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    match Period::containing(today) {
        Some(current) if period > current => Err(ApiError::invalid_field(
            "period",
            "PERIOD_IN_FUTURE",
            format!("{period} has not begun yet; the current period is {current}"),
        )),
        _ => Ok(period),
    }
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or("");
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(ApiError::bad_request(
            "INVALID_IDEMPOTENCY_KEY",
            "Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice)",
        ));
    }
    Ok(Some(key.to_owned()))
}

/// A line as submitted: readable (every field parsed) or not.
enum Submitted {
    Readable(rules::Line),
    Unreadable(Unreadable),
}

/// What could be read of a line with faults, kept as given.
struct Unreadable {
    line_no: usize,
    id_number: String,
    name: String,
    card_number: String,
    days_worked: Option<Decimal>,
    hours: Option<Decimal>,
    gross: Option<Money>,
    deductions: Option<Money>,
    net: Option<Money>,
    problems: Vec<RowProblem>,
}

fn amount(field: &'static str, value: &str, allow_negative: bool) -> Result<Money, FieldError> {
    let money = Money::parse(value).map_err(|e| FieldError {
        field,
        code: e.code(),
        reason: format!("{field}: {e}"),
    })?;
    if money.is_negative() && !allow_negative {
        return Err(FieldError {
            field,
            code: "NEGATIVE",
            reason: format!("{field} must not be negative"),
        });
    }
    Ok(money)
}

fn optional_amount(field: &'static str, value: Option<&str>) -> Result<Option<Money>, FieldError> {
    value.map(|v| amount(field, v, false)).transpose()
}

fn clip(value: Option<&str>, max_chars: usize) -> String {
    value.unwrap_or("").chars().take(max_chars).collect()
}

fn parse_line(row: &RawRow) -> Submitted {
    let mut c = Collector::default();
    let id_number = c.keep(
        fields::required("id_number", row.get("id_number"))
            .and_then(|v| fields::resident_id("id_number", v)),
    );
    let name =
        c.keep(fields::required("name", row.get("name")).and_then(|v| fields::text("name", v, 50)));
    let card = c.keep(
        fields::required("card_number", row.get("card_number"))
            .and_then(|v| fields::bank_card("card_number", v)),
    );
    let days_worked = c.keep(
        fields::required("days_worked", row.get("days_worked"))
            .and_then(|v| fields::decimal("days_worked", v, 2, Decimal::ZERO, Decimal::from(31))),
    );
    let hours = c.keep(
        row.get("hours")
            .map(|v| fields::decimal("hours", v, 2, Decimal::ZERO, Decimal::from(744)))
            .transpose(),
    );
    let items = |kinds: [ItemKind; 5], c: &mut Collector| -> Vec<PayItem> {
        kinds
            .into_iter()
            .filter_map(|kind| {
                let value = row.get(kind.key())?;
                c.keep(amount(kind.key(), value, false))
                    .map(|amount| PayItem { kind, amount })
            })
            .collect()
    };
    let gross_items = items(ItemKind::GROSS, &mut c);
    let deduction_items = items(ItemKind::DEDUCTIONS, &mut c);
    let gross = c.keep(optional_amount("gross", row.get("gross")));
    if row.get("gross").is_none() && ItemKind::GROSS.iter().all(|k| row.get(k.key()).is_none()) {
        c.keep::<()>(Err(FieldError {
            field: "gross",
            code: "MISSING_FIELD",
            reason: "gross (应发工资) is required, or its items (base_pay, overtime_pay, ...)"
                .to_owned(),
        }));
    }
    let deductions = c.keep(optional_amount("deductions", row.get("deductions")));
    let net = c.keep(fields::required("net", row.get("net")).and_then(|v| amount("net", v, true)));

    let mut problems = row.problems.clone();
    let clean = c.is_empty() && problems.is_empty();
    problems.extend(c.into_problems());
    match (
        id_number,
        name,
        card,
        days_worked,
        hours,
        gross,
        deductions,
        net,
    ) {
        (
            Some(id_number),
            Some(name),
            Some(card),
            Some(days_worked),
            Some(hours),
            Some(gross),
            Some(deductions),
            Some(net),
        ) if clean => Submitted::Readable(rules::Line {
            line_no: row.number,
            id_number,
            name,
            card,
            days_worked,
            hours,
            gross,
            gross_items,
            deductions,
            deduction_items,
            net,
        }),
        (_, _, _, days_worked, hours, gross, deductions, net) => {
            Submitted::Unreadable(Unreadable {
                line_no: row.number,
                id_number: clip(row.get("id_number"), 40),
                name: clip(row.get("name"), 100),
                card_number: clip(row.get("card_number"), 40),
                days_worked,
                hours: hours.flatten(),
                gross: gross.flatten(),
                deductions: deductions.flatten(),
                net,
                problems,
            })
        }
    }
}

fn items_json(items: &[PayItem]) -> serde_json::Value {
    serde_json::Value::Array(
        items
            .iter()
            .map(|i| {
                serde_json::json!({
                    "item": i.kind.key(),
                    "label": i.kind.label(),
                    "amount": i.amount.to_string(),
                })
            })
            .collect(),
    )
}

fn finding_views(m: &LineMatch) -> Vec<ReasonView> {
    m.findings
        .iter()
        .map(|f| ReasonView {
            code: f.code.as_str().to_owned(),
            severity: f.severity().as_str().to_owned(),
            field: f.field.map(str::to_owned),
            message: f.message.clone(),
        })
        .collect()
}

fn problem_views(problems: &[RowProblem]) -> Vec<ReasonView> {
    problems
        .iter()
        .map(|p| ReasonView {
            code: p.code.clone(),
            severity: "error".to_owned(),
            field: p.field.clone(),
            message: p.reason.clone(),
        })
        .collect()
}

/// A confirmation token: 32 random bytes, base64url. Returns it and its SHA-256.
pub fn new_token(rng: &mut impl RngCore) -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 a token is stored and looked up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn payroll_href(code: &str, period: &str, employer_uscc: &str, revision: i32) -> String {
    format!(
        "/v1/projects/{code}/payrolls/{period}?employer_uscc={employer_uscc}&revision={revision}"
    )
}

/// Everything a submission needs once its body is read.
struct Submission {
    project: Project,
    employer_uscc: Option<String>,
    period: Period,
    source_format: &'static str,
    lines: Vec<Submitted>,
    caller: Organization,
    role: ProjectRole,
    idempotency_key: Option<String>,
    /// The business time the submission is recorded at.
    now: DateTime<Utc>,
}

/// Which organisation's payroll this is, as the caller may name it.
fn resolve_employer(
    conn: &mut PgConnection,
    project: &Project,
    caller: &Organization,
    role: ProjectRole,
    employer_uscc: Option<&str>,
) -> Result<Organization, AppError> {
    if role == ProjectRole::Subcontractor {
        return match employer_uscc {
            Some(u) if u != caller.uscc => Err(AppError::forbidden(
                "a subcontractor submits only its own payroll",
            )
            .with_field("employer_uscc")),
            _ => Ok(caller.clone()),
        };
    }
    let Some(uscc) = employer_uscc else {
        return Ok(caller.clone());
    };
    if uscc == caller.uscc {
        return Ok(caller.clone());
    }
    let found = db::organizations::find_by_uscc(conn, uscc)?;
    match found {
        Some(org) if db::projects::is_subcontractor(conn, project.id, org.id)? => Ok(org),
        _ => Err(AppError::field(
            "employer_uscc",
            ErrorCode::EmployerNotOnProject,
            "the employer is neither the general contractor nor a subcontractor attached to this project",
        )),
    }
}

/// Matches and stores one submission in one transaction; returns the answer.
fn store_submission(conn: &mut PgConnection, s: Submission) -> Result<serde_json::Value, AppError> {
    let employer = resolve_employer(
        conn,
        &s.project,
        &s.caller,
        s.role,
        s.employer_uscc.as_deref(),
    )?;
    let minimum_wage = Money::try_from(s.project.minimum_monthly_wage)
        .map_err(|_| AppError::Invariant("a project's minimum wage is a valid amount"))?;
    let period_text = s.period.to_string();

    conn.transaction(|conn| {
        db::payrolls::lock_period(conn, s.project.id, employer.id, s.period)?;
        if db::payrolls::has_approval(conn, s.project.id, employer.id, s.period)? {
            return Err(AppError::new(
                ErrorCode::PayrollApproved,
                format!(
                    "the {period_text} payroll of this employer has been approved, and approved lines are frozen; a new revision is not accepted"
                ),
            ));
        }
        let revision =
            db::payrolls::latest_revision(conn, s.project.id, employer.id, &period_text)? + 1;
        let roster = db::payrolls::roster_for_matching(conn, s.project.id)?;
        let attendance = db::payrolls::attendance_summary(conn, s.project.id, s.period)?;
        let thresholds = Thresholds::with_minimum_wage(minimum_wage);
        let ctx = Context {
            period: s.period,
            employer_id: employer.id,
            roster: &roster,
            attendance: &attendance,
            thresholds: &thresholds,
        };

        let readable: Vec<rules::Line> = s
            .lines
            .iter()
            .filter_map(|l| match l {
                Submitted::Readable(line) => Some(line.clone()),
                Submitted::Unreadable(_) => None,
            })
            .collect();
        let matches = rules::match_lines(&ctx, &readable);
        let mut with_lines: HashSet<String> = HashSet::with_capacity(s.lines.len());
        for l in &s.lines {
            match l {
                Submitted::Readable(line) => with_lines.insert(line.id_number.as_str().to_owned()),
                Submitted::Unreadable(u) => with_lines.insert(u.id_number.trim().to_uppercase()),
            };
        }
        let with_lines_ref: HashSet<&str> = with_lines.iter().map(String::as_str).collect();
        let unpaid: Vec<StoredUnpaid> = rules::attended_but_unpaid(&ctx, &with_lines_ref)
            .into_iter()
            .map(|u: UnpaidWorker| StoredUnpaid {
                worker_id: u.worker_id,
                id_number: u.id_number,
                name: u.name,
                attendance_days: u.attendance.days,
                attendance_hours: u.attendance.hours,
            })
            .collect();

        // Lines to store and to answer, in submission order.
        let mut rng = rand::thread_rng();
        let mut totals = Totals {
            attended_but_unpaid: unpaid.len(),
            ..Totals::default()
        };
        let mut new_lines: Vec<NewLine> = Vec::with_capacity(s.lines.len());
        let mut answers: Vec<SubmittedLineView> = Vec::with_capacity(s.lines.len());
        let mut matches = matches.into_iter();
        for submitted in &s.lines {
            let (new_line, answer) = match submitted {
                Submitted::Readable(line) => {
                    let Some(m) = matches.next() else {
                        return Err(AppError::Invariant("every readable line has a match"));
                    };
                    let accepted = m.accepted();
                    let reasons = finding_views(&m);
                    let token = accepted.then(|| new_token(&mut rng));
                    totals = match totals.add(accepted, Some(line.net), m.warnings()) {
                        Some(t) => t,
                        None => return Err(amounts_out_of_range()),
                    };
                    let status = if accepted { "accepted" } else { "rejected" };
                    (
                        NewLine {
                            payroll_id: 0,
                            line_no: to_i32(line.line_no),
                            worker_id: m.worker_id,
                            id_number: line.id_number.as_str().to_owned(),
                            name: line.name.clone(),
                            card_number: line.card.as_str().to_owned(),
                            days_worked: Some(line.days_worked),
                            hours: line.hours,
                            gross: m.gross.map(Money::as_decimal),
                            deductions: m.deductions.map(Money::as_decimal),
                            net: Some(line.net.as_decimal()),
                            gross_items: items_json(&line.gross_items),
                            deduction_items: items_json(&line.deduction_items),
                            status,
                            reasons: serde_json::to_value(&reasons).unwrap_or_default(),
                            confirmation_token_hash: token.as_ref().map(|(_, h)| h.clone()),
                        },
                        SubmittedLineView {
                            line: line.line_no,
                            status,
                            id_number: line.id_number.masked(),
                            name: line.name.clone(),
                            net: Some(line.net.as_decimal()),
                            reasons,
                            confirmation_token: token.map(|(t, _)| t),
                        },
                    )
                }
                Submitted::Unreadable(u) => {
                    let reasons = problem_views(&u.problems);
                    totals = match totals.add(false, u.net, 0) {
                        Some(t) => t,
                        None => return Err(amounts_out_of_range()),
                    };
                    (
                        NewLine {
                            payroll_id: 0,
                            line_no: to_i32(u.line_no),
                            worker_id: None,
                            id_number: u.id_number.clone(),
                            name: u.name.clone(),
                            card_number: u.card_number.clone(),
                            days_worked: u.days_worked,
                            hours: u.hours,
                            gross: u.gross.map(Money::as_decimal),
                            deductions: u.deductions.map(Money::as_decimal),
                            net: u.net.map(Money::as_decimal),
                            gross_items: serde_json::Value::Array(Vec::new()),
                            deduction_items: serde_json::Value::Array(Vec::new()),
                            status: "rejected",
                            reasons: serde_json::to_value(&reasons).unwrap_or_default(),
                            confirmation_token_hash: None,
                        },
                        SubmittedLineView {
                            line: u.line_no,
                            status: "rejected",
                            id_number: mask::mask_middle(u.id_number.trim(), 4, 4),
                            name: u.name.clone(),
                            net: u.net.map(Money::as_decimal),
                            reasons,
                            confirmation_token: None,
                        },
                    )
                }
            };
            new_lines.push(new_line);
            answers.push(answer);
        }

        let payroll = db::payrolls::insert(
            conn,
            &NewPayroll {
                project_id: s.project.id,
                employer_id: employer.id,
                period: &period_text,
                revision,
                submitted_by: s.caller.id,
                source_format: s.source_format,
                line_count: to_i32(totals.lines),
                accepted_count: to_i32(totals.accepted),
                rejected_count: to_i32(totals.rejected),
                warning_count: to_i32(totals.warnings),
                total_net: totals.amount.as_decimal(),
                accepted_net: totals.accepted_amount.as_decimal(),
                attended_but_unpaid: serde_json::to_value(&unpaid).unwrap_or_default(),
                submitted_at: s.now,
            },
        )?;
        for line in &mut new_lines {
            line.payroll_id = payroll.id;
        }
        db::payrolls::insert_lines(conn, &new_lines)?;
        audit::record(
            conn,
            s.now,
            Some(s.caller.id),
            "payroll",
            Some(payroll.id),
            "submitted",
            serde_json::json!({
                "project": s.project.code,
                "employer_uscc": employer.uscc,
                "period": period_text,
                "revision": revision,
                "lines": totals.lines,
                "accepted": totals.accepted,
                "rejected": totals.rejected,
                "accepted_net": totals.accepted_amount.to_string(),
            }),
        )?;

        let view = SubmissionView {
            href: payroll_href(&s.project.code, &period_text, &employer.uscc, revision),
            project: s.project.code.clone(),
            period: period_text.clone(),
            employer: (&employer).into(),
            revision,
            submitted_at: payroll.submitted_at,
            totals: totals_view(&totals),
            attended_but_unpaid: unpaid.iter().map(UnpaidView::from).collect(),
            lines: answers,
        };
        let body = serde_json::to_value(&view).unwrap_or_default();
        if let Some(key) = &s.idempotency_key {
            idempotency::complete(conn, s.caller.id, key, 201, &body, s.now)?;
        }
        Ok(body)
    })
}

fn amounts_out_of_range() -> AppError {
    AppError::field(
        "lines",
        ErrorCode::OutOfRange,
        "the payroll's amounts add up to more than can be paid",
    )
}

fn totals_view(t: &Totals) -> TotalsView {
    TotalsView {
        lines: t.lines,
        accepted: t.accepted,
        rejected: t.rejected,
        warnings: t.warnings,
        amount: t.amount.as_decimal(),
        accepted_amount: t.accepted_amount.as_decimal(),
        attended_but_unpaid: t.attended_but_unpaid,
    }
}

/// The answer stored under an idempotency key, sent again.
fn replay(status: u16, body: serde_json::Value) -> HttpResponse {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = HttpResponse::build(status);
    response.insert_header(("Idempotent-Replayed", "true"));
    if status.is_client_error() || status.is_server_error() {
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
    } else {
        response.content_type("application/json");
        if let Some(href) = body.get("href").and_then(|h| h.as_str()) {
            response.insert_header((header::LOCATION, href.to_owned()));
        }
    }
    response.body(body.to_string())
}

/// Submit a monthly payroll (工资支付表) for matching.
///
/// JSON: `{"period": "2026-10", "employer_uscc": "...", "lines": [...]}`. CSV or XLSX: the
/// lines as a table with English keys or the Chinese headers of a usual 工资表 (姓名,
/// 身份证号, 银行卡号, 出勤天数, 应发工资, 扣款, 实发工资; a title row above the header
/// and a 合计 row are fine in XLSX), with `?period=YYYY-MM`. Every line comes back
/// accepted or rejected with stable reason codes; accepted lines carry the worker's
/// confirmation token, shown only in this answer. A later submission for the same
/// employer and period is a new revision. With `Idempotency-Key`, a retry of the same
/// request gets the first answer again.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), SubmitQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; the same key with the same request returns the first answer")),
    request_body(content = SubmitPayroll, description = "application/json; or text/csv, or application/vnd.openxmlformats-officedocument.spreadsheetml.sheet with ?period="),
    responses(
        (status = 201, description = "stored as a new revision, every line matched", body = SubmissionView),
        (status = 400, description = "unreadable body, missing column", body = Problem),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "PAYROLL_APPROVED, or IDEMPOTENCY_KEY_IN_USE while the first request runs", body = Problem),
        (status = 415, body = Problem),
        (status = 422, description = "bad or future period, IDEMPOTENCY_KEY_REUSED with another request", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls")]
pub async fn submit(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !may_submit(role) {
        return Err(ApiError::forbidden(
            "only the general contractor and its subcontractors submit payrolls",
        ));
    }
    let key = idempotency_key(&req)?;
    if let Some(key) = &key {
        let hash = idempotency::request_hash(&[
            req.method().as_str().as_bytes(),
            req.path().as_bytes(),
            req.query_string().as_bytes(),
            body::media_type(&req).as_bytes(),
            &bytes,
        ]);
        let (org, key, now) = (caller.id(), key.clone(), state.clock.now());
        let claim = db::run(&state.pool, move |conn| {
            idempotency::claim(conn, org, &key, &hash, now)
        })
        .await?;
        match claim {
            idempotency::Claim::Fresh => {}
            idempotency::Claim::Replay { status, body } => return Ok(replay(status, body)),
            idempotency::Claim::Mismatch => {
                return Err(ApiError::invalid_field(
                    "Idempotency-Key",
                    "IDEMPOTENCY_KEY_REUSED",
                    "this Idempotency-Key was used for a different request; use a new key for a new request",
                ))
            }
            idempotency::Claim::Running => {
                return Err(ApiError::conflict(
                    "IDEMPOTENCY_KEY_IN_USE",
                    "a request with this Idempotency-Key is still being processed; retry shortly",
                ))
            }
        }
    }

    let result = submit_claimed(&req, &bytes, project, role, &caller, &state, key.clone()).await;
    if let Some(key) = key {
        // A success was recorded with the payroll, in its transaction.
        if let Err(e) = &result {
            let (org, status, body) = (
                caller.id(),
                e.status,
                serde_json::to_value(e.problem()).unwrap_or_default(),
            );
            let now = state.clock.now();
            let recorded = db::run(&state.pool, move |conn| {
                if status.is_client_error() {
                    idempotency::complete(conn, org, &key, status.as_u16(), &body, now)
                } else {
                    idempotency::release(conn, org, &key)
                }
            })
            .await;
            if let Err(e) = recorded {
                tracing::error!(error = %e, "recording the idempotent answer");
            }
        }
    }
    let body = result?;
    let mut response = HttpResponse::Created();
    if let Some(href) = body.get("href").and_then(|h| h.as_str()) {
        response.insert_header((header::LOCATION, href.to_owned()));
    }
    Ok(response.json(body))
}

async fn submit_claimed(
    req: &HttpRequest,
    bytes: &[u8],
    project: Project,
    role: ProjectRole,
    caller: &Caller,
    state: &AppState,
    idempotency_key: Option<String>,
) -> Result<serde_json::Value, ApiError> {
    let q: SubmitQuery = query(req)?;
    let media = body::media_type(req);
    let (period, employer_uscc, rows, source_format) = if body::is_json(&media) {
        let input: SubmitPayroll = body::parse_json(bytes)?;
        let period = match (input.period, q.period) {
            (Some(a), Some(b)) if a.trim() != b.trim() => {
                return Err(ApiError::invalid_field(
                    "period",
                    "PERIOD_MISMATCH",
                    "the body and the query string name different periods",
                ))
            }
            (a, b) => a.or(b),
        };
        let rows = tabular::rows_from_json_items(input.lines, COLUMNS);
        (
            period,
            input.employer_uscc.or(q.employer_uscc),
            rows,
            "json",
        )
    } else {
        let rows = tabular::read_rows(req, bytes, COLUMNS, "lines")?;
        let format = if spreadsheet::is_spreadsheet(&media) {
            "xlsx"
        } else {
            "csv"
        };
        (q.period, q.employer_uscc, rows, format)
    };
    let period = period.ok_or_else(|| {
        ApiError::invalid_field(
            "period",
            "MISSING_FIELD",
            "period (YYYY-MM) is required: in the JSON body, or as ?period= with CSV and XLSX",
        )
    })?;
    let period = parse_period(&period, state.clock.today())?;
    let employer_uscc = employer_uscc
        .map(|u| fields::uscc("employer_uscc", &u).map(|u| u.as_str().to_owned()))
        .transpose()?;
    if rows.is_empty() {
        return Err(ApiError::invalid_field(
            "lines",
            "NO_LINES",
            "the payroll has no lines",
        ));
    }
    let lines: Vec<Submitted> = rows.iter().map(parse_line).collect();
    let submission = Submission {
        project,
        employer_uscc,
        period,
        source_format,
        lines,
        caller: caller.0.clone(),
        role,
        idempotency_key,
        now: state.clock.now(),
    };
    Ok(db::run(&state.pool, move |conn| store_submission(conn, submission)).await?)
}

// ---------------------------------------------------------------- reading

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReadQuery {
    /// Only this employer's payroll.
    pub employer_uscc: Option<String>,
    /// An earlier revision instead of the current one.
    pub revision: Option<i32>,
    /// `json` (default), `csv` or `xlsx`; the Accept header works too.
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Xlsx,
}

fn format_of(req: &HttpRequest, asked: Option<&str>) -> Result<Format, ApiError> {
    match asked.map(str::to_ascii_lowercase).as_deref() {
        Some("json") => return Ok(Format::Json),
        Some("csv") => return Ok(Format::Csv),
        Some("xlsx") => return Ok(Format::Xlsx),
        Some(other) => {
            return Err(ApiError::bad_request(
                "INVALID_FORMAT",
                format!("format {other:?} is not offered; use json, csv or xlsx"),
            )
            .with_field("format"))
        }
        None => {}
    }
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(if accept.contains(spreadsheet::XLSX) {
        Format::Xlsx
    } else if accept.contains("text/csv") {
        Format::Csv
    } else {
        Format::Json
    })
}

/// The payrolls of a period the caller may see: every employer's for the
/// contractor, owner and regulators, a subcontractor's own only.
fn visible_payrolls(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller: &Organization,
    period: Period,
    employer_uscc: Option<&str>,
) -> Result<Vec<Payroll>, AppError> {
    let mut employer_id = match employer_uscc {
        None => None,
        Some(uscc) => match db::organizations::find_by_uscc(conn, uscc)? {
            Some(org) => Some(org.id),
            None => return Err(AppError::not_found("a payroll of this employer")),
        },
    };
    if role == ProjectRole::Subcontractor {
        match employer_id {
            Some(id) if id != caller.id => {
                return Err(AppError::not_found("a payroll of this employer"))
            }
            _ => employer_id = Some(caller.id),
        }
    }
    Ok(db::payrolls::for_period(
        conn,
        project.id,
        period,
        employer_id,
    )?)
}

/// For each employer, the revision asked for (or the latest), with all revision numbers.
fn pick_revisions(all: Vec<Payroll>, revision: Option<i32>) -> Vec<(Payroll, Vec<i32>)> {
    let mut by_employer: BTreeMap<i64, Vec<Payroll>> = BTreeMap::new();
    for p in all {
        by_employer.entry(p.employer_id).or_default().push(p);
    }
    by_employer
        .into_values()
        .filter_map(|mut revisions| {
            let numbers: Vec<i32> = revisions.iter().map(|p| p.revision).collect();
            let index = match revision {
                Some(r) => revisions.iter().position(|p| p.revision == r)?,
                None => revisions.len().checked_sub(1)?,
            };
            Some((revisions.swap_remove(index), numbers))
        })
        .collect()
}

struct Orgs(HashMap<i64, OrgSummary>);

impl Orgs {
    fn get(&mut self, conn: &mut PgConnection, id: i64) -> Result<OrgSummary, AppError> {
        if let Some(o) = self.0.get(&id) {
            return Ok(OrgSummary {
                uscc: o.uscc.clone(),
                name: o.name.clone(),
            });
        }
        let org = db::organizations::find_by_id(conn, id)?
            .ok_or(AppError::Invariant("a payroll's organisations exist"))?;
        let summary = OrgSummary::from(&org);
        self.0.insert(
            id,
            OrgSummary {
                uscc: org.uscc,
                name: org.name,
            },
        );
        Ok(summary)
    }
}

fn item_views(value: &serde_json::Value) -> Vec<ItemView> {
    value
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some(ItemView {
                        item: i.get("item")?.as_str()?.to_owned(),
                        label: i.get("label")?.as_str()?.to_owned(),
                        amount: i.get("amount")?.as_str()?.parse().ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn reason_views(value: &serde_json::Value) -> Vec<ReasonView> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

fn line_view(state: &LineState, approvals: &HashMap<i64, DateTime<Utc>>) -> LineView {
    let line = &state.line;
    let accepted = line.status == "accepted";
    let confirmation = match (&state.confirmation, accepted) {
        (Some(c), _) => ConfirmationView {
            state: if c.action == "confirmed" {
                "confirmed"
            } else {
                "disputed"
            },
            channel: Some(c.channel.clone()),
            at: Some(c.at),
            reason: c.reason.clone(),
        },
        (None, true) => ConfirmationView {
            state: "pending",
            channel: None,
            at: None,
            reason: None,
        },
        (None, false) => ConfirmationView {
            state: "not_applicable",
            channel: None,
            at: None,
            reason: None,
        },
    };
    let approval = match &state.approved {
        Some(a) => LineApprovalView {
            state: "approved",
            unconfirmed: a.unconfirmed,
            at: approvals.get(&a.approval_id).copied(),
        },
        None => LineApprovalView {
            state: "not_approved",
            unconfirmed: false,
            at: None,
        },
    };
    LineView {
        line: line.line_no,
        status: line.status.clone(),
        id_number: mask::mask_middle(line.id_number.trim(), 4, 4),
        name: line.name.clone(),
        card_number: mask::mask_middle(line.card_number.trim(), 4, 4),
        days_worked: line.days_worked,
        hours: line.hours,
        gross: line.gross,
        gross_items: item_views(&line.gross_items),
        deductions: line.deductions,
        deduction_items: item_views(&line.deduction_items),
        net: line.net,
        reasons: reason_views(&line.reasons),
        confirmation,
        payment_status: match (accepted, &state.approved) {
            (false, _) => "not_payable",
            (true, None) => "awaiting_approval",
            (true, Some(_)) => "awaiting_disbursement",
        },
        approval,
    }
}

fn period_view(
    conn: &mut PgConnection,
    project: &Project,
    period: Period,
    chosen: Vec<(Payroll, Vec<i32>)>,
) -> Result<PeriodView, AppError> {
    let ids: Vec<i64> = chosen.iter().map(|(p, _)| p.id).collect();
    let states = db::payrolls::line_states(conn, &ids)?;
    let approvals = db::payrolls::approvals(conn, &ids)?;
    let approval_at: HashMap<i64, DateTime<Utc>> = approvals.iter().map(|a| (a.id, a.at)).collect();
    let mut lines_by_payroll: HashMap<i64, Vec<LineView>> = HashMap::new();
    for s in &states {
        lines_by_payroll
            .entry(s.line.payroll_id)
            .or_default()
            .push(line_view(s, &approval_at));
    }
    let mut orgs = Orgs(HashMap::new());
    let mut payrolls = Vec::with_capacity(chosen.len());
    for (p, revisions) in chosen {
        let lines = lines_by_payroll.remove(&p.id).unwrap_or_default();
        let current = revisions.last() == Some(&p.revision);
        let confirmations = ConfirmationTotals {
            confirmed: lines
                .iter()
                .filter(|l| l.confirmation.state == "confirmed")
                .count(),
            disputed: lines
                .iter()
                .filter(|l| l.confirmation.state == "disputed")
                .count(),
            pending: lines
                .iter()
                .filter(|l| l.confirmation.state == "pending")
                .count(),
        };
        let approved_lines: Vec<&LineView> = lines
            .iter()
            .filter(|l| l.approval.state == "approved")
            .collect();
        let approved = ApprovedTotals {
            lines: approved_lines.len(),
            unconfirmed: approved_lines
                .iter()
                .filter(|l| l.approval.unconfirmed)
                .count(),
            amount: approved_lines.iter().filter_map(|l| l.net).sum(),
        };
        let accepted = usize::try_from(p.accepted_count).unwrap_or(0);
        let status = if !current {
            "superseded"
        } else if approved.lines == 0 {
            "submitted"
        } else if approved.lines < accepted {
            "partly_approved"
        } else {
            "approved"
        };
        let unpaid: Vec<StoredUnpaid> =
            serde_json::from_value(p.attended_but_unpaid.clone()).unwrap_or_default();
        let mut approval_views = Vec::new();
        for a in approvals.iter().filter(|a| a.payroll_id == p.id) {
            approval_views.push(ApprovalView {
                approved_by: orgs.get(conn, a.approved_by)?,
                at: a.at,
                allow_unconfirmed: a.allow_unconfirmed,
                lines: a.line_count,
                amount: a.amount,
            });
        }
        payrolls.push(PayrollView {
            employer: orgs.get(conn, p.employer_id)?,
            revision: p.revision,
            revisions,
            current,
            status,
            submitted_by: orgs.get(conn, p.submitted_by)?,
            submitted_at: p.submitted_at,
            source_format: p.source_format.clone(),
            totals: TotalsView {
                lines: usize::try_from(p.line_count).unwrap_or(0),
                accepted,
                rejected: usize::try_from(p.rejected_count).unwrap_or(0),
                warnings: usize::try_from(p.warning_count).unwrap_or(0),
                amount: p.total_net,
                accepted_amount: p.accepted_net,
                attended_but_unpaid: unpaid.len(),
            },
            confirmations,
            approved,
            attended_but_unpaid: unpaid.iter().map(UnpaidView::from).collect(),
            approvals: approval_views,
            lines,
        });
    }
    Ok(PeriodView {
        project: project.code.clone(),
        period: period.to_string(),
        payrolls,
    })
}

/// The export's columns: Chinese and English, as a reviewer's spreadsheet shows them.
pub const EXPORT_HEADER: &[&str] = &[
    "用工单位 employer",
    "版本 revision",
    "序号 line",
    "姓名 name",
    "身份证号 id_number",
    "银行卡号 card_number",
    "出勤天数 days_worked",
    "工时 hours",
    "应发工资 gross",
    "扣款 deductions",
    "实发工资 net",
    "核对结果 match_status",
    "原因 reasons",
    "确认状态 confirmation",
    "确认时间 confirmed_at",
    "审批状态 approval",
    "支付状态 payment_status",
];

fn export_rows(view: &PeriodView) -> Vec<Vec<Cell>> {
    let text = |s: &str| Cell::Text(s.to_owned());
    let money = |d: Option<Decimal>| d.map_or(Cell::Empty, Cell::Money);
    let number = |d: Option<Decimal>| d.map_or(Cell::Empty, |d| Cell::Number(d.normalize()));
    let mut rows = Vec::new();
    for p in &view.payrolls {
        for l in &p.lines {
            rows.push(vec![
                text(&p.employer.name),
                Cell::Number(Decimal::from(p.revision)),
                Cell::Number(Decimal::from(l.line)),
                text(&l.name),
                text(&l.id_number),
                text(&l.card_number),
                number(l.days_worked),
                number(l.hours),
                money(l.gross),
                money(l.deductions),
                money(l.net),
                text(&l.status),
                text(
                    &l.reasons
                        .iter()
                        .map(|r| format!("{}: {}", r.code, r.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                text(l.confirmation.state),
                l.confirmation
                    .at
                    .map_or(Cell::Empty, |at| Cell::Text(at.to_rfc3339())),
                text(l.approval.state),
                text(l.payment_status),
            ]);
        }
    }
    rows
}

fn csv_export(view: &PeriodView) -> Result<Vec<u8>, ApiError> {
    // A byte-order mark, so Excel on Chinese Windows opens UTF-8 correctly.
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        let failed = |e: csv::Error| {
            tracing::error!(error = %e, "writing a CSV export");
            ApiError::internal()
        };
        writer.write_record(EXPORT_HEADER).map_err(failed)?;
        for row in export_rows(view) {
            let cells: Vec<String> = row
                .into_iter()
                .map(|c| match c {
                    Cell::Text(s) => s,
                    Cell::Money(d) | Cell::Number(d) => d.to_string(),
                    Cell::Empty => String::new(),
                })
                .collect();
            writer.write_record(&cells).map_err(failed)?;
        }
        writer.flush().map_err(|e| failed(csv::Error::from(e)))?;
    }
    Ok(out)
}

fn export_name(view: &PeriodView, ext: &str) -> String {
    let safe: String = view
        .project
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("payroll-{safe}-{}.{ext}", view.period)
}

/// Read a period's payrolls: every line's match result, confirmation, approval and
/// payment status (JSON), or the same as CSV or XLSX (`?format=` or `Accept`).
/// ID and card numbers are masked. A subcontractor sees only its own payroll.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM"), ReadQuery),
    responses(
        (status = 200, body = PeriodView, content_type = "application/json"),
        (status = 200, description = "CSV (UTF-8 with BOM) or XLSX export", content_type = "text/csv"),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payrolls/{period}")]
pub async fn read(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let q: ReadQuery = query(&req)?;
    let format = format_of(&req, q.format.as_deref())?;
    let caller_org = caller.0.clone();
    let view = db::run(&state.pool, move |conn| {
        let all = visible_payrolls(
            conn,
            &project,
            role,
            &caller_org,
            period,
            q.employer_uscc.as_deref(),
        )?;
        let chosen = pick_revisions(all, q.revision);
        if chosen.is_empty() {
            return Err(AppError::not_found(match q.revision {
                Some(r) => format!("revision {r} of a payroll for {period}"),
                None => format!("a payroll for {period}"),
            }));
        }
        period_view(conn, &project, period, chosen)
    })
    .await?;
    Ok(match format {
        Format::Json => HttpResponse::Ok().json(view),
        Format::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", export_name(&view, "csv")),
            ))
            .body(csv_export(&view)?),
        Format::Xlsx => {
            let bytes = spreadsheet::write_xlsx("工资表", EXPORT_HEADER, &export_rows(&view))?;
            HttpResponse::Ok()
                .content_type(spreadsheet::XLSX)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", export_name(&view, "xlsx")),
                ))
                .body(bytes)
        }
    })
}

// ---------------------------------------------------------------- approval

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovePayroll {
    /// Approve only this employer's payroll; all employers' by default.
    pub employer_uscc: Option<String>,
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

/// Approve the period's current payrolls (劳资专管员审核).
///
/// Freezes the accepted lines the workers have confirmed (and, when the project's
/// `allow_unconfirmed_approval` setting is on, the unconfirmed ones, marked so):
/// they are what will be paid. Disputed lines are never approved. May be called
/// again as more workers confirm. Only the project's general contractor approves.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path, description = "YYYY-MM")),
    request_body(content = Option<ApprovePayroll>, description = "optional; an empty body approves every employer's payroll"),
    responses(
        (status = 200, body = ApprovalResponse),
        (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "NOTHING_TO_APPROVE", body = Problem),
    ),
    security(("api_key" = []))
)]
#[post("/v1/projects/{code}/payrolls/{period}/approve")]
pub async fn approve(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<(String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    if role != ProjectRole::Contractor {
        return Err(ApiError::forbidden(
            "only the project's general contractor approves payrolls",
        ));
    }
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let input: ApprovePayroll = if bytes.iter().all(u8::is_ascii_whitespace) {
        ApprovePayroll::default()
    } else {
        body::json(&req, &bytes)?
    };
    let employer_uscc = input
        .employer_uscc
        .map(|u| fields::uscc("employer_uscc", &u).map(|u| u.as_str().to_owned()))
        .transpose()?;
    let caller_org = caller.0.clone();
    let now = state.clock.now();
    let response = db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            approve_period(
                conn,
                &project,
                role,
                &caller_org,
                period,
                employer_uscc,
                now,
            )
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(response))
}

fn approve_period(
    conn: &mut PgConnection,
    project: &Project,
    role: ProjectRole,
    caller: &Organization,
    period: Period,
    employer_uscc: Option<String>,
    now: DateTime<Utc>,
) -> Result<ApprovalResponse, AppError> {
    let all = visible_payrolls(
        conn,
        project,
        role,
        caller,
        period,
        employer_uscc.as_deref(),
    )?;
    let mut employers: Vec<i64> = all.iter().map(|p| p.employer_id).collect();
    employers.dedup();
    if employers.is_empty() {
        return Err(AppError::not_found(format!("a payroll for {period}")));
    }
    let allow_unconfirmed = db::payrolls::allows_unconfirmed(conn, project.id)?;
    let period_text = period.to_string();
    let mut orgs = Orgs(HashMap::new());
    let mut views = Vec::new();
    let (mut approved, mut amount) = (0usize, Decimal::ZERO);
    // One employer at a time, in id order, each under its submission lock,
    // so a revision submitted meanwhile is either wholly before or after.
    for employer_id in employers {
        db::payrolls::lock_period(conn, project.id, employer_id, period)?;
        let latest = db::payrolls::latest_revision(conn, project.id, employer_id, &period_text)?;
        let Some(current) = db::payrolls::for_period(conn, project.id, period, Some(employer_id))?
            .into_iter()
            .find(|p| p.revision == latest)
        else {
            continue;
        };
        let outcome = db::payrolls::approve(conn, current.id, caller.id, allow_unconfirmed, now)?;
        if let Some(approval) = &outcome.approval {
            audit::record(
                conn,
                now,
                Some(caller.id),
                "payroll",
                Some(current.id),
                "approved",
                serde_json::json!({
                    "approval_id": approval.id,
                    "period": period_text,
                    "revision": current.revision,
                    "lines": outcome.approved,
                    "unconfirmed": outcome.approved_unconfirmed,
                    "amount": outcome.amount.to_string(),
                    "allow_unconfirmed": allow_unconfirmed,
                }),
            )?;
        }
        approved += outcome.approved;
        amount += outcome.amount;
        views.push(EmployerApprovalView {
            employer: orgs.get(conn, employer_id)?,
            revision: current.revision,
            approved: outcome.approved,
            approved_unconfirmed: outcome.approved_unconfirmed,
            amount: outcome.amount,
            left_unconfirmed: outcome.left_unconfirmed,
            left_disputed: outcome.left_disputed,
            already_approved: outcome.already_approved,
        });
    }
    if approved == 0 {
        let (unconfirmed, disputed, already): (usize, usize, usize) =
            views.iter().fold((0, 0, 0), |(u, d, a), v| {
                (
                    u + v.left_unconfirmed,
                    d + v.left_disputed,
                    a + v.already_approved,
                )
            });
        return Err(AppError::new(
            ErrorCode::NothingToApprove,
            format!(
                "no line of {period_text} can be approved now: {unconfirmed} accepted line(s) wait for the worker's confirmation, {disputed} are disputed, {already} were approved before"
            ),
        ));
    }
    Ok(ApprovalResponse {
        project: project.code.clone(),
        period: period_text,
        allow_unconfirmed,
        approved,
        amount,
        payrolls: views,
    })
}

// ---------------------------------------------------------------- settings

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayrollSettings {
    /// Whether approval may freeze lines the worker has not confirmed (they are
    /// marked `unconfirmed`). Off by default: the law asks for the worker's signature.
    pub allow_unconfirmed_approval: bool,
}

/// Read the project's payroll settings.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path)),
    responses((status = 200, body = PayrollSettings), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payroll-settings")]
pub async fn get_settings(
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, _) = projects::load(&state, &caller, &path).await?;
    let allow = db::run(&state.pool, move |conn| {
        db::payrolls::allows_unconfirmed(conn, project.id)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PayrollSettings {
        allow_unconfirmed_approval: allow,
    }))
}

/// Change the project's payroll settings (general contractor only; audited).
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path)),
    request_body = PayrollSettings,
    responses((status = 200, body = PayrollSettings), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[put("/v1/projects/{code}/payroll-settings")]
pub async fn put_settings(
    req: HttpRequest,
    bytes: body::Body,
    path: web::Path<String>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (project, role) = projects::load(&state, &caller, &path).await?;
    if !role.can_manage() {
        return Err(ApiError::forbidden(
            "only the project's general contractor changes its payroll settings",
        ));
    }
    let input: PayrollSettings = body::json(&req, &bytes)?;
    let by = caller.id();
    let allow = input.allow_unconfirmed_approval;
    let now = state.clock.now();
    db::run(&state.pool, move |conn| {
        conn.transaction(|conn| {
            let before = db::payrolls::allows_unconfirmed(conn, project.id)?;
            if before != allow {
                db::payrolls::set_allows_unconfirmed(conn, project.id, allow)?;
                audit::record(
                    conn,
                    now,
                    Some(by),
                    "project",
                    Some(project.id),
                    "payroll_settings_changed",
                    serde_json::json!({ "allow_unconfirmed_approval": { "from": before, "to": allow } }),
                )?;
            }
            Ok::<(), AppError>(())
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(PayrollSettings {
        allow_unconfirmed_approval: allow,
    }))
}

// ---------------------------------------------------------------- pay slip

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

/// The scheduled pay date: the payday (clamped to the month's length) of the month after the period.
pub fn pay_date(period: Period, payday: i16) -> Option<NaiveDate> {
    let next = period.next()?;
    let day = u32::try_from(payday).ok()?.clamp(1, next.days());
    NaiveDate::from_ymd_opt(next.year(), next.month(), day)
}

/// Builds a pay slip for one line.
pub fn pay_slip(
    conn: &mut PgConnection,
    project: &Project,
    payroll: &Payroll,
    state: &LineState,
) -> Result<PaySlip, AppError> {
    let period = Period::parse(&payroll.period)
        .map_err(|_| AppError::Invariant("a stored period is YYYY-MM"))?;
    let latest = db::payrolls::latest_revision(
        conn,
        payroll.project_id,
        payroll.employer_id,
        &payroll.period,
    )?;
    let approval_at: HashMap<i64, DateTime<Utc>> = db::payrolls::approvals(conn, &[payroll.id])?
        .into_iter()
        .map(|a| (a.id, a.at))
        .collect();
    let view = line_view(state, &approval_at);
    let phone = match state.line.worker_id {
        Some(id) => db::payrolls::worker_phone(conn, id)?,
        None => None,
    };
    let mut orgs = Orgs(HashMap::new());
    Ok(PaySlip {
        title: "工资清单",
        project: OrgSummaryProject {
            code: project.code.clone(),
            name: project.name.clone(),
        },
        employer: orgs.get(conn, payroll.employer_id)?,
        period: payroll.period.clone(),
        revision: payroll.revision,
        current: payroll.revision == latest,
        pay_date: pay_date(period, project.payday),
        worker: PaySlipWorker {
            name: view.name,
            id_number: view.id_number,
            phone: phone.as_deref().map(mask::mask_phone),
        },
        working_time: WorkingTime {
            days_worked: view.days_worked,
            hours: view.hours,
        },
        gross_items: view.gross_items,
        gross: view.gross,
        deduction_items: view.deduction_items,
        deductions: view.deductions,
        net: view.net,
        card_number: view.card_number,
        status: view.status,
        reasons: view.reasons,
        confirmation: view.confirmation,
        approval: view.approval,
        payment_status: view.payment_status,
    })
}

/// A worker's pay slip (工资清单) for the period, by his ID number: for the
/// general contractor, his employer, the owner and regulators. The worker
/// himself reads it with his token at `GET /v1/payslips/{token}`.
#[utoipa::path(
    tag = "payrolls",
    params(("code" = String, Path), ("period" = String, Path), ("id_number" = String, Path)),
    responses((status = 200, body = PaySlip), (status = 404, body = Problem)),
    security(("api_key" = []))
)]
#[get("/v1/projects/{code}/payrolls/{period}/payslips/{id_number}")]
pub async fn payslip(
    path: web::Path<(String, String, String)>,
    caller: Caller,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let (code, period, id_number) = path.into_inner();
    let (project, role) = projects::load(&state, &caller, &code).await?;
    let period = Period::parse(&period)
        .map_err(|e| ApiError::invalid_field("period", e.code(), e.to_string()))?;
    let id_number = ResidentId::parse_on(&id_number, state.clock.today())
        .map_err(|e| ApiError::invalid_field("id_number", e.code(), e.to_string()))?;
    let caller_org = caller.0.clone();
    let slip = db::run(&state.pool, move |conn| {
        let all = visible_payrolls(conn, &project, role, &caller_org, period, None)?;
        for (payroll, _) in pick_revisions(all, None) {
            if let Some(state) =
                db::payrolls::line_state_of_worker(conn, payroll.id, id_number.as_str())?
            {
                return pay_slip(conn, &project, &payroll, &state);
            }
        }
        Err(AppError::not_found(format!(
            "a payroll line of this worker for {period}"
        )))
    })
    .await?;
    Ok(HttpResponse::Ok().json(slip))
}

/// Confirmation channel check shared with the confirmations endpoint.
pub const CHANNELS: &[&str] = &["sms", "wechat", "app", "web", "kiosk", "paper"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let mut rng = rand::thread_rng();
        let (a, hash_a) = new_token(&mut rng);
        let (b, _) = new_token(&mut rng);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
        assert_eq!(hash_a, token_hash(&a));
    }

    #[test]
    fn tokens_are_base64url_without_padding_as_in_the_rfc_vectors() {
        assert_eq!(URL_SAFE_NO_PAD.encode(b""), "");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"f"), "Zg");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"fo"), "Zm8");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foo"), "Zm9v");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
    }

    #[test]
    fn pay_date_is_next_months_payday_clamped() {
        let p = Period::parse("2026-01").unwrap();
        assert_eq!(pay_date(p, 15), NaiveDate::from_ymd_opt(2026, 2, 15));
        assert_eq!(pay_date(p, 31), NaiveDate::from_ymd_opt(2026, 2, 28));
        let dec = Period::parse("2026-12").unwrap();
        assert_eq!(pay_date(dec, 10), NaiveDate::from_ymd_opt(2027, 1, 10));
    }

    #[test]
    fn future_periods_are_refused() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert!(parse_period("2026-11", today).is_ok());
        assert!(parse_period("2026-10", today).is_ok());
        assert_eq!(
            parse_period("2026-12", today).unwrap_err().code,
            "PERIOD_IN_FUTURE"
        );
        assert_eq!(
            parse_period("2026-1", today).unwrap_err().code,
            "INVALID_FORMAT"
        );
        assert_eq!(
            parse_period("2026-13", today).unwrap_err().code,
            "OUT_OF_RANGE"
        );
    }
}
