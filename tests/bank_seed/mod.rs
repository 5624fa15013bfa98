//! A bank connection and disbursement batches written by SQL, as the
//! disbursement use case would leave them after sending: a project with its
//! wage account, N workers with approved payroll lines, and a batch of N
//! attempts in state `sent`. Shared by the inbound tests and the bench.
#![allow(dead_code)]

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Text};

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

const AT: &str = "2026-11-20T02:00:00Z";

fn one(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Id>(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .id
}

/// An organisation (any kind but regulator) by SQL; `n` keeps its USCC unique.
pub fn organization(conn: &mut PgConnection, kind: &str, n: u32) -> i64 {
    one(
        conn,
        &format!(
            "INSERT INTO organizations (kind, name, uscc, created_at) \
             VALUES ('{kind}', '{kind} {n}', 'SEED{n:014}', '{AT}') RETURNING id"
        ),
    )
}

/// A connection of `bank_id` with this dialect and a file exchange in `dir`,
/// serving `bank_code`.
pub fn connection(
    conn: &mut PgConnection,
    bank_id: i64,
    dialect: &serde_json::Value,
    dir: &std::path::Path,
    bank_code: &str,
) -> i64 {
    let transport = serde_json::json!({
        "kind": "file_exchange",
        "outbox": dir.join("outbox"),
        "inbox": dir.join("inbox"),
    });
    let id = diesel::sql_query(
        "INSERT INTO bank_connections (bank_id, dialect, transport, utc_offset_minutes, revision, created_at, updated_at) \
         VALUES ($1, $2, $3, 480, 1, $4::timestamptz, $4::timestamptz) RETURNING id",
    )
    .bind::<BigInt, _>(bank_id)
    .bind::<Jsonb, _>(dialect)
    .bind::<Jsonb, _>(&transport)
    .bind::<Text, _>(AT)
    .get_result::<Id>(conn)
    .expect("connection")
    .id;
    diesel::sql_query(
        "INSERT INTO bank_connection_codes (bank_code, connection_id) VALUES ($1, $2)",
    )
    .bind::<Text, _>(bank_code)
    .bind::<BigInt, _>(id)
    .execute(conn)
    .expect("bank code");
    id
}

/// What [`batch`] made.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub batch_id: i64,
    pub message_id: String,
    pub account_number: String,
    pub wage_account_id: i64,
    pub lines: usize,
    tag: u32,
}

impl Seeded {
    /// The end-to-end id of line `seq` (1-based).
    pub fn e2e(&self, seq: usize) -> String {
        format!("E{}N{seq}", self.tag)
    }
}

