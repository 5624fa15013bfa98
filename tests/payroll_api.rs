//! Payroll submission through the API: matching line by line with stable
//! reason codes, totals, idempotency, revisions, access rules and bad input.

mod common;
mod payroll_common;

use common::fixtures::{card, resident_id};
use common::TestApp;
use diesel::RunQueryDsl;
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::{json, Value};

// ---- matching ----

#[actix_web::test]
async fn a_payroll_with_planted_errors_comes_back_with_exactly_those_reasons() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;

    let mut lines = vec![line(GOOD)];
    lines.push(line(STRANGER));
    let mut l = line(GOOD_2);
    l["name"] = json!("张三");
    lines.push(l);
    lines.push(line(LEFT_IN_SEPTEMBER));
    lines.push(line(NO_ATTENDANCE));
    lines.push(line(TEN_DAYS));
    let mut l = line(GOOD_3);
    l["card_number"] = json!(card(50));
    lines.push(l);
    lines.push(line(GOOD)); // again
    let mut l = line(GOOD_4);
    l["net"] = json!("5499.00");
    lines.push(l);
    let mut l = line(FIFTEEN_DAYS);
    l["days_worked"] = json!(15);
    l["gross"] = json!("500");
    l["deductions"] = json!("500");
    l["net"] = json!("0");
    lines.push(l);
    let mut l = line(GOOD_11);
    l["gross"] = json!("2000.00");
    l["deductions"] = json!("0");
    l["net"] = json!("2000.00");
    lines.push(l);
    let mut l = line(GOOD_12);
    l["gross"] = json!("60000.00");
    l["deductions"] = json!("0");
    l["net"] = json!("60000.00");
    lines.push(l);
    lines.push(line(CONTRACTORS_OWN));
    let mut l = line(GOOD_5);
    l["gross"] = json!("6000.123");
    lines.push(l);
    let mut l = line(98);
    l["net"] = json!("五千元");
    lines.push(l);

    let answer = submitted(&app, &w.sub.key, &w, &payroll(lines)).await;
    let got: Vec<Vec<String>> = answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(codes)
        .collect();
    let expected: Vec<Vec<&str>> = vec![
        vec![],
        vec!["NOT_ON_ROSTER"],
        vec!["NAME_MISMATCH"],
        vec!["NOT_EMPLOYED_IN_PERIOD"],
        vec!["NO_ATTENDANCE"],
        vec!["DAYS_EXCEED_ATTENDANCE"],
        vec!["CARD_NOT_WORKERS"],
        vec!["DUPLICATE_LINE"],
        vec!["NET_MISMATCH"],
        vec!["NON_POSITIVE_NET"],
        vec!["BELOW_MINIMUM_WAGE"],
        vec!["UNUSUAL_AMOUNT"],
        vec!["EMPLOYED_BY_ANOTHER"],
        vec!["TOO_MANY_DECIMALS"],
        vec!["INVALID_FORMAT"],
    ];
    assert_eq!(got, expected, "{answer:#}");

    let statuses: Vec<&str> = answer["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["status"].as_str().unwrap())
        .collect();
    let accepted_at = [0usize, 10, 11];
    for (i, s) in statuses.iter().enumerate() {
        let want = if accepted_at.contains(&i) {
            "accepted"
        } else {
            "rejected"
        };
        assert_eq!(*s, want, "line {}", i + 1);
        // The token goes to the worker's phone, never into this answer.
        assert!(answer["lines"][i].get("confirmation_token").is_none());
    }
    // Warnings are warnings; errors are errors.
    assert_eq!(answer["lines"][10]["reasons"][0]["severity"], "warning");
    assert_eq!(answer["lines"][2]["reasons"][0]["severity"], "error");
    assert_eq!(answer["lines"][13]["reasons"][0]["field"], "gross");

    let unpaid = answer["attended_but_unpaid"].as_array().unwrap();
    assert_eq!(unpaid.len(), 1, "{answer:#}");
    assert_eq!(unpaid[0]["code"], "ATTENDED_BUT_UNPAID");
    assert_eq!(unpaid[0]["name"], format!("工人{UNPAID}"));
    assert_eq!(unpaid[0]["attendance_days"], 22);
    assert!(unpaid[0]["id_number"].as_str().unwrap().contains("**"));

    let t = &answer["totals"];
    assert_eq!(t["lines"], 15);
    assert_eq!(t["accepted"], 3);
    assert_eq!(t["rejected"], 12);
    assert_eq!(t["warnings"], 2);
    assert_eq!(t["attended_but_unpaid"], 1);
    // Every net that could be read: 10 × 5500, and 5499, 0, 2000 and 60000.
    assert_eq!(t["accepted_amount"], "67500.00");
    assert_eq!(t["amount"], "122499.00");
    assert_eq!(answer["revision"], 1);
    // Personal data is masked in the answer.
    assert!(!answer.to_string().contains(&resident_id(GOOD)));
}

