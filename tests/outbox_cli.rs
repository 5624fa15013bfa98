//! `wagebridge outbox list|retry` as an operator runs them, against a real
//! database holding released batches.

mod common;
mod outbox_common;
mod payroll_common;

use std::process::{Command, Output};

use diesel::sql_types::BigInt;
use diesel::RunQueryDsl;
use serde_json::Value;

use common::TestApp;
use outbox_common::*;

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");

fn wagebridge(app: &TestApp, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", &app.db.url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two batches: one pending, one that died after 8 failed attempts.
async fn pending_and_dead(app: &TestApp) -> (Batch, Batch) {
    let (w, lines) = approved_world(app).await;
    let bank = connect_bank(app, &w);
    let pending = released_batch(app, &w, &bank, &lines[..2]);
    let dead = released_batch(app, &w, &bank, &lines[2..4]);
    diesel::sql_query(
        "UPDATE bank_outbox SET state = 'dead', attempts = 8, \
                last_error = '发送失败 (send failed): connection refused' WHERE id = $1",
    )
    .bind::<BigInt, _>(dead.outbox_id)
    .execute(&mut conn(app))
    .unwrap();
    (pending, dead)
}

#[actix_web::test]
async fn outbox_list_prints_a_table_or_json_and_filters_by_state() {
    let app = TestApp::new().await;
    let (pending, dead) = pending_and_dead(&app).await;

    let out = wagebridge(&app, &["outbox", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    for column in [
        "ID",
        "BATCH",
        "PROJECT",
        "PERIOD",
        "MESSAGE ID",
        "STATE",
        "ATTEMPTS",
        "NEXT ATTEMPT",
        "LAST ERROR",
    ] {
        assert!(lines[0].contains(column), "{column} missing: {}", lines[0]);
    }
    assert!(lines[1].contains(&pending.message_id) && lines[1].contains("pending"));
    assert!(lines[2].contains(&dead.message_id) && lines[2].contains("dead"));
    assert!(lines[2].contains("WH-2026-001") && lines[2].contains("2026-10"));
    assert!(lines[2].contains("connection refused"), "{}", lines[2]);

    let out = wagebridge(&app, &["outbox", "list", "--state", "dead", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 1, "{json}");
    let e = &entries[0];
    assert_eq!(e["id"], dead.outbox_id);
    assert_eq!(e["batch_id"], dead.id);
    assert_eq!(e["project_code"], "WH-2026-001");
    assert_eq!(e["period"], "2026-10");
    assert_eq!(e["message_id"], dead.message_id.as_str());
    assert_eq!(e["state"], "dead");
    assert_eq!(e["attempts"], 8);
    assert_eq!(
        e["last_error"],
        "发送失败 (send failed): connection refused"
    );
    assert!(e["next_attempt_at"].is_string());

    let out = wagebridge(&app, &["outbox", "list", "--limit", "1", "--json"]);
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(1));
    assert_eq!(json[0]["id"], pending.outbox_id);

    let out = wagebridge(&app, &["outbox", "list", "--state", "lost"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("held, pending, sent, dead"),
        "{}",
        stderr(&out)
    );
}

#[actix_web::test]
async fn outbox_retry_revives_a_dead_entry_and_refuses_any_other_with_exit_code_1() {
    let app = TestApp::new().await;
    let (pending, dead) = pending_and_dead(&app).await;

    let out = wagebridge(&app, &["outbox", "retry", &dead.outbox_id.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("pending again after 8 attempts"),
        "{}",
        stderr(&out)
    );
    let state = text(
        &app,
        &format!(
            "SELECT state || '/' || attempts || '/' || (next_attempt_at <= now())::text AS t FROM bank_outbox WHERE id = {}",
            dead.outbox_id
        ),
    );
    assert_eq!(state.as_deref(), Some("pending/8/true"));
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT data ->> 'last_error' AS t FROM audit_events \
                  WHERE entity = 'bank_outbox' AND entity_id = {} AND action = 'retried'",
                dead.outbox_id
            )
        )
        .as_deref(),
        Some("发送失败 (send failed): connection refused")
    );

    // Pending (the revived one too) and unknown entries are refused, and nothing changes.
    for id in [pending.outbox_id, dead.outbox_id] {
        let out = wagebridge(&app, &["outbox", "retry", &id.to_string()]);
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("只有 dead 的条目可以重试"),
            "{}",
            stderr(&out)
        );
        assert!(stderr(&out).contains("pending"), "{}", stderr(&out));
    }
    let out = wagebridge(&app, &["outbox", "retry", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("没有编号为 999999 的发送队列条目"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) AS n FROM audit_events WHERE entity = 'bank_outbox'"
        ),
        1
    );
}

/// `serve`, stopped with SIGTERM when dropped; its log goes to a file.
struct Served {
    child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl Served {
    fn start(app: &TestApp, envs: &[(&str, &str)]) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = tempfile::NamedTempFile::new().expect("a log file");
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &app.db.url)
            .env("WAGEBRIDGE_DATA_DIR", app.data_dir.path())
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(log.reopen().expect("the log file"));
        for (k, v) in envs {
            cmd.env(k, v);
        }
        Served {
            child: cmd.spawn().expect("start serve"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Waits (up to a generous deadline, not a speed limit) until `done`.
    fn wait_for(&self, what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what} did not happen; serve's log:\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: kill with the pid of our own child, then reap it.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }
}

#[actix_web::test]
async fn serve_runs_the_dispatcher_unless_jobs_are_off() {
    let app = TestApp::new().await;
    let (pending, dead) = pending_and_dead(&app).await;
    let state = |batch: &Batch| {
        text(
            &app,
            &format!(
                "SELECT state AS t FROM bank_outbox WHERE id = {}",
                batch.outbox_id
            ),
        )
    };

    let http_only = Served::start(&app, &[("WAGEBRIDGE_JOBS", "off")]);
    http_only.wait_for("the HTTP-only start", || {
        http_only.log().contains("background jobs are off")
    });
    drop(http_only);
    assert_eq!(state(&pending).as_deref(), Some("pending"));

    let served = Served::start(&app, &[]);
    served.wait_for("the pending entry being sent", || {
        state(&pending).as_deref() == Some("sent")
    });
    assert!(served.log().contains("background job started"));
    assert_eq!(
        state(&dead).as_deref(),
        Some("dead"),
        "a dead entry waits for a retry"
    );
    assert!(
        text(
            &app,
            &format!(
                "SELECT instance AS t FROM bank_outbox_attempts WHERE outbox_id = {}",
                pending.outbox_id
            )
        )
        .is_some_and(|instance| instance.ends_with(&format!(":{}", served.child.id()))),
        "the attempt names the serving process"
    );
}

#[test]
fn job_settings_that_cannot_be_read_are_refused_by_name() {
    for (name, value, reason) in [
        (
            "WAGEBRIDGE_BANK_MAX_ATTEMPTS",
            "0",
            "is not a positive number of attempts",
        ),
        (
            "WAGEBRIDGE_BANK_MAX_ATTEMPTS",
            "many",
            "is not a positive number of attempts",
        ),
        ("WAGEBRIDGE_JOBS", "maybe", "is neither \"on\" nor \"off\""),
    ] {
        let out = Command::new(BIN)
            .args(["outbox", "list"])
            .env_remove("DATABASE_URL")
            .env(name, value)
            .output()
            .expect("run wagebridge");
        assert_eq!(out.status.code(), Some(1), "{name}={value}");
        let err = stderr(&out);
        assert!(err.contains(name) && err.contains(reason), "{err}");
    }
}
