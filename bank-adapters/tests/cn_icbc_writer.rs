//! What the ICBC writers put on the wire: GBK bytes, integer fen, the
//! samples' element order, and refusals instead of silent changes.

use std::path::PathBuf;
use std::str::FromStr;

use bank_adapters::cn_icbc::{self, IcbcConnection};
use bank_adapters::error::WriteError;
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

fn conn() -> IcbcConnection {
    IcbcConnection::new("110290001987990", "FangYQHL191224.y.1102")
}

fn sample(name: &str) -> Vec<u8> {
    let shared = std::env::var_os("WAGEBRIDGE_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    std::fs::read(shared.join("cn-bank/samples").join(name)).unwrap()
}

fn payroll() -> PaymentBatch {
    // 2026-10-31 09:30:00.123 Beijing time.
    let created_at =
        Utc.with_ymd_and_hms(2026, 10, 31, 1, 30, 0).unwrap() + chrono::Duration::milliseconds(123);
    PaymentBatch {
        message_id: "WB-2026-10-0001".to_owned(),
        created_at,
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        initiating_party: "某建筑工程有限公司".to_owned(),
        debtor: AccountRef {
            number: "1102021929000036344".to_owned(),
            name: Some("某建筑工程有限公司农民工工资专用账户".to_owned()),
            bank_code: None,
            bank_name: None,
        },
        lines: vec![
            PaymentLine {
                end_to_end_id: "L-0001".to_owned(),
                instruction_id: None,
                amount: Amount::cny(Decimal::from_str("1.00").unwrap()),
                creditor: AccountRef {
                    number: "6217231901000337653".to_owned(),
                    name: Some("张三".to_owned()),
                    bank_code: Some("102100099996".to_owned()),
                    bank_name: Some("中国工商银行".to_owned()),
                },
                remittance: Some("2026-10 工资".to_owned()),
            },
            PaymentLine {
                end_to_end_id: "L-0002".to_owned(),
                instruction_id: Some("I-2".to_owned()),
                amount: Amount::cny(Decimal::from_str("4350.5").unwrap()),
                creditor: AccountRef {
                    number: "6228480402564890018".to_owned(),
                    name: Some("李四".to_owned()),
                    bank_code: Some("103100000026".to_owned()),
                    bank_name: Some("中国农业银行".to_owned()),
                },
                remittance: None,
            },
        ],
    }
}

fn gbk_to_string(bytes: &[u8]) -> String {
    let (text, had_errors) = encoding_rs::GBK.decode_without_bom_handling(bytes);
    assert!(!had_errors, "the writer produced invalid GBK");
    text.into_owned()
}

/// Names of the start tags in an XML fragment, in order.
fn element_names(fragment: &str) -> Vec<String> {
    fragment
        .split('<')
        .skip(1)
        .filter(|piece| !piece.starts_with('/'))
        .map(|piece| piece.split('>').next().unwrap().to_owned())
        .collect()
}

/// Element names in order between the first `<rd>` and its `</rd>`.
fn first_row_elements(xml: &str) -> Vec<String> {
    let start = xml.find("<rd>").unwrap() + 4;
    let end = start + xml[start..].find("</rd>").unwrap();
    element_names(&xml[start..end])
}

fn value<'a>(xml: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap() + open.len();
    let end = start + xml[start..].find('<').unwrap();
    &xml[start..end]
}

#[test]
fn payper_is_gbk_with_amounts_in_whole_fen() {
    let bytes = cn_icbc::write_payper(&payroll(), &conn()).unwrap();
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "Chinese text must be GBK, not UTF-8"
    );
    let xml = gbk_to_string(&bytes);
    assert!(xml.starts_with(
        "<?xml version=\"1.0\" encoding=\"GBK\"?><CMS><eb><pub><TransCode>PAYPER</TransCode>"
    ));
    assert_eq!(value(&xml, "fSeqno"), "WB-2026-10-0001");
    assert_eq!(value(&xml, "TranDate"), "20261031");
    assert_eq!(value(&xml, "TranTime"), "093000123");
    assert_eq!(value(&xml, "SignTime"), "20261031093000123");
    assert_eq!(value(&xml, "TotalNum"), "2");
    assert_eq!(value(&xml, "TotalAmt"), "435150");
    assert_eq!(value(&xml, "PayAmt"), "100");
    assert_eq!(value(&xml, "Ref"), "L-0001");
    assert_eq!(value(&xml, "PostScript"), "2026-10 工资");
    assert_eq!(value(&xml, "UseCN"), "工资");
    assert_eq!(
        value(&xml, "SysIOFlg"),
        "1",
        "a 102… bank code is ICBC itself"
    );
    assert!(
        xml.contains("<SysIOFlg>2</SysIOFlg>"),
        "ABC is another bank"
    );
    assert!(xml.contains("<Oref>I-2</Oref>"));
}

