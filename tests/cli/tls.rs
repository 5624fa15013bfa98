//! `serve` over HTTPS: certificates from `certs dev` and from certs/README.md's
//! openssl recipe, real handshakes (rustls and curl), and the TLS setups that
//! must refuse to start.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{common::TestDb, ok, wagebridge, Served, BIN};

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
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca_pem).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some(pem) => {
            let certs = CertificateDer::pem_file_iter(&pem.cert)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(&pem.key).unwrap();
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
    let (served, port) = serve_https(&db, &server.cert, &server.key, &ca_pem);
    let status = wait_for_https(port, &ca_pem, Some(&bank));
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

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// Spawns `serve` with HTTPS and the client CA; returns it and its port.
fn serve_https(db: &TestDb, cert: &Path, key: &Path, ca: &Path) -> (Served, u16) {
    let (cert, key, ca) = (path_str(cert), path_str(key), path_str(ca));
    let served = Served::spawn(&[
        ("DATABASE_URL", db.url.as_str()),
        ("WAGEBRIDGE_TLS_CERT", cert.as_str()),
        ("WAGEBRIDGE_TLS_KEY", key.as_str()),
        ("WAGEBRIDGE_TLS_CLIENT_CA", ca.as_str()),
    ]);
    let port = served
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port in base URL");
    (served, port)
}

/// Waits until `/readyz` answers over TLS; its status line.
fn wait_for_https(port: u16, ca: &Path, client: Option<&Pem>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match tls_get(port, ca, client, "/readyz") {
            Ok(line) => return line,
            Err(e) => assert!(Instant::now() < deadline, "HTTPS never came up: {e}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Runs `curl` with `args` against `https://localhost:{port}{path}`; (success, body).
fn curl(dir: &Path, args: &[&str], port: u16, path: &str) -> (bool, String) {
    let out = Command::new("curl")
        .current_dir(dir)
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .arg(format!("https://localhost:{port}{path}"))
        .output()
        .expect("curl must be installed for this test");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `serve` and expects it to exit on its own (within 30 s); its output.
fn serve_exits(envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--bind", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve kept running; it should have refused to start");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().expect("output")
}

#[test]
fn certs_dev_makes_certificates_for_https_with_a_bank_client_certificate() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_str = path_str(&out);
    ok(wagebridge(
        &[],
        &["certs", "dev", "--out", &out_str, "--client", "bank"],
    ));
    for key in ["ca.key", "server.key", "bank.key"] {
        let mode = std::fs::metadata(out.join(key))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{key}");
    }
    let again = wagebridge(&[], &["certs", "dev", "--out", &out_str]);
    assert!(
        !again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists"),
        "existing certificates are not overwritten"
    );

    let db = TestDb::new();
    let ca = out.join("ca.pem");
    let (_served, port) = serve_https(&db, &out.join("server.pem"), &out.join("server.key"), &ca);
    let bank = Pem {
        cert: out.join("bank.pem"),
        key: out.join("bank.key"),
    };
    assert_eq!(wait_for_https(port, &ca, Some(&bank)), "HTTP/1.1 200 OK");
    assert_eq!(
        tls_get(port, &ca, None, "/healthz").unwrap(),
        "HTTP/1.1 200 OK"
    );
    // The server certificate is no client certificate (it lacks clientAuth).
    let server_as_client = Pem {
        cert: out.join("server.pem"),
        key: out.join("server.key"),
    };
    assert!(tls_get(port, &ca, Some(&server_as_client), "/healthz").is_err());
    let (success, body) = curl(
        &out,
        &[
            "--cacert", "ca.pem", "--cert", "bank.pem", "--key", "bank.key",
        ],
        port,
        "/healthz",
    );
    assert!(success, "curl with the bank certificate: {body}");
}

/// The first shell block of certs/README.md after `heading`.
fn readme_block(heading: &str) -> String {
    let readme = include_str!("../../certs/README.md");
    let after = &readme[readme.find(heading).expect("heading in certs/README.md")..];
    let start = after.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let len = after[start..].find("```").expect("end of the block");
    after[start..start + len].to_owned()
}

#[test]
fn the_certs_readme_openssl_recipe_works_with_its_curl_commands() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    let recipe = readme_block("## With openssl");
    let out = Command::new("sh")
        .args(["-e", "-c", &recipe])
        .current_dir(dir.path())
        .output()
        .expect("openssl must be installed for this test");
    assert!(
        out.status.success(),
        "the recipe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let certs = dir.path().join("certs");

    let db = TestDb::new();
    let (_served, port) = serve_https(
        &db,
        &certs.join("server.pem"),
        &certs.join("server.key"),
        &certs.join("ca.pem"),
    );
    let bank = Pem {
        cert: certs.join("bank.pem"),
        key: certs.join("bank.key"),
    };
    assert_eq!(
        wait_for_https(port, &certs.join("ca.pem"), Some(&bank)),
        "HTTP/1.1 200 OK"
    );
    // The README's curl lines, verbatim but for the port.
    let curls = readme_block("and in another terminal:");
    let lines: Vec<&str> = curls.lines().filter(|l| l.starts_with("curl ")).collect();
    assert_eq!(lines.len(), 2, "{curls}");
    for line in lines {
        let mut words: Vec<&str> = line.split_whitespace().skip(1).collect();
        let url = words.pop().expect("url");
        let path = url
            .strip_prefix("https://localhost:8080")
            .expect("README url");
        let (success, body) = curl(dir.path(), &words, port, path);
        assert!(success && body.contains("ok"), "{line}: {body}");
    }
}

#[test]
fn a_client_ca_without_a_server_certificate_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, make_ca("wagebridge test CA").pem()).unwrap();
    let data_dir = dir.path().join("var");
    let (ca, data_dir) = (path_str(&ca), path_str(&data_dir));
    let out = serve_exits(&[
        ("WAGEBRIDGE_TLS_CLIENT_CA", ca.as_str()),
        ("WAGEBRIDGE_DATA_DIR", data_dir.as_str()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("WAGEBRIDGE_TLS_CLIENT_CA") && stderr.contains("WAGEBRIDGE_TLS_CERT"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("var").exists(),
        "refused before starting a database"
    );
}

#[test]
fn an_x509_v1_server_certificate_is_refused_with_a_message_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    // The recipe certs/README.md used to give: `openssl x509 -req` without extensions.
    let script =
        "openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout v1.key -out v1.csr \
                  && openssl x509 -req -in v1.csr -signkey v1.key -days 30 -out v1.pem";
    let made = Command::new("sh")
        .args(["-c", script])
        .current_dir(dir.path())
        .output()
        .expect("openssl must be installed for this test");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let (cert, key) = (
        path_str(&dir.path().join("v1.pem")),
        path_str(&dir.path().join("v1.key")),
    );
    let data_dir = path_str(&dir.path().join("var"));
    let out = serve_exits(&[
        ("WAGEBRIDGE_TLS_CERT", cert.as_str()),
        ("WAGEBRIDGE_TLS_KEY", key.as_str()),
        ("WAGEBRIDGE_DATA_DIR", data_dir.as_str()),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("X.509 v1") && stderr.contains("v3"),
        "the message names the version: {stderr}"
    );
}
