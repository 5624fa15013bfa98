//! The registry through the API: organisations, projects, dedicated accounts,
//! roster and attendance, with the access rules and the bad input the issue lists.

mod common;

use common::fixtures::{self, card, resident_id, uscc, worker_row, world, World, PROJECT_NAME};
use common::{TestApp, TEST_BODY_LIMIT};
use serde_json::{json, Value};

fn path(w: &World, rest: &str) -> String {
    format!("/v1/projects/{}{rest}", w.code)
}

async fn put_roster(app: &TestApp, key: &str, w: &World, rows: Value) -> Value {
    let r = app
        .send_json(
            "PUT",
            key,
            &path(w, "/workers"),
            &json!({ "workers": rows }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

// ---- organisations and keys ----

#[actix_web::test]
async fn admin_creates_an_organization_and_others_may_not() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = json!({ "kind": "subcontractor", "name": "新劳务有限公司", "uscc": uscc(50) });
    let r = app
        .send_json("POST", &w.admin.key, "/v1/organizations", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["kind"], "subcontractor");

    let r = app
        .send_json("POST", &w.admin.key, "/v1/organizations", &body)
        .await;
    r.problem(409, "ORGANIZATION_EXISTS");

    let body = json!({ "kind": "owner", "name": "x", "uscc": uscc(51) });
    app.send_json("POST", &w.contractor.key, "/v1/organizations", &body)
        .await
        .problem(403, "FORBIDDEN");
}

#[actix_web::test]
async fn organization_with_wrong_check_character_or_missing_region_is_refused() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut bad = uscc(52);
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let r = app
        .send_json(
            "POST",
            &w.admin.key,
            "/v1/organizations",
            &json!({ "kind": "owner", "name": "x", "uscc": bad }),
        )
        .await;
    let p = r.problem(422, "INVALID_CHECK_CHARACTER");
    assert_eq!(p["field"], "uscc");

    let r = app
        .send_json(
            "POST",
            &w.admin.key,
            "/v1/organizations",
            &json!({ "kind": "regulator", "name": "x", "uscc": uscc(53) }),
        )
        .await;
    assert_eq!(r.problem(422, "MISSING_FIELD")["field"], "region_code");

    let r = app
        .send_json(
            "POST",
            &w.admin.key,
            "/v1/organizations",
            &json!({ "kind": "regulator", "name": "x", "uscc": uscc(53), "region_code": "999999" }),
        )
        .await;
    r.problem(422, "UNKNOWN_REGION");

    let r = app
        .send_json(
            "POST",
            &w.admin.key,
            "/v1/organizations",
            &json!({ "kind": "king", "name": "x", "uscc": uscc(54) }),
        )
        .await;
    assert_eq!(r.problem(422, "INVALID_FIELD")["field"], "kind");
}

#[actix_web::test]
async fn requests_without_a_valid_key_are_refused() {
    let app = TestApp::new().await;
    let r = app
        .request(actix_web::test::TestRequest::get().uri("/v1/projects/X"))
        .await;
    r.problem(401, "UNAUTHORIZED");
    app.get("wb_not_a_key", "/v1/projects/X")
        .await
        .problem(401, "UNAUTHORIZED");
}

// ---- projects ----

#[actix_web::test]
async fn contractor_registers_a_project_and_reads_it_back() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app.get(&w.contractor.key, &path(&w, "")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let p = r.json();
    assert_eq!(p["code"], "WH-2026-001");
    assert_eq!(p["name"], PROJECT_NAME);
    assert_eq!(p["region"]["name"], "洪山区");
    assert_eq!(p["contract_amount"], "12000000.00");
    assert_eq!(p["labour_cost_share_percent"], "25.00");
    assert_eq!(p["owner"]["uscc"], w.owner.uscc);
    assert_eq!(p["contractor"]["uscc"], w.contractor.uscc);
    assert_eq!(p["subcontractors"][0]["uscc"], w.sub.uscc);
    assert_eq!(p["wage_account"], Value::Null);
}

#[actix_web::test]
async fn project_without_minimum_wage_takes_the_province_figure() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut body = fixtures::project_body("BJ-1", &w.owner.uscc);
    body["region_code"] = json!("110105");
    body.as_object_mut().unwrap().remove("minimum_monthly_wage");
    body["contract_signed_on"] = json!("2026-01-10");
    let r = app
        .send_json("POST", &w.contractor.key, "/v1/projects", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["minimum_monthly_wage"], "2540.00");
}

