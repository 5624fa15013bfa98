//! Banks authenticating by client certificate: `certs add` registers a bank's
//! certificate, and `serve` over HTTPS identifies the bank by it in a real
//! handshake, with or without an API key; what `certs add` refuses.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::common::fixtures::uscc;
use super::{common::TestDb, free_port, ok, wagebridge, Served, BIN};

/// A client certificate and its key from `certs dev`.
struct Client {
    cert: PathBuf,
    key: PathBuf,
}

impl Client {
    fn named(dir: &Path, name: &str) -> Client {
        Client {
            cert: dir.join(format!("{name}.pem")),
            key: dir.join(format!("{name}.key")),
        }
    }
}

/// The rustls client config trusting `ca`, presenting `client` when given.
fn client_config(ca: &Path, client: Option<&Client>) -> rustls::ClientConfig {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    match client {
        Some(c) => {
            let certs = CertificateDer::pem_file_iter(&c.cert)
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap();
            let key = PrivateKeyDer::from_pem_file(&c.key).unwrap();
            builder.with_client_auth_cert(certs, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    }
}

/// GET `path` over a fresh TLS connection; (status, JSON body), or the connection error.
fn get(
    port: u16,
    ca: &Path,
    client: Option<&Client>,
    key: Option<&str>,
    path: &str,
) -> Result<(u16, Value), String> {
    use std::io::{Read, Write};
    let server_name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(client_config(ca, client)), server_name)
        .map_err(|e| e.to_string())?;
    let tcp = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    let auth = key
        .map(|k| format!("Authorization: Bearer {k}\r\n"))
        .unwrap_or_default();
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\n{auth}Connection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = Vec::new();
    tls.read_to_end(&mut response).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no end of headers")?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status in {head:?}"))?;
    Ok((status, serde_json::from_str(body).unwrap_or(Value::Null)))
}

