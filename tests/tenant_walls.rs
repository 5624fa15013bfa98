//! What a roster says about a worker belongs to that project: another tenant
//! uploading the same ID number never changes or reveals it, and a bank card
//! still belongs to one person across every project.

mod common;
mod payroll_common;

use common::fixtures::{card, project_body, resident_id, worker_row, World};
use common::TestApp;
use diesel::RunQueryDsl;
use payroll_common::workers::{GOOD, GOOD_2};
use payroll_common::*;
use serde_json::{json, Value};

/// The other contractor's own project, where it may write any roster row it likes.
const C2_PROJECT: &str = "C2-2026-001";
/// Cards the attacker controls: never used by anyone on the first project.
const ATTACKER_CARD: u32 = 700;
const ATTACKER_PHONE: &str = "13999999999";

async fn c2_project(app: &TestApp, w: &World) {
    let r = app
        .send_json(
            "POST",
            &w.other_contractor.key,
            "/v1/projects",
            &project_body(C2_PROJECT, &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

async fn put_roster(app: &TestApp, key: &str, code: &str, rows: Value) -> Value {
    let r = app
        .send_json(
            "PUT",
            key,
            &format!("/v1/projects/{code}/workers"),
            &json!({ "workers": rows }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn roster(app: &TestApp, key: &str, code: &str) -> Vec<Value> {
    let r = app.get(key, &format!("/v1/projects/{code}/workers")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["workers"].as_array().cloned().unwrap_or_default()
}

/// The roster row whose masked ID number ends like `id_number`.
fn row_for<'a>(rows: &'a [Value], id_number: &str) -> &'a Value {
    let tail = &id_number[id_number.len() - 4..];
    let found: Vec<&Value> = rows
        .iter()
        .filter(|r| r["id_number"].as_str().is_some_and(|m| m.ends_with(tail)))
        .collect();
    assert_eq!(found.len(), 1, "one row for …{tail} in {rows:?}");
    found[0]
}

/// C2's row for worker 1: another name, the attacker's card, phone and bank.
fn impostor_row() -> Value {
    let mut row = worker_row(GOOD);
    row["name"] = json!("冒名");
    row["card_number"] = json!(card(ATTACKER_CARD));
    row["phone"] = json!(ATTACKER_PHONE);
    row["card_bank"] = json!("攻击者银行");
    row
}

#[actix_web::test]
async fn another_contractors_upload_leaves_the_first_projects_roster_as_it_was() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let before = roster(&app, &w.contractor.key, &w.code).await;

    let report = put_roster(
        &app,
        &w.other_contractor.key,
        C2_PROJECT,
        json!([impostor_row()]),
    )
    .await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");
    assert_eq!(report["rows"][0]["outcome"], "created", "{report}");

    let after = roster(&app, &w.contractor.key, &w.code).await;
    assert_eq!(before, after, "C1's roster changed under C2's upload");
    let mine = row_for(&after, &resident_id(GOOD));
    assert_eq!(mine["name"], "工人1");
    assert_eq!(mine["card_bank"], "中国工商银行武汉光谷支行");
    let text = serde_json::to_string(&after).unwrap_or_default();
    assert!(
        !text.contains("冒名") && !text.contains("攻击者银行"),
        "{text}"
    );

    // C2 reads back what C2 wrote, on its own project only.
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    assert_eq!(row_for(&theirs, &resident_id(GOOD))["name"], "冒名");
}

#[actix_web::test]
async fn the_subcontractors_payroll_line_with_the_real_card_is_still_accepted() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    put_roster(
        &app,
        &w.other_contractor.key,
        C2_PROJECT,
        json!([impostor_row()]),
    )
    .await;

    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    assert_eq!(codes(&answer["lines"][0]), Vec::<String>::new(), "{answer}");
    assert_eq!(answer["lines"][0]["status"], "accepted", "{answer}");

    // The attacker's card and name do not match on the first project.
    let mut forged = line(GOOD_2);
    forged["id_number"] = json!(resident_id(GOOD));
    forged["name"] = json!("冒名");
    forged["card_number"] = json!(card(ATTACKER_CARD));
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![forged])).await;
    let got = codes(&answer["lines"][0]);
    assert!(
        got.contains(&"NAME_MISMATCH".to_owned()) && got.contains(&"CARD_NOT_WORKERS".to_owned()),
        "{answer}"
    );
}

#[actix_web::test]
async fn an_upload_of_name_and_id_only_reveals_nothing_another_project_registered() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let bare = json!({
        "id_number": resident_id(GOOD),
        "name": "工人1",
        "contract_signed_on": "2026-03-10",
        "entered_on": "2026-03-15"
    });
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([bare])).await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");

    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let row = row_for(&theirs, &resident_id(GOOD));
    assert_eq!(row["phone"], Value::Null, "{row}");
    assert_eq!(row["card_number"], Value::Null, "{row}");
    assert_eq!(row["card_bank"], Value::Null, "{row}");
}