#[actix_web::test]
async fn project_code_is_unique() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            &fixtures::project_body(&w.code, &w.owner.uscc),
        )
        .await;
    assert_eq!(r.problem(409, "PROJECT_CODE_TAKEN")["field"], "code");
}

#[actix_web::test]
async fn project_with_bad_fields_is_refused_with_the_field_named() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("contract_amount", json!("-5.00"), "NOT_POSITIVE"),
        ("contract_amount", json!("100.005"), "TOO_MANY_DECIMALS"),
        ("contract_amount", json!(100.005), "TOO_MANY_DECIMALS"),
        ("contract_amount", json!("lots"), "INVALID_FORMAT"),
        ("contract_signed_on", json!("1999-02-30"), "INVALID_DATE"),
        ("region_code", json!("12345"), "INVALID_LENGTH"),
        ("payday", json!(32), "OUT_OF_RANGE"),
        ("planned_end_on", json!("2026-01-01"), "END_BEFORE_START"),
        (
            "owner_uscc",
            json!(w.contractor.uscc),
            "WRONG_ORGANIZATION_KIND",
        ),
        ("owner_uscc", json!(uscc(99)), "UNKNOWN_ORGANIZATION"),
    ];
    for (field, value, code) in cases {
        let mut body = fixtures::project_body("P-BAD", &w.owner.uscc);
        body[field] = value.clone();
        let r = app
            .send_json("POST", &w.contractor.key, "/v1/projects", &body)
            .await;
        assert!(r.status == 422, "{field}={value}: {}", r.text());
        let p = r.json();
        assert_eq!(p["code"], code, "{field}={value}: {p}");
        assert_eq!(p["field"], field, "{field}={value}: {p}");
    }
    // Nothing was stored by any of them.
    app.get(&w.contractor.key, "/v1/projects/P-BAD")
        .await
        .problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn malformed_json_unknown_fields_and_wrong_content_type_are_4xx_problems() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .send(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            "application/json",
            "{\"code\": ",
        )
        .await;
    r.problem(400, "MALFORMED_JSON");

    let mut body = fixtures::project_body("P-X", &w.owner.uscc);
    body["colour"] = json!("blue");
    let r = app
        .send_json("POST", &w.contractor.key, "/v1/projects", &body)
        .await;
    assert_eq!(r.problem(422, "UNKNOWN_FIELD")["field"], "colour");

    let mut body = fixtures::project_body("P-X", &w.owner.uscc);
    body.as_object_mut().unwrap().remove("name");
    let r = app
        .send_json("POST", &w.contractor.key, "/v1/projects", &body)
        .await;
    assert_eq!(r.problem(422, "MISSING_FIELD")["field"], "name");

    let r = app
        .send(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            "text/plain",
            "hello",
        )
        .await;
    r.problem(415, "UNSUPPORTED_MEDIA_TYPE");
}

#[actix_web::test]
async fn oversized_body_is_refused_with_413() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let big = format!(
        "{{\"workers\": [\"{}\"]}}",
        "x".repeat(TEST_BODY_LIMIT + 10)
    );
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "application/json",
            big,
        )
        .await;
    r.problem(413, "BODY_TOO_LARGE");
}

#[actix_web::test]
async fn only_contractors_and_admins_register_projects() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for key in [&w.owner.key, &w.sub.key, &w.regulator.key] {
        let r = app
            .send_json(
                "POST",
                key,
                "/v1/projects",
                &fixtures::project_body("P-2", &w.owner.uscc),
            )
            .await;
        r.problem(403, "FORBIDDEN");
    }
    // A contractor cannot register a project in another contractor's name.
    let mut body = fixtures::project_body("P-2", &w.owner.uscc);
    body["contractor_uscc"] = json!(w.other_contractor.uscc);
    app.send_json("POST", &w.contractor.key, "/v1/projects", &body)
        .await
        .problem(403, "FORBIDDEN");
    // An admin names the contractor.
    let r = app
        .send_json("POST", &w.admin.key, "/v1/projects", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["contractor"]["uscc"], w.other_contractor.uscc);
}

