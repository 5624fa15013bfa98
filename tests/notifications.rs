//! A worker's confirmation token reaches only the worker: never the submission
//! answer, its replay or the database; each accepted line's link goes through
//! the outbox to the phone on the roster.

mod common;
mod payroll_common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::Arc;

use common::fixtures::resident_id;
use common::TestApp;
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::{json, Value};
use wagebridge::notify::{Dispatcher, NotifySettings, Transport};

/// The whole database as text, data only (pg_dump), to look for a token in.
fn dump(app: &TestApp) -> String {
    let pg_dump = [
        "/usr/lib/postgresql/17/bin",
        "/usr/lib/postgresql/16/bin",
        "/usr/lib/postgresql/15/bin",
    ]
    .iter()
    .map(|d| std::path::Path::new(d).join("pg_dump"))
    .find(|p| p.exists())
    .unwrap_or_else(|| "pg_dump".into());
    let out = std::process::Command::new(pg_dump)
        .args(["--data-only", "--no-owner", "--dbname", &app.db.url])
        .output()
        .expect("run pg_dump");
    assert!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 dump")
}

#[actix_web::test]
async fn the_token_is_in_no_answer_no_replay_and_no_table_only_in_the_workers_message() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD), line(STRANGER), line(GOOD_2)]);
    let first = submit_with_key(&app, &w.sub.key, &w, "oct-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let answer = first.json();
    assert_eq!(answer["totals"]["accepted"], 2);

    let messages = deliver(&app).await;
    assert_eq!(
        messages.len(),
        2,
        "one message per accepted line: {messages:?}"
    );
    let ids = [line_id(&app, &answer, 0), line_id(&app, &answer, 2)];
    for (m, (n, id)) in messages.iter().zip([(GOOD, ids[0]), (GOOD_2, ids[1])]) {
        assert_eq!(m["line_id"], id);
        assert_eq!(m["to"], format!("138{n:08}"), "the phone on the roster");
        let link = m["link"].as_str().unwrap();
        assert!(link.starts_with(&format!("{PUBLIC_URL}/w/")), "{link}");
        assert!(m["text"].as_str().unwrap().contains(link));
        assert!(m["text"].as_str().unwrap().contains("实发5500.00元"));
    }
    let tokens: Vec<String> = messages
        .iter()
        .map(|m| {
            m["link"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();

    // The link works: it opens the worker's own pay slip, and he answers with it.
    let slip = app
        .request(actix_web::test::TestRequest::get().uri(&format!("/w/{}", tokens[0])))
        .await;
    assert_eq!(slip.status, 200, "{}", slip.text());
    assert!(slip.text().contains(&resident_id(GOOD)[..4]));
    let r = confirm(&app, &tokens[1], &json!({ "channel": "sms" })).await;
    assert_eq!(r.status, 200, "{}", r.text());

    // A replay with the same key is the first answer, and neither holds a token.
    let replay = submit_with_key(&app, &w.sub.key, &w, "oct-1", &body).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.json(), answer);
    let dump = dump(&app);
    assert!(dump.contains("payroll_lines"), "the dump has the data");
    for t in &tokens {
        assert!(!first.text().contains(t.as_str()));
        assert!(!replay.text().contains(t.as_str()));
        assert!(!dump.contains(t.as_str()), "a token in the database");
    }
    assert!(!first.text().contains("token"), "{}", first.text());
    let mut conn = app.db.conn();
    let rows = wagebridge::notify::outbox::for_line(&mut conn, ids[0]).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].status, "sent");
    assert_eq!(rows[0].phone_masked.as_deref(), Some("138****0001"));

    // A second round sends nothing again.
    assert_eq!(deliver(&app).await.len(), 2);
}

/// A one-shot HTTP server answering `status`; returns its URL and the request it got.
fn gateway(status: u16) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream);
        let mut head = String::new();
        let mut length = 0usize;
        loop {
            let mut l = String::new();
            reader.read_line(&mut l).expect("read");
            if let Some(v) = l.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            head.push_str(&l);
            if l == "\r\n" || l.is_empty() {
                break;
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).expect("body");
        let answer =
            format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}");
        reader
            .get_mut()
            .write_all(answer.as_bytes())
            .expect("answer");
        head + &String::from_utf8_lossy(&body)
    });
    (url, handle)
}

