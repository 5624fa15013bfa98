//! What the bank simulator's tests share: a payment file, a simulator with
//! one dedicated account, certificates made with rcgen, the running servers.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use bank_adapters::iso20022::{validate_with_xmllint, write_pain001, Pain001Version};
use bank_adapters::model::{AccountRef, Amount, Direction, PaymentBatch, PaymentLine};
use bank_adapters::sim::ledger::Ledger;
use bank_adapters::sim::{http, AccountConfig, Config, Sim};
use bank_adapters::transport::{HttpsExchange, HttpsSettings, ReceivedFile, Transport};
use chrono::{NaiveDate, TimeZone, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rust_decimal::Decimal;

pub const ACCOUNT: &str = "1100123456789012345";
pub const CLOSED_CARD: &str = "6222020200000000003";

pub fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 10, 3, 0, 0).unwrap()
}

fn line(index: usize, amount: &str, card: &str) -> PaymentLine {
    PaymentLine {
        end_to_end_id: format!("WB-E2E-{index:04}"),
        instruction_id: None,
        amount: Amount::cny(dec(amount)),
        creditor: AccountRef {
            number: card.to_owned(),
            name: Some(format!("工人{index}")),
            bank_code: Some("102100099996".to_owned()),
            bank_name: None,
        },
        remittance: Some("P-2026-001 2026-10 工资".to_owned()),
    }
}

/// Two payable lines and one to a closed card, as pain.001.001.09.
pub fn pain001(message_id: &str) -> Vec<u8> {
    write_pain001(&batch(message_id), Pain001Version::V09)
        .unwrap()
        .into_bytes()
}

/// Two payable lines and one to a closed card.
pub fn batch(message_id: &str) -> PaymentBatch {
    PaymentBatch {
        message_id: message_id.to_owned(),
        created_at: Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).unwrap(),
        requested_execution_date: NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
        initiating_party: "某建设集团有限公司".to_owned(),
        debtor: AccountRef {
            number: ACCOUNT.to_owned(),
            name: Some("某项目农民工工资专用账户".to_owned()),
            bank_code: Some("102100099996".to_owned()),
            bank_name: None,
        },
        lines: vec![
            line(1, "3000.00", "6222020200000000001"),
            line(2, "2500.50", "6222020200000000002"),
            line(3, "1200.00", CLOSED_CARD),
        ],
    }
}

pub fn config() -> Config {
    Config {
        accounts: vec![AccountConfig {
            number: ACCOUNT.to_owned(),
            name: Some("某项目农民工工资专用账户".to_owned()),
            opening_balance: dec("10000.00"),
        }],
        closed_cards: BTreeSet::from([CLOSED_CARD.to_owned()]),
        ..Config::default()
    }
}

/// A simulator under `root/bank` configured with [`config`].
pub fn sim_at(root: &Path, config: &Config) -> Sim {
    let dir = root.join("bank");
    config.save(&dir).unwrap();
    Sim::open(&dir).unwrap()
}

/// Every file received, each validated against its XSD unless garbage
/// (`SIMBAD…`), then confirmed.
pub fn collect(client: &dyn Transport) -> Vec<ReceivedFile> {
    let receipt = client.receive().unwrap();
    assert!(receipt.refused.is_empty(), "{:?}", receipt.refused);
    for file in &receipt.files {
        if !file.name.starts_with("SIMBAD") {
            if let Err(e) = validate_with_xmllint(&file.archived_at) {
                panic!("{} does not validate: {e}", file.name);
            }
        }
        client.confirm(file).unwrap();
    }
    receipt.files
}

/// PEM files of a CA, the bank's server certificate (localhost, 127.0.0.1)
/// and a client certificate, all in one directory.
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(
    dir: &Path,
    stem: &str,
    names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) -> (PathBuf, PathBuf) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(names).unwrap();
    params.distinguished_name.push(DnType::CommonName, stem);
    params.use_authority_key_identifier_extension = true;
    params.extended_key_usages = vec![usage];
    let cert = params.signed_by(&key, issuer).unwrap();
    let (cert_path, key_path) = (
        dir.join(format!("{stem}.pem")),
        dir.join(format!("{stem}.key")),
    );
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

/// A PKI under `dir/stem-*`; `dir` must exist.
pub fn pki(dir: &Path, stem: &str) -> Pki {
    let ca = ca(&format!("{stem} CA"));
    let ca_path = dir.join(format!("{stem}-ca.pem"));
    std::fs::write(&ca_path, ca.pem()).unwrap();
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    let (server_cert, server_key) = leaf(dir, &format!("{stem}-server"), names, server, &ca);
    let client = ExtendedKeyUsagePurpose::ClientAuth;
    let (client_cert, client_key) = leaf(dir, &format!("{stem}-client"), Vec::new(), client, &ca);
    Pki {
        ca: ca_path,
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

/// The simulator serving HTTPS (trusting `pki`'s clients) and its admin
/// API, both on free loopback ports.
pub struct Bank {
    pub root: tempfile::TempDir,
    pub sim: Sim,
    pub pki: Pki,
    pub running: http::Running,
}

impl Bank {
    pub fn start(config: &Config) -> Bank {
        let root = tempfile::tempdir().unwrap();
        let pki = pki(root.path(), "bank");
        let sim = sim_at(root.path(), config);
        let tls = http::tls_config(&pki.server_cert, &pki.server_key, &pki.ca).unwrap();
        let https = Some(("127.0.0.1:0".parse().unwrap(), tls));
        let admin = Some("127.0.0.1:0".parse().unwrap());
        let running = http::spawn(Sim::open(sim.dir()).unwrap(), https, admin).unwrap();
        Bank {
            root,
            sim,
            pki,
            running,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.running.https.unwrap().port())
    }

    pub fn admin(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.admin.unwrap())
    }

    pub fn settings(&self, timeout: Duration) -> HttpsSettings {
        HttpsSettings {
            url: self.url(),
            client_certificate: self.pki.client_cert.clone(),
            client_key: self.pki.client_key.clone(),
            ca_certificate: self.pki.ca.clone(),
            timeout,
        }
    }

    /// Our side: the client with `pki`'s certificate, archiving under `root/ours`.
    pub fn client(&self) -> HttpsExchange {
        let settings = self.settings(Duration::from_secs(10));
        HttpsExchange::new(settings, self.root.path().join("ours")).unwrap()
    }

    /// Sets the faults (and rejected cards) through the admin API.
    pub fn set_faults(&self, faults: serde_json::Value) {
        let mut set = serde_json::json!({ "closed_cards": [CLOSED_CARD] });
        set["faults"] = faults;
        let response = reqwest::blocking::Client::new()
            .put(self.admin("/faults"))
            .json(&set)
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{:?}", response.text());
    }
}

/// What the books hold, whatever the bank said about them: balances and
/// every booking's account, direction, amount and end-to-end id.
pub type Books = (
    Vec<(String, String)>,
    Vec<(String, Direction, String, Option<String>)>,
);

pub fn books(ledger: &Ledger) -> Books {
    let balances = ledger
        .accounts
        .iter()
        .map(|(number, a)| (number.clone(), a.balance.to_string()))
        .collect();
    let mut bookings: Vec<_> = ledger
        .bookings
        .iter()
        .map(|b| {
            (
                b.account.clone(),
                b.direction,
                b.amount.to_string(),
                b.end_to_end_id.clone(),
            )
        })
        .collect();
    bookings.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    (balances, bookings)
}
