//! The ICBC CMS readers against the public samples in `shared/cn-bank/samples`
//! (real captures and reconstructions, GBK / GB2312 encoded): concrete values
//! from the files, and clear refusals for what is not a message.

use std::path::PathBuf;
use std::str::FromStr;

use bank_adapters::cn_icbc::{self, qpayper};
use bank_adapters::error::ReadError;
use bank_adapters::model::{Direction, PaymentStatus};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

fn samples_dir() -> PathBuf {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    shared.join("cn-bank/samples")
}

fn sample(name: &str) -> Vec<u8> {
    let path = samples_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yuan(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

#[test]
fn payper_request_from_york_young_reads_amounts_in_fen() {
    let batch = cn_icbc::read_payper(&sample("icbc.PAYPER.request__york-young-NC.xml")).unwrap();
    assert_eq!(batch.message_id, "11111122211");
    // TranDate 20200701 TranTime 151511234, Beijing time.
    let created =
        Utc.with_ymd_and_hms(2020, 7, 1, 7, 15, 11).unwrap() + chrono::Duration::milliseconds(234);
    assert_eq!(batch.created_at, created);
    assert_eq!(
        batch.requested_execution_date,
        NaiveDate::from_ymd_opt(2020, 7, 1).unwrap()
    );
    assert_eq!(batch.debtor.number, "1102021929000036344");
    assert_eq!(
        batch.debtor.name.as_deref(),
        Some("强貌坡迄匆末魏输移氯零闸兔迄")
    );
    assert_eq!(batch.lines.len(), 2);
    // PayAmt 1 = one fen; TotalAmt 2.
    assert_eq!(batch.lines[0].amount.value, yuan("0.01"));
    assert_eq!(batch.lines[0].amount.currency, "CNY");
    assert_eq!(batch.control_sum(), yuan("0.02"));
    // No Ref in this capture: the row's iSeqno stands in.
    assert_eq!(batch.lines[0].end_to_end_id, "12211");
    assert_eq!(batch.lines[1].end_to_end_id, "111");
    assert_eq!(batch.lines[0].creditor.number, "1102022009000767169");
    assert_eq!(
        batch.lines[0].creditor.name.as_deref(),
        Some("强貌坡迄匆末魏输移氯零闸涛建桂迄")
    );
    assert_eq!(batch.lines[1].creditor.number, "1102027009913534215");
}

#[test]
fn payper_request_from_cmp_simulator_gb2312_reads_ref_oref_and_postscript() {
    let batch = cn_icbc::read_payper(&sample(
        "icbc.PAYPER.request__xiaojiaye-CMPSimulator-reconstructed.xml",
    ))
    .unwrap();
    assert_eq!(batch.message_id, "20200921103015123");
    assert_eq!(batch.lines.len(), 2);
    let line = &batch.lines[0];
    assert_eq!(line.end_to_end_id, "RefNO111");
    assert_eq!(line.instruction_id.as_deref(), Some("OrefNo222"));
    assert_eq!(line.remittance.as_deref(), Some("PostScript附言"));
    assert_eq!(line.amount.value, yuan("0.01"));
    assert_eq!(line.creditor.name.as_deref(), Some("乒豌"));
    assert_eq!(
        line.creditor.bank_name.as_deref(),
        Some("中国工商银行长沙某测试支行")
    );
    assert_eq!(
        batch.debtor.name.as_deref(),
        Some("袋两辐韦韦诬履增魏输移氯")
    );
}

#[test]
fn payper_acknowledgement_is_accepted_not_paid() {
    let report =
        cn_icbc::read_qpayper(&sample("icbc.PAYPER.response__chd-EnterpriseSendData.xml")).unwrap();
    assert_eq!(report.original_message_id, "1320170115000008");
    assert_eq!(report.group_status_code.as_deref(), Some("0"));
    assert_eq!(report.group_status, Some(PaymentStatus::Accepted));
    assert_eq!(report.message_id, None, "SerialNo is empty in this capture");
    assert!(report.lines.is_empty());
    assert!(!cn_icbc::is_duplicate_submission(&report));
}

#[test]
fn qpayper_result_rows_are_pending_pending_settled() {
    let report =
        cn_icbc::read_qpayper(&sample("icbc.QPAYPER.response__york-young-NC.xml")).unwrap();
    assert_eq!(report.group_status_code.as_deref(), Some("0"));
    assert_eq!(report.group_status, Some(PaymentStatus::Accepted));
    // The query named the package by serial number only.
    assert_eq!(report.original_message_id, "CMN750958568");
    assert_eq!(report.message_id.as_deref(), Some("20200630121234456"));
    let codes: Vec<&str> = report
        .lines
        .iter()
        .map(|l| l.status_code.as_str())
        .collect();
    assert_eq!(codes, ["0", "0", "7"]);
    let statuses: Vec<PaymentStatus> = report.lines.iter().map(|l| l.status).collect();
    assert_eq!(
        statuses,
        [
            PaymentStatus::Pending,
            PaymentStatus::Pending,
            PaymentStatus::Settled
        ]
    );
    // No Ref echoed: rows are keyed by the original row's iSeqno (QryiSeqno).
    let ids: Vec<&str> = report
        .lines
        .iter()
        .map(|l| l.end_to_end_id.as_str())
        .collect();
    assert_eq!(ids, ["111", "1111", "1111"]);
    assert!(report.lines.iter().all(|l| l.reason.is_none()));
}

#[test]
fn qpayper_request_names_the_package_by_serial_number() {
    let query = cn_icbc::read_qpayper_request(&sample(
        "icbc.QPAYPER.request__york-young-NC-reconstructed.xml",
    ))
    .unwrap();
    assert_eq!(query.message_id, "20200630121234456");
    assert_eq!(query.original_message_id, None);
    assert_eq!(query.serial_no.as_deref(), Some("CMN750958568"));
}

#[test]
fn qhisd_requests_read_account_dates_and_empty_next_tag() {
    let old = cn_icbc::read_qhisd_request(&sample("icbc.QHISD.request__Fleetingold-JavaStudy.xml"))
        .unwrap();
    assert_eq!(old.account, "1302015009022576202");
    assert_eq!(old.begin, NaiveDate::from_ymd_opt(2018, 1, 1).unwrap());
    assert_eq!(old.end, NaiveDate::from_ymd_opt(2018, 1, 31).unwrap());
    assert_eq!(old.next_tag, None);
    assert_eq!(old.message_id, "20180321.095539.ZFF");
    let new = cn_icbc::read_qhisd_request(&sample(
        "icbc.QHISD.request__xiaojiaye-CMPSimulator-reconstructed.xml",
    ))
    .unwrap();
    assert_eq!(new.account, "1901018609100152155");
    assert_eq!(new.begin, NaiveDate::from_ymd_opt(2020, 9, 1).unwrap());
}

#[test]
fn qhisd_reconstructed_response_reads_directions_fen_and_references() {
    let page = cn_icbc::read_qhisd_page(&sample(
        "icbc.QHISD.response__JackLijm-springmvcdemo-template-reconstructed.xml",
    ))
    .unwrap();
    assert_eq!(page.next_tag, None);
    let statement = page.statement;
    assert_eq!(statement.account.number, "1901018609100152155");
    assert_eq!(
        statement.account.name.as_deref(),
        Some("袋两辐韦韦诬履增魏输移氯")
    );
    assert_eq!(statement.currency.as_deref(), Some("CNY"));
    assert_eq!(statement.entries.len(), 2);
    assert_eq!(
        statement
            .stated_summary
            .as_ref()
            .and_then(|s| s.entry_count),
        Some(2)
    );

    let credit = &statement.entries[0];
    assert_eq!(credit.direction, Direction::Credit);
    assert_eq!(credit.amount.value, yuan("1000.00"));
    assert_eq!(credit.booking_date, NaiveDate::from_ymd_opt(2020, 9, 18));
    assert_eq!(
        credit.account_servicer_reference.as_deref(),
        Some("20262000011")
    );
    assert_eq!(credit.additional_info.as_deref(), Some("备用金"));

    let debit = &statement.entries[1];
    assert_eq!(debit.direction, Direction::Debit);
    assert_eq!(debit.amount.value, yuan("0.01"));
    let detail = &debit.transactions[0];
    assert_eq!(detail.end_to_end_id.as_deref(), Some("RefNO111"));
    assert_eq!(detail.instruction_id.as_deref(), Some("OrefNo222"));
    assert_eq!(detail.remittance.as_deref(), Some("PostScript附言"));
    let counterparty = detail.counterparty.as_ref().unwrap();
    assert_eq!(counterparty.number, "6217231901000337653");
    assert_eq!(counterparty.name.as_deref(), Some("乒豌"));

    // Balances 100000 then 99999 fen chain: opened at 0, closed at 999.99.
    assert_eq!(
        statement.opening_balance.as_ref().unwrap().amount.value,
        yuan("0")
    );
    assert_eq!(
        statement.closing_balance.as_ref().unwrap().amount.value,
        yuan("999.99")
    );
    assert_eq!(statement.total_credits(), Some(yuan("1000")));
    assert_eq!(statement.total_debits(), Some(yuan("0.01")));
}

#[test]
fn qhisd_template_with_field_names_for_values_is_refused_clearly() {
    let err = cn_icbc::read_qhisd(&sample(
        "icbc.QHISD.response__JackLijm-springmvcdemo-template.xml",
    ))
    .unwrap_err();
    match &err {
        ReadError::Invalid { position, message } => {
            assert!(message.contains("template"), "{message}");
            assert!(message.contains("交易代码"), "{message}");
            assert_eq!(position.path, "/CMS/eb/pub/TransCode");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn qpd_todays_detail_reads_57_one_fen_debits_with_our_references() {
    let page =
        cn_icbc::read_qhisd_page(&sample("icbc.QPD.response__xiaojiaye-CMPSimulator.xml")).unwrap();
    let statement = page.statement;
    assert_eq!(statement.entries.len(), 57);
    assert!(statement
        .entries
        .iter()
        .all(|e| e.direction == Direction::Debit && e.amount.value == yuan("0.01")));
    assert_eq!(statement.total_debits(), Some(yuan("0.57")));
    let first = &statement.entries[0];
    assert_eq!(
        first.account_servicer_reference.as_deref(),
        Some("20177000057")
    );
    assert_eq!(first.booking_date, NaiveDate::from_ymd_opt(2020, 6, 14));
    assert_eq!(first.value_date, NaiveDate::from_ymd_opt(2020, 6, 25));
    assert_eq!(
        first.transactions[0].end_to_end_id.as_deref(),
        Some("RefNO111")
    );
    // QPD has no running balance.
    assert_eq!(statement.opening_balance, None);
    assert_eq!(statement.closing_balance, None);
}

#[test]
fn readers_refuse_the_wrong_package_type_with_a_clear_message() {
    let err = cn_icbc::read_qhisd(&sample("icbc.QPAYPER.response__york-young-NC.xml")).unwrap_err();
    assert!(err.to_string().contains("QPAYPER"), "{err}");
    let err = cn_icbc::read_payper(&sample("icbc.PAYPER.response__chd-EnterpriseSendData.xml"))
        .unwrap_err();
    assert!(err.to_string().contains("response"), "{err}");
    let err = cn_icbc::read_qpayper(&sample("icbc.PAYPER.request__york-young-NC.xml")).unwrap_err();
    assert!(err.to_string().contains("request"), "{err}");
}

#[test]
fn every_sample_is_read_or_refused_without_panicking() {
    let mut read = 0;
    for entry in std::fs::read_dir(samples_dir()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let outcomes = [
            cn_icbc::read_payper(&bytes).is_ok(),
            cn_icbc::read_qpayper(&bytes).is_ok(),
            cn_icbc::read_qhisd(&bytes).is_ok(),
            cn_icbc::read_qpayper_request(&bytes).is_ok(),
            cn_icbc::read_qhisd_request(&bytes).is_ok(),
        ];
        read += outcomes.iter().filter(|ok| **ok).count();
    }
    // Every ICBC sample but the template is one of the five.
    assert_eq!(read, 9);
}

#[test]
fn duplicate_package_id_is_exposed_as_query_it() {
    let ack = "<?xml version=\"1.0\" encoding=\"GBK\"?><CMS><eb><pub><TransCode>PAYPER</TransCode>\
               <CIS>1</CIS><BankCode>102</BankCode><ID>x</ID><TranDate>20240105</TranDate>\
               <TranTime>101010000</TranTime><fSeqno>B-2024-01</fSeqno><SerialNo></SerialNo>\
               <RetCode>B0012</RetCode><RetMsg>指令包序列号为空或重复</RetMsg></pub></eb></CMS>";
    let bytes = encoding_rs::GBK.encode(ack).0.into_owned();
    let report = cn_icbc::read_qpayper(&bytes).unwrap();
    assert!(cn_icbc::is_duplicate_submission(&report));
    assert_eq!(report.group_status, Some(PaymentStatus::Unknown));
    assert_eq!(report.original_message_id, "B-2024-01");
    let reason = report.group_reason.unwrap();
    assert_eq!(reason.code.as_deref(), Some(qpayper::DUPLICATE_PACKAGE));
    assert_eq!(reason.text.as_deref(), Some("指令包序列号为空或重复"));
}
