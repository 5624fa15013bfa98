//! Writes a 100,000-line pain.001 batch in both versions and prints lines/s.
//!
//! `cargo run --release -p bank-adapters --example pain001_speed -- [LINES]`

use std::time::Instant;

use bank_adapters::iso20022::{write_pain001, Pain001Version};
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let lines: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    let batch = PaymentBatch {
        message_id: "WB-B-2026-10-0001".to_owned(),
        created_at: Utc
            .with_ymd_and_hms(2026, 11, 5, 1, 30, 0)
            .single()
            .ok_or("time")?,
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 5).ok_or("date")?,
        initiating_party: "中建某局第三工程有限公司".to_owned(),
        debtor: AccountRef {
            number: "0200001019200099999".to_owned(),
            name: Some("某某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: Some("中国工商银行股份有限公司北京分行".to_owned()),
        },
        lines: (0..lines)
            .map(|i| PaymentLine {
                end_to_end_id: format!("WB-2026-10-{i:08}"),
                instruction_id: None,
                amount: Amount::cny(Decimal::new(480_000 + (i as i64 % 100_000), 2)),
                creditor: AccountRef {
                    number: format!("6222020200{i:09}"),
                    name: Some("欧阳建国".to_owned()),
                    bank_code: Some("102100099996".to_owned()),
                    bank_name: Some("中国工商银行北京分行".to_owned()),
                },
                remittance: Some("2026-10 工资".to_owned()),
            })
            .collect(),
    };
    for version in [Pain001Version::V03, Pain001Version::V09] {
        let mut best = f64::MAX;
        let mut size = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let xml = write_pain001(&batch, version)?;
            best = best.min(started.elapsed().as_secs_f64());
            size = xml.len();
        }
        println!(
            "{}: {lines} lines, {:.1} MiB in {:.1} ms: {:.0} lines/s",
            version.message_name(),
            size as f64 / 1048576.0,
            best * 1000.0,
            lines as f64 / best
        );
    }
    Ok(())
}
