//! A project ready for an October 2026 payroll: the subcontractor's workers on
//! the roster with attendance planted for each matching rule, and helpers to
//! submit, confirm and approve.

#![allow(dead_code)]

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::common::fixtures::{card, resident_id, worker_row, world, World};
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

pub fn token(answer: &Value, line_index: usize) -> String {
    answer["lines"][line_index]["confirmation_token"]
        .as_str()
        .unwrap_or_else(|| panic!("line {line_index} has no token: {answer}"))
        .to_owned()
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
