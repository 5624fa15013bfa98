//! Column definitions, one per field, and the schema of each upload kind
//! built from them, so a header accepted for a field in one upload is
//! accepted for it in every upload that has the field.

/// A field: its key in JSON and in [`super::RawRow`], and the headers
/// accepted for it in CSV and XLSX (Chinese headers first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub key: &'static str,
    pub aliases: &'static [&'static str],
}

impl Column {
    /// Whether a header cell names this column (the key or an alias, ASCII
    /// case ignored).
    pub fn matches(&self, header: &str) -> bool {
        self.key.eq_ignore_ascii_case(header)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(header))
    }
}

/// How much an upload kind needs a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// No row can be read without it: a file without the column is refused.
    Essential,
    /// Each row needs it: a file without it is read, and the column is listed
    /// in [`super::Table::missing_columns`] so each row gets the reason.
    Expected,
    Optional,
}

/// One column of an upload kind.
#[derive(Debug, Clone, Copy)]
pub struct SchemaColumn {
    pub column: &'static Column,
    pub need: Need,
}

/// The columns of one upload kind.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// `roster`, `attendance` or `payroll`.
    pub kind: &'static str,
    /// The key of the row list in a JSON object body (`{"workers": [...]}`).
    pub list_key: &'static str,
    pub columns: &'static [SchemaColumn],
}

impl Schema {
    /// The column a header cell names, if any.
    pub fn find_header(&self, header: &str) -> Option<&'static SchemaColumn> {
        self.columns.iter().find(|c| c.column.matches(header))
    }

    /// The column with this JSON key.
    pub fn find_key(&self, key: &str) -> Option<&'static SchemaColumn> {
        self.columns.iter().find(|c| c.column.key == key)
    }

    /// The keys of the essential columns.
    pub fn essential(&self) -> impl Iterator<Item = &'static SchemaColumn> {
        self.columns.iter().filter(|c| c.need == Need::Essential)
    }
}

/// Headers that carry nothing for any upload (row numbers, remarks). They are
/// ignored like every unknown header, but do not count against a header row.
pub const IGNORED_HEADERS: &[&str] = &["序号", "no", "no.", "#", "备注", "remark", "remarks"];

macro_rules! column {
    ($name:ident, $key:literal, [$($alias:literal),* $(,)?]) => {
        pub static $name: Column = Column { key: $key, aliases: &[$($alias),*] };
    };
}

/// The fields, each defined once.
pub mod field {
    use super::Column;

    column!(
        ID_NUMBER,
        "id_number",
        ["身份证号", "身份证号码", "公民身份号码", "证件号码"]
    );
    column!(NAME, "name", ["姓名"]);
    column!(PHONE, "phone", ["手机号", "手机号码", "电话", "联系电话"]);
    column!(
        CARD_NUMBER,
        "card_number",
        [
            "银行卡号",
            "卡号",
            "银行账号",
            "工资卡号",
            "bank_card_number"
        ]
    );
    column!(CARD_BANK, "card_bank", ["开户行", "开户银行", "bank"]);
    column!(
        EMPLOYER_USCC,
        "employer_uscc",
        ["用工单位统一社会信用代码", "所属单位信用代码"]
    );
    column!(TEAM, "team", ["班组"]);
    column!(TRADE, "trade", ["工种"]);
    column!(
        CONTRACT_SIGNED_ON,
        "contract_signed_on",
        [
            "劳动合同签订日期",
            "合同签订日期",
            "labour_contract_signed_on"
        ]
    );
    column!(ENTERED_ON, "entered_on", ["进场日期"]);
    column!(EXITED_ON, "exited_on", ["退场日期"]);
    column!(DATE, "date", ["日期", "考勤日期", "work_date"]);
    column!(HOURS, "hours", ["工时", "工作时长", "出勤工时", "小时"]);
    column!(
        SOURCE,
        "source",
        ["设备编号", "设备号", "考勤机", "考勤设备", "来源"]
    );
    column!(
        DAYS_WORKED,
        "days_worked",
        [
            "出勤天数",
            "出勤天数(天)",
            "出勤天数（天）",
            "工作天数",
            "天数"
        ]
    );
    column!(BASE_PAY, "base_pay", ["基本工资", "计时工资", "岗位工资"]);
    column!(PIECE_PAY, "piece_pay", ["计件工资"]);
    column!(OVERTIME_PAY, "overtime_pay", ["加班工资", "加班费"]);
    column!(BONUS, "bonus", ["奖金", "绩效工资", "绩效"]);
    column!(
        ALLOWANCE,
        "allowance",
        ["津贴", "补贴", "津贴补贴", "津补贴"]
    );
    column!(
        GROSS,
        "gross",
        [
            "应发工资",
            "应发金额",
            "应发合计",
            "应发工资(元)",
            "应发工资（元）"
        ]
    );
    column!(
        SOCIAL_INSURANCE,
        "social_insurance",
        ["社保", "社会保险", "代扣社保", "社保个人部分"]
    );
    column!(HOUSING_FUND, "housing_fund", ["公积金", "住房公积金"]);
    column!(INCOME_TAX, "income_tax", ["个税", "个人所得税", "代扣个税"]);
    column!(ADVANCE, "advance", ["借支", "预支", "已预支"]);
    column!(OTHER_DEDUCTIONS, "other_deductions", ["其他扣款"]);
    column!(
        DEDUCTIONS,
        "deductions",
        [
            "扣款",
            "扣款合计",
            "应扣合计",
            "代扣款",
            "扣款(元)",
            "扣款（元）"
        ]
    );
    column!(
        NET,
        "net",
        [
            "实发工资",
            "实发金额",
            "实发合计",
            "实发工资(元)",
            "实发工资（元）"
        ]
    );
    column!(
        DAILY_RATE,
        "daily_rate",
        ["日工资", "日工资标准", "工价", "单价"]
    );
    column!(
        SIGNATURE,
        "signature",
        ["本人签字", "签字", "签名", "领款人签字", "工人签字"]
    );
}

