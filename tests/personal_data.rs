//! No answer and no log line repeats a whole ID or card number, however the
//! client misplaces it; no answer or log line grows with a huge header; and
//! exports write formula-looking names as text.
//!
//! The requests go through the service as `serve` builds it (the routes, the
//! tracing-actix-web request span of `telemetry`), and the log lines are those
//! `telemetry::subscriber` writes, captured in memory.

mod common;
mod payroll_common;

use std::io::{self, Write};
use std::rc::Rc;
use std::sync::{Arc, Mutex, OnceLock};

use actix_web::dev::Service;
use actix_web::{test, web, App};
use calamine::{Data, Reader};
use common::fixtures::{card, resident_id, worker_row};
use common::{Reply, TestApp, TEST_BODY_LIMIT};
use payroll_common::*;
use serde_json::json;
use tracing_actix_web::TracingLogger;
use tracing_subscriber::fmt::MakeWriter;

use wagebridge::api::{self, AppState};
use wagebridge::config::LogFormat;
use wagebridge::telemetry::{RequestSpan, LOG_LINE_MAX_CHARS};

/// The ID number the attacks misplace (the one from the report of the attack).
const ID: &str = "420111198503120012";
/// A 13-digit card number, the shortest a bank issues.
const SHORT_CARD: &str = "6228480000015";

/// Every line the service logs in this test binary.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().map(|b| b.clone()).unwrap_or_default()).into_owned()
    }

    fn len(&self) -> usize {
        self.0.lock().map(|b| b.len()).unwrap_or_default()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Ok(mut all) = self.0.lock() {
            all.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

/// The service's own subscriber, at debug level, writing into memory.
fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        std::env::set_var("RUST_LOG", "debug");
        let captured = Captured::default();
        let subscriber = wagebridge::telemetry::subscriber(LogFormat::Text, captured.clone());
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        captured
    })
}

/// Sends one request through the app wrapped as `serve` wraps it.
struct Logged<S> {
    service: Rc<S>,
}

impl<S, B> Logged<S>
where
    S: Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody + 'static,
{
    async fn send(&self, req: test::TestRequest) -> Reply {
        let resp = match self.service.call(req.to_request()).await {
            Ok(resp) => resp.into_parts().1.map_into_boxed_body(),
            Err(e) => e.error_response(),
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            retry_after: None,
            body,
        }
    }
}

fn with_key(req: test::TestRequest, key: &str, content_type: &str) -> test::TestRequest {
    req.insert_header(("Authorization", format!("Bearer {key}")))
        .insert_header(("Content-Type", content_type))
}

