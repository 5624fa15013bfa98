//! 工资支付表: matching one employer's monthly payroll against the project's
//! real-name roster and attendance, line by line.
//!
//! Pure rules: the caller loads the roster and the attendance summary once,
//! hands over the lines that could be read, and gets one [`LineMatch`] per
//! line back, plus the workers who attended and have no line. Nothing here
//! touches the database or knows about HTTP.
//!
//! Every finding has a stable [`Code`]. Errors hold the line back; warnings
//! ([`Severity::Warning`]) let it pass and are shown to the reviewer.
//!
//! Longer than our usual ~600 lines on purpose: about a third is its unit tests,
//! and the matching rules stay in one file so each reason code and its order of
//! checks reads in one place.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::{BankCard, Money, Period, ResidentId};

/// 月计薪天数: the legal monthly average of paid working days
/// (劳社部发〔2008〕3号). A worker with at least this many days of attendance
/// in a month counts as having worked the full month.
pub const FULL_MONTH_DAYS: Decimal = Decimal::from_parts(2175, 0, 0, false, 2);

/// The figures the rules use. Provinces may set their own; these are the
/// defaults of DESIGN.md section 8.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thresholds {
    /// 最低工资标准: the project's monthly minimum wage.
    pub minimum_monthly_wage: Money,
    /// Attendance days from which a month counts as full ([`FULL_MONTH_DAYS`]).
    pub full_month_days: Decimal,
    /// Net pay above this in one month is flagged (UNUSUAL_AMOUNT).
    pub unusual_monthly_net: Money,
}

impl Thresholds {
    /// The defaults, with the project's minimum wage.
    pub fn with_minimum_wage(minimum_monthly_wage: Money) -> Self {
        Thresholds {
            minimum_monthly_wage,
            full_month_days: FULL_MONTH_DAYS,
            // 50,000.00 yuan
            unusual_monthly_net: Money::from_fen(5_000_000).unwrap_or(Money::ZERO),
        }
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The line is held back.
    Error,
    /// The line goes on; the reviewer should look at it.
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// The stable reason codes of payroll matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// The ID number is not on the project's roster.
    NotOnRoster,
    /// The worker is on the roster, for another employer than the payroll's.
    EmployedByAnother,
    /// The name differs from the roster's.
    NameMismatch,
    /// The roster's entry and exit dates do not overlap the period.
    NotEmployedInPeriod,
    /// No day with hours in the period.
    NoAttendance,
    /// More days worked than days of attendance.
    DaysExceedAttendance,
    /// The card is not the worker's card on the roster.
    CardNotWorkers,
    /// The same worker has an earlier line in this payroll.
    DuplicateLine,
    /// The itemised gross pay or deductions do not add up to the totals given.
    ItemsMismatch,
    /// Gross − deductions ≠ net.
    NetMismatch,
    /// Net pay is zero or less.
    NonPositiveNet,
    /// Full month's attendance, pay below the minimum wage (warning).
    BelowMinimumWage,
    /// Net pay over the monthly threshold (warning).
    UnusualAmount,
    /// A worker attended in the period and has no line.
    AttendedButUnpaid,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::NotOnRoster => "NOT_ON_ROSTER",
            Code::EmployedByAnother => "EMPLOYED_BY_ANOTHER",
            Code::NameMismatch => "NAME_MISMATCH",
            Code::NotEmployedInPeriod => "NOT_EMPLOYED_IN_PERIOD",
            Code::NoAttendance => "NO_ATTENDANCE",
            Code::DaysExceedAttendance => "DAYS_EXCEED_ATTENDANCE",
            Code::CardNotWorkers => "CARD_NOT_WORKERS",
            Code::DuplicateLine => "DUPLICATE_LINE",
            Code::ItemsMismatch => "ITEMS_MISMATCH",
            Code::NetMismatch => "NET_MISMATCH",
            Code::NonPositiveNet => "NON_POSITIVE_NET",
            Code::BelowMinimumWage => "BELOW_MINIMUM_WAGE",
            Code::UnusualAmount => "UNUSUAL_AMOUNT",
            Code::AttendedButUnpaid => "ATTENDED_BUT_UNPAID",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Code::BelowMinimumWage | Code::UnusualAmount => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// One finding about a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    /// The line's field it is about, if one.
    pub field: Option<&'static str>,
    /// A plain explanation. Never repeats the line's ID or card number.
    pub message: String,
}

impl Finding {
    fn new(code: Code, field: Option<&'static str>, message: impl Into<String>) -> Self {
        Finding {
            code,
            field,
            message: message.into(),
        }
    }

