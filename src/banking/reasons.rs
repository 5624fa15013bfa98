//! What a bank's reason code means, in Chinese and English: ISO 20022
//! external status reason codes, and ICBC's codes (whose own Chinese text,
//! as the bank gives it in `iRetMsg`, is shown when we do not know the code).

/// A reason in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonText {
    pub zh: String,
    pub en: String,
}

/// ISO 20022 ExternalStatusReason1Code: code, Chinese, English.
const ISO: &[(&str, &str, &str)] = &[
    ("AC01", "账号错误", "Incorrect account number"),
    ("AC02", "付款账号无效", "Invalid debtor account number"),
    ("AC03", "收款账号无效", "Invalid creditor account number"),
    ("AC04", "账户已销户", "Closed account number"),
    ("AC06", "账户已冻结", "Blocked account"),
    ("AC13", "账户类型无效", "Invalid debtor account type"),
    (
        "AG01",
        "账户不允许此交易",
        "Transaction forbidden on this account",
    ),
    ("AG02", "业务代码无效", "Invalid bank operation code"),
    ("AM01", "金额为零", "Zero amount"),
    (
        "AM02",
        "金额超过允许上限",
        "Amount exceeds the maximum allowed",
    ),
    ("AM04", "余额不足", "Insufficient funds"),
    ("AM05", "重复支付", "Duplication"),
    ("AM09", "金额有误", "Wrong amount"),
    ("AM10", "控制总额有误", "Invalid control sum"),
    ("AM18", "笔数有误", "Invalid number of transactions"),
    (
        "BE01",
        "户名与账号不符",
        "Creditor name does not match the account",
    ),
    (
        "BE04",
        "收款人地址缺失或有误",
        "Missing or incorrect creditor address",
    ),
    ("BE05", "发起方未知", "Unrecognised initiating party"),
    (
        "CUST",
        "客户要求撤销",
        "Cancelled at the customer's request",
    ),
    ("DT01", "日期无效", "Invalid date"),
    ("DU01", "报文编号重复", "Duplicate message id"),
    (
        "DU02",
        "付款信息编号重复",
        "Duplicate payment information id",
    ),
    ("FF01", "文件格式无效", "Invalid file format"),
    (
        "MS02",
        "收款方原因未说明",
        "Reason not specified by the creditor",
    ),
    ("MS03", "原因未说明", "Reason not specified by the agent"),
    ("NARR", "见附言说明", "See the narrative"),
    ("RC01", "银行代码有误", "Incorrect bank identifier"),
    (
        "RR01",
        "缺少付款方账户或身份信息",
        "Missing debtor account or identification",
    ),
    ("TM01", "超过截止时间", "Received after the cut-off time"),
];

/// ICBC's own codes we know: package and per-row results.
const ICBC: &[(&str, &str, &str)] = &[
    (
        "B0012",
        "指令包序列号为空或重复",
        "Package sequence number empty or duplicated",
    ),
    ("6", "被银行拒绝", "Rejected by the bank"),
    ("8", "指令被拒绝授权", "Authorisation refused"),
    (
        "98",
        "处理结果未知，需再次查询",
        "Outcome unknown; query again",
    ),
];

/// The texts for a reason code; `bank_text` is what the bank wrote with it.
/// A code we do not know keeps the bank's own text in both fields.
pub fn texts(code: Option<&str>, bank_text: Option<&str>) -> Option<ReasonText> {
    let bank_text = bank_text.map(str::trim).filter(|t| !t.is_empty());
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return bank_text.map(|t| ReasonText {
            zh: t.to_owned(),
            en: t.to_owned(),
        });
    };
    let known = ISO.iter().chain(ICBC.iter()).find(|(c, _, _)| *c == code);
    Some(match known {
        // NARR says: read the bank's text.
        Some((_, zh, en)) => match bank_text {
            Some(t) if code == "NARR" => ReasonText {
                zh: format!("{zh}：{t}"),
                en: format!("{en}: {t}"),
            },
            _ => ReasonText {
                zh: (*zh).to_owned(),
                en: (*en).to_owned(),
            },
        },
        None => ReasonText {
            zh: bank_text.unwrap_or(code).to_owned(),
            en: bank_text
                .map(|t| format!("Bank reason {code}: {t}"))
                .unwrap_or_else(|| format!("Bank reason {code}")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_codes_have_both_texts_and_unknown_ones_keep_the_banks() {
        let closed = texts(Some("AC04"), None).unwrap();
        assert_eq!(closed.zh, "账户已销户");
        assert_eq!(closed.en, "Closed account number");
        let icbc = texts(Some("E1234"), Some("户名不符")).unwrap();
        assert_eq!(icbc.zh, "户名不符");
        assert!(icbc.en.contains("E1234"));
        assert!(texts(None, None).is_none());
        for (code, zh, en) in ISO.iter().chain(ICBC.iter()) {
            assert!(!zh.is_empty() && !en.is_empty(), "{code}");
        }
    }
}
