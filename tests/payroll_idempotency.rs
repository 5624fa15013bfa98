//! An `Idempotency-Key` whose first request is gone (its process killed, its
//! connection dropped by the client or by the database) is free at once: the
//! retry with the same key and body proceeds, and exactly one revision is
//! stored. While the first request runs, a retry gets 409.

mod common;
mod payroll_common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer};
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::{json, Value};
use wagebridge::db::{self, idempotency};

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");
const PATIENCE: Duration = Duration::from_secs(60);

#[derive(QueryableByName)]
struct Pid {
    #[diesel(sql_type = Integer)]
    pid: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn backend_pid(conn: &mut PgConnection) -> i32 {
    diesel::sql_query("SELECT pg_backend_pid() AS pid")
        .get_result::<Pid>(conn)
        .unwrap()
        .pid
}

/// Waits until the server process `pid` has ended (its locks are released
/// before it leaves pg_stat_activity).
fn wait_until_gone(conn: &mut PgConnection, pid: i32) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let n = diesel::sql_query("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1")
            .bind::<Integer, _>(pid)
            .get_result::<Count>(conn)
            .unwrap()
            .n;
        if n == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "backend {pid} did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Claims `key` for `body` on a connection of its own, as the first request
/// does, and leaves it running.
fn claim_on_own_connection(
    app: &TestApp,
    sub_uscc: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> PgConnection {
    let mut holder = app.db.conn();
    let org = db::organizations::find_by_uscc(&mut holder, sub_uscc)
        .unwrap()
        .unwrap();
    let bytes = serde_json::to_vec(body).unwrap();
    let hash =
        idempotency::request_hash(&[b"POST", path.as_bytes(), b"", b"application/json", &bytes]);
    let claim = idempotency::claim(&mut holder, org.id, key, &hash, app.clock.now()).unwrap();
    assert_eq!(claim, idempotency::Claim::Fresh);
    holder
}

async fn revisions(app: &TestApp, w: &common::fixtures::World) -> Value {
    let view = read(app, &w.sub.key, w, "").await.json();
    view["payrolls"][0]["revisions"].clone()
}

#[actix_web::test]
async fn after_the_first_requests_connection_is_dropped_the_retry_proceeds_at_once() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD), line(GOOD_2)]);
    let path = project_path(&w, "/payrolls");
    let mut holder = claim_on_own_connection(&app, &w.sub.uscc, &path, "crash-1", &body);
    submit_with_key(&app, &w.sub.key, &w, "crash-1", &body)
        .await
        .problem(409, "IDEMPOTENCY_KEY_IN_USE");

    // The process that held it dies: its connection closes without a word.
    let pid = backend_pid(&mut holder);
    drop(holder);
    wait_until_gone(&mut app.db.conn(), pid);

    // No clock moved: the retry runs now, and exactly once.
    let first = submit_with_key(&app, &w.sub.key, &w, "crash-1", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.json()["revision"], 1);
    let again = submit_with_key(&app, &w.sub.key, &w, "crash-1", &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json(), first.json());
    assert_eq!(revisions(&app, &w).await, json!([1]));
}

#[actix_web::test]
async fn a_key_whose_connection_the_database_dropped_does_not_stay_blocked() {
    // What an outage does to a request in flight (it answers 503): the
    // database ends its session, and the key's lock with it.
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD)]);
    let path = project_path(&w, "/payrolls");
    let mut holder = claim_on_own_connection(&app, &w.sub.uscc, &path, "outage-1", &body);
    let pid = backend_pid(&mut holder);
    let mut admin = app.db.conn();
    diesel::sql_query("SELECT pg_terminate_backend($1)")
        .bind::<Integer, _>(pid)
        .execute(&mut admin)
        .unwrap();
    wait_until_gone(&mut admin, pid);

    let r = submit_with_key(&app, &w.sub.key, &w, "outage-1", &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(revisions(&app, &w).await, json!([1]));
    drop(holder);
}