#[test]
fn payper_rows_follow_the_element_order_of_the_real_sample() {
    let ours = gbk_to_string(&cn_icbc::write_payper(&payroll(), &conn()).unwrap());
    let theirs = gbk_to_string(&sample("icbc.PAYPER.request__york-young-NC.xml"));
    assert_eq!(first_row_elements(&ours), first_row_elements(&theirs));
    let header =
        |xml: &str| element_names(&xml[xml.find("<CMS>").unwrap()..xml.find("<rd>").unwrap()]);
    assert_eq!(header(&ours), header(&theirs));
}

#[test]
fn amounts_with_fractions_of_a_fen_are_refused() {
    let mut batch = payroll();
    batch.lines[1].amount.value = Decimal::from_str("10.005").unwrap();
    let err = cn_icbc::write_payper(&batch, &conn()).unwrap_err();
    assert!(
        matches!(&err, WriteError::Invalid { field, .. } if field == "rd[2]/PayAmt"),
        "{err:?}"
    );
}

#[test]
fn characters_gbk_cannot_encode_are_refused_not_replaced() {
    let mut batch = payroll();
    batch.lines[0].creditor.name = Some("张三😀".to_owned());
    let err = cn_icbc::write_payper(&batch, &conn()).unwrap_err();
    assert_eq!(
        err,
        WriteError::BadCharacter {
            field: "rd[1]/RecAccNameCN".to_owned(),
            character: '😀'
        }
    );
}

#[test]
fn byte_limits_count_gbk_bytes_and_refuse_overlong_text() {
    let mut batch = payroll();
    // 30 Chinese characters are 60 GBK bytes: allowed. One more is not.
    batch.lines[0].remittance = Some("工".repeat(30));
    assert!(cn_icbc::write_payper(&batch, &conn()).is_ok());
    batch.lines[0].remittance = Some("工".repeat(31));
    let err = cn_icbc::write_payper(&batch, &conn()).unwrap_err();
    assert_eq!(
        err,
        WriteError::TooLong {
            field: "rd[1]/PostScript (GBK bytes)".to_owned(),
            length: 62,
            max: 60
        }
    );
    let mut connection = conn();
    connection.purpose = "农民工工资代发十一个字".to_owned();
    let err = cn_icbc::write_payper(&payroll(), &connection).unwrap_err();
    assert!(
        matches!(
            err,
            WriteError::TooLong {
                length: 22,
                max: 20,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn batches_pay_renminbi_now_and_need_distinct_line_ids() {
    let mut future = payroll();
    future.requested_execution_date = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
    assert!(cn_icbc::write_payper(&future, &conn()).is_err());

    let mut dollars = payroll();
    dollars.lines[0].amount.currency = "USD".to_owned();
    assert!(cn_icbc::write_payper(&dollars, &conn()).is_err());

    let mut twice = payroll();
    twice.lines[1].end_to_end_id = "L-0001".to_owned();
    assert!(cn_icbc::write_payper(&twice, &conn()).is_err());

    let mut nameless = payroll();
    nameless.lines[0].creditor.name = None;
    assert!(matches!(
        cn_icbc::write_payper(&nameless, &conn()),
        Err(WriteError::Invalid { field, .. }) if field == "rd[1]/RecAccNameCN"
    ));

    let mut control = payroll();
    control.lines[0].remittance = Some("工资\n".to_owned());
    assert!(matches!(
        cn_icbc::write_payper(&control, &conn()),
        Err(WriteError::BadCharacter {
            character: '\n',
            ..
        })
    ));
}

#[test]
fn markup_in_names_is_escaped_and_reads_back() {
    let mut batch = payroll();
    batch.lines[0].creditor.name = Some("A&B <公司>".to_owned());
    let bytes = cn_icbc::write_payper(&batch, &conn()).unwrap();
    assert!(gbk_to_string(&bytes).contains("A&amp;B &lt;公司&gt;"));
    let back = cn_icbc::read_payper(&bytes).unwrap();
    assert_eq!(back.lines[0].creditor.name.as_deref(), Some("A&B <公司>"));
}

#[test]
fn connection_config_deserialises_with_defaults() {
    let connection: IcbcConnection =
        serde_json::from_str(r#"{"cis":"110290001987990","id":"FangYQHL191224.y.1102"}"#).unwrap();
    assert_eq!(connection, conn());
    assert_eq!(connection.bank_code, "102");
    assert_eq!(connection.purpose, "工资");
}
