//! How long a monthly payroll takes to match and store, end to end through
//! the HTTP handler (JSON body parsed, roster and attendance loaded, every
//! line matched, lines written with COPY, the answer with tokens built).
//!
//! ```text
//! cargo bench --bench payroll                      # 10,000 and 100,000 lines
//! PAYROLL_BENCH_SIZES=2000 cargo bench --bench payroll
//! DATABASE_URL=postgres://user@host:5432/postgres cargo bench --bench payroll
//! ```
//!
//! Without `DATABASE_URL` a private PostgreSQL cluster is started in a
//! temporary directory and removed afterwards. Set-up (roster of N workers,
//! 22 days of attendance each) is not timed; each size is submitted three
//! times (three revisions) and every run is printed.

mod support;

use std::time::{Duration, Instant};

use actix_web::{test, web, App};
use chrono::NaiveDate;
use diesel::{Connection, PgConnection, RunQueryDsl};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use support::{database, uscc};
use wagebridge::access::OrgKind;
use wagebridge::api::organizations::OrganizationInput;
use wagebridge::api::{self, AppState};
use wagebridge::clock::Clock;
use wagebridge::db::{self, projects::NewProject};
use wagebridge::domain::{BankCard, ResidentId};

const RUNS: usize = 3;
const BODY_LIMIT: usize = 1 << 30;

/// The business time the bench runs at: after the October 2026 payroll it submits.
const BENCH_NOW: &str = "2026-11-20T10:00:00+08:00";

fn clock() -> Clock {
    let now = chrono::DateTime::parse_from_rfc3339(BENCH_NOW).expect("BENCH_NOW is RFC 3339");
    Clock::simulated(now.with_timezone(&chrono::Utc))
}

/// The i-th worker's ID number: distinct birth dates from 1970, 1,000 per day.
fn resident_id(i: u32) -> String {
    let born =
        NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(u64::from(i / 1000));
    let body = format!("420111{}{:03}", born.format("%Y%m%d"), i % 1000);
    let check = ResidentId::check_character(&body).unwrap();
    format!("{body}{check}")
}

fn card(i: u32) -> String {
    let body = format!("622202{i:09}");
    let check = BankCard::check_digit(&body).unwrap();
    format!("{body}{check}")
}