#[actix_web::test]
async fn each_reason_code_on_its_own() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let with = |n: u32, changes: Value| {
        let mut l = line(n);
        for (k, v) in changes.as_object().unwrap() {
            l[k] = v.clone();
        }
        l
    };
    let cases: Vec<(&str, Value, &str)> = vec![
        ("NOT_ON_ROSTER", line(STRANGER), "rejected"),
        ("EMPLOYED_BY_ANOTHER", line(CONTRACTORS_OWN), "rejected"),
        (
            "NAME_MISMATCH",
            with(GOOD, json!({ "name": "李四" })),
            "rejected",
        ),
        (
            "NOT_EMPLOYED_IN_PERIOD",
            line(LEFT_IN_SEPTEMBER),
            "rejected",
        ),
        ("NO_ATTENDANCE", line(NO_ATTENDANCE), "rejected"),
        (
            "DAYS_EXCEED_ATTENDANCE",
            with(TEN_DAYS, json!({ "days_worked": "10.5" })),
            "rejected",
        ),
        (
            "CARD_NOT_WORKERS",
            with(GOOD, json!({ "card_number": card(GOOD_2) })),
            "rejected",
        ),
        (
            "NET_MISMATCH",
            with(GOOD, json!({ "net": "5500.01" })),
            "rejected",
        ),
        (
            "NON_POSITIVE_NET",
            with(
                FIFTEEN_DAYS,
                json!({ "days_worked": 15, "gross": "100", "deductions": "200", "net": "-100" }),
            ),
            "rejected",
        ),
        (
            "ITEMS_MISMATCH",
            with(GOOD, json!({ "base_pay": "5000", "bonus": "500" })),
            "rejected",
        ),
        (
            "BELOW_MINIMUM_WAGE",
            with(
                GOOD,
                json!({ "gross": "2209.99", "deductions": "0", "net": "2209.99" }),
            ),
            "accepted",
        ),
        (
            "UNUSUAL_AMOUNT",
            with(
                GOOD,
                json!({ "gross": "50000.01", "deductions": "0", "net": "50000.01" }),
            ),
            "accepted",
        ),
        (
            "TOO_MANY_DECIMALS",
            with(GOOD, json!({ "net": "5500.001" })),
            "rejected",
        ),
        (
            "INVALID_FORMAT",
            with(GOOD, json!({ "deductions": "五百" })),
            "rejected",
        ),
        (
            "INVALID_CHECK_CHARACTER",
            with(GOOD, json!({ "card_number": "6222020000000001" })),
            "rejected",
        ),
        (
            "MISSING_FIELD",
            with(GOOD, json!({ "days_worked": null })),
            "rejected",
        ),
        (
            "UNKNOWN_FIELD",
            with(GOOD, json!({ "tip": "5" })),
            "rejected",
        ),
    ];
    for (code, l, status) in cases {
        let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![l])).await;
        let line = &answer["lines"][0];
        assert_eq!(codes(line), [code], "{line:#}");
        assert_eq!(line["status"], status, "{code}");
    }
    // A duplicate is the second line of the same worker.
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD), line(GOOD)])).await;
    assert_eq!(codes(&answer["lines"][1]), ["DUPLICATE_LINE"]);
    assert!(codes(&answer["lines"][0]).is_empty());
    // ATTENDED_BUT_UNPAID lists everyone of the employer who attended and has no line.
    let unpaid: Vec<&str> = answer["attended_but_unpaid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(unpaid.len(), 10, "{unpaid:?}"); // 2–6 and 8–12 attended; 1 is paid; 7 did not attend
    assert!(
        !unpaid.contains(&"工人20"),
        "the contractor's worker is not the subcontractor's to pay"
    );
}

