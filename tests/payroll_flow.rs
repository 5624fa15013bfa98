//! After submission: workers confirm or dispute their line with their token,
//! the general contractor approves, and everyone reads the result, the
//! exports and the pay slips.

mod common;
mod payroll_common;

use std::io::Cursor;

use calamine::{Data, Reader};
use common::fixtures::resident_id;
use common::TestApp;
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::json;

#[actix_web::test]
async fn a_worker_confirms_once_with_his_token_and_needs_no_key() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2), line(STRANGER)]),
    )
    .await;
    let id_rejected = line_id(&app, &answer, 2);
    assert!(
        deliver(&app)
            .await
            .iter()
            .all(|m| m["line_id"] != id_rejected),
        "a rejected line gets no token"
    );

    let r = confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "channel": "wechat" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    assert_eq!(c["confirmation"]["state"], "confirmed");
    assert_eq!(c["confirmation"]["channel"], "wechat");
    assert!(c["confirmation"]["at"].is_string());
    assert_eq!(
        (c["project"].clone(), c["period"].clone(), c["line"].clone()),
        (json!(w.code), json!(PERIOD), json!(1))
    );

    // Once only, whatever the second answer says.
    confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await
    .problem(409, "ALREADY_ANSWERED");
    confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "action": "dispute", "channel": "sms", "reason": "x" }),
    )
    .await
    .problem(409, "ALREADY_ANSWERED");

    // Unknown or malformed tokens are simply not found.
    confirm(
        &app,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        &json!({ "channel": "sms" }),
    )
    .await
    .problem(404, "NOT_FOUND");
    confirm(&app, "short", &json!({ "channel": "sms" }))
        .await
        .problem(404, "NOT_FOUND");

    // A dispute needs a reason; the channel must be one we know.
    let t2 = token(&app, &answer, 1).await;
    let r = confirm(&app, &t2, &json!({ "action": "dispute", "channel": "sms" })).await;
    assert_eq!(r.problem(422, "MISSING_FIELD")["field"], "reason");
    let r = confirm(&app, &t2, &json!({ "channel": "pigeon" })).await;
    assert_eq!(r.problem(422, "INVALID_FIELD")["field"], "channel");
    let r = confirm(
        &app,
        &t2,
        &json!({ "action": "dispute", "channel": "sms", "reason": "少算了3天加班" }),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["confirmation"]["state"], "disputed");

    // The payroll shows each line's confirmation state.
    let view = read(&app, &w.contractor.key, &w, "").await.json();
    let p = &view["payrolls"][0];
    assert_eq!(
        p["confirmations"],
        json!({ "confirmed": 1, "disputed": 1, "pending": 0 })
    );
    let lines = p["lines"].as_array().unwrap();
    assert_eq!(lines[0]["confirmation"]["state"], "confirmed");
    assert_eq!(lines[0]["confirmation"]["channel"], "wechat");
    assert_eq!(lines[1]["confirmation"]["state"], "disputed");
    assert_eq!(lines[1]["confirmation"]["reason"], "少算了3天加班");
    assert_eq!(lines[2]["confirmation"]["state"], "not_applicable");
}