/// A project with `n` workers of one subcontractor, each with 22 days of
/// attendance in 2026-10. Returns the subcontractor's key.
fn set_up(conn: &mut PgConnection, code: &str, first_worker: u32, n: u32, org_base: u32) -> String {
    let now = clock().now();
    let mut org = |kind, i: u32, name: &str| {
        OrganizationInput::parse(kind, name, &uscc(org_base + i), None)
            .expect("valid organisation")
            .store(conn, None, now)
            .expect("stored")
    };
    let owner = org(OrgKind::Owner, 0, "武汉光谷建设投资有限公司");
    let contractor = org(OrgKind::Contractor, 1, "中建三局第一建设工程有限责任公司");
    let sub = org(OrgKind::Subcontractor, 2, "湖北楚天劳务有限公司");
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let project = db::projects::insert(
        conn,
        &NewProject {
            code,
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

    let ids: Vec<u32> = (first_worker..first_worker + n).collect();
    for chunk in ids.chunks(5_000) {
        let values: Vec<String> = chunk
            .iter()
            .map(|&i| {
                format!(
                    "('{}', '工人{i}', '138{:08}', '{}', '{BENCH_NOW}', '{BENCH_NOW}')",
                    resident_id(i),
                    i % 100_000_000,
                    card(i)
                )
            })
            .collect();
        diesel::sql_query(format!(
            "INSERT INTO workers (id_number, name, phone, card_number, created_at, updated_at) VALUES {}",
            values.join(",")
        ))
        .execute(conn)
        .expect("workers");
    }
    let first = resident_id(first_worker);
    let last = resident_id(first_worker + n - 1);
    diesel::sql_query(format!(
        "INSERT INTO roster_entries (project_id, worker_id, employer_id, contract_signed_on, entered_on, created_at, updated_at)
         SELECT {}, id, {}, '2026-03-10', '2026-03-15', '{BENCH_NOW}', '{BENCH_NOW}' FROM workers WHERE id_number BETWEEN '{first}' AND '{last}'",
        project.id, sub.id
    ))
    .execute(conn)
    .expect("roster");
    diesel::sql_query(format!(
        "INSERT INTO attendance_records (project_id, worker_id, work_date, hours, recorded_by, recorded_at)
         SELECT r.project_id, r.worker_id, d::date, 8, {}, '{BENCH_NOW}'
           FROM roster_entries r, generate_series('2026-10-01'::date, '2026-10-22'::date, '1 day') d
          WHERE r.project_id = {}",
        sub.id, project.id
    ))
    .execute(conn)
    .expect("attendance");
    diesel::sql_query("ANALYZE").execute(conn).expect("analyze");
    db::organizations::issue_key(conn, sub.id, now)
        .expect("key")
        .secret
}

fn body(first_worker: u32, n: u32) -> Vec<u8> {
    let lines: Vec<Value> = (first_worker..first_worker + n)
        .map(|i| {
            json!({
                "id_number": resident_id(i),
                "name": format!("工人{i}"),
                "card_number": card(i),
                "days_worked": 22,
                "hours": 176,
                "gross": "6000.00",
                "deductions": "500.00",
                "net": "5500.00"
            })
        })
        .collect();
    serde_json::to_vec(&json!({ "period": "2026-10", "lines": lines })).expect("json")
}

fn main() {
    let sizes: Vec<u32> = std::env::var("PAYROLL_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let database = database("bench");
    let mut conn = PgConnection::establish(&database.url).expect("connect to the bench database");
    db::run_migrations(&mut conn).expect("migrate");
    let pool = db::pool(&database.url, 4).expect("pool");

    actix_web::rt::System::new().block_on(async move {
        let state = web::Data::new(AppState {
            pool,
            clock: clock(),
            token_limiter: Default::default(),
            data_dir: std::env::temp_dir().join("wagebridge-bench-payroll"),
        });
        let app = test::init_service(
            App::new()
                .app_data(state)
                .configure(api::configure(BODY_LIMIT)),
        )
        .await;
        let mut first_worker = 0;
        println!("payroll submission, end to end through the handler (parse, match, COPY, answer)");
        for (k, &n) in sizes.iter().enumerate() {
            let code = format!("BENCH-{n}");
            let started = Instant::now();
            let key = set_up(&mut conn, &code, first_worker, n, 10 * k as u32);
            let payload = body(first_worker, n);
            println!(
                "{n} lines: set-up (roster, {} attendance days) {:.1} s, body {:.1} MB",
                22 * n,
                started.elapsed().as_secs_f64(),
                payload.len() as f64 / 1e6
            );
            let mut times: Vec<Duration> = Vec::new();
            for run in 1..=RUNS {
                let req = test::TestRequest::post()
                    .uri(&format!("/v1/projects/{code}/payrolls"))
                    .insert_header(("Authorization", format!("Bearer {key}")))
                    .insert_header(("Content-Type", "application/json"))
                    .set_payload(payload.clone())
                    .to_request();
                let started = Instant::now();
                let resp = test::call_service(&app, req).await;
                let status = resp.status();
                let answer = test::read_body(resp).await;
                let took = started.elapsed();
                assert_eq!(
                    status.as_u16(),
                    201,
                    "{}",
                    String::from_utf8_lossy(&answer[..answer.len().min(2000)])
                );
                let answer: Value = serde_json::from_slice(&answer).expect("json answer");
                assert_eq!(
                    answer["totals"]["accepted"], n,
                    "every line should be accepted"
                );
                assert_eq!(answer["revision"], run);
                println!(
                    "  run {run}: {:.3} s, {:.0} lines/s",
                    took.as_secs_f64(),
                    f64::from(n) / took.as_secs_f64()
                );
                times.push(took);
            }
            times.sort();
            println!(
                "  median {:.3} s over {RUNS} runs",
                times[RUNS / 2].as_secs_f64()
            );
            first_worker += n;
        }
    });
}
