//! Disbursement batches (代发) through the API: a batch of the approved
//! lines to the roster's cards, its file valid against the XSD, the balance
//! hold and its release, re-issue after a rejected card was corrected,
//! exceptions, idempotency, concurrency and the tenant walls.

mod common;
mod payroll_common;

use actix_web::test::TestRequest;
use common::fixtures::{card, party, worker_row, Party, World};
use common::{Reply, TestApp};
use diesel::RunQueryDsl;
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::{json, Value};
use wagebridge::access::OrgKind;

const ACCOUNT: &str = "3202000119200012345";

/// A connected bank, the project's account at it, and an approved October
/// payroll of five clean lines (5 × 5500.00).
async fn approved_world(app: &TestApp) -> (World, Party, tempfile::TempDir) {
    let w = payroll_world(app).await;
    let bank = party(app, OrgKind::Bank, 40, "中国工商银行武汉分行", None);
    let dir = tempfile::tempdir().unwrap();
    let r = app
        .send_json(
            "PUT",
            &w.admin.key,
            &format!("/v1/bank-connections/{}", bank.uscc),
            &json!({
                "dialect": {"dialect": "iso20022", "pain001_version": "09"},
                "transport": {"kind": "file_exchange", "outbox": dir.path().join("out"), "inbox": dir.path().join("in")},
                "bank_codes": ["102"],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    put_account(app, &w, "102").await;
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &project_path(&w, "/payroll-settings"),
            &json!({"allow_unconfirmed_approval": true}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    submitted(app, &w.sub.key, &w, &payroll((1..=5).map(line).collect())).await;
    assert_eq!(approve(app, &w.contractor.key, &w).await.status, 200);
    (w, bank, dir)
}

async fn put_account(app: &TestApp, w: &World, bank_code: &str) {
    let name = format!(
        "{}{}农民工工资专用账户",
        w.contractor.name,
        common::fixtures::PROJECT_NAME
    );
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &project_path(w, "/wage-account"),
            &json!({"bank_code": bank_code, "account_number": ACCOUNT, "account_name": name, "opened_on": "2026-03-20"}),
        )
        .await;
    assert!(r.status == 201 || r.status == 200, "{}", r.text());
}

/// What a statement intake stores: an end-of-day camt.053 for the account.
fn statement(app: &TestApp, closing: &str, closing_date: &str) {
    let mut conn = app.db.conn();
    let n = format!("{closing}-{closing_date}");
    diesel::sql_query(
        "WITH f AS (
            INSERT INTO bank_files (sha256, size_bytes, received_at, kind, status, processed_at)
            VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), 100, now(), 'camt.053', 'applied', now())
            RETURNING id)
         INSERT INTO bank_statements (file_id, account_number, wage_account_id, kind, statement_id,
                closing_balance, closing_date, entry_count, continuity, stored_at)
         SELECT f.id, $2, (SELECT id FROM wage_accounts WHERE account_number = $2), 'camt.053', $1,
                $3::numeric, $4::date, 0, 'first', now() FROM f",
    )
    .bind::<diesel::sql_types::Text, _>(&n)
    .bind::<diesel::sql_types::Text, _>(ACCOUNT)
    .bind::<diesel::sql_types::Text, _>(closing)
    .bind::<diesel::sql_types::Text, _>(closing_date)
    .execute(&mut conn)
    .unwrap();
}

fn disburse_path(w: &World) -> String {
    project_path(w, &format!("/payrolls/{PERIOD}/disburse"))
}

async fn disburse(app: &TestApp, key: &str, w: &World) -> Reply {
    app.send(
        "POST",
        key,
        &disburse_path(w),
        "application/json",
        Vec::new(),
    )
    .await
}

async fn disburse_with_key(app: &TestApp, key: &str, path: &str, idempotency_key: &str) -> Reply {
    app.request(
        TestRequest::post()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {key}")))
            .insert_header(("Idempotency-Key", idempotency_key)),
    )
    .await
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::Int8)]
    n: i64,
}

fn count(app: &TestApp, sql: &str) -> i64 {
    let mut conn = app.db.conn();
    diesel::sql_query(sql)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
}