    pub fn severity(&self) -> Severity {
        self.code.severity()
    }
}

/// A kind of pay item (工资项目), as the usual 工资表 columns name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ItemKind {
    /// 基本工资 / 计时工资.
    BasePay,
    /// 计件工资.
    PiecePay,
    /// 加班工资: not counted against the minimum wage.
    OvertimePay,
    /// 奖金 / 绩效.
    Bonus,
    /// 津贴 / 补贴.
    Allowance,
    /// 社保个人部分.
    SocialInsurance,
    /// 住房公积金个人部分.
    HousingFund,
    /// 个人所得税.
    IncomeTax,
    /// 借支 / 预支: advances already paid out.
    Advance,
    /// 其他扣款.
    OtherDeduction,
}

impl ItemKind {
    pub const GROSS: [ItemKind; 5] = [
        ItemKind::BasePay,
        ItemKind::PiecePay,
        ItemKind::OvertimePay,
        ItemKind::Bonus,
        ItemKind::Allowance,
    ];
    pub const DEDUCTIONS: [ItemKind; 5] = [
        ItemKind::SocialInsurance,
        ItemKind::HousingFund,
        ItemKind::IncomeTax,
        ItemKind::Advance,
        ItemKind::OtherDeduction,
    ];

    /// The field name in uploads and JSON.
    pub fn key(self) -> &'static str {
        match self {
            ItemKind::BasePay => "base_pay",
            ItemKind::PiecePay => "piece_pay",
            ItemKind::OvertimePay => "overtime_pay",
            ItemKind::Bonus => "bonus",
            ItemKind::Allowance => "allowance",
            ItemKind::SocialInsurance => "social_insurance",
            ItemKind::HousingFund => "housing_fund",
            ItemKind::IncomeTax => "income_tax",
            ItemKind::Advance => "advance",
            ItemKind::OtherDeduction => "other_deductions",
        }
    }

    /// The Chinese name on a pay slip.
    pub fn label(self) -> &'static str {
        match self {
            ItemKind::BasePay => "基本工资",
            ItemKind::PiecePay => "计件工资",
            ItemKind::OvertimePay => "加班工资",
            ItemKind::Bonus => "奖金",
            ItemKind::Allowance => "津贴补贴",
            ItemKind::SocialInsurance => "社会保险个人缴费",
            ItemKind::HousingFund => "住房公积金个人缴费",
            ItemKind::IncomeTax => "个人所得税",
            ItemKind::Advance => "借支",
            ItemKind::OtherDeduction => "其他扣款",
        }
    }

    pub fn from_key(key: &str) -> Option<ItemKind> {
        ItemKind::GROSS
            .into_iter()
            .chain(ItemKind::DEDUCTIONS)
            .find(|k| k.key() == key)
    }
}

/// One amount of a pay item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayItem {
    pub kind: ItemKind,
    pub amount: Money,
}

/// A payroll line whose fields could all be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based position in the submission.
    pub line_no: usize,
    pub id_number: ResidentId,
    pub name: String,
    pub card: BankCard,
    /// 出勤天数 as the employer declares it.
    pub days_worked: Decimal,
    pub hours: Option<Decimal>,
    /// 应发工资; when absent, the sum of the gross items.
    pub gross: Option<Money>,
    pub gross_items: Vec<PayItem>,
    /// 扣款; when absent, the sum of the deduction items (zero without any).
    pub deductions: Option<Money>,
    pub deduction_items: Vec<PayItem>,
    /// 实发工资.
    pub net: Money,
}