#[actix_web::test]
async fn itemised_pay_fills_in_gross_and_deductions() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let l = json!({
        "id_number": resident_id(GOOD), "name": "工人1", "card_number": card(GOOD), "days_worked": "21.5",
        "base_pay": "5000", "overtime_pay": "800.50", "allowance": 199.5,
        "social_insurance": "300", "income_tax": "0", "advance": "1000", "net": "4700.00"
    });
    let answer = submitted(&app, &w.sub.key, &w, &payroll(vec![l])).await;
    assert_eq!(answer["lines"][0]["status"], "accepted", "{answer:#}");
    let view = read(&app, &w.contractor.key, &w, "").await.json();
    let line = &view["payrolls"][0]["lines"][0];
    assert_eq!(line["gross"], "6000.00");
    assert_eq!(line["deductions"], "1300.00");
    assert_eq!(line["gross_items"].as_array().unwrap().len(), 3);
    assert_eq!(line["gross_items"][1]["label"], "加班工资");
    assert_eq!(line["deduction_items"][2]["item"], "advance");
}

// ---- idempotency ----

#[actix_web::test]
async fn the_same_idempotency_key_and_body_return_the_first_answer() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD), line(STRANGER)]);
    let first = submit_with_key(&app, &w.sub.key, &w, "key-0001", &body).await;
    assert_eq!(first.status, 201, "{}", first.text());
    let again = submit_with_key(&app, &w.sub.key, &w, "key-0001", &body).await;
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(
        first.json(),
        again.json(),
        "the replay carries the same tokens and revision"
    );

    // Only one revision was stored.
    let view = read(&app, &w.sub.key, &w, "").await.json();
    assert_eq!(view["payrolls"][0]["revisions"], json!([1]));

    // The same key for another body is refused; another key makes a revision.
    let other = payroll(vec![line(GOOD_2)]);
    submit_with_key(&app, &w.sub.key, &w, "key-0001", &other)
        .await
        .problem(422, "IDEMPOTENCY_KEY_REUSED");
    let r = submit_with_key(&app, &w.sub.key, &w, "key-0002", &other).await;
    assert_eq!(r.json()["revision"], 2);

    // Keys are per organisation: the contractor's "key-0001" is its own.
    let r = submit_with_key(
        &app,
        &w.contractor.key,
        &w,
        "key-0001",
        &payroll(vec![line(CONTRACTORS_OWN)]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text());
}

#[actix_web::test]
async fn a_key_still_running_gets_409_and_an_error_answer_is_replayed() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD)]);
    let bytes = serde_json::to_vec(&body).unwrap();
    let path = project_path(&w, "/payrolls");
    // The first request with this key is in flight (claimed, not finished):
    // its connection holds the key's lock until it is dropped.
    let mut holder = app.db.conn();
    {
        let conn = &mut holder;
        let org = wagebridge::db::organizations::find_by_uscc(conn, &w.sub.uscc)
            .unwrap()
            .unwrap();
        let hash = wagebridge::db::idempotency::request_hash(&[
            b"POST",
            path.as_bytes(),
            b"",
            b"application/json",
            &bytes,
        ]);
        let claim =
            wagebridge::db::idempotency::claim(conn, org.id, "in-flight", &hash, app.clock.now())
                .unwrap();
        assert_eq!(claim, wagebridge::db::idempotency::Claim::Fresh);
    }
    submit_with_key(&app, &w.sub.key, &w, "in-flight", &body)
        .await
        .problem(409, "IDEMPOTENCY_KEY_IN_USE");
    drop(holder);

    // A refused request is answered the same way on retry.
    let future = json!({ "period": "2099-01", "lines": [line(GOOD)] });
    submit_with_key(&app, &w.sub.key, &w, "future-1", &future)
        .await
        .problem(422, "PERIOD_IN_FUTURE");
    let again = submit_with_key(&app, &w.sub.key, &w, "future-1", &future).await;
    again.problem(422, "PERIOD_IN_FUTURE");

    submit_with_key(&app, &w.sub.key, &w, "", &body)
        .await
        .problem(400, "INVALID_IDEMPOTENCY_KEY");
}

