//! Bank connections: an admin sets a bank's dialect, transport and codes by
//! PUT (or `wagebridge bank add`); files are checked, secrets never stored.

mod common;

use std::process::Command;

use common::fixtures::{party, Party};
use common::TestApp;
use diesel::RunQueryDsl;
use serde_json::{json, Value};
use wagebridge::access::OrgKind;

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");

fn file_exchange(dir: &std::path::Path) -> Value {
    json!({
        "kind": "file_exchange",
        "outbox": dir.join("out"),
        "inbox": dir.join("in"),
    })
}

fn body(transport: Value, codes: &[&str]) -> Value {
    json!({
        "dialect": {"dialect": "iso20022", "pain001_version": "09"},
        "transport": transport,
        "bank_codes": codes,
    })
}

fn path(bank: &Party) -> String {
    format!("/v1/bank-connections/{}", bank.uscc)
}

struct Cast {
    admin: Party,
    bank: Party,
    other_bank: Party,
    contractor: Party,
}

fn cast(app: &TestApp) -> Cast {
    Cast {
        admin: party(app, OrgKind::Admin, 1, "wagebridge operations", None),
        bank: party(app, OrgKind::Bank, 40, "中国工商银行武汉分行", None),
        other_bank: party(app, OrgKind::Bank, 41, "中国建设银行武汉分行", None),
        contractor: party(app, OrgKind::Contractor, 3, "中建三局", None),
    }
}

fn audit_rows(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        n: i64,
    }
    let mut conn = app.db.conn();
    diesel::sql_query("SELECT count(*) AS n FROM audit_events WHERE entity = 'bank_connection'")
        .get_result::<N>(&mut conn)
        .unwrap()
        .n
}