/// What the roster says about a worker on this project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterWorker {
    pub worker_id: i64,
    pub name: String,
    pub employer_id: i64,
    /// The worker's own card (工资卡), if registered.
    pub card_number: Option<String>,
    pub entered_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
}

impl RosterWorker {
    /// Whether entry and exit leave any day of the period.
    pub fn employed_in(&self, period: Period) -> bool {
        self.entered_on <= period.last_day()
            && self.exited_on.is_none_or(|exit| exit >= period.first_day())
    }
}

/// A worker's live attendance in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attendance {
    /// Days with hours greater than zero.
    pub days: u32,
    pub hours: Decimal,
}

/// Everything a payroll is matched against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub period: Period,
    /// The organisation whose payroll this is.
    pub employer_id: i64,
    /// The whole project's roster, by ID number.
    pub roster: &'a HashMap<String, RosterWorker>,
    /// Live attendance in the period, by worker id.
    pub attendance: &'a HashMap<i64, Attendance>,
    pub thresholds: &'a Thresholds,
}

/// The outcome for one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineMatch {
    pub line_no: usize,
    /// The roster's worker, when the line is the payroll employer's worker.
    pub worker_id: Option<i64>,
    /// Gross and deductions as resolved from totals or items; `None` when
    /// they could not be (an items sum out of range).
    pub gross: Option<Money>,
    pub deductions: Option<Money>,
    pub findings: Vec<Finding>,
}

impl LineMatch {
    /// No error: the line goes on to confirmation and approval.
    pub fn accepted(&self) -> bool {
        self.findings
            .iter()
            .all(|f| f.severity() == Severity::Warning)
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity() == Severity::Warning)
            .count()
    }
}

/// A worker of the payroll's employer who attended in the period and has no line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpaidWorker {
    pub worker_id: i64,
    pub id_number: String,
    pub name: String,
    pub attendance: Attendance,
}

impl UnpaidWorker {
    pub fn message(&self) -> String {
        format!(
            "attended on {} day(s) in the period and has no line in this payroll",
            self.attendance.days
        )
    }
}

/// Matches every line, in order. Duplicates are judged by ID number: the
/// first line of a worker is matched, every later one is a DUPLICATE_LINE.
pub fn match_lines(ctx: &Context<'_>, lines: &[Line]) -> Vec<LineMatch> {
    let mut first_line: HashMap<&str, usize> = HashMap::with_capacity(lines.len());
    lines
        .iter()
        .map(|line| {
            let duplicate_of = match first_line.get(line.id_number.as_str()) {
                Some(first) => Some(*first),
                None => {
                    first_line.insert(line.id_number.as_str(), line.line_no);
                    None
                }
            };
            match_line(ctx, line, duplicate_of)
        })
        .collect()
}

