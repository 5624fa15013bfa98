//! Attendance read back through the API: a period's days, hours and live
//! records per worker, paged by worker, with the roster's access rules.

mod common;

use std::collections::HashSet;

use common::fixtures::{resident_id, worker_row, world, World};
use common::TestApp;
use serde_json::{json, Value};

fn path(w: &World, rest: &str) -> String {
    format!("/v1/projects/{}{rest}", w.code)
}

fn masked(n: u32) -> String {
    let id = resident_id(n);
    format!("{}{}{}", &id[..4], "*".repeat(10), &id[14..])
}

async fn post_csv(app: &TestApp, key: &str, w: &World, csv: String) -> Value {
    let r = app
        .send(
            "POST",
            key,
            &path(w, "/attendance"),
            "text/csv; charset=utf-8",
            csv,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Workers 1 and 2 of the contractor, 3 of the subcontractor, each on
/// 2026-10-08 and 2026-10-09; worker 1's first day corrected afterwards.
async fn three_workers_two_days(app: &TestApp, w: &World) {
    for (key, n) in [
        (&w.contractor.key, 1),
        (&w.contractor.key, 2),
        (&w.sub.key, 3),
    ] {
        let r = app
            .send_json(
                "PUT",
                key,
                &path(w, "/workers"),
                &json!({ "workers": [worker_row(n)] }),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let mut csv = String::from("身份证号,日期,工时,设备编号\n");
    for n in 1..=3 {
        for (day, hours) in [("2026-10-08", "8"), ("2026-10-09", "7.5")] {
            csv.push_str(&format!("{},{day},{hours},gate-{n}\n", resident_id(n)));
        }
    }
    let report = post_csv(app, &w.contractor.key, w, csv).await;
    assert_eq!(report["rows"].as_array().map(Vec::len), Some(6), "{report}");
    let fix = format!(
        "身份证号,日期,工时,设备编号\n{},2026-10-08,10,gate-9\n",
        resident_id(1)
    );
    post_csv(app, &w.contractor.key, w, fix).await;
}

fn by_id(list: &Value) -> Vec<(String, Value)> {
    list["workers"]
        .as_array()
        .unwrap_or_else(|| panic!("no workers: {list}"))
        .iter()
        .map(|v| {
            (
                v["id_number"].as_str().unwrap_or_default().to_owned(),
                v.clone(),
            )
        })
        .collect()
}

#[actix_web::test]
async fn an_upload_of_three_workers_over_two_days_reads_back() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    three_workers_two_days(&app, &w).await;
    let r = app
        .get(&w.contractor.key, &path(&w, "/attendance?period=2026-10"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    assert_eq!(list["period"], "2026-10");
    assert_eq!(list["next_cursor"], Value::Null);
    let workers = by_id(&list);
    let ids: Vec<&str> = workers.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, [masked(1), masked(2), masked(3)]);
    assert!(!r.text().contains(&resident_id(1)), "an ID number in clear");
    let (_, first) = &workers[0];
    assert_eq!(first["name"], "工人1");
    assert_eq!(first["employer_uscc"], w.contractor.uscc);
    assert_eq!(first["days"], 2);
    // The correction (10 h) replaced the first 8 h: superseded records are not read.
    assert_eq!(first["hours"], "17.50");
    assert_eq!(first["records"].as_array().map(Vec::len), Some(2));
    assert_eq!(first["records"][0]["date"], "2026-10-08");
    assert_eq!(first["records"][0]["hours"], "10.00");
    assert_eq!(first["records"][0]["source"], "gate-9");
    assert_eq!(first["records"][1]["hours"], "7.50");
    assert_eq!(first["records"][1]["source"], "gate-1");
    assert!(first["records"][1]["recorded_at"].is_string());
    let (_, third) = &workers[2];
    assert_eq!(third["employer_uscc"], w.sub.uscc);
    assert_eq!(
        (third["days"].clone(), third["hours"].clone()),
        (json!(2), json!("15.50"))
    );

    // Another month has no records; one worker can be asked for by ID number.
    let r = app
        .get(&w.contractor.key, &path(&w, "/attendance?period=2026-09"))
        .await;
    assert_eq!(r.json()["workers"], json!([]));
    let one = app
        .get(
            &w.owner.key,
            &path(
                &w,
                &format!("/attendance?period=2026-10&id_number={}", resident_id(2)),
            ),
        )
        .await;
    assert_eq!(one.status, 200, "{}", one.text());
    let ids: Vec<String> = by_id(&one.json()).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [masked(2)]);
}

#[actix_web::test]
async fn paging_with_limit_one_walks_every_worker_once() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    three_workers_two_days(&app, &w).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut url = path(&w, "/attendance?period=2026-10&limit=1");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&w.regulator.key, &url).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let page = r.json();
        let workers = by_id(&page);
        assert_eq!(workers.len(), 1, "{page}");
        seen.push(workers[0].0.clone());
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        if let Some(c) = &cursor {
            assert!(
                !c.contains(&resident_id(1)[..6]),
                "a personal number as cursor: {c}"
            );
        } else {
            break;
        }
    }
    assert_eq!(seen, [masked(1), masked(2), masked(3)]);
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 3);
}