const fn col(column: &'static Column, need: Need) -> SchemaColumn {
    SchemaColumn { column, need }
}

use Need::{Essential, Expected, Optional};

/// 花名册: the roster of a project.
pub static ROSTER: Schema = Schema {
    kind: "roster",
    list_key: "workers",
    columns: &[
        col(&field::ID_NUMBER, Essential),
        col(&field::NAME, Expected),
        col(&field::PHONE, Optional),
        col(&field::CARD_NUMBER, Optional),
        col(&field::CARD_BANK, Optional),
        col(&field::EMPLOYER_USCC, Optional),
        col(&field::TEAM, Optional),
        col(&field::TRADE, Optional),
        // Missing, each row is taken with a warning (条例 art. 28).
        col(&field::CONTRACT_SIGNED_ON, Expected),
        col(&field::ENTERED_ON, Expected),
        col(&field::EXITED_ON, Optional),
    ],
};

/// 考勤: attendance records, as gate devices export them.
pub static ATTENDANCE: Schema = Schema {
    kind: "attendance",
    list_key: "records",
    columns: &[
        col(&field::ID_NUMBER, Essential),
        col(&field::DATE, Expected),
        col(&field::HOURS, Expected),
        col(&field::SOURCE, Optional),
        col(&field::NAME, Optional),
    ],
};

/// 工资表: a payroll. Team, trade, bank, phone, daily rate and signature are
/// on a paper 工资表 and accepted, though the roster holds what counts.
pub static PAYROLL: Schema = Schema {
    kind: "payroll",
    list_key: "lines",
    columns: &[
        col(&field::ID_NUMBER, Essential),
        col(&field::NAME, Expected),
        col(&field::CARD_NUMBER, Expected),
        col(&field::DAYS_WORKED, Expected),
        col(&field::HOURS, Optional),
        col(&field::BASE_PAY, Optional),
        col(&field::PIECE_PAY, Optional),
        col(&field::OVERTIME_PAY, Optional),
        col(&field::BONUS, Optional),
        col(&field::ALLOWANCE, Optional),
        col(&field::GROSS, Expected),
        col(&field::SOCIAL_INSURANCE, Optional),
        col(&field::HOUSING_FUND, Optional),
        col(&field::INCOME_TAX, Optional),
        col(&field::ADVANCE, Optional),
        col(&field::OTHER_DEDUCTIONS, Optional),
        col(&field::DEDUCTIONS, Optional),
        col(&field::NET, Essential),
        col(&field::TEAM, Optional),
        col(&field::TRADE, Optional),
        col(&field::CARD_BANK, Optional),
        col(&field::PHONE, Optional),
        col(&field::DAILY_RATE, Optional),
        col(&field::SIGNATURE, Optional),
    ],
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_alias_names_one_field_only() {
        let all: Vec<&Column> = [&ROSTER, &ATTENDANCE, &PAYROLL]
            .iter()
            .flat_map(|s| s.columns.iter().map(|c| c.column))
            .collect();
        for a in &all {
            for name in a.aliases.iter().chain([&a.key]) {
                let owners: std::collections::BTreeSet<&str> = all
                    .iter()
                    .filter(|c| c.matches(name))
                    .map(|c| c.key)
                    .collect();
                assert_eq!(owners.len(), 1, "{name} names {owners:?}");
                assert!(!IGNORED_HEADERS.contains(name));
            }
        }
    }

    #[test]
    fn shared_fields_accept_the_same_headers_in_every_upload() {
        for header in ["公民身份号码", "证件号码"] {
            for schema in [&ROSTER, &ATTENDANCE, &PAYROLL] {
                assert_eq!(
                    schema.find_header(header).map(|c| c.column.key),
                    Some("id_number")
                );
            }
        }
        for header in ["卡号", "银行账号", "工资卡号"] {
            assert_eq!(
                ROSTER.find_header(header).map(|c| c.column.key),
                Some("card_number")
            );
        }
        assert_eq!(
            PAYROLL.find_header("电话").map(|c| c.column.key),
            Some("phone")
        );
        assert_eq!(
            ATTENDANCE.find_header("设备编号").map(|c| c.column.key),
            Some("source")
        );
        assert_eq!(
            ATTENDANCE.find_header("工作时长").map(|c| c.column.key),
            Some("hours")
        );
    }

    #[test]
    fn only_the_id_number_and_net_pay_are_essential() {
        let essential = |s: &Schema| s.essential().map(|c| c.column.key).collect::<Vec<_>>();
        assert_eq!(essential(&ROSTER), ["id_number"]);
        assert_eq!(essential(&ATTENDANCE), ["id_number"]);
        assert_eq!(essential(&PAYROLL), ["id_number", "net"]);
    }
}
