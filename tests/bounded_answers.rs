//! Upload answers stay bounded: every row is counted (by outcome and by
//! code), at most 1,000 rows are listed, and the rows a clerk must look at
//! are listed first. Read answers page.

mod common;
mod payroll_common;

use common::fixtures::{card, resident_id, worker_row, world, World};
use common::TestApp;
use serde_json::{json, Value};
use wagebridge::access::ProjectRole;
use wagebridge::registry::attendance::{self, AttendanceWrite};
use wagebridge::registry::Upload;

fn path(w: &World, rest: &str) -> String {
    format!("/v1/projects/{}{rest}", w.code)
}

async fn roster(app: &TestApp, w: &World, workers: &[u32]) {
    let rows: Vec<Value> = workers.iter().map(|n| worker_row(*n)).collect();
    let body = json!({ "workers": rows });
    let r = app
        .send_json("PUT", &w.contractor.key, &path(w, "/workers"), &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// `rows` attendance lines: the first 30 for the three workers on the roster
/// (ten days each), every 500th with hours that are no number, the rest for
/// people not on the roster.
fn attendance_csv(rows: u32) -> String {
    let mut csv = String::from("id_number,date,hours\n");
    for i in 0..rows {
        let line = if i < 30 {
            format!("{},2026-04-{:02},8\n", resident_id(1 + i % 3), 1 + i / 3)
        } else if i % 500 == 0 {
            format!("{},2026-04-01,八\n", resident_id(100 + i))
        } else {
            format!("{},2026-04-01,8\n", resident_id(100 + i))
        };
        csv.push_str(&line);
    }
    csv
}

fn listed(report: &Value) -> &Vec<Value> {
    report["rows"].as_array().expect("rows")
}

#[actix_web::test]
async fn a_large_attendance_upload_counts_every_row_and_lists_a_thousand() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster(&app, &w, &[1, 2, 3]).await;
    let csv = attendance_csv(6000);
    let r = app
        .send(
            "POST",
            &w.contractor.key,
            &path(&w, "/attendance"),
            "text/csv",
            csv.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    eprintln!(
        "6,000-line attendance CSV: {} bytes in, {} bytes answered",
        csv.len(),
        r.body.len()
    );
    let report = r.json();
    assert_eq!(report["total"], 6000);
    assert_eq!(report["accepted"], 30);
    assert_eq!(report["rejected"], 5970);
    assert_eq!(report["outcomes"], json!({ "created": 30 }));
    assert_eq!(report["errors_by_code"]["NOT_ON_ROSTER"], 5959);
    assert_eq!(report["errors_by_code"]["INVALID_NUMBER"], 11);
    assert_eq!(report["rows_omitted"], 5000);
    let rows = listed(&report);
    assert_eq!(rows.len(), 1000);
    // More rows need a look than fit: only rejected rows are listed, in order.
    assert!(rows.iter().all(|r| r["status"] == "rejected"));
    assert_eq!(rows[0]["row"], 31);
    let numbers: Vec<u64> = rows.iter().map(|r| r["row"].as_u64().unwrap()).collect();
    assert!(numbers.windows(2).all(|p| p[0] < p[1]));
    assert!(
        r.body.len() < 400_000,
        "{} bytes for 1,000 listed rows",
        r.body.len()
    );
    assert!(!r.text().contains(&resident_id(131)), "IDs stay masked");
}

#[actix_web::test]
async fn a_large_roster_upload_lists_every_rejected_row_and_fills_with_accepted_ones() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut csv =
        String::from("id_number,name,card_number,card_bank,contract_signed_on,entered_on\n");
    for n in 1..=1100u32 {
        // Every 100th row's card fails its check digit.
        let mut card_number = card(n);
        if n % 100 == 0 {
            let last = card_number.pop().unwrap_or('0');
            card_number.push(if last == '0' { '1' } else { '0' });
        }
        csv.push_str(&format!(
            "{},工人{n},{card_number},中国工商银行,2026-03-10,2026-03-15\n",
            resident_id(n)
        ));
    }
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["total"], 1100);
    assert_eq!(report["accepted"], 1089);
    assert_eq!(report["outcomes"]["created"], 1089);
    assert_eq!(report["rows_omitted"], 100);
    let rows = listed(&report);
    assert_eq!(rows.len(), 1000);
    let rejected: Vec<u64> = rows
        .iter()
        .filter(|r| r["status"] == "rejected")
        .map(|r| r["row"].as_u64().unwrap())
        .collect();
    // Row 1100 is listed although it comes after the 1,000th row.
    assert_eq!(rejected.len(), 11, "{rejected:?}");
    assert_eq!(rejected.last(), Some(&1100));
    let codes = report["errors_by_code"].as_object().expect("codes");
    assert_eq!(codes.values().filter_map(Value::as_u64).sum::<u64>(), 11);

    // Read back, the roster pages: 200 by default, at most 1,000.
    let first = app.get(&w.contractor.key, &path(&w, "/workers")).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["workers"].as_array().map(Vec::len), Some(200));
    let all = read_roster(&app, &w.contractor.key, &w, 1000).await;
    assert_eq!(all.len(), 1089);
    let mut names: Vec<&str> = all.iter().filter_map(|r| r["name"].as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 1089, "no worker twice across pages");
}