// ---- revisions and records ----

#[actix_web::test]
async fn a_later_submission_is_a_new_revision_and_the_earlier_one_stays_readable() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let first = submitted(
        &app,
        &w.sub.key,
        &w,
        &payroll(vec![line(GOOD), line(GOOD_2)]),
    )
    .await;
    assert_eq!(first["revision"], 1);
    // The first revision's links go out before it is replaced.
    deliver(&app).await;
    let second = submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    assert_eq!(second["revision"], 2);
    assert_eq!(second["attended_but_unpaid"].as_array().unwrap().len(), 10);

    let current = read(&app, &w.contractor.key, &w, "").await.json();
    let p = &current["payrolls"][0];
    assert_eq!(
        (
            p["revision"].clone(),
            p["current"].clone(),
            p["status"].clone()
        ),
        (json!(2), json!(true), json!("submitted"))
    );
    assert_eq!(p["revisions"], json!([1, 2]));
    assert_eq!(p["lines"].as_array().unwrap().len(), 1);
    assert_eq!(p["submitted_by"]["uscc"], w.sub.uscc);

    let old = read(&app, &w.contractor.key, &w, "?revision=1")
        .await
        .json();
    let p = &old["payrolls"][0];
    assert_eq!(
        (
            p["revision"].clone(),
            p["current"].clone(),
            p["status"].clone()
        ),
        (json!(1), json!(false), json!("superseded"))
    );
    assert_eq!(p["lines"].as_array().unwrap().len(), 2);

    read(&app, &w.contractor.key, &w, "?revision=7")
        .await
        .problem(404, "NOT_FOUND");

    // The token of a superseded line no longer works.
    let r = confirm(
        &app,
        &token(&app, &first, 0).await,
        &json!({ "channel": "sms" }),
    )
    .await;
    r.problem(409, "LINE_SUPERSEDED");
}

#[actix_web::test]
async fn payroll_records_cannot_be_changed_or_deleted() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    submitted(&app, &w.sub.key, &w, &payroll(vec![line(GOOD)])).await;
    let mut conn = app.db.conn();
    for sql in [
        "UPDATE payroll_lines SET net = 1",
        "DELETE FROM payroll_lines",
        "UPDATE payrolls SET revision = 9",
        "DELETE FROM payrolls",
    ] {
        let e = diesel::sql_query(sql).execute(&mut conn).unwrap_err();
        assert!(e.to_string().contains("append-only"), "{sql}: {e}");
    }
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query(
        "SELECT count(*) AS n FROM audit_events WHERE entity = 'payroll' AND action = 'submitted'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(n.n, 1);
}

// ---- access ----