async fn dispatch_to(app: &TestApp, url: &str) -> wagebridge::notify::Round {
    let settings = NotifySettings {
        public_url: PUBLIC_URL.to_owned(),
        token_days: 60,
        transport: Transport::Http {
            url: url.to_owned(),
            key: "gateway-key".to_owned(),
        },
    };
    let sink: Arc<dyn wagebridge::notify::Sink> = settings.sink();
    Dispatcher::new(app.pool.clone(), app.clock.clone(), settings, sink)
        .run_once()
        .await
        .expect("round")
}

#[actix_web::test]
async fn the_sms_gateway_gets_a_json_post_and_a_refusal_is_retried_with_a_new_token() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    let id = line_id(&app, &answer, 0);

    // The gateway refuses: nothing is stored as a valid token, the row waits.
    let (url, got) = gateway(500);
    let round = dispatch_to(&app, &url).await;
    assert_eq!((round.sent, round.failed), (0, 1));
    let refused = got.join().unwrap();
    let refused_token = refused
        .split("/w/")
        .nth(1)
        .map(|t| t.chars().take(43).collect::<String>())
        .expect("the link was in the request");
    let mut conn = app.db.conn();
    let rows = wagebridge::notify::outbox::for_line(&mut conn, id).unwrap();
    assert_eq!((rows[0].status.as_str(), rows[0].attempts), ("pending", 1));
    assert!(rows[0].last_error.as_deref().unwrap().contains("500"));
    confirm(&app, &refused_token, &json!({ "channel": "sms" }))
        .await
        .problem(404, "NOT_FOUND");

    // Retried after the backoff (business clock): a new token, taken this time.
    app.clock
        .set(app.clock.now() + chrono::Duration::minutes(5))
        .unwrap();
    let (url, got) = gateway(200);
    let round = dispatch_to(&app, &url).await;
    assert_eq!(round.sent, 1);
    let request = got.join().unwrap();
    assert!(request.starts_with("POST /send HTTP/1.1"), "{request}");
    assert!(request
        .to_ascii_lowercase()
        .contains("authorization: bearer gateway-key"));
    let body: Value =
        serde_json::from_str(&request[request.find("\r\n\r\n").unwrap() + 4..]).unwrap();
    assert_eq!(body["to"], format!("138{GOOD:08}"));
    let text = body["text"].as_str().unwrap();
    let token: String = text.split("/w/").nth(1).unwrap().chars().take(43).collect();
    assert_ne!(token, refused_token);
    let r = confirm(&app, &token, &json!({ "channel": "sms" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn line_path(w: &common::fixtures::World, line: i64, action: &str) -> String {
    project_path(w, &format!("/payrolls/{PERIOD}/lines/{line}/{action}"))
}

#[actix_web::test]
async fn the_general_contractor_has_a_link_reissued_and_the_old_one_stops_working() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(STRANGER)]),
    )
    .await;
    let old = token(&app, &answer, 0).await;
    let path = line_path(&w, 1, "token");

    // Only the general contractor: not the employer who submitted, not the owner.
    for key in [&w.sub.key, &w.owner.key] {
        app.send("POST", key, &path, "application/json", Vec::new())
            .await
            .problem(403, "FORBIDDEN");
    }
    app.send(
        "POST",
        &w.other_contractor.key,
        &path,
        "application/json",
        Vec::new(),
    )
    .await
    .problem(404, "NOT_FOUND");
    app.send(
        "POST",
        &w.contractor.key,
        &line_path(&w, 2, "token"),
        "application/json",
        Vec::new(),
    )
    .await
    .problem(409, "LINE_NOT_ACCEPTED");
    app.send(
        "POST",
        &w.contractor.key,
        &line_path(&w, 7, "token"),
        "application/json",
        Vec::new(),
    )
    .await
    .problem(404, "NOT_FOUND");

    let r = app
        .send(
            "POST",
            &w.contractor.key,
            &path,
            "application/json",
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(r.json()["notification_status"], "pending");
    // At once, before the new link has gone out.
    confirm(&app, &old, &json!({ "channel": "sms" }))
        .await
        .problem(404, "NOT_FOUND");
    let new = token(&app, &answer, 0).await;
    assert_ne!(new, old);
    assert_eq!(
        sent_messages(&app).len(),
        2,
        "the first link and the new one"
    );
    let r = confirm(&app, &new, &json!({ "channel": "sms" })).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let mut conn = app.db.conn();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::Int8)]
        n: i64,
    }
    let audited: N = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) AS n FROM audit_events
              WHERE action IN ('token_reissue_requested', 'token_issued') AND entity_id = $1",
        )
        .bind::<diesel::sql_types::Int8, _>(line_id(&app, &answer, 0)),
        &mut conn,
    )
    .unwrap();
    assert_eq!(audited.n, 3, "issued, re-issue asked, issued again");
}

