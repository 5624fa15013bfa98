//! When PostgreSQL goes away the service says so (503 `DATABASE_UNAVAILABLE`,
//! problem+json) instead of hanging or answering 500, and it recovers by
//! itself when PostgreSQL comes back: the real `wagebridge serve` binary
//! against a private cluster of its own, which the test stops and restarts.

mod common;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{project_body, uscc};
use serde_json::Value;
use wagebridge::db::local_cluster::{find_binary, LocalCluster};

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");
/// How long anything here may take before the test gives up and says what it waited for.
const PATIENCE: Duration = Duration::from_secs(90);

fn wagebridge(database_url: &str, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge")
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "wagebridge failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// `wagebridge serve`, killed when dropped; its log goes to a file shown on failure.
struct Served {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Served {
    fn start(database_url: &str, log: PathBuf) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("start wagebridge serve");
        Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stops the restarted cluster at the end, however the test ends.
struct StopOnDrop(Vec<String>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some((program, args)) = self.0.split_first() {
            let _ = Command::new(program).args(args).output();
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Starts the stopped cluster again on the port it had, so the service's
/// DATABASE_URL points at it again (LocalCluster::start would pick a new port).
fn restart(cluster: &LocalCluster, dir: &Path) {
    let pg_ctl = find_binary("pg_ctl").expect("pg_ctl");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl);
        c
    } else {
        Command::new(pg_ctl)
    };
    let options = format!(
        "-c listen_addresses=127.0.0.1 -c port={} -c unix_socket_directories='' -c fsync=off",
        cluster.port()
    );
    let out = cmd
        .arg("-D")
        .arg(cluster.data_dir())
        .arg("-l")
        .arg(dir.join("postgres.log"))
        .args(["-o", &options, "-w", "-t", "60", "start"])
        .stdin(Stdio::null())
        .output()
        .expect("run pg_ctl start");
    assert!(
        out.status.success(),
        "pg_ctl start failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One request; the status, content type and JSON body (Null when not JSON), and how long it took.
fn get(client: &reqwest::blocking::Client, url: &str, key: &str) -> (u16, String, Value, Duration) {
    let started = Instant::now();
    let resp = client
        .get(url)
        .bearer_auth(key)
        .send()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = resp.json().unwrap_or(Value::Null);
    (status, content_type, body, started.elapsed())
}

/// Asks until the answer has `want` status, or fails after PATIENCE naming the last answer.
fn wait_for(
    client: &reqwest::blocking::Client,
    served: &Served,
    path: &str,
    key: &str,
    want: u16,
) -> Duration {
    let started = Instant::now();
    let url = format!("{}{path}", served.base);
    loop {
        let last = match client.get(&url).bearer_auth(key).send() {
            Ok(r) if r.status().as_u16() == want => return started.elapsed(),
            Ok(r) => format!("{} {}", r.status(), r.text().unwrap_or_default()),
            Err(e) => e.to_string(),
        };
        assert!(
            started.elapsed() < PATIENCE,
            "GET {path} did not answer {want} within {PATIENCE:?}; last answer: {last}\nserve's log:\n{}",
            served.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn without_postgres_the_service_answers_503_database_unavailable_and_recovers_when_it_returns() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut cluster = LocalCluster::start(dir.path()).expect("start a private cluster");
    let url = cluster.url("postgres");

    // The cast, made with the command line as an operator would.
    ok(wagebridge(
        &url,
        &[
            "org",
            "add",
            "--kind",
            "owner",
            "--name",
            "业主",
            "--uscc",
            &uscc(2),
        ],
    ));
    ok(wagebridge(
        &url,
        &[
            "org",
            "add",
            "--kind",
            "contractor",
            "--name",
            "总包",
            "--uscc",
            &uscc(3),
        ],
    ));
    let key = ok(wagebridge(&url, &["key", "issue", "--org", &uscc(3)]));

    let served = Served::start(&url, dir.path().join("serve.log"));
    let client = reqwest::blocking::Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("HTTP client");
    wait_for(&client, &served, "/readyz", "", 200);
    let created = client
        .post(format!("{}/v1/projects", served.base))
        .bearer_auth(&key)
        .json(&project_body("WH-2026-001", &uscc(2)))
        .send()
        .expect("create a project");
    assert_eq!(created.status().as_u16(), 201, "{:?}", created.text());
    let project = "/v1/projects/WH-2026-001";
    wait_for(&client, &served, project, &key, 200);

    // PostgreSQL goes away (fast shutdown: open sessions are ended).
    cluster.stop().expect("stop the cluster");
    let _stop = StopOnDrop(cluster.stop_command());

    let (status, content_type, body, took) =
        get(&client, &format!("{}{project}", served.base), &key);
    eprintln!("GET {project} without PostgreSQL: {status} after {took:?}");
    assert_eq!(status, 503, "{body}\nserve's log:\n{}", served.log());
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert_eq!(body["code"], "DATABASE_UNAVAILABLE", "{body}");
    assert_eq!(body["status"], 503, "{body}");

    let (status, _, body, took) = get(&client, &format!("{}/readyz", served.base), "");
    eprintln!("GET /readyz without PostgreSQL: {status} after {took:?}");
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "DATABASE_UNAVAILABLE", "{body}");
    // Liveness does not depend on the database.
    let (status, ..) = get(&client, &format!("{}/healthz", served.base), "");
    assert_eq!(status, 200);

    // PostgreSQL comes back on the same port; the pool reconnects by itself.
    restart(&cluster, dir.path());
    let took = wait_for(&client, &served, project, &key, 200);
    eprintln!("GET {project} answered 200 again {took:?} after the restart");
    wait_for(&client, &served, "/readyz", "", 200);
    let (status, _, body, _) = get(&client, &format!("{}{project}", served.base), &key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["code"], "WH-2026-001", "{body}");
}