#[actix_web::test]
async fn misplaced_ids_and_cards_are_never_echoed_in_answers_or_logs() {
    let logs = logs();
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let state = web::Data::new(AppState {
        pool: app.pool.clone(),
        clock: app.clock.clone(),
        token_limiter: Default::default(),
        data_dir: std::env::temp_dir()
            .join(format!("wagebridge-personal-data-{}", std::process::id())),
    });
    let service = test::init_service(
        App::new()
            .wrap(TracingLogger::<RequestSpan>::new())
            .app_data(state)
            .configure(api::configure(TEST_BODY_LIMIT)),
    )
    .await;
    let svc = Logged {
        service: Rc::new(service),
    };
    let (sub, contractor) = (w.sub.key.clone(), w.contractor.key.clone());
    let (id1, card1) = (resident_id(1), card(1));
    let csv = "text/csv";
    let mut answers: Vec<(&str, Reply)> = Vec::new();

    // A header-less attendance CSV: its first line is taken for the header.
    let body = format!("{ID},2026-10-01,8\n{id1},2026-10-01,8\n");
    let req = with_key(test::TestRequest::post(), &sub, csv)
        .uri(&project_path(&w, "/attendance"))
        .set_payload(body);
    answers.push(("header-less attendance", svc.send(req).await));

    // A header-less payroll CSV, with the card number.
    let body = format!("工人1,{id1},{card1},22,6000,500,5500\n");
    let req = with_key(test::TestRequest::post(), &sub, csv)
        .uri(&project_path(&w, &format!("/payrolls?period={PERIOD}")))
        .set_payload(body);
    answers.push(("header-less payroll", svc.send(req).await));

    // A roster whose header row slipped below its first worker.
    let body = format!(
        "工人1,{id1},13800000001,{card1}\n姓名,身份证号,手机号,银行卡号\n工人1,{id1},13800000001,{card1}\n"
    );
    let req = with_key(test::TestRequest::put(), &sub, csv)
        .uri(&project_path(&w, "/workers"))
        .set_payload(body);
    answers.push(("shifted roster header", svc.send(req).await));

    // The ID as a query key, on endpoints that read their query.
    for path in [
        project_path(&w, &format!("/payrolls/{PERIOD}?{ID}=1")),
        project_path(&w, &format!("/workers?{ID}=1")),
    ] {
        let req = with_key(test::TestRequest::get(), &contractor, csv).uri(&path);
        answers.push(("ID as a query key", svc.send(req).await));
    }

    // The ID as a confirmation's channel, as a number and as text.
    let fake_token = "q2Xk9LmPz81hTT0aB3cdq2Xk9LmPz81hTT0aB3cd";
    for body in [
        format!("{{\"channel\": {ID}}}"),
        format!("{{\"channel\": \"{ID}\"}}"),
        format!("{{\"{ID}\": 1, \"channel\": \"sms\"}}"),
    ] {
        let req = test::TestRequest::post()
            .uri(&format!("/v1/confirmations/{fake_token}"))
            .insert_header(("Content-Type", "application/json"))
            .set_payload(body);
        answers.push(("ID as a channel", svc.send(req).await));
    }

    // A 13-digit card number in paths: a project code, a pay slip, no route at all.
    for path in [
        format!("/v1/projects/{SHORT_CARD}/workers"),
        project_path(&w, &format!("/payrolls/{PERIOD}/payslips/{SHORT_CARD}")),
        format!("/v1/{SHORT_CARD}/{ID}"),
    ] {
        let req = with_key(test::TestRequest::get(), &contractor, csv).uri(&path);
        answers.push(("card in a path", svc.send(req).await));
    }

    // 1 MiB headers, and a path and a query as long as a URI can be (64 KiB),
    // each carrying the ID.
    let huge = "x".repeat(1 << 20);
    let long = "x".repeat(60_000);
    let before = logs.len();
    let huge_requests = [
        with_key(
            test::TestRequest::post(),
            &sub,
            &format!("application/x-{ID}{huge}"),
        )
        .uri(&project_path(&w, "/payrolls"))
        .set_payload("{}"),
        with_key(test::TestRequest::post(), &sub, "application/json")
            .uri(&project_path(&w, "/payrolls"))
            .insert_header(("Idempotency-Key", format!("{ID}{huge}")))
            .set_payload("{}"),
        with_key(test::TestRequest::get(), &contractor, csv).uri(&project_path(
            &w,
            &format!("/payrolls/{PERIOD}?{ID}{long}=1"),
        )),
        with_key(test::TestRequest::get(), &contractor, csv).uri(&format!("/v1/{ID}{long}")),
    ];
    for req in huge_requests {
        let reply = svc.send(req).await;
        assert!(
            reply.body.len() < 4096,
            "a 1 MiB header made a {}-byte answer",
            reply.body.len()
        );
        answers.push(("1 MiB header", reply));
    }
    let huge_logs = logs.len() - before;
    let largest = answers
        .iter()
        .filter(|(what, _)| *what == "1 MiB header")
        .map(|(_, r)| r.body.len())
        .max()
        .unwrap_or(0);
    eprintln!("huge requests: largest answer {largest} bytes, {huge_logs} bytes of log");
    assert!(
        huge_logs < 64 * 1024,
        "four 1 MiB requests wrote {huge_logs} bytes of log"
    );

    // Each attack was answered (the list of workers ignores a query key it
    // does not know; everything else refuses), and at least one refusal named
    // the input, masked: otherwise this test would prove nothing.
    for (what, reply) in &answers {
        assert!(
            (200..500).contains(&reply.status),
            "{what}: {} {}",
            reply.status,
            reply.text()
        );
    }
    let all_answers: String = answers.iter().map(|(_, r)| r.text() + "\n").collect();
    assert!(all_answers.contains("4201**********0012"), "{all_answers}");
    let log_text = logs.text();
    assert!(log_text.contains("Error encountered"), "{log_text}");
    assert!(log_text.contains("4201**********0012"), "{log_text}");

    let card_groups = format!(
        "{} {} {} {}",
        &card1[..4],
        &card1[4..8],
        &card1[8..12],
        &card1[12..]
    );
    let secrets = [
        ID,
        SHORT_CARD,
        id1.as_str(),
        card1.as_str(),
        card_groups.as_str(),
    ];
    for secret in secrets {
        for (what, reply) in &answers {
            assert!(
                !reply.text().contains(secret),
                "{what}: the answer repeats {secret}: {}",
                reply.text()
            );
        }
        for line in log_text.lines() {
            assert!(
                !line.contains(secret),
                "a log line repeats {secret}: {line}"
            );
        }
    }
    for line in log_text.lines() {
        assert!(
            line.chars().count() <= LOG_LINE_MAX_CHARS,
            "{} chars",
            line.len()
        );
    }
}