#[actix_web::test]
async fn who_can_read_a_project() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    for (who, key) in [
        ("contractor", &w.contractor.key),
        ("owner", &w.owner.key),
        ("attached subcontractor", &w.sub.key),
        ("regulator of the province", &w.regulator.key),
        ("admin", &w.admin.key),
    ] {
        assert_eq!(app.get(key, &path(&w, "")).await.status, 200, "{who}");
    }
    for (who, key) in [
        ("another contractor", &w.other_contractor.key),
        ("an unattached subcontractor", &w.other_sub.key),
        ("a regulator of another region", &w.other_regulator.key),
    ] {
        let r = app.get(key, &path(&w, "")).await;
        let p = r.problem(404, "NOT_FOUND");
        assert!(
            !p.to_string().contains(PROJECT_NAME),
            "{who} learned the project's name"
        );
        // The same answer as for a project that does not exist.
        assert_eq!(
            app.get(key, "/v1/projects/NOPE").await.json()["detail"],
            p["detail"],
            "{who}"
        );
    }
}

// ---- dedicated wage account ----

fn account_body(name: &str, opened_on: &str) -> Value {
    json!({ "bank_code": "102", "account_number": "3202000119200012345", "account_name": name, "opened_on": opened_on })
}

#[actix_web::test]
async fn wage_account_is_registered_with_warnings_for_name_and_late_opening() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let proper = format!("{}{}农民工工资专用账户", w.contractor.name, PROJECT_NAME);
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &path(&w, "/wage-account"),
            &account_body(&proper, "2026-03-20"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["warnings"], json!([]));

    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &path(&w, "/wage-account"),
            &account_body("工资户", "2026-05-01"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let body = r.json();
    let codes: Vec<String> = body["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes, vec!["ACCOUNT_NAME_FORM", "ACCOUNT_OPENED_LATE"]);
    assert_eq!(
        app.get(&w.owner.key, &path(&w, "")).await.json()["wage_account"]["account_name"],
        "工资户"
    );
}

#[actix_web::test]
async fn one_account_per_project_and_one_project_per_account() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &path(&w, "/wage-account"),
            &account_body("a", "2026-03-20"),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            &fixtures::project_body("WH-2", &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            "/v1/projects/WH-2/wage-account",
            &account_body("b", "2026-03-20"),
        )
        .await;
    assert_eq!(r.problem(409, "ACCOUNT_IN_USE")["field"], "account_number");
}

#[actix_web::test]
async fn only_the_projects_contractor_registers_its_account() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = account_body("a", "2026-03-20");
    for key in [&w.owner.key, &w.sub.key, &w.regulator.key] {
        app.send_json("PUT", key, &path(&w, "/wage-account"), &body)
            .await
            .problem(403, "FORBIDDEN");
    }
    for key in [
        &w.other_contractor.key,
        &w.other_sub.key,
        &w.other_regulator.key,
    ] {
        app.send_json("PUT", key, &path(&w, "/wage-account"), &body)
            .await
            .problem(404, "NOT_FOUND");
    }
    assert_eq!(
        app.get(&w.contractor.key, &path(&w, "")).await.json()["wage_account"],
        Value::Null
    );
}

// ---- roster ----

#[actix_web::test]
async fn roster_rows_are_accepted_or_rejected_one_by_one() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let mut bad_check = worker_row(2);
    let id = bad_check["id_number"].as_str().unwrap().to_owned();
    let wrong = if id.ends_with('0') { '1' } else { '0' };
    bad_check["id_number"] = json!(format!("{}{}", &id[..17], wrong));
    let mut feb30 = worker_row(3);
    feb30["id_number"] = json!("420111199902300012");
    let mut bad_card = worker_row(4);
    bad_card["card_number"] = json!("6222020000000000001");
    let mut unknown = worker_row(5);
    unknown["shoe_size"] = json!(42);
    let mut exit_early = worker_row(6);
    exit_early["exited_on"] = json!("2026-03-01");
    let duplicate = worker_row(1);

    let report = put_roster(
        &app,
        &w.contractor.key,
        &w,
        json!([
            worker_row(1),
            bad_check,
            feb30,
            bad_card,
            unknown,
            exit_early,
            duplicate
        ]),
    )
    .await;
    assert_eq!(report["total"], 7);
    assert_eq!(report["accepted"], 1);
    let rows = report["rows"].as_array().unwrap();
    let code = |i: usize| rows[i]["errors"][0]["code"].as_str().unwrap().to_owned();
    let field = |i: usize| rows[i]["errors"][0]["field"].as_str().unwrap().to_owned();
    assert_eq!(rows[0]["status"], "accepted");
    assert_eq!(rows[0]["outcome"], "created");
    assert_eq!(
        (code(1), field(1)),
        ("INVALID_CHECK_CHARACTER".into(), "id_number".into())
    );
    assert_eq!(
        (code(2), field(2)),
        ("INVALID_BIRTH_DATE".into(), "id_number".into())
    );
    assert_eq!(
        (code(3), field(3)),
        ("INVALID_CHECK_CHARACTER".into(), "card_number".into())
    );
    assert_eq!(
        (code(4), field(4)),
        ("UNKNOWN_FIELD".into(), "shoe_size".into())
    );
    assert_eq!(
        (code(5), field(5)),
        ("EXIT_BEFORE_ENTRY".into(), "exited_on".into())
    );
    assert_eq!(
        (code(6), field(6)),
        ("DUPLICATE_ROW".into(), "id_number".into())
    );
    // ID numbers come back masked.
    let masked = rows[0]["id_number"].as_str().unwrap();
    assert_eq!(masked.len(), 18);
    assert!(masked.contains("**********"));

    let list = app
        .get(&w.contractor.key, &path(&w, "/workers"))
        .await
        .json();
    assert_eq!(list["workers"].as_array().unwrap().len(), 1);
    assert!(list["workers"][0]["card_number"]
        .as_str()
        .unwrap()
        .contains("****"));
}

