//! The integration-test harness: a real PostgreSQL for every test.
//!
//! With `DATABASE_URL` set, tests use that server. Without it, the first test
//! in a process starts a private throw-away cluster (initdb/pg_ctl, as the
//! `postgres` user when run as root), and a watchdog stops and deletes it
//! when the test process exits. Migrations run once into a template database
//! (named after a hash of the migrations, so a changed migration gets a new
//! template); every test then gets its own copy, dropped afterwards, so tests
//! run in parallel without seeing each other.

#![allow(dead_code)]

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, web, App};
use diesel::{Connection, PgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use wagebridge::api::{self, AppState};
use wagebridge::clock::Clock;
use wagebridge::db::local_cluster::{ClusterOptions, LocalCluster};
use wagebridge::db::{self, PgPool};

pub mod fixtures;

/// Where the server is: a URL with the database name left to fill in.
struct Server {
    /// e.g. `postgres://postgres@127.0.0.1:5432`
    base: String,
    /// Query string of the original DATABASE_URL, kept for every database.
    query: String,
}

impl Server {
    fn url(&self, database: &str) -> String {
        format!("{}/{database}{}", self.base, self.query)
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(
        || match std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(url) => split_url(&url),
            None => start_private_cluster(),
        },
    )
}

/// Splits `postgres://user@host:port/db?x=y` into base and query.
fn split_url(url: &str) -> Server {
    let (without_query, query) = match url.split_once('?') {
        Some((a, q)) => (a, format!("?{q}")),
        None => (url, String::new()),
    };
    let scheme_end = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match without_query[scheme_end..].find('/') {
        Some(i) => &without_query[..scheme_end + i],
        None => without_query,
    };
    Server {
        base: base.to_owned(),
        query,
    }
}

fn start_private_cluster() -> Server {
    let dir = std::env::temp_dir().join(format!("wagebridge-test-pg-{}", std::process::id()));
    // Thrown away after the run, so fsync buys nothing here.
    let cluster = LocalCluster::start_with(&dir, &ClusterOptions::throwaway())
        .expect("start a private PostgreSQL cluster for the tests");
    spawn_watchdog(&cluster, &dir);
    let base = format!("postgres://postgres@127.0.0.1:{}", cluster.port());
    // The watchdog stops it once this process is gone; statics are never dropped.
    std::mem::forget(cluster);
    Server {
        base,
        query: String::new(),
    }
}

/// A detached shell that waits for this process to exit, then stops the cluster and deletes it.
// It must outlive this process, so it is never waited for.
#[allow(clippy::zombie_processes)]
fn spawn_watchdog(cluster: &LocalCluster, dir: &Path) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let stop = cluster
        .stop_command()
        .iter()
        .map(|s| quote(s))
        .collect::<Vec<_>>()
        .join(" ");
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = quote(&dir.display().to_string()),
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn the cluster watchdog");
}

fn migrations_hash() -> u64 {
    let mut files: Vec<PathBuf> = walk(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .as_path(),
    );
    files.sort();
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        f.file_name().hash(&mut hasher);
        std::fs::read(&f).unwrap_or_default().hash(&mut hasher);
    }
    hasher.finish()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The migrated template, created once per server (under an advisory lock,
/// so parallel test processes don't race).
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = format!("wb_template_{:016x}", migrations_hash());
        let mut admin =
            PgConnection::establish(&server().url("postgres")).expect("connect to the test server");
        diesel::sql_query("SELECT pg_advisory_lock(7311)")
            .execute(&mut admin)
            .expect("lock");
        if !database_exists(&mut admin, &name) {
            diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
                .execute(&mut admin)
                .expect("create template");
            let mut conn =
                PgConnection::establish(&server().url(&name)).expect("connect to template");
            db::run_migrations(&mut conn).expect("migrate the template");
        }
        diesel::sql_query("SELECT pg_advisory_unlock(7311)")
            .execute(&mut admin)
            .expect("unlock");
        name
    })
}

pub fn database_exists(conn: &mut PgConnection, name: &str) -> bool {
    #[derive(diesel::QueryableByName)]
    struct E {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        e: bool,
    }
    diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1) AS e")
        .bind::<diesel::sql_types::Text, _>(name)
        .get_result::<E>(conn)
        .map(|r| r.e)
        .unwrap_or(false)
}