/// Matches one line; `duplicate_of` is the earlier line of the same worker, if any.
pub fn match_line(ctx: &Context<'_>, line: &Line, duplicate_of: Option<usize>) -> LineMatch {
    let mut findings = Vec::new();
    if let Some(first) = duplicate_of {
        findings.push(Finding::new(
            Code::DuplicateLine,
            Some("id_number"),
            format!("this worker already has line {first} in this payroll"),
        ));
    }

    let (gross, deductions) = amounts(line, &mut findings);

    let mut worker_id = None;
    let mut attendance = Attendance::default();
    let mut employed_whole_check = false;
    match ctx.roster.get(line.id_number.as_str()) {
        None => findings.push(Finding::new(
            Code::NotOnRoster,
            Some("id_number"),
            "this ID number is not on the project's roster",
        )),
        Some(worker) if worker.employer_id != ctx.employer_id => findings.push(Finding::new(
            Code::EmployedByAnother,
            Some("id_number"),
            "this worker is on the project's roster for another employer; that employer's payroll pays him",
        )),
        Some(worker) => {
            worker_id = Some(worker.worker_id);
            employed_whole_check = true;
            if normalized_name(&worker.name) != normalized_name(&line.name) {
                findings.push(Finding::new(
                    Code::NameMismatch,
                    Some("name"),
                    format!("the roster names this worker {}", worker.name),
                ));
            }
            if !worker.employed_in(ctx.period) {
                let until = worker
                    .exited_on
                    .map_or_else(|| "now".to_owned(), |d| d.to_string());
                findings.push(Finding::new(
                    Code::NotEmployedInPeriod,
                    None,
                    format!(
                        "the roster has the worker on site from {} to {until}, outside {}",
                        worker.entered_on, ctx.period
                    ),
                ));
            }
            attendance = ctx
                .attendance
                .get(&worker.worker_id)
                .copied()
                .unwrap_or_default();
            if attendance.days == 0 {
                findings.push(Finding::new(
                    Code::NoAttendance,
                    Some("days_worked"),
                    format!("the worker has no attendance recorded in {}", ctx.period),
                ));
            } else if line.days_worked > Decimal::from(attendance.days) {
                findings.push(Finding::new(
                    Code::DaysExceedAttendance,
                    Some("days_worked"),
                    format!(
                        "{} days worked, but attendance shows {} day(s) in {}",
                        line.days_worked.normalize(),
                        attendance.days,
                        ctx.period
                    ),
                ));
            }
            match &worker.card_number {
                Some(card) if card == line.card.as_str() => {}
                Some(card) => findings.push(Finding::new(
                    Code::CardNotWorkers,
                    Some("card_number"),
                    format!(
                        "this is not the worker's card on the roster (that one ends in {}); wages go only to the worker's own card",
                        last_four(card)
                    ),
                )),
                None => findings.push(Finding::new(
                    Code::CardNotWorkers,
                    Some("card_number"),
                    "the roster has no card for this worker, so the card cannot be checked; register his own card first",
                )),
            }
        }
    }

    if let (Some(gross), Some(deductions)) = (gross, deductions) {
        if gross.checked_sub(deductions) != Some(line.net) {
            findings.push(Finding::new(
                Code::NetMismatch,
                Some("net"),
                format!(
                    "gross {gross} minus deductions {deductions} is not the net {}",
                    line.net
                ),
            ));
        }
    }
    if !line.net.is_positive() {
        findings.push(Finding::new(
            Code::NonPositiveNet,
            Some("net"),
            "net pay must be greater than zero",
        ));
    }

    let thresholds = ctx.thresholds;
    if employed_whole_check && Decimal::from(attendance.days) >= thresholds.full_month_days {
        if let Some(gross) = gross {
            // The minimum wage excludes overtime pay (最低工资规定 第12条).
            let overtime: Money = line
                .gross_items
                .iter()
                .filter(|i| i.kind == ItemKind::OvertimePay)
                .map(|i| i.amount)
                .sum::<Option<Money>>()
                .unwrap_or(Money::ZERO);
            let counted = gross.checked_sub(overtime).unwrap_or(gross);
            if counted < thresholds.minimum_monthly_wage {
                findings.push(Finding::new(
                    Code::BelowMinimumWage,
                    Some("gross"),
                    format!(
                        "a full month's attendance ({} days) is paid {counted} before deductions{}, below the project's monthly minimum wage of {}",
                        attendance.days,
                        if overtime.is_zero() { "" } else { " and without overtime" },
                        thresholds.minimum_monthly_wage
                    ),
                ));
            }
        }
    }
    if line.net > thresholds.unusual_monthly_net {
        findings.push(Finding::new(
            Code::UnusualAmount,
            Some("net"),
            format!(
                "net pay of {} is over {} in one month; check it before approving",
                line.net, thresholds.unusual_monthly_net
            ),
        ));
    }

    LineMatch {
        line_no: line.line_no,
        worker_id,
        gross,
        deductions,
        findings,
    }
}

