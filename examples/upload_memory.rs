//! Peak memory of reading the largest accepted upload, measured from outside:
//!
//! ```text
//! cargo run --example upload_memory -- write xlsx 100000 /tmp/payroll.xlsx
//! /usr/bin/time -v target/debug/examples/upload_memory read /tmp/payroll.xlsx
//! ```
//!
//! `write` makes a 工资表 of that many lines (a title row, a header, a total
//! row) as CSV or XLSX; `read` reads it as the payroll upload would and
//! prints the rows and the time taken. The README states the bound found.

use std::time::Instant;

use anyhow::{bail, Context};
use wagebridge::tabular::{columns, read_upload, Limits, Upload, XLSX};

const HEADER: [&str; 7] = [
    "序号",
    "姓名",
    "身份证号",
    "银行卡号",
    "出勤天数",
    "应发工资",
    "实发工资",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["write", format, rows, path] => write(format, rows.parse()?, path),
        ["read", path] => read(path),
        _ => bail!("usage: upload_memory write csv|xlsx ROWS PATH | read PATH"),
    }
}

fn line(i: u32) -> [String; 7] {
    [
        (i + 1).to_string(),
        "张三".to_owned(),
        "110105194912310021".to_owned(),
        "6222021234567890128".to_owned(),
        "22".to_owned(),
        "5500.50".to_owned(),
        "5500.50".to_owned(),
    ]
}

fn write(format: &str, rows: u32, path: &str) -> anyhow::Result<()> {
    let bytes = match format {
        "csv" => {
            let mut text = String::from("某项目2026年10月农民工工资表\n");
            text.push_str(&HEADER.join(","));
            text.push('\n');
            for i in 0..rows {
                text.push_str(&line(i).join(","));
                text.push('\n');
            }
            text.push_str("合计,,,,,,\n");
            text.into_bytes()
        }
        "xlsx" => {
            let mut workbook = rust_xlsxwriter::Workbook::new();
            let sheet = workbook.add_worksheet();
            sheet.write_string(0, 0, "某项目2026年10月农民工工资表")?;
            for (c, h) in HEADER.iter().enumerate() {
                sheet.write_string(1, c as u16, *h)?;
            }
            for i in 0..rows {
                for (c, v) in line(i).iter().enumerate() {
                    match v.parse::<f64>() {
                        Ok(n) if c != 2 && c != 3 => sheet.write_number(i + 2, c as u16, n)?,
                        _ => sheet.write_string(i + 2, c as u16, v)?,
                    };
                }
            }
            sheet.write_string(rows + 2, 0, "合计")?;
            workbook.save_to_buffer()?
        }
        other => bail!("unknown format {other}"),
    };
    std::fs::write(path, &bytes).with_context(|| format!("writing {path}"))?;
    println!("{path}: {} bytes", bytes.len());
    Ok(())
}

fn read(path: &str) -> anyhow::Result<()> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let media_type = if path.ends_with(".xlsx") {
        XLSX
    } else {
        "text/csv"
    };
    let started = Instant::now();
    let table = read_upload(
        Upload {
            media_type,
            charset: None,
            bytes: &bytes,
        },
        &columns::PAYROLL,
        &Limits::default(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{path}: {} bytes, {} rows read in {:?}",
        bytes.len(),
        table.rows.len(),
        started.elapsed()
    );
    Ok(())
}
