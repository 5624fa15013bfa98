//! bank-sim's servers: the HTTPS protocol with mutual TLS (the transport
//! [`crate::transport::HttpsExchange`] speaks; rustls requires a client
//! certificate issued by the configured CA) and the plain-HTTP admin API on
//! loopback ([`super::admin`]). Both run on actix-web in one background
//! thread; [`Running`] stops them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, App, HttpResponse, HttpServer};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;

use super::exchange::{Taken, MAX_MESSAGE_BYTES};
use super::{Config, Sim, SimError};

/// Most connections each server serves at once.
const MAX_CONNECTIONS: usize = 256;

/// The shared state of the handlers.
pub(super) struct Shared {
    pub(super) sim: Sim,
    /// Serialises the `fail_next_n` count-down among requests of this process.
    fault_counter: Mutex<()>,
}

/// An answer made on the blocking pool (an `HttpResponse` is not `Send`).
pub(super) struct Answer {
    status: StatusCode,
    content_type: &'static str,
    body: Vec<u8>,
}

impl Answer {
    pub(super) fn empty(status: StatusCode) -> Answer {
        Answer::text(status, String::new())
    }

    pub(super) fn text(status: StatusCode, text: String) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: text.into_bytes(),
        }
    }

    pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Answer {
        match serde_json::to_vec(value) {
            Ok(body) => Answer {
                status,
                content_type: "application/json",
                body,
            },
            Err(e) => Answer::text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }

    fn xml(bytes: Vec<u8>) -> Answer {
        Answer {
            status: StatusCode::OK,
            content_type: "application/xml",
            body: bytes,
        }
    }

    pub(super) fn into_response(self) -> HttpResponse {
        HttpResponse::build(self.status)
            .content_type(self.content_type)
            .body(self.body)
    }
}

/// The rustls server configuration: the bank's certificate and key, and
/// only client certificates issued by `client_ca` (no certificate, no
/// connection).
pub fn tls_config(
    cert: &Path,
    key: &Path,
    client_ca: &Path,
) -> Result<rustls::ServerConfig, SimError> {
    let bad = |path: &Path, what: &str| SimError::Config(format!("{}: {what}", path.display()));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let read_certs = |path: &Path| -> Result<Vec<CertificateDer<'static>>, SimError> {
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|_| bad(path, "cannot read a PEM certificate"))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad(path, "not a PEM certificate file"))?;
        if certs.is_empty() {
            return Err(bad(path, "no certificate in it"));
        }
        Ok(certs)
    };
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|_| bad(key, "no private key in it"))?;
    let mut roots = rustls::RootCertStore::empty();
    for c in read_certs(client_ca)? {
        roots
            .add(c)
            .map_err(|_| bad(client_ca, "not a usable CA certificate"))?;
    }
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| bad(client_ca, &e.to_string()))?;
    rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SimError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(|_| bad(cert, "the certificate and the key do not belong together"))
}

/// The running servers; dropping it stops them.
pub struct Running {
    pub https: Option<SocketAddr>,
    pub admin: Option<SocketAddr>,
    system: actix_web::rt::System,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Serves until stopped (for the binary).
    pub fn wait(mut self) -> std::io::Result<()> {
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("the server thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.system.stop();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Starts the HTTPS server on `https` (with its TLS configuration) and the
/// admin API on `admin`, either optional, in a background thread. Port 0
/// picks a free port; the bound addresses are in [`Running`].
pub fn spawn(
    sim: Sim,
    https: Option<(SocketAddr, rustls::ServerConfig)>,
    admin: Option<SocketAddr>,
) -> std::io::Result<Running> {
    let shared = web::Data::new(Shared {
        sim,
        fault_counter: Mutex::new(()),
    });
    let (tx, rx) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        let bound = system.block_on(async move { bind_all(shared, https, admin) });
        let failed = bound.is_err();
        let _ = tx.send(bound.map(|addrs| (addrs, actix_web::rt::System::current())));
        if failed {
            return Ok(());
        }
        system.run()
    });
    let ((https, admin), system) = rx
        .recv()
        .map_err(|_| std::io::Error::other("the server thread ended early"))??;
    Ok(Running {
        https,
        admin,
        system,
        thread: Some(thread),
    })
}

type Bound = (Option<SocketAddr>, Option<SocketAddr>);

fn bind_all(
    shared: web::Data<Shared>,
    https: Option<(SocketAddr, rustls::ServerConfig)>,
    admin: Option<SocketAddr>,
) -> std::io::Result<Bound> {
    let mut bound = (None, None);
    if let Some((addr, tls)) = https {
        let data = shared.clone();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
            .workers(2)
            .max_connections(MAX_CONNECTIONS)
            .disable_signals()
            .bind_rustls_0_23(addr, tls)?;
        bound.0 = server.addrs().first().copied();
        actix_web::rt::spawn(server.run());
    }
    if let Some(addr) = admin {
        let data = shared.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .configure(super::admin::routes)
        })
        .workers(1)
        .max_connections(MAX_CONNECTIONS)
        .disable_signals()
        .bind(addr)?;
        bound.1 = server.addrs().first().copied();
        actix_web::rt::spawn(server.run());
    }
    Ok(bound)
}

