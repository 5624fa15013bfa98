//! A project ready for an October 2026 payroll: the subcontractor's workers on
//! the roster with attendance planted for each matching rule, and helpers to
//! submit, confirm and approve.

#![allow(dead_code)]

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::fixtures::{card, resident_id, worker_row, world, World};
use diesel::RunQueryDsl;
use wagebridge::notify::{Dispatcher, NotifySettings, Transport};

use crate::common::{Reply, TestApp};

pub const PERIOD: &str = "2026-10";

/// Workers of the subcontractor and how they stand in October 2026.
pub mod workers {
    /// 22 days of attendance; a clean line is accepted.
    pub const GOOD: u32 = 1;
    pub const GOOD_2: u32 = 2;
    pub const GOOD_3: u32 = 3;
    pub const GOOD_4: u32 = 4;
    pub const GOOD_5: u32 = 5;
    /// 22 days of attendance, then the roster was corrected: he left on 2026-09-30.
    pub const LEFT_IN_SEPTEMBER: u32 = 6;
    /// On the roster, no attendance in October.
    pub const NO_ATTENDANCE: u32 = 7;
    /// 10 days of attendance.
    pub const TEN_DAYS: u32 = 8;
    /// 22 days of attendance and never on the payroll: ATTENDED_BUT_UNPAID.
    pub const UNPAID: u32 = 9;
    /// 15 days of attendance (not a full month).
    pub const FIFTEEN_DAYS: u32 = 10;
    pub const GOOD_11: u32 = 11;
    pub const GOOD_12: u32 = 12;
    /// The general contractor's own employee, 22 days.
    pub const CONTRACTORS_OWN: u32 = 20;
    /// Not on the roster at all.
    pub const STRANGER: u32 = 99;
}

pub fn project_path(w: &World, rest: &str) -> String {
    format!("/v1/projects/{}{rest}", w.code)
}

fn attendance(n: u32, days: u32) -> Vec<Value> {
    (1..=days)
        .map(|d| json!({ "id_number": resident_id(n), "date": format!("2026-10-{d:02}"), "hours": 8 }))
        .collect()
}

