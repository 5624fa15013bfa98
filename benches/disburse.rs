//! How fast an approved payroll becomes a disbursement batch: N approved
//! lines (seeded with SQL) → candidates read, pain.001 written, batch, lines
//! (COPY), events, outbox entry committed, through the disburse use case.
//!
//! ```text
//! cargo bench --bench disburse                      # 100,000 lines
//! DISBURSE_BENCH_LINES=10000 cargo bench --bench disburse
//! DATABASE_URL=postgres://user@host:5432/postgres cargo bench --bench disburse
//! ```
//!
//! Each run makes a batch of every line, then the bench rejects its lines
//! (as a status intake would) so the next run pays them again. Where the
//! time goes is printed too: the candidates query and the file writer
//! timed on their own.

mod support;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rust_decimal::Decimal;

use support::{database, uscc};
use wagebridge::access::OrgKind;
use wagebridge::api::organizations::OrganizationInput;
use wagebridge::banking::config::TransportConfig;
use wagebridge::banking::connections;
use wagebridge::banking::disburse::create::{self, Request};
use wagebridge::clock::Clock;
use wagebridge::db::{self, projects::NewProject};
use wagebridge::domain::Period;

const RUNS: usize = 3;
const BENCH_NOW: &str = "2026-11-20T10:00:00+08:00";

fn clock() -> Clock {
    let now = chrono::DateTime::parse_from_rfc3339(BENCH_NOW).expect("BENCH_NOW is RFC 3339");
    Clock::simulated(now.with_timezone(&chrono::Utc))
}

