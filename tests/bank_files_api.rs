//! `POST /v1/bank/files`, `GET /v1/bank/files[/{id}]` and `wagebridge
//! bank-file list`: a bank uploads, an admin sees every file, a bank its
//! own, anyone else nothing.

mod bank_seed;
mod common;

use std::process::Command;

use bank_adapters::iso20022::{self, Pain002Version};
use bank_adapters::model::{LineStatus, PaymentStatus, StatusReason, StatusReport};
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use common::fixtures::{party, Party};
use common::{TestApp, TEST_BODY_LIMIT};
use wagebridge::access::OrgKind;

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");

struct Banks {
    admin: Party,
    contractor: Party,
    bank: Party,
    other_bank: Party,
    batch: bank_seed::Seeded,
}

fn org_id(app: &TestApp, uscc: &str) -> i64 {
    bank_seed::count(
        &mut app.db.conn(),
        &format!("SELECT id AS n FROM organizations WHERE uscc = '{uscc}'"),
    )
}

/// Two banks with connections, the first with a sent batch of two lines.
fn banks(app: &TestApp) -> Banks {
    let admin = party(app, OrgKind::Admin, 1, "wagebridge operations", None);
    let contractor = party(
        app,
        OrgKind::Contractor,
        3,
        "中建三局第一建设工程有限责任公司",
        None,
    );
    let bank = party(app, OrgKind::Bank, 20, "中国工商银行武汉分行", None);
    let other_bank = party(app, OrgKind::Bank, 21, "招商银行武汉分行", None);
    let mut conn = app.db.conn();
    let dialect = json!({"dialect": "iso20022"});
    let first = bank_seed::connection(
        &mut conn,
        org_id(app, &bank.uscc),
        &dialect,
        &app.data_dir.path().join("fx1"),
        "102",
    );
    bank_seed::connection(
        &mut conn,
        org_id(app, &other_bank.uscc),
        &dialect,
        &app.data_dir.path().join("fx2"),
        "308",
    );
    let batch = bank_seed::batch(&mut conn, first, "102", 1, 2);
    Banks {
        admin,
        contractor,
        bank,
        other_bank,
        batch,
    }
}

fn settled_report(batch: &bank_seed::Seeded) -> Vec<u8> {
    let report = StatusReport {
        message_id: Some("RPT1".to_owned()),
        created_at: Some(Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap()),
        original_message_id: batch.message_id.clone(),
        group_status_code: Some("PART".to_owned()),
        group_status: Some(PaymentStatus::Accepted),
        group_reason: None,
        lines: vec![LineStatus {
            end_to_end_id: batch.e2e(1),
            instruction_id: None,
            status_code: "RJCT".to_owned(),
            status: PaymentStatus::Rejected,
            reason: Some(StatusReason {
                code: Some("AC04".to_owned()),
                text: Some("closed account".to_owned()),
            }),
            payment_information_id: None,
        }],
        blocks: Vec::new(),
    };
    iso20022::write_pain002(&report, Pain002Version::V10)
        .unwrap()
        .into_bytes()
}

async fn upload(app: &TestApp, key: &str, bytes: Vec<u8>) -> common::Reply {
    app.send(
        "POST",
        key,
        "/v1/bank/files?name=answer.xml",
        "application/xml",
        bytes,
    )
    .await
}

#[actix_web::test]
async fn a_bank_uploads_a_status_report_once_and_the_second_upload_is_a_duplicate() {
    let app = TestApp::new().await;
    let b = banks(&app);
    let r = upload(&app, &b.bank.key, settled_report(&b.batch)).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["status"], "applied");
    assert_eq!(body["kind"], "pain.002");
    assert_eq!(body["duplicate"], false);
    assert_eq!(body["findings"], json!([]));
    assert_eq!(body["sha256"].as_str().unwrap().len(), 64);
    let again = upload(&app, &b.bank.key, settled_report(&b.batch)).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["duplicate"], true);
    assert_eq!(again.json()["file_id"], body["file_id"]);
    let state = bank_seed::state(&mut app.db.conn(), b.batch.batch_id, 1);
    assert_eq!(state, "rejected");
    let list = app.get(&b.bank.key, "/v1/bank/files").await.json();
    assert_eq!(list["files"][0]["receipt_count"], 2);
}

