//! The `wagebridge` binary as a user runs it: `org add`, `key issue`, `serve`
//! (with `DATABASE_URL`, and with its own private cluster), then HTTP calls;
//! HTTPS and certificates in [`tls`], banks authenticating by certificate in
//! [`client_certificates`].

#[path = "cli/client_certificates.rs"]
mod client_certificates;
mod common;
#[path = "cli/tls.rs"]
mod tls;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::fixtures::{resident_id, uscc, worker_row};
use common::TestDb;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");

fn wagebridge(envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().expect("run wagebridge")
}

#[track_caller]
fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `wagebridge serve`, stopped with SIGTERM when dropped.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    /// Starts `serve` and waits until `/readyz` answers over plain HTTP.
    fn start(envs: &[(&str, &str)]) -> Served {
        let served = Served::spawn(envs);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::blocking::get(format!("{}/readyz", served.base)) {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "serve did not become ready");
            std::thread::sleep(Duration::from_millis(200));
        }
        served
    }

    /// Starts `serve` without waiting for it.
    fn spawn(envs: &[(&str, &str)]) -> Served {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start serve");
        Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    fn stop(&mut self) {
        // SAFETY: kill with a valid pid of our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().ok().flatten().is_none() {
            assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

fn call(method: reqwest::Method, url: &str, key: &str, body: Option<Value>) -> (u16, Value) {
    let client = reqwest::blocking::Client::new();
    let mut req = client.request(method, url).bearer_auth(key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let resp = req.send().expect("request");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

#[test]
fn the_readme_walkthrough_works_against_the_real_binary() {
    let db = TestDb::new();
    let env = [("DATABASE_URL", db.url.as_str())];

    // Administration from the command line.
    let admin = uscc(1);
    ok(wagebridge(
        &env,
        &[
            "org", "add", "--kind", "admin", "--name", "运维", "--uscc", &admin,
        ],
    ));
    let out = wagebridge(
        &env,
        &[
            "org", "add", "--kind", "admin", "--name", "again", "--uscc", &admin,
        ],
    );
    assert!(!out.status.success(), "a USCC registers once");
    let bad = wagebridge(
        &env,
        &[
            "org",
            "add",
            "--kind",
            "regulator",
            "--name",
            "x",
            "--uscc",
            &uscc(9),
        ],
    );
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("region"),
        "a regulator needs a region"
    );

    let key = ok(wagebridge(&env, &["key", "issue", "--org", &admin]));
    let key = key.trim_end_matches('\n');
    assert!(
        key.starts_with("wb_") && !key.contains('\n'),
        "the key is alone on stdout: {key:?}"
    );
    let unknown = wagebridge(&env, &["key", "issue", "--org", &uscc(77)]);
    assert!(
        !unknown.status.success() && unknown.stdout.is_empty(),
        "no key for an unknown organisation"
    );

    let mut served = Served::start(&env);
    let base = served.base.clone();
    let post = |path: &str, key: &str, body: Value| {
        call(
            reqwest::Method::POST,
            &format!("{base}{path}"),
            key,
            Some(body),
        )
    };
    let put = |path: &str, key: &str, body: Value| {
        call(
            reqwest::Method::PUT,
            &format!("{base}{path}"),
            key,
            Some(body),
        )
    };

    // The admin registers an owner and a contractor over HTTP; the contractor gets a key.
    let (s, _) = post(
        "/v1/organizations",
        key,
        json!({ "kind": "owner", "name": "业主", "uscc": uscc(2) }),
    );
    assert_eq!(s, 201);
    let (s, _) = post(
        "/v1/organizations",
        key,
        json!({ "kind": "contractor", "name": "总包", "uscc": uscc(3) }),
    );
    assert_eq!(s, 201);
    let contractor_key = ok(wagebridge(&env, &["key", "issue", "--org", &uscc(3)]));
    let contractor_key = contractor_key.trim();

    let (s, p) = post(
        "/v1/projects",
        contractor_key,
        common::fixtures::project_body("WH-1", &uscc(2)),
    );
    assert_eq!(s, 201, "{p}");
    let (s, a) = put(
        "/v1/projects/WH-1/wage-account",
        contractor_key,
        json!({ "bank_code": "102", "account_number": "3202000119200012345", "account_name": "总包光谷科创中心一期农民工工资专用账户", "opened_on": "2026-03-20" }),
    );
    assert_eq!(s, 201, "{a}");
    let (s, r) = put(
        "/v1/projects/WH-1/workers",
        contractor_key,
        json!({ "workers": [worker_row(1)] }),
    );
    assert_eq!((s, r["accepted"].clone()), (200, json!(1)), "{r}");
    let (s, r) = post(
        "/v1/projects/WH-1/attendance",
        contractor_key,
        json!({ "records": [{ "id_number": resident_id(1), "date": "2026-04-01", "hours": 8, "source": "gate-1" }] }),
    );
    assert_eq!((s, r["accepted"].clone()), (200, json!(1)), "{r}");
    let (s, p) = call(
        reqwest::Method::GET,
        &format!("{base}/v1/projects/WH-1"),
        contractor_key,
        None,
    );
    assert_eq!(s, 200);
    assert_eq!(p["wage_account"]["account_number"], "3202000119200012345");
    served.stop();
}

#[test]
fn serve_without_database_url_runs_and_stops_its_own_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().display().to_string();
    let env = [("WAGEBRIDGE_DATA_DIR", data_dir.as_str())];
    let mut served = Served::start(&env);
    let pid_file = Path::new(&data_dir).join("postgres/pgdata/postmaster.pid");
    assert!(
        pid_file.exists(),
        "the private cluster runs under the data directory"
    );

    // The CLI shares the running cluster.
    ok(wagebridge(
        &env,
        &[
            "org",
            "add",
            "--kind",
            "admin",
            "--name",
            "ops",
            "--uscc",
            &uscc(1),
        ],
    ));
    let key = ok(wagebridge(&env, &["key", "issue", "--org", &uscc(1)]));
    let (s, _) = call(
        reqwest::Method::POST,
        &format!("{}/v1/organizations", served.base),
        key.trim(),
        Some(json!({ "kind": "owner", "name": "业主", "uscc": uscc(2) })),
    );
    assert_eq!(s, 201);

    served.stop();
    assert!(!pid_file.exists(), "the cluster stopped with the service");

    // Data survives a restart.
    let served = Served::start(&env);
    let (s, _) = call(
        reqwest::Method::POST,
        &format!("{}/v1/organizations", served.base),
        key.trim(),
        Some(json!({ "kind": "owner", "name": "业主", "uscc": uscc(2) })),
    );
    assert_eq!(
        s, 409,
        "the owner registered before the restart is still there"
    );
}

/// Removes a directory when dropped (a relocated cluster lives outside the test's temp dir).
struct RemoveOnDrop(Option<std::path::PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(dir) = &self.0 {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[test]
fn serve_runs_when_its_data_directory_is_under_a_closed_parent() {
    use std::os::unix::fs::PermissionsExt;
    use wagebridge::db::local_cluster::{relocated_home, LOCATION_FILE};
    // Like a checkout under /root (mode 0700): the postgres user cannot enter it.
    let home = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    let home_path = std::fs::canonicalize(home.path()).unwrap();
    let data_dir = home_path.join("checkout/var");
    // SAFETY: geteuid has no preconditions.
    let as_root = unsafe { libc::geteuid() } == 0;
    let relocated = relocated_home(&data_dir.join("postgres"));
    // Declared before the service, so it is removed after the service stopped.
    let _cleanup = RemoveOnDrop(as_root.then(|| relocated.clone()));

    let data_dir_str = data_dir.display().to_string();
    let env = [("WAGEBRIDGE_DATA_DIR", data_dir_str.as_str())];
    let mut served = Served::start(&env);
    // The CLI finds the same cluster.
    ok(wagebridge(
        &env,
        &[
            "org",
            "add",
            "--kind",
            "admin",
            "--name",
            "ops",
            "--uscc",
            &uscc(1),
        ],
    ));
    if as_root {
        assert!(
            relocated.join("pgdata/PG_VERSION").exists(),
            "the cluster lives where postgres can reach it"
        );
        let note = std::fs::read_to_string(data_dir.join("postgres").join(LOCATION_FILE))
            .expect("a note says where the cluster is");
        assert!(note.contains(&relocated.display().to_string()), "{note}");
    }
    let mode = std::fs::metadata(&home_path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the user's own directory keeps its mode");
    served.stop();
    // And once more: the relocated cluster is found again, with its data.
    let served = Served::start(&env);
    let out = wagebridge(
        &env,
        &[
            "org",
            "add",
            "--kind",
            "admin",
            "--name",
            "ops",
            "--uscc",
            &uscc(1),
        ],
    );
    assert!(
        !out.status.success(),
        "the organisation survived the restart"
    );
    drop(served);
}

#[test]
fn serve_reads_uploads_with_the_row_limit_it_is_configured_with() {
    let db = TestDb::new();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("WAGEBRIDGE_MAX_UPLOAD_ROWS", "3"),
    ];
    for (kind, n) in [("admin", 1), ("owner", 2), ("contractor", 3)] {
        let name = format!("{kind} {n}");
        ok(wagebridge(
            &env,
            &[
                "org",
                "add",
                "--kind",
                kind,
                "--name",
                &name,
                "--uscc",
                &uscc(n),
            ],
        ));
    }
    let key = ok(wagebridge(&env, &["key", "issue", "--org", &uscc(3)]));
    let key = key.trim();
    let mut served = Served::start(&env);
    let base = served.base.clone();
    let (s, p) = call(
        reqwest::Method::POST,
        &format!("{base}/v1/projects"),
        key,
        Some(common::fixtures::project_body("WH-1", &uscc(2))),
    );
    assert_eq!(s, 201, "{p}");
    let roster = |n: u32| json!({ "workers": (1..=n).map(worker_row).collect::<Vec<_>>() });
    let url = format!("{base}/v1/projects/WH-1/workers");
    let (s, problem) = call(reqwest::Method::PUT, &url, key, Some(roster(4)));
    assert_eq!(
        (s, problem["code"].clone()),
        (422, json!("UPLOAD_TOO_MANY_ROWS")),
        "{problem}"
    );
    let (s, r) = call(reqwest::Method::PUT, &url, key, Some(roster(3)));
    assert_eq!((s, r["accepted"].clone()), (200, json!(3)), "{r}");
    served.stop();
}

/// A command that needs the database and finds no service running starts the private cluster
/// itself and keeps it until it is done (`bank-file list` once dropped it at once, then timed out).
#[test]
fn bank_file_list_runs_on_its_own_private_cluster() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().display().to_string();
    let env = [("WAGEBRIDGE_DATA_DIR", data_dir.as_str())];
    let out = ok(wagebridge(
        &env,
        &["bank-file", "list", "--status", "quarantined"],
    ));
    assert!(out.starts_with("id\tstatus\tkind"), "{out}");
    let pid_file = Path::new(&data_dir).join("postgres/pgdata/postmaster.pid");
    assert!(!pid_file.exists(), "the cluster stopped with the command");
}