fn run(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

/// A project with `n` approved lines of one subcontractor, an account at a
/// connected bank and a statement that covers them. Returns the project.
fn set_up(conn: &mut PgConnection, n: u32, exchange: &std::path::Path) -> db::projects::Project {
    let now = clock().now();
    let mut org = |kind, i: u32, name: &str| {
        OrganizationInput::parse(kind, name, &uscc(i), None)
            .expect("valid organisation")
            .store(conn, None, now)
            .expect("stored")
    };
    let owner = org(OrgKind::Owner, 0, "武汉光谷建设投资有限公司");
    let contractor = org(OrgKind::Contractor, 1, "中建三局第一建设工程有限责任公司");
    let sub = org(OrgKind::Subcontractor, 2, "湖北楚天劳务有限公司");
    let bank = org(OrgKind::Bank, 3, "中国工商银行武汉分行");
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let project = db::projects::insert(
        conn,
        &NewProject {
            code: "WH-BENCH",
            name: "光谷科创中心一期",
            region_code: "420111",
            owner_id: owner.id,
            contractor_id: contractor.id,
            contract_amount: Decimal::new(1_200_000_000, 0),
            contract_signed_on: date("2026-03-01"),
            labour_cost_share_percent: Decimal::from(25),
            labour_cost_due_day: 20,
            payday: 15,
            planned_start_on: date("2026-03-15"),
            planned_end_on: date("2027-06-30"),
            minimum_monthly_wage: Decimal::new(221_000, 2),
            created_by: contractor.id,
            created_at: now,
        },
    )
    .expect("db")
    .expect("project code free");
    db::projects::attach_subcontractor(conn, project.id, sub.id, contractor.id, now)
        .expect("attach");
    let (p, s, c) = (project.id, sub.id, contractor.id);
    let card = "'622202' || lpad(i::text, 10, '0')";
    run(conn, &format!(
        "INSERT INTO workers (id_number, created_at)
         SELECT '4201111985' || lpad(i::text, 8, '0'), '{BENCH_NOW}' FROM generate_series(1, {n}) i"));
    run(conn, &format!(
        "INSERT INTO card_claims (card_number, worker_id, claimed_at)
         SELECT {card}, w.id, '{BENCH_NOW}' FROM workers w, LATERAL (SELECT substr(w.id_number, 11)::int AS i) x"));
    run(conn, &format!(
        "INSERT INTO roster_entries (project_id, worker_id, employer_id, contract_signed_on, entered_on,
                created_at, updated_at, name, card_number, card_bank)
         SELECT {p}, w.id, {s}, '2026-03-10', '2026-03-15', '{BENCH_NOW}', '{BENCH_NOW}', '工人' || i, {card}, '中国工商银行'
           FROM workers w, LATERAL (SELECT substr(w.id_number, 11)::int AS i) x"));
    run(conn, &format!(
        "INSERT INTO payrolls (project_id, employer_id, period, revision, submitted_by, submitted_at, source_format,
                line_count, accepted_count, rejected_count, warning_count, total_net, accepted_net)
         VALUES ({p}, {s}, '2026-10', 1, {s}, '{BENCH_NOW}', 'json', {n}, {n}, 0, 0, {n} * 5500, {n} * 5500)"));
    run(conn, &format!(
        "INSERT INTO payroll_lines (payroll_id, line_no, worker_id, id_number, name, card_number, days_worked,
                hours, gross, deductions, net, status)
         SELECT (SELECT id FROM payrolls), i, w.id, w.id_number, '工人' || i, {card}, 22, 176, 6000, 500, 5500, 'accepted'
           FROM workers w, LATERAL (SELECT substr(w.id_number, 11)::int AS i) x"));
    run(conn, &format!(
        "INSERT INTO payroll_approvals (payroll_id, approved_by, at, allow_unconfirmed, line_count, amount)
         VALUES ((SELECT id FROM payrolls), {c}, '{BENCH_NOW}', true, {n}, {n} * 5500)"));
    run(
        conn,
        "INSERT INTO approved_lines (line_id, approval_id, unconfirmed)
               SELECT id, (SELECT id FROM payroll_approvals), true FROM payroll_lines",
    );
    run(conn, &format!(
        "INSERT INTO wage_accounts (project_id, bank_code, account_number, account_name, opened_on, created_at, updated_at)
         VALUES ({p}, '102', '3202000119200012345', '中建三局光谷科创中心一期农民工工资专用账户', '2026-03-20', '{BENCH_NOW}', '{BENCH_NOW}')"));
    let input = connections::cli_input(
        vec!["102".to_owned()],
        TransportConfig::FileExchange {
            outbox: exchange.join("out"),
            inbox: exchange.join("in"),
        },
        None,
    )
    .expect("input");
    connections::put(conn, &bank.uscc, None, &input, now).expect("connection");
    run(conn, "WITH f AS (INSERT INTO bank_files (sha256, size_bytes, received_at, kind, status, processed_at)
                VALUES (repeat('a', 64), 1, now(), 'camt.053', 'applied', now()) RETURNING id)
               INSERT INTO bank_statements (file_id, account_number, wage_account_id, kind, statement_id,
                      closing_balance, closing_date, entry_count, continuity, stored_at)
               SELECT f.id, '3202000119200012345', (SELECT id FROM wage_accounts), 'camt.053', 'S1',
                      1000000000000, '2026-11-19', 0, 'first', now() FROM f");
    run(conn, "ANALYZE");
    project
}

fn main() {
    let n: u32 = std::env::var("DISBURSE_BENCH_LINES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "wagebridge::banking=debug".into()),
        )
        .init();
    let database = database("bench");
    let mut conn = PgConnection::establish(&database.url).expect("connect");
    db::run_migrations(&mut conn).expect("migrate");
    let exchange = tempfile::tempdir().expect("exchange dir");
    let seeding = Instant::now();
    let project = set_up(&mut conn, n, exchange.path());
    println!("seeded {n} approved lines in {:.1?}", seeding.elapsed());
    let contractor = db::organizations::find_by_id(&mut conn, project.contractor_id)
        .expect("db")
        .expect("contractor");
    let clock = clock();
    let period = Period::parse("2026-10").expect("period");
    let mut best = Duration::MAX;
    for i in 1..=RUNS {
        let request = Request {
            project: &project,
            caller: &contractor,
            period,
            now: clock.now(),
            today: clock.today(),
        };
        let started = Instant::now();
        let answer = create::create(&mut conn, &request).expect("a batch");
        let took = started.elapsed();
        best = best.min(took);
        assert_eq!(answer["line_count"], n);
        println!(
            "run {i}: {n} lines → batch, file ({} bytes), lines, events, outbox in {took:.2?}: {:.0} lines/s",
            answer["file"]["size_bytes"],
            f64::from(n) / took.as_secs_f64()
        );
        // As a status intake would: every line rejected, so the next run pays them again.
        run(
            &mut conn,
            "UPDATE disbursement_lines SET state = 'rejected' WHERE state = 'reserved'",
        );
        run(&mut conn, "VACUUM ANALYZE disbursement_lines");
    }
    println!(
        "best: {best:.2?}, {:.0} lines/s",
        f64::from(n) / best.as_secs_f64()
    );
    breakdown(&mut conn, &project, n);
}

/// The parts timed alone: the candidates query and the file writer.
fn breakdown(conn: &mut PgConnection, project: &db::projects::Project, n: u32) {
    let started = Instant::now();
    let candidates =
        db::disbursements::candidates(conn, project.id, "2026-10").expect("candidates");
    println!(
        "  candidates query: {} rows in {:.2?}",
        candidates.len(),
        started.elapsed()
    );
    let now = clock().now();
    let batch = bank_adapters::model::PaymentBatch {
        message_id: "MBENCH".to_owned(),
        created_at: now,
        requested_execution_date: clock().today(),
        initiating_party: "中建三局".to_owned(),
        debtor: bank_adapters::model::AccountRef {
            number: "3202000119200012345".to_owned(),
            name: Some("专用账户".to_owned()),
            bank_code: Some("102".to_owned()),
            bank_name: None,
        },
        lines: candidates
            .iter()
            .map(|c| bank_adapters::model::PaymentLine {
                end_to_end_id: wagebridge::domain::bank_ids::new_id(
                    wagebridge::domain::bank_ids::IdKind::EndToEnd,
                    now,
                ),
                instruction_id: None,
                amount: bank_adapters::model::Amount::cny(c.net.unwrap_or_default()),
                creditor: bank_adapters::model::AccountRef {
                    number: c.card_number.clone().unwrap_or_default(),
                    name: c.roster_name.clone(),
                    bank_code: None,
                    bank_name: None,
                },
                remittance: Some("工资 WH-BENCH 2026-10".to_owned()),
            })
            .collect(),
    };
    let started = Instant::now();
    let dialect: bank_adapters::dialect::Dialect =
        serde_json::from_str(r#"{"dialect":"iso20022"}"#).expect("dialect");
    let bytes = dialect.write_batch(&batch).expect("pain.001");
    println!(
        "  pain.001 writer: {n} lines, {} bytes in {:.2?}",
        bytes.len(),
        started.elapsed()
    );
    let started = Instant::now();
    let _ = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    println!("  sha256: {:.2?}", started.elapsed());
}