#[actix_web::test]
async fn a_request_that_ends_normally_leaves_no_lock_on_the_pooled_connection() {
    // Every connection of the pool is used in turn; a lock left on one of
    // them would make a later key look busy.
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    for i in 0..10 {
        let body = payroll(vec![line(GOOD)]);
        let r = submit_with_key(&app, &w.sub.key, &w, &format!("seq-{i}"), &body).await;
        assert_eq!(r.status, 201, "{}", r.text());
        let bad = json!({ "period": "2099-01", "lines": [line(GOOD)] });
        submit_with_key(&app, &w.sub.key, &w, &format!("bad-{i}"), &bad)
            .await
            .problem(422, "PERIOD_IN_FUTURE");
    }
    let held = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()",
    )
    .get_result::<Count>(&mut app.db.conn())
    .unwrap()
    .n;
    assert_eq!(held, 0);
}

/// `wagebridge serve` on the test database; SIGKILLed when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(database_url: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start wagebridge serve");
        let served = Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + PATIENCE;
        while !reqwest::blocking::get(format!("{}/readyz", served.base))
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(Instant::now() < deadline, "serve did not become ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        served
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The backend waiting for an advisory lock (the submission, inside its
/// transaction after it claimed its key), once there is one.
fn wait_for_blocked_submission(conn: &mut PgConnection) -> i32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let found = diesel::sql_query(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
        )
        .get_result::<Pid>(conn)
        .optional()
        .unwrap();
        if let Some(p) = found {
            return p.pid;
        }
        assert!(
            Instant::now() < deadline,
            "the submission never reached its lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[actix_web::test]
async fn a_serve_process_killed_mid_submission_does_not_block_the_retry() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD), line(GOOD_2), line(GOOD_3)]);
    let bytes = serde_json::to_vec(&body).unwrap();
    let path = project_path(&w, "/payrolls");

    // Hold the period's submission lock, so the real submission stops inside
    // its transaction, with its key claimed, until it is killed.
    let mut period_lock = app.db.conn();
    let (project, sub) = {
        let project = db::projects::find_by_code(&mut period_lock, &w.code)
            .unwrap()
            .unwrap();
        let sub = db::organizations::find_by_uscc(&mut period_lock, &w.sub.uscc)
            .unwrap()
            .unwrap();
        (project.id, sub.id)
    };
    diesel::sql_query("BEGIN")
        .execute(&mut period_lock)
        .unwrap();
    let period = wagebridge::domain::Period::parse(PERIOD).unwrap();
    db::payrolls::lock_period(&mut period_lock, project, sub, period).unwrap();

    // reqwest's blocking client may not run on the test's async runtime.
    let database_url = app.db.url.clone();
    let served = std::thread::spawn(move || Served::start(&database_url))
        .join()
        .unwrap();
    let url = format!("{}{path}", served.base);
    let (key, sent) = (w.sub.key.clone(), bytes.clone());
    let request = std::thread::spawn(move || {
        reqwest::blocking::Client::new()
            .post(url)
            .bearer_auth(key)
            .header("Content-Type", "application/json")
            .header("Idempotency-Key", "killed-1")
            .body(sent)
            .send()
            .map(|r| r.status().as_u16())
    });
    let mut watcher = app.db.conn();
    let blocked = wait_for_blocked_submission(&mut watcher);
    drop(served); // SIGKILL
    assert!(
        request.join().unwrap().is_err(),
        "the killed process answered"
    );
    // The dead process's session wakes when the period lock goes, finds its
    // client gone, rolls back and ends.
    diesel::sql_query("ROLLBACK")
        .execute(&mut period_lock)
        .unwrap();
    wait_until_gone(&mut watcher, blocked);

    let r = submit_with_key(&app, &w.sub.key, &w, "killed-1", &body).await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["totals"]["lines"], 3);
    assert_eq!(revisions(&app, &w).await, json!([1]));
}