#[actix_web::test]
async fn roster_upsert_by_id_number_updates_and_reports_unchanged() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    put_roster(&app, &w.contractor.key, &w, json!([worker_row(1)])).await;
    let again = put_roster(&app, &w.contractor.key, &w, json!([worker_row(1)])).await;
    assert_eq!(again["rows"][0]["outcome"], "unchanged");
    let mut changed = worker_row(1);
    changed["exited_on"] = json!("2026-10-31");
    let r = put_roster(&app, &w.contractor.key, &w, json!([changed])).await;
    assert_eq!(r["rows"][0]["outcome"], "updated");
    let list = app
        .get(&w.contractor.key, &path(&w, "/workers"))
        .await
        .json();
    assert_eq!(list["workers"][0]["exited_on"], "2026-10-31");
}

#[actix_web::test]
async fn a_bank_card_belongs_to_one_person() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    put_roster(&app, &w.contractor.key, &w, json!([worker_row(1)])).await;
    let mut other = worker_row(2);
    other["card_number"] = json!(card(1));
    let r = put_roster(&app, &w.contractor.key, &w, json!([other, worker_row(3)])).await;
    assert_eq!(
        r["rows"][0]["errors"][0]["code"],
        "CARD_BELONGS_TO_ANOTHER_WORKER"
    );
    assert_eq!(
        r["rows"][1]["status"], "accepted",
        "the good row is not lost"
    );
}

#[actix_web::test]
async fn a_worker_may_be_on_several_projects() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            "/v1/projects",
            &fixtures::project_body("WH-2", &w.owner.uscc),
        )
        .await;
    assert_eq!(r.status, 201);
    put_roster(&app, &w.contractor.key, &w, json!([worker_row(1)])).await;
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            "/v1/projects/WH-2/workers",
            &json!({ "workers": [worker_row(1)] }),
        )
        .await;
    assert_eq!(r.json()["rows"][0]["outcome"], "created");
}

#[actix_web::test]
async fn roster_csv_with_chinese_headers_in_utf8_and_gbk() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let csv = format!(
        "序号,姓名,身份证号,手机号,银行卡号,开户行,班组,工种,劳动合同签订日期,进场日期,退场日期\n\
         1,张三,{},13800000001,{},工商银行,钢筋班,钢筋工,2026/3/10,2026/3/15,\n\
         2,李四,{},13800000002,{},建设银行,木工班,木工,2026-03-10,2026-03-16,\n\
         3,王五,11010519491231002Y,13800000003,,,,,2026-03-10,2026-03-16,\n",
        resident_id(11),
        card(11),
        resident_id(12).to_lowercase(),
        card(12)
    );
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            csv.clone(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["rows"][2]["errors"][0]["field"], "id_number");

    let second = csv
        .replace(&resident_id(11), &resident_id(13))
        .replace(&card(11), &card(13));
    let (gbk, _, _) = encoding_rs::GBK.encode(&second);
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            gbk.into_owned(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rows"][0]["outcome"], "created");
    let names: Vec<String> = app
        .get(&w.contractor.key, &path(&w, "/workers"))
        .await
        .json()["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.contains(&"张三".to_owned()) && names.contains(&"李四".to_owned()),
        "{names:?}"
    );
}