/// A project (tag `tag`, unique per database) whose wage account is at
/// `bank_code`, with a sent batch of `lines` attempts of 5,000.00 each.
pub fn batch(
    conn: &mut PgConnection,
    connection_id: i64,
    bank_code: &str,
    tag: u32,
    lines: usize,
) -> Seeded {
    let owner = organization(conn, "owner", tag * 10 + 1);
    let contractor = organization(conn, "contractor", tag * 10 + 2);
    let project = one(
        conn,
        &format!(
            "INSERT INTO projects (code, name, region_code, owner_id, contractor_id, contract_amount, \
               contract_signed_on, labour_cost_share_percent, labour_cost_due_day, payday, planned_start_on, \
               planned_end_on, minimum_monthly_wage, created_at, created_by) \
             VALUES ('P-{tag}', '项目 {tag}', '420111', {owner}, {contractor}, 12000000, '2026-03-01', 25, 20, 15, \
               '2026-03-15', '2027-06-30', 2210, '{AT}', {contractor}) RETURNING id"
        ),
    );
    let account_number = format!("4202{tag:012}");
    let wage_account_id = one(
        conn,
        &format!(
            "INSERT INTO wage_accounts (project_id, bank_code, account_number, account_name, opened_on, created_at, updated_at) \
             VALUES ({project}, '{bank_code}', '{account_number}', '专户 {tag}', '2026-03-10', '{AT}', '{AT}') RETURNING id"
        ),
    );
    let n = lines as i64;
    let payroll = one(
        conn,
        &format!(
            "INSERT INTO payrolls (project_id, employer_id, period, revision, submitted_by, submitted_at, source_format, \
               line_count, accepted_count, rejected_count, warning_count, total_net, accepted_net) \
             VALUES ({project}, {contractor}, '2026-10', 1, {contractor}, '{AT}', 'json', {n}, {n}, 0, 0, {n} * 5000, {n} * 5000) \
             RETURNING id"
        ),
    );
    let statements = [
        format!(
            "INSERT INTO workers (id_number, created_at) \
             SELECT lpad(({tag}::bigint * 10000000 + g)::text, 18, '0'), '{AT}' FROM generate_series(1, {n}) g"
        ),
        format!(
            "INSERT INTO payroll_lines (payroll_id, line_no, worker_id, id_number, name, card_number, days_worked, hours, \
               gross, deductions, net, status) \
             SELECT {payroll}, g, w.id, w.id_number, '工人' || g, '6222' || lpad(g::text, 15, '0'), 22, 176, 5000, 0, 5000, \
               'accepted' \
               FROM generate_series(1, {n}) g \
               JOIN workers w ON w.id_number = lpad(({tag}::bigint * 10000000 + g)::text, 18, '0')"
        ),
    ];
    for sql in &statements {
        diesel::sql_query(sql)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    let approval = one(
        conn,
        &format!(
            "INSERT INTO payroll_approvals (payroll_id, approved_by, at, allow_unconfirmed, line_count, amount) \
             VALUES ({payroll}, {contractor}, '{AT}', true, {n}, {n} * 5000) RETURNING id"
        ),
    );
    let message_id = format!("B{tag}");
    let batch_id = one(
        conn,
        &format!(
            "INSERT INTO disbursement_batches (project_id, period, wage_account_id, connection_id, message_id, requested_by, \
               created_at, requested_execution_date, line_count, amount, status, file_format, file_name, file_sha256, file_bytes) \
             VALUES ({project}, '2026-10', {wage_account_id}, {connection_id}, '{message_id}', {contractor}, '{AT}', \
               '2026-11-20', {n}, {n} * 5000, 'sent', 'pain.001.001.09', '{message_id}.xml', repeat('0', 64), '\\x00') \
             RETURNING id"
        ),
    );
    let rest = [
        format!("INSERT INTO approved_lines (line_id, approval_id, unconfirmed) SELECT id, {approval}, true FROM payroll_lines WHERE payroll_id = {payroll}"),
        format!(
            "INSERT INTO disbursement_lines (batch_id, line_id, seq, end_to_end_id, worker_id, creditor_name, card_number, \
               amount, state, updated_at) \
             SELECT {batch_id}, l.id, l.line_no, 'E{tag}N' || l.line_no, l.worker_id, l.name, l.card_number, l.net, 'sent', '{AT}' \
               FROM payroll_lines l WHERE l.payroll_id = {payroll}"
        ),
    ];
    for sql in &rest {
        diesel::sql_query(sql)
            .execute(conn)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    Seeded {
        batch_id,
        message_id,
        account_number,
        wage_account_id,
        lines,
        tag,
    }
}

/// The state of attempt `seq` of a batch.
pub fn state(conn: &mut PgConnection, batch_id: i64, seq: usize) -> String {
    #[derive(QueryableByName)]
    struct S {
        #[diesel(sql_type = Text)]
        state: String,
    }
    diesel::sql_query("SELECT state FROM disbursement_lines WHERE batch_id = $1 AND seq = $2")
        .bind::<BigInt, _>(batch_id)
        .bind::<Integer, _>(seq as i32)
        .get_result::<S>(conn)
        .expect("attempt")
        .state
}

/// How many rows a query counts.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct C {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<C>(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"))
        .n
}
