//! The payroll upload is read through the bounded reader: a small file that
//! would unpack to gigabytes, or a line or cell past its limit, is refused as
//! a problem naming the limit, before anything large is built.

mod common;
mod payroll_common;

use common::fixtures::{card, resident_id};
use common::TestApp;
use payroll_common::workers::*;
use payroll_common::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[actix_web::test]
async fn a_sheet_reaching_cell_xfd1048576_is_refused_naming_the_limit() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "实发工资"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    assert!(bytes.len() < 16 * 1024, "{} bytes", bytes.len());
    let path = project_path(&w, &format!("/payrolls?period={PERIOD}"));
    let r = app.send("POST", &w.sub.key, &path, XLSX, bytes).await;
    assert_eq!(r.status, 422, "{}", r.text());
    let problem = r.json();
    assert_eq!(r.content_type, "application/problem+json");
    assert!(
        problem["code"]
            .as_str()
            .unwrap()
            .starts_with("UPLOAD_TOO_MANY_"),
        "{problem}"
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("max_"),
        "{problem}"
    );
}

#[actix_web::test]
async fn a_csv_line_or_cell_past_its_limit_is_refused_and_never_echoed() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let path = project_path(&w, &format!("/payrolls?period={PERIOD}"));
    let header = "姓名,身份证号,银行卡号,出勤天数,应发工资,扣款,实发工资\n";
    let long_line = format!(
        "{header}{},{},{},22,6000,500,5500\n",
        "工".repeat(30_000),
        resident_id(GOOD),
        card(GOOD)
    );
    let r = app
        .send("POST", &w.sub.key, &path, "text/csv", long_line)
        .await;
    let problem = r.problem(413, "CSV_LINE_TOO_LONG");
    assert!(problem["detail"]
        .as_str()
        .unwrap()
        .contains("max_line_bytes"));

    let long_cell = format!(
        "{header}{},{},{},22,6000,500,5500\n",
        "工".repeat(5_000),
        resident_id(GOOD),
        card(GOOD)
    );
    let r = app
        .send("POST", &w.sub.key, &path, "text/csv", long_cell)
        .await;
    let problem = r.problem(422, "CELL_TOO_LONG");
    assert_eq!(problem["field"], "name");
    assert!(!r.text().contains(&resident_id(GOOD)));
}
