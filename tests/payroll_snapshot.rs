//! The whole answer to the payroll with a mistake of every kind, as a
//! reviewed snapshot: a change of wording, order, masking or totals shows up
//! in review as a change of tests/snapshots/payroll_snapshot__*.snap.
//! Times, tokens and generated ids are redacted; everything else is exact.

mod common;
mod payroll_common;

use common::fixtures::card;
use common::TestApp;
use payroll_common::workers::*;
use payroll_common::*;
use serde_json::{json, Value};

/// The planted-error payroll of `payroll_api.rs`: one line per reason code.
fn planted_lines() -> Vec<Value> {
    let with = |n: u32, changes: &[(&str, Value)]| {
        let mut l = line(n);
        for (field, value) in changes {
            l[*field] = value.clone();
        }
        l
    };
    vec![
        line(GOOD),
        line(STRANGER),
        with(GOOD_2, &[("name", json!("张三"))]),
        line(LEFT_IN_SEPTEMBER),
        line(NO_ATTENDANCE),
        line(TEN_DAYS),
        with(GOOD_3, &[("card_number", json!(card(50)))]),
        line(GOOD),
        with(GOOD_4, &[("net", json!("5499.00"))]),
        with(
            FIFTEEN_DAYS,
            &[
                ("days_worked", json!(15)),
                ("gross", json!("500")),
                ("deductions", json!("500")),
                ("net", json!("0")),
            ],
        ),
        with(
            GOOD_11,
            &[
                ("gross", json!("2000.00")),
                ("deductions", json!("0")),
                ("net", json!("2000.00")),
            ],
        ),
        with(
            GOOD_12,
            &[
                ("gross", json!("60000.00")),
                ("deductions", json!("0")),
                ("net", json!("60000.00")),
            ],
        ),
        line(CONTRACTORS_OWN),
        with(GOOD_5, &[("gross", json!("6000.123"))]),
        with(98, &[("net", json!("五千元"))]),
    ]
}

/// Replaces what differs from run to run: times (`*_at`), confirmation
/// tokens and database ids. A redacted value that is missing or null stays
/// so, so the snapshot still shows which lines have a token.
fn redact(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let mark = if key.ends_with("_at") {
                    "[time]"
                } else if key.ends_with("token") {
                    "[token]"
                } else if key == "id" || key.ends_with("_id") {
                    "[id]"
                } else {
                    redact(v);
                    continue;
                };
                if !v.is_null() {
                    *v = json!(mark);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact),
        _ => {}
    }
}

#[actix_web::test]
async fn the_answer_to_a_payroll_with_a_mistake_of_every_kind() {
    let app = TestApp::new().await;
    let w = payroll_world(&app).await;
    let mut answer = submitted(&app, &w.sub.key, &w, &payroll(planted_lines())).await;
    redact(&mut answer);
    // serde_json's own text: insta's serializer would mangle the
    // arbitrary-precision numbers this crate enables.
    insta::assert_snapshot!(
        "planted_error_payroll",
        serde_json::to_string_pretty(&answer).expect("serialise")
    );
}
