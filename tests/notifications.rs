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
