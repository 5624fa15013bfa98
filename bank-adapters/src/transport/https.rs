//! HTTPS with mutual TLS: the client presents the connection's certificate
//! and trusts only the configured CA for the bank's. The protocol (see the
//! crate's README for the bank's side):
//!
//! - `PUT {url}/messages/{message_id}` with the file as body: 201 taken,
//!   200 the same id with the same bytes was taken before, 409 the same id
//!   with other bytes;
//! - `GET {url}/files`: a JSON array of the names of files waiting for us;
//! - `GET {url}/files/{name}`: one file's bytes;
//! - `POST {url}/files/{name}/ack`: we have processed it, it leaves the list.
//!
//! 5xx answers, time-outs and connection failures are
//! [`TransportError::Unavailable`]: the dispatcher retries them, and since
//! sending is idempotent by message id a retry never makes a second payment.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::blocking::{Client, Response};
use reqwest::StatusCode;

use super::file_exchange::{check_message_id, keep_raw, DEFAULT_MAX_FILE_BYTES};
use super::{Receipt, ReceivedFile, RefusedFile, SendOutcome, Transport, TransportError};

/// Most names one `GET /files` may list; more is a misbehaving bank.
pub const DEFAULT_MAX_LIST_LEN: usize = 10_000;

/// Largest `GET /files` answer read (the list of names, not the files).
const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Largest PEM file read for the certificates and the key.
const MAX_PEM_BYTES: u64 = 1024 * 1024;

/// A connection's HTTPS settings, as the service stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpsSettings {
    /// The bank's base URL, `https://host:port/prefix` (no trailing slash needed).
    pub url: String,
    /// PEM certificate (chain) the client presents.
    pub client_certificate: PathBuf,
    /// PEM private key of that certificate.
    pub client_key: PathBuf,
    /// PEM CA certificate(s): the only roots the bank's certificate may chain to.
    pub ca_certificate: PathBuf,
    /// For each request as a whole (connect, send, answer).
    pub timeout: Duration,
}

/// One bank connection over HTTPS; raw files received are kept under
/// `archive` as `<sha[..2]>/<sha>`, exactly as [`super::FileExchange`] does.
///
/// The client is blocking (the dispatcher's thread, or `spawn_blocking`):
/// create, use and drop it outside an async runtime.
#[derive(Debug, Clone)]
pub struct HttpsExchange {
    base: String,
    client: Client,
    archive: PathBuf,
    max_file_bytes: u64,
    max_list_len: usize,
}