#[actix_web::test]
async fn who_may_submit_and_read_payrolls() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD)]);

    // Outsiders do not learn the project exists.
    submit(&app, &w.other_contractor.key, &w, &body)
        .await
        .problem(404, "NOT_FOUND");
    submit(&app, &w.other_sub.key, &w, &body)
        .await
        .problem(404, "NOT_FOUND");
    submit(&app, &w.other_regulator.key, &w, &body)
        .await
        .problem(404, "NOT_FOUND");
    // Readers may not write.
    submit(&app, &w.regulator.key, &w, &body)
        .await
        .problem(403, "FORBIDDEN");
    submit(&app, &w.owner.key, &w, &body)
        .await
        .problem(403, "FORBIDDEN");
    // A subcontractor submits only its own payroll.
    let mut as_contractor = body.clone();
    as_contractor["employer_uscc"] = json!(w.contractor.uscc);
    submit(&app, &w.sub.key, &w, &as_contractor)
        .await
        .problem(403, "FORBIDDEN");

    let sub_answer = submitted(&app, &w.sub.key, &w, &body).await;
    assert_eq!(sub_answer["employer"]["uscc"], w.sub.uscc);
    // The contractor submits for its own workers (and its sub's worker is not its to pay).
    let own = submitted(
        &app,
        &w.contractor.key,
        &w,
        &payroll(vec![line(CONTRACTORS_OWN), line(GOOD)]),
    )
    .await;
    assert_eq!(own["employer"]["uscc"], w.contractor.uscc);
    assert_eq!(codes(&own["lines"][1]), ["EMPLOYED_BY_ANOTHER"]);
    // ... or on behalf of an attached subcontractor, but not of one that is not attached.
    let mut for_sub = payroll(vec![line(GOOD_2)]);
    for_sub["employer_uscc"] = json!(w.sub.uscc);
    let r = submitted(&app, &w.contractor.key, &w, &for_sub).await;
    assert_eq!(
        (r["employer"]["uscc"].clone(), r["revision"].clone()),
        (json!(w.sub.uscc), json!(2))
    );
    for_sub["employer_uscc"] = json!(w.other_sub.uscc);
    submit(&app, &w.contractor.key, &w, &for_sub)
        .await
        .problem(422, "EMPLOYER_NOT_ON_PROJECT");

    // Reading: the contractor, owner and the region's regulator see both employers' payrolls.
    for key in [&w.contractor.key, &w.owner.key, &w.regulator.key] {
        let r = read(&app, key, &w, "").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["payrolls"].as_array().unwrap().len(), 2);
    }
    // The subcontractor sees only its own.
    let r = read(&app, &w.sub.key, &w, "").await.json();
    let payrolls = r["payrolls"].as_array().unwrap();
    assert_eq!(payrolls.len(), 1);
    assert_eq!(payrolls[0]["employer"]["uscc"], w.sub.uscc);
    read(
        &app,
        &w.sub.key,
        &w,
        &format!("?employer_uscc={}", w.contractor.uscc),
    )
    .await
    .problem(404, "NOT_FOUND");
    read(&app, &w.other_contractor.key, &w, "")
        .await
        .problem(404, "NOT_FOUND");
    read(&app, &w.other_regulator.key, &w, "")
        .await
        .problem(404, "NOT_FOUND");
    // Filtering by employer.
    let r = read(
        &app,
        &w.contractor.key,
        &w,
        &format!("?employer_uscc={}", w.contractor.uscc),
    )
    .await
    .json();
    assert_eq!(r["payrolls"].as_array().unwrap().len(), 1);
}

// ---- bad input ----

#[actix_web::test]
async fn bad_periods_are_refused_with_the_field_named() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    for (period, code) in [
        ("2026-1", "INVALID_FORMAT"),
        ("2026-13", "OUT_OF_RANGE"),
        ("October", "INVALID_FORMAT"),
        ("2099-12", "PERIOD_IN_FUTURE"),
    ] {
        let r = submit(
            &app,
            &w.sub.key,
            &w,
            &json!({ "period": period, "lines": [line(GOOD)] }),
        )
        .await;
        assert_eq!(r.problem(422, code)["field"], "period", "{period}");
    }
    let r = submit(&app, &w.sub.key, &w, &json!({ "lines": [line(GOOD)] })).await;
    assert_eq!(r.problem(422, "MISSING_FIELD")["field"], "period");
    submit(
        &app,
        &w.sub.key,
        &w,
        &json!({ "period": PERIOD, "lines": [] }),
    )
    .await
    .problem(422, "NO_LINES");
    let r = submit(
        &app,
        &w.sub.key,
        &w,
        &json!({ "period": PERIOD, "lines": [], "extra": 1 }),
    )
    .await;
    r.problem(422, "UNKNOWN_FIELD");
    submit(&app, &w.sub.key, &w, &json!([line(GOOD)]))
        .await
        .problem(422, "INVALID_FIELD");
    app.get(&w.sub.key, &project_path(&w, "/payrolls/2026-1"))
        .await
        .problem(422, "INVALID_FORMAT");
    read(&app, &w.sub.key, &w, "")
        .await
        .problem(404, "NOT_FOUND");
}