async fn ok(r: Reply) -> Value {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The world of the registry tests plus the October roster and attendance above.
pub async fn payroll_world(app: &TestApp) -> World {
    let w = world(app).await;
    let sub_workers: Vec<Value> = (1..=12).map(worker_row).collect();
    let report = ok(app
        .send_json(
            "PUT",
            &w.sub.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": sub_workers }),
        )
        .await)
    .await;
    assert_eq!(report["accepted"], 12, "{report}");
    let report = ok(app
        .send_json(
            "PUT",
            &w.contractor.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": [worker_row(workers::CONTRACTORS_OWN)] }),
        )
        .await)
    .await;
    assert_eq!(report["accepted"], 1, "{report}");

    let mut records = Vec::new();
    for n in [1, 2, 3, 4, 5, 6, 9, 11, 12] {
        records.extend(attendance(n, 22));
    }
    records.extend(attendance(workers::TEN_DAYS, 10));
    records.extend(attendance(workers::FIFTEEN_DAYS, 15));
    let report = ok(app
        .send_json(
            "POST",
            &w.sub.key,
            &project_path(&w, "/attendance"),
            &json!({ "records": records }),
        )
        .await)
    .await;
    assert_eq!(report["rejected"], 0, "{report}");
    let report = ok(app
        .send_json(
            "POST",
            &w.contractor.key,
            &project_path(&w, "/attendance"),
            &json!({ "records": attendance(workers::CONTRACTORS_OWN, 22) }),
        )
        .await)
    .await;
    assert_eq!(report["rejected"], 0, "{report}");

    let mut left = worker_row(workers::LEFT_IN_SEPTEMBER);
    left["exited_on"] = json!("2026-09-30");
    ok(app
        .send_json(
            "PUT",
            &w.sub.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": [left] }),
        )
        .await)
    .await;
    w
}

/// A clean line for worker `n`: 22 days, 6000 − 500 = 5500.
pub fn line(n: u32) -> Value {
    json!({
        "id_number": resident_id(n),
        "name": format!("工人{n}"),
        "card_number": card(n),
        "days_worked": 22,
        "hours": 176,
        "gross": "6000.00",
        "deductions": "500.00",
        "net": "5500.00"
    })
}

pub fn payroll(lines: Vec<Value>) -> Value {
    json!({ "period": PERIOD, "lines": lines })
}

pub async fn submit(app: &TestApp, key: &str, w: &World, body: &Value) -> Reply {
    app.send_json("POST", key, &project_path(w, "/payrolls"), body)
        .await
}

/// Submits and expects 201.
pub async fn submitted(app: &TestApp, key: &str, w: &World, body: &Value) -> Value {
    let r = submit(app, key, w, body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()
}

pub async fn submit_with_key(
    app: &TestApp,
    key: &str,
    w: &World,
    idempotency_key: &str,
    body: &Value,
) -> Reply {
    app.request(
        TestRequest::post()
            .uri(&project_path(w, "/payrolls"))
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("Content-Type", "application/json"))
            .insert_header(("Idempotency-Key", idempotency_key))
            .set_payload(serde_json::to_vec(body).expect("json")),
    )
    .await
}

/// The codes of one line of a submission answer, in order.
pub fn codes(line: &Value) -> Vec<String> {
    line["reasons"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| r["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Where this app's file sink writes: one file per test database.
pub fn outbox_file(app: &TestApp) -> std::path::PathBuf {
    std::env::temp_dir()
        .join("wagebridge-test-outbox")
        .join(format!("{}.jsonl", app.db.name))
}

pub const PUBLIC_URL: &str = "https://wagebridge.test";

/// The notifier's settings in the tests: the file sink above, links to [`PUBLIC_URL`].
pub fn notify_settings(app: &TestApp) -> NotifySettings {
    NotifySettings {
        public_url: PUBLIC_URL.to_owned(),
        token_days: 60,
        transport: Transport::File(outbox_file(app)),
    }
}

/// Runs one dispatch round (what `serve` does every two seconds) and returns
/// every message the file sink has received so far, oldest first.
pub async fn deliver(app: &TestApp) -> Vec<Value> {
    let settings = notify_settings(app);
    let sink = settings.sink();
    Dispatcher::new(app.pool.clone(), app.clock.clone(), settings, sink)
        .run_once()
        .await
        .expect("a dispatch round");
    sent_messages(app)
}

/// What the file sink holds, without dispatching.
pub fn sent_messages(app: &TestApp) -> Vec<Value> {
    match std::fs::read_to_string(outbox_file(app)) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The database id of a line of a submission answer.
pub fn line_id(app: &TestApp, answer: &Value, line_index: usize) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        id: i64,
    }
    let mut conn = app.db.conn();
    let found: Id = diesel::sql_query(
        "SELECT l.id FROM payroll_lines l
           JOIN payrolls p ON p.id = l.payroll_id
           JOIN projects j ON j.id = p.project_id
           JOIN organizations o ON o.id = p.employer_id
          WHERE j.code = $1 AND p.period = $2 AND p.revision = $3 AND o.uscc = $4 AND l.line_no = $5",
    )
    .bind::<diesel::sql_types::Text, _>(answer["project"].as_str().unwrap_or(""))
    .bind::<diesel::sql_types::Text, _>(answer["period"].as_str().unwrap_or(""))
    .bind::<diesel::sql_types::Int4, _>(answer["revision"].as_i64().unwrap_or(0) as i32)
    .bind::<diesel::sql_types::Text, _>(answer["employer"]["uscc"].as_str().unwrap_or(""))
    .bind::<diesel::sql_types::Int4, _>(answer["lines"][line_index]["line"].as_i64().unwrap_or(0) as i32)
    .get_result(&mut conn)
    .unwrap_or_else(|e| panic!("line {line_index} of {answer}: {e}"));
    found.id
}

/// The worker's token for a line of a submission answer, as the file sink got
/// it (the latest one sent for that line), delivering what is due first.
pub async fn token(app: &TestApp, answer: &Value, line_index: usize) -> String {
    let id = line_id(app, answer, line_index);
    let messages = deliver(app).await;
    let link = messages
        .iter()
        .rev()
        .find(|m| m["line_id"] == id)
        .and_then(|m| m["link"].as_str())
        .unwrap_or_else(|| panic!("no message for line {line_index} of {answer}"));
    link.rsplit('/').next().unwrap_or("").to_owned()
}

/// A request without an API key (what the worker's phone sends).
pub async fn confirm(app: &TestApp, token: &str, body: &Value) -> Reply {
    app.request(
        TestRequest::post()
            .uri(&format!("/v1/confirmations/{token}"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(serde_json::to_vec(body).expect("json")),
    )
    .await
}

pub async fn approve(app: &TestApp, key: &str, w: &World) -> Reply {
    app.send(
        "POST",
        key,
        &project_path(w, &format!("/payrolls/{PERIOD}/approve")),
        "application/json",
        Vec::new(),
    )
    .await
}

pub async fn read(app: &TestApp, key: &str, w: &World, query: &str) -> Reply {
    app.get(key, &project_path(w, &format!("/payrolls/{PERIOD}{query}")))
        .await
}