#[actix_web::test]
async fn a_subcontractor_sees_only_its_own_and_outsiders_get_404() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    three_workers_two_days(&app, &w).await;
    let r = app
        .get(&w.sub.key, &path(&w, "/attendance?period=2026-10"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let ids: Vec<String> = by_id(&r.json()).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, [masked(3)]);
    // Asking for another employer's worker by number gives nothing either.
    let r = app
        .get(
            &w.sub.key,
            &path(
                &w,
                &format!("/attendance?period=2026-10&id_number={}", resident_id(1)),
            ),
        )
        .await;
    assert_eq!(r.json()["workers"], json!([]));
    let missing = app
        .get(
            &w.contractor.key,
            "/v1/projects/NO-SUCH/attendance?period=2026-10",
        )
        .await
        .problem(404, "NOT_FOUND");
    for key in [
        &w.other_contractor.key,
        &w.other_sub.key,
        &w.other_regulator.key,
    ] {
        let body = app
            .get(key, &path(&w, "/attendance?period=2026-10"))
            .await
            .problem(404, "NOT_FOUND");
        assert_eq!(
            body["detail"],
            missing["detail"]
                .as_str()
                .map(|d| d.replace("NO-SUCH", &w.code))
                .map_or(Value::Null, Value::from)
        );
    }
}

#[actix_web::test]
async fn a_bad_period_or_query_is_a_problem() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    three_workers_two_days(&app, &w).await;
    let key = &w.contractor.key;
    for query in ["", "?period=2026-13", "?period=202610", "?period=2026-1x"] {
        let r = app
            .get(key, &path(&w, &format!("/attendance{query}")))
            .await;
        assert!(matches!(r.status, 400 | 422), "{query}: {}", r.text());
        assert_eq!(r.content_type, "application/problem+json");
        assert_eq!(r.json()["field"], "period", "{query}: {}", r.text());
    }
    // The business clock stands in November 2026.
    let body = app
        .get(key, &path(&w, "/attendance?period=2026-12"))
        .await
        .problem(422, "PERIOD_IN_FUTURE");
    assert_eq!(body["field"], "period");
    app.get(key, &path(&w, "/attendance?period=2026-10&limit=0"))
        .await
        .problem(400, "INVALID_QUERY");
    app.get(key, &path(&w, "/attendance?period=2026-10&cursor=abc"))
        .await
        .problem(400, "INVALID_QUERY");
    let bad_id = format!("{}0", &resident_id(1)[..17]);
    let r = app
        .get(
            key,
            &path(
                &w,
                &format!("/attendance?period=2026-10&id_number={bad_id}"),
            ),
        )
        .await;
    assert_eq!(r.status / 100, 4, "{}", r.text());
    assert_eq!(r.json()["field"], "id_number");
    assert!(
        !r.text().contains(&bad_id),
        "the ID number echoed: {}",
        r.text()
    );
}