#[actix_web::test]
async fn unreadable_bodies_are_problems_and_bad_amounts_stay_with_their_line() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let path = project_path(&w, &format!("/payrolls?period={PERIOD}"));
    let xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    app.send(
        "POST",
        &w.sub.key,
        &path,
        xlsx,
        b"this is not a spreadsheet".to_vec(),
    )
    .await
    .problem(400, "MALFORMED_SPREADSHEET");
    app.send(
        "POST",
        &w.sub.key,
        &path,
        xlsx,
        b"PK\x03\x04\x14\x00\x00\x00broken zip".to_vec(),
    )
    .await
    .problem(400, "MALFORMED_SPREADSHEET");
    app.send("POST", &w.sub.key, &path, "text/plain", b"x".to_vec())
        .await
        .problem(415, "UNSUPPORTED_MEDIA_TYPE");
    app.send(
        "POST",
        &w.sub.key,
        &path,
        "application/json",
        b"{\"period\": ".to_vec(),
    )
    .await
    .problem(400, "MALFORMED_JSON");

    // A CSV without the 实发工资 column.
    let csv = format!(
        "姓名,身份证号,银行卡号,出勤天数,应发工资\n工人1,{},{},22,6000\n",
        resident_id(GOOD),
        card(GOOD)
    );
    let r = app.send("POST", &w.sub.key, &path, "text/csv", csv).await;
    assert_eq!(r.problem(400, "MISSING_COLUMN")["field"], "net");

    // Three decimals and text: those lines are rejected, the good ones kept.
    let csv = format!(
        "姓名,身份证号,银行卡号,出勤天数,应发工资,扣款,实发工资\n\
         工人1,{},{},22,6000,500,5500\n\
         工人2,{},{},22,6000.005,500,5500.005\n\
         工人3,{},{},22,六千,500,5500\n",
        resident_id(GOOD),
        card(GOOD),
        resident_id(GOOD_2),
        card(GOOD_2),
        resident_id(GOOD_3),
        card(GOOD_3)
    );
    let r = app.send("POST", &w.sub.key, &path, "text/csv", csv).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.json();
    assert_eq!(codes(&answer["lines"][0]), Vec::<String>::new());
    assert_eq!(
        codes(&answer["lines"][1]),
        ["TOO_MANY_DECIMALS", "TOO_MANY_DECIMALS"]
    );
    assert_eq!(codes(&answer["lines"][2]), ["INVALID_FORMAT"]);
    assert_eq!(answer["totals"]["accepted"], 1);
    // The rejected lines are stored with their reasons.
    let view = read(&app, &w.sub.key, &w, "").await.json();
    let lines = view["payrolls"][0]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[2]["reasons"][0]["field"], "gross");
    assert_eq!(lines[2]["gross"], Value::Null);
    assert_eq!(view["payrolls"][0]["source_format"], "csv");
}

// ---- formats ----