fn sql(app: &TestApp, sql: &str) {
    let mut conn = app.db.conn();
    diesel::sql_query(sql).execute(&mut conn).unwrap();
}

fn file_of(app: &TestApp, batch_id: i64) -> String {
    #[derive(diesel::QueryableByName)]
    struct F {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        file_bytes: Vec<u8>,
    }
    let mut conn = app.db.conn();
    let f: F = diesel::sql_query("SELECT file_bytes FROM disbursement_batches WHERE id = $1")
        .bind::<diesel::sql_types::Int8, _>(batch_id)
        .get_result(&mut conn)
        .unwrap();
    String::from_utf8(f.file_bytes).unwrap()
}

fn payment_statuses(body: &Value) -> Vec<String> {
    body["payrolls"][0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["payment_status"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_approved_payroll_becomes_one_batch_with_its_file_lines_events_and_outbox_entry() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    statement(&app, "1000000.00", "2026-11-19");
    let r = disburse(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let text = r.text();
    let b = r.json();
    assert_eq!(b["status"], "released");
    assert_eq!(b["line_count"], 5);
    assert_eq!(b["amount"], "27500.00");
    assert_eq!(b["period"], PERIOD);
    assert_eq!(b["outbox"]["state"], "pending");
    assert_eq!(b["outbox"]["attempts"], 0);
    assert_eq!(b["file"]["format"], "pain.001.001.09");
    assert_eq!(
        b["totals"],
        json!([{"state": "reserved", "count": 5, "amount": "27500.00"}])
    );
    assert_eq!(b["skipped_count"], 0);
    let first = &b["lines"][0];
    assert_eq!(first["seq"], 1);
    assert_eq!(first["state"], "reserved");
    assert_eq!(first["worker_name"], "工人1");
    let full = card(GOOD);
    assert_eq!(
        first["card_number"],
        format!("{}********{}", &full[..4], &full[12..])
    );
    assert_eq!(first["events"][0]["cause"], "created");
    for n in 1..=5 {
        assert!(
            !text.contains(&card(n)),
            "a full card number in the answer: {text}"
        );
    }
    let id = b["id"].as_i64().unwrap();
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM disbursement_lines WHERE state = 'reserved'"
        ),
        5
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM disbursement_line_events WHERE cause = 'created'"
        ),
        5
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM disbursement_batch_events WHERE status = 'released'"
        ),
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM bank_outbox WHERE state = 'pending' AND attempts = 0"
        ),
        1
    );

    let xml = file_of(&app, id);
    bank_adapters::iso20022::validate_xml_with_xmllint(&xml)
        .unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(xml.contains(&format!("工资 {} {PERIOD}", w.code)), "{xml}");
    assert!(xml.contains(b["message_id"].as_str().unwrap()));
    assert!(xml.contains(ACCOUNT) && xml.contains(&card(GOOD)));
    assert_eq!(
        b["file"]["size_bytes"].as_u64().unwrap() as usize,
        xml.len()
    );

    let read = read(&app, &w.contractor.key, &w, "").await.json();
    assert_eq!(payment_statuses(&read), vec!["in_flight"; 5]);
    // Every line is in flight: nothing more to pay.
    disburse(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NOTHING_TO_DISBURSE");
    let one = app
        .get(
            &w.owner.key,
            &project_path(&w, &format!("/disbursements/{id}")),
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    assert_eq!(one.json()["events"][0]["status"], "released");
    let list = app
        .get(&w.regulator.key, &project_path(&w, "/disbursements"))
        .await
        .json();
    assert_eq!(list["batches"][0]["id"], id);
}

#[actix_web::test]
async fn a_batch_the_balance_does_not_cover_is_held_until_a_statement_covers_it() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    statement(&app, "20000.00", "2026-11-18");
    let r = disburse(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    assert_eq!(b["status"], "held");
    assert_eq!(b["hold_reason"], "INSUFFICIENT_BALANCE");
    assert_eq!(
        b["hold_figures"],
        json!({"last_booked_balance": "20000.00", "as_of": "2026-11-18", "credits_since": "0.00",
               "debits_since": "0.00", "reserved": "0.00", "available": "20000.00", "needed": "27500.00"})
    );
    assert_eq!(b["outbox"]["state"], "held");
    let account_id = count(&app, "SELECT id AS n FROM wage_accounts");
    let mut conn = app.pool.get().unwrap();
    let released =
        wagebridge::banking::disburse::release_covered(&mut conn, app.clock.now(), account_id)
            .unwrap();
    assert!(released.is_empty());
    statement(&app, "30000.00", "2026-11-19");
    let released =
        wagebridge::banking::disburse::release_covered(&mut conn, app.clock.now(), account_id)
            .unwrap();
    assert_eq!(released, vec![b["id"].as_i64().unwrap()]);
    let one = app
        .get(
            &w.contractor.key,
            &project_path(&w, &format!("/disbursements/{}", b["id"])),
        )
        .await
        .json();
    assert_eq!(one["status"], "released");
    assert_eq!(one["outbox"]["state"], "pending");
    assert_eq!(one["events"].as_array().unwrap().len(), 2);
    // Its lines are now reserved on the account: a second batch would need more.
    let figures = wagebridge::banking::disburse::balance::figures(
        &mut conn,
        account_id,
        None,
        "1".parse().unwrap(),
    )
    .unwrap();
    assert_eq!(figures.reserved.to_string(), "27500.00");
    assert_eq!(figures.available.to_string(), "2500.00");
}

#[actix_web::test]
async fn the_contractor_releases_a_held_batch_by_hand_once() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    let b = disburse(&app, &w.contractor.key, &w).await.json();
    assert_eq!(b["status"], "held");
    assert_eq!(b["hold_figures"]["available"], "0.00");
    let path = project_path(&w, &format!("/disbursements/{}/release", b["id"]));
    let post = |key: String| {
        let path = path.clone();
        let app = &app;
        async move {
            app.send("POST", &key, &path, "application/json", Vec::new())
                .await
        }
    };
    post(w.sub.key.clone()).await.problem(403, "FORBIDDEN");
    post(w.owner.key.clone()).await.problem(403, "FORBIDDEN");
    post(w.other_contractor.key.clone())
        .await
        .problem(404, "NOT_FOUND");
    let r = post(w.contractor.key.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let released = r.json();
    assert_eq!(released["status"], "released");
    assert_eq!(released["outbox"]["state"], "pending");
    let event = &released["events"][1];
    assert_eq!(event["note"], "released by hand");
    assert_eq!(event["actor"], w.contractor.uscc);
    post(w.contractor.key.clone())
        .await
        .problem(409, "DISBURSEMENT_NOT_HELD");
    app.send(
        "POST",
        &w.contractor.key,
        &project_path(&w, "/disbursements/999999/release"),
        "application/json",
        Vec::new(),
    )
    .await
    .problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn a_rejected_line_is_an_exception_until_its_corrected_card_is_paid_in_a_linked_batch() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    statement(&app, "1000000.00", "2026-11-19");
    let first = disburse(&app, &w.contractor.key, &w).await.json();
    let first_id = first["id"].as_i64().unwrap();
    // As a status intake would: worker 1 settled, worker 2's card closed.
    sql(&app, &format!("UPDATE disbursement_lines SET state = 'settled' WHERE seq = 1 AND batch_id = {first_id}"));
    sql(&app, &format!("UPDATE disbursement_lines SET state = 'rejected', reason_code = 'AC04', reason_text = 'account closed' WHERE seq = 2 AND batch_id = {first_id}"));

    let ex = app
        .get(
            &w.contractor.key,
            &project_path(&w, &format!("/disbursements/exceptions?period={PERIOD}")),
        )
        .await;
    assert_eq!(ex.status, 200, "{}", ex.text());
    let ex = ex.json();
    let list = ex["exceptions"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{ex}");
    assert_eq!(list[0]["worker_name"], "工人2");
    assert_eq!(list[0]["reason_code"], "AC04");
    assert_eq!(list[0]["reason_zh"], "账户已销户");
    assert_eq!(list[0]["reason_en"], "Closed account number");
    assert_eq!(list[0]["batch_id"], first_id);
    assert!(!ex.to_string().contains(&card(GOOD_2)));
    let read1 = read(&app, &w.contractor.key, &w, "").await.json();
    assert_eq!(
        payment_statuses(&read1),
        vec!["paid", "failed", "in_flight", "in_flight", "in_flight"]
    );
    assert_eq!(
        read1["payrolls"][0]["lines"][1]["payment_reason"],
        "账户已销户"
    );

    // The card is corrected on the roster, and only that line is paid again.
    let mut corrected = worker_row(GOOD_2);
    corrected["card_number"] = json!(card(202));
    let r = app
        .send_json(
            "PUT",
            &w.sub.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": [corrected] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = disburse(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let second = r.json();
    assert_eq!(second["line_count"], 1);
    assert_eq!(second["previous_batch_id"], first_id);
    let line = &second["lines"][0];
    assert_eq!(
        line["payroll_line_id"],
        first["lines"][1]["payroll_line_id"]
    );
    assert_ne!(line["end_to_end_id"], first["lines"][1]["end_to_end_id"]);
    assert!(line["card_number"]
        .as_str()
        .unwrap()
        .ends_with(&card(202)[12..]));
    assert!(file_of(&app, second["id"].as_i64().unwrap()).contains(&card(202)));
    let ex = app
        .get(
            &w.contractor.key,
            &project_path(&w, "/disbursements/exceptions"),
        )
        .await
        .json();
    assert_eq!(ex["exceptions"], json!([]));

    // A settled line is never in a new batch, and the database refuses a second attempt.
    sql(
        &app,
        "UPDATE disbursement_lines SET state = 'rejected' WHERE state IN ('reserved')",
    );
    let third = disburse(&app, &w.contractor.key, &w).await.json();
    assert_eq!(
        third["line_count"], 4,
        "every line but the settled one: {third}"
    );
    let settled_line = first["lines"][0]["payroll_line_id"].as_i64().unwrap();
    assert!(third["lines"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["payroll_line_id"] != settled_line));
    let mut conn = app.db.conn();
    let again = diesel::sql_query(format!(
        "INSERT INTO disbursement_lines (batch_id, line_id, seq, end_to_end_id, worker_id, creditor_name, card_number, amount, state, updated_at)
         SELECT {}, line_id, 99, 'EX1', worker_id, creditor_name, card_number, amount, 'reserved', now()
           FROM disbursement_lines WHERE line_id = {settled_line} LIMIT 1",
        third["id"]
    ))
    .execute(&mut conn);
    assert!(
        again.is_err(),
        "a settled line must not get a second attempt"
    );
}

#[actix_web::test]
async fn lines_without_a_card_on_the_roster_are_skipped_and_bad_states_are_refused() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    // Nothing approved yet, no account.
    disburse(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NO_WAGE_ACCOUNT");
    put_account(&app, &w, "999").await;
    disburse(&app, &w.contractor.key, &w)
        .await
        .problem(409, "BANK_NOT_CONNECTED");
    drop(w);

    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    sql(
        &app,
        &format!(
            "UPDATE roster_entries SET card_number = NULL
          WHERE worker_id = (SELECT id FROM workers WHERE id_number = '{}')",
            common::fixtures::resident_id(GOOD_3)
        ),
    );
    let r = disburse(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let b = r.json();
    assert_eq!(b["line_count"], 4);
    assert_eq!(b["skipped_count"], 1);
    assert_eq!(b["skipped"][0]["code"], "NO_CARD_ON_ROSTER");
    assert_eq!(b["skipped"][0]["worker_name"], "工人3");
    let r = disburse(&app, &w.contractor.key, &w).await;
    let p = r.problem(409, "NOTHING_TO_DISBURSE");
    assert!(p["detail"].as_str().unwrap().contains('1'), "{p}");
    app.send(
        "POST",
        &w.contractor.key,
        &project_path(&w, "/payrolls/2026-13/disburse"),
        "application/json",
        Vec::new(),
    )
    .await
    .problem(422, "OUT_OF_RANGE");
}

#[actix_web::test]
async fn an_unapproved_payroll_has_nothing_to_disburse() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let bank = party(&app, OrgKind::Bank, 40, "中国工商银行武汉分行", None);
    let dir = tempfile::tempdir().unwrap();
    let r = app
        .send_json("PUT", &w.admin.key, &format!("/v1/bank-connections/{}", bank.uscc),
            &json!({"dialect": {"dialect": "iso20022"}, "bank_codes": ["102"],
                    "transport": {"kind": "file_exchange", "outbox": dir.path().join("o"), "inbox": dir.path().join("i")}}))
        .await;
    assert_eq!(r.status, 201);
    put_account(&app, &w, "102").await;
    submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    disburse(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NOTHING_TO_DISBURSE");
}

#[actix_web::test]
async fn two_disbursements_at_once_make_one_batch() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    statement(&app, "1000000.00", "2026-11-19");
    let (a, b) = futures_util::future::join(
        disburse(&app, &w.contractor.key, &w),
        disburse(&app, &w.contractor.key, &w),
    )
    .await;
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.text(), b.text());
    let refused = if a.status == 409 { a } else { b };
    refused.problem(409, "NOTHING_TO_DISBURSE");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM disbursement_batches"),
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM disbursement_lines"),
        5
    );
}

#[actix_web::test]
async fn the_same_idempotency_key_replays_the_first_answer() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    statement(&app, "1000000.00", "2026-11-19");
    let path = disburse_path(&w);
    let first = disburse_with_key(&app, &w.contractor.key, &path, "k-1").await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = disburse_with_key(&app, &w.contractor.key, &path, "k-1").await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json(), first.json());
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM disbursement_batches"),
        1
    );
    // A refusal is replayed too, and the key is not for another request.
    let refused = disburse_with_key(&app, &w.contractor.key, &path, "k-2").await;
    refused.problem(409, "NOTHING_TO_DISBURSE");
    disburse_with_key(&app, &w.contractor.key, &path, "k-2")
        .await
        .problem(409, "NOTHING_TO_DISBURSE");
    disburse_with_key(
        &app,
        &w.contractor.key,
        &project_path(&w, "/payrolls/2026-09/disburse"),
        "k-1",
    )
    .await
    .problem(422, "IDEMPOTENCY_KEY_REUSED");
}