const FORMULA_NAMES: [&str; 4] = [
    "=HYPERLINK(\"http://evil.example/\",\"点此领工资\")",
    "+1+1+cmd",
    "-2+3+cmd",
    "@SUM(1+1)",
];

#[actix_web::test]
async fn formula_names_are_exported_as_text_in_csv_and_xlsx() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let numbers = 30..30 + FORMULA_NAMES.len() as u32;
    let roster: Vec<_> = numbers
        .clone()
        .zip(FORMULA_NAMES)
        .map(|(n, name)| {
            let mut row = worker_row(n);
            row["name"] = json!(name);
            row
        })
        .collect();
    let r = app
        .send_json(
            "PUT",
            &w.sub.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": roster }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["accepted"], FORMULA_NAMES.len(), "{}", r.text());
    let lines = numbers
        .zip(FORMULA_NAMES)
        .map(|(n, name)| {
            let mut l = line(n);
            l["name"] = json!(name);
            l
        })
        .collect();
    submitted(&app, &w.sub.key, &w, &payroll(lines)).await;

    let exported = read(&app, &w.contractor.key, &w, "?format=csv").await;
    assert_eq!(exported.status, 200, "{}", exported.text());
    let text = exported.text();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(records.len(), FORMULA_NAMES.len());
    for (record, name) in records.iter().zip(FORMULA_NAMES) {
        assert_eq!(&record[3], format!("'{name}"));
        // Amounts are numbers, not neutralised text.
        assert_eq!(&record[8], "6000.00");
    }

    let exported = read(&app, &w.contractor.key, &w, "?format=xlsx").await;
    assert_eq!(exported.status, 200, "{}", exported.text());
    let mut workbook =
        calamine::open_workbook_auto_from_rs(std::io::Cursor::new(exported.body)).unwrap();
    let range = workbook.worksheet_range_at(0).unwrap().unwrap();
    for (row, name) in FORMULA_NAMES.iter().enumerate() {
        let at = (row as u32 + 1, 3);
        assert_eq!(range.get_value(at), Some(&Data::String(format!("'{name}"))));
        assert_eq!(range.get_value((at.0, 8)), Some(&Data::Float(6000.0)));
    }
}

#[actix_web::test]
async fn a_name_with_a_right_to_left_override_is_refused() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut row = worker_row(40);
    row["name"] = json!("张三\u{202E}");
    let r = app
        .send_json(
            "PUT",
            &w.sub.key,
            &project_path(&w, "/workers"),
            &json!({ "workers": [row] }),
        )
        .await;
    let report = r.json();
    let error = &report["rows"][0]["errors"][0];
    assert_eq!(error["code"], "INVALID_CHARACTER", "{report}");
    assert!(
        error["reason"].as_str().unwrap_or("").contains("U+202E"),
        "{report}"
    );
    assert_eq!(report["accepted"], 0, "{report}");
}
