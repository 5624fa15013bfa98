//! Released disbursement batches for the dispatcher's tests, made by SQL
//! (the disbursement use case lives elsewhere): an approved October payroll,
//! a bank connection over a file exchange shared with a bank simulator, and
//! batches whose bytes are a real pain.001.001.09 from `bank_adapters`.

#![allow(dead_code)]

use std::path::PathBuf;

use bank_adapters::dialect::Dialect;
use bank_adapters::iso20022::Pain001Version;
use bank_adapters::model::{AccountRef, Amount, PaymentBatch, PaymentLine};
use bank_adapters::sim::{AccountConfig, Config, Sim};
use diesel::sql_types::{BigInt, Bytea, Date, Int4, Jsonb, Numeric, Text, Timestamptz};
use diesel::{Connection, PgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::fixtures::{party, World};
use crate::common::TestApp;
use crate::payroll_common::{
    approve, line, payroll, payroll_world, project_path, submitted, workers, PERIOD,
};
use wagebridge::access::OrgKind;
use wagebridge::domain::bank_ids::{new_id, IdKind};

/// The project's dedicated account, at the simulated bank.
pub const ACCOUNT: &str = "1100123456789012345";
pub const ACCOUNT_NAME: &str = "中建三局第一建设工程有限责任公司光谷科创中心一期农民工工资专用账户";

/// Workers whose October lines are clean: seven approved lines.
pub const PAID_WORKERS: [u32; 7] = [
    workers::GOOD,
    workers::GOOD_2,
    workers::GOOD_3,
    workers::GOOD_4,
    workers::GOOD_5,
    workers::GOOD_11,
    workers::GOOD_12,
];

/// An approved payroll line, as a batch pays it.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct ApprovedLine {
    #[diesel(sql_type = BigInt)]
    pub line_id: i64,
    #[diesel(sql_type = BigInt)]
    pub worker_id: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub card_number: String,
    #[diesel(sql_type = Numeric)]
    pub net: Decimal,
}