#[actix_web::test]
async fn roster_csv_with_unknown_columns_lists_them_and_without_id_numbers_is_a_problem() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // A column the roster does not know is ignored and named, not refused.
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            "姓名,身份证号,鞋码\n",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["ignored_columns"], json!(["鞋码"]));
    assert_eq!(report["total"], 0);
    // Without the ID number no row can be read: the file is refused.
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            "姓名,进场日期,劳动合同签订日期\n",
        )
        .await;
    assert_eq!(r.problem(400, "MISSING_COLUMN")["field"], "id_number");
}

#[actix_web::test]
async fn roster_csv_as_a_clerk_exports_it_is_taken_with_the_extra_columns_ignored() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let csv = format!(
        "序号,姓名,性别,民族,身份证号,银行卡号,劳动合同签订日期,进场日期,备注\n\
         1,张三,男,汉族,{},{},2026-03-10,2026-03-15,班组长\n\
         2,李四,男,土家族,{},{},2026-03-10,2026-03-16,\n",
        resident_id(21),
        card(21),
        resident_id(22),
        card(22)
    );
    let r = app
        .send(
            "PUT",
            &w.contractor.key,
            &path(&w, "/workers"),
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(
        report["ignored_columns"],
        json!(["序号", "性别", "民族", "备注"]),
        "{report}"
    );
    assert_eq!(
        (report["accepted"].clone(), report["rejected"].clone()),
        (json!(2), json!(0)),
        "{report}"
    );
    assert_eq!(report["rows"][0]["name"], "张三");
    let list = app
        .get(&w.contractor.key, &path(&w, "/workers"))
        .await
        .json();
    let names: Vec<&str> = list["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"张三") && names.contains(&"李四"),
        "{names:?}"
    );
    // Nothing from the ignored columns was stored or repeated.
    assert!(!list.to_string().contains("土家族"));
}

/// A roster workbook as rust_xlsxwriter writes it: a header row, the rows,
/// and optionally one cell at the last cell of a sheet (XFD1048576).
fn roster_xlsx(rows: &[Value], far_cell: bool) -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let header = ["序号", "姓名", "身份证号", "劳动合同签订日期", "进场日期"];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_number(r, 0, f64::from(r)).unwrap();
        for (c, key) in ["name", "id_number", "contract_signed_on", "entered_on"]
            .iter()
            .enumerate()
        {
            sheet
                .write_string(r, c as u16 + 1, row[key].as_str().unwrap())
                .unwrap();
        }
    }
    if far_cell {
        sheet.write_string(1_048_575, 16_383, "x").unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

#[actix_web::test]
async fn roster_xlsx_is_read_and_a_far_cell_is_refused_by_the_row_limit() {
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    let app = TestApp::new().await;
    let w = world(&app).await;
    let far = roster_xlsx(&[worker_row(31)], true);
    let r = app
        .send("PUT", &w.contractor.key, &path(&w, "/workers"), XLSX, far)
        .await;
    let problem = r.problem(422, "UPLOAD_TOO_MANY_ROWS");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("max_rows"), "{detail}");
    assert!(detail.contains("1048576"), "{detail}");

    // The service keeps answering, and nothing of the refused file was stored.
    let list = app.get(&w.contractor.key, &path(&w, "/workers")).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["workers"], json!([]));
    let good = roster_xlsx(&[worker_row(31), worker_row(32)], false);
    let r = app
        .send("PUT", &w.contractor.key, &path(&w, "/workers"), XLSX, good)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["accepted"], 2, "{report}");
    assert_eq!(report["ignored_columns"], json!(["序号"]));
}