#[actix_web::test]
async fn every_disbursement_endpoint_keeps_the_tenant_walls() {
    let app = TestApp::new().await;
    let (w, _bank, _dir) = approved_world(&app).await;
    // A subcontractor does not disburse; a foreign contractor learns nothing.
    disburse(&app, &w.sub.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    disburse(&app, &w.owner.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    disburse(&app, &w.regulator.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    disburse(&app, &w.other_contractor.key, &w)
        .await
        .problem(404, "NOT_FOUND");
    assert_eq!(
        count(&app, "SELECT count(*) AS n FROM disbursement_batches"),
        0
    );
    let b = disburse(&app, &w.contractor.key, &w).await.json();
    let reads = [
        project_path(&w, "/disbursements"),
        project_path(&w, &format!("/disbursements/{}", b["id"])),
        project_path(&w, "/disbursements/exceptions"),
    ];
    for path in &reads {
        for reader in [&w.contractor, &w.owner, &w.regulator] {
            let r = app.get(&reader.key, path).await;
            assert_eq!(r.status, 200, "{path}: {}", r.text());
        }
        app.get(&w.sub.key, path).await.problem(403, "FORBIDDEN");
        app.get(&w.other_contractor.key, path)
            .await
            .problem(404, "NOT_FOUND");
        app.get(&w.other_regulator.key, path)
            .await
            .problem(404, "NOT_FOUND");
    }
    // Another project's batch id is not found through this project.
    let r = app
        .send_json(
            "POST",
            &w.other_contractor.key,
            "/v1/projects",
            &common::fixtures::project_body("OTHER-1", &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201);
    app.get(
        &w.other_contractor.key,
        &format!("/v1/projects/OTHER-1/disbursements/{}", b["id"]),
    )
    .await
    .problem(404, "NOT_FOUND");
}