#[actix_web::test]
async fn approval_freezes_confirmed_lines_only_unless_the_project_allows_unconfirmed() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2), line(GOOD_3), line(STRANGER)]),
    )
    .await;
    let own = submitted(
        &app,
        &w.contractor.key,
        &w,
        &payroll(vec![line(CONTRACTORS_OWN)]),
    )
    .await;

    // Nothing confirmed yet: nothing to approve.
    approve(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NOTHING_TO_APPROVE");

    confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await;
    confirm(
        &app,
        &token(&app, &answer, 1).await,
        &json!({ "action": "dispute", "channel": "app", "reason": "wrong days" }),
    )
    .await;
    confirm(
        &app,
        &token(&app, &own, 0).await,
        &json!({ "channel": "kiosk" }),
    )
    .await;

    // Only the general contractor approves.
    approve(&app, &w.sub.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    approve(&app, &w.regulator.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    approve(&app, &w.owner.key, &w)
        .await
        .problem(403, "FORBIDDEN");
    approve(&app, &w.other_contractor.key, &w)
        .await
        .problem(404, "NOT_FOUND");

    let r = approve(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = r.json();
    assert_eq!(a["approved"], 2, "{a:#}");
    assert_eq!(a["amount"], "11000.00");
    assert_eq!(a["allow_unconfirmed"], false);
    let sub_part = a["payrolls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["employer"]["uscc"] == w.sub.uscc)
        .unwrap();
    assert_eq!(
        (
            sub_part["approved"].clone(),
            sub_part["left_unconfirmed"].clone(),
            sub_part["left_disputed"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );

    let view = read(
        &app,
        &w.contractor.key,
        &w,
        &format!("?employer_uscc={}", w.sub.uscc),
    )
    .await
    .json();
    let p = &view["payrolls"][0];
    assert_eq!(p["status"], "partly_approved");
    assert_eq!(
        p["approved"],
        json!({ "lines": 1, "unconfirmed": 0, "amount": "5500.00" })
    );
    assert_eq!(p["approvals"].as_array().unwrap().len(), 1);
    assert_eq!(p["approvals"][0]["approved_by"]["uscc"], w.contractor.uscc);
    let states: Vec<(&str, &str)> = p["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["approval"]["state"].as_str().unwrap(),
                l["payment_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("approved", "awaiting_disbursement"),
            ("not_approved", "awaiting_approval"),
            ("not_approved", "awaiting_approval"),
            ("not_approved", "not_payable"),
        ]
    );

    // Nothing new: 409. A new revision of an approved payroll is refused.
    approve(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NOTHING_TO_APPROVE");
    submit(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)]))
        .await
        .problem(409, "PAYROLL_APPROVED");

    // The project allows unconfirmed lines: the pending one is approved, marked so; the disputed one never.
    let settings = project_path(&w, "/payroll-settings");
    assert_eq!(
        app.get(&w.sub.key, &settings).await.json()["allow_unconfirmed_approval"],
        false
    );
    app.send_json(
        "PUT",
        &w.sub.key,
        &settings,
        &json!({ "allow_unconfirmed_approval": true }),
    )
    .await
    .problem(403, "FORBIDDEN");
    let r = app
        .send_json(
            "PUT",
            &w.contractor.key,
            &settings,
            &json!({ "allow_unconfirmed_approval": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = approve(&app, &w.contractor.key, &w).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = r.json();
    assert_eq!(
        (a["approved"].clone(), a["allow_unconfirmed"].clone()),
        (json!(1), json!(true))
    );
    let view = read(
        &app,
        &w.contractor.key,
        &w,
        &format!("?employer_uscc={}", w.sub.uscc),
    )
    .await
    .json();
    let p = &view["payrolls"][0];
    assert_eq!(
        p["approved"],
        json!({ "lines": 2, "unconfirmed": 1, "amount": "11000.00" })
    );
    assert_eq!(
        p["lines"][2]["approval"],
        json!({ "state": "approved", "unconfirmed": true, "at": p["lines"][2]["approval"]["at"] })
    );
    assert_eq!(p["lines"][1]["approval"]["state"], "not_approved");
    assert_eq!(p["status"], "partly_approved");
    approve(&app, &w.contractor.key, &w)
        .await
        .problem(409, "NOTHING_TO_APPROVE");
}

#[actix_web::test]
async fn approval_can_be_limited_to_one_employer() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let sub = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    let own = submitted(
        &app,
        &w.contractor.key,
        &w,
        &payroll(vec![line(CONTRACTORS_OWN)]),
    )
    .await;
    confirm(
        &app,
        &token(&app, &sub, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await;
    confirm(
        &app,
        &token(&app, &own, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await;
    let path = project_path(&w, &format!("/payrolls/{PERIOD}/approve"));
    let r = app
        .send_json(
            "POST",
            &w.contractor.key,
            &path,
            &json!({ "employer_uscc": w.contractor.uscc }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let a = r.json();
    assert_eq!(a["payrolls"].as_array().unwrap().len(), 1);
    assert_eq!(a["payrolls"][0]["employer"]["uscc"], w.contractor.uscc);
    // The subcontractor's payroll is still open to a new revision.
    let r = submit(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2)]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
    // An approval for a period with no payroll.
    let r = app
        .send(
            "POST",
            &w.contractor.key,
            &project_path(&w, "/payrolls/2026-09/approve"),
            "application/json",
            Vec::new(),
        )
        .await;
    r.problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn exports_open_as_spreadsheets_with_the_right_columns_and_masked_numbers() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let answer = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(STRANGER)]),
    )
    .await;
    confirm(
        &app,
        &token(&app, &answer, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await;

    let r = read(&app, &w.contractor.key, &w, "?format=xlsx").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.content_type,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(r.body.clone())).expect("a workbook");
    let range = book
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("readable");
    let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(header, wagebridge::api::payrolls::EXPORT_HEADER);
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h.contains(name)).unwrap();
    let first = &rows[1];
    assert_eq!(first[col("name")], Data::String("工人1".into()));
    assert_eq!(
        first[col("id_number")].to_string(),
        format!(
            "{}**********{}",
            &resident_id(GOOD)[..4],
            &resident_id(GOOD)[14..]
        )
    );
    assert!(first[col("card_number")].to_string().contains("********"));
    assert_eq!(first[col("net")], Data::Float(5500.0));
    assert_eq!(first[col("days_worked")], Data::Float(22.0));
    assert_eq!(first[col("confirmation")], Data::String("confirmed".into()));
    assert_eq!(
        rows[2][col("match_status")],
        Data::String("rejected".into())
    );
    assert!(rows[2][col("reasons")]
        .to_string()
        .starts_with("NOT_ON_ROSTER: "));

    // CSV, asked for by Accept: UTF-8 with a BOM so Excel shows the Chinese headers.
    let r = app
        .request(
            actix_web::test::TestRequest::get()
                .uri(&project_path(&w, &format!("/payrolls/{PERIOD}")))
                .insert_header(("Authorization", format!("Bearer {}", w.contractor.key)))
                .insert_header(("Accept", "text/csv")),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.content_type.starts_with("text/csv"));
    let text = r.text();
    assert!(text.starts_with('\u{feff}'));
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, wagebridge::api::payrolls::EXPORT_HEADER);
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 2);
    assert_eq!(&records[0][10], "5500.00");
    assert!(!text.contains(&resident_id(GOOD)));

    read(&app, &w.contractor.key, &w, "?format=pdf")
        .await
        .problem(400, "INVALID_FORMAT");
}

#[actix_web::test]
async fn pay_slips_show_the_article_15_fields_to_the_worker_and_his_employer() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut l = line(GOOD);
    l["gross"] = json!(null);
    l["base_pay"] = json!("5200");
    l["overtime_pay"] = json!("800");
    l["deductions"] = json!(null);
    l["social_insurance"] = json!("500");
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![l])).await;
    let t = token(&app, &answer, 0).await;

    // The worker, with his token only.
    let r = app
        .request(actix_web::test::TestRequest::get().uri(&format!("/v1/payslips/{t}")))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let slip = r.json();
    assert_eq!(slip["title"], "工资清单");
    assert_eq!(slip["employer"]["uscc"], w.sub.uscc);
    assert_eq!(slip["period"], PERIOD);
    assert_eq!(slip["pay_date"], "2026-11-15");
    assert_eq!(slip["worker"]["name"], "工人1");
    assert!(slip["worker"]["id_number"]
        .as_str()
        .unwrap()
        .contains("****"));
    assert_eq!(slip["worker"]["phone"], "138****0001");
    assert_eq!(slip["working_time"]["days_worked"], "22.00");
    assert_eq!(slip["working_time"]["hours"], "176.00");
    assert_eq!(slip["gross"], "6000.00");
    assert_eq!(slip["gross_items"][0]["label"], "基本工资");
    assert_eq!(slip["deductions"], "500.00");
    assert_eq!(slip["deduction_items"][0]["amount"], "500.00");
    assert_eq!(slip["net"], "5500.00");
    assert_eq!(slip["confirmation"]["state"], "pending");
    assert_eq!(slip["payment_status"], "awaiting_approval");

    // His employer and the general contractor, by ID number.
    let path = project_path(
        &w,
        &format!("/payrolls/{PERIOD}/payslips/{}", resident_id(GOOD)),
    );
    for key in [&w.sub.key, &w.contractor.key] {
        let r = app.get(key, &path).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["net"], "5500.00");
    }
    app.get(&w.other_contractor.key, &path)
        .await
        .problem(404, "NOT_FOUND");
    let nobody = project_path(
        &w,
        &format!("/payrolls/{PERIOD}/payslips/{}", resident_id(UNPAID)),
    );
    app.get(&w.contractor.key, &nobody)
        .await
        .problem(404, "NOT_FOUND");
    app.request(
        actix_web::test::TestRequest::get()
            .uri("/v1/payslips/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    )
    .await
    .problem(404, "NOT_FOUND");
}