impl HttpsExchange {
    /// Reads the certificate, key and CA (an error names the file that is
    /// missing, unreadable or not PEM, never its contents) and builds the
    /// client. Makes no connection yet.
    pub fn new(
        settings: HttpsSettings,
        archive: impl Into<PathBuf>,
    ) -> Result<HttpsExchange, TransportError> {
        let url = reqwest::Url::parse(&settings.url).map_err(|e| TransportError::Setup {
            what: format!("url {:?}", settings.url),
            reason: e.to_string(),
        })?;
        if url.scheme() != "https" {
            return Err(TransportError::Setup {
                what: format!("url {:?}", settings.url),
                reason: "must start with https://".to_owned(),
            });
        }
        let mut identity_pem = read_pem(&settings.client_certificate, "CERTIFICATE")?;
        identity_pem.push(b'\n');
        identity_pem.extend(read_pem(&settings.client_key, "PRIVATE KEY")?);
        let identity = reqwest::Identity::from_pem(&identity_pem).map_err(|_| {
            setup_error(
                &settings.client_key,
                "certificate and key are not a usable pair",
            )
        })?;
        let ca_pem = read_pem(&settings.ca_certificate, "CERTIFICATE")?;
        let roots = reqwest::Certificate::from_pem_bundle(&ca_pem)
            .map_err(|_| setup_error(&settings.ca_certificate, "not a PEM certificate"))?;
        let mut builder = Client::builder()
            .use_rustls_tls()
            .tls_built_in_root_certs(false)
            .identity(identity)
            .https_only(true)
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none());
        for root in roots {
            builder = builder.add_root_certificate(root);
        }
        let client = builder.build().map_err(|e| TransportError::Setup {
            what: "the HTTPS client".to_owned(),
            reason: e.to_string(),
        })?;
        let archive = archive.into();
        std::fs::create_dir_all(&archive).map_err(|source| TransportError::Io {
            path: archive.clone(),
            source,
        })?;
        Ok(HttpsExchange {
            base: settings.url.trim_end_matches('/').to_owned(),
            client,
            archive,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            max_list_len: DEFAULT_MAX_LIST_LEN,
        })
    }

    /// Files larger than this are refused (left at the bank, not acknowledged).
    pub fn with_max_file_bytes(mut self, max: u64) -> Self {
        self.max_file_bytes = max;
        self
    }

    /// A `GET /files` listing more names than this is an error.
    pub fn with_max_list_len(mut self, max: usize) -> Self {
        self.max_list_len = max;
        self
    }

    fn file_url(&self, name: &str) -> String {
        format!("{}/files/{name}", self.base)
    }

    /// The names waiting for us, sorted, each a plain file name.
    fn list(&self) -> Result<Vec<String>, TransportError> {
        let url = format!("{}/files", self.base);
        let response = match expect_ok(self.client.get(&url).send(), &url) {
            Err(TransportError::NotInInbox(_)) => {
                return Err(protocol(&url, "404: no file list here".to_owned()))
            }
            other => other?,
        };
        let body = read_limited(response, MAX_LIST_BYTES, &url)?
            .map_err(|limit| protocol(&url, format!("list larger than {limit} bytes")))?;
        let mut names: Vec<String> = serde_json::from_slice(&body)
            .map_err(|e| protocol(&url, format!("not a JSON list of names: {e}")))?;
        if names.len() > self.max_list_len {
            return Err(protocol(
                &url,
                format!(
                    "{} names, more than the limit {}",
                    names.len(),
                    self.max_list_len
                ),
            ));
        }
        if let Some(bad) = names.iter().find(|n| check_message_id(n).is_err()) {
            return Err(protocol(&url, format!("{bad:?} is not a plain file name")));
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    fn fetch(&self, name: &str) -> Result<Result<ReceivedFile, RefusedFile>, TransportError> {
        let url = self.file_url(name);
        let response = expect_ok(self.client.get(&url).send(), name)?;
        match read_limited(response, self.max_file_bytes, &url)? {
            Ok(bytes) => Ok(Ok(keep_raw(&self.archive, name, bytes)?)),
            Err(limit) => Ok(Err(RefusedFile {
                name: name.to_owned(),
                reason: format!(
                    "larger than the limit of {limit} bytes; left at the bank, not acknowledged"
                ),
                // Nothing was moved: the file stays where the bank keeps it.
                moved_to: PathBuf::from(url),
            })),
        }
    }
}

impl Transport for HttpsExchange {
    fn send(&self, message_id: &str, bytes: &[u8]) -> Result<SendOutcome, TransportError> {
        check_message_id(message_id)?;
        let url = format!("{}/messages/{message_id}", self.base);
        let sent = self
            .client
            .put(&url)
            .header(reqwest::header::CONTENT_TYPE, "application/xml")
            .body(bytes.to_vec())
            .send();
        let response = sent.map_err(|e| unavailable(&url, &e))?;
        match response.status() {
            StatusCode::CREATED => Ok(SendOutcome::Sent),
            StatusCode::OK => Ok(SendOutcome::AlreadySent),
            StatusCode::CONFLICT => Err(TransportError::Conflict {
                message_id: message_id.to_owned(),
            }),
            status => Err(status_error(&url, status)),
        }
    }

    fn receive(&self) -> Result<Receipt, TransportError> {
        let mut receipt = Receipt::default();
        for name in self.list()? {
            match self.fetch(&name) {
                Ok(Ok(file)) => receipt.files.push(file),
                Ok(Err(refused)) => receipt.refused.push(refused),
                // Listed a moment ago, acknowledged by another poller since.
                Err(TransportError::NotInInbox(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(receipt)
    }

    fn confirm(&self, file: &ReceivedFile) -> Result<(), TransportError> {
        let url = format!("{}/ack", self.file_url(&file.name));
        let response = self
            .client
            .post(&url)
            .send()
            .map_err(|e| unavailable(&url, &e))?;
        match response.status() {
            status if status.is_success() => Ok(()),
            StatusCode::NOT_FOUND => Err(TransportError::NotInInbox(file.name.clone())),
            status => Err(status_error(&url, status)),
        }
    }
}

/// A PEM file's bytes, checked to hold a block whose label ends with
/// `label` ("CERTIFICATE", "PRIVATE KEY" for PKCS#8, RSA and EC keys).
fn read_pem(path: &Path, label: &str) -> Result<Vec<u8>, TransportError> {
    let file = std::fs::File::open(path).map_err(|e| setup_error(path, &e.to_string()))?;
    let mut bytes = Vec::new();
    file.take(MAX_PEM_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| setup_error(path, &e.to_string()))?;
    if bytes.len() as u64 > MAX_PEM_BYTES {
        return Err(setup_error(path, "larger than 1 MiB, not a PEM file"));
    }
    let text = std::str::from_utf8(&bytes).unwrap_or("");
    let found = text.lines().any(|line| {
        line.strip_prefix("-----BEGIN ")
            .and_then(|rest| rest.strip_suffix("-----"))
            .is_some_and(|l| l.ends_with(label))
    });
    if !found {
        return Err(setup_error(path, &format!("no PEM {label} in it")));
    }
    Ok(bytes)
}

fn setup_error(path: &Path, reason: &str) -> TransportError {
    TransportError::Setup {
        what: path.display().to_string(),
        reason: reason.to_owned(),
    }
}

fn unavailable(url: &str, error: &reqwest::Error) -> TransportError {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    // The full chain names TLS failures (an unknown CA, a refused certificate).
    let mut reason = format!("{kind}: {error}");
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    TransportError::Unavailable {
        url: url.to_owned(),
        reason,
    }
}

fn status_error(url: &str, status: StatusCode) -> TransportError {
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        TransportError::Unavailable {
            url: url.to_owned(),
            reason: format!("answered {status}"),
        }
    } else {
        protocol(url, format!("unexpected answer {status}"))
    }
}

fn protocol(url: &str, reason: String) -> TransportError {
    TransportError::Protocol {
        url: url.to_owned(),
        reason,
    }
}

/// A 200 answer; 404 is `NotInInbox(name)`.
fn expect_ok(sent: reqwest::Result<Response>, name: &str) -> Result<Response, TransportError> {
    let response = sent.map_err(|e| unavailable(response_url(&e), &e))?;
    let url = response.url().to_string();
    match response.status() {
        StatusCode::OK => Ok(response),
        StatusCode::NOT_FOUND => Err(TransportError::NotInInbox(name.to_owned())),
        status => Err(status_error(&url, status)),
    }
}

fn response_url(error: &reqwest::Error) -> &str {
    error.url().map(|u| u.as_str()).unwrap_or("")
}

/// The body, or `Err(limit)` when it is longer than `limit` bytes (read no
/// further than one byte past it).
fn read_limited(
    response: Response,
    limit: u64,
    url: &str,
) -> Result<Result<Vec<u8>, u64>, TransportError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Ok(Err(limit));
    }
    let mut bytes = Vec::new();
    response
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| TransportError::Unavailable {
            url: url.to_owned(),
            reason: format!("reading the answer: {e}"),
        })?;
    if bytes.len() as u64 > limit {
        return Ok(Err(limit));
    }
    Ok(Ok(bytes))
}