#[actix_web::test]
async fn the_labour_officer_records_a_signed_paper_sheet_marked_as_such() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2)]),
    )
    .await;
    let path = line_path(&w, 1, "paper-confirmation");
    let sheet = json!({ "sheet_reference": "2026-10 工资表 第3页" });

    app.send_json("POST", &w.sub.key, &path, &sheet)
        .await
        .problem(403, "FORBIDDEN");
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &path,
            &json!({ "sheet_reference": " " }),
        )
        .await;
    assert_eq!(r.problem(422, "MISSING_FIELD")["field"], "sheet_reference");

    let r = app
        .send_json("POST", &w.contractor.key, &path, &sheet)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let c = r.json();
    assert_eq!(
        (c["channel"].clone(), c["state"].clone()),
        (json!("paper"), json!("confirmed"))
    );
    assert_eq!(c["recorded_by"], w.contractor.uscc);
    assert_eq!(c["sheet_reference"], "2026-10 工资表 第3页");
    app.send_json("POST", &w.contractor.key, &path, &sheet)
        .await
        .problem(409, "ALREADY_ANSWERED");
    // The worker's own link now finds the line answered.
    confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await
    .problem(409, "ALREADY_ANSWERED");
    // The worker cannot claim the paper channel with his token.
    let r = confirm(
        &app,
        &token(&app, &answer, 1).await,
        &json!({ "channel": "paper" }),
    )
    .await;
    assert_eq!(r.problem(422, "INVALID_FIELD")["field"], "channel");

    let view = read(&app, &w.contractor.key, &w, "").await.json();
    assert_eq!(
        view["payrolls"][0]["lines"][0]["confirmation"]["channel"],
        "paper"
    );
    let mut conn = app.db.conn();
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        sheet_reference: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Int8>)]
        recorded_by: Option<i64>,
    }
    let row: Row = diesel::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT sheet_reference, recorded_by FROM line_confirmations WHERE line_id = $1",
        )
        .bind::<diesel::sql_types::Int8, _>(line_id(&app, &answer, 0)),
        &mut conn,
    )
    .unwrap();
    assert_eq!(row.sheet_reference.as_deref(), Some("2026-10 工资表 第3页"));
    assert!(row.recorded_by.is_some());
}

#[actix_web::test]
async fn a_link_expires_after_the_configured_days_of_the_business_clock() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2)]),
    )
    .await;
    let t1 = token(&app, &answer, 0).await;
    let t2 = token(&app, &answer, 1).await;

    app.clock
        .set(app.clock.now() + chrono::Duration::days(59))
        .unwrap();
    let r = confirm(&app, &t1, &json!({ "channel": "sms" })).await;
    assert_eq!(r.status, 200, "{}", r.text());

    app.clock
        .set(app.clock.now() + chrono::Duration::days(2))
        .unwrap();
    confirm(&app, &t2, &json!({ "channel": "sms" }))
        .await
        .problem(410, "TOKEN_EXPIRED");
    app.request(actix_web::test::TestRequest::get().uri(&format!("/v1/payslips/{t2}")))
        .await
        .problem(410, "TOKEN_EXPIRED");

    // A re-issued link works for another 60 days from now.
    let r = app
        .send(
            "POST",
            &w.contractor.key,
            &line_path(&w, 2, "token"),
            "application/json",
            Vec::new(),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text());
    let t2 = token(&app, &answer, 1).await;
    let r = confirm(&app, &t2, &json!({ "channel": "sms" })).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn a_burst_of_guesses_from_one_address_gets_429() {
    let app = TestApp::new().await;
    let guess = |i: u32| {
        actix_web::test::TestRequest::post()
            .uri(&format!("/v1/confirmations/{i:043}"))
            .peer_addr("203.0.113.7:40000".parse().unwrap())
            .insert_header(("Content-Type", "application/json"))
            .set_payload(r#"{"channel":"sms"}"#)
    };
    let mut statuses = Vec::new();
    for i in 0..40 {
        statuses.push(app.request(guess(i)).await.status);
    }
    assert!(statuses[..20].iter().all(|s| *s == 404), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "{statuses:?}");
    app.request(guess(99)).await.problem(429, "RATE_LIMITED");

    // Another address is not held up.
    let other = actix_web::test::TestRequest::get()
        .uri(&format!("/w/{}", "A".repeat(43)))
        .peer_addr("198.51.100.9:40000".parse().unwrap());
    app.request(other).await.problem(404, "NOT_FOUND");
}