/// A fresh database for one test; dropped with it.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    /// A copy of the migrated template.
    pub fn new() -> TestDb {
        Self::create(Some(template()))
    }

    /// An empty database with no migrations applied.
    pub fn empty() -> TestDb {
        Self::create(None)
    }

    fn create(template: Option<&str>) -> TestDb {
        let name = format!("wb_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin =
            PgConnection::establish(&server().url("postgres")).expect("connect to the test server");
        let sql = match template {
            Some(t) => format!("CREATE DATABASE \"{name}\" TEMPLATE \"{t}\""),
            None => format!("CREATE DATABASE \"{name}\""),
        };
        // Copying a template fails while anyone else is connected to it; retry briefly.
        let mut tries = 0;
        loop {
            match diesel::sql_query(&sql).execute(&mut admin) {
                Ok(_) => break,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("create test database: {e}"),
            }
        }
        TestDb {
            url: server().url(&name),
            name,
        }
    }

    pub fn pool(&self) -> PgPool {
        db::pool(&self.url, 8).expect("pool to the test database")
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&server().url("postgres")) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// The API over a fresh database, called in-process.
pub struct TestApp {
    pub db: TestDb,
    pub pool: PgPool,
    /// The app's business clock; simulated unless the test asked for the real one.
    pub clock: Clock,
    call: CallFn,
    /// The app's data directory (raw bank files), removed with the app.
    pub data_dir: tempfile::TempDir,
}

/// Where a test's business clock stands: after the October 2026 payrolls the
/// tests submit, whatever the machine's date.
pub const TEST_NOW: &str = "2026-11-20T10:00:00+08:00";

pub fn test_clock() -> Clock {
    let now = chrono::DateTime::parse_from_rfc3339(TEST_NOW).expect("TEST_NOW is RFC 3339");
    Clock::simulated(now.with_timezone(&chrono::Utc))
}

type CallFn = Box<
    dyn Fn(
        actix_http::Request,
    ) -> LocalBoxFuture<'static, Result<ServiceResponse, actix_web::Error>>,
>;

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    /// `Retry-After`, when the answer has one.
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Asserts a problem+json with this status and code; returns the body.
    #[track_caller]
    pub fn problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status, status, "status; body: {}", self.text());
        assert_eq!(
            self.content_type,
            "application/problem+json",
            "content type; body: {}",
            self.text()
        );
        let body = self.json();
        assert_eq!(body["code"], code, "code; body: {body}");
        assert_eq!(body["status"], status);
        body
    }
}

pub const TEST_BODY_LIMIT: usize = 256 * 1024;

impl TestApp {
    /// An app whose simulated clock stands at [`TEST_NOW`].
    pub async fn new() -> TestApp {
        TestApp::with_clock(test_clock()).await
    }

    pub async fn with_clock(clock: Clock) -> TestApp {
        let db = TestDb::new();
        let pool = db.pool();
        let data_dir = tempfile::tempdir().expect("a data directory for the test app");
        let state = web::Data::new(AppState {
            pool: pool.clone(),
            clock: clock.clone(),
            token_limiter: Default::default(),
            data_dir: data_dir.path().to_path_buf(),
        });
        let service = std::rc::Rc::new(
            test::init_service(
                App::new()
                    .wrap(actix_web::middleware::from_fn(api::admission::admit))
                    .app_data(web::Data::new(api::admission::Admission::new(
                        Default::default(),
                    )))
                    .app_data(state)
                    .configure(api::configure(TEST_BODY_LIMIT)),
            )
            .await,
        );
        let call: CallFn = Box::new(move |req| {
            let service = service.clone();
            Box::pin(async move { service.call(req).await })
        });
        TestApp {
            db,
            pool,
            clock,
            call,
            data_dir,
        }
    }

    pub async fn request(&self, req: test::TestRequest) -> Reply {
        let resp: actix_web::HttpResponse = match (self.call)(req.to_request()).await {
            Ok(resp) => resp.into_parts().1,
            Err(e) => e.error_response(),
        };
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = actix_web::body::to_bytes(resp.into_body())
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Reply {
            status,
            content_type,
            retry_after,
            body,
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> Reply {
        self.request(
            test::TestRequest::get()
                .uri(path)
                .insert_header(("Authorization", format!("Bearer {key}"))),
        )
        .await
    }

    pub async fn send_json(&self, method: &str, key: &str, path: &str, body: &Value) -> Reply {
        self.send(
            method,
            key,
            path,
            "application/json",
            serde_json::to_vec(body).expect("json"),
        )
        .await
    }

    pub async fn send(
        &self,
        method: &str,
        key: &str,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Reply {
        let req = match method {
            "POST" => test::TestRequest::post(),
            "PUT" => test::TestRequest::put(),
            "DELETE" => test::TestRequest::delete(),
            _ => test::TestRequest::get(),
        };
        self.request(
            req.uri(path)
                .insert_header(("Authorization", format!("Bearer {key}")))
                .insert_header(("Content-Type", content_type))
                .set_payload(body.into()),
        )
        .await
    }
}
