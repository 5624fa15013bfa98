//! What a roster says about a worker belongs to that project: another tenant
//! uploading the same ID number never changes or reveals it, and a bank card
//! still belongs to one person across every project.

mod common;
mod payroll_common;

use common::fixtures::{card, project_body, resident_id, worker_row, World};
use common::TestApp;
use payroll_common::workers::{GOOD, GOOD_2};
use payroll_common::*;
use serde_json::{json, Value};

/// The other contractor's own project, where it may write any roster row it likes.
const C2_PROJECT: &str = "C2-2026-001";
/// Cards the attacker controls: never used by anyone on the first project.
const ATTACKER_CARD: u32 = 700;
const ATTACKER_PHONE: &str = "13999999999";

async fn c2_project(app: &TestApp, w: &World) {
    let r = app
        .send_json(
            "POST",
            &w.other_contractor.key,
            "/v1/projects",
            &project_body(C2_PROJECT, &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

async fn put_roster(app: &TestApp, key: &str, code: &str, rows: Value) -> Value {
    let r = app
        .send_json(
            "PUT",
            key,
            &format!("/v1/projects/{code}/workers"),
            &json!({ "workers": rows }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn roster(app: &TestApp, key: &str, code: &str) -> Vec<Value> {
    let r = app.get(key, &format!("/v1/projects/{code}/workers")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["workers"].as_array().cloned().unwrap_or_default()
}

/// The roster row whose masked ID number ends like `id_number`.
fn row_for<'a>(rows: &'a [Value], id_number: &str) -> &'a Value {
    let tail = &id_number[id_number.len() - 4..];
    let found: Vec<&Value> = rows
        .iter()
        .filter(|r| r["id_number"].as_str().is_some_and(|m| m.ends_with(tail)))
        .collect();
    assert_eq!(found.len(), 1, "one row for …{tail} in {rows:?}");
    found[0]
}

/// C2's row for worker 1: another name, the attacker's card, phone and bank.
fn impostor_row() -> Value {
    let mut row = worker_row(GOOD);
    row["name"] = json!("冒名");
    row["card_number"] = json!(card(ATTACKER_CARD));
    row["phone"] = json!(ATTACKER_PHONE);
    row["card_bank"] = json!("攻击者银行");
    row
}

#[actix_web::test]
async fn another_contractors_upload_leaves_the_first_projects_roster_as_it_was() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let before = roster(&app, &w.contractor.key, &w.code).await;

    let report = put_roster(
        &app,
        &w.other_contractor.key,
        C2_PROJECT,
        json!([impostor_row()]),
    )
    .await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");
    assert_eq!(report["rows"][0]["outcome"], "created", "{report}");

    let after = roster(&app, &w.contractor.key, &w.code).await;
    assert_eq!(before, after, "C1's roster changed under C2's upload");
    let mine = row_for(&after, &resident_id(GOOD));
    assert_eq!(mine["name"], "工人1");
    assert_eq!(mine["card_bank"], "中国工商银行武汉光谷支行");
    let text = serde_json::to_string(&after).unwrap_or_default();
    assert!(
        !text.contains("冒名") && !text.contains("攻击者银行"),
        "{text}"
    );

    // C2 reads back what C2 wrote, on its own project only.
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    assert_eq!(row_for(&theirs, &resident_id(GOOD))["name"], "冒名");
}

#[actix_web::test]
async fn the_subcontractors_payroll_line_with_the_real_card_is_still_accepted() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    put_roster(
        &app,
        &w.other_contractor.key,
        C2_PROJECT,
        json!([impostor_row()]),
    )
    .await;

    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    assert_eq!(codes(&answer["lines"][0]), Vec::<String>::new(), "{answer}");
    assert_eq!(answer["lines"][0]["status"], "accepted", "{answer}");

    // The attacker's card and name do not match on the first project.
    let mut forged = line(GOOD_2);
    forged["id_number"] = json!(resident_id(GOOD));
    forged["name"] = json!("冒名");
    forged["card_number"] = json!(card(ATTACKER_CARD));
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![forged])).await;
    let got = codes(&answer["lines"][0]);
    assert!(
        got.contains(&"NAME_MISMATCH".to_owned()) && got.contains(&"CARD_NOT_WORKERS".to_owned()),
        "{answer}"
    );
}

#[actix_web::test]
async fn an_upload_of_name_and_id_only_reveals_nothing_another_project_registered() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let bare = json!({
        "id_number": resident_id(GOOD),
        "name": "工人1",
        "contract_signed_on": "2026-03-10",
        "entered_on": "2026-03-15"
    });
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([bare])).await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");

    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let row = row_for(&theirs, &resident_id(GOOD));
    assert_eq!(row["phone"], Value::Null, "{row}");
    assert_eq!(row["card_number"], Value::Null, "{row}");
    assert_eq!(row["card_bank"], Value::Null, "{row}");
}

#[actix_web::test]
async fn a_card_of_another_person_is_refused_with_a_message_that_names_nobody() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let other_person = resident_id(60);
    let mut row = worker_row(60);
    row["card_number"] = json!(card(GOOD));
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([row])).await;
    let result = &report["rows"][0];
    assert_eq!(result["status"], "rejected", "{report}");
    assert_eq!(
        result["errors"][0]["code"],
        "CARD_BELONGS_TO_ANOTHER_WORKER"
    );
    assert_eq!(result["errors"][0]["field"], "card_number");

    let errors = result["errors"].to_string();
    let owner_id = resident_id(GOOD);
    for leak in [
        "工人1",
        w.code.as_str(),
        w.sub.uscc.as_str(),
        w.sub.name.as_str(),
        &owner_id[owner_id.len() - 4..],
        &owner_id[..6],
    ] {
        assert!(!errors.contains(leak), "{leak:?} in {errors}");
    }
    // Nothing was stored for the refused row.
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let tail = &other_person[other_person.len() - 4..];
    assert!(
        theirs
            .iter()
            .all(|r| !r["id_number"].as_str().is_some_and(|m| m.ends_with(tail))),
        "{theirs:?}"
    );
}

#[actix_web::test]
async fn a_worker_keeps_his_card_when_another_project_registers_him_with_it() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    // The same person, with his own card, on a second project: allowed.
    let mut row = worker_row(GOOD);
    row["phone"] = json!("13700000001");
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([row])).await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let mine = roster(&app, &w.contractor.key, &w.code).await;
    let (theirs, mine) = (
        row_for(&theirs, &resident_id(GOOD)),
        row_for(&mine, &resident_id(GOOD)),
    );
    assert_eq!(theirs["card_number"], mine["card_number"]);
    assert_ne!(
        theirs["phone"], mine["phone"],
        "each project keeps its own phone"
    );
}