#[actix_web::test]
async fn a_malformed_file_is_quarantined_listed_and_shown_by_the_cli() {
    let app = TestApp::new().await;
    let b = banks(&app);
    // Larger than the JSON body limit: the upload route has its own.
    let mut junk = b"<Document><BkToCstmrStmt>".to_vec();
    junk.resize(TEST_BODY_LIMIT + 50_000, b' ');
    let r = upload(&app, &b.bank.key, junk).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let body = r.json();
    assert_eq!(body["status"], "quarantined");
    assert!(body["reason"].as_str().unwrap().contains("line"), "{body}");
    let id = body["file_id"].as_i64().unwrap();
    upload(&app, &b.bank.key, settled_report(&b.batch)).await;

    let list = app
        .get(&b.admin.key, "/v1/bank/files?status=quarantined")
        .await;
    assert_eq!(list.status, 200, "{}", list.text());
    let files = list.json()["files"].as_array().unwrap().clone();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["file_id"], id);
    assert_eq!(files[0]["name"], "answer.xml");
    assert_eq!(files[0]["receipt_count"], 1);
    let all = app.get(&b.admin.key, "/v1/bank/files?limit=1").await.json();
    assert_eq!(all["files"].as_array().unwrap().len(), 1);
    let next = all["next_cursor"].as_str().unwrap().to_owned();
    let page2 = app
        .get(
            &b.admin.key,
            &format!("/v1/bank/files?limit=1&cursor={next}"),
        )
        .await
        .json();
    assert_eq!(page2["files"][0]["file_id"], id);
    app.get(&b.admin.key, "/v1/bank/files?status=lost")
        .await
        .problem(400, "INVALID_QUERY");

    let out = Command::new(BIN)
        .args(["bank-file", "list", "--status", "quarantined", "--json"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["files"][0]["file_id"], id);
    assert_eq!(printed["files"].as_array().unwrap().len(), 1);
    let table = Command::new(BIN)
        .args(["bank-file", "list"])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge");
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("quarantined") && text.contains("applied"),
        "{text}"
    );
}

#[actix_web::test]
async fn a_bank_sees_only_its_own_files_and_a_contractor_none() {
    let app = TestApp::new().await;
    let b = banks(&app);
    let ours = upload(&app, &b.bank.key, settled_report(&b.batch))
        .await
        .json();
    let id = ours["file_id"].as_i64().unwrap();
    // The other bank sends the same batch's answer: not its batch.
    let theirs = upload(&app, &b.other_bank.key, b"<x/>".to_vec())
        .await
        .json();
    assert_eq!(theirs["status"], "quarantined");

    let mine = app.get(&b.bank.key, "/v1/bank/files").await.json();
    let ids: Vec<i64> = mine["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [id]);
    let detail = app.get(&b.bank.key, &format!("/v1/bank/files/{id}")).await;
    assert_eq!(detail.status, 200, "{}", detail.text());
    assert_eq!(detail.json()["findings"], json!([]));
    app.get(&b.other_bank.key, &format!("/v1/bank/files/{id}"))
        .await
        .problem(404, "NOT_FOUND");
    app.get(&b.other_bank.key, "/v1/bank/files/999999")
        .await
        .problem(404, "NOT_FOUND");
    let admin_sees = app.get(&b.admin.key, "/v1/bank/files").await.json();
    assert_eq!(admin_sees["files"].as_array().unwrap().len(), 2);

    upload(&app, &b.contractor.key, settled_report(&b.batch))
        .await
        .problem(403, "FORBIDDEN");
    upload(&app, &b.admin.key, settled_report(&b.batch))
        .await
        .problem(403, "FORBIDDEN");
    app.get(&b.contractor.key, "/v1/bank/files")
        .await
        .problem(403, "FORBIDDEN");
    app.get(&b.contractor.key, &format!("/v1/bank/files/{id}"))
        .await
        .problem(403, "FORBIDDEN");
}

#[actix_web::test]
async fn a_report_from_another_bank_about_our_batch_changes_nothing() {
    let app = TestApp::new().await;
    let b = banks(&app);
    let r = upload(&app, &b.other_bank.key, settled_report(&b.batch)).await;
    let body = r.json();
    assert_eq!(body["status"], "quarantined", "{body}");
    assert_eq!(body["findings"][0]["code"], "UNKNOWN_BATCH");
    let state = bank_seed::state(&mut app.db.conn(), b.batch.batch_id, 1);
    assert_eq!(state, "sent");
}