#[actix_web::test]
async fn csv_with_the_usual_chinese_headers_is_accepted() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let csv =
        format!(
        "\u{feff}序号,姓名,身份证号,工种,银行卡号,出勤天数,应发工资,扣款,实发工资,本人签字,备注\n\
         1,工人1,{},钢筋工,{},22,6000.00,500.00,5500.00,,\n\
         2,工人2,{},钢筋工,{},21.5,\"6000\",0,6000,,补发\n",
        resident_id(GOOD), card(GOOD), resident_id(GOOD_2), card(GOOD_2)
    );
    let r = app
        .send(
            "POST",
            &w.sub.key,
            &project_path(&w, &format!("/payrolls?period={PERIOD}")),
            "text/csv; charset=utf-8",
            csv.clone(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.json();
    assert_eq!(answer["totals"]["accepted"], 2, "{answer:#}");
    assert_eq!(answer["totals"]["accepted_amount"], "11500.00");

    // The same table as GBK, as Excel saves CSV on Chinese Windows.
    let (gbk, _, _) = encoding_rs::GBK.encode(csv.trim_start_matches('\u{feff}'));
    let r = app
        .send(
            "POST",
            &w.sub.key,
            &project_path(&w, &format!("/payrolls?period={PERIOD}")),
            "text/csv",
            gbk.into_owned(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["totals"]["accepted"], 2);
}

#[actix_web::test]
async fn xlsx_with_a_title_row_and_a_total_row_is_accepted() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .write_string(0, 0, "光谷科创中心一期 2026年10月 农民工工资表")
        .unwrap();
    let header = [
        "序号",
        "姓名",
        "身份证号",
        "银行卡号",
        "出勤天数",
        "应发工资",
        "扣款",
        "实发工资",
        "本人签字",
    ];
    for (c, h) in header.iter().enumerate() {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    for (r, n) in [GOOD, GOOD_2].into_iter().enumerate() {
        let row = 3 + r as u32;
        sheet.write_number(row, 0, (r + 1) as f64).unwrap();
        sheet.write_string(row, 1, format!("工人{n}")).unwrap();
        sheet.write_string(row, 2, resident_id(n)).unwrap();
        sheet.write_string(row, 3, card(n)).unwrap();
        sheet.write_number(row, 4, 22.0).unwrap();
        sheet.write_number(row, 5, 6000.5).unwrap();
        sheet.write_number(row, 6, 500.0).unwrap();
        sheet.write_number(row, 7, 5500.5).unwrap();
    }
    sheet.write_string(5, 0, "合计").unwrap();
    sheet.write_number(5, 7, 11001.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let r = app
        .send(
            "POST",
            &w.sub.key,
            &project_path(&w, &format!("/payrolls?period={PERIOD}")),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let answer = r.json();
    assert_eq!(answer["totals"]["lines"], 2, "{answer:#}");
    assert_eq!(answer["totals"]["accepted"], 2, "{answer:#}");
    assert_eq!(answer["totals"]["accepted_amount"], "11001.00");
    let view = read(&app, &w.sub.key, &w, "").await.json();
    assert_eq!(view["payrolls"][0]["source_format"], "xlsx");
}

#[actix_web::test]
async fn xlsx_missing_a_column_is_a_problem() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "银行卡号", "出勤天数", "实发工资"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let r = app
        .send(
            "POST",
            &w.sub.key,
            &project_path(&w, &format!("/payrolls?period={PERIOD}")),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            bytes,
        )
        .await;
    assert_eq!(r.problem(400, "MISSING_COLUMN")["field"], "gross");
}

// ---- the business clock ----

async fn set_clock(app: &TestApp, w: &common::fixtures::World, now: &str) {
    let r = app
        .send_json(
            "PUT",
            &w.admin.key,
            "/v1/admin/clock",
            &json!({ "now": now }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[actix_web::test]
async fn the_current_period_and_the_submission_time_come_from_the_business_clock() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    // The clock stands in November 2026: December has not begun.
    let december = json!({ "period": "2026-12", "lines": [line(GOOD)] });
    submit(&app, &w.sub.key, &w, &december)
        .await
        .problem(422, "PERIOD_IN_FUTURE");

    set_clock(&app, &w, "2026-12-01T00:00:00+08:00").await;
    let answer = submitted(&app, &w.sub.key, &w, &december).await;
    let at =
        chrono::DateTime::parse_from_rfc3339(answer["submitted_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        at,
        chrono::DateTime::parse_from_rfc3339("2026-11-30T16:00:00Z").unwrap()
    );
}

#[actix_web::test]
async fn a_running_key_is_decided_by_its_holder_not_by_the_clock() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let body = payroll(vec![line(GOOD)]);
    let bytes = serde_json::to_vec(&body).unwrap();
    let path = project_path(&w, "/payrolls");
    let mut holder = app.db.conn();
    {
        let org = wagebridge::db::organizations::find_by_uscc(&mut holder, &w.sub.uscc)
            .unwrap()
            .unwrap();
        let hash = wagebridge::db::idempotency::request_hash(&[
            b"POST",
            path.as_bytes(),
            b"",
            b"application/json",
            &bytes,
        ]);
        wagebridge::db::idempotency::claim(&mut holder, org.id, "slow", &hash, app.clock.now())
            .unwrap();
    }
    submit_with_key(&app, &w.sub.key, &w, "slow", &body)
        .await
        .problem(409, "IDEMPOTENCY_KEY_IN_USE");
    // Eleven business minutes on, the first request still holds its key: no
    // second request runs beside it (that could store a second revision).
    set_clock(&app, &w, "2026-11-20T10:11:00+08:00").await;
    submit_with_key(&app, &w.sub.key, &w, "slow", &body)
        .await
        .problem(409, "IDEMPOTENCY_KEY_IN_USE");
}