/// Every page of the roster as `key` sees it, `limit` at a time.
async fn read_roster(app: &TestApp, key: &str, w: &World, limit: u32) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit={limit}&cursor={c}"),
            None => format!("?limit={limit}"),
        };
        let r = app.get(key, &path(w, &format!("/workers{query}"))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        let workers = page["workers"].as_array().expect("workers").clone();
        assert!(workers.len() <= limit as usize);
        all.extend(workers);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

#[actix_web::test]
async fn the_roster_reads_in_pages_within_the_callers_scope() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster(&app, &w, &(1..=25).collect::<Vec<_>>()).await;
    let mut own: Vec<Value> = (26..=32).map(worker_row).collect();
    for row in &mut own {
        row["employer_uscc"] = json!(w.sub.uscc);
    }
    let body = json!({ "workers": own });
    let r = app
        .send_json("PUT", &w.contractor.key, &path(&w, "/workers"), &body)
        .await;
    assert_eq!(r.json()["accepted"], 7, "{}", r.text());

    let pages = read_roster(&app, &w.contractor.key, &w, 10).await;
    let names: Vec<&str> = pages.iter().filter_map(|r| r["name"].as_str()).collect();
    let expected: Vec<String> = (1..=32).map(|n| format!("工人{n}")).collect();
    assert_eq!(names, expected, "entry order, each worker once");
    let sub = read_roster(&app, &w.sub.key, &w, 3).await;
    assert_eq!(
        sub.len(),
        7,
        "a subcontractor pages through its own workers only"
    );
    assert!(sub.iter().all(|r| r["employer_uscc"] == json!(w.sub.uscc)));

    // Exactly one page: no cursor to follow.
    let r = app
        .get(&w.contractor.key, &path(&w, "/workers?limit=32"))
        .await
        .json();
    assert_eq!(r["next_cursor"], Value::Null);

    // A limit that is no number fails the query string's reading as a whole.
    app.get(&w.contractor.key, &path(&w, "/workers?limit=ten"))
        .await
        .problem(400, "INVALID_QUERY");
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("cursor=abc", "cursor"),
        ("cursor=-5", "cursor"),
    ] {
        let r = app
            .get(&w.contractor.key, &path(&w, &format!("/workers?{query}")))
            .await;
        let problem = r.problem(400, "INVALID_QUERY");
        assert_eq!(problem["field"], field, "{query}: {problem}");
    }
}

