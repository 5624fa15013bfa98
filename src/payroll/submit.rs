//! Submitting a payroll: the columns a 工资表 may have, reading each line, choosing the
//! employer, and matching and storing a new revision in one transaction.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Connection, PgConnection};
use rust_decimal::Decimal;

use crate::access::ProjectRole;
use crate::api::error::ApiError;
use crate::api::fields::{self, Collector, FieldError};
use crate::api::tabular::{Column, RawRow, RowProblem};
use crate::db::organizations::Organization;
use crate::db::payrolls::{NewLine, NewPayroll};
use crate::db::projects::Project;
use crate::db::{self, audit, idempotency};
use crate::domain::payroll::{
    self as rules, Context, ItemKind, LineMatch, PayItem, Thresholds, Totals, UnpaidWorker,
};
use crate::domain::{mask, Money, Period};
use crate::payroll::views::*;

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
pub(crate) fn may_submit(role: ProjectRole) -> bool {
    role.can_write_workers()
}

/// A period in `YYYY-MM`, not after the current month in China.
pub(crate) fn parse_period(value: &str, today: NaiveDate) -> Result<Period, ApiError> {
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

/// A line as submitted: readable (every field parsed) or not.
pub(crate) enum Submitted {
    Readable(rules::Line),
    Unreadable(Unreadable),
}

/// What could be read of a line with faults, kept as given.
pub(crate) struct Unreadable {
    pub(crate) line_no: usize,
    pub(crate) id_number: String,
    pub(crate) name: String,
    pub(crate) card_number: String,
    pub(crate) days_worked: Option<Decimal>,
    pub(crate) hours: Option<Decimal>,
    pub(crate) gross: Option<Money>,
    pub(crate) deductions: Option<Money>,
    pub(crate) net: Option<Money>,
    pub(crate) problems: Vec<RowProblem>,
}

pub(crate) fn amount(
    field: &'static str,
    value: &str,
    allow_negative: bool,
) -> Result<Money, FieldError> {
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

pub(crate) fn optional_amount(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<Money>, FieldError> {
    value.map(|v| amount(field, v, false)).transpose()
}

pub(crate) fn clip(value: Option<&str>, max_chars: usize) -> String {
    value.unwrap_or("").chars().take(max_chars).collect()
}

pub(crate) fn parse_line(row: &RawRow) -> Submitted {
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

pub(crate) fn items_json(items: &[PayItem]) -> serde_json::Value {
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

pub(crate) fn finding_views(m: &LineMatch) -> Vec<ReasonView> {
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

pub(crate) fn problem_views(problems: &[RowProblem]) -> Vec<ReasonView> {
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

pub(crate) fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(crate) fn payroll_href(code: &str, period: &str, employer_uscc: &str, revision: i32) -> String {
    format!(
        "/v1/projects/{code}/payrolls/{period}?employer_uscc={employer_uscc}&revision={revision}"
    )
}

/// Everything a submission needs once its body is read.
pub(crate) struct Submission {
    pub(crate) project: Project,
    pub(crate) employer_uscc: Option<String>,
    pub(crate) period: Period,
    pub(crate) source_format: &'static str,
    pub(crate) lines: Vec<Submitted>,
    pub(crate) caller: Organization,
    pub(crate) role: ProjectRole,
    pub(crate) idempotency_key: Option<String>,
    /// The business time the submission is recorded at.
    pub(crate) now: DateTime<Utc>,
}

/// Which organisation's payroll this is, as the caller may name it.
pub(crate) fn resolve_employer(
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
pub(crate) fn store_submission(
    conn: &mut PgConnection,
    s: Submission,
) -> Result<serde_json::Value, AppError> {
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
                        },
                        SubmittedLineView {
                            line: line.line_no,
                            status,
                            id_number: line.id_number.masked(),
                            name: line.name.clone(),
                            net: Some(line.net.as_decimal()),
                            reasons,
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
                        },
                        SubmittedLineView {
                            line: u.line_no,
                            status: "rejected",
                            id_number: mask::mask_middle(u.id_number.trim(), 4, 4),
                            name: u.name.clone(),
                            net: u.net.map(Money::as_decimal),
                            reasons,
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
        // Tokens go to the workers' phones through the outbox, never into this answer.
        crate::notify::outbox::enqueue_accepted(conn, payroll.id, s.now)?;
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

pub(crate) fn amounts_out_of_range() -> AppError {
    AppError::field(
        "lines",
        ErrorCode::OutOfRange,
        "the payroll's amounts add up to more than can be paid",
    )
}

pub(crate) fn totals_view(t: &Totals) -> TotalsView {
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

#[cfg(test)]
mod tests {
    use super::*;

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
