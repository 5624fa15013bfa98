//! One tenant's burst of large uploads: uploads beyond its share are refused
//! at once with 429 and Retry-After (nothing stored, so a retry is safe), and
//! another tenant's reads and the health check keep answering meanwhile. The
//! bystander's latencies are printed (`--nocapture`), not asserted.

mod common;

use std::time::{Duration, Instant};

use futures_util::future::{join, join_all};
use serde_json::{json, Value};

use common::fixtures::{worker_row, world};
use common::TestApp;

/// Uploads sent at once by one organisation, and rows in each.
const BURST: u32 = 12;
const ROWS: u32 = 500; // inside the test harness's 256 KiB body limit

fn roster(upload: u32) -> Value {
    let rows: Vec<Value> = (0..ROWS)
        .map(|i| worker_row(1_000 + upload * ROWS + i))
        .collect();
    json!({ "workers": rows })
}

#[actix_web::test]
async fn a_burst_of_uploads_is_admitted_by_share_and_reads_keep_answering() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let path = format!("/v1/projects/{}/workers", w.code);
    let bodies: Vec<Value> = (0..BURST).map(roster).collect();

    let uploads = join_all(
        bodies
            .iter()
            .map(|body| app.send_json("PUT", &w.contractor.key, &path, body)),
    );
    let bystander = async {
        let mut latencies = Vec::new();
        let project = format!("/v1/projects/{}", w.code);
        for _ in 0..20 {
            let started = Instant::now();
            let read = app.get(&w.regulator.key, &project).await;
            latencies.push(started.elapsed());
            assert_eq!(read.status, 200, "{}", read.text());
            let ready = app.get("", "/readyz").await;
            assert_eq!(ready.status, 200, "{}", ready.text());
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
        latencies
    };
    let started = Instant::now();
    let (replies, mut latencies) = join(uploads, bystander).await;
    let burst_took = started.elapsed();

    let mut refused = Vec::new();
    for (i, reply) in replies.iter().enumerate() {
        match reply.status {
            200 => assert_eq!(reply.json()["accepted"], ROWS, "upload {i}"),
            429 => {
                reply.problem(429, "TOO_MANY_UPLOADS");
                assert!(reply.retry_after.is_some(), "429 without Retry-After");
                refused.push(i);
            }
            other => panic!("upload {i}: {other} {}", reply.text()),
        }
    }
    assert!(
        !refused.is_empty() && refused.len() < BURST as usize,
        "{} of {BURST} uploads refused: the share of one organisation is 2 at once",
        refused.len()
    );

    // Nothing of a refused upload was stored, and its retry is taken in full.
    for &i in &refused {
        let retry = app
            .send_json("PUT", &w.contractor.key, &path, &bodies[i])
            .await;
        assert_eq!(retry.status, 200, "{}", retry.text());
        let answer = retry.json();
        assert_eq!(answer["accepted"], ROWS, "{}", answer["rows"][0]);
        assert_eq!(
            answer["rows"][0]["outcome"], "created",
            "{}",
            answer["rows"][0]
        );
    }

    latencies.sort();
    let median = latencies[latencies.len() / 2];
    let worst = latencies[latencies.len() - 1];
    eprintln!(
        "burst of {BURST} uploads × {ROWS} rows: {} admitted, {} refused with 429, {burst_took:?}; \
         bystander GET /v1/projects/{{code}}: median {median:?}, worst {worst:?}",
        BURST as usize - refused.len(),
        refused.len(),
    );
}