/// The largest upload the reader accepts, through the use case: the answer
/// is a few hundred kilobytes, not the tens of megabytes of one entry a row.
#[actix_web::test]
async fn a_100k_line_attendance_answer_stays_small() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster(&app, &w, &[1, 2, 3]).await;
    let csv = attendance_csv(100_000);
    let upload = Upload {
        media_type: "text/csv".to_owned(),
        charset: None,
        bytes: csv.into_bytes(),
    };
    let mut conn = app.pool.get().expect("connection");
    let project = wagebridge::db::projects::find_by_code(&mut conn, &w.code)
        .expect("query")
        .expect("project");
    let contractor_id = project.contractor_id;
    let write = AttendanceWrite {
        project: &project,
        role: ProjectRole::Contractor,
        caller_id: contractor_id,
        today: app.clock.today(),
        now: app.clock.now(),
    };
    let report = attendance::record(&mut conn, write, &upload).expect("recorded");
    let answer = serde_json::to_vec(&report).expect("serialised");
    eprintln!(
        "100,000-line attendance CSV: {} bytes in, {} bytes answered",
        upload.bytes.len(),
        answer.len()
    );
    assert_eq!(report.total, 100_000);
    assert_eq!(report.rows.len(), 1000);
    assert_eq!(report.rows_omitted, 99_000);
    assert_eq!(report.errors_by_code["INVALID_NUMBER"], 199);
    assert!(answer.len() < 400_000, "{} bytes", answer.len());
}

/// A payroll of 450 lines: the subcontractor's five good workers, then 445
/// people not on the roster (rejected, but lines all the same).
async fn a_long_payroll(app: &TestApp) -> World {
    let w = payroll_common::payroll_world(app).await;
    let mut lines: Vec<Value> = (1..=5).map(payroll_common::line).collect();
    lines.extend((1000..1445).map(payroll_common::line));
    let body = payroll_common::payroll(lines);
    let r = payroll_common::submit(app, &w.sub.key, &w, &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    eprintln!(
        "450-line payroll submission: {} bytes answered",
        r.body.len()
    );
    let answer = r.json();
    assert_eq!(answer["totals"]["lines"], 450, "{}", answer["totals"]);
    w
}

#[actix_web::test]
async fn a_payrolls_lines_read_in_pages_and_its_export_holds_every_line() {
    let app = TestApp::new().await;
    let w = a_long_payroll(&app).await;
    let first = payroll_common::read(&app, &w.contractor.key, &w, "").await;
    assert_eq!(first.status, 200, "{}", first.text());
    let whole = payroll_common::read(&app, &w.contractor.key, &w, "?limit=1000").await;
    eprintln!(
        "450-line payroll read: {} bytes for the default 200 lines, {} bytes for all 450",
        first.body.len(),
        whole.body.len()
    );
    let first = first.json();
    let payroll = &first["payrolls"][0];
    assert_eq!(
        payroll["lines"].as_array().map(Vec::len),
        Some(200),
        "default page"
    );
    assert_eq!(payroll["totals"]["lines"], 450, "totals count every line");
    assert_eq!(payroll["totals"]["accepted"], 5);
    assert_eq!(payroll["next_cursor"], "200");

    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=120&cursor={c}"),
            None => "?limit=120".to_owned(),
        };
        let r = payroll_common::read(&app, &w.sub.key, &w, &query).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let view = r.json();
        let payroll = &view["payrolls"][0];
        let lines = payroll["lines"].as_array().expect("lines");
        assert!(lines.len() <= 120);
        numbers.extend(lines.iter().filter_map(|l| l["line"].as_u64()));
        match payroll["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(
        numbers,
        (1..=450).collect::<Vec<u64>>(),
        "every line once, in order"
    );

    // The export is the whole payroll, whatever the query's limit.
    let csv = payroll_common::read(&app, &w.contractor.key, &w, "?format=csv&limit=10").await;
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.text().lines().count(), 451, "header and 450 lines");

    let r = payroll_common::read(&app, &w.contractor.key, &w, "?limit=5000").await;
    assert_eq!(r.problem(400, "INVALID_QUERY")["field"], "limit");
    let r = payroll_common::read(&app, &w.contractor.key, &w, "?cursor=line-3").await;
    assert_eq!(r.problem(400, "INVALID_QUERY")["field"], "cursor");
}