#[actix_web::test]
async fn a_card_of_another_person_is_refused_with_a_message_that_names_nobody() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let other_person = resident_id(60);
    let mut row = worker_row(60);
    row["card_number"] = json!(card(GOOD));
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([row])).await;
    let result = &report["rows"][0];
    assert_eq!(result["status"], "rejected", "{report}");
    assert_eq!(
        result["errors"][0]["code"],
        "CARD_BELONGS_TO_ANOTHER_WORKER"
    );
    assert_eq!(result["errors"][0]["field"], "card_number");

    let errors = result["errors"].to_string();
    let owner_id = resident_id(GOOD);
    for leak in [
        "工人1",
        w.code.as_str(),
        w.sub.uscc.as_str(),
        w.sub.name.as_str(),
        &owner_id[owner_id.len() - 4..],
        &owner_id[..6],
    ] {
        assert!(!errors.contains(leak), "{leak:?} in {errors}");
    }
    // Nothing was stored for the refused row.
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let tail = &other_person[other_person.len() - 4..];
    assert!(
        theirs
            .iter()
            .all(|r| !r["id_number"].as_str().is_some_and(|m| m.ends_with(tail))),
        "{theirs:?}"
    );
    // The same person with a card of his own is welcome.
    let mut row = worker_row(60);
    row["card_number"] = json!(card(61));
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([row])).await;
    assert_eq!(report["rows"][0]["outcome"], "created", "{report}");
}

#[actix_web::test]
async fn a_worker_keeps_his_card_when_another_project_registers_him_with_it() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    // The same person, with his own card, on a second project: allowed.
    let mut row = worker_row(GOOD);
    row["phone"] = json!("13700000001");
    let report = put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([row])).await;
    assert_eq!(report["rows"][0]["status"], "accepted", "{report}");
    let theirs = roster(&app, &w.other_contractor.key, C2_PROJECT).await;
    let mine = roster(&app, &w.contractor.key, &w.code).await;
    let (theirs, mine) = (
        row_for(&theirs, &resident_id(GOOD)),
        row_for(&mine, &resident_id(GOOD)),
    );
    assert_eq!(theirs["card_number"], mine["card_number"]);
    assert_ne!(
        theirs["phone"], mine["phone"],
        "each project keeps its own phone"
    );
}

// ---- the database guards the card rule, and the migration keeps the data ----

#[actix_web::test]
async fn the_database_refuses_a_roster_entry_with_another_persons_card() {
    let app = TestApp::new().await;
    payroll_world(&app).await;
    let mut conn = app.db.conn();
    // Give one entry a card that is claimed by someone else, behind the API's back.
    let result = diesel::sql_query(
        "UPDATE roster_entries AS r
            SET card_number = (SELECT c.card_number FROM card_claims c
                                WHERE c.worker_id <> r.worker_id ORDER BY c.card_number LIMIT 1)
          WHERE r.id = (SELECT min(id) FROM roster_entries)",
    )
    .execute(&mut conn);
    match result {
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::ForeignKeyViolation,
            info,
        )) => assert_eq!(
            info.constraint_name(),
            Some("roster_entries_card_claim_fkey")
        ),
        other => panic!("expected the card-claim foreign key to refuse, got {other:?}"),
    }
}