/// A valid resident ID number of someone born on `birth` (YYYYMMDD) in 420111.
fn resident_id_born(birth: &str) -> String {
    let body = format!("420111{birth}001");
    let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .bytes()
        .zip(weights)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    format!("{body}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

#[actix_web::test]
async fn id_numbers_are_checked_against_the_business_clock_s_today() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    // Born five days after the business clock's today (2026-11-20), whatever the machine's date.
    let mut newborn = worker_row(41);
    newborn["id_number"] = json!(resident_id_born("20261125"));
    let r = put_roster(&app, &w.contractor.key, &w, json!([newborn.clone()])).await;
    assert_eq!(
        r["rows"][0]["errors"][0]["code"], "INVALID_BIRTH_DATE",
        "{r}"
    );

    let moved = set_clock(&app, &w.admin.key, "2026-11-26T09:00:00+08:00").await;
    assert_eq!(moved.status, 200, "{}", moved.text());
    let r = put_roster(&app, &w.contractor.key, &w, json!([newborn])).await;
    assert_eq!(r["rows"][0]["status"], "accepted", "{r}");
}

#[actix_web::test]
async fn subcontractor_writes_only_its_own_workers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    put_roster(&app, &w.contractor.key, &w, json!([worker_row(1)])).await;
    let mut someone_elses = worker_row(2);
    someone_elses["employer_uscc"] = json!(w.contractor.uscc);
    let mut contractors_worker = worker_row(1);
    contractors_worker["team"] = json!("抢来的");
    let r = put_roster(
        &app,
        &w.sub.key,
        &w,
        json!([worker_row(3), someone_elses, contractors_worker]),
    )
    .await;
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows[0]["status"], "accepted");
    assert_eq!(rows[1]["errors"][0]["code"], "EMPLOYER_NOT_ON_PROJECT");
    assert_eq!(rows[2]["errors"][0]["code"], "EMPLOYED_BY_ANOTHER");

    let mine = app.get(&w.sub.key, &path(&w, "/workers")).await.json();
    assert_eq!(
        mine["workers"].as_array().unwrap().len(),
        1,
        "a subcontractor sees only its own workers"
    );
    assert_eq!(mine["workers"][0]["employer_uscc"], w.sub.uscc);
    let all = app
        .get(&w.contractor.key, &path(&w, "/workers"))
        .await
        .json();
    assert_eq!(all["workers"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn roster_is_closed_to_outsiders_and_read_only_for_readers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = json!({ "workers": [worker_row(1)] });
    for key in [
        &w.other_contractor.key,
        &w.other_sub.key,
        &w.other_regulator.key,
    ] {
        app.send_json("PUT", key, &path(&w, "/workers"), &body)
            .await
            .problem(404, "NOT_FOUND");
        app.get(key, &path(&w, "/workers"))
            .await
            .problem(404, "NOT_FOUND");
    }
    for key in [&w.owner.key, &w.regulator.key] {
        app.send_json("PUT", key, &path(&w, "/workers"), &body)
            .await
            .problem(403, "FORBIDDEN");
        assert_eq!(app.get(key, &path(&w, "/workers")).await.status, 200);
    }
}

// ---- attendance ----

async fn roster_of_two(app: &TestApp, w: &World) {
    let mut exited = worker_row(2);
    exited["exited_on"] = json!("2026-04-30");
    put_roster(app, &w.contractor.key, w, json!([worker_row(1), exited])).await;
}

#[actix_web::test]
async fn attendance_rows_are_checked_against_the_roster() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster_of_two(&app, &w).await;
    let records = json!({ "records": [
        { "id_number": resident_id(1), "date": "2026-04-01", "hours": 8, "source": "gate-1" },
        { "id_number": resident_id(9), "date": "2026-04-01", "hours": 8 },
        { "id_number": resident_id(2), "date": "2026-05-02", "hours": 8 },
        { "id_number": resident_id(1), "date": "2026-03-01", "hours": 8 },
        { "id_number": resident_id(1), "date": "2026-04-02", "hours": 25 },
        { "id_number": resident_id(1), "date": "2026-04-01", "hours": 6 },
        { "id_number": resident_id(1), "date": "2099-04-01", "hours": 6 },
    ]});
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &path(&w, "/attendance"),
            &records,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    let codes: Vec<String> = report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["code"].as_str().unwrap_or("ok").to_owned())
        .collect();
    assert_eq!(
        codes,
        [
            "ok",
            "NOT_ON_ROSTER",
            "OUTSIDE_EMPLOYMENT",
            "OUTSIDE_EMPLOYMENT",
            "OUT_OF_RANGE",
            "DUPLICATE_ROW",
            "DATE_IN_FUTURE"
        ]
    );
}