/// Resolves gross and deductions from the totals and items given.
fn amounts(line: &Line, findings: &mut Vec<Finding>) -> (Option<Money>, Option<Money>) {
    let mut resolve = |total: Option<Money>, items: &[PayItem], field: &'static str, what: &str| {
        let sum = if items.is_empty() {
            None
        } else {
            let sum = items.iter().map(|i| i.amount).sum::<Option<Money>>();
            if sum.is_none() {
                findings.push(Finding::new(
                    Code::ItemsMismatch,
                    Some(field),
                    format!("the {what} items add up to more than can be paid"),
                ));
                return None;
            }
            sum
        };
        match (total, sum) {
            (Some(total), Some(sum)) if total != sum => {
                findings.push(Finding::new(
                    Code::ItemsMismatch,
                    Some(field),
                    format!("the {what} items add up to {sum}, not to the {total} given"),
                ));
                Some(total)
            }
            (Some(total), _) => Some(total),
            (None, Some(sum)) => Some(sum),
            (None, None) => Some(Money::ZERO),
        }
    };
    let gross = resolve(line.gross, &line.gross_items, "gross", "gross pay");
    let deductions = resolve(
        line.deductions,
        &line.deduction_items,
        "deductions",
        "deduction",
    );
    (gross, deductions)
}

/// The workers of the payroll's employer with attendance in the period whose
/// ID number has no line at all (`with_lines`: every ID number given in the
/// payroll, readable line or not). Ordered by ID number.
pub fn attended_but_unpaid(ctx: &Context<'_>, with_lines: &HashSet<&str>) -> Vec<UnpaidWorker> {
    let mut unpaid: Vec<UnpaidWorker> = ctx
        .roster
        .iter()
        .filter(|(_, w)| w.employer_id == ctx.employer_id)
        .filter(|(id, _)| !with_lines.contains(id.as_str()))
        .filter_map(|(id, w)| {
            let attendance = ctx.attendance.get(&w.worker_id)?;
            (attendance.days > 0).then(|| UnpaidWorker {
                worker_id: w.worker_id,
                id_number: id.clone(),
                name: w.name.clone(),
                attendance: *attendance,
            })
        })
        .collect();
    unpaid.sort_by(|a, b| a.id_number.cmp(&b.id_number));
    unpaid
}

/// A name as compared with the roster: no whitespace (half- or full-width),
/// and the middle dots of minority names (阿卜杜·热合曼) in one form.
pub fn normalized_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '\u{2022}' | '\u{30FB}' | '\u{FF65}' | '\u{2027}' | '\u{FF0E}' | '.' => '\u{00B7}',
            c => c,
        })
        .collect()
}

fn last_four(card: &str) -> &str {
    let start = card.len().saturating_sub(4);
    card.get(start..).unwrap_or("")
}

/// Totals of a matched payroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    pub lines: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Number of warnings (on any line).
    pub warnings: usize,
    /// Net pay of every line whose net could be read.
    pub amount: Money,
    /// Net pay of the accepted lines.
    pub accepted_amount: Money,
    pub attended_but_unpaid: usize,
}

