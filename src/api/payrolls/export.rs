//! A period's payrolls as a 工资表 export: the columns, CSV and XLSX.

use rust_decimal::Decimal;

use crate::api::error::ApiError;
use crate::api::spreadsheet::{neutralise_formula, Cell};
use crate::payroll::views::*;

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

pub(crate) fn export_rows(view: &PeriodView) -> Vec<Vec<Cell>> {
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

pub(crate) fn csv_export(view: &PeriodView) -> Result<Vec<u8>, ApiError> {
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
                    Cell::Text(s) => neutralise_formula(&s).into_owned(),
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

pub(crate) fn export_name(view: &PeriodView, ext: &str) -> String {
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
