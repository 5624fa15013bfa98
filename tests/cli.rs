//! The `wagebridge` binary as a user runs it: `org add`, `key issue`, `serve`
//! (with `DATABASE_URL`, and with its own private cluster), then HTTP calls.

mod common;

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

/// A certificate and its key, as PEM files in `dir`.
struct Pem {
    cert: std::path::PathBuf,
    key: std::path::PathBuf,
}

fn write_pem(dir: &Path, name: &str, cert: &rcgen::Certificate, key: &rcgen::KeyPair) -> Pem {
    let pem = Pem {
        cert: dir.join(format!("{name}.pem")),
        key: dir.join(format!("{name}.key")),
    };
    std::fs::write(&pem.cert, cert.pem()).unwrap();
    std::fs::write(&pem.key, key.serialize_pem()).unwrap();
    pem
}

fn make_ca(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    names: &[&str],
    issuer: &rcgen::CertifiedIssuer<'static, rcgen::KeyPair>,
) -> (rcgen::Certificate, rcgen::KeyPair) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params =
        rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .unwrap();
    (params.signed_by(&key, issuer).unwrap(), key)
}

/// GET `path` over TLS, optionally presenting a client certificate; the status line, or the TLS error.
fn tls_get(port: u16, ca_pem: &Path, client: Option<&Pem>, path: &str) -> Result<String, String> {
    use std::io::{Read, Write};
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(ca_pem).unwrap(),
    )) {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(pem) => {
            let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
                std::fs::File::open(&pem.cert).unwrap(),
            ))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
            let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
                std::fs::File::open(&pem.key).unwrap(),
            ))
            .unwrap()
            .unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    let server_name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn =
        rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| e.to_string())?;
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    text.lines()
        .next()
        .map(str::to_owned)
        .ok_or_else(|| "empty response".to_owned())
}

#[test]
fn serve_speaks_https_and_verifies_bank_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let ca = make_ca("wagebridge test CA");
    let ca_pem = dir.path().join("ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    let (server_cert, server_key) = leaf(&["localhost", "127.0.0.1"], &ca);
    let server = write_pem(dir.path(), "server", &server_cert, &server_key);
    let (bank_cert, bank_key) = leaf(&["bank-102"], &ca);
    let bank = write_pem(dir.path(), "bank", &bank_cert, &bank_key);
    let rogue_ca = make_ca("somebody else");
    let (rogue_cert, rogue_key) = leaf(&["bank-666"], &rogue_ca);
    let rogue = write_pem(dir.path(), "rogue", &rogue_cert, &rogue_key);

    let db = TestDb::new();
    let (cert, key) = (
        server.cert.display().to_string(),
        server.key.display().to_string(),
    );
    let ca_path = ca_pem.display().to_string();
    let served = Served::spawn(&[
        ("DATABASE_URL", db.url.as_str()),
        ("WAGEBRIDGE_TLS_CERT", cert.as_str()),
        ("WAGEBRIDGE_TLS_KEY", key.as_str()),
        ("WAGEBRIDGE_TLS_CLIENT_CA", ca_path.as_str()),
    ]);
    let port: u16 = served.base.rsplit(':').next().unwrap().parse().unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        match tls_get(port, &ca_pem, Some(&bank), "/readyz") {
            Ok(line) => break line,
            Err(e) => assert!(Instant::now() < deadline, "HTTPS never came up: {e}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(
        status, "HTTP/1.1 200 OK",
        "a bank with a certificate from our CA is served"
    );
    assert_eq!(
        tls_get(port, &ca_pem, None, "/healthz").unwrap(),
        "HTTP/1.1 200 OK",
        "API-key clients need no certificate"
    );
    assert!(
        tls_get(port, &ca_pem, Some(&rogue), "/healthz").is_err(),
        "a certificate from another CA is refused in the handshake"
    );
    // Plain HTTP is not spoken on the TLS port.
    assert!(reqwest::blocking::get(format!("{}/healthz", served.base))
        .map(|r| r.status() != 200)
        .unwrap_or(true));
}