impl Totals {
    /// Counts one line; `None` when a total leaves the range money can take.
    pub fn add(mut self, accepted: bool, net: Option<Money>, warnings: usize) -> Option<Totals> {
        self.lines += 1;
        if accepted {
            self.accepted += 1;
        } else {
            self.rejected += 1;
        }
        self.warnings += warnings;
        if let Some(net) = net {
            self.amount = self.amount.checked_add(net)?;
            if accepted {
                self.accepted_amount = self.accepted_amount.checked_add(net)?;
            }
        }
        Some(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPLOYER: i64 = 10;
    const OTHER_EMPLOYER: i64 = 11;

    fn id(n: u32) -> String {
        let body = format!("420111198503{:02}{:03}", 1 + n % 28, n % 1000);
        let check = ResidentId::check_character(&body).unwrap();
        format!("{body}{check}")
    }

    fn card(n: u32) -> String {
        let body = format!("622202{n:09}");
        let check = BankCard::check_digit(&body).unwrap();
        format!("{body}{check}")
    }

    fn money(s: &str) -> Money {
        Money::parse(s).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    struct Fixture {
        roster: HashMap<String, RosterWorker>,
        attendance: HashMap<i64, Attendance>,
        thresholds: Thresholds,
    }

    impl Fixture {
        /// Workers 1–5 of EMPLOYER, 6 of OTHER_EMPLOYER, all on site since
        /// March with 22 days in 2026-10; worker 5 has no card; worker 4 no attendance.
        fn new() -> Fixture {
            let mut roster = HashMap::new();
            let mut attendance = HashMap::new();
            for n in 1..=6u32 {
                roster.insert(
                    id(n),
                    RosterWorker {
                        worker_id: i64::from(n),
                        name: format!("工人{n}"),
                        employer_id: if n == 6 { OTHER_EMPLOYER } else { EMPLOYER },
                        card_number: (n != 5).then(|| card(n)),
                        entered_on: date("2026-03-15"),
                        exited_on: None,
                    },
                );
                if n != 4 {
                    attendance.insert(
                        i64::from(n),
                        Attendance {
                            days: 22,
                            hours: Decimal::from(176),
                        },
                    );
                }
            }
            Fixture {
                roster,
                attendance,
                thresholds: Thresholds::with_minimum_wage(money("2210")),
            }
        }

        fn ctx(&self) -> Context<'_> {
            Context {
                period: Period::parse("2026-10").unwrap(),
                employer_id: EMPLOYER,
                roster: &self.roster,
                attendance: &self.attendance,
                thresholds: &self.thresholds,
            }
        }
    }

    fn line(line_no: usize, n: u32) -> Line {
        Line {
            line_no,
            id_number: ResidentId::parse(&id(n)).unwrap(),
            name: format!("工人{n}"),
            card: BankCard::parse(&card(n)).unwrap(),
            days_worked: Decimal::from(22),
            hours: None,
            gross: Some(money("6000")),
            gross_items: Vec::new(),
            deductions: Some(money("500")),
            deduction_items: Vec::new(),
            net: money("5500"),
        }
    }

    fn codes(m: &LineMatch) -> Vec<&'static str> {
        m.findings.iter().map(|f| f.code.as_str()).collect()
    }

    fn one(f: &Fixture, l: Line) -> LineMatch {
        match_lines(&f.ctx(), &[l]).remove(0)
    }

    #[test]
    fn a_good_line_is_accepted_without_findings() {
        let f = Fixture::new();
        let m = one(&f, line(1, 1));
        assert!(m.accepted());
        assert!(m.findings.is_empty(), "{:?}", m.findings);
        assert_eq!(m.worker_id, Some(1));
        assert_eq!(m.gross, Some(money("6000")));
    }

    #[test]
    fn unknown_and_other_employers_workers_are_rejected() {
        let f = Fixture::new();
        let m = one(&f, line(1, 99));
        assert_eq!(codes(&m), ["NOT_ON_ROSTER"]);
        assert!(!m.accepted());
        assert_eq!(m.worker_id, None);
        let m = one(&f, line(1, 6));
        assert_eq!(codes(&m), ["EMPLOYED_BY_ANOTHER"]);
        assert_eq!(m.worker_id, None);
    }

    #[test]
    fn name_is_compared_without_spaces_and_dot_variants() {
        let f = Fixture::new();
        let mut l = line(1, 1);
        l.name = "工 人1".to_owned();
        assert!(one(&f, l).findings.is_empty());
        let mut l = line(1, 1);
        l.name = "王五".to_owned();
        let m = one(&f, l);
        assert_eq!(codes(&m), ["NAME_MISMATCH"]);
        assert!(m.findings[0].message.contains("工人1"));
        assert_eq!(
            normalized_name("阿卜杜•热合曼"),
            normalized_name("阿卜杜·热合曼")
        );
    }

    #[test]
    fn employment_dates_must_overlap_the_period() {
        let mut f = Fixture::new();
        if let Some(w) = f.roster.get_mut(&id(1)) {
            w.exited_on = Some(date("2026-09-30"));
        }
        if let Some(w) = f.roster.get_mut(&id(2)) {
            w.entered_on = date("2026-11-01");
        }
        if let Some(w) = f.roster.get_mut(&id(3)) {
            w.exited_on = Some(date("2026-10-01"));
        }
        assert_eq!(codes(&one(&f, line(1, 1))), ["NOT_EMPLOYED_IN_PERIOD"]);
        assert_eq!(codes(&one(&f, line(1, 2))), ["NOT_EMPLOYED_IN_PERIOD"]);
        assert!(one(&f, line(1, 3)).findings.is_empty());
    }

    #[test]
    fn attendance_must_be_there_and_cover_the_days() {
        let f = Fixture::new();
        let mut l = line(1, 4);
        l.gross = Some(money("100"));
        l.deductions = Some(money("0"));
        l.net = money("100");
        assert_eq!(codes(&one(&f, l)), ["NO_ATTENDANCE"]);
        let mut l = line(1, 1);
        l.days_worked = Decimal::new(225, 1);
        let m = one(&f, l);
        assert_eq!(codes(&m), ["DAYS_EXCEED_ATTENDANCE"]);
        assert!(m.findings[0].message.contains("22.5 days"));
    }

    #[test]
    fn card_must_be_the_workers_own() {
        let f = Fixture::new();
        let mut l = line(1, 1);
        l.card = BankCard::parse(&card(2)).unwrap();
        let m = one(&f, l);
        assert_eq!(codes(&m), ["CARD_NOT_WORKERS"]);
        assert!(m.findings[0].message.contains(&card(1)[12..]));
        assert_eq!(codes(&one(&f, line(1, 5))), ["CARD_NOT_WORKERS"]);
    }

    #[test]
    fn later_lines_of_the_same_worker_are_duplicates() {
        let f = Fixture::new();
        let ms = match_lines(&f.ctx(), &[line(1, 1), line(2, 2), line(3, 1)]);
        assert!(ms[0].accepted() && ms[1].accepted());
        assert_eq!(codes(&ms[2]), ["DUPLICATE_LINE"]);
        assert!(ms[2].findings[0].message.contains("line 1"));
    }

    #[test]
    fn amounts_must_add_up() {
        let f = Fixture::new();
        let mut l = line(1, 1);
        l.net = money("5499.99");
        assert_eq!(codes(&one(&f, l)), ["NET_MISMATCH"]);

        let mut l = line(1, 1);
        l.gross = Some(money("500"));
        l.net = money("0");
        // 22 days paid 500: also below the minimum wage (a warning).
        assert_eq!(
            codes(&one(&f, l)),
            ["NON_POSITIVE_NET", "BELOW_MINIMUM_WAGE"]
        );
    }

    #[test]
    fn items_fill_in_or_must_match_the_totals() {
        let f = Fixture::new();
        let item = |kind, s| PayItem {
            kind,
            amount: money(s),
        };
        let mut l = line(1, 1);
        l.gross = None;
        l.gross_items = vec![
            item(ItemKind::BasePay, "5000"),
            item(ItemKind::Bonus, "1000"),
        ];
        l.deductions = None;
        l.deduction_items = vec![item(ItemKind::SocialInsurance, "500")];
        let m = one(&f, l.clone());
        assert!(m.findings.is_empty(), "{:?}", m.findings);
        assert_eq!(
            (m.gross, m.deductions),
            (Some(money("6000")), Some(money("500")))
        );

        l.gross = Some(money("6100"));
        assert_eq!(codes(&one(&f, l)), ["ITEMS_MISMATCH", "NET_MISMATCH"]);

        let mut l = line(1, 1);
        l.deductions = None;
        l.net = money("6000");
        assert!(one(&f, l).findings.is_empty());
    }

    #[test]
    fn full_month_below_minimum_wage_is_a_warning_only() {
        let mut f = Fixture::new();
        let mut l = line(1, 1);
        l.gross = Some(money("2000"));
        l.deductions = Some(money("0"));
        l.net = money("2000");
        let m = one(&f, l.clone());
        assert_eq!(codes(&m), ["BELOW_MINIMUM_WAGE"]);
        assert!(m.accepted());
        assert_eq!(m.warnings(), 1);

        // Overtime does not count towards the minimum.
        let mut ot = l.clone();
        ot.gross = Some(money("2500"));
        ot.net = money("2500");
        ot.gross_items = vec![
            PayItem {
                kind: ItemKind::BasePay,
                amount: money("2000"),
            },
            PayItem {
                kind: ItemKind::OvertimePay,
                amount: money("500"),
            },
        ];
        assert_eq!(codes(&one(&f, ot)), ["BELOW_MINIMUM_WAGE"]);

        // 21 days is not a full month.
        f.attendance.insert(
            1,
            Attendance {
                days: 21,
                hours: Decimal::from(168),
            },
        );
        let mut part = l;
        part.days_worked = Decimal::from(21);
        assert!(one(&f, part).findings.is_empty());
    }

    #[test]
    fn large_net_is_a_warning_only() {
        let f = Fixture::new();
        let mut l = line(1, 1);
        l.gross = Some(money("50000.01"));
        l.deductions = Some(money("0"));
        l.net = money("50000.01");
        let m = one(&f, l.clone());
        assert_eq!(codes(&m), ["UNUSUAL_AMOUNT"]);
        assert!(m.accepted());
        l.gross = Some(money("50000"));
        l.net = money("50000");
        assert!(one(&f, l).findings.is_empty());
    }

    #[test]
    fn workers_who_attended_without_a_line_are_listed() {
        let f = Fixture::new();
        let ids = [id(1), id(2)];
        let with_lines: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let unpaid = attended_but_unpaid(&f.ctx(), &with_lines);
        // 3 and 5 attended; 4 did not; 6 belongs to another employer.
        let mut expected = vec![id(3), id(5)];
        expected.sort();
        assert_eq!(
            unpaid
                .iter()
                .map(|u| u.id_number.clone())
                .collect::<Vec<_>>(),
            expected
        );
        assert!(unpaid[0].message().contains("22 day"));
    }

    #[test]
    fn totals_count_lines_amounts_and_warnings() {
        let t = Totals::default()
            .add(true, Some(money("100")), 1)
            .and_then(|t| t.add(false, Some(money("50")), 0))
            .and_then(|t| t.add(false, None, 0))
            .unwrap();
        assert_eq!((t.lines, t.accepted, t.rejected, t.warnings), (3, 1, 2, 1));
        assert_eq!((t.amount, t.accepted_amount), (money("150"), money("100")));
    }

    #[test]
    fn codes_are_stable_and_item_keys_round_trip() {
        for kind in ItemKind::GROSS.into_iter().chain(ItemKind::DEDUCTIONS) {
            assert_eq!(ItemKind::from_key(kind.key()), Some(kind));
        }
        assert_eq!(Code::CardNotWorkers.as_str(), "CARD_NOT_WORKERS");
        assert_eq!(Code::UnusualAmount.severity(), Severity::Warning);
        assert_eq!(Code::NoAttendance.severity(), Severity::Error);
    }
}