#[actix_web::test]
async fn attendance_is_idempotent_and_the_latest_record_wins_with_history_kept() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster_of_two(&app, &w).await;
    let day = |hours: f64| json!({ "records": [{ "id_number": resident_id(1), "date": "2026-04-01", "hours": hours, "source": "gate-1" }] });
    let outcome = |r: common::Reply| r.json()["rows"][0]["outcome"].as_str().unwrap().to_owned();
    assert_eq!(
        outcome(
            app.send_json(
                "POST",
                &w.contractor.key,
                &path(&w, "/attendance"),
                &day(8.0)
            )
            .await
        ),
        "created"
    );
    assert_eq!(
        outcome(
            app.send_json(
                "POST",
                &w.contractor.key,
                &path(&w, "/attendance"),
                &day(8.0)
            )
            .await
        ),
        "unchanged"
    );
    assert_eq!(
        outcome(
            app.send_json(
                "POST",
                &w.contractor.key,
                &path(&w, "/attendance"),
                &day(9.5)
            )
            .await
        ),
        "replaced"
    );

    let mut conn = app.pool.get().unwrap();
    let project = wagebridge::db::projects::find_by_code(&mut conn, &w.code)
        .unwrap()
        .unwrap();
    let worker_id = {
        use diesel::prelude::*;
        use wagebridge::db::schema::workers;
        workers::table
            .filter(workers::id_number.eq(resident_id(1)))
            .select(workers::id)
            .first::<i64>(&mut conn)
            .unwrap()
    };
    let day = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
    let history =
        wagebridge::db::attendance::history(&mut conn, project.id, worker_id, day).unwrap();
    assert_eq!(history.len(), 2);
    assert!(history[0].superseded_at.is_some());
    assert_eq!(history[0].hours.to_string(), "8.00");
    assert!(history[1].superseded_at.is_none());
    assert_eq!(history[1].hours.to_string(), "9.50");
}

#[actix_web::test]
async fn attendance_csv_and_subcontractor_scope() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster_of_two(&app, &w).await;
    put_roster(&app, &w.sub.key, &w, json!([worker_row(3)])).await;
    let csv = format!(
        "身份证号,日期,工时,来源\n{},2026-04-01,8,gate-2\n{},2026-04-01,8,gate-2\n",
        resident_id(3),
        resident_id(1)
    );
    let r = app
        .send(
            "POST",
            &w.sub.key,
            &path(&w, "/attendance"),
            "text/csv; charset=utf-8",
            csv,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["rows"][0]["status"], "accepted");
    assert_eq!(
        report["rows"][1]["errors"][0]["code"],
        "EMPLOYED_BY_ANOTHER"
    );
    for key in [&w.owner.key, &w.regulator.key] {
        app.send(
            "POST",
            key,
            &path(&w, "/attendance"),
            "text/csv",
            "身份证号,日期,工时\n",
        )
        .await
        .problem(403, "FORBIDDEN");
    }
    for key in [
        &w.other_contractor.key,
        &w.other_sub.key,
        &w.other_regulator.key,
    ] {
        app.send(
            "POST",
            key,
            &path(&w, "/attendance"),
            "text/csv",
            "身份证号,日期,工时\n",
        )
        .await
        .problem(404, "NOT_FOUND");
    }
}

#[actix_web::test]
async fn attendance_csv_from_a_gate_device_is_taken_with_its_own_headers() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    roster_of_two(&app, &w).await;
    let csv = format!(
        "序号,姓名,公民身份号码,考勤日期,工作时长,设备编号,打卡方式\n\
         1,工人1,{},2026-04-01,8,gate-7,人脸\n",
        resident_id(1)
    );
    let r = app
        .send(
            "POST",
            &w.contractor.key,
            &path(&w, "/attendance"),
            "text/csv",
            csv,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(report["ignored_columns"], json!(["序号", "打卡方式"]));
    assert_eq!(report["rows"][0]["outcome"], "created", "{report}");
    assert_eq!(report["rows"][0]["name"], "工人1");
}

// ---- conventions ----