/// The payroll world with the October payroll of [`PAID_WORKERS`] approved.
pub async fn approved_world(app: &TestApp) -> (World, Vec<ApprovedLine>) {
    let w = payroll_world(app).await;
    let lines = PAID_WORKERS.iter().map(|&n| line(n)).collect();
    submitted(app, &w.sub.key, &w, &payroll(lines)).await;
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &project_path(&w, "/payroll-settings"),
            &json!({ "allow_unconfirmed_approval": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = approve(app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let lines: Vec<ApprovedLine> = diesel::sql_query(
        "SELECT pl.id AS line_id, pl.worker_id, pl.name, pl.card_number, pl.net \
           FROM approved_lines a JOIN payroll_lines pl ON pl.id = a.line_id ORDER BY pl.line_no",
    )
    .load(&mut conn(app))
    .expect("approved lines");
    assert_eq!(lines.len(), PAID_WORKERS.len());
    (w, lines)
}

pub fn conn(app: &TestApp) -> PgConnection {
    app.db.conn()
}

/// A simulated bank on its own directory, and our connection to it.
pub struct Bank {
    pub dir: tempfile::TempDir,
    pub sim: Sim,
    pub connection_id: i64,
    pub wage_account_id: i64,
}

impl Bank {
    /// Where we hand files over: the simulator's `to-bank/`.
    pub fn to_bank(&self) -> PathBuf {
        self.dir.path().join("to-bank")
    }

    /// The connection's transport as stored.
    pub fn transport(&self) -> serde_json::Value {
        json!({
            "kind": "file_exchange",
            "outbox": self.to_bank(),
            "inbox": self.dir.path().join("from-bank"),
        })
    }
}

#[derive(diesel::QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// The bank (organisation, simulator with the dedicated account and 1,000,000
/// yuan in it), its connection over the file exchange, and the project's account.
pub fn connect_bank(app: &TestApp, w: &World) -> Bank {
    let dir = tempfile::tempdir().expect("a directory for the bank simulator");
    Config {
        accounts: vec![AccountConfig {
            number: ACCOUNT.to_owned(),
            name: Some(ACCOUNT_NAME.to_owned()),
            opening_balance: Decimal::new(100_000_000, 2),
        }],
        ..Config::default()
    }
    .save(dir.path())
    .expect("simulator configuration");
    let sim = Sim::open(dir.path()).expect("simulator");
    let bank_party = party(
        app,
        OrgKind::Bank,
        30,
        "中国工商银行股份有限公司武汉分行",
        None,
    );
    let now = app.clock.now();
    let mut c = conn(app);
    let mut bank = Bank {
        dir,
        sim,
        connection_id: 0,
        wage_account_id: 0,
    };
    let connection: Id = diesel::sql_query(
        "INSERT INTO bank_connections (bank_id, dialect, transport, utc_offset_minutes, revision, created_at, updated_at) \
         SELECT id, $2, $3, 480, 1, $4, $4 FROM organizations WHERE uscc = $1 RETURNING id",
    )
    .bind::<Text, _>(&bank_party.uscc)
    .bind::<Jsonb, _>(json!({ "dialect": "iso20022", "pain001_version": "09" }))
    .bind::<Jsonb, _>(bank.transport())
    .bind::<Timestamptz, _>(now)
    .get_result(&mut c)
    .expect("bank connection");
    bank.connection_id = connection.id;
    diesel::sql_query(
        "INSERT INTO bank_connection_codes (bank_code, connection_id) VALUES ('102', $1)",
    )
    .bind::<BigInt, _>(connection.id)
    .execute(&mut c)
    .expect("bank code");
    let account: Id = diesel::sql_query(
        "INSERT INTO wage_accounts (project_id, bank_code, account_number, account_name, opened_on, created_at, updated_at) \
         SELECT id, '102', $2, $3, DATE '2026-03-20', $4, $4 FROM projects WHERE code = $1 RETURNING id",
    )
    .bind::<Text, _>(&w.code)
    .bind::<Text, _>(ACCOUNT)
    .bind::<Text, _>(ACCOUNT_NAME)
    .bind::<Timestamptz, _>(now)
    .get_result(&mut c)
    .expect("wage account");
    bank.wage_account_id = account.id;
    bank
}

/// A released batch, its lines reserved and its outbox entry pending (due now).
#[derive(Debug, Clone)]
pub struct Batch {
    pub id: i64,
    pub outbox_id: i64,
    pub message_id: String,
    pub file_bytes: Vec<u8>,
    pub end_to_end_ids: Vec<String>,
}

/// What the disbursement use case commits for `lines`, in one transaction.
pub fn released_batch(app: &TestApp, w: &World, bank: &Bank, lines: &[ApprovedLine]) -> Batch {
    let now = app.clock.now();
    let message_id = new_id(IdKind::Message, now);
    let payment = PaymentBatch {
        message_id: message_id.clone(),
        created_at: now,
        requested_execution_date: app.clock.today(),
        initiating_party: w.contractor.name.clone(),
        debtor: AccountRef {
            number: ACCOUNT.to_owned(),
            name: Some(ACCOUNT_NAME.to_owned()),
            ..AccountRef::default()
        },
        lines: lines
            .iter()
            .map(|l| PaymentLine {
                end_to_end_id: new_id(IdKind::EndToEnd, now),
                instruction_id: None,
                amount: Amount::cny(l.net),
                creditor: AccountRef {
                    number: l.card_number.clone(),
                    name: Some(l.name.clone()),
                    ..AccountRef::default()
                },
                remittance: Some(format!("{} {PERIOD} 工资", w.code)),
            })
            .collect(),
    };
    let dialect = Dialect::Iso20022 {
        pain001: Pain001Version::V09,
    };
    let bytes = dialect.write_batch(&payment).expect("pain.001");
    let mut c = conn(app);
    let (id, outbox_id) = c
        .transaction(|c| insert_batch(c, w, bank, &payment, lines, &bytes))
        .expect("batch inserted");
    Batch {
        id,
        outbox_id,
        message_id,
        file_bytes: bytes,
        end_to_end_ids: payment
            .lines
            .iter()
            .map(|l| l.end_to_end_id.clone())
            .collect(),
    }
}

fn insert_batch(
    c: &mut PgConnection,
    w: &World,
    bank: &Bank,
    payment: &PaymentBatch,
    lines: &[ApprovedLine],
    bytes: &[u8],
) -> Result<(i64, i64), diesel::result::Error> {
    let now = payment.created_at;
    let batch: Id = diesel::sql_query(
        "INSERT INTO disbursement_batches (project_id, period, wage_account_id, connection_id, message_id, \
             requested_by, created_at, requested_execution_date, line_count, amount, status, \
             file_format, file_name, file_sha256, file_bytes) \
         SELECT p.id, $2, $3, $4, $5, p.contractor_id, $6, $7, $8, $9, 'released', \
             'pain.001.001.09', $5 || '.xml', $10, $11 FROM projects p WHERE p.code = $1 RETURNING id",
    )
    .bind::<Text, _>(&w.code)
    .bind::<Text, _>(PERIOD)
    .bind::<BigInt, _>(bank.wage_account_id)
    .bind::<BigInt, _>(bank.connection_id)
    .bind::<Text, _>(&payment.message_id)
    .bind::<Timestamptz, _>(now)
    .bind::<Date, _>(payment.requested_execution_date)
    .bind::<Int4, _>(lines.len() as i32)
    .bind::<Numeric, _>(payment.control_sum())
    .bind::<Text, _>(hex::encode(Sha256::digest(bytes)))
    .bind::<Bytea, _>(bytes)
    .get_result(c)?;
    diesel::sql_query(
        "INSERT INTO disbursement_batch_events (batch_id, status, at) VALUES ($1, 'released', $2)",
    )
    .bind::<BigInt, _>(batch.id)
    .bind::<Timestamptz, _>(now)
    .execute(c)?;
    for (i, (l, p)) in lines.iter().zip(&payment.lines).enumerate() {
        diesel::sql_query(
            "WITH attempt AS ( \
                 INSERT INTO disbursement_lines (batch_id, line_id, seq, end_to_end_id, worker_id, \
                     creditor_name, card_number, amount, state, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'reserved', $9) RETURNING id) \
             INSERT INTO disbursement_line_events (attempt_id, from_state, to_state, at, cause) \
             SELECT id, NULL, 'reserved', $9, 'created' FROM attempt",
        )
        .bind::<BigInt, _>(batch.id)
        .bind::<BigInt, _>(l.line_id)
        .bind::<Int4, _>(i as i32 + 1)
        .bind::<Text, _>(&p.end_to_end_id)
        .bind::<BigInt, _>(l.worker_id)
        .bind::<Text, _>(&l.name)
        .bind::<Text, _>(&l.card_number)
        .bind::<Numeric, _>(l.net)
        .bind::<Timestamptz, _>(now)
        .execute(c)?;
    }
    let outbox: Id = diesel::sql_query(
        "INSERT INTO bank_outbox (batch_id, connection_id, state, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, 'pending', 0, $3, $3) RETURNING id",
    )
    .bind::<BigInt, _>(batch.id)
    .bind::<BigInt, _>(bank.connection_id)
    .bind::<Timestamptz, _>(now)
    .get_result(c)?;
    Ok((batch.id, outbox.id))
}

/// A number from a query (`SELECT … AS n`).
pub fn count(app: &TestApp, sql: &str) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(&mut conn(app))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// A text from a query (`SELECT … AS t`).
pub fn text(app: &TestApp, sql: &str) -> Option<String> {
    #[derive(diesel::QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        t: Option<String>,
    }
    diesel::sql_query(sql)
        .get_result::<T>(&mut conn(app))
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .t
}