#[actix_web::test]
async fn an_admin_connects_a_bank_and_a_second_put_replaces_it_with_a_new_revision() {
    let app = TestApp::new().await;
    let c = cast(&app);
    let dir = tempfile::tempdir().unwrap();
    let r = app
        .send_json(
            "PUT",
            &c.admin.key,
            &path(&c.bank),
            &body(file_exchange(dir.path()), &["102", "102"]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let first = r.json();
    assert_eq!(first["revision"], 1);
    assert_eq!(first["bank_codes"], json!(["102"]));
    assert_eq!(first["utc_offset_minutes"], 480);
    assert_eq!(first["transport"]["kind"], "file_exchange");
    assert!(dir.path().join("out").is_dir() && dir.path().join("in").is_dir());

    let mut second = body(file_exchange(dir.path()), &["102", "1021"]);
    second["utc_offset_minutes"] = json!(0);
    second["dialect"] = json!({"dialect": "iso20022", "pain001_version": "03"});
    let r = app
        .send_json("PUT", &c.admin.key, &path(&c.bank), &second)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let replaced = r.json();
    assert_eq!(replaced["revision"], 2);
    assert_eq!(replaced["bank_codes"], json!(["102", "1021"]));
    assert_eq!(replaced["id"], first["id"]);

    let read = app.get(&c.admin.key, &path(&c.bank)).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json(), replaced);
    assert_eq!(audit_rows(&app), 2);

    // Only admins.
    app.send_json("PUT", &c.contractor.key, &path(&c.bank), &second)
        .await
        .problem(403, "FORBIDDEN");
    app.get(&c.contractor.key, &path(&c.bank))
        .await
        .problem(403, "FORBIDDEN");
    app.get(&c.admin.key, &path(&c.other_bank))
        .await
        .problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn a_bank_code_names_one_connection_and_the_organisation_must_be_a_bank() {
    let app = TestApp::new().await;
    let c = cast(&app);
    let dir = tempfile::tempdir().unwrap();
    let r = app
        .send_json(
            "PUT",
            &c.admin.key,
            &path(&c.bank),
            &body(file_exchange(dir.path()), &["102"]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let taken = app
        .send_json(
            "PUT",
            &c.admin.key,
            &path(&c.other_bank),
            &body(file_exchange(dir.path()), &["105", "102"]),
        )
        .await
        .problem(409, "BANK_CODE_TAKEN");
    assert_eq!(taken["field"], "bank_codes");
    // Nothing of the refused PUT was kept.
    app.get(&c.admin.key, &path(&c.other_bank))
        .await
        .problem(404, "NOT_FOUND");
    let wrong = app
        .send_json(
            "PUT",
            &c.admin.key,
            &path(&c.contractor),
            &body(file_exchange(dir.path()), &["103"]),
        )
        .await
        .problem(422, "WRONG_ORGANIZATION_KIND");
    assert_eq!(wrong["field"], "bank_uscc");
}

#[actix_web::test]
async fn bad_settings_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let c = cast(&app);
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    wagebridge::certs::write_dev_set(
        &certs,
        &wagebridge::certs::DevRequest {
            server_names: vec!["localhost".into()],
            clients: vec!["bank-102".into()],
            valid_days: 30,
        },
    )
    .unwrap();
    let https = |url: &str, key: std::path::PathBuf| {
        json!({
            "kind": "https",
            "url": url,
            "client_certificate": certs.join("bank-102.pem"),
            "client_key": key,
            "ca_certificate": certs.join("ca.pem"),
        })
    };
    let good = https("https://bank.example:8443/cms", certs.join("bank-102.key"));
    let r = app
        .send_json("PUT", &c.admin.key, &path(&c.bank), &body(good, &["102"]))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.text();
    assert!(
        answer.contains("bank-102.key"),
        "the path is shown: {answer}"
    );
    assert!(!answer.contains("PRIVATE KEY"), "never the key itself");

    let cases = [
        (
            https("https://bank.example", certs.join("missing.key")),
            "transport.client_key",
        ),
        // A certificate is not a private key.
        (
            https("https://bank.example", certs.join("ca.pem")),
            "transport.client_key",
        ),
        (
            https("http://bank.example", certs.join("bank-102.key")),
            "transport.url",
        ),
        (
            json!({"kind": "file_exchange", "outbox": "/proc/no/such", "inbox": dir.path().join("in")}),
            "transport.outbox",
        ),
        (
            json!({"kind": "file_exchange", "outbox": "a", "inbox": "b", "secret": 1}),
            "transport",
        ),
    ];
    for (transport, field) in cases {
        let p = app
            .send_json(
                "PUT",
                &c.admin.key,
                &path(&c.bank),
                &body(transport, &["102"]),
            )
            .await
            .problem(422, "BANK_CONNECTION_INVALID");
        assert_eq!(p["field"], field, "{p}");
    }
    let mut typo = body(file_exchange(dir.path()), &["102"]);
    typo["dialect"] = json!({"dialect": "iso20022", "pain001_versoin": "03"});
    let p = app
        .send_json("PUT", &c.admin.key, &path(&c.bank), &typo)
        .await
        .problem(422, "BANK_CONNECTION_INVALID");
    assert_eq!(p["field"], "dialect.pain001_versoin");
    let mut unknown = body(file_exchange(dir.path()), &["102"]);
    unknown["dialect"] = json!({"dialect": "swift_mt"});
    assert_eq!(
        app.send_json("PUT", &c.admin.key, &path(&c.bank), &unknown)
            .await
            .problem(422, "BANK_CONNECTION_INVALID")["field"],
        "dialect"
    );
    // The first connection is unchanged by every refusal.
    assert_eq!(
        app.get(&c.admin.key, &path(&c.bank)).await.json()["revision"],
        1
    );
}

#[actix_web::test]
async fn wagebridge_bank_add_stores_the_same_connection_from_the_command_line() {
    let app = TestApp::new().await;
    let c = cast(&app);
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "bank",
            "add",
            "--uscc",
            &c.bank.uscc,
            "--bank-code",
            "102",
            "--bank-code",
            "1021",
        ])
        .arg("--file-exchange-outbox")
        .arg(dir.path().join("out"))
        .arg("--file-exchange-inbox")
        .arg(dir.path().join("in"))
        .args([
            "--dialect-json",
            r#"{"dialect":"iso20022","pain001_version":"03"}"#,
        ])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["bank_codes"], json!(["102", "1021"]));
    let read = app.get(&c.admin.key, &path(&c.bank)).await.json();
    assert_eq!(read["dialect"]["pain001_version"], "03");
    assert_eq!(read["revision"], 1);

    let refused = Command::new(BIN)
        .args(["bank", "add", "--uscc", &c.bank.uscc, "--bank-code", "102"])
        .args(["--https-url", "https://bank.example"])
        .args([
            "--client-cert",
            "/no/cert.pem",
            "--client-key",
            "/no/key.pem",
            "--ca",
            "/no/ca.pem",
        ])
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("transport.client_certificate"), "{stderr}");
    assert_eq!(
        app.get(&c.admin.key, &path(&c.bank)).await.json()["revision"],
        1
    );
}