#[actix_web::test]
async fn health_openapi_and_docs_are_served() {
    let app = TestApp::new().await;
    assert_eq!(
        app.request(actix_web::test::TestRequest::get().uri("/healthz"))
            .await
            .status,
        200
    );
    let ready = app
        .request(actix_web::test::TestRequest::get().uri("/readyz"))
        .await;
    assert_eq!(ready.json()["database"], "ok");
    let spec = app
        .request(actix_web::test::TestRequest::get().uri("/openapi.json"))
        .await
        .json();
    for p in [
        "/v1/projects",
        "/v1/projects/{code}/wage-account",
        "/v1/projects/{code}/workers",
        "/v1/projects/{code}/attendance",
        "/v1/organizations",
    ] {
        assert!(
            spec["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }
    let docs = app
        .request(actix_web::test::TestRequest::get().uri("/docs"))
        .await;
    assert!(docs.text().contains("/openapi.json"));
    app.request(actix_web::test::TestRequest::get().uri("/v2/nothing"))
        .await
        .problem(404, "NO_SUCH_ROUTE");
}

#[actix_web::test]
async fn only_the_projects_contractor_attaches_subcontractors() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let body = json!({ "uscc": w.other_sub.uscc });
    for key in [&w.owner.key, &w.sub.key, &w.regulator.key] {
        app.send_json("POST", key, &path(&w, "/subcontractors"), &body)
            .await
            .problem(403, "FORBIDDEN");
    }
    for key in [
        &w.other_contractor.key,
        &w.other_sub.key,
        &w.other_regulator.key,
    ] {
        app.send_json("POST", key, &path(&w, "/subcontractors"), &body)
            .await
            .problem(404, "NOT_FOUND");
    }
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &path(&w, "/subcontractors"),
            &json!({ "uscc": w.owner.uscc }),
        )
        .await;
    r.problem(422, "WRONG_ORGANIZATION_KIND");
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &path(&w, "/subcontractors"),
            &body,
        )
        .await;
    assert_eq!(r.json()["subcontractors"].as_array().unwrap().len(), 2);
    // The newly attached subcontractor now sees the project.
    assert_eq!(app.get(&w.other_sub.key, &path(&w, "")).await.status, 200);
}

// ---- the business clock ----

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    let text = v.as_str().unwrap_or_else(|| panic!("not a time: {v}"));
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&chrono::Utc)
}

async fn set_clock(app: &TestApp, key: &str, now: &str) -> common::Reply {
    app.send_json("PUT", key, "/v1/admin/clock", &json!({ "now": now }))
        .await
}

#[actix_web::test]
async fn an_admin_moves_the_simulated_clock_forward_and_never_back() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app.get(&w.admin.key, "/v1/admin/clock").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let clock = r.json();
    assert_eq!(instant(&clock["now"]), instant(&json!(common::TEST_NOW)));
    assert_eq!(clock["today"], "2026-11-20");
    assert_eq!(clock["simulated"], true);

    let r = set_clock(&app, &w.admin.key, "2026-11-30T23:30:00+08:00").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = app.get(&w.admin.key, "/v1/admin/clock").await;
    assert_eq!(
        instant(&r.json()["now"]),
        instant(&json!("2026-11-30T15:30:00Z"))
    );
    assert_eq!(r.json()["today"], "2026-11-30");

    let back = set_clock(&app, &w.admin.key, "2026-11-30T23:29:59+08:00").await;
    assert_eq!(back.problem(409, "CLOCK_BACKWARDS")["field"], "now");
    let r = app.get(&w.admin.key, "/v1/admin/clock").await;
    assert_eq!(r.json()["today"], "2026-11-30");

    set_clock(&app, &w.contractor.key, "2026-12-31T10:00:00+08:00")
        .await
        .problem(403, "FORBIDDEN");
    app.get(&w.regulator.key, "/v1/admin/clock")
        .await
        .problem(403, "FORBIDDEN");
}

#[actix_web::test]
async fn the_real_clock_cannot_be_read_or_set_through_the_api() {
    let app = TestApp::with_clock(wagebridge::clock::Clock::real()).await;
    let w = world(&app).await;
    set_clock(&app, &w.admin.key, "2099-01-01T10:00:00+08:00")
        .await
        .problem(403, "CLOCK_NOT_SIMULATED");
    app.get(&w.admin.key, "/v1/admin/clock")
        .await
        .problem(403, "CLOCK_NOT_SIMULATED");
}

#[actix_web::test]
async fn recorded_times_are_the_business_clock_s() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let r = app.get(&w.contractor.key, &path(&w, "")).await;
    assert_eq!(
        instant(&r.json()["created_at"]),
        instant(&json!(common::TEST_NOW))
    );

    let later = "2026-11-25T09:30:00+08:00";
    assert_eq!(set_clock(&app, &w.admin.key, later).await.status, 200);
    let body = json!({ "kind": "subcontractor", "name": "新劳务有限公司", "uscc": uscc(50) });
    let r = app
        .send_json("POST", &w.admin.key, "/v1/organizations", &body)
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(instant(&r.json()["created_at"]), instant(&json!(later)));

    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &path(&w, "/wage-account"),
            &account_body("whatever", "2026-03-05"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        instant(&r.json()["wage_account"]["updated_at"]),
        instant(&json!(later))
    );
}
