//! A whole bank link for end-to-end tests: the real `wagebridge serve`
//! binary (one or more instances, which the tests may kill), a real
//! PostgreSQL database, and the bank simulator on a real file exchange,
//! playing the bank in a thread of the test. A project with a roster, a
//! dedicated account at the simulated bank and its connection is set up
//! through the API and the CLI as a user would.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bank_adapters::model::{AccountRef, Direction};
use bank_adapters::sim::{AccountConfig, Config, Sim};
use chrono::Utc;
use diesel::sql_types::{BigInt, Numeric, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::common::fixtures::{card, resident_id, uscc};
use crate::common::TestDb;

pub const BIN: &str = env!("CARGO_BIN_EXE_wagebridge");
pub const PROJECT: &str = "CRASH-001";
pub const ACCOUNT: &str = "1100123456789012345";
pub const BANK_CODE: &str = "102";

/// One `wagebridge serve`, killed when dropped.
pub struct Instance {
    child: Child,
    pub port: u16,
}

impl Instance {
    pub fn kill(&mut self) {
        // SIGKILL: no chance to finish anything, as a power cut.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

pub struct Rig {
    pub db: TestDb,
    pub data: tempfile::TempDir,
    pub bank: tempfile::TempDir,
    pub logs: tempfile::TempDir,
    pub admin: String,
    pub contractor: String,
    pub workers: Vec<(String, String, String)>,
    sim_stop: Arc<AtomicBool>,
    sim_thread: Option<JoinHandle<()>>,
    started: u32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Settled {
    #[diesel(sql_type = BigInt)]
    line_id: i64,
    #[diesel(sql_type = Text)]
    end_to_end_id: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Numeric)]
    amount: Decimal,
}

impl Rig {
    /// The database, the bank with the dedicated account holding `funds`
    /// (credited by the owner, so the first statement shows it), and the
    /// parties; no service is running yet.
    pub fn new(workers: u32, funds: Decimal) -> Rig {
        let db = TestDb::new();
        let data = tempfile::tempdir().expect("data dir");
        let bank = tempfile::tempdir().expect("bank dir");
        let logs = tempfile::tempdir().expect("log dir");
        Config {
            accounts: vec![AccountConfig {
                number: ACCOUNT.to_owned(),
                name: Some("中建三局崩溃测试项目农民工工资专用账户".to_owned()),
                opening_balance: Decimal::ZERO,
            }],
            ..Default::default()
        }
        .save(bank.path())
        .expect("bank-sim.toml");
        let sim = Sim::open(bank.path()).expect("open the simulator");
        sim.transfer(
            ACCOUNT,
            Direction::Credit,
            funds,
            AccountRef {
                number: "6200000000001".to_owned(),
                name: Some("武汉光谷建设投资有限公司".to_owned()),
                bank_code: None,
                bank_name: None,
            },
            Utc::now(),
        )
        .expect("the owner's labour-cost transfer");

        let admin_uscc = uscc(900);
        cli(
            &db.url,
            &[
                "org",
                "add",
                "--kind",
                "admin",
                "--name",
                "运维",
                "--uscc",
                &admin_uscc,
            ],
        );
        let admin = cli(&db.url, &["key", "issue", "--org", &admin_uscc]);
        let workers = (1..=workers)
            .map(|n| (resident_id(n), format!("工人{n}"), card(n)))
            .collect();
        let mut rig = Rig {
            db,
            data,
            bank,
            logs,
            admin,
            contractor: String::new(),
            workers,
            sim_stop: Arc::new(AtomicBool::new(false)),
            sim_thread: None,
            started: 0,
        };
        rig.start_bank();
        rig
    }

    /// The bank answers every 100 ms, in a thread, until the rig is dropped.
    fn start_bank(&mut self) {
        let dir = self.bank.path().to_path_buf();
        let stop = self.sim_stop.clone();
        self.sim_thread = Some(std::thread::spawn(move || {
            let sim = Sim::open(&dir).expect("open the simulator");
            while !stop.load(Ordering::Relaxed) {
                if let Err(e) = sim.round(Utc::now()) {
                    eprintln!("bank-sim round: {e}");
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }));
    }

    /// Starts one `wagebridge serve` on `port` and waits until it answers.
    pub fn serve(&mut self, port: u16) -> Instance {
        self.started += 1;
        let log = self.logs.path().join(format!("serve-{}.log", self.started));
        let child = Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &self.db.url)
            .env("WAGEBRIDGE_DATA_DIR", self.data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("start wagebridge serve");
        let instance = Instance { child, port };
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = http().get(format!("http://127.0.0.1:{port}/readyz")).send() {
                if r.status().is_success() {
                    return instance;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("serve did not become ready; log: {}", read(&log));
    }

    /// Starts `serve` without waiting (the crash test kills it at any moment, starting included).
    pub fn spawn(&mut self, port: u16) -> Instance {
        self.started += 1;
        let log = self.logs.path().join(format!("serve-{}.log", self.started));
        let child = Command::new(BIN)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", &self.db.url)
            .env("WAGEBRIDGE_DATA_DIR", self.data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"))
            .spawn()
            .expect("start wagebridge serve");
        Instance { child, port }
    }

    /// The parties, the project, its account, its roster and its bank
    /// connection, through the API of a running instance.
    pub fn set_up(&mut self, api: &Api) {
        let owner = uscc(901);
        let contractor = uscc(902);
        let bank = uscc(903);
        for (kind, name, u) in [
            ("owner", "武汉光谷建设投资有限公司", &owner),
            (
                "contractor",
                "中建三局第一建设工程有限责任公司",
                &contractor,
            ),
            ("bank", "中国工商银行股份有限公司", &bank),
        ] {
            api.call(
                "POST",
                "/v1/organizations",
                &self.admin,
                Some(json!({"kind": kind, "name": name, "uscc": u})),
                None,
            )
            .expect_status(&[201]);
        }
        self.contractor = cli(&self.db.url, &["key", "issue", "--org", &contractor]);
        let c = self.contractor.clone();
        api.call(
            "POST",
            "/v1/projects",
            &c,
            Some(json!({
                "code": PROJECT, "name": "崩溃测试项目", "region_code": "420111",
                "owner_uscc": owner, "contract_amount": "50000000.00",
                "contract_signed_on": "2022-12-01", "labour_cost_share_percent": "25",
                "labour_cost_due_day": 20, "payday": 15,
                "planned_start_on": "2023-01-01", "planned_end_on": "2027-12-31"
            })),
            None,
        )
        .expect_status(&[201]);
        api.call(
            "PUT",
            &format!("/v1/projects/{PROJECT}/wage-account"),
            &c,
            Some(json!({
                "bank_code": BANK_CODE, "account_number": ACCOUNT,
                "account_name": "中建三局第一建设工程有限责任公司崩溃测试项目农民工工资专用账户",
                "opened_on": "2022-12-10"
            })),
            None,
        )
        .expect_status(&[200, 201]);
        let rows: Vec<Value> = self
            .workers
            .iter()
            .map(|(id, name, card)| {
                json!({"id_number": id, "name": name, "card_number": card,
                       "phone": "13800000000", "contract_signed_on": "2022-12-20",
                       "entered_on": "2023-01-01"})
            })
            .collect();
        let answer = api
            .call(
                "PUT",
                &format!("/v1/projects/{PROJECT}/workers"),
                &c,
                Some(json!({"workers": rows})),
                None,
            )
            .expect_status(&[200]);
        assert_eq!(
            answer.body["accepted"],
            json!(self.workers.len()),
            "roster: {}",
            answer.body
        );
        api.call(
            "PUT",
            &format!("/v1/projects/{PROJECT}/payroll-settings"),
            &c,
            Some(json!({"allow_unconfirmed_approval": true})),
            None,
        )
        .expect_status(&[200]);
        let bank_dir = self.bank.path();
        api.call(
            "PUT",
            &format!("/v1/bank-connections/{bank}"),
            &self.admin,
            Some(json!({
                "dialect": {"dialect": "iso20022", "pain001_version": "09"},
                "transport": {"kind": "file_exchange",
                              "outbox": bank_dir.join("to-bank"),
                              "inbox": bank_dir.join("from-bank")},
                "bank_codes": [BANK_CODE]
            })),
            None,
        )
        .expect_status(&[200, 201]);
    }

    /// Who pays the months: the contractor's key and the roster.
    pub fn payer(&self) -> MonthPayer {
        MonthPayer {
            contractor: self.contractor.clone(),
            workers: self.workers.clone(),
        }
    }

    /// Money or files are in flight: an attempt not final, an entry not
    /// sent, a bank file not read.
    pub fn in_flight(&self) -> bool {
        self.count("SELECT count(*) AS n FROM disbursement_lines WHERE state NOT IN ('settled', 'rejected')") > 0
            || self.count("SELECT count(*) AS n FROM bank_outbox WHERE state <> 'sent'") > 0
            || unread_files(&self.bank.path().join("from-bank")) > 0
    }

    pub fn conn(&self) -> PgConnection {
        PgConnection::establish(&self.db.url).expect("connect to the test database")
    }

    fn count(&self, sql: &str) -> i64 {
        diesel::sql_query(sql)
            .get_result::<Count>(&mut self.conn())
            .expect(sql)
            .n
    }

    /// Waits until nothing is in flight: every approved line's attempt
    /// final, the outbox sent, the bank's outbox read.
    pub fn wait_until_quiet(&self, patience: Duration) -> Result<(), String> {
        let deadline = Instant::now() + patience;
        loop {
            let open = self.count("SELECT count(*) AS n FROM disbursement_lines WHERE state NOT IN ('settled', 'rejected')");
            let unsent = self.count("SELECT count(*) AS n FROM bank_outbox WHERE state <> 'sent'");
            let unread = unread_files(&self.bank.path().join("from-bank"));
            let waiting = self.count(
                "SELECT count(*) AS n FROM approved_lines a WHERE NOT EXISTS
                   (SELECT 1 FROM disbursement_lines d WHERE d.line_id = a.line_id AND d.state <> 'rejected')",
            );
            if open == 0 && unsent == 0 && unread == 0 && waiting == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "still in flight: {open} open attempts, {unsent} unsent outbox entries, \
                     {unread} bank files unread, {waiting} approved lines not in a batch"
                ));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The comparison with the bank's own books: every approved line paid
    /// exactly once, nothing paid that no payroll asked for, the balances
    /// equal, no file lost. Returns the figures to print.
    pub fn verify_exactly_once(&self, funds: Decimal) -> BTreeMap<&'static str, String> {
        let mut conn = self.conn();
        let attempts: Vec<Settled> = diesel::sql_query(
            "SELECT line_id, end_to_end_id, state, amount FROM disbursement_lines ORDER BY id",
        )
        .load(&mut conn)
        .expect("attempts");
        let approved = self.count("SELECT count(*) AS n FROM approved_lines");
        let approved_net: Decimal = diesel::sql_query(
            "SELECT coalesce(sum(l.net), 0) AS amount, '' AS end_to_end_id, 0::bigint AS line_id, '' AS state
               FROM approved_lines a JOIN payroll_lines l ON l.id = a.line_id",
        )
        .get_result::<Settled>(&mut conn)
        .expect("approved net")
        .amount;

        let ledger = Sim::open(self.bank.path())
            .and_then(|s| s.ledger())
            .expect("the bank's ledger");
        let mut booked: BTreeMap<String, (usize, Decimal)> = BTreeMap::new();
        for b in ledger
            .bookings
            .iter()
            .filter(|b| b.account == ACCOUNT && b.direction == Direction::Debit)
        {
            let e2e = b
                .end_to_end_id
                .clone()
                .unwrap_or_else(|| format!("<no id {}>", b.booking_id));
            let entry = booked.entry(e2e).or_insert((0, Decimal::ZERO));
            entry.0 += 1;
            entry.1 += b.amount;
        }
        let settled: BTreeMap<&str, &Settled> = attempts
            .iter()
            .filter(|a| a.state == "settled")
            .map(|a| (a.end_to_end_id.as_str(), a))
            .collect();
        let mut paid_per_line: BTreeMap<i64, usize> = BTreeMap::new();
        for a in &attempts {
            if let Some((times, amount)) = booked.get(&a.end_to_end_id) {
                assert_eq!(
                    *times, 1,
                    "attempt {} booked {times} times by the bank",
                    a.end_to_end_id
                );
                assert_eq!(
                    *amount, a.amount,
                    "attempt {} booked with another amount",
                    a.end_to_end_id
                );
                assert_eq!(
                    a.state, "settled",
                    "the bank paid {} but wagebridge says {}",
                    a.end_to_end_id, a.state
                );
                *paid_per_line.entry(a.line_id).or_default() += 1;
            }
        }
        for e2e in booked.keys() {
            assert!(
                settled.contains_key(e2e.as_str()),
                "the bank paid {e2e}, which no payroll line asked for"
            );
        }
        assert_eq!(
            paid_per_line.len() as i64,
            approved,
            "every approved line paid"
        );
        assert!(
            paid_per_line.values().all(|&n| n == 1),
            "a line paid twice: {paid_per_line:?}"
        );
        let paid: Decimal = booked.values().map(|(_, a)| *a).sum();
        assert_eq!(paid, approved_net, "the bank paid what was approved");
        let balance = ledger
            .accounts
            .get(ACCOUNT)
            .map(|a| a.balance)
            .expect("the account");
        assert_eq!(balance, funds - approved_net, "the bank's balance");

        // No file lost: every file the bank sent is kept and applied.
        let sent_by_bank: BTreeSet<String> =
            files_in(&self.bank.path().join("from-bank").join("processed"))
                .iter()
                .map(|p| sha256_of(p))
                .collect();
        let kept = self.count("SELECT count(*) AS n FROM bank_files");
        let quarantined =
            self.count("SELECT count(*) AS n FROM bank_files WHERE status = 'quarantined'");
        for sha in &sent_by_bank {
            let n = self.count(&format!(
                "SELECT count(*) AS n FROM bank_files WHERE sha256 = '{sha}'"
            ));
            assert_eq!(n, 1, "bank file {sha} was not kept");
            assert!(
                self.data
                    .path()
                    .join("bank-files")
                    .join(&sha[..2])
                    .join(sha)
                    .exists(),
                "raw copy of {sha}"
            );
        }
        assert_eq!(
            quarantined, 0,
            "no file from a well-behaved bank is quarantined"
        );

        let mut figures = BTreeMap::new();
        figures.insert("approved lines", approved.to_string());
        figures.insert("approved net", approved_net.to_string());
        figures.insert("attempts", attempts.len().to_string());
        figures.insert("settled attempts", settled.len().to_string());
        figures.insert("bank debits", booked.len().to_string());
        figures.insert("bank paid", paid.to_string());
        figures.insert("bank balance", balance.to_string());
        figures.insert(
            "batches",
            self.count("SELECT count(*) AS n FROM disbursement_batches")
                .to_string(),
        );
        figures.insert(
            "send attempts",
            self.count("SELECT count(*) AS n FROM bank_outbox_attempts")
                .to_string(),
        );
        figures.insert("bank files kept", kept.to_string());
        figures.insert(
            "bank files received (with repeats)",
            self.count("SELECT count(*) AS n FROM bank_file_receipts")
                .to_string(),
        );
        figures
    }

    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for p in files_in(self.logs.path()).iter().rev().take(3) {
            out.push_str(&format!("--- {}\n{}\n", p.display(), read(p)));
        }
        out
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.sim_stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.sim_thread.take() {
            let _ = t.join();
        }
    }
}

/// The contractor paying months, movable into a thread of its own.
pub struct MonthPayer {
    pub contractor: String,
    pub workers: Vec<(String, String, String)>,
}

impl MonthPayer {
    /// One month's attendance, payroll, approval and disbursement, each
    /// retried through crashes (with the same Idempotency-Key) until it
    /// has an answer. Net pay differs per worker and month.
    pub fn pay_month(&self, api: &Api, period: &str) {
        let c = &self.contractor;
        let day = format!("{period}-01");
        let records: Vec<Value> = self
            .workers
            .iter()
            .map(|(id, _, _)| json!({"id_number": id, "date": day, "hours": 8, "source": "gate-1"}))
            .collect();
        api.retry(
            "POST",
            &format!("/v1/projects/{PROJECT}/attendance"),
            c,
            json!({"records": records}),
            None,
            &[200, 201],
        );
        let month: u32 = period[5..7].parse().unwrap_or(1);
        let lines: Vec<Value> = self
            .workers
            .iter()
            .enumerate()
            .map(|(i, (id, name, card))| {
                let net = format!(
                    "{}.{:02}",
                    3000 + i as u32 * 7 + month,
                    (i as u32 * 13) % 100
                );
                json!({"id_number": id, "name": name, "card_number": card, "days_worked": 1,
                       "gross": net, "deductions": "0.00", "net": net})
            })
            .collect();
        api.retry(
            "POST",
            &format!("/v1/projects/{PROJECT}/payrolls"),
            c,
            json!({"period": period, "lines": lines}),
            Some(&format!("payroll-{period}")),
            &[200, 201],
        );
        // A second approval of the same lines has nothing left to approve.
        api.retry(
            "POST",
            &format!("/v1/projects/{PROJECT}/payrolls/{period}/approve"),
            c,
            json!({}),
            None,
            &[200, 409],
        );
        api.retry(
            "POST",
            &format!("/v1/projects/{PROJECT}/payrolls/{period}/disburse"),
            c,
            json!({}),
            Some(&format!("disburse-{period}")),
            &[200, 201, 409],
        );
    }
}

/// The HTTP client side of the tests.
pub struct Api {
    pub port: Arc<std::sync::atomic::AtomicU16>,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    #[track_caller]
    pub fn expect_status(self, statuses: &[u16]) -> Answer {
        assert!(
            statuses.contains(&self.status),
            "status {}: {}",
            self.status,
            self.body
        );
        self
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("an HTTP client")
}

impl Api {
    pub fn new(port: u16) -> Api {
        Api {
            port: Arc::new(std::sync::atomic::AtomicU16::new(port)),
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port.load(Ordering::Relaxed))
    }

    /// One request; `Err` when no answer came (the service is down or died mid-request).
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
        idempotency_key: Option<&str>,
    ) -> Result<Answer, String> {
        let url = format!("{}{path}", self.base());
        let mut req = http()
            .request(method.parse().expect("a method"), url)
            .bearer_auth(key);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| e.to_string())?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer { status, body })
    }

    #[track_caller]
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Option<Value>,
        idem: Option<&str>,
    ) -> Answer {
        self.try_call(method, path, key, body, idem)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
    }

    /// Retries through crashes until one of `done` comes back; anything
    /// else that is not a crash symptom (no answer, 503) fails the test.
    #[track_caller]
    pub fn retry(
        &self,
        method: &str,
        path: &str,
        key: &str,
        body: Value,
        idem: Option<&str>,
        done: &[u16],
    ) -> Answer {
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            match self.try_call(method, path, key, Some(body.clone()), idem) {
                Ok(a) if done.contains(&a.status) => return a,
                // The first request with this key died with its process and its lock is not yet released.
                Ok(a)
                    if a.status == 503
                        || (a.status == 409 && a.body["code"] == "IDEMPOTENCY_KEY_IN_USE") => {}
                Ok(a) => panic!("{method} {path}: {} {}", a.status, a.body),
                Err(_) => {}
            }
            assert!(
                Instant::now() < deadline,
                "{method} {path} never got an answer"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[track_caller]
pub fn cli(database_url: &str, args: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run wagebridge");
    assert!(
        out.status.success(),
        "wagebridge {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Files in an inbox not yet taken (temporary dot-files aside).
fn unread_files(dir: &Path) -> usize {
    files_in(dir)
        .iter()
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(".")
                .starts_with('.')
        })
        .count()
}

fn sha256_of(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(std::fs::read(path).expect("a bank file")))
}

/// The months from `first` (YYYY-MM), `n` of them.
pub fn months(first: &str, n: usize) -> Vec<String> {
    let (mut y, mut m): (u32, u32) = (first[..4].parse().unwrap(), first[5..7].parse().unwrap());
    (0..n)
        .map(|_| {
            let p = format!("{y:04}-{m:02}");
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
            p
        })
        .collect()
}
