//! `/openapi.json` is a valid OpenAPI document, checked by a real validator,
//! and it describes what the service does: every status a probe gets back is
//! documented for that operation, with the media type it is served as.

mod common;

use std::path::PathBuf;
use std::process::Command;

use actix_web::test::TestRequest;
use serde_json::Value;

use common::fixtures::{resident_id, world};
use common::{Reply, TestApp};

const VALIDATOR: &str = "openapi-spec-validator";
const VALIDATOR_ENV: &str = "WAGEBRIDGE_OPENAPI_VALIDATOR";

async fn document(app: &TestApp) -> Value {
    let r = app.request(TestRequest::get().uri("/openapi.json")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The validator: `$WAGEBRIDGE_OPENAPI_VALIDATOR`, else on PATH, else the venv `.ci/run` makes.
fn validator() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(VALIDATOR_ENV).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(VALIDATOR))
        .find(|p| p.is_file());
    let ci_venv =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/ci-venv/bin/openapi-spec-validator");
    on_path.or_else(|| ci_venv.is_file().then_some(ci_venv))
}

#[actix_web::test]
async fn the_document_passes_an_openapi_validator() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let Some(validator) = validator() else {
        panic!(
            "{VALIDATOR} was not found: set {VALIDATOR_ENV} to it, put it on PATH, or install it \
             with `bash .ci/run` (a venv under target/) or `pip install openapi-spec-validator==0.9.0`"
        );
    };
    let file = tempfile::Builder::new()
        .suffix(".json")
        .tempfile()
        .expect("temp file");
    std::fs::write(
        file.path(),
        serde_json::to_vec_pretty(&doc).expect("serialise"),
    )
    .expect("write the document");
    let out = Command::new(&validator)
        .arg(file.path())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", validator.display()));
    assert!(
        out.status.success(),
        "{} refuses /openapi.json:\n{}{}",
        validator.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[actix_web::test]
async fn the_document_is_the_reviewed_one() {
    let app = TestApp::new().await;
    // A change to the API shows up as a change of this file in review. The
    // snapshot is serde_json's own text: insta's serializer would write the
    // crate's arbitrary-precision numbers as `$serde_json::private::Number` maps.
    let doc = document(&app).await;
    insta::assert_snapshot!(
        "openapi",
        serde_json::to_string_pretty(&doc).expect("serialise")
    );
}

/// One documented operation.
struct Operation {
    method: String,
    path: String,
    doc: Value,
}

impl Operation {
    fn secured(&self) -> bool {
        self.doc["security"]
            .as_array()
            .is_some_and(|s| s.iter().any(|r| r.get("api_key").is_some()))
    }

    fn media_types(&self) -> Vec<String> {
        self.doc["requestBody"]["content"]
            .as_object()
            .map(|c| c.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The path with its parameters filled in with well-formed values.
    fn uri(&self, project: &str) -> String {
        self.path
            .replace("{code}", project)
            .replace("{period}", "2026-10")
            .replace("{id_number}", &resident_id(1))
            .replace("{token}", "abcdefghijklmnopqrstuvwxyz012345")
    }

    fn request(&self, project: &str) -> TestRequest {
        let req = match self.method.as_str() {
            "post" => TestRequest::post(),
            "put" => TestRequest::put(),
            "delete" => TestRequest::delete(),
            _ => TestRequest::get(),
        };
        req.uri(&self.uri(project))
    }

    /// Fails unless `reply`'s status is documented for this operation, with its media type.
    #[track_caller]
    fn assert_documents(&self, reply: &Reply, what: &str) {
        let status = reply.status.to_string();
        let name = format!("{} {} ({what})", self.method.to_uppercase(), self.path);
        let Some(response) = self.doc["responses"].get(&status) else {
            panic!(
                "{name} answered {status}, which the document does not list; body: {}",
                reply.text()
            );
        };
        if let Some(content) = response["content"].as_object() {
            assert!(
                content.contains_key(&reply.content_type),
                "{name} answered {status} as {}, documented as {:?}",
                reply.content_type,
                content.keys().collect::<Vec<_>>()
            );
        }
    }
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            out.push(Operation {
                method: method.clone(),
                path: path.clone(),
                doc: op.clone(),
            });
        }
    }
    out
}

#[actix_web::test]
async fn every_operation_has_a_unique_operation_id_and_problems_are_problem_json() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    assert!(ops.len() >= 18, "only {} operations documented", ops.len());
    let mut ids: Vec<&str> = ops
        .iter()
        .map(|o| {
            o.doc["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{} {} has no operationId", o.method, o.path))
        })
        .collect();
    ids.sort_unstable();
    let mut repeated = ids.clone();
    repeated.dedup();
    assert_eq!(ids.len(), repeated.len(), "operationIds repeat: {ids:?}");

    for op in &ops {
        for (status, response) in op.doc["responses"].as_object().expect("responses") {
            let media: Vec<&String> = response["content"]
                .as_object()
                .map(|c| c.keys().collect())
                .unwrap_or_default();
            if status.starts_with('4') || status.starts_with('5') {
                assert!(
                    media.is_empty() || media == ["application/problem+json"],
                    "{} {} documents {status} as {media:?}",
                    op.method,
                    op.path
                );
            }
        }
        assert!(
            !op.media_types().iter().any(|m| m == "text/plain"),
            "{} {} documents a text/plain body",
            op.method,
            op.path
        );
    }
}

#[actix_web::test]
async fn the_service_answers_as_the_document_says() {
    let app = TestApp::new().await;
    let w = world(&app).await;
    let doc = document(&app).await;
    let ops = operations(&doc);
    let mut probed_bodies = 0;

    for op in &ops {
        // Without a key: 401 problem+json exactly where the document asks for one.
        let reply = app.request(op.request(&w.code)).await;
        if op.secured() {
            reply.problem(401, "UNAUTHORIZED");
            op.assert_documents(&reply, "no API key");
        } else {
            assert_ne!(
                reply.status, 401,
                "{} {} is documented as public",
                op.method, op.path
            );
        }

        if op.media_types().is_empty() {
            continue;
        }
        // A body of an undocumented media type is refused, with a documented 415.
        let send = |key: &str, content_type: &str| {
            let req = op
                .request(&w.code)
                .insert_header(("Content-Type", content_type.to_owned()))
                .set_payload(b"x".to_vec());
            if op.secured() {
                req.insert_header(("Authorization", format!("Bearer {key}")))
            } else {
                req
            }
        };
        // The first of the cast that may call it: a 403 comes before the body is read.
        let mut allowed = None;
        for key in [&w.contractor.key, &w.admin.key] {
            let reply = app.request(send(key, "text/plain")).await;
            if reply.status != 403 {
                allowed = Some((key, reply));
                break;
            }
        }
        let Some((key, refused)) = allowed else {
            continue;
        };
        probed_bodies += 1;
        refused.problem(415, "UNSUPPORTED_MEDIA_TYPE");
        op.assert_documents(&refused, "a text/plain body");
        // Every documented media type is read (the body "x" is then wrong, but not refused).
        for media in op.media_types() {
            let reply = app.request(send(key, &media)).await;
            assert_ne!(
                reply.status,
                415,
                "{} {} documents {media} but refuses it: {}",
                op.method,
                op.path,
                reply.text()
            );
            op.assert_documents(&reply, &format!("an unreadable {media} body"));
        }
    }
    // Every body-taking operation of today; none may drop out of the probe unnoticed.
    assert!(
        probed_bodies >= 10,
        "only {probed_bodies} operations with a body were probed"
    );
}