/// Starts `serve` over HTTPS with the `certs dev` set in `dir`, logging JSON
/// into `dir/serve.log`; waits until it answers.
fn serve_https(db: &TestDb, dir: &Path) -> (Served, u16) {
    let path = |f: &str| dir.join(f);
    let port = free_port();
    let log = std::fs::File::create(path("serve.log")).unwrap();
    let child = Command::new(BIN)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", &db.url)
        .env("WAGEBRIDGE_TLS_CERT", path("server.pem"))
        .env("WAGEBRIDGE_TLS_KEY", path("server.key"))
        .env("WAGEBRIDGE_TLS_CLIENT_CA", path("ca.pem"))
        .env("WAGEBRIDGE_LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start serve");
    let served = Served {
        child,
        base: format!("https://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(
        get(port, &dir.join("ca.pem"), None, None, "/readyz"),
        Ok((200, _))
    ) {
        assert!(Instant::now() < deadline, "HTTPS never came up");
        std::thread::sleep(Duration::from_millis(200));
    }
    (served, port)
}

/// The SHA-256 fingerprint openssl prints for a PEM certificate (`AB:CD:…`).
fn openssl_fingerprint(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .expect("openssl must be installed for this test");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim()
        .split_once('=')
        .expect("Fingerprint=…")
        .1
        .to_owned()
}

fn add_org(env: &[(&str, &str)], kind: &str, name: &str, uscc: &str) {
    ok(wagebridge(
        env,
        &["org", "add", "--kind", kind, "--name", name, "--uscc", uscc],
    ));
}

#[test]
fn a_bank_is_identified_by_its_registered_certificate_and_a_stranger_by_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let certs_str = certs.display().to_string();
    ok(wagebridge(
        &[],
        &[
            "certs", "dev", "--out", &certs_str, "--client", "bank", "--client", "stranger",
        ],
    ));
    let db = TestDb::new();
    let env = [("DATABASE_URL", db.url.as_str())];
    let (bank_uscc, contractor_uscc) = (uscc(801), uscc(802));
    add_org(&env, "bank", "中国工商银行武汉分行", &bank_uscc);
    add_org(&env, "contractor", "中建三局", &contractor_uscc);
    let bank = Client::named(&certs, "bank");
    let stranger = Client::named(&certs, "stranger");
    let bank_cert = bank.cert.display().to_string();
    let printed = ok(wagebridge(
        &env,
        &["certs", "add", "--org", &bank_uscc, &bank_cert],
    ));
    assert_eq!(printed.trim(), openssl_fingerprint(&bank.cert));
    let bank_key = ok(wagebridge(&env, &["key", "issue", "--org", &bank_uscc]));
    let contractor_key = ok(wagebridge(
        &env,
        &["key", "issue", "--org", &contractor_uscc],
    ));
    let (bank_key, contractor_key) = (bank_key.trim(), contractor_key.trim());

    let (_served, port) = serve_https(&db, &certs);
    let ca = certs.join("ca.pem");
    let whoami = |client, key| get(port, &ca, client, key, "/v1/whoami").unwrap();

    let (status, body) = whoami(Some(&bank), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["kind"], "bank");
    assert_eq!(body["uscc"], bank_uscc.as_str());
    assert_eq!(body["name"], "中国工商银行武汉分行");
    assert_eq!(body["authenticated_by"], "certificate");

    let (status, body) = whoami(Some(&stranger), None);
    assert_eq!(
        (status, &body["code"]),
        (401, &"UNAUTHORIZED".into()),
        "a certificate of our CA that nobody registered identifies nobody: {body}"
    );
    let (status, body) = whoami(None, None);
    assert_eq!(status, 401, "{body}");

    let (status, body) = whoami(Some(&bank), Some(contractor_key));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "CREDENTIALS_DISAGREE");

    let (status, body) = whoami(Some(&bank), Some(bank_key));
    assert_eq!((status, &body["authenticated_by"]), (200, &"key".into()));
    let (status, body) = whoami(Some(&stranger), Some(contractor_key));
    assert_eq!(
        status, 200,
        "an unregistered certificate does not block a key"
    );
    assert_eq!(
        (&body["uscc"], &body["authenticated_by"]),
        (&contractor_uscc.as_str().into(), &"key".into())
    );

    // The request span records how the caller authenticated: a request that
    // fails after authentication logs an event carrying it.
    let (status, _) = get(port, &ca, Some(&bank), None, "/v1/projects/NO-SUCH").unwrap();
    assert_eq!(status, 404);
    let (status, _) = get(port, &ca, None, Some(bank_key), "/v1/projects/NO-SUCH").unwrap();
    assert_eq!(status, 404);
    for method in ["certificate", "key"] {
        let field = format!("\"auth_method\":\"{method}\"");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(certs.join("serve.log"))
            .unwrap()
            .lines()
            .any(|l| l.contains(&field) && l.contains("NO-SUCH"))
        {
            assert!(Instant::now() < deadline, "no log line with {field}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    // Revoked: the same certificate identifies nobody from the next connection on.
    let fingerprint = wagebridge::tls::fingerprint(&certificate_der(&bank.cert));
    let mut conn = db.conn();
    let revoked =
        wagebridge::db::client_certificates::revoke(&mut conn, &fingerprint, chrono::Utc::now())
            .unwrap();
    assert!(revoked);
    assert_eq!(whoami(Some(&bank), None).0, 401);
    let again = wagebridge(&env, &["certs", "add", "--org", &bank_uscc, &bank_cert]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("revoked"));
}

/// The DER of the first certificate in a PEM file.
fn certificate_der(pem: &Path) -> Vec<u8> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    CertificateDer::from_pem_file(pem).unwrap().to_vec()
}

#[test]
fn certs_add_registers_only_a_bank_s_own_v3_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let file = |f: &str| certs.join(f).display().to_string();
    ok(wagebridge(
        &[],
        &["certs", "dev", "--out", &file(""), "--client", "bank"],
    ));
    let db = TestDb::new();
    let env = [("DATABASE_URL", db.url.as_str())];
    let (bank, other_bank, contractor) = (uscc(811), uscc(812), uscc(813));
    add_org(&env, "bank", "银行甲", &bank);
    add_org(&env, "bank", "银行乙", &other_bank);
    add_org(&env, "contractor", "总包", &contractor);
    let refused = |org: &str, cert: &str, says: &str| {
        let out = wagebridge(&env, &["certs", "add", "--org", org, cert]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{cert} for {org} was accepted");
        assert!(stderr.contains(says), "{says:?} not in {stderr}");
        assert!(out.stdout.is_empty());
    };

    refused(&contractor, &file("bank.pem"), "only a bank");
    refused(&uscc(819), &file("bank.pem"), "no organisation");
    refused(&bank, &file("ca.pem"), "CA certificate");
    refused(&bank, &file("server.pem"), "clientAuth");
    let v1 = "openssl req -newkey rsa:2048 -nodes -subj /CN=bank-v1 -keyout v1.key -out v1.csr \
              && openssl x509 -req -in v1.csr -signkey v1.key -days 30 -out v1.pem";
    let made = Command::new("sh")
        .args(["-c", v1])
        .current_dir(&certs)
        .output()
        .expect("openssl must be installed for this test");
    assert!(made.status.success());
    refused(&bank, &file("v1.pem"), "X.509 v1");

    let first = ok(wagebridge(
        &env,
        &["certs", "add", "--org", &bank, &file("bank.pem")],
    ));
    let again = wagebridge(&env, &["certs", "add", "--org", &bank, &file("bank.pem")]);
    assert_eq!(
        ok(again.clone()),
        first,
        "registering twice changes nothing"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already registered"));
    refused(&other_bank, &file("bank.pem"), "another organisation");

    // The database keeps certificates to banks even for hand-written SQL.
    use diesel::RunQueryDsl;
    let mut conn = db.conn();
    let sql = format!(
        "INSERT INTO client_certificates (organization_id, fingerprint, subject, not_after, registered_at)
         SELECT id, sha256('x'), 'CN=x', now() + interval '1 day', now() FROM organizations WHERE uscc = '{contractor}'"
    );
    let err = diesel::sql_query(sql).execute(&mut conn).unwrap_err();
    assert!(err.to_string().contains("banks only"), "{err}");
}