mod migration {
    use diesel::connection::SimpleConnection;
    use diesel::{PgConnection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;

    use super::common::TestDb;
    use wagebridge::db::MIGRATIONS;

    /// The migration that moves worker data onto roster entries.
    const VERSION: &str = "20261201000030";

    fn digits(version: &str) -> String {
        version.chars().filter(char::is_ascii_digit).collect()
    }

    /// Runs every pending migration older than [`VERSION`], or up to and including it.
    fn migrate_until(conn: &mut PgConnection, including: bool) {
        let pending = conn.pending_migrations(MIGRATIONS).expect("pending");
        for m in pending {
            let v = digits(&m.name().version().to_string());
            if v.as_str() < VERSION || (including && v == VERSION) {
                conn.run_migration(&*m).expect("migration runs");
            }
        }
    }

    /// The old shape: 张三 on two projects, 李四 on one, 王五 on none but with a card.
    const OLD_DATA: &str = "
        INSERT INTO organizations (id, kind, name, uscc, created_at) VALUES
            (1, 'owner', '业主', '914201001000000011', '2026-03-01'),
            (2, 'contractor', '总包一', '914201001000000022', '2026-03-01'),
            (3, 'contractor', '总包二', '914201001000000033', '2026-03-01');
        INSERT INTO projects (id, code, name, region_code, owner_id, contractor_id, contract_amount,
                contract_signed_on, labour_cost_share_percent, labour_cost_due_day, payday,
                planned_start_on, planned_end_on, minimum_monthly_wage, created_at, created_by)
            VALUES
            (1, 'P1', '一期', '420111', 1, 2, 1000000, '2026-03-01', 25, 20, 15, '2026-03-15', '2027-06-30', 2210, '2026-03-01', 2),
            (2, 'P2', '二期', '420111', 1, 3, 1000000, '2026-03-01', 25, 20, 15, '2026-03-15', '2027-06-30', 2210, '2026-03-01', 3);
        INSERT INTO workers (id, id_number, name, phone, card_number, card_bank, created_at, updated_at) VALUES
            (1, '420111198503120011', '张三', '13800000001', '6222020000000015', '工行光谷支行', '2026-03-10', '2026-04-01'),
            (2, '420111198503120029', '李四', NULL, NULL, NULL, '2026-03-10', '2026-03-10'),
            (3, '420111198503120037', '王五', '13800000003', '6222020000000031', '建行', '2026-03-10', '2026-03-10');
        INSERT INTO roster_entries (id, project_id, worker_id, employer_id, team, contract_signed_on,
                entered_on, created_at, updated_at) VALUES
            (1, 1, 1, 2, '钢筋班', '2026-03-10', '2026-03-15', '2026-03-10', '2026-03-10'),
            (2, 2, 1, 3, NULL, '2026-03-10', '2026-03-15', '2026-03-11', '2026-03-11'),
            (3, 1, 2, 2, NULL, '2026-03-10', '2026-03-15', '2026-03-10', '2026-03-10');
    ";

    #[derive(diesel::QueryableByName, Debug, PartialEq)]
    struct Line {
        #[diesel(sql_type = diesel::sql_types::Text)]
        line: String,
    }

    fn lines(conn: &mut PgConnection, sql: &str) -> Vec<String> {
        diesel::sql_query(sql)
            .load::<Line>(conn)
            .expect("query")
            .into_iter()
            .map(|l| l.line)
            .collect()
    }

    #[test]
    fn every_roster_entry_takes_its_workers_values_and_down_restores_them() {
        let db = TestDb::empty();
        let mut conn = db.conn();
        migrate_until(&mut conn, false);
        conn.batch_execute(OLD_DATA).expect("old-shape data");
        migrate_until(&mut conn, true);

        let entries = lines(
            &mut conn,
            "SELECT concat_ws('|', id, name, phone, card_number, card_bank, team) AS line
               FROM roster_entries ORDER BY id",
        );
        assert_eq!(
            entries,
            [
                "1|张三|13800000001|6222020000000015|工行光谷支行|钢筋班",
                "2|张三|13800000001|6222020000000015|工行光谷支行",
                "3|李四",
            ]
        );
        let claims = lines(
            &mut conn,
            "SELECT concat_ws('|', card_number, worker_id) AS line FROM card_claims ORDER BY 1",
        );
        assert_eq!(claims, ["6222020000000015|1", "6222020000000031|3"]);

        // The second project corrects its entry later; down takes the latest entry.
        conn.batch_execute(
            "UPDATE roster_entries SET name = '张叁', phone = '13900000001', updated_at = '2026-05-01'
              WHERE id = 2",
        )
        .expect("update");
        conn.revert_last_migration(MIGRATIONS).expect("down");
        let workers = lines(
            &mut conn,
            "SELECT concat_ws('|', id, name, phone, card_number, card_bank) AS line
               FROM workers ORDER BY id",
        );
        assert_eq!(
            workers,
            [
                "1|张叁|13900000001|6222020000000015|工行光谷支行",
                "2|李四",
                "3|未登记|6222020000000031",
            ]
        );
    }

    #[test]
    fn a_roster_entry_cannot_name_a_card_claimed_by_another_person() {
        let db = TestDb::empty();
        let mut conn = db.conn();
        migrate_until(&mut conn, false);
        conn.batch_execute(OLD_DATA).expect("old-shape data");
        migrate_until(&mut conn, true);
        // 李四's entry with 王五's card.
        let refused = conn.batch_execute(
            "UPDATE roster_entries SET card_number = '6222020000000031' WHERE id = 3",
        );
        assert!(refused.is_err(), "another person's card was stored");
        // A card nobody claimed is refused too: it must be claimed first.
        let refused = conn.batch_execute(
            "UPDATE roster_entries SET card_number = '6222020000000049' WHERE id = 3",
        );
        assert!(refused.is_err(), "an unclaimed card was stored");
    }
}

#[actix_web::test]
async fn two_writers_adding_the_same_person_to_a_project_at_once_both_succeed() {
    use diesel::prelude::*;
    use wagebridge::db::roster::{self, RosterError, RosterForm, Upserted, WorkerForm};
    use wagebridge::db::schema::projects;

    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    let (project_id, employer_id): (i64, i64) = projects::table
        .filter(projects::code.eq(C2_PROJECT))
        .select((projects::id, projects::contractor_id))
        .first(&mut app.db.conn())
        .expect("C2's project");
    // Worker 1 is already a person (on the first project), new to C2's.
    let person = WorkerForm {
        id_number: resident_id(GOOD),
        name: "工人1".to_owned(),
        phone: None,
        card_number: Some(card(GOOD)),
        card_bank: None,
    };
    let form = RosterForm {
        employer_id,
        team: None,
        trade: None,
        contract_signed_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 10).expect("date"),
        entered_on: chrono::NaiveDate::from_ymd_opt(2026, 3, 15).expect("date"),
        exited_on: None,
    };
    let now = app.clock.now();
    let writers: Vec<_> = [400u64, 0]
        .into_iter()
        .enumerate()
        .map(|(i, hold_ms)| {
            let (mut conn, person, form) = (app.db.conn(), person.clone(), form.clone());
            std::thread::spawn(move || {
                // The second writer starts while the first holds its transaction open.
                std::thread::sleep(std::time::Duration::from_millis(100 * i as u64));
                conn.transaction(|conn| -> Result<Upserted, RosterError> {
                    let (worker, _) = roster::upsert_worker(conn, &person, now)?;
                    let (_, outcome) =
                        roster::upsert_entry(conn, project_id, worker.id, &person, &form, now)?;
                    std::thread::sleep(std::time::Duration::from_millis(hold_ms));
                    Ok(outcome)
                })
            })
        })
        .collect();
    let outcomes: Vec<String> = writers
        .into_iter()
        .map(|t| match t.join() {
            Ok(Ok(outcome)) => format!("{outcome:?}"),
            Ok(Err(e)) => format!("error: {e}"),
            Err(_) => "panicked".to_owned(),
        })
        .collect();
    assert_eq!(outcomes, ["Created", "Unchanged"]);
}

#[actix_web::test]
async fn a_card_no_roster_names_any_more_is_free_for_its_real_owner() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    c2_project(&app, &w).await;
    // C2 registers worker 60 with a mistyped card: worker 61's.
    let mut typo = worker_row(60);
    typo["card_number"] = json!(card(61));
    put_roster(&app, &w.other_contractor.key, C2_PROJECT, json!([typo])).await;
    let owner = put_roster(&app, &w.contractor.key, &w.code, json!([worker_row(61)])).await;
    assert_eq!(
        owner["rows"][0]["errors"][0]["code"], "CARD_BELONGS_TO_ANOTHER_WORKER",
        "{owner}"
    );
    // C2 corrects it; the card is released and its owner may use it.
    put_roster(
        &app,
        &w.other_contractor.key,
        C2_PROJECT,
        json!([worker_row(60)]),
    )
    .await;
    let owner = put_roster(&app, &w.contractor.key, &w.code, json!([worker_row(61)])).await;
    assert_eq!(owner["rows"][0]["outcome"], "created", "{owner}");
}