fn routes(config: &mut web::ServiceConfig) {
    config
        .app_data(web::PayloadConfig::new(MAX_MESSAGE_BYTES))
        .route("/messages/{id}", web::put().to(put_message))
        .route("/files", web::get().to(list_files))
        .route("/files/{name}", web::get().to(get_file))
        .route("/files/{name}/ack", web::post().to(ack_file));
}

/// Runs `work` on the blocking pool under the HTTPS faults: 503 without
/// doing it while `fail_next_n` counts down; done, then answered after
/// `timeout_ms`.
async fn faulty<F>(shared: web::Data<Shared>, work: F) -> HttpResponse
where
    F: FnOnce(&Sim) -> Result<Answer, SimError> + Send + 'static,
{
    let outcome = web::block(move || {
        let delay = shared.consume_fault()?;
        if delay.is_none() {
            let fail = Answer::text(StatusCode::SERVICE_UNAVAILABLE, "fault: fail_next_n".into());
            return Ok((None, fail));
        }
        Ok::<_, SimError>((delay, work(&shared.sim)?))
    })
    .await;
    match outcome {
        Ok(Ok((delay, response))) => {
            if let Some(delay) = delay.filter(|d| !d.is_zero()) {
                actix_web::rt::time::sleep(delay).await;
            }
            response.into_response()
        }
        Ok(Err(e)) => HttpResponse::InternalServerError().body(e.to_string()),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

impl Shared {
    /// `None` when this request must fail (and counts it); otherwise the
    /// delay before answering.
    fn consume_fault(&self) -> Result<Option<Duration>, SimError> {
        let _serial = self.fault_counter.lock().unwrap_or_else(|e| e.into_inner());
        let config = Config::load(&self.sim.dir)?;
        if config.faults.fail_next_n == 0 {
            return Ok(Some(Duration::from_millis(config.faults.timeout_ms)));
        }
        // Under the ledger's lock, as every writer of the configuration.
        let _lock = super::ledger::Ledger::lock(&self.sim.dir)?;
        let mut config = Config::load(&self.sim.dir)?;
        if config.faults.fail_next_n == 0 {
            return Ok(Some(Duration::from_millis(config.faults.timeout_ms)));
        }
        config.faults.fail_next_n -= 1;
        config.save(&self.sim.dir)?;
        Ok(None)
    }
}

async fn put_message(
    shared: web::Data<Shared>,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let id = id.into_inner();
    faulty(shared, move |sim| {
        Ok(match sim.take_message(&id, &body) {
            Ok(Taken::New) => Answer::empty(StatusCode::CREATED),
            Ok(Taken::Again) => Answer::empty(StatusCode::OK),
            Ok(Taken::Conflict) => Answer::text(
                StatusCode::CONFLICT,
                format!("message {id} was taken with other content"),
            ),
            Err(SimError::Transport(crate::transport::TransportError::BadMessageId(_))) => {
                Answer::text(StatusCode::BAD_REQUEST, "not a plain message id".into())
            }
            Err(e) => return Err(e),
        })
    })
    .await
}

async fn list_files(shared: web::Data<Shared>) -> HttpResponse {
    faulty(shared, |sim| {
        Ok(Answer::json(StatusCode::OK, &sim.waiting_files()?))
    })
    .await
}

async fn get_file(shared: web::Data<Shared>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    faulty(shared, move |sim| {
        Ok(match sim.waiting_file(&name)? {
            Some(bytes) => Answer::xml(bytes),
            None => Answer::empty(StatusCode::NOT_FOUND),
        })
    })
    .await
}

async fn ack_file(shared: web::Data<Shared>, name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    faulty(shared, move |sim| {
        Ok(Answer::empty(if sim.acknowledge(&name)? {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_FOUND
        }))
    })
    .await
}
